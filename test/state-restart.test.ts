// What users configure survives a restart of a real server: start, PUT flow specs, groups, maps
// and thresholds (and a section some other component registers in `configure`), stop, start again
// on the same data directory, GET them — and they work (lookups, evaluation), not just echo.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../src/app.js';
import { ManualClock } from '../src/engine/clock.js';
import type { PersistentSection } from '../src/engine/labels.js';
import { counterSample, datagram, rec } from './helpers/datagrams.js';

const T0 = 1_800_000_000_000;
const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Another component's state: a section named "extra", registered in `configure`. */
function extraSection() {
  const specs: Record<string, unknown> = {};
  let changed: (() => void) | null = null;
  const section: PersistentSection = {
    name: 'extra',
    save: () => specs,
    load: (snap) => {
      Object.assign(specs, snap as object);
      return { loaded: Object.keys(snap as object).length, rejected: [] };
    },
  };
  const configure: ServerOptions['configure'] = (_engine, ctx) => {
    ctx.registries.state.register(section);
    changed = () => ctx.registries.state.changed('extra');
  };
  return { specs, configure, put: (name: string, spec: unknown) => ((specs[name] = spec), changed!()) };
}

async function start(dataDir: string, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir, stateDebounceMs: 50, ...extra });
  servers.push(s);
  return s;
}

async function req(s: RunningServer, method: string, path: string, body?: unknown) {
  const r = await fetch(s.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: () => JSON.parse(text) as unknown };
}

const groups = { private: ['10.0.0.0/8', 'fc00::/7'], public: ['0.0.0.0/0', '::/0'] };
const ports = { web: ['80', '443'], dns: ['53'] };
const hot = { metric: 'load_one', value: 1, timeout: 30, filter: { host_name: ['node-*'] } };

describe('state survives a restart', () => {
  it('flow specs, groups, maps, thresholds: PUT, stop, start on the same directory, GET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sflowscope-state-restart-'));
    dirs.push(dir);
    const extra1 = extraSection();
    const a = await start(dir, { configure: extra1.configure });
    expect((await req(a, 'PUT', '/flow/pair/json', { keys: 'ipsource,ipdestination', value: 'bytes', t: 5 })).status).toBe(204);
    const pair = (await req(a, 'GET', '/flow/pair/json')).json();
    expect((await req(a, 'PUT', '/group/site/json', groups)).status).toBe(204);
    expect((await req(a, 'PUT', '/group/gone/json', groups)).status).toBe(204);
    expect((await req(a, 'DELETE', '/group/gone/json')).status).toBe(204);
    expect((await req(a, 'PUT', '/map/ports/json', ports)).status).toBe(204);
    expect((await req(a, 'PUT', '/threshold/hot/json', hot)).status).toBe(204);
    extra1.put('x', { any: 'thing' });
    // Stopping writes what the debounce still holds.
    await a.stop();
    expect(existsSync(join(dir, 'state.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toMatchObject({ format: 'sflowscope-state', version: 1 });

    const clock = new ManualClock(T0);
    const extra2 = extraSection();
    const b = await start(dir, { configure: extra2.configure, clock });
    expect((await req(b, 'GET', '/flow/pair/json')).json()).toEqual(pair);
    expect((await req(b, 'GET', '/group/json')).json()).toEqual({ site: groups });
    expect((await req(b, 'GET', '/map/ports/json')).json()).toEqual(ports);
    expect((await req(b, 'GET', '/threshold/json')).json()).toEqual({ hot: { ...hot, byFlow: false } });
    expect(extra2.specs).toEqual({ x: { any: 'thing' } });
    const st = (await req(b, 'GET', '/state/json')).json() as { load: { status: string; sections: Record<string, unknown> } };
    expect(st.load.status).toBe('loaded');
    expect(st.load.sections).toMatchObject({
      groups: { loaded: 1, rejected: [] },
      maps: { loaded: 1, rejected: [] },
      thresholds: { loaded: 1, rejected: [] },
      flows: { loaded: 1, rejected: [] },
      extra: { loaded: 1, rejected: [] },
    });

    // They work, not only echo: compiled groups, maps, an armed threshold.
    expect(b.ctx.registries.groups.lookupGroup(['site'], 'fd00::1')).toBe('private');
    expect(b.ctx.registries.maps.lookupMap('ports', '53')).toBe('dns');
    b.engine.ingest(datagram('10.0.0.5', 1, 1000, [counterSample(2, 1, 1, [rec('host_descr', { hostname: 'node-5' }), rec('host_cpu', { loadOne: 4 })])]), '10.0.0.5', T0);
    b.ctx.registries.thresholds.evaluate(T0);
    expect((await req(b, 'GET', '/events/json')).json()).toMatchObject([{ thresholdID: 'hot', agent: '10.0.0.5', value: 4 }]);

    // A change after the restart is kept across the next one too.
    expect((await req(b, 'DELETE', '/map/ports/json')).status).toBe(204);
    await b.stop();
    const c = await start(dir, { configure: extraSection().configure });
    expect((await req(c, 'GET', '/map/json')).json()).toEqual({});
    expect((await req(c, 'GET', '/flow/pair/json')).json()).toEqual(pair);
    expect((await req(c, 'GET', '/group/json')).json()).toEqual({ site: groups });
  });

  it('with --persist-state false nothing is read or written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sflowscope-state-off-'));
    dirs.push(dir);
    const a = await start(dir, { persistState: false });
    expect((await req(a, 'PUT', '/group/site/json', groups)).status).toBe(204);
    await a.stop();
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
    const b = await start(dir, { persistState: false });
    expect((await req(b, 'GET', '/group/json')).json()).toEqual({});
    expect(((await req(b, 'GET', '/state/json')).json() as { load: { status: string } }).load.status).toBe('disabled');
  });
});
