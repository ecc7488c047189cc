// A real Prometheus (Debian's) scraping an sflowscope that asks every client for a token
// (`--auth-scope all`) over HTTPS: the scrape config of docs/security.md — `authorization:
// credentials_file` and `tls_config: ca_file` — brings the targets up; a wrong token or none
// leaves them down with the 401 in lastError.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROMETHEUS } from '../helpers/promtool.js';
import { cleanup, makeCertificate, serve, tempDir, writeTemp } from './helpers.js';
import { freeTcpPort } from '../helpers/ports.js';

const TOKEN = 'b1946ac92492d2347c6235b4d2611184b1946ac92492d2347c6235b4d2611184';

let prom: ChildProcess | null = null;

afterAll(async () => {
  if (prom !== null && prom.exitCode === null) {
    const p = prom;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (p.exitCode === null) p.kill('SIGKILL');
  }
  await cleanup();
});

interface Target {
  labels: { job: string };
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

describe.skipIf(PROMETHEUS === null)('Prometheus scraping with a bearer token over HTTPS', () => {
  it('credentials_file + ca_file bring the targets up; a wrong or missing token is a 401', async () => {
    const { cert, key } = makeCertificate();
    // As `openssl rand -hex 32 > token` writes it: with a trailing newline, which Prometheus trims.
    const tokenFile = writeTemp('prometheus-token', `${TOKEN}\n`);
    const s = await serve({ tlsCert: cert, tlsKey: key, authScope: 'all', authTokenFile: writeTemp('tokens', `# Prometheus\n${TOKEN}\n`) });
    const target = `127.0.0.1:${s.httpPort}`;
    const wrongFile = writeTemp('wrong-token', 'not-the-token-at-all-0123456789\n');
    const job = (name: string, path: string, auth: string) => `
  - job_name: ${name}
    scheme: https
    metrics_path: ${path}
    tls_config:
      ca_file: ${cert}
${auth}    static_configs:
      - targets: ['${target}']`;
    const withToken = (file: string) => `    authorization:\n      type: Bearer\n      credentials_file: ${file}\n`;
    const dir = tempDir();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:${job('analyzer', '/prometheus/analyzer/txt', withToken(tokenFile))}${job('own', '/metrics', withToken(tokenFile))}${job('wrong', '/prometheus/analyzer/txt', withToken(wrongFile))}${job('none', '/prometheus/analyzer/txt', '')}
`,
    );
    const port = await freeTcpPort();
    prom = spawn(PROMETHEUS!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    prom.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));

    const health = async (): Promise<Record<string, Target>> => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/targets`);
        const j = (await r.json()) as { data: { activeTargets: Target[] } };
        return Object.fromEntries(j.data.activeTargets.map((t) => [t.labels.job, t]));
      } catch {
        return {};
      }
    };
    const end = Date.now() + 45_000;
    let t: Record<string, Target> = {};
    for (;;) {
      t = await health();
      if (['analyzer', 'own', 'wrong', 'none'].every((j) => t[j] !== undefined && t[j]!.health !== 'unknown')) break;
      if (Date.now() > end || prom.exitCode !== null) throw new Error(`Prometheus targets not scraped: ${JSON.stringify(t)}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(t.analyzer!.health, t.analyzer!.lastError).toBe('up');
    expect(t.own!.health, t.own!.lastError).toBe('up');
    expect(t.wrong!.health).toBe('down');
    expect(t.wrong!.lastError).toMatch(/401/);
    expect(t.none!.health).toBe('down');
    expect(t.none!.lastError).toMatch(/401/);
    // And the samples arrived: Prometheus has the analyzer's series.
    const q = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('sflow_analyzer_uptime_ms{job="analyzer"}')}`);
    const res = (await q.json()) as { data: { result: unknown[] } };
    expect(res.data.result.length).toBe(1);
  });
});
