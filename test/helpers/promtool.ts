// `promtool check metrics` (Debian's prometheus package; .ci/run installs it) on a text body.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p)) ?? null;
export const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p)) ?? null;

export interface PromtoolResult {
  /** 0 = clean, 3 = lint problems only, 1 = the text does not parse. */
  status: number;
  /** Lint problems: [metric name, complaint]. */
  problems: [string, string][];
  output: string;
}

export function promtoolCheckMetrics(text: string): PromtoolResult {
  if (PROMTOOL === null) throw new Error('promtool not installed (apt-get install prometheus)');
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  const output = `${r.stdout}${r.stderr}`;
  const problems: [string, string][] = [];
  for (const line of output.split('\n')) {
    const m = /^(\S+) (.+)$/.exec(line.trim());
    if (m && r.status === 3) problems.push([m[1]!, m[2]!]);
  }
  return { status: r.status ?? -1, problems, output };
}

/**
 * Lint complaints about names sflowscope cannot change because sFlow-RT users' scrape configs and
 * dashboards use them (sflow_mem_total is a gauge; sflow_analyzer_gc_count...). Nothing else is allowed.
 */
export function compatLintOnly(r: PromtoolResult): boolean {
  if (r.status === 0) return true;
  if (r.status !== 3) return false;
  return r.problems.every(
    ([name, what]) =>
      (/^sflow_/.test(name) && /_total$/.test(name) && what.includes('"_total" suffix')) ||
      (/^sflow_analyzer_/.test(name) && (what.includes('"_count" suffix') || what.includes('abbreviated units') || what.includes('"_total" suffix'))),
  );
}
