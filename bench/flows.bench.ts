// Flow engine benchmark: ns of CPU per sample for dissection + the typical flow specs, in process.
// Run: npx tsx bench/flows.bench.ts        (part of `npm run bench`)
//
// Samples are decoded once up front; the timed loop hands each (already decoded) flow sample to
// FlowEngine.flowSample exactly as the ingest pipeline does, so what is measured is the flow
// engine's own work per sample: finding the records, parsing the sampled header (once), and for
// every spec its filter, keys, value and table update (decay, top-N heap, key budget, log).
//
// Workloads:
//  - capture mix: every flow sample of hsflowd-tunnels-sample and hsflowd-flows (real headers:
//    VXLAN, Geneve, GRE, IP-in-IP, QinQ, IPv6, DNS, HTTP), replayed in a loop;
//  - cluster: 8192 Ethernet/IPv4 TCP/UDP headers between 400 pod addresses (80% of the traffic
//    from and to 20% of the pods), 10 service ports, DNS queries to two resolvers; each pod's
//    packets are sampled on the interface (data source) of its node: 20 agents × 8 interfaces;
//  - scan: every sample a new source address and port (a port scan / spoofed flood) seen on 4
//    interfaces: the worst case for key budgets (every new key evicts one).
// Specs: the list — the Protocols sunburst (stack + 7 null: wrappers), the two DNS
// sunburst specs (if:/first:/dns:), two Flow Browser specs (fs _SEP_), ipsource,ipdestination
// bytes, one with dns: keys, one with a filter (= and ~), one dropped (idle for packet samples),
// one log:true, one with group:. Reported: total ns/sample for all, ns/sample per spec (each alone
// minus the engine with no spec), and samples/s per core.

