// Hostile sFlow through the real server on loopback UDP: floods that push every sFlow-side bound
// (agents, data sources, custom metric names, flow keys, the flow log), datagrams whose counts,
// lengths and nesting lie, and sources outside --agents-allow. Each bound must hold, each refusal
// or eviction must be counted where users look (/analyzer/json, the Prometheus self metrics), and
// /status must keep answering 200 all along. test/hostile.test.ts covers garbage, truncation,
// wrong versions and size; this file does not repeat those.
//
// Datagrams are sent in small batches and each batch waits until the engine has taken it (or the
// kernel reports it dropped), so the floods are quick without overrunning the socket buffer; the
// assertions are written over what the engine actually took, so a kernel drop cannot fail them.

import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appRoutes } from '../../src/api/apps.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/app.js';
import { encodeDatagram } from '../../src/sflow/encode.js';
import type { RtMetricSample, Sample } from '../../src/sflow/types.js';
import { counterSample, datagram, ifCounters } from '../helpers/datagrams.js';
import { capturePath } from '../helpers/engine.js';
import { AgentSim, packet } from '../helpers/flows.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

interface Harness {
  s: RunningServer;
  /** Send datagrams from a socket of this family (default udp4 to 127.0.0.1), paced. */
  send(datagrams: Iterable<Uint8Array>, opts?: { family?: 'udp4' | 'udp6'; batch?: number }): Promise<void>;
  analyzer(): Promise<Json>;
  get(path: string): Promise<{ status: number; body: unknown; text: string }>;
  put(path: string, body: unknown): Promise<{ status: number; text: string }>;
  /** Datagrams the engine took (sent minus kernel and queue drops). */
  processed(): number;
  sent: number;
}

const DEADLINE_MS = 10_000;

async function until(cond: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
}

