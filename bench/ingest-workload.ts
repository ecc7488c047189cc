// Workloads for the ingest benchmark, built with the project's encoder (src/sflow/encode.ts).
//
// A busy cluster: `agents` nodes, each datagram ~1,300 bytes holding 5–8 expanded flow samples of
// 128-byte Ethernet/IPv4/TCP headers (≈ 6.5 samples per datagram), and every 10th datagram an
// interface counter sample. Datagrams are built once as templates; the sender patches the
// datagram sequence number and every sample's sequence number before sending, so the collector
// sees a consistent, loss-accountable stream for as long as the benchmark runs.
//
// The 1,000-node scenario: each node's host (2.1, hsflowd's host structures) and 30 pods (3.N,
// host_descr with a Kubernetes name, virt_cpu/memory/disk/net), polled every 5 s, packed into
// datagrams of at most ~1,400 bytes as hsflowd does.

import { encodeDatagram } from '../src/sflow/encode.js';
import { counterRecordDefs, flowRecordDefs } from '../src/sflow/index.js';
import type { CounterRecord, CounterSample, FlowSample, Sample } from '../src/sflow/types.js';

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

/** A datagram to send again and again, with where its sequence numbers are. */
export interface Template {
  bytes: Uint8Array;
  /** Index of the agent (sequence space of the datagram). */
  agent: number;
  /** For each sample: byte offset of its sequence number, and the index of its (agent, data source, kind) sequence space. */
  sampleSeqOffsets: number[];
  sampleSpaces: number[];
  samples: number;
}

export interface TemplateSet {
  templates: Template[];
  agents: number;
  spaces: number;
}

function tcpHeader(rand: () => number, agent: number): Uint8Array {
  const h = new Uint8Array(128);
  const v = new DataView(h.buffer);
  for (let i = 0; i < 12; i++) h[i] = (rand() * 256) | 0;
  v.setUint16(12, 0x0800);
  h[14] = 0x45;
  v.setUint16(16, 1500 - 14);
  h[22] = 64;
  h[23] = 6;
  v.setUint32(26, 0x0a000000 | (agent << 8) | ((rand() * 256) | 0));
  v.setUint32(30, 0x0a000000 | ((rand() * 65536) | 0));
  v.setUint16(34, 1024 + ((rand() * 60000) | 0));
  v.setUint16(36, [80, 443, 6443, 2379, 9100][(rand() * 5) | 0]!);
  h[46] = 0x50;
  h[47] = 0x18;
  for (let i = 54; i < 128; i++) h[i] = (rand() * 256) | 0;
  return h;
}

function flowSample(rand: () => number, agent: number, ifIndex: number): FlowSample {
  return {
    kind: 'flow_sample',
    tag: 3,
    sequence: 0,
    sourceIdClass: 0,
    sourceIdIndex: ifIndex,
    samplingRate: 1000,
    samplePool: 0,
    drops: 0,
    inputFormat: 0,
    input: ifIndex,
    outputFormat: 0,
    output: 0x3fffffff,
    records: [
      { kind: 'sampled_header', tag: flowRecordDefs.sampled_header.tag, headerProtocol: 1, frameLength: 1518, stripped: 4, header: tcpHeader(rand, agent) },
    ],
  } as FlowSample;
}

function ifCounters(ifIndex: number, k: number): CounterRecord {
  return {
    kind: 'if_counters',
    tag: counterRecordDefs.if_counters.tag,
    ifIndex,
    ifType: 6,
    ifSpeed: 100_000_000_000n,
    ifDirection: 1,
    ifStatus: 3,
    ifInOctets: BigInt(k) * 123456789n,
    ifInUcastPkts: k * 1000,
    ifInMulticastPkts: 0,
    ifInBroadcastPkts: 0,
    ifInDiscards: 0,
    ifInErrors: 0,
    ifInUnknownProtos: 0,
    ifOutOctets: BigInt(k) * 98765432n,
    ifOutUcastPkts: k * 900,
    ifOutMulticastPkts: 0,
    ifOutBroadcastPkts: 0,
    ifOutDiscards: 0,
    ifOutErrors: 0,
    ifPromiscuousMode: 0,
  } as CounterRecord;
}