import { readFileSync } from 'node:fs';
import { ManualClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { FlowEngine } from '../src/engine/flows/engine.js';
import { GroupRegistry } from '../src/engine/groups.js';
import type { DatagramContext } from '../src/engine/sink.js';
import type { AgentState, DataSourceState } from '../src/engine/agents.js';
import { CaptureReader } from '../src/ingest/pcap.js';
import { parsePacket, keyReader } from '../src/packet/index.js';
import { decodeDatagram } from '../src/sflow/decode.js';
import type { FlowSample } from '../src/sflow/types.js';

interface Item {
  ctx: DatagramContext;
  sample: FlowSample;
  ds: DataSourceState;
}

const SPECS: [string, Record<string, unknown>][] = [
  [
    'sunburst-stack',
    {
      keys: 'stack,null:ethernetprotocol:0,null:ipprotocol:0,null:ip6nexthdr:0,null:tcpsourceport:0,null:tcpdestinationport:0,null:udpsourceport:0,null:udpdestinationport:0',
      value: 'frames',
      t: 5,
      n: 20,
    },
  ],
  ['sunburst-dns-src', { keys: 'if:[first:stack:.:ip:ip6]:ip:[dns:ipsource]:[dns:ip6source]', value: 'frames', t: 5, n: 20 }],
  ['sunburst-dns-dst', { keys: 'if:[first:stack:.:ip:ip6]:ip:[dns:ipdestination]:[dns:ip6destination]', value: 'frames', t: 5, n: 20 }],
  ['browse_flows0', { keys: 'ipsource,ipdestination,tcpdestinationport', value: 'bytes', fs: '_SEP_', n: 10, t: 2 }],
  ['browse_flows1', { keys: 'stack,macsource,macdestination', value: 'frames', fs: '_SEP_', n: 10, t: 2 }],
  ['pair', { keys: 'ipsource,ipdestination', value: 'bytes' }],
  ['dnspair', { keys: 'dns:ipsource,dns:ipdestination', value: 'bytes', t: 10 }],
  ['filtered', { keys: 'ipsource,tcpdestinationport', value: 'frames', filter: "ipprotocol=6&(tcpflags~.......1.|tcpdestinationport=80,443,6443)" }],
  ['drops', { keys: 'reason,inputifindex,ipsource', value: 'frames', dropped: true }],
  ['logged', { keys: 'ipsource,ipdestination,ipprotocol', value: 'bytes', log: true, t: 10 }],
  ['zones', { keys: 'group:ipsource:zones,group:ipdestination:zones', value: 'bytes' }],
];

function captureItems(engine: Engine, names: string[]): Item[] {
  const out: Item[] = [];
  for (const name of names) {
    const dir = name.startsWith('hsflowd') ? 'hsflowd' : 'public';
    const reader = new CaptureReader(readFileSync(new URL(`../../shared/testdata/captures/${dir}/${name}`, import.meta.url)));
    for (const d of reader) {
      const { datagram } = decodeDatagram(d.payload);
      if (datagram === null) continue;
      const agent = engine.registry.datagram(datagram.agentAddress || d.srcAddress, datagram.subAgentId, datagram.sequence, datagram.uptime, d.srcAddress, d.payload.length, 0);
      for (const s of datagram.samples) {
        if (s.kind !== 'flow_sample') continue;
        const ds = engine.registry.dataSource(agent, s.sourceIdClass, s.sourceIdIndex, 0)!;
        ds.effectiveSamplingRate = s.samplingRate;
        out.push({ ctx: { agent, source: d.srcAddress, nowMs: 0, datagram }, sample: s, ds });
      }
    }
  }
  return out;
}

function checksum(h: Uint8Array, off: number): void {
  h[off + 10] = 0;
  h[off + 11] = 0;
  let sum = 0;
  for (let j = off; j < off + 20; j += 2) sum += (h[j]! << 8) | h[j + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ck = ~sum & 0xffff;
  h[off + 10] = ck >>> 8;
  h[off + 11] = ck & 0xff;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ethernet/IPv4/TCP or UDP headers; `scan`: every header a new source address and port. */
function syntheticItems(engine: Engine, count: number, scan: boolean): Item[] {
  const rand = rng(scan ? 7 : 42);
  const pods = 400;
  const pod = (i: number) => 0x0af40000 | ((i >> 6) << 8) | (i & 63); // 10.244.x.y
  const hot = () => (rand() < 0.8 ? (rand() * pods * 0.2) | 0 : (rand() * pods) | 0);
  const ports = [80, 443, 6443, 2379, 9100, 8080, 5432, 6379, 9092, 3306];
  const agents: AgentState[] = [];
  const dss: DataSourceState[] = [];
  for (let a = 0; a < 20; a++) {
    const agent = engine.registry.datagram(`10.0.0.${a + 1}`, 0, 1, 1000, `10.0.0.${a + 1}`, 1400, 0);
    agents.push(agent);
    for (let k = 0; k < 8; k++) {
      const ds = engine.registry.dataSource(agent, 0, 10 + k, 0)!;
      ds.effectiveSamplingRate = 1000;
      dss.push(ds);
    }
  }
  const out: Item[] = [];
  for (let i = 0; i < count; i++) {
    const udp = rand() < 0.2;
    const dns = udp && rand() < 0.5;
    const h = new Uint8Array(128);
    const v = new DataView(h.buffer);
    const srcPod = hot();
    const src = scan ? 0x0b000000 + i * 7919 : pod(srcPod);
    const dst = dns ? 0x0a600000 | (10 + (i & 1)) : pod(hot());
    v.setUint32(0, 0x02000000 | (dst & 0xffff));
    v.setUint16(4, 0x0001);
    v.setUint32(6, 0x02000000 | (src & 0xffff));
    v.setUint16(10, 0x0002);
    v.setUint16(12, 0x0800);
    h[14] = 0x45;
    v.setUint16(16, udp ? 80 : 1400);
    h[22] = 64;
    h[23] = udp ? 17 : 6;
    v.setUint32(26, src >>> 0);
    v.setUint32(30, dst >>> 0);
    checksum(h, 14);
    const sport = scan ? 1024 + (i % 60000) : 32768 + ((rand() * 28000) | 0);
    const dport = dns ? 53 : ports[(rand() * ports.length) | 0]!;
    v.setUint16(34, sport);
    v.setUint16(36, dport);
    if (udp) v.setUint16(38, 60);
    else {
      h[46] = 0x50;
      h[47] = rand() < 0.05 ? 0x02 : 0x18;
    }
    if (dns) {
      // a DNS query header (id, flags RD, one question)
      v.setUint16(42, i & 0xffff);
      v.setUint16(44, 0x0100);
      v.setUint16(46, 1);
    }
    const sample: FlowSample = {
      kind: 'flow_sample',
      tag: 3,
      sequence: i,
      sourceIdClass: 0,
      sourceIdIndex: 10,
      samplingRate: 1000,
      samplePool: i * 1000,
      drops: 0,
      inputFormat: 0,
      input: 10,
      outputFormat: 0,
      output: 11,
      records: [{ kind: 'sampled_header', tag: 1, headerProtocol: 1, frameLength: udp ? 94 : 1414, stripped: 4, header: h } as never],
    };
    // a pod's packets are sampled on its node's interface (scan: on 4 interfaces, far beyond the key budget)
    const ds = dss[scan ? i % 4 : srcPod % dss.length]!;
    out.push({ ctx: { agent: ds.agent, source: ds.agent.address, nowMs: 0, datagram: null as never }, sample, ds });
  }
  return out;
}

function makeEngine(specs: [string, Record<string, unknown>][]): { fe: FlowEngine; engine: Engine } {
  const clock = new ManualClock(1_800_000_000_000);
  const engine = new Engine(clock);
  const groups = new GroupRegistry();
  groups.set('zones', { pods: ['10.244.0.0/16'], services: ['10.96.0.0/12'], nodes: ['10.0.0.0/24'], other: ['0.0.0.0/0'] });
  // reverse DNS answered from a warm cache, as DnsNames.name does once names are known
  const names = new Map<string, string>();
  const dnsName = (a: string): string => {
    let n = names.get(a);
    if (n === undefined) {
      n = `${a.replace(/[.:]/g, '-')}.default.pod.cluster.local.`;
      if (names.size < 100_000) names.set(a, n);
    }
    return n;
  };
  const fe = new FlowEngine(engine, {}, { groups, dnsName });
  for (const [name, spec] of specs) fe.setFlow(name, spec);
  return { fe, engine };
}

let sink = 0;

/** CPU ns per sample over `n` samples. */
function run(fe: FlowEngine, items: Item[], n: number, t0: { now: number }): number {
  const start = process.cpuUsage();
  const len = items.length;
  let now = t0.now;
  for (let i = 0; i < n; i++) {
    const it = items[i % len]!;
    if ((i & 127) === 0) now += 1; // about 128k samples per second of engine time
    it.ctx.nowMs = now;
    fe.flowSample(it.ctx, it.sample, it.ds);
  }
  t0.now = now;
  const u = process.cpuUsage(start);
  return ((u.user + u.system) * 1000) / n;
}

function parseOnly(items: Item[], n: number): number {
  const stack = keyReader('stack')!;
  const start = process.cpuUsage();
  const len = items.length;
  for (let i = 0; i < n; i++) {
    const r = items[i % len]!.sample.records.find((x) => x.kind === 'sampled_header') as unknown as { headerProtocol: number; header: Uint8Array } | undefined;
    if (r !== undefined) sink += stack(parsePacket(r.headerProtocol, r.header))?.length ?? 0;
  }
  const u = process.cpuUsage(start);
  return ((u.user + u.system) * 1000) / n;
}

function median(f: () => number, rounds = 5): number {
  const xs: number[] = [];
  for (let r = 0; r < rounds; r++) xs.push(f());
  xs.sort((a, b) => a - b);
  return xs[rounds >> 1]!;
}

const N = Number(process.env.BENCH_SAMPLES ?? 400_000);

function bench(label: string, build: (engine: Engine) => Item[]): void {
  const all = makeEngine(SPECS);
  const items = build(all.engine);
  const none = makeEngine([]);
  const noneItems = build(none.engine);
  const t = { now: 1_800_000_000_000 };
  run(all.fe, items, N, t); // warm-up
  run(none.fe, noneItems, N, { now: t.now });
  const parse = median(() => parseOnly(items, N));
  const base = median(() => run(none.fe, noneItems, N, { now: t.now }));
  const total = median(() => run(all.fe, items, N, t));
  console.log(`\n${label}: ${items.length} distinct samples, ${N} per round, median of 5 rounds, CPU time`);
  console.log(`  parsePacket + stack only              ${parse.toFixed(0).padStart(6)} ns/sample`);
  console.log(`  flow engine, no spec                  ${base.toFixed(0).padStart(6)} ns/sample (records, parse, /flowkeys)`);
  console.log(`  flow engine, all ${SPECS.length} specs              ${total.toFixed(0).padStart(6)} ns/sample = ${(1e9 / total / 1e6).toFixed(2)}M samples/s per core`);
  console.log(`  per spec (all − none) / ${SPECS.length}             ${((total - base) / SPECS.length).toFixed(0).padStart(6)} ns/sample/spec`);
  const st = all.fe.getStats();
  console.log(`  keys held ${st.entries}, tables ${st.tables}, evictions ${st.evictions}, records logged ${st.recordsLogged}`);
  if (process.env.BENCH_PER_SPEC === '0') return;
  for (const [name, spec] of SPECS) {
    const one = makeEngine([[name, spec]]);
    const its = build(one.engine);
    const tt = { now: 1_800_000_000_000 };
    run(one.fe, its, N >> 1, tt);
    const v = median(() => run(one.fe, its, N >> 1, tt), 3);
    console.log(`    ${name.padEnd(18)} ${(v - base).toFixed(0).padStart(6)} ns/sample`);
  }
}

/** A fixed loop of byte additions, to compare machines (as bench/dissect.bench.ts): ns per iteration. */
function calibrate(): number {
  const a = new Uint8Array(1 << 20).fill(1);
  let x = 0;
  const t0 = process.cpuUsage();
  for (let r = 0; r < 50; r++) for (let i = 0; i < a.length; i++) x += a[i]!;
  const t = process.cpuUsage(t0);
  sink += x;
  return ((t.user + t.system) * 1000) / (50 * a.length);
}

console.log(`node ${process.version}; calibration ${calibrate().toFixed(2)} ns per byte-add loop iteration (about 0.3 on a current desktop core)`);
const only = process.env.BENCH_ONLY;
if (only === undefined || only === 'capture') bench('capture mix (hsflowd-tunnels-sample + hsflowd-flows)', (e) => captureItems(e, ['hsflowd-tunnels-sample.pcap', 'hsflowd-flows.pcap']));
if (only === undefined || only === 'cluster') bench('cluster (400 pods, Zipf pairs)', (e) => syntheticItems(e, 8192, false));
if (only === undefined || only === 'scan') bench('scan (every sample a new key)', (e) => syntheticItems(e, 65536, true));
if (sink === 42) console.log('');
