// State store: sections, debounced atomic writes, unclaimed sections kept, and every way a file
// can be unusable (reported, moved aside, never fatal).

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PersistentSection } from './labels.js';
import { STATE_FORMAT, STATE_VERSION, StateStore, parseEnvelope, type StateLogger } from './state-store.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'sflowscope-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A section holding a plain object; load rejects entries whose value is not a number. */
class Counter implements PersistentSection {
  data: Record<string, number> = {};
  loads = 0;
  constructor(
    readonly name: string,
    private readonly store?: StateStore,
  ) {}
  set(k: string, v: number): void {
    this.data[k] = v;
    this.store?.changed(this.name);
  }
  save(): unknown {
    return this.data;
  }
  load(snapshot: unknown) {
    this.loads++;
    const rejected: { key: string; reason: string }[] = [];
    let loaded = 0;
    for (const [k, v] of Object.entries(snapshot as Record<string, unknown>)) {
      if (typeof v === 'number') {
        this.set(k, v);
        loaded++;
      } else rejected.push({ key: k, reason: 'not a number' });
    }
    return { loaded, rejected };
  }
}

function memLogger() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const l: StateLogger = {
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
  return { l, lines };
}

function file(sections: Record<string, unknown>): string {
  return JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, savedAt: '2026-01-01T00:00:00.000Z', sections });
}