/** Run `fn` against a fresh server with a /status poller alongside; the poller must only ever see 200. */
async function withServer(opts: ServerOptions, fn: (h: Harness) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sflowscope-hostile-'));
  dirs.push(dataDir);
  const s = await startServer({ sflowPort: 0, httpPort: 0, sflowBind: '127.0.0.1', httpBind: '127.0.0.1', logLevel: 'silent', persistState: false, dataDir, ...opts });
  const sockets = new Map<string, dgram.Socket>();
  const statuses: (number | string)[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        statuses.push((await fetch(`${s.url}/status`)).status);
      } catch (e) {
        statuses.push(String(e));
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const drops = () => (s.ctx.udp?.kernelDrops() ?? 0) + (s.ctx.udp?.queueDrops?.() ?? 0);
  const h: Harness = {
    s,
    sent: 0,
    processed: () => s.engine.pipeline.stats.datagrams,
    async send(datagrams, o = {}) {
      const family = o.family ?? 'udp4';
      let sock = sockets.get(family);
      if (sock === undefined) {
        sock = dgram.createSocket(family);
        sockets.set(family, sock);
      }
      const target = family === 'udp4' ? '127.0.0.1' : '::1';
      const batch = o.batch ?? 100;
      let pending: Promise<void>[] = [];
      const flush = async () => {
        await Promise.all(pending);
        pending = [];
        await until(() => s.engine.pipeline.stats.datagrams + drops() >= h.sent);
      };
      for (const d of datagrams) {
        const k = sock;
        pending.push(new Promise<void>((r) => k.send(d, s.sflowPort!, target, () => r())));
        h.sent++;
        if (pending.length >= batch) await flush();
      }
      await flush();
    },
    analyzer: async () => (await (await fetch(`${s.url}/analyzer/json`)).json()) as Json,
    async get(path) {
      const r = await fetch(`${s.url}${path}`);
      const text = await r.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      return { status: r.status, body, text };
    },
    async put(path, body) {
      const r = await fetch(`${s.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, text: await r.text() };
    },
  };
  try {
    await fn(h);
  } finally {
    polling = false;
    await poller;
    for (const k of sockets.values()) k.close();
    await s.stop();
  }
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses.filter((x) => x !== 200)).toEqual([]);
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function* map<T, U>(it: Iterable<T>, f: (x: T) => U): Generator<U> {
  for (const x of it) yield f(x);
}

const ip = (i: number, a = 10) => `${a}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** The value of a sample line of the Prometheus self metrics, or undefined. */
function promValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

// ---- raw XDR, for datagrams the encoder would refuse to write ----------------------------------

function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
  return b;
}
const cat = (...p: Uint8Array[]): Buffer => Buffer.concat(p);
const pad = (b: Uint8Array): Buffer => cat(b, Buffer.alloc((4 - (b.length % 4)) % 4));
const str = (s: string): Buffer => cat(u32(Buffer.byteLength(s)), pad(Buffer.from(s)));
const tag = (enterprise: number, format: number) => (enterprise << 12) | format;
/** A record or sample: tag, length, body; `len` overrides the length written. */
const tlv = (t: number, body: Uint8Array, len = body.length): Buffer => cat(u32(t, len), pad(body));
/** A datagram header from agent 192.0.2.<a>, with `n` written as the sample count. */
const header = (a: number, seq: number, n: number): Buffer => cat(u32(5, 1), Buffer.from([192, 0, 2, a]), u32(0, seq, 1000, n));
const ifCountersBody = (ifIndex: number): Buffer => cat(u32(ifIndex, 6), u32(0, 1_000_000_000), u32(1, 3), Buffer.alloc(88 - 24));
/** counter_sample (0:2), compact source id. */
const counterSampleRaw = (seq: number, ifIndex: number, records: Buffer[], count = records.length): Buffer => tlv(tag(0, 2), cat(u32(seq, ifIndex, count), ...records));
/** flow_sample (0:1) with the given records. */
const flowSampleRaw = (seq: number, ifIndex: number, records: Buffer[]): Buffer => tlv(tag(0, 1), cat(u32(seq, ifIndex, 1, seq, 0, ifIndex, 0, records.length), ...records));
/** extended_80211_aggregation (0:1016): one PDU holding the next level, `depth` levels deep. */
function nested(depth: number): Buffer {
  if (depth === 0) return tlv(tag(0, 1016), u32(0));
  return tlv(tag(0, 1016), cat(u32(1, 1), nested(depth - 1)));
}
const rtMetricRaw = (body: Buffer): Buffer => tlv(tag(4300, 1002), body);

describe('hostile sFlow over loopback UDP', () => {
  it('an agent flood from one source holds --max-agents and counts every eviction', async () => {
    await withServer({ maxAgents: 100 }, async (h) => {
      await h.send(map(range(20_000), (i) => datagram(ip(i), 1, 1, [counterSample(0, 1, 1, [ifCounters(1, {})])])));
      const took = h.processed();
      expect(took).toBeGreaterThan(10_000);
      const a = await h.analyzer();
      expect(a['sFlowAgents']).toBe(100);
      expect(a['maxAgents']).toBe(100);
      expect(a['sFlowAgentsEvicted']).toBe(took - 100);
      expect(a['sFlowDataSources']).toBe(100);
      expect(Object.keys((await h.get('/agents/json')).body as Json).length).toBe(100);
      const prom = (await h.get('/metrics')).text;
      expect(promValue(prom, 'sflowscope_agents')).toBe(100);
      expect(promValue(prom, 'sflowscope_agent_removals_total{reason="evicted"}')).toBe(took - 100);
    });
  });

  it('a data-source flood holds --max-data-sources-per-agent, then --max-data-sources, counting evictions', async () => {
    await withServer({ maxDataSources: 300, maxDataSourcesPerAgent: 50 }, async (h) => {
      const agent = '10.0.0.1';
      // Ten data sources a datagram: 2000 from one agent.
      await h.send(map(range(200), (d) => datagram(agent, d + 1, d, Array.from({ length: 10 }, (_, k) => counterSample(0, d * 10 + k, 1, [ifCounters(d * 10 + k, {})])))));
      let a = await h.analyzer();
      const samples1 = a['sFlowCounterSamples'] as number;
      expect(samples1).toBeGreaterThan(1000);
      expect(a['sFlowDataSources']).toBe(50);
      expect(a['sFlowDataSourcesEvicted']).toBe(samples1 - 50);
      const ds = (await h.get(`/agents/${agent}/datasources/json`)).body as unknown[] | Json;
      expect(Array.isArray(ds) ? ds.length : Object.keys(ds).length).toBe(50);
      const agents = (await h.get('/agents/json')).body as Record<string, Json>;
      expect(agents[agent]!['sFlowDatasourcesEvicted']).toBe(samples1 - 50);

      // 40 agents with 40 data sources each: the total bound.
      await h.send(map(range(40), (g) => datagram(ip(g, 172), 1, 1, Array.from({ length: 40 }, (_, k) => counterSample(0, k, 1, [ifCounters(k, {})])))), { batch: 10 });
      a = await h.analyzer();
      const samples = a['sFlowCounterSamples'] as number;
      expect(samples - samples1).toBeGreaterThan(800);
      expect(a['sFlowDataSources']).toBe(300);
      expect(a['sFlowDataSourcesEvicted']).toBe(samples - 300);
      const prom = (await h.get('/metrics')).text;
      expect(promValue(prom, 'sflowscope_data_sources')).toBe(300);
      expect(promValue(prom, 'sflowscope_data_source_removals_total{reason="evicted"}')).toBe(samples - 300);
    });
  });

  it('counts, lengths and nesting that lie are counted by reason; intact samples before the lie are used', async () => {
    await withServer({}, async (h) => {
      const rec = tlv(tag(0, 1), ifCountersBody(1));
      const cases: [string, Buffer][] = [
        // a datagram claiming 2^31 samples carrying one: the one is used
        ['too_many_samples', cat(header(1, 1, 0x80000000), counterSampleRaw(1, 1, [rec]))],
        // a sample claiming 2^31 records carrying one
        ['too_many_records', cat(header(2, 1, 1), counterSampleRaw(1, 1, [rec], 0x80000000))],
        // a sample, a record, a string and a value list claiming ~4 GiB / 2^31 elements
        ['bad_length', cat(header(3, 1, 1), tlv(tag(0, 2), cat(u32(1, 1, 1), rec), 0xfffffff0))],
        ['bad_length', cat(header(4, 1, 1), counterSampleRaw(1, 1, [cat(u32(tag(0, 1), 0xfffffff0), ifCountersBody(1))]))],
        ['bad_length', cat(header(5, 1, 1), rtMetricRaw(cat(u32(0x7fffffff), Buffer.from('app\0'), u32(0))))],
        ['bad_length', cat(header(6, 1, 1), rtMetricRaw(cat(str('app'), u32(0x80000000), str('m'), u32(3, 1))))],
        // records nested deeper than we follow
        ['too_deep', cat(header(7, 1, 1), flowSampleRaw(1, 1, [nested(12)]))],
        ['bad_address_type', cat(u32(5, 7), Buffer.alloc(40))],
      ];
      // Lies inside a known record spoil that record only: counted as an unknown record, the sample is used.
      const recordLies: Buffer[] = [
        // host_adapters (0:2001) claiming 2^31 adapters
        cat(header(8, 1, 1), counterSampleRaw(1, 1, [tlv(tag(0, 2001), u32(0x80000000, 1))])),
        // sampled_header (0:1) whose header claims 2 GiB and whose frame length is 2^32-1
        cat(header(9, 1, 1), flowSampleRaw(1, 1, [tlv(tag(0, 1), cat(u32(1, 0xffffffff, 4, 0x7fffffff), Buffer.alloc(64)))])),
        // nesting within the limit is fine
        cat(header(10, 1, 1), flowSampleRaw(1, 1, [nested(2)])),
      ];
      await h.send([...cases.map((c) => c[1]), ...recordLies], { batch: 1 });
      expect(h.processed()).toBe(cases.length + recordLies.length);
      const a = await h.analyzer();
      const bad = a['sFlowBadInput'] as Record<string, number>;
      const want: Record<string, number> = {};
      for (const [reason] of cases) want[reason] = (want[reason] ?? 0) + 1;
      for (const [reason, n] of Object.entries(want)) expect(bad[reason], reason).toBe(n);
      expect(bad['internal_error']).toBe(0);
      expect(a['sFlowParseErrors']).toBe(cases.length);
      // A sample whose own header decoded is used with the records before the lie (the sample-count,
      // record-count, record-length and too-deep cases), and so is one with a spoiled record.
      expect(a['sFlowCounterSamples']).toBe(4);
      expect(a['sFlowFlowSamples']).toBe(3);
      expect(a['sFlowUnknownCounterRecords']).toBe(1);
      // Every datagram whose header decoded names its agent.
      expect(a['sFlowAgents']).toBe(cases.length + recordLies.length - 1);
      const m = (await h.get('/metric/192.0.2.1/json')).body as Json;
      expect(m['1.ifspeed']).toBe(1_000_000_000);
      const prom = (await h.get('/metrics')).text;
      for (const [reason, n] of Object.entries(want)) expect(promValue(prom, `sflowscope_bad_input_total{reason="${reason}"}`), reason).toBe(n);
    });
  });

  it('a flood of custom metric names holds --max-metrics-per-data-source and counts refusals', async () => {
    await withServer({ maxMetricsPerDataSource: 20 }, async (h) => {
      const rt = (ds: string, from: number, n: number): RtMetricSample => ({ kind: 'rtmetric', tag: tag(4300, 1002), datasource: ds, metrics: Array.from({ length: n }, (_, k) => ({ name: `m${from + k}`, type: 3, value: from + k })) });
      const dg = (samples: Sample[], seq: number) => encodeDatagram({ version: 5, agentAddress: '10.0.0.9', agentAddressType: 1, subAgentId: 0, sequence: seq, uptime: seq, samples });
      // 300 names on one data source, 10 a datagram, then the first 20 again (known names are not refused).
      await h.send(map(range(30), (i) => dg([rt('app', i * 10, 10)], i + 1)));
      await h.send([dg([rt('app', 0, 20)], 31), dg([rt('other', 0, 15)], 32)]);
      expect(h.processed()).toBe(32);
      const a = await h.analyzer();
      expect(a['maxMetricsPerDataSource']).toBe(20);
      expect(a['sFlowRtMetricsRefused']).toBe(280);
      const m = (await h.get('/metric/10.0.0.9/json')).body as Json;
      expect(Object.keys(m).filter((k) => k.startsWith('app.')).length).toBe(20);
      expect(Object.keys(m).filter((k) => k.startsWith('other.')).length).toBe(15);
      expect(m['app.m0']).toBe(0);
      expect(m['app.m19']).toBe(19);
      expect(m['app.m20']).toBeUndefined();
    });
  });

  it('a flow-key flood holds --flow-max-keys per table and --flow-max-entries in all, counting evictions', async () => {
    await withServer({ flowMaxKeys: 50, flowMaxEntries: 120 }, async (h) => {
      expect((await h.put('/flow/src/json', { keys: 'ipsource', value: 'frames' })).status).toBeLessThan(300);
      const sim = new AgentSim('10.0.0.1');
      // One data source, 600 distinct sources: the table holds 50.
      await h.send(map(range(60), (d) => sim.datagram(Array.from({ length: 10 }, (_, k) => ({ ds: 1, header: packet({ src: ip(d * 10 + k, 11) }) })))));
      let a = await h.analyzer();
      const samples1 = a['sFlowFlowSamples'] as number;
      expect(samples1).toBeGreaterThan(300);
      expect(a['flowKeys']).toBe(50);
      expect(a['flowKeyEvictions']).toBe(samples1 - 50);
      // Three more data sources, round robin: the total holds 120.
      await h.send(map(range(90), (d) => sim.datagram(Array.from({ length: 10 }, (_, k) => ({ ds: 2 + ((d * 10 + k) % 3), header: packet({ src: ip(d * 10 + k, 12) }) })))));
      a = await h.analyzer();
      const samples = a['sFlowFlowSamples'] as number;
      expect(samples - samples1).toBeGreaterThan(450);
      expect(a['flowKeys']).toBe(120);
      expect(a['flowKeyEvictions']).toBe(samples - 120);
      const top = (await h.get('/activeflows/ALL/src/json?maxFlows=100000')).body as unknown[];
      expect(top.length).toBeLessThanOrEqual(120);
    });
  });

  it('completed flow records hold --flow-log-max; the overwritten ones are counted (flowsLost)', async () => {
    await withServer({ flowLogMax: 10 }, async (h) => {
      expect((await h.put('/flow/logged/json', { keys: 'ipsource', value: 'frames', log: true })).status).toBeLessThan(300);
      const sim = new AgentSim('10.0.0.1');
      await h.send(map(range(4), (d) => sim.datagram(Array.from({ length: 10 }, (_, k) => ({ ds: 1, header: packet({ src: ip(d * 10 + k, 13) }) })))));
      expect(h.processed()).toBe(4);
      // Deleting the flow ends its 40 open records into the log.
      expect((await fetch(`${h.s.url}/flow/logged/json`, { method: 'DELETE' })).status).toBeLessThan(300);
      const a = await h.analyzer();
      expect(a['flowsGenerated']).toBe(40);
      expect(a['flowsLost']).toBe(30);
      const recs = (await h.get('/flows/json?maxFlows=1000')).body as { flowKeys: string }[];
      expect(recs.length).toBe(10);
    });
  });

  it('--max-flows, --max-groups, --max-maps and --max-thresholds refuse one more with 400 and a message', async () => {
    const apps = appRoutes({ flows: (ctx) => ctx.flows?.appSource('apps') ?? null });
    await withServer({ maxFlowSpecs: 3, maxGroups: 2, maxMaps: 2, maxThresholds: 2, apiPlugins: [apps] }, async (h) => {
      for (let i = 0; i < 3; i++) expect((await h.put(`/flow/f${i}/json`, { keys: 'ipsource', value: 'bytes' })).status).toBeLessThan(300);
      const refused = await h.put('/flow/f3/json', { keys: 'ipsource', value: 'bytes' });
      expect(refused.status).toBe(400);
      expect(refused.text).toMatch(/too many flows \(at most 3\)/);
      // Replacing one is not one more.
      expect((await h.put('/flow/f0/json', { keys: 'ipdestination', value: 'bytes' })).status).toBeLessThan(300);
      // The Prometheus flow export shares the bound: refused while full, served once there is room.
      const exportPath = '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=top&key=ipsource&value=bytes';
      const full = await h.get(exportPath);
      expect(full.status).toBe(400);
      expect(full.text).toMatch(/too many flows/);
      // So do the apps' flows (the Sunburst, the Flow Browser): a 400 that says why, not a 500.
      for (const path of ['/app/sunburst/scripts/metrics.js/protocols/json', '/app/browse-flows/scripts/top.js/flows/json?keys=ipsource&value=bytes']) {
        const r = await h.get(path);
        expect(r.status, path).toBe(400);
        expect(r.text, path).toMatch(/too many flows \(at most 3\)/);
      }
      expect((await fetch(`${h.s.url}/flow/f2/json`, { method: 'DELETE' })).status).toBeLessThan(300);
      expect((await h.get(exportPath)).status).toBe(200);
      expect((await h.put('/flow/f2/json', { keys: 'ipsource', value: 'bytes' })).status).toBe(400);
      expect((await h.analyzer())['flowSpecs']).toBe(3);

      for (const [kind, body] of [
        ['group', { inside: ['10.0.0.0/8'] }],
        ['map', { label: ['a', 'b'] }],
        ['threshold', { metric: 'load_one', value: 1 }],
      ] as const) {
        for (let i = 0; i < 2; i++) expect((await h.put(`/${kind}/${kind}${i}/json`, body)).status, `${kind} ${i}`).toBeLessThan(300);
        const r = await h.put(`/${kind}/${kind}2/json`, body);
        expect(r.status, kind).toBe(400);
        expect(r.text).toMatch(new RegExp(`too many ${kind}s \\(at most 2\\)`));
        expect((await h.put(`/${kind}/${kind}0/json`, body)).status).toBeLessThan(300);
      }
      const a = await h.analyzer();
      expect(a['groups']).toBe(2);
      expect(a['maps']).toBe(2);
      expect(a['thresholds']).toBe(2);
    });
  });
});

describe('--agents-allow', () => {
  const good = (i: number) => datagram('10.9.0.1', i + 1, i, [counterSample(0, 1, i + 1, [ifCounters(1, {})])]);

  it('drops datagrams from outside the prefixes before decoding and counts them', async () => {
    await withServer({ agentsAllow: '10.0.0.0/8,fd00::/8' }, async (h) => {
      await h.send(map(range(50), good));
      // Whatever the bytes: not even an empty datagram is looked at.
      await h.send([new Uint8Array(0), Uint8Array.of(0, 0, 0, 9)]);
      expect(h.processed()).toBe(52);
      const a = await h.analyzer();
      const bad = a['sFlowBadInput'] as Record<string, number>;
      expect(bad['source_not_allowed']).toBe(52);
      expect(bad['empty']).toBe(0);
      expect(bad['bad_version']).toBe(0);
      expect(a['sFlowDatagramsDiscarded']).toBe(52);
      expect(a['sFlowDatagramsReceived']).toBe(52);
      expect(a['sFlowAgents']).toBe(0);
      expect(a['sFlowSourceCacheEvictions']).toBe(0);
      const prom = (await h.get('/metrics')).text;
      expect(promValue(prom, 'sflowscope_bad_input_total{reason="source_not_allowed"}')).toBe(52);
      expect(promValue(prom, 'sflowscope_discarded_datagrams_total')).toBe(52);
    });
  });

  it('accepts datagrams from inside the prefixes', async () => {
    await withServer({ agentsAllow: '192.0.2.0/24, 127.0.0.0/8' }, async (h) => {
      await h.send(map(range(20), good));
      const a = await h.analyzer();
      expect((a['sFlowBadInput'] as Record<string, number>)['source_not_allowed']).toBe(0);
      expect(a['sFlowCounterSamples']).toBe(20);
      expect(a['sFlowAgents']).toBe(1);
    });
  });

  it('applies to the capture feed too, by the captured source addresses', async () => {
    for (const [allow, taken] of [
      ['192.0.2.0/24', false],
      ['0.0.0.0/0,::/0', true],
    ] as const) {
      await withServer({ sflowPort: -1, pcap: capturePath('hsflowd-docker.pcap'), pcapPace: 'max', agentsAllow: allow }, async (h) => {
        await h.s.captureDone;
        const fed = h.s.capture!.stats.fed;
        expect(fed).toBeGreaterThan(0);
        const a = await h.analyzer();
        expect((a['sFlowBadInput'] as Record<string, number>)['source_not_allowed'], allow).toBe(taken ? 0 : fed);
        expect((a['sFlowAgents'] as number) > 0, allow).toBe(taken);
      });
    }
  });

  it('refuses to start with a prefix that is not one', async () => {
    await expect(startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', persistState: false, dataDir: mkdtempSync(join(tmpdir(), 'sflowscope-hostile-')), agentsAllow: '10.0.0.0/40' })).rejects.toThrow(/prefix length/);
  });

  const hasV6 = Object.values(networkInterfaces()).some((l) => l?.some((i) => i.family === 'IPv6' && i.internal));
  it.skipIf(!hasV6)('on a dual-stack socket, IPv4 senders are checked as IPv4 and ::1 as IPv6', async () => {
    for (const [allow, v4ok, v6ok] of [
      ['127.0.0.0/8', true, false],
      ['::1', false, true],
      ['::ffff:127.0.0.0/104,::1/128', true, true],
    ] as const) {
      await withServer({ sflowBind: '::', agentsAllow: allow }, async (h) => {
        await h.send(map(range(5), good), { family: 'udp4' });
        await h.send(map(range(7), (i) => good(i + 5)), { family: 'udp6' });
        expect(h.processed()).toBe(12);
        const a = await h.analyzer();
        expect((a['sFlowBadInput'] as Record<string, number>)['source_not_allowed'], allow).toBe((v4ok ? 0 : 5) + (v6ok ? 0 : 7));
        expect(a['sFlowCounterSamples'], allow).toBe((v4ok ? 5 : 0) + (v6ok ? 7 : 0));
      });
    }
  });
});
