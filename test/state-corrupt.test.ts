// A state file that cannot be used never stops the server: garbage, a half-written file, an empty
// one, someone else's JSON, bad entries in a good file, a temp file left by a crash. The server
// comes up, the file is moved aside (or the bad entries skipped), /state/json and the log say so.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { createLogger } from '../src/log.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(content?: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'sflowscope-state-corrupt-'));
  dirs.push(dir);
  if (content !== undefined) writeFileSync(join(dir, 'state.json'), content);
  return dir;
}

/** A server whose log lines are kept (JSON objects). */
async function start(dir: string): Promise<{ s: RunningServer; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', dataDir: dir, logger: createLogger('info', sink), stateDebounceMs: 20 });
  servers.push(s);
  return { s, logs };
}

async function get(s: RunningServer, path: string) {
  const r = await fetch(s.url + path);
  return { status: r.status, json: async () => (await r.json()) as Record<string, unknown> };
}

const good = (sections: Record<string, unknown>) => JSON.stringify({ format: 'sflowscope-state', version: 1, savedAt: '2026-01-01T00:00:00.000Z', sections });
const valid = good({ groups: { site: { lan: ['10.0.0.0/8'] } }, maps: {}, thresholds: {} });

const cases: [string, string | Buffer][] = [
  ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 255))],
  ['a half-written file', valid.slice(0, Math.floor(valid.length / 2))],
  ['an empty file (crash before any byte)', ''],
  ['JSON that is not ours', '{"hello":"world"}'],
  ['a future format', JSON.stringify({ format: 'sflowscope-state', version: 7, sections: {} })],
];

describe('an unusable state file', () => {
  for (const [what, content] of cases) {
    it(`${what}: the server starts, the file is moved aside and reported`, async () => {
      const dir = dataDir(content);
      const { s, logs } = await start(dir);
      expect((await get(s, '/version')).status).toBe(200);
      expect(await (await get(s, '/group/json')).json()).toEqual({});
      const st = await (await get(s, '/state/json')).json();
      const load = st['load'] as { status: string; error: string; movedTo: string };
      expect(load.status).toBe('corrupt');
      expect(load.error.length).toBeGreaterThan(0);
      expect(load.movedTo).toMatch(/state\.json\.corrupt-/);
      expect(readFileSync(load.movedTo)).toEqual(Buffer.isBuffer(content) ? content : Buffer.from(content));
      expect(existsSync(join(dir, 'state.json'))).toBe(false);
      expect(logs.some((l) => l['level'] === 50 && /moved aside/.test(String(l['msg'])) && l['movedTo'] === load.movedTo)).toBe(true);
      const a = await get(s, '/analyzer/json');
      expect((await a.json())['stateLoadStatus']).toBe('corrupt');

      // The server keeps working and writes a good file on the next change.
      const put = await fetch(`${s.url}/group/site/json`, { method: 'PUT', body: JSON.stringify({ lan: ['10.0.0.0/8'] }) });
      expect(put.status).toBe(204);
      await s.stop();
      const { s: again } = await start(dir);
      expect(await (await get(again, '/group/json')).json()).toEqual({ site: { lan: ['10.0.0.0/8'] } });
    });
  }

  it('bad entries in a good file: the good ones load, the bad ones are reported, the file is copied aside', async () => {
    const text = good({
      groups: { site: { lan: ['10.0.0.0/8'] }, broken: { lan: ['10.0.0.0/99'] } },
      maps: 'not an object',
      thresholds: { ok: { metric: 'load_one', value: 2 }, nope: { metric: 'load_one' } },
    });
    const dir = dataDir(text);
    const { s, logs } = await start(dir);
    expect(await (await get(s, '/group/json')).json()).toEqual({ site: { lan: ['10.0.0.0/8'] } });
    expect(Object.keys(await (await get(s, '/threshold/json')).json())).toEqual(['ok']);
    const load = (await (await get(s, '/state/json')).json())['load'] as { status: string; backup: string; sections: Record<string, { rejected: { key: string }[] }> };
    expect(load.status).toBe('loaded');
    expect(load.sections['groups']!.rejected.map((r) => r.key)).toEqual(['broken']);
    expect(load.sections['maps']!.rejected.map((r) => r.key)).toEqual(['*']);
    expect(load.sections['thresholds']!.rejected.map((r) => r.key)).toEqual(['nope']);
    expect(readFileSync(load.backup, 'utf8')).toBe(text);
    expect(logs.filter((l) => l['msg'] === 'state entry rejected').map((l) => l['key'])).toEqual(['broken', '*', 'nope']);
  });

  it('a temp file left by a crash mid-write is ignored (the last complete file wins) and cleaned up', async () => {
    const dir = dataDir(valid);
    const tmpFile = join(dir, 'state.json.tmp-4242-deadbeef');
    writeFileSync(tmpFile, valid.slice(0, 30));
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(tmpFile, past, past);
    const { s } = await start(dir);
    expect(await (await get(s, '/group/json')).json()).toEqual({ site: { lan: ['10.0.0.0/8'] } });
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});
