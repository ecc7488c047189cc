// docs/security.md stays in step with the code: every access setting of the config table, the
// exact Content-Security-Policy, and every counter the access hooks publish.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { cspDirectives } from '../../src/api/access/headers.js';
import { newAccessStats } from '../../src/api/access/stats.js';

const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');

describe('docs/security.md', () => {
  it('lists every option tagged access: true, with its variable', () => {
    const access = OPTIONS.filter((o) => o.access);
    expect(access.length).toBeGreaterThan(5);
    for (const o of access) {
      expect(doc, o.flag).toContain(`\`${o.flag}\``);
      expect(doc, o.env).toContain(`\`${o.env}\``);
    }
  });

  it('shows the Content-Security-Policy the server sends over plain HTTP', () => {
    const block = /The Content-Security-Policy \(one line in the header\):\n\n```text\n([\s\S]*?)```/.exec(doc);
    expect(block, 'CSP block').not.toBeNull();
    const norm = (s: string) => s.replace(/\s+/g, ' ').replace(/ ?; ?/g, ';').trim();
    const sent = Object.entries(cspDirectives(false)).map(([k, v]) => [k, ...v].join(' ')).join(';');
    expect(norm(block![1]!)).toBe(norm(sent));
    expect(Object.keys(cspDirectives(true))).toContain('upgrade-insecure-requests');
  });

  it('documents every /analyzer/json counter of access control', () => {
    for (const k of Object.keys(newAccessStats())) expect(doc, k).toContain(`\`${k}\``);
  });
});
