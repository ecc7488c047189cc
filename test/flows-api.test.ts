// The flow REST API on a real server on loopback: definitions (PUT/POST/GET/DELETE), queries
// (/activeflows with maxFlows, minValue, aggMode, filter; /flowvalue; /flowlocations; /flowkeys),
// the flow log (/flows/json with flowID, maxFlows, name, timeout long-poll), error answers,
// /analyzer/json fields, flow metrics, and persistence of user-defined flows across a restart.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { ManualClock } from '../src/engine/clock.js';
import { AgentSim, packet } from './helpers/flows.js';

const T0 = 1_800_000_000_000;

describe('flow REST API', () => {
  let s: RunningServer;
  const clock = new ManualClock(T0);
  const a = new AgentSim('192.0.2.10');
  const b = new AgentSim('192.0.2.20');

  const req = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': type };
    }
    const r = await fetch(s.url + path, init);
    const text = await r.text();
    return { status: r.status, type: r.headers.get('content-type') ?? '', text, json: text !== '' && (r.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir: mkdtempSync(join(tmpdir(), 'sflowscope-flows-api-')), persistState: false, clock });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('PUT (any content type) / POST define; GET echoes with defaults; /flow/json lists; DELETE removes', async () => {
    expect((await req('PUT', '/flow/pair/json', { keys: 'ipsource,ipdestination', value: 'bytes', log: true, t: 10 })).status).toBe(204);
    expect((await req('POST', '/flow/ports/json', { keys: 'tcpdestinationport', value: 'frames', values: ['bytes'] })).status).toBe(204);
    expect((await req('PUT', '/flow/tmp/json', '{"keys":"ipsource","value":"bytes"}', 'text/plain')).status).toBe(204);
    expect((await req('GET', '/flow/pair/json')).json).toEqual({ keys: 'ipsource,ipdestination', value: 'bytes', t: 10, n: 5, fs: ',', activeTimeout: 60, log: true });
    expect(Object.keys((await req('GET', '/flow/json')).json).sort()).toEqual(['pair', 'ports', 'tmp']);
    expect((await req('DELETE', '/flow/tmp/json')).status).toBe(204);
    expect((await req('DELETE', '/flow/tmp/json')).status).toBe(204);
    expect((await req('GET', '/flow/tmp/json')).status).toBe(404);
  });

  it('refuses bad specs with 400 and a message that points at the fault', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/flow/bad/json', '{"keys":"ipsource", "value":', /not valid JSON/],
      ['/flow/bad/json', '', /empty body/],
      ['/flow/bad/json', [], /JSON object/],
      ['/flow/bad/json', { keys: 'ipsource' }, /value: required/],
      ['/flow/bad/json', { keys: 'ipsource', value: 'bytes', t: 'ten' }, /t: expected a number/],
      ['/flow/bad/json', { keys: 'ipsorce', value: 'bytes' }, /did you mean "ipsource"/],
      ['/flow/bad/json', { keys: 'ipsource', value: 'bytes', filter: 'ipsource=((' }, /position 10/],
      ['/flow/bad/json', { keys: 'ipsource', value: 'bytes', filter: 'dnsqname~(a+)+\\1' }, /linear time/],
      ['/flow/bad%20name/json', { keys: 'ipsource', value: 'bytes' }, /invalid flow name/],
    ];
    for (const [path, body, msg] of cases) {
      const r = await req('PUT', path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.type).toBe('application/json');
      expect(r.json.message, JSON.stringify(body)).toMatch(msg);
    }
    expect((await req('DELETE', '/flow/bad%20name/json')).status).toBe(400);
    expect((await req('GET', '/flow/bad/json')).status).toBe(404);
  });

  it('/activeflows with maxFlows, minValue, aggMode, filter; /flowvalue; /flowlocations; /flowkeys; flow metrics', async () => {
    clock.set(T0 + 1000);
    const feed = (sim: AgentSim, ...samples: Parameters<AgentSim['datagram']>[0]) => s.engine.ingest(sim.datagram(samples), sim.address, clock.now());
    feed(a, { ds: 1, rate: 100, frameLength: 1000, header: packet({ src: '10.0.0.1', dst: '10.0.0.9', dport: 443 }) }, { ds: 2, rate: 10, frameLength: 1000, header: packet({ src: '10.0.0.2', dst: '10.0.0.9', dport: 80 }) });
    feed(b, { ds: 7, rate: 50, frameLength: 1000, header: packet({ src: '10.0.0.1', dst: '10.0.0.9', dport: 443 }) });
    const af = (await req('GET', `/activeflows/ALL/pair/json`)).json;
    expect(af).toEqual([
      { key: '10.0.0.1,10.0.0.9', value: 10_000, agent: '192.0.2.10', dataSource: '1', flowN: 2 },
      { key: '10.0.0.2,10.0.0.9', value: 1000, agent: '192.0.2.10', dataSource: '2', flowN: 1 },
    ]);
    expect((await req('GET', '/activeflows/ALL/pair/json?aggMode=sum&maxFlows=1')).json).toEqual([{ key: '10.0.0.1,10.0.0.9', value: 15_000, agent: '192.0.2.10', dataSource: '1', flowN: 2 }]);
    expect((await req('GET', '/activeflows/ALL/pair/json?minValue=5000')).json).toHaveLength(1);
    expect((await req('GET', `/activeflows/ALL/pair/json?filter=${encodeURIComponent('ipsource=10.0.0.2')}`)).json.map((f: { key: string }) => f.key)).toEqual(['10.0.0.2,10.0.0.9']);
    expect((await req('GET', '/activeflows/192.0.2.20/pair/json')).json.map((f: { agent: string }) => f.agent)).toEqual(['192.0.2.20']);
    expect((await req('GET', '/activeflows/ALL/ports/json')).json[0]).toMatchObject({ key: '443', value: 50, values: [50_000] });
    expect((await req('GET', '/activeflows/ALL/nosuchflow/json')).json).toEqual([]);
    expect((await req('GET', '/activeflows/ALL/pair/json?aggMode=median')).status).toBe(400);
    expect((await req('GET', '/activeflows/ALL/pair/json?maxFlows=lots')).status).toBe(400);
    expect((await req('GET', `/activeflows/ALL/pair/json?filter=${encodeURIComponent('vlan=1')}`)).json.message).toMatch(/not a key of flow "pair"/);

    expect((await req('GET', `/flowvalue/192.0.2.10/1.pair/json?key=${encodeURIComponent('10.0.0.1,10.0.0.9')}`)).json).toBe(10_000);
    expect((await req('GET', '/flowvalue/192.0.2.10/1.pair/json?key=nope')).json).toBe(0);
    expect((await req('GET', '/flowvalue/192.0.2.10/9.pair/json?key=nope')).status).toBe(404);
    expect((await req('GET', `/flowlocations/ALL/pair/json?key=${encodeURIComponent('10.0.0.1,10.0.0.9')}`)).json.map((l: { agent: string; dataSource: string }) => `${l.agent} ${l.dataSource}`)).toEqual(['192.0.2.10 1', '192.0.2.20 7']);

    const keys = (await req('GET', '/flowkeys/json')).json;
    expect(keys).toMatchObject({ ipsource: 0, stack: 0, tcpdestinationport: 0, agent: 0 });

    const m = (await req('GET', '/metric/ALL/sum:pair,pair/json')).json;
    expect(m[0]).toMatchObject({ metricName: 'sum:pair', metricValue: 10_000 + 1000 + 5000, metricN: 3 });
    expect(m[1]).toMatchObject({ metricName: 'pair', metricValue: 10_000, agent: '192.0.2.10', dataSource: '1' });
    expect(m[1].topKeys).toEqual([{ key: '10.0.0.1,10.0.0.9', value: 10_000, lastUpdate: 0 }]);
    expect((await req('GET', '/metric/192.0.2.10/json')).json).toMatchObject({ '1.pair': 10_000, '2.pair': 1000 });
    const an = (await req('GET', '/analyzer/json')).json;
    expect(an).toMatchObject({ flowsGenerated: 0, flowsLost: 0, flowSpecs: 2 });
    expect(an.flowKeys).toBe(6);
  });

  it('/flows/json: records newest first, flowID, name, maxFlows; timeout waits for the next record', async () => {
    clock.set(T0 + 10_000); // 9 s without a sample: the flows ended (default flow timeout 5 s)
    const all = (await req('GET', '/flows/json')).json;
    expect(all.map((r: { flowKeys: string }) => r.flowKeys).sort()).toEqual(['10.0.0.1,10.0.0.9', '10.0.0.1,10.0.0.9', '10.0.0.2,10.0.0.9']);
    expect(all[0]).toEqual({ flowID: 2, name: 'pair', agent: expect.any(String), dataSource: expect.any(String), flowKeys: expect.any(String), value: expect.any(Number), start: T0 + 1000, end: T0 + 1000 });
    expect((await req('GET', '/flows/json?maxFlows=1')).json).toHaveLength(1);
    expect((await req('GET', '/flows/json?flowID=1')).json.map((r: { flowID: number }) => r.flowID)).toEqual([2]);
    expect((await req('GET', '/flows/json?name=ports')).json).toEqual([]);
    expect((await req('GET', '/flows/json?maxFlows=abc')).status).toBe(400);

    const t = Date.now();
    const waiting = req('GET', '/flows/json?flowID=2&timeout=5');
    setTimeout(() => {
      clock.set(T0 + 20_000);
      s.engine.ingest(a.datagram([{ ds: 1, rate: 1, header: packet({ src: '10.7.7.7' }) }]), a.address, clock.now());
      clock.set(T0 + 30_000);
      s.ctx.flows!.sweep(clock.now());
    }, 100);
    const got = await waiting;
    expect(got.json.map((r: { flowKeys: string }) => r.flowKeys)).toEqual(['10.7.7.7,10.0.0.2']);
    expect(Date.now() - t).toBeLessThan(4000);
    const t2 = Date.now();
    expect((await req('GET', '/flows/json?flowID=99&timeout=0.3')).json).toEqual([]);
    expect(Date.now() - t2).toBeGreaterThanOrEqual(250);
  });
});

describe('user-defined flows survive a restart (state file in --data-dir)', () => {
  it('saves PUT flows, not app-owned ones, and loads them at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sflowscope-flows-state-'));
    const opts = { sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent' as const, dataDir, persistState: true, stateDebounceMs: 10 };
    const one = await startServer(opts);
    await fetch(`${one.url}/flow/kept/json`, { method: 'PUT', body: JSON.stringify({ keys: 'ipsource', value: 'frames', filter: 'ipprotocol=6' }) });
    one.flows!.setFlow('app-flow', { keys: 'stack', value: 'frames' }, { owner: 'sunburst' });
    await new Promise((r) => setTimeout(r, 100));
    await one.stop();
    const two = await startServer(opts);
    const list = (await (await fetch(`${two.url}/flow/json`)).json()) as Record<string, unknown>;
    await two.stop();
    expect(list).toEqual({ kept: { keys: 'ipsource', value: 'frames', filter: 'ipprotocol=6', t: 2, n: 5, fs: ',', activeTimeout: 60 } });
  });
});