export function agentAddress(i: number): string {
  return `10.${100 + ((i >> 16) & 255)}.${(i >> 8) & 255}.${i & 255}`;
}

/** Sample sequence offsets of an encoded datagram with an IPv4 agent (28-byte header). */
function sampleSeqOffsets(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = v.getUint32(24);
  const out: number[] = [];
  let p = 28;
  for (let i = 0; i < n; i++) {
    const len = v.getUint32(p + 4);
    out.push(p + 8);
    p += 8 + len;
  }
  return out;
}

/** Templates for the rate benchmark: `perAgent` different datagrams per agent. */
export function rateTemplates(agents = 200, perAgent = 10, seed = 42): TemplateSet {
  const rand = rng(seed);
  const templates: Template[] = [];
  // Sequence spaces: per agent, 4 flow data sources (ifIndex 2..5) and 4 counter data sources.
  const space = (agent: number, kind: 0 | 1, ifIndex: number) => agent * 8 + kind * 4 + (ifIndex - 2);
  for (let a = 0; a < agents; a++) {
    for (let t = 0; t < perAgent; t++) {
      const samples: Sample[] = [];
      const spaces: number[] = [];
      const n = 5 + ((rand() * 4) | 0);
      for (let k = 0; k < n; k++) {
        const ifIndex = 2 + ((rand() * 4) | 0);
        samples.push(flowSample(rand, a, ifIndex));
        spaces.push(space(a, 0, ifIndex));
      }
      if (t % 10 === 0) {
        const ifIndex = 2 + (t % 4);
        const c: CounterSample = { kind: 'counter_sample', tag: 4, sequence: 0, sourceIdClass: 0, sourceIdIndex: ifIndex, records: [ifCounters(ifIndex, t + 1)] };
        samples.push(c);
        spaces.push(space(a, 1, ifIndex));
      }
      const bytes = encodeDatagram({ version: 5, agentAddress: agentAddress(a), agentAddressType: 1, subAgentId: 0, sequence: 0, uptime: 1000, samples });
      templates.push({ bytes, agent: a, sampleSeqOffsets: sampleSeqOffsets(bytes), sampleSpaces: spaces, samples: samples.length });
    }
  }
  // Interleave agents: template i*agents + a.
  const interleaved: Template[] = [];
  for (let t = 0; t < perAgent; t++) for (let a = 0; a < agents; a++) interleaved.push(templates[a * perAgent + t]!);
  return { templates: interleaved, agents, spaces: agents * 8 };
}

