// /group, /map, /threshold, /events and /state through a real server on the loopback address:
// status codes (204 on PUT/DELETE, 400 with a message, 404), bodies of any Content-Type, and
// the events long-poll with its bounds.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterSample, datagram, rec } from '../../test/helpers/datagrams.js';
import { startServer, type RunningServer } from '../app.js';
import { ManualClock } from '../engine/clock.js';

const T0 = 1_800_000_000_000;
const clock = new ManualClock(T0);
let s: RunningServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sflowscope-registries-'));
  s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir, clock, stateDebounceMs: 20, longPollMaxWaiters: 3, longPollMaxTimeoutMs: 1_500, thresholdIntervalMs: 100 });
});
afterAll(async () => {
  await s?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, contentType: string | null = 'application/json') {
  const headers: Record<string, string> = {};
  if (body !== undefined && contentType !== null) headers['content-type'] = contentType;
  const r = await fetch(s.url + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), headers: r.headers, text, json: () => JSON.parse(text) as unknown };
}

let seq = 0;
function load(agent: string, loadOne: number, t: number): void {
  seq++;
  clock.set(t);
  s.engine.ingest(datagram(agent, seq, seq * 1000, [counterSample(2, 1, seq, [rec('host_descr', { hostname: 'n1' }), rec('host_cpu', { loadOne })])]), agent, t);
}

