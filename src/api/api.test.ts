// Route-level tests (fastify inject): status codes, headers, OpenAPI, and no 500 on any input.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterSample, datagram, ifCounters, rec } from '../../test/helpers/datagrams.js';
import { startServer, type RunningServer } from '../app.js';
import { ManualClock } from '../engine/clock.js';

const T0 = 1_800_000_000_000;
let s: RunningServer;
let strict: RunningServer;
const clock = new ManualClock(T0);

beforeAll(async () => {
  const common = { sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent' as const, dataDir: join(tmpdir(), 'sflowscope-test'), persistState: false, clock };
  s = await startServer(common);
  strict = await startServer({ ...common, strictNotFound: true });
  for (const srv of [s, strict]) {
    for (let i = 0; i < 2; i++) {
      srv.engine.ingest(
        datagram('10.0.0.1', i + 1, 1000 + i * 10_000, [
          counterSample(2, 1, i + 1, [rec('host_descr', { hostname: 'node-1' }), rec('host_cpu', { loadOne: 0.5, cpuNum: 4 })]),
          counterSample(0, 3, i + 1, [ifCounters(3, { ifInOctets: BigInt(i * 1_000_000) })]),
        ]),
        '127.0.0.1',
        T0 + i * 10_000,
      );
    }
  }
  clock.set(T0 + 11_000);
});
afterAll(async () => {
  await s?.stop();
  await strict?.stop();
});

async function get(url: string, srv = s) {
  const r = await srv.http.inject({ method: 'GET', url });
  return { status: r.statusCode, headers: r.headers, body: r.body, json: () => JSON.parse(r.body) as unknown };
}

describe('answers', () => {
  it('JSON as sFlow-RT sends it: application/json without charset, no-cache headers', async () => {
    const r = await get('/metric/ALL/max:load_one/json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
    expect(r.headers['pragma']).toBe('no-cache');
    expect(r.json()).toEqual([{ metricName: 'max:load_one', agent: '10.0.0.1', dataSource: '2.1', metricValue: 0.5, metricN: 1, lastUpdate: 1000, lastUpdateMin: 1000, lastUpdateMax: 1000 }]);
  });

  it('/version and /status are text', async () => {
    const v = await get('/version');
    expect(v.headers['content-type']).toBe('text/plain;charset=utf-8');
    expect(v.body).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await get('/status')).body).toBe('OK');
  });

  it('/analyzer/json counts bad input by reason', async () => {
    s.engine.ingest(new Uint8Array([0, 0, 0, 9, 1, 2, 3, 4]), '192.0.2.9', T0);
    s.engine.ingest(new Uint8Array([0, 0, 0, 5, 0, 0, 0, 1, 10]), '192.0.2.9', T0);
    const a = (await get('/analyzer/json')).json() as Record<string, unknown>;
    expect(a['sFlowUnsupportedVersion']).toBe(1);
    expect(a['sFlowParseErrors']).toBe(1);
    expect(a['sFlowBadInput']).toMatchObject({ bad_version: 1, truncated: 1 });
    expect(a['sFlowAgents']).toBe(1);
    // The live heap after the last full collection: null until the first one, then a size below the heap limit.
    const live = a['heapUsedAfterGc'];
    expect(live === null || (typeof live === 'number' && live > 0 && live <= (a['heapMax'] as number))).toBe(true);
  });

  it('/agents/{agent}/datasources/json: per data source accounting; 404 for an unknown agent', async () => {
    const r = await get('/agents/10.0.0.1/datasources/json');
    expect(r.status).toBe(200);
    const body = r.json() as Record<string, Record<string, number>>;
    expect(Object.keys(body)).toEqual(['3', '2.1']);
    expect(body['2.1']!['counterSamples']).toBe(2);
    expect(body['2.1']!['effectivePollingInterval']).toBe(10_000);
    const nf = await get('/agents/10.9.9.9/datasources/json');
    expect(nf.status).toBe(404);
    expect(nf.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });

  it('filters on /agents/json', async () => {
    expect(Object.keys((await get('/agents/json?agent=10.0.0.1')).json() as object)).toEqual(['10.0.0.1']);
    expect((await get('/agents/json?agent=10.9.9.9')).json()).toEqual({});
  });
});

describe('errors', () => {
  it.each([
    '/metric/ALL/bogus:load_one/json',
    '/metric/ALL/max:/json',
    '/metric/ALL/load%20one/json',
    '/table/ALL/sort:load_one:abc/json',
    '/table/ALL/sort:a:1,sort:b:2/json',
    '/table/ALL/zz:load_one/json',
    '/dump/ALL/max:load_one/json',
    `/metric/ALL/${Array.from({ length: 1001 }, (_, i) => `m${i}`).join(',')}/json`,
    '/metric/%E0%A4%A/json',
    '/metric/ALL/,,,/json',
  ])('400 with a JSON message: %s', async (url) => {
    const r = await get(url);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('application/json');
    expect((r.json() as { message: string }).message).toBeTruthy();
  });

  it('404 JSON for unknown routes and format tokens', async () => {
    for (const url of ['/nonexistent/json', '/metric/ALL/load_one/txt', '/agents/html']) {
      const r = await get(url);
      expect(r.status, url).toBe(404);
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('unknown agents: 200 and empty answers like sFlow-RT; 404 with --strict-not-found', async () => {
    expect((await get('/metric/10.9.9.9/json')).json()).toEqual({});
    expect((await get('/metric/10.9.9.9/load_one/json')).json()).toEqual([{ metricName: 'load_one' }]);
    for (const url of ['/metric/10.9.9.9/json', '/metric/10.9.9.9/load_one/json', '/table/10.9.9.9/load_one/json', '/dump/10.9.9.9/ALL/json']) {
      expect((await get(url, strict)).status, url).toBe(404);
    }
    expect((await get('/metric/10.0.0.1/load_one/json', strict)).status).toBe(200);
  });

  it('never answers 500, whatever the path segments and query', async () => {
    const routes = ['metric', 'table', 'dump'];
    const segment = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('ALL', '10.0.0.1', 'load_one', 'sort:load_one:-1', 'null:x', 'max:2.1.load_one', '*', '::1'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), segment, segment, fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }))), async (route, a, m, query) => {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
        const url = `/${route}/${encodeURIComponent(a)}/${encodeURIComponent(m)}/json?${qs.toString()}`;
        const r = await s.http.inject({ method: 'GET', url });
        expect(r.statusCode, url).toBeLessThan(500);
        const r2 = await s.http.inject({ method: 'GET', url: `/metric/${encodeURIComponent(a)}/json?${qs.toString()}` });
        expect(r2.statusCode, url).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});

describe('OpenAPI', () => {
  it('/api-docs describes every route with a schema', async () => {
    const doc = (await get('/api-docs')).json() as { openapi: string; paths: Record<string, Record<string, { summary?: string }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/version', '/status', '/analyzer/json', '/agents/json', '/agents/{agent}/datasources/json', '/metrics/json', '/metric/{agent}/json', '/metric/{agent}/{metric}/json', '/table/{agent}/{metric}/json', '/dump/{agent}/{metric}/json']) {
      expect(doc.paths[p], p).toBeDefined();
      expect(doc.paths[p]!['get']!.summary, p).toBeTruthy();
    }
    // The explorer can send a bearer token (docs/security.md); no operation requires one in the document.
    const full = doc as unknown as { components: { securitySchemes: Record<string, { type: string; scheme: string }> }; security: Record<string, string[]>[] };
    expect(full.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(full.security).toContainEqual({});
  });

  it('the explorer page is served at /api/', async () => {
    const r = await s.http.inject({ method: 'GET', url: '/api/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.body).toMatch(/swagger/i);
  });
});
