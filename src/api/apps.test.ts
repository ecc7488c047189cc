import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../app.js';
import type { AppFlowSpec, TopFlowsSource } from '../apps/flows.js';
import { appRoutes } from './apps.js';

describe('app routes', () => {
  let s: RunningServer;
  const defined: [string, AppFlowSpec][] = [];
  let resolverCalls = 0;
  // A resolver that builds a new adapter per call (as `ctx.flows.appSource()` does).
  const resolver = (): TopFlowsSource => {
    resolverCalls++;
    return {
      define: (name, spec) => void defined.push([name, spec]),
      clear: () => {},
      activeFlows: () => [{ key: 'a_SEP_b', value: 1 }],
      flowKeys: () => ['ipsource', 'ipdestination'],
    };
  };

  beforeAll(async () => {
    s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir: join(tmpdir(), 'sflowscope-test'), apiPlugins: [appRoutes({ flows: resolver })] });
  });
  afterAll(async () => s?.stop());

  const get = async (path: string) => {
    const r = await fetch(s.url + path);
    return { status: r.status, body: (r.headers.get('content-type')?.startsWith('application/json') ? await r.json() : await r.text()) as any };
  };

  it('a browser trend outlives requests even when the resolver makes a new adapter each time', async () => {
    const q = '/app/browse-flows/scripts/top.js/flows/json?keys=ipsource,ipdestination&value=bps';
    const a = await get(q);
    expect(a.status).toBe(200);
    expect(a.body.trend.times).toHaveLength(300);
    await get(q);
    await get(q);
    expect(defined).toHaveLength(1);
    expect(defined[0]).toEqual(['browse_flows0', { keys: 'ipsource,ipdestination', value: 'bytes', filter: '', t: 2, n: 10, fs: '_SEP_', dropped: false }]);
    expect(resolverCalls).toBe(1);
  });

  it('flow keys, sunburst charts, apps, status', async () => {
    expect((await get('/app/browse-flows/scripts/top.js/flowkeys/json?search=ipd')).body).toEqual(['ipdestination']);
    expect((await get('/app/sunburst/scripts/metrics.js/gpu/json')).body).toMatchObject({ label: 'GPU', flow: false, value: 0, children: {} });
    expect((await get('/app/sunburst/scripts/metrics.js/protocols/json')).body).toMatchObject({ label: 'Protocols', flow: true, value: 1 });
    expect((await get('/app/sunburst/scripts/metrics.js/other/json')).status).toBe(404);
    expect(Object.keys((await get('/apps/json')).body).sort()).toEqual(['browse-drops', 'browse-flows', 'browse-metrics', 'sunburst']);
    expect(await get('/app/sunburst/status')).toEqual({ status: 200, body: 'OK' });
    expect((await get('/app/nope/status')).status).toBe(404);
    expect((await get('/app/browse-drops/scripts/top.js/flows/json?keys=reason')).status).toBe(400);
    expect((await get('/app/browse-drops/scripts/top.js/flows/json?keys=reason&value=fps&after=x')).status).toBe(400);
    const an = (await get('/analyzer/json')).body;
    expect(typeof an.eventLoopLagP99Ms).toBe('number');
  });
});