describe('/group', () => {
  const g = { private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], other: ['0.0.0.0/0', '::/0'] };

  it('PUT 204 (no body, no Content-Type), GET echoes it, /group/json lists it, DELETE 204', async () => {
    const put = await call('PUT', '/group/site/json', g);
    expect(put.status).toBe(204);
    expect(put.text).toBe('');
    expect(put.type).toBeNull();
    const one = await call('GET', '/group/site/json');
    expect(one.status).toBe(200);
    expect(one.type).toBe('application/json');
    expect(one.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
    expect(one.json()).toEqual(g);
    expect((await call('GET', '/group/json')).json()).toMatchObject({ site: g });
    expect(s.ctx.registries.groups.lookupGroup(['site'], '192.168.1.1')).toBe('private');
    const ages = (await call('GET', '/groups/json')).json() as Record<string, number>;
    expect(typeof ages['site']).toBe('number');
    expect((await call('DELETE', '/group/site/json')).status).toBe(204);
    expect((await call('GET', '/group/site/json')).status).toBe(404);
    expect((await call('DELETE', '/group/site/json')).status).toBe(204);
  });

  it('takes the body whatever its Content-Type (text/plain, none, form), and POST like PUT', async () => {
    expect((await call('PUT', '/group/a/json', g, 'text/plain')).status).toBe(204);
    expect((await call('PUT', '/group/b/json', g, null)).status).toBe(204);
    expect((await call('PUT', '/group/c/json', g, 'application/x-www-form-urlencoded')).status).toBe(204);
    expect((await call('POST', '/group/d/json', g)).status).toBe(204);
    expect(Object.keys((await call('GET', '/group/json')).json() as object)).toEqual(expect.arrayContaining(['a', 'b', 'c', 'd']));
  });

  it('400 with a message that points at the fault; the old definition stays', async () => {
    await call('PUT', '/group/keep/json', { x: ['10.0.0.0/8'] });
    const cases: [string, unknown, RegExp][] = [
      ['/group/keep/json', { x: ['10.0.0.0/8', '10.1.0.0/99'] }, /label "x", entry 1: "10.1.0.0\/99": IPv4 prefix length must be 0..32/],
      ['/group/keep/json', '{"x": [', /body is not valid JSON/],
      ['/group/keep/json', '', /empty body/],
      ['/group/keep/json', [1, 2], /a group is an object/],
      ['/group/bad%20name/json', { x: [] }, /invalid group name "bad name"/],
    ];
    for (const [path, body, re] of cases) {
      const r = await call('PUT', path, body);
      expect(r.status, path + JSON.stringify(body)).toBe(400);
      expect(r.type).toBe('application/json');
      expect((r.json() as { message: string }).message).toMatch(re);
    }
    expect((await call('GET', '/group/keep/json')).json()).toEqual({ x: ['10.0.0.0/8'] });
    expect((await call('DELETE', '/group/bad%20name/json')).status).toBe(400);
    expect((await call('GET', '/group/bad%20name/json')).status).toBe(400);
  });

  it('accepts large groups (beyond the 1 MiB default body limit)', async () => {
    const cidrs: string[] = [];
    for (let i = 0; i < 70_000; i++) cidrs.push(`${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);
    const body = JSON.stringify({ many: cidrs });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    expect((await call('PUT', '/group/big/json', body)).status).toBe(204);
    expect(s.ctx.registries.groups.lookupGroup(['big'], '10.1.2.3')).toBe('many');
    expect((await call('DELETE', '/group/big/json')).status).toBe(204);
  });
});

describe('/map', () => {
  it('PUT/GET/DELETE, numbers as text, 400 and 404', async () => {
    expect((await call('PUT', '/map/ports/json', { web: [80, '443'] })).status).toBe(204);
    expect((await call('GET', '/map/ports/json')).json()).toEqual({ web: ['80', '443'] });
    expect((await call('GET', '/map/json')).json()).toEqual({ ports: { web: ['80', '443'] } });
    expect(s.ctx.registries.maps.lookupMap('ports', '443')).toBe('web');
    const bad = await call('PUT', '/map/ports/json', { web: [{}] });
    expect(bad.status).toBe(400);
    expect((bad.json() as { message: string }).message).toMatch(/label "web", entry 0/);
    expect((await call('GET', '/map/nosuch/json')).status).toBe(404);
    expect((await call('DELETE', '/map/ports/json')).status).toBe(204);
    expect((await call('GET', '/map/json')).json()).toEqual({});
  });
});

describe('/threshold and /events', () => {
  it('PUT/GET with defaults filled in, 400 naming the fault, DELETE', async () => {
    expect((await call('PUT', '/threshold/t1/json', { metric: 'load_one', value: 5, filter: { os_name: ['linux'] } })).status).toBe(204);
    expect((await call('GET', '/threshold/t1/json')).json()).toEqual({ metric: 'load_one', value: 5, byFlow: false, timeout: 0, filter: { os_name: ['linux'] } });
    expect((await call('GET', '/threshold/json')).json()).toMatchObject({ t1: { metric: 'load_one' } });
    for (const [body, re] of [
      [{ metric: 'load_one' }, /value: required/],
      [{ metric: 'load_one', value: 1, timeout: 'soon' }, /timeout: expected a number/],
      [{ metric: 'nope:x', value: 1 }, /unknown statistic/],
    ] as [unknown, RegExp][]) {
      const r = await call('PUT', '/threshold/t2/json', body);
      expect(r.status).toBe(400);
      expect((r.json() as { message: string }).message).toMatch(re);
    }
    expect((await call('GET', '/threshold/t2/json')).status).toBe(404);
    expect((await call('DELETE', '/threshold/t1/json')).status).toBe(204);
    expect((await call('GET', '/threshold/t1/json')).status).toBe(404);
  });

  it('an event reaches a waiting long-poll; the shape is sFlow-RT\'s; eventsGenerated counts it', async () => {
    const last = s.ctx.registries.events.lastId;
    expect((await call('PUT', '/threshold/hot/json', { metric: 'load_one', value: 1, timeout: 60 })).status).toBe(204);
    load('10.0.0.1', 0.2, T0);
    const started = Date.now();
    const waiting = call('GET', `/events/json?eventID=${last}&maxEvents=10&timeout=10`);
    await new Promise((r) => setTimeout(r, 150));
    load('10.0.0.1', 3, T0 + 5_000);
    s.ctx.registries.thresholds.evaluate();
    const r = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.status).toBe(200);
    const evs = r.json() as Record<string, unknown>[];
    expect(evs).toEqual([{ eventID: last + 1, timestamp: T0 + 5_000, thresholdID: 'hot', metric: 'load_one', agent: '10.0.0.1', dataSource: '2.1', value: 3, threshold: 1 }]);
    // Not again while it stays above.
    s.ctx.registries.thresholds.evaluate();
    expect((await call('GET', `/events/json?eventID=${last}`)).json()).toHaveLength(1);
    expect((await call('GET', '/events/json?thresholdID=hot')).json()).toHaveLength(1);
    expect((await call('GET', '/events/json?thresholdID=other')).json()).toEqual([]);
    const a = (await call('GET', '/analyzer/json')).json() as Record<string, unknown>;
    expect(a['eventsGenerated']).toBeGreaterThanOrEqual(1);
    expect(a['thresholds']).toBe(1);
    await call('DELETE', '/threshold/hot/json');
  });

  it('a long-poll with nothing new answers [] after its timeout, capped by --long-poll-max-timeout', async () => {
    const last = s.ctx.registries.events.lastId;
    let t = Date.now();
    expect((await call('GET', `/events/json?eventID=${last}&timeout=0.3`)).json()).toEqual([]);
    expect(Date.now() - t).toBeGreaterThanOrEqual(250);
    t = Date.now();
    expect((await call('GET', `/events/json?eventID=${last}&timeout=600`)).json()).toEqual([]);
    const took = Date.now() - t;
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(5_000);
  });

  it('too many waiting requests: 503 with Retry-After; bad parameters: 400', async () => {
    const last = s.ctx.registries.events.lastId;
    const waits = [0, 1, 2].map(() => call('GET', `/events/json?eventID=${last}&timeout=1`));
    await new Promise((r) => setTimeout(r, 200));
    const refused = await call('GET', `/events/json?eventID=${last}&timeout=1`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    for (const w of await Promise.all(waits)) expect(w.json()).toEqual([]);
    for (const q of ['eventID=abc', 'eventID=-2', 'maxEvents=-1', 'maxEvents=1.5', 'timeout=-1', 'timeout=soon']) {
      const r = await call('GET', `/events/json?${q}`);
      expect(r.status, q).toBe(400);
    }
  });

  it('a client that goes away stops waiting', async () => {
    const events = s.ctx.registries.events;
    const before = events.waiting;
    const ac = new AbortController();
    const p = fetch(`${s.url}/events/json?eventID=${events.lastId}&timeout=30`, { signal: ac.signal }).catch(() => null);
    await new Promise((r) => setTimeout(r, 150));
    expect(events.waiting).toBe(before + 1);
    ac.abort();
    await p;
    for (let i = 0; i < 50 && events.waiting > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.waiting).toBe(before);
  });

  it('/state/json reports the file; /api-docs lists the routes', async () => {
    const st = (await call('GET', '/state/json')).json() as Record<string, unknown>;
    expect(st).toMatchObject({ enabled: true, file: join(dataDir, 'state.json'), sections: expect.arrayContaining(['groups', 'maps', 'thresholds']) });
    expect((st['load'] as { status: string }).status).toBe('missing');
    const doc = (await call('GET', '/api-docs')).json() as { paths: Record<string, unknown> };
    for (const p of ['/group/json', '/group/{name}/json', '/map/{name}/json', '/threshold/{name}/json', '/events/json', '/state/json']) expect(Object.keys(doc.paths)).toContain(p);
  });
});

describe('stopping', () => {
  it('answers waiting long-polls and does not hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sflowscope-registries-stop-'));
    const srv = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir: dir });
    try {
      const waiting = fetch(`${srv.url}/events/json?eventID=0&timeout=30`).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        () => ({ status: 0, body: '' }),
      );
      await new Promise((r) => setTimeout(r, 150));
      expect(srv.ctx.registries.events.waiting).toBe(1);
      const t = Date.now();
      await srv.stop();
      const r = await waiting;
      expect(Date.now() - t).toBeLessThan(5_000);
      // Either the answer [] got out before the socket closed, or the socket was closed.
      if (r.status !== 0) expect(r.body).toBe('[]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
