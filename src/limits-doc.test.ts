// docs/limits.md must list every setting marked as a limit, with the default the code uses: a new
// bound without a row, or a default changed in one place only, fails here.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from './config.js';
import { ENRICHMENT_OPTIONS } from './enrich/enrichment.js';

interface Row {
  what: string;
  flag: string;
  env: string;
  def: string;
  atBound: string;
  counter: string;
}

function limitsTable(): Map<string, Row> {
  const doc = readFileSync(new URL('../docs/limits.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## Configurable limits');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, Row>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || line.startsWith('|---')) continue;
    // Cells never contain a bare `|` outside backticks in this table; split on ` | `.
    const cells = line.slice(1, -1).split(' | ').map((c) => c.trim());
    if (cells.length !== 6) throw new Error(`docs/limits.md: a row needs 6 cells: ${line}`);
    const [what, flag, env, def, atBound, counter] = cells as [string, string, string, string, string, string];
    if (what === 'what is bounded') continue;
    const unquote = (c: string) => c.replace(/^`|`$/g, '');
    rows.set(unquote(flag), { what, flag: unquote(flag), env: unquote(env), def: unquote(def), atBound, counter });
  }
  return rows;
}

describe('docs/limits.md', () => {
  const rows = limitsTable();
  const limits = [...OPTIONS.filter((o) => o.limit), ...ENRICHMENT_OPTIONS.filter((o) => o.limit)];

  it('lists every limit setting with its variable and default', () => {
    expect(limits.length).toBeGreaterThan(20);
    for (const o of limits) {
      const r = rows.get(o.flag);
      expect(r, `${o.flag} missing from docs/limits.md`).toBeDefined();
      expect(r!.env, o.flag).toBe(o.env);
      expect(r!.def, `${o.flag} default`).toBe(o.defaultText);
      expect(r!.atBound, o.flag).not.toBe('');
      expect(r!.counter, o.flag).not.toBe('');
    }
  });

  it('lists nothing that is not a limit setting', () => {
    const flags = new Set(limits.map((o) => o.flag));
    for (const flag of rows.keys()) expect(flags.has(flag), `${flag} is in docs/limits.md but not tagged limit: true`).toBe(true);
  });
});
