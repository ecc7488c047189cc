// A generated, deterministic sFlow workload shaped like a busy cluster: many agents, ~1,300-byte
// datagrams each holding 5-7 flow samples of 128-byte Ethernet/IPv4/TCP headers, plus counters.

import { encodeDatagram } from '../src/sflow/encode.js';
import { counterRecordDefs, flowRecordDefs } from '../src/sflow/index.js';
import type { CounterSample, FlowSample, Sample } from '../src/sflow/types.js';

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

function tcpHeader(rand: () => number): Uint8Array {
  const h = new Uint8Array(128);
  const v = new DataView(h.buffer);
  for (let i = 0; i < 12; i++) h[i] = (rand() * 256) | 0; // dst/src MAC
  v.setUint16(12, 0x0800);
  h[14] = 0x45;
  v.setUint16(16, 1500 - 14);
  h[22] = 64;
  h[23] = 6;
  v.setUint32(26, 0x0a000000 | ((rand() * 65536) | 0));
  v.setUint32(30, 0x0a000000 | ((rand() * 65536) | 0));
  v.setUint16(34, 1024 + ((rand() * 60000) | 0));
  v.setUint16(36, [80, 443, 6443, 2379, 9100][(rand() * 5) | 0]!);
  h[46] = 0x50;
  h[47] = 0x18;
  for (let i = 54; i < 128; i++) h[i] = (rand() * 256) | 0;
  return h;
}

function flowSample(rand: () => number, seq: number): FlowSample {
  return {
    kind: 'flow_sample',
    tag: 3,
    sequence: seq,
    sourceIdClass: 0,
    sourceIdIndex: 2 + ((rand() * 4) | 0),
    samplingRate: 1000,
    samplePool: seq * 1000,
    drops: 0,
    inputFormat: 0,
    input: 2,
    outputFormat: 0,
    output: 0x3fffffff,
    records: [
      { kind: 'extended_timestamp', tag: flowRecordDefs.extended_timestamp.tag, nanoseconds: 1795798654929307000n + BigInt(seq) },
      {
        kind: 'sampled_header',
        tag: flowRecordDefs.sampled_header.tag,
        headerProtocol: 1,
        frameLength: 1518,
        stripped: 4,
        header: tcpHeader(rand),
      },
    ],
  };
}

function ifCounterSample(seq: number, ifIndex: number): CounterSample {
  return {
    kind: 'counter_sample',
    tag: 4,
    sequence: seq,
    sourceIdClass: 0,
    sourceIdIndex: ifIndex,
    records: [
      { kind: 'port_name', tag: counterRecordDefs.port_name.tag, name: `eth${ifIndex}` },
      {
        kind: 'if_counters',
        tag: counterRecordDefs.if_counters.tag,
        ifIndex,
        ifType: 6,
        ifSpeed: 100_000_000_000n,
        ifDirection: 1,
        ifStatus: 3,
        ifInOctets: BigInt(seq) * 123456789n,
        ifInUcastPkts: seq * 1000,
        ifInMulticastPkts: 0,
        ifInBroadcastPkts: 0,
        ifInDiscards: 0,
        ifInErrors: 0,
        ifInUnknownProtos: 0,
        ifOutOctets: BigInt(seq) * 98765432n,
        ifOutUcastPkts: seq * 900,
        ifOutMulticastPkts: 0,
        ifOutBroadcastPkts: 0,
        ifOutDiscards: 0,
        ifOutErrors: 0,
        ifPromiscuousMode: 0,
      },
    ],
  };
}

export interface Workload {
  datagrams: Uint8Array[];
  bytes: number;
  flowSamples: number;
  samples: number;
}

/** `count` datagrams from `agents` agents; every 10th datagram carries a counter sample too. */
export function generateWorkload(count: number, agents = 500, seed = 42): Workload {
  const rand = rng(seed);
  const datagrams: Uint8Array[] = [];
  const seqs = new Uint32Array(agents);
  let bytes = 0;
  let flowSamples = 0;
  let samples = 0;
  for (let i = 0; i < count; i++) {
    const a = i % agents;
    const n = 5 + ((rand() * 3) | 0); // 5-7 flow samples
    const list: Sample[] = [];
    for (let k = 0; k < n; k++) list.push(flowSample(rand, i * 8 + k));
    if (i % 10 === 0) list.push(ifCounterSample(i, 2 + (i % 4)));
    const d = encodeDatagram({
      version: 5,
      agentAddress: `10.1.${(a >> 8) & 255}.${a & 255}`,
      agentAddressType: 1,
      subAgentId: 100000,
      sequence: ++seqs[a]!,
      uptime: i * 10,
      samples: list,
    });
    datagrams.push(d);
    bytes += d.length;
    flowSamples += n;
    samples += list.length;
  }
  return { datagrams, bytes, flowSamples, samples };
}