/** Writes consecutive sequence numbers (and an uptime) into a template's bytes before each send. */
export class Sequencer {
  private readonly datagramSeq: Uint32Array;
  private readonly sampleSeq: Uint32Array;
  constructor(set: TemplateSet) {
    this.datagramSeq = new Uint32Array(set.agents);
    this.sampleSeq = new Uint32Array(set.spaces);
  }
  /** Patch `t` in place and return its bytes. */
  next(t: Template, uptimeMs: number): Uint8Array {
    const b = t.bytes;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    v.setUint32(16, ++this.datagramSeq[t.agent]!);
    v.setUint32(20, uptimeMs >>> 0);
    for (let i = 0; i < t.sampleSeqOffsets.length; i++) v.setUint32(t.sampleSeqOffsets[i]!, ++this.sampleSeq[t.sampleSpaces[i]!]!);
    return b;
  }
  get sent(): number {
    let n = 0;
    for (const x of this.datagramSeq) n += x;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// 1,000-node cluster: counters only, for memory.

function hostDescr(hostname: string, i: number): CounterRecord {
  const uuid = new Uint8Array(16);
  new DataView(uuid.buffer).setUint32(0, i + 1);
  return { kind: 'host_descr', tag: counterRecordDefs.host_descr.tag, hostname, uuid, machineType: 3, osName: 2, osRelease: '6.1.0-18-amd64' } as CounterRecord;
}

function hostSample(node: number, poll: number): CounterSample {
  const t = poll * 5000;
  const r = (kind: string, f: Record<string, unknown>) => ({ kind, tag: (counterRecordDefs as Record<string, { tag: number }>)[kind]!.tag, ...f }) as CounterRecord;
  return {
    kind: 'counter_sample',
    tag: 4,
    sequence: poll + 1,
    sourceIdClass: 2,
    sourceIdIndex: 1,
    records: [
      hostDescr(`node-${node}`, node),
      r('host_adapters', { adapters: [] }),
      r('host_cpu', { loadOne: 1.5, loadFive: 1.2, loadFifteen: 1, procRun: 2, procTotal: 400, cpuNum: 32, cpuSpeed: 2400, uptime: 86400 + poll * 5, cpuUser: t * 8, cpuNice: 0, cpuSystem: t * 2, cpuIdle: t * 22, cpuWio: 10, cpuIntr: 0, cpuSintr: t, interrupts: t * 100, contexts: t * 300, cpuSteal: 0, cpuGuest: 0, cpuGuestNice: 0 }),
      r('host_memory', { memTotal: 256n << 30n, memFree: 100n << 30n, memShared: 0n, memBuffers: 1n << 30n, memCached: 50n << 30n, swapTotal: 0n, swapFree: 0n, pageIn: t, pageOut: t, swapIn: 0, swapOut: 0 }),
      r('host_disk_io', { diskTotal: 1n << 40n, diskFree: 1n << 39n, partMaxUsed: 5000, reads: t, bytesRead: BigInt(t) * 4096n, readTime: t, writes: t, bytesWritten: BigInt(t) * 4096n, writeTime: t }),
      r('host_net_io', { bytesIn: BigInt(t) * 100000n, pktsIn: t * 100, errsIn: 0, dropsIn: 0, bytesOut: BigInt(t) * 100000n, pktsOut: t * 100, errsOut: 0, dropsOut: 0 }),
      r('virt_node', { mhz: 2400, cpus: 32, memory: 256n << 30n, memoryFree: 100n << 30n, numDomains: 30 }),
    ],
  };
}

function podSample(node: number, pod: number, poll: number): CounterSample {
  const t = poll * 5000;
  const r = (kind: string, f: Record<string, unknown>) => ({ kind, tag: (counterRecordDefs as Record<string, { tag: number }>)[kind]!.tag, ...f }) as CounterRecord;
  const ns = ['default', 'ml-team', 'data', 'frontend', 'kube-system'][pod % 5];
  return {
    kind: 'counter_sample',
    tag: 4,
    sequence: poll + 1,
    sourceIdClass: 3,
    sourceIdIndex: 100_000 + pod,
    records: [
      hostDescr(`k8s__app${pod}-7d9f8c6b5-x${String(node).padStart(4, '0')}_${ns}_u_a`, node * 100 + pod),
      r('host_parent', { containerType: 2, containerIndex: 1 }),
      r('virt_cpu', { state: 1, cpuTime: t / 2, nrVirtCpu: 2 }),
      r('virt_memory', { memory: 512n << 20n, maxMemory: 2n << 30n }),
      r('virt_disk_io', { capacity: 0n, allocation: 0n, available: 0n, rdReq: t, rdBytes: BigInt(t) * 512n, wrReq: t, wrBytes: BigInt(t) * 512n, errs: 0 }),
      r('virt_net_io', { bytesIn: BigInt(t) * 1000n, pktsIn: t, errsIn: 0, dropsIn: 0, bytesOut: BigInt(t) * 1000n, pktsOut: t, errsOut: 0, dropsOut: 0 }),
    ],
  };
}

/** One polling round of the cluster: every node's host and pods, packed ≤ 1,400 bytes per datagram. */
export function clusterPoll(nodes: number, podsPerNode: number, poll: number, datagramSeq: Uint32Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < nodes; n++) {
    const samples: Sample[] = [hostSample(n, poll)];
    for (let p = 0; p < podsPerNode; p++) samples.push(podSample(n, p, poll));
    let batch: Sample[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      out.push(encodeDatagram({ version: 5, agentAddress: agentAddress(n), agentAddressType: 1, subAgentId: 100000, sequence: ++datagramSeq[n]!, uptime: poll * 5000, samples: batch }));
      batch = [];
    };
    for (const s of samples) {
      batch.push(s);
      // host ≈ 560 bytes, pod ≈ 430: pack 3 per datagram like hsflowd's 1,400-byte datagrams.
      if (batch.length === 3) flush();
    }
    flush();
  }
  return out;
}