describe('StateStore', () => {
  it('no file: starts empty; a change is written after the debounce, atomically, once for a burst', async () => {
    const dir = tmp();
    const st = new StateStore({ dir, debounceMs: 30 });
    expect(st.load().status).toBe('missing');
    const a = new Counter('a', st);
    st.register(a);
    for (let i = 0; i < 10; i++) a.set(`k${i}`, i);
    expect(existsSync(st.path)).toBe(false);
    expect(st.pending).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(st.stats.writes).toBe(1);
    expect(st.pending).toBe(false);
    const env = parseEnvelope(readFileSync(st.path, 'utf8'));
    expect(env.sections).toEqual({ a: a.data });
    expect(env.savedAt).toMatch(/^\d{4}-/);
    // No temp file left behind.
    expect(readdirSync(dir)).toEqual(['state.json']);
    await st.stop();
  });

  it('stop() writes what is pending; sections registered before or after load() are loaded', async () => {
    const dir = tmp();
    const st = new StateStore({ dir, debounceMs: 60_000 });
    st.load();
    const a = new Counter('a', st);
    const b = new Counter('b', st);
    st.register(a);
    st.register(b);
    a.set('x', 1);
    b.set('y', 2);
    await st.stop();
    a.set('after-stop', 3); // ignored
    expect(st.stats.writes).toBe(1);

    const st2 = new StateStore({ dir });
    const a2 = new Counter('a', st2);
    st2.register(a2); // before load
    const r = st2.load();
    const b2 = new Counter('b', st2);
    st2.register(b2); // after load
    expect(r.status).toBe('loaded');
    expect(a2.data).toEqual({ x: 1 });
    expect(b2.data).toEqual({ y: 2 });
    expect(r.sections).toEqual({ a: { loaded: 1, rejected: [] }, b: { loaded: 1, rejected: [] } });
    // Loading is not a change: nothing to write.
    expect(st2.pending).toBe(false);
    expect(() => st2.register(new Counter('a'))).toThrow(/registered twice/);
  });

  it('sections nobody registered are written back unchanged', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'state.json'), file({ flows: { pair: { keys: 'ipsource', value: 'bytes' } }, a: { x: 1 } }));
    const st = new StateStore({ dir });
    st.load();
    const a = new Counter('a', st);
    st.register(a);
    a.set('z', 9);
    await st.flush();
    expect(parseEnvelope(readFileSync(st.path, 'utf8')).sections).toEqual({ flows: { pair: { keys: 'ipsource', value: 'bytes' } }, a: { x: 1, z: 9 } });
  });

  const unusable: [string, string | Buffer, RegExp][] = [
    ['garbage bytes', Buffer.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad]), /not JSON/],
    ['half-written JSON', file({ a: { x: 1 } }).slice(0, 40), /not JSON/],
    ['an empty file', '', /empty file/],
    ['JSON of another program', JSON.stringify({ flows: {} }), /not a sflowscope state file/],
    ['an array', '[1,2,3]', /not a JSON object/],
    ['a future format version', JSON.stringify({ format: STATE_FORMAT, version: 99, sections: {} }), /unsupported state format version 99/],
    ['no sections', JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION }), /no sections/],
  ];
  for (const [what, content, reason] of unusable) {
    it(`${what}: moved aside, reported, empty state, and the next write makes a good file`, async () => {
      const dir = tmp();
      writeFileSync(join(dir, 'state.json'), content);
      const { l, lines } = memLogger();
      const st = new StateStore({ dir }, l);
      const a = new Counter('a', st);
      st.register(a);
      const r = st.load();
      expect(r.status).toBe('corrupt');
      expect(r.error).toMatch(reason);
      expect(r.movedTo).toMatch(/state\.json\.corrupt-\d{4}-/);
      expect(readFileSync(r.movedTo!)).toEqual(Buffer.isBuffer(content) ? content : Buffer.from(content));
      expect(existsSync(st.path)).toBe(false);
      expect(a.loads).toBe(0);
      expect(lines.some((x) => x.level === 'error' && /moved aside/.test(x.msg))).toBe(true);
      a.set('k', 1);
      await st.flush();
      expect(parseEnvelope(readFileSync(st.path, 'utf8')).sections).toEqual({ a: { k: 1 } });
    });
  }

  it('a file over maxFileBytes is not read', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'state.json'), file({ a: { x: 1 } }));
    const st = new StateStore({ dir, maxFileBytes: 10 });
    const r = st.load();
    expect(r.status).toBe('corrupt');
    expect(r.error).toMatch(/larger than 10 bytes/);
  });

  it('a state path that is not a file: unreadable, moved aside, reported', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'state.json'));
    const st = new StateStore({ dir });
    const r = st.load();
    expect(r.status).toBe('unreadable');
    expect(r.movedTo).toBeDefined();
  });

  it('rejected entries are reported and skipped; the file as read is copied aside', async () => {
    const dir = tmp();
    const text = file({ a: { good: 1, bad: 'x' }, b: 'not an object' });
    writeFileSync(join(dir, 'state.json'), text);
    const { l, lines } = memLogger();
    const st = new StateStore({ dir }, l);
    const a = new Counter('a', st);
    st.register(a);
    const throwing: PersistentSection = {
      name: 'b',
      save: () => ({}),
      load: () => {
        throw new Error('cannot load b');
      },
    };
    const r = st.load();
    st.register(throwing);
    expect(a.data).toEqual({ good: 1 });
    expect(r.sections['a']).toEqual({ loaded: 1, rejected: [{ key: 'bad', reason: 'not a number' }] });
    expect(r.sections['b']).toEqual({ loaded: 0, rejected: [], error: 'cannot load b' });
    expect(r.backup).toMatch(/state\.json\.rejected-/);
    expect(readFileSync(r.backup!, 'utf8')).toBe(text);
    expect(lines.filter((x) => x.level === 'warn' && x.msg === 'state entry rejected')).toHaveLength(1);
    expect(lines.some((x) => x.level === 'error' && /could not be loaded/.test(x.msg))).toBe(true);
  });

  it('a failing write is counted, logged and retried; it never throws', async () => {
    const root = tmp();
    const dir = join(root, 'data');
    writeFileSync(dir, 'a file where the directory should be');
    const { l, lines } = memLogger();
    const st = new StateStore({ dir, debounceMs: 10, retryMs: 40 }, l);
    st.load();
    const a = new Counter('a', st);
    st.register(a);
    a.set('x', 1);
    await st.flush();
    expect(st.stats.writeErrors).toBe(1);
    expect(st.stats.lastWriteError).toMatch(/EEXIST|ENOTDIR/);
    expect(lines.some((x) => x.level === 'error' && /write failed/.test(x.msg))).toBe(true);
    // The disk gets better; the retry succeeds.
    rmSync(dir);
    await new Promise((r) => setTimeout(r, 200));
    expect(st.stats.writes).toBe(1);
    expect(parseEnvelope(readFileSync(join(dir, 'state.json'), 'utf8')).sections).toEqual({ a: { x: 1 } });
    await st.stop();
  });

  it('a section whose save() throws keeps its previous snapshot in the file', async () => {
    const dir = tmp();
    const st = new StateStore({ dir });
    st.load();
    const a = new Counter('a', st);
    st.register(a);
    a.set('x', 1);
    await st.flush();
    a.save = () => {
      throw new Error('broken');
    };
    const b = new Counter('b', st);
    st.register(b);
    b.set('y', 2);
    await st.flush();
    expect(parseEnvelope(readFileSync(st.path, 'utf8')).sections).toEqual({ a: { x: 1 }, b: { y: 2 } });
  });

  it('removes stale temp files of an interrupted write, leaves young ones', () => {
    const dir = tmp();
    const old = join(dir, 'state.json.tmp-1-aaaa');
    const young = join(dir, 'state.json.tmp-2-bbbb');
    writeFileSync(old, '{"half');
    writeFileSync(young, '{"half');
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(old, past, past);
    const st = new StateStore({ dir });
    expect(st.load().status).toBe('missing');
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(st.stats.tempFilesRemoved).toBe(1);
  });

  it('disabled: never reads, never writes', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'state.json'), file({ a: { x: 1 } }));
    const st = new StateStore({ dir, enabled: false });
    const a = new Counter('a', st);
    st.register(a);
    expect(st.load().status).toBe('disabled');
    expect(a.data).toEqual({});
    a.set('y', 2);
    await st.stop();
    expect(parseEnvelope(readFileSync(st.path, 'utf8')).sections).toEqual({ a: { x: 1 } });
  });

  it('an unreadable file (no permission) is reported, never fatal', () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const dir = tmp();
    writeFileSync(join(dir, 'state.json'), file({}));
    chmodSync(join(dir, 'state.json'), 0o000);
    const st = new StateStore({ dir });
    expect(st.load().status).toBe('unreadable');
  });
});
