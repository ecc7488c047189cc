// One simulated Host sFlow agent (hsflowd) on one node: the node's and its pods' resource
// counters, interface counters, the packet sampler on eth0, the drop monitor, and the sFlow
// receiver that packs samples into datagrams.
//
// What it sends follows hsflowd 2.x (see ../shared/reference/sflow-structures.md §8 and the
// captures in ../shared/testdata/captures/hsflowd/):
// - expanded samples only (0:3 flow, 0:4 counters), 0:5 discards; sub-agent 100000;
// - the node: data source 2:1, records in hsflowd's wire order (its element lists are
//   push-front, so modules that annotate last come first): [5703:1 NVML], [2100 virt_node],
//   2001, 2010, 2009, 2008, 2007, 2005, 2004, 2003 (80-byte form), 2006, 2000;
// - each interface (lo, eth0, tunl0, the Calico veths): 0:ifIndex with 1005 port_name, 0:1;
// - each pod (mod_k8s): 3:dsIndex with [5703:1], 2001, 2103, 2102, 2101, 2104, 2002 → 2:1, 2000
//   named k8s__<pod>_<namespace>_u_a;
// - flow samples on eth0 (0:2): [2210 extended_entities], 1043 timestamp, 0:1 sampled header
//   (Ethernet, 4 bytes FCS stripped, 128 bytes), 1-in-N with hsflowd's random skip;
// - drop monitor: 0:5 on data source 0:0, records 1043, 1042 (Linux reason), 1038 (kernel
//   function), 0:1 header; rate-limited (100/s, quota refreshed every 100 ms), losses in `drops`;
// - datagrams of at most 1400 bytes, flushed when full and on every one-second tick.
//
// Flow samples are written straight into the datagram buffer (the hot path: no objects);
// counter and discard samples are built as the decoder's record objects and encoded with the
// project's encoder (src/sflow/encode.ts). The tests check that decode → encode of every
// datagram reproduces its bytes, so both paths agree to the byte.

import { counterRecordDefs as C } from '../sflow/counter-records.js';
import { SAMPLE_TAGS } from '../sflow/decode.js';
import { encodeDatagram } from '../sflow/encode.js';
import { flowRecordDefs as F } from '../sflow/flow-records.js';
import type { CounterRecord, CounterSample, DiscardSample, FlowRecord } from '../sflow/types.js';
import { XdrWriter } from '../sflow/xdr.js';
import { macToString, patchFrameInPlace, type FrameTemplate } from './packets.js';
import type { Rng } from './rng.js';
import type { SimGpu, SimNode, SimPod } from './topology.js';
import { mix32, vnoise, type DropSource, type Stream } from './traffic.js';

export type AgentStyle = 'hsflowd' | 'switch';

export interface AgentConfig {
  samplingRate: number;
  pollingInterval: number;
  maxDatagramSize: number;
  headerBytes: number;
  style: AgentStyle;
  /** hsflowd k8s { markTraffic = on }: extended_entities (2210) in flow samples. */
  markTraffic: boolean;
  /** mod_dropmon limit: discard notifications per second. */
  dropLimit: number;
  /** Pod virt_net_io: 'zero' as mod_k8s sends it today, or 'traffic' (the pod's veth counters). */
  podNetIo: 'zero' | 'traffic';
  subAgentId: number;
}

/** What one datagram holds. */
export interface DatagramContents {
  flow: number;
  counter: number;
  discard: number;
  /** Sum of the flow samples' sampled_header.frame_length. */
  frameBytes: number;
}

/** Sink for finished datagrams (`contents` is reused: copy what you keep). */
export type DatagramSink = (timeMs: number, agent: HostAgent, bytes: Uint8Array, contents: DatagramContents) => void;

const U32 = 4294967296;
const INTERNAL = 0x3fffffff;
const ETH0 = 2;
const TUNL0 = 3;
const LO = 1;
const GIB = 1073741824;

const TAG_FLOW = SAMPLE_TAGS.flowSampleExpanded;
const TAG_HEADER = F.sampled_header.tag;
const TAG_TS = F.extended_timestamp.tag;
const TAG_ENTITIES = F.extended_entities.tag;
const TAG_SWITCH = F.extended_switch.tag;

/** Interface counters, as running totals (doubles; wrapped to the field width when encoded). */
export class IfCounters {
  inOctets = 0;
  inPkts = 0;
  outOctets = 0;
  outPkts = 0;
  inDiscards = 0;
  outDiscards = 0;
  inErrors = 0;
  /** current rates (per second), set by the simulator */
  inPps = 0;
  inBps = 0;
  outPps = 0;
  outBps = 0;
  integrate(dt: number): void {
    this.inPkts += this.inPps * dt;
    this.inOctets += this.inBps * dt;
    this.outPkts += this.outPps * dt;
    this.outOctets += this.outBps * dt;
  }
  resetRates(): void {
    this.inPps = this.inBps = this.outPps = this.outBps = 0;
  }
}

interface GpuState {
  gpu: SimGpu;
  util: number;
  memUtil: number;
  memUsed: number;
  powerMw: number;
  temp: number;
  gpuTime: number;
  memTime: number;
  energy: number;
  ecc: number;
}

interface PodState {
  pod: SimPod;
  cpuTimeMs: number;
  cpuNow: number;
  mem: number;
  rdReq: number;
  rdBytes: number;
  wrReq: number;
  wrBytes: number;
  /** Pod-side traffic (what the pod sent / received), also its veth's counters reversed. */
  net: IfCounters;
  gpus: GpuState[];
  seq: number;
  vethSeq: number;
  offset: number;
}

interface Poller {
  kind: 'host' | 'if' | 'pod';
  ifIndex: number;
  name: string;
  counters: IfCounters | null;
  pod: PodState | null;
  seq: number;
  offset: number;
}

function u32(x: number): number {
  return x >= 0 && x < U32 ? Math.floor(x) : ((Math.floor(x) % U32) + U32) % U32;
}

function u64(x: number): bigint {
  return BigInt(Math.max(0, Math.floor(x)));
}

function rec<K extends keyof typeof C>(kind: K, fields: Record<string, unknown>): CounterRecord {
  return { kind, tag: C[kind].tag, ...fields } as unknown as CounterRecord;
}

export class HostAgent {
  readonly node: SimNode;
  readonly index: number;
  readonly address: string;
  readonly addressNum: number;
  /** UDP source port hsflowd sends from. */
  readonly srcPort: number;
  readonly cfg: AgentConfig;
  /** Offset of this agent's one-second tick within each second, ms. */
  readonly tickPhase: number;
  /** Simulation-absolute time (ms) the node booted. */
  readonly bootMs: number;

  // --- the sFlow receiver: one datagram being filled ---
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  private nSamples = 0;
  private readonly contents: DatagramContents = { flow: 0, counter: 0, discard: 0, frameBytes: 0 };
  private dgSeq: number;
  private readonly maxLen: number;

  // --- packet sampler on eth0 ---
  flowSeq: number;
  samplePool: number;
  skip: number;
  /** Packets not yet counted (fractions carried between slices). */
  pktFrac = 0;
  /** Streams crossing eth0: stream index, direction (0 egress, 1 ingress), cumulative pps. */
  cross: Stream[] = [];
  crossDir: Uint8Array = new Uint8Array(0);
  cdf: Float64Array = new Float64Array(0);
  totalPps = 0;

  // --- drop monitor ---
  dropSources: DropSource[] = [];
  dropCdf: Float64Array = new Float64Array(0);
  dropRate = 0;
  discardSeq: number;
  noQuota = 0;

  // --- counters ---
  readonly eth0 = new IfCounters();
  readonly tunl0 = new IfCounters();
  readonly lo = new IfCounters();
  readonly pods: PodState[] = [];
  readonly podByDs = new Map<number, PodState>();
  private readonly gpus: GpuState[] = [];
  private readonly pollers: Poller[] = [];
  private readonly rng: Rng;
  private hostSeq: number;
  private hostOffset: number;
  // host resource counters (cumulative ms / counts)
  private cpu = { user: 0, nice: 0, system: 0, idle: 0, wio: 0, intr: 0, sintr: 0, steal: 0, interrupts: 0, contexts: 0 };
  private load = [0, 0, 0];
  private busyCores = 0;
  private memUsed = 0;
  private memCached = 0;
  private memBuffers = 0;
  private pageIn = 0;
  private pageOut = 0;
  private disk = { reads: 0, bytesRead: 0, readTime: 0, writes: 0, bytesWritten: 0, writeTime: 0, used: 0 };
  private mib = { ipIn: 0, ipForw: 0, ipOut: 0, ipDeliver: 0, tcpIn: 0, tcpOut: 0, tcpRetrans: 0, tcpActive: 0, tcpPassive: 0, tcpEstab: 0, tcpRst: 0, udpIn: 0, udpOut: 0, udpNoPorts: 0, icmpIn: 0, icmpOut: 0, icmpInEcho: 0, icmpOutEchoRep: 0 };
  private readonly writer = new XdrWriter(2048);

  constructor(node: SimNode, cfg: AgentConfig, rng: Rng) {
    this.node = node;
    this.index = node.index;
    this.address = node.ip;
    this.addressNum = node.ipNum;
    this.cfg = cfg;
    this.rng = rng;
    this.srcPort = 32768 + (mix32(node.ipNum, 17) % 28000);
    this.tickPhase = rng.int(1000);
    this.bootMs = -node.uptimeAtStart * 1000;
    this.maxLen = cfg.maxDatagramSize;
    this.buf = new Uint8Array(Math.max(2048, cfg.maxDatagramSize + 512));
    this.view = new DataView(this.buf.buffer);
    const upSec = node.uptimeAtStart;
    // long-running agent: sequence numbers far from zero
    this.dgSeq = 1 + Math.floor(upSec * rng.between(2, 6)) % 1e9;
    this.flowSeq = 1 + Math.floor(upSec * rng.between(5, 50)) % 1e9;
    this.samplePool = this.flowSeq * cfg.samplingRate;
    this.skip = this.nextSkip();
    this.discardSeq = 1 + Math.floor(upSec * rng.between(0.1, 3)) % 1e9;
    this.hostSeq = 1 + Math.floor(upSec / cfg.pollingInterval);
    this.hostOffset = rng.int(cfg.pollingInterval);

    // resource state at start: the node has been up for a while
    for (const g of node.gpus) {
      this.gpus.push({ gpu: g, util: 0, memUtil: 0, memUsed: 0, powerMw: g.model.idleWatts * 1000, temp: 32, gpuTime: rng.u32(), memTime: rng.u32(), energy: rng.u32(), ecc: g.flaky ? rng.int(4) : 0 });
    }
    for (const pod of node.pods) {
      const ps: PodState = {
        pod,
        cpuTimeMs: rng.between(0.2, 1) * pod.cpuLimit * pod.cpuBusy * Math.min(upSec, 86400 * 20) * 1000,
        cpuNow: 0,
        mem: pod.memBase,
        rdReq: rng.int(1e6),
        rdBytes: rng.int(1e6) * 4096,
        wrReq: rng.int(1e6),
        wrBytes: rng.int(1e6) * 4096,
        net: new IfCounters(),
        gpus: this.gpus.filter((gs) => gs.gpu.owner === pod),
        seq: 1 + rng.int(20000),
        vethSeq: 1 + rng.int(20000),
        offset: rng.int(cfg.pollingInterval),
      };
      this.pods.push(ps);
      this.podByDs.set(pod.dsIndex, ps);
    }
    const k = cfg.style === 'hsflowd';
    this.pollers.push({ kind: 'if', ifIndex: ETH0, name: 'eth0', counters: this.eth0, pod: null, seq: this.hostSeq, offset: rng.int(cfg.pollingInterval) });
    if (k) {
      this.pollers.push({ kind: 'host', ifIndex: 0, name: '', counters: null, pod: null, seq: this.hostSeq, offset: this.hostOffset });
      this.pollers.push({ kind: 'if', ifIndex: LO, name: 'lo', counters: this.lo, pod: null, seq: this.hostSeq, offset: rng.int(cfg.pollingInterval) });
      this.pollers.push({ kind: 'if', ifIndex: TUNL0, name: 'tunl0', counters: this.tunl0, pod: null, seq: this.hostSeq, offset: rng.int(cfg.pollingInterval) });
      for (const ps of this.pods) {
        this.pollers.push({ kind: 'pod', ifIndex: 0, name: ps.pod.hostname, counters: null, pod: ps, seq: ps.seq, offset: ps.offset });
        if (!ps.pod.hostNetwork) {
          // with mod_k8s the host side of the pod's veth carries the pod name as its alias
          this.pollers.push({ kind: 'if', ifIndex: ps.pod.vethIfIndex, name: ps.pod.name, counters: ps.net, pod: ps, seq: ps.vethSeq, offset: rng.int(cfg.pollingInterval) });
        }
      }
    }
    this.resetDatagram();
  }

  /** hsflowd's skip: uniform in [1, 2N-1]. */
  nextSkip(): number {
    const n = this.cfg.samplingRate;
    return n <= 1 ? 1 : 1 + this.rng.int(2 * n - 1);
  }

  /** sysUpTime at simulation time t (ms since the simulation's epoch). */
  uptimeAt(t: number): number {
    return u32(t - this.bootMs);
  }

  // -------------------------------------------------------------------------------------
  // Datagram assembly

  private resetDatagram(): void {
    const v = this.view;
    v.setUint32(0, 5);
    v.setUint32(4, 1);
    v.setUint32(8, this.addressNum);
    v.setUint32(12, this.cfg.subAgentId);
    // 16: sequence, 20: uptime, 24: sample count — filled when sent
    this.pos = 28;
    this.nSamples = 0;
    this.contents.flow = this.contents.counter = this.contents.discard = this.contents.frameBytes = 0;
  }

  /** Send what is pending (hsflowd: on every tick, and when the next sample does not fit). */
  flush(simMs: number, epochMs: number, sink: DatagramSink): void {
    if (this.nSamples === 0) return;
    const v = this.view;
    v.setUint32(16, this.dgSeq);
    v.setUint32(20, this.uptimeAt(simMs));
    v.setUint32(24, this.nSamples);
    this.dgSeq = (this.dgSeq + 1) >>> 0;
    sink(epochMs + simMs, this, copyOut(this.buf, this.pos), this.contents);
    this.resetDatagram();
  }

  private room(len: number, simMs: number, epochMs: number, sink: DatagramSink): void {
    if (this.pos + len > this.maxLen) this.flush(simMs, epochMs, sink);
  }

  private appendBytes(b: Uint8Array, simMs: number, epochMs: number, sink: DatagramSink): void {
    this.room(b.length, simMs, epochMs, sink);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    this.nSamples++;
  }

  /** Encoded size of a flow sample for this stream in this direction (for rate planning). */
  flowSampleSize(s: Stream, dir: number): number {
    const t = dir === 0 ? s.egress! : s.ingress!;
    const h = Math.min(t.bytes.length, this.cfg.headerBytes);
    let n = 8 + 44 + 8 + 16 + ((h + 3) & ~3);
    if (this.cfg.style === 'switch') return n + 8 + 16;
    n += 8 + 8;
    if (this.cfg.markTraffic && this.entities(s, dir) !== 0) n += 8 + 16;
    return n;
  }

  /** Which of the stream's ends are pods on this node: bit 0 source, bit 1 destination. */
  private entities(s: Stream, dir: number): number {
    let m = 0;
    if (dir === 0 && s.srcPod && !s.srcPod.hostNetwork && s.srcPod.node === this.node) m |= 1;
    if (dir === 1 && s.dstPod && !s.dstPod.hostNetwork && s.dstPod.node === this.node) m |= 2;
    return m;
  }

  /**
   * The flow sample for stream `s` in direction `dir` as bytes, with the per-packet fields
   * (sequence number, sample pool, timestamp, IP ids...) still to be filled in. Built once
   * per stream and direction and kept on the stream.
   */
  private sampleTemplate(s: Stream, dir: number): Uint8Array {
    const cached = dir === 0 ? s.sampleTpl0 : s.sampleTpl1;
    if (cached !== null) return cached;
    const t: FrameTemplate = dir === 0 ? s.egress! : s.ingress!;
    const hlen = t.bytes.length;
    const hpad = (hlen + 3) & ~3;
    const sw = this.cfg.style === 'switch';
    const ent = sw || !this.cfg.markTraffic ? 0 : this.entities(s, dir);
    const nrec = sw ? 2 : ent !== 0 ? 3 : 2;
    const len = 8 + 44 + (ent !== 0 ? 24 : 0) + (sw ? 24 : 16) + 8 + 16 + hpad;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, TAG_FLOW);
    v.setUint32(4, len - 8);
    // 8: sequence number
    v.setUint32(12, 0);
    v.setUint32(16, ETH0);
    v.setUint32(20, this.cfg.samplingRate);
    // 24: sample pool
    v.setUint32(28, 0);
    v.setUint32(32, 0);
    v.setUint32(36, dir === 0 ? INTERNAL : ETH0);
    v.setUint32(40, 0);
    v.setUint32(44, dir === 0 ? ETH0 : INTERNAL);
    v.setUint32(48, nrec);
    let p = 52;
    if (ent !== 0) {
      v.setUint32(p, TAG_ENTITIES);
      v.setUint32(p + 4, 16);
      v.setUint32(p + 8, ent & 1 ? 3 : 0);
      v.setUint32(p + 12, ent & 1 ? s.srcPod!.dsIndex : 0);
      v.setUint32(p + 16, ent & 2 ? 3 : 0);
      v.setUint32(p + 20, ent & 2 ? s.dstPod!.dsIndex : 0);
      p += 24;
    }
    if (!sw) {
      v.setUint32(p, TAG_TS);
      v.setUint32(p + 4, 8);
      // p + 8: timestamp (u64 ns)
      p += 16;
    }
    v.setUint32(p, TAG_HEADER);
    v.setUint32(p + 4, 16 + hpad);
    v.setUint32(p + 8, 1);
    v.setUint32(p + 12, t.frameLength);
    v.setUint32(p + 16, 4);
    v.setUint32(p + 20, hlen);
    p += 24;
    b.set(t.bytes, p);
    p += hpad;
    if (sw) {
      v.setUint32(p, TAG_SWITCH);
      v.setUint32(p + 4, 16);
      v.setUint32(p + 8, 100);
      v.setUint32(p + 12, 0);
      v.setUint32(p + 16, 100);
      v.setUint32(p + 20, 0);
    }
    if (dir === 0) s.sampleTpl0 = b;
    else s.sampleTpl1 = b;
    s.hdrOff[dir] = len - (sw ? 24 : 0) - hpad;
    return b;
  }

  /**
   * Write one flow sample for a packet of stream `s` crossing eth0 (`dir` 0 out, 1 in) at
   * simulation time `simMs` (fractional ms). The hot path of the simulator.
   */
  writeFlowSample(s: Stream, dir: number, simMs: number, epochMs: number, pool: number, sink: DatagramSink): void {
    const tpl = this.sampleTemplate(s, dir);
    const len = tpl.length;
    if (this.pos + len > this.maxLen) this.flush(simMs, epochMs, sink);
    const at = this.pos;
    const v = this.view;
    this.buf.set(tpl, at);
    v.setUint32(at + 8, this.flowSeq);
    v.setUint32(at + 24, pool >= U32 ? pool % U32 : pool);
    const hdr = at + s.hdrOff[dir]!;
    if (this.cfg.style !== 'switch') writeU64Micros(v, hdr - 32, Math.round((epochMs + simMs) * 1000));
    this.flowSeq = (this.flowSeq + 1) >>> 0;
    // vary the packet: IP ids and TCP sequence advance with the packets between samples
    const n = this.cfg.samplingRate;
    s.ipId = (s.ipId + 1 + (mix32(s.seed, this.flowSeq) % (2 * n))) & 0xffff;
    s.tcpSeq = (s.tcpSeq + s.seqStep * n) >>> 0;
    s.dnsId = (s.dnsId * 1103515245 + 12345) & 0xffff;
    const frame = dir === 0 ? s.egress! : s.ingress!;
    patchFrameInPlace(this.buf, hdr, frame, s.ipId, s.tcpSeq, s.dnsId);
    this.pos = at + len;
    this.nSamples++;
    this.contents.flow++;
    this.contents.frameBytes += frame.frameLength;
  }

  // -------------------------------------------------------------------------------------
  // Drops

  writeDiscard(src: DropSource, simMs: number, epochMs: number, sink: DatagramSink): void {
    const t = src.template;
    // drop_monitor hands hsflowd the frame without FCS; hsflowd reports that length and "4 stripped"
    const frame = t.frameLength - 4;
    const header = t.bytes.subarray(0, Math.min(t.bytes.length, this.cfg.headerBytes));
    const records: FlowRecord[] = [
      { kind: 'extended_timestamp', tag: TAG_TS, nanoseconds: BigInt(Math.round((epochMs + simMs) * 1000)) * 1000n },
      { kind: 'extended_linux_drop_reason', tag: F.extended_linux_drop_reason.tag, reason: src.reason },
      { kind: 'extended_function', tag: F.extended_function.tag, symbol: src.fn },
      { kind: 'sampled_header', tag: TAG_HEADER, headerProtocol: 1, frameLength: frame, stripped: 4, header },
    ];
    const sample: DiscardSample = {
      kind: 'discard_sample',
      tag: SAMPLE_TAGS.discardedPacket,
      sequence: this.discardSeq,
      sourceIdClass: 0,
      sourceIdIndex: 0,
      drops: u32(this.noQuota),
      input: src.input,
      output: 0,
      reason: src.code,
      records,
    };
    this.discardSeq = (this.discardSeq + 1) >>> 0;
    this.appendBytes(this.encodeSample(sample), simMs, epochMs, sink);
    this.contents.discard++;
  }

  /** One sample encoded by the project's encoder (a one-sample datagram minus its 28-byte header). */
  encodeSample(sample: CounterSample | DiscardSample): Uint8Array {
    this.writer.pos = 0;
    const bytes = encodeDatagram({ version: 5, agentAddress: this.address, agentAddressType: 1, subAgentId: 0, sequence: 0, uptime: 0, samples: [sample] }, this.writer);
    return bytes.subarray(28);
  }

  // -------------------------------------------------------------------------------------
  // Once a second: resources move, GPUs tick (as mod_nvml's accumulators do), counters integrate

  /** Advance resource state by one second ending at simulation time t (s). */
  secondTick(t: number): void {
    const node = this.node;
    // GPUs
    for (const g of this.gpus) {
      const owner = g.gpu.owner;
      const seed = mix32(node.ipNum, g.gpu.index + 101);
      if (owner === null) {
        g.util = 0;
        g.memUtil = 0;
        g.memUsed = 0;
      } else if (owner.role === 'trainer') {
        const evalPause = (t + (owner.seed % 1800)) % 1800 < 90;
        g.util = evalPause ? 28 + 20 * vnoise(seed, t / 5) : 92 + 8 * vnoise(seed, t / 3);
        g.memUtil = evalPause ? 10 : 38 + 25 * vnoise(seed + 1, t / 4);
        g.memUsed = g.gpu.model.memBytes * (0.82 + 0.1 * vnoise(seed + 2, t / 600));
      } else if (owner.role === 'gpu-job') {
        g.util = 55 + 45 * vnoise(seed, t / 8);
        g.memUtil = 20 + 40 * vnoise(seed + 1, t / 8);
        g.memUsed = g.gpu.model.memBytes * (0.4 + 0.4 * vnoise(seed + 2, t / 300));
      } else {
        // interactive notebook: mostly idle, bursts of work
        const burst = vnoise(seed, t / 40);
        g.util = burst > 0.7 ? 60 + 40 * vnoise(seed + 3, t / 2) : 0;
        g.memUtil = burst > 0.7 ? 25 : 0;
        g.memUsed = g.gpu.model.memBytes * (0.15 + 0.2 * vnoise(seed + 2, t / 900));
      }
      g.util = Math.min(100, Math.max(0, Math.round(g.util)));
      g.memUtil = Math.min(100, Math.max(0, Math.round(g.memUtil)));
      const m = g.gpu.model;
      const watts = m.idleWatts + ((m.busyWatts - m.idleWatts) * g.util) / 100 + 8 * (vnoise(seed + 4, t / 2) - 0.5);
      g.powerMw = Math.round(watts * 1000);
      const target = 31 + (g.util / 100) * 45;
      g.temp += (target - g.temp) * 0.08;
      g.gpuTime = (g.gpuTime + g.util * 10) % U32;
      g.memTime = (g.memTime + g.memUtil * 10) % U32;
      g.energy = (g.energy + g.powerMw) % U32;
      if (g.gpu.flaky && mix32(seed, Math.floor(t)) % 3600 === 0) g.ecc++;
    }
    // pods
    let busy = 0.6 + node.cpus * 0.004;
    let mem = 3 * GIB + node.memBytes * 0.01;
    for (const ps of this.pods) {
      const p = ps.pod;
      let frac: number;
      switch (p.role) {
        case 'batch':
        case 'mpi':
          frac = p.cpuBusy * (0.88 + 0.12 * vnoise(p.seed, t / 10));
          break;
        case 'notebook':
          frac = vnoise(p.seed, t / 60) > 0.65 ? 0.2 + 0.7 * vnoise(p.seed + 1, t / 4) : 0.01;
          break;
        case 'haproxy':
        case 'grafana':
        case 'mlflow':
        case 'tensorboard':
          frac = p.cpuBusy * (0.45 + 0.55 * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 3600 + (p.seed % 7)))) * (0.8 + 0.4 * vnoise(p.seed, t / 15));
          break;
        default:
          frac = p.cpuBusy * (0.6 + 0.8 * vnoise(p.seed, t / 30));
      }
      ps.cpuNow = Math.min(p.cpuLimit, p.cpuLimit * frac);
      ps.cpuTimeMs += ps.cpuNow * 1000;
      ps.mem = Math.min(p.memLimit, p.memBase * (0.85 + 0.3 * vnoise(p.seed + 9, t / 120)));
      const io = p.role === 'batch' || p.role === 'minio' || p.role === 'postgres' || p.role === 'prometheus' ? 1 : 0.02;
      const w = io * (40 + 200 * vnoise(p.seed + 5, t / 20));
      ps.wrReq += w;
      ps.wrBytes += w * 65536;
      ps.rdReq += w * 0.4;
      ps.rdBytes += w * 0.4 * 131072;
      busy += ps.cpuNow;
      mem += ps.mem;
    }
    // softirq work for the packets the node handles
    const pps = this.eth0.inPps + this.eth0.outPps;
    const sirq = Math.min(node.cpus * 0.1, pps / 400000);
    busy = Math.min(node.cpus, busy + sirq);
    this.busyCores = busy;
    const idle = Math.max(0, node.cpus - busy);
    const c = this.cpu;
    c.user += (busy - sirq) * 870;
    c.system += (busy - sirq) * 110;
    c.sintr += sirq * 1000;
    c.intr += 2 + pps / 50000;
    c.wio += 20 * vnoise(node.ipNum, t / 10);
    c.idle += idle * 1000;
    c.interrupts += 4000 + node.cpus * 250 + pps * 0.6;
    c.contexts += 9000 + busy * 2600 + pps * 0.3;
    const running = busy + 0.3;
    const dec = [Math.exp(-1 / 60), Math.exp(-1 / 300), Math.exp(-1 / 900)];
    for (let i = 0; i < 3; i++) this.load[i] = this.load[i]! * dec[i]! + running * (1 - dec[i]!);
    this.memUsed = Math.min(node.memBytes * 0.97, mem);
    const rest = node.memBytes - this.memUsed;
    this.memCached = rest * (0.35 + 0.2 * vnoise(node.ipNum + 1, t / 900));
    this.memBuffers = Math.min(2 * GIB, rest * 0.01);
    const dio = 20 + 400 * vnoise(node.ipNum + 2, t / 25);
    const d = this.disk;
    d.reads += dio * 0.4;
    d.bytesRead += dio * 0.4 * 98304;
    d.readTime += dio * 0.4 * 0.15;
    d.writes += dio;
    d.bytesWritten += dio * 49152;
    d.writeTime += dio * 0.6;
    this.pageIn += (dio * 0.4 * 98304) / 1024;
    this.pageOut += (dio * 49152) / 1024;
    // counters: integrate the rates set for the second that just ended
    this.eth0.integrate(1);
    this.tunl0.integrate(1);
    this.lo.integrate(1);
    for (const ps of this.pods) ps.net.integrate(1);
    this.lo.inPps = this.lo.outPps = 40 + busy * 8;
    this.lo.inBps = this.lo.outBps = this.lo.inPps * 420;
    const m = this.mib;
    const e = this.eth0;
    m.ipIn += e.inPps;
    m.ipForw += e.inPps * 0.8;
    m.ipDeliver += e.inPps * 0.2 + this.lo.inPps;
    m.ipOut += e.outPps * 0.2 + this.lo.outPps;
    m.tcpIn += e.inPps * 0.15 + this.lo.inPps;
    m.tcpOut += e.outPps * 0.15 + this.lo.outPps;
    m.tcpRetrans += e.outPps * 0.0004;
    m.tcpActive += 0.8;
    m.tcpPassive += 0.6;
    m.tcpRst += 0.05;
    m.tcpEstab = 60 + Math.round(this.pods.length * 6 + 20 * vnoise(node.ipNum + 3, t / 60));
    m.udpIn += 3 + e.inPps * 0.01;
    m.udpOut += 3 + e.outPps * 0.01;
    m.udpNoPorts += 0.1;
    m.icmpIn += 0.4;
    m.icmpOut += 0.4;
    m.icmpInEcho += 0.2;
    m.icmpOutEchoRep += 0.2;
  }

  /** Give the counters the history of a node that has been up for a while. */
  warmCounters(): void {
    const up = Math.min(this.node.uptimeAtStart, 30 * 86400);
    const f = up * this.rng.between(0.5, 1.1);
    for (const ifc of [this.eth0, this.tunl0, this.lo, ...this.pods.map((p) => p.net)]) {
      ifc.inPkts = ifc.inPps * f;
      ifc.inOctets = ifc.inBps * f;
      ifc.outPkts = ifc.outPps * f;
      ifc.outOctets = ifc.outBps * f;
      ifc.inDiscards = Math.floor(ifc.inPps * f * 1e-7);
    }
    const c = this.cpu;
    const busy = this.node.cpus * 0.3;
    c.user = busy * 870 * up;
    c.system = busy * 110 * up;
    c.idle = (this.node.cpus - busy) * 1000 * up;
    c.sintr = 5 * up;
    c.intr = up;
    c.wio = 10 * up;
    c.interrupts = (4000 + this.node.cpus * 250) * up;
    c.contexts = 20000 * up;
    this.load = [busy, busy, busy];
    const m = this.mib;
    for (const k of Object.keys(m) as (keyof typeof m)[]) if (k !== 'tcpEstab') m[k] = m[k] * up + this.rng.int(100000);
    const d = this.disk;
    d.reads = 200 * up;
    d.bytesRead = 200 * up * 98304;
    d.writes = 400 * up;
    d.bytesWritten = 400 * up * 49152;
    d.readTime = 30 * up;
    d.writeTime = 240 * up;
    d.used = this.node.diskBytes * this.rng.between(0.2, 0.7);
  }

  // -------------------------------------------------------------------------------------
  // Counter polling at the agent's one-second tick

  /** Poll whatever is due at tick number `second` and queue the samples. */
  pollCounters(second: number, simMs: number, epochMs: number, sink: DatagramSink): number {
    const interval = this.cfg.pollingInterval;
    let n = 0;
    for (const p of this.pollers) {
      if ((second - p.offset) % interval !== 0) continue;
      const sample = this.counterSample(p, simMs);
      this.appendBytes(this.encodeSample(sample), simMs, epochMs, sink);
      this.contents.counter++;
      n++;
    }
    return n;
  }

  /** Every counter sample this agent sends, in polling order (tests and rate planning). */
  allCounterSamples(simMs = 0): CounterSample[] {
    return this.pollers.map((p) => this.counterSample(p, simMs, false));
  }

  private counterSample(p: Poller, simMs: number, advance = true): CounterSample {
    let records: CounterRecord[];
    let cls = 0;
    let idx = p.ifIndex;
    const seq = p.seq;
    if (advance) p.seq = (p.seq + 1) >>> 0;
    if (p.kind === 'host') {
      cls = 2;
      idx = 1;
      records = this.hostRecords(simMs);
    } else if (p.kind === 'pod') {
      cls = 3;
      idx = p.pod!.pod.dsIndex;
      records = this.podRecords(p.pod!);
    } else {
      records = this.ifRecords(p);
    }
    return { kind: 'counter_sample', tag: SAMPLE_TAGS.counterSampleExpanded, sequence: seq, sourceIdClass: cls, sourceIdIndex: idx, records };
  }

  private ifRecords(p: Poller): CounterRecord[] {
    const c = p.counters!;
    // a veth's counters are the pod's, seen from the host side: what the pod sends comes in
    const veth = p.pod !== null;
    const inO = veth ? c.outOctets : c.inOctets;
    const inP = veth ? c.outPkts : c.inPkts;
    const outO = veth ? c.inOctets : c.outOctets;
    const outP = veth ? c.inPkts : c.outPkts;
    // hsflowd reports every interface as ethernetCsmacd (6); lo and tunl0 have no speed, veths 10G
    const speed = p.ifIndex === ETH0 ? this.node.ifSpeed : p.ifIndex === LO || p.ifIndex === TUNL0 ? 0 : 10e9;
    const ifType = 6;
    const unknown = 0xffffffff;
    const sw = this.cfg.style === 'switch';
    const ifc = rec('if_counters', {
      ifIndex: p.ifIndex,
      ifType,
      ifSpeed: u64(speed),
      ifDirection: p.ifIndex === LO ? 0 : 1,
      ifStatus: 3,
      ifInOctets: u64(inO),
      ifInUcastPkts: u32(inP),
      ifInMulticastPkts: sw ? u32(inP * 0.001) : unknown,
      ifInBroadcastPkts: sw ? u32(inP * 0.0001) : unknown,
      ifInDiscards: u32(c.inDiscards),
      ifInErrors: u32(c.inErrors),
      ifInUnknownProtos: sw ? 0 : unknown,
      ifOutOctets: u64(outO),
      ifOutUcastPkts: u32(outP),
      ifOutMulticastPkts: sw ? u32(outP * 0.001) : unknown,
      ifOutBroadcastPkts: sw ? u32(outP * 0.0001) : unknown,
      ifOutDiscards: u32(c.outDiscards),
      ifOutErrors: 0,
      ifPromiscuousMode: 0,
    });
    if (sw) {
      const z: Record<string, number> = {};
      for (const k of Object.keys(C.ethernet_counters.struct.fields)) z[k] = 0;
      z.dot3StatsFCSErrors = u32(c.inErrors);
      return [ifc, rec('ethernet_counters', z)];
    }
    return [rec('port_name', { name: p.name }), ifc];
  }

  private nvml(gs: GpuState[]): CounterRecord {
    let gpuTime = 0;
    let memTime = 0;
    let energy = 0;
    let memTotal = 0;
    let memFree = 0;
    let ecc = 0;
    let temp = 0;
    let procs = 0;
    for (const g of gs) {
      gpuTime += g.gpuTime;
      memTime += g.memTime;
      energy += g.energy;
      memTotal += g.gpu.model.memBytes;
      memFree += g.gpu.model.memBytes - g.memUsed;
      ecc += g.ecc;
      temp = Math.max(temp, Math.round(g.temp));
      if (g.gpu.owner) procs += 1;
    }
    return rec('nvidia_gpu', {
      deviceCount: gs.length,
      processes: procs,
      gpuTime: u32(gpuTime),
      memTime: u32(memTime),
      memTotal: u64(memTotal),
      memFree: u64(memFree),
      eccErrors: ecc,
      energy: u32(energy),
      temperature: temp,
      fanSpeed: 0, // data-centre GPUs are passively cooled: NVML reports no fan, hsflowd leaves 0
    });
  }

  private hostRecords(simMs: number): CounterRecord[] {
    const node = this.node;
    const c = this.cpu;
    const m = this.mib;
    const d = this.disk;
    const memFree = Math.max(0, node.memBytes - this.memUsed - this.memCached - this.memBuffers);
    const out: CounterRecord[] = [];
    if (this.gpus.length > 0) out.push(this.nvml(this.gpus));
    out.push(
      rec('virt_node', { mhz: node.cpuMhz, cpus: node.cpus, memory: u64(node.memBytes), memoryFree: u64(memFree), numDomains: this.pods.length }),
      rec('host_adapters', { adapters: [{ ifIndex: ETH0, macs: [macToString(node.mac)] }] }),
      rec('mib2_udp_group', { udpInDatagrams: u32(m.udpIn), udpNoPorts: u32(m.udpNoPorts), udpInErrors: 0, udpOutDatagrams: u32(m.udpOut), udpRcvbufErrors: 0, udpSndbufErrors: 0, udpInCsumErrors: 0 }),
      rec('mib2_tcp_group', {
        tcpRtoAlgorithm: 1,
        tcpRtoMin: 200,
        tcpRtoMax: 120000,
        tcpMaxConn: 0xffffffff,
        tcpActiveOpens: u32(m.tcpActive),
        tcpPassiveOpens: u32(m.tcpPassive),
        tcpAttemptFails: u32(m.tcpActive * 0.01),
        tcpEstabResets: u32(m.tcpRst * 0.5),
        tcpCurrEstab: u32(m.tcpEstab),
        tcpInSegs: u32(m.tcpIn),
        tcpOutSegs: u32(m.tcpOut),
        tcpRetransSegs: u32(m.tcpRetrans),
        tcpInErrs: 0,
        tcpOutRsts: u32(m.tcpRst),
        tcpInCsumErrors: 0,
      }),
      rec('mib2_icmp_group', {
        icmpInMsgs: u32(m.icmpIn),
        icmpInErrors: 0,
        icmpInDestUnreachs: u32(m.icmpIn - m.icmpInEcho),
        icmpInTimeExcds: 0,
        icmpInParamProbs: 0,
        icmpInSrcQuenchs: 0,
        icmpInRedirects: 0,
        icmpInEchos: u32(m.icmpInEcho),
        icmpInEchoReps: 0,
        icmpInTimestamps: 0,
        icmpInAddrMasks: 0,
        icmpInAddrMaskReps: 0,
        icmpOutMsgs: u32(m.icmpOut),
        icmpOutErrors: 0,
        icmpOutDestUnreachs: u32(m.icmpOut - m.icmpOutEchoRep),
        icmpOutTimeExcds: 0,
        icmpOutParamProbs: 0,
        icmpOutSrcQuenchs: 0,
        icmpOutRedirects: 0,
        icmpOutEchos: 0,
        icmpOutEchoReps: u32(m.icmpOutEchoRep),
        icmpOutTimestamps: 0,
        icmpOutTimestampReps: 0,
        icmpOutAddrMasks: 0,
        icmpOutAddrMaskReps: 0,
      }),
      rec('mib2_ip_group', {
        ipForwarding: 1,
        ipDefaultTTL: 64,
        ipInReceives: u32(m.ipIn),
        ipInHdrErrors: 0,
        ipInAddrErrors: u32(m.ipIn * 1e-6),
        ipForwDatagrams: u32(m.ipForw),
        ipInUnknownProtos: 0,
        ipInDiscards: 0,
        ipInDelivers: u32(m.ipDeliver),
        ipOutRequests: u32(m.ipOut),
        ipOutDiscards: u32(m.ipOut * 1e-6),
        ipOutNoRoutes: 0,
        ipReasmTimeout: 0,
        ipReasmReqds: 0,
        ipReasmOKs: 0,
        ipReasmFails: 0,
        ipFragOKs: 0,
        ipFragFails: 0,
        ipFragCreates: 0,
      }),
      rec('host_disk_io', {
        diskTotal: u64(node.diskBytes),
        diskFree: u64(node.diskBytes - d.used),
        partMaxUsed: Math.round((d.used / node.diskBytes) * 10000),
        reads: u32(d.reads),
        bytesRead: u64(d.bytesRead),
        readTime: u32(d.readTime),
        writes: u32(d.writes),
        bytesWritten: u64(d.bytesWritten),
        writeTime: u32(d.writeTime),
      }),
      rec('host_memory', {
        memTotal: u64(node.memBytes),
        memFree: u64(memFree),
        memShared: u64(node.memBytes * 0.002),
        memBuffers: u64(this.memBuffers),
        memCached: u64(this.memCached),
        swapTotal: 0n,
        swapFree: 0n,
        pageIn: u32(this.pageIn),
        pageOut: u32(this.pageOut),
        swapIn: 0,
        swapOut: 0,
      }),
      rec('host_cpu', {
        loadOne: Math.round(this.load[0]! * 100) / 100,
        loadFive: Math.round(this.load[1]! * 100) / 100,
        loadFifteen: Math.round(this.load[2]! * 100) / 100,
        procRun: Math.max(1, Math.round(this.busyCores)),
        procTotal: 600 + this.pods.length * 14,
        cpuNum: node.cpus,
        cpuSpeed: node.cpuMhz,
        uptime: u32((simMs - this.bootMs) / 1000),
        cpuUser: u32(c.user),
        cpuNice: u32(c.nice),
        cpuSystem: u32(c.system),
        cpuIdle: u32(c.idle),
        cpuWio: u32(c.wio),
        cpuIntr: u32(c.intr),
        cpuSintr: u32(c.sintr),
        interrupts: u32(c.interrupts),
        contexts: u32(c.contexts),
        cpuSteal: 0,
        cpuGuest: 0,
        cpuGuestNice: 0,
      }),
      rec('host_net_io', {
        bytesIn: u64(this.eth0.inOctets),
        pktsIn: u32(this.eth0.inPkts),
        errsIn: 0,
        dropsIn: u32(this.eth0.inDiscards),
        bytesOut: u64(this.eth0.outOctets),
        pktsOut: u32(this.eth0.outPkts),
        errsOut: 0,
        dropsOut: 0,
      }),
      rec('host_descr', { hostname: node.name, uuid: node.uuid, machineType: 3, osName: 2, osRelease: node.osRelease }),
    );
    return out;
  }

  private podRecords(ps: PodState): CounterRecord[] {
    const p = ps.pod;
    const out: CounterRecord[] = [];
    if (ps.gpus.length > 0) out.push(this.nvml(ps.gpus));
    const net = this.cfg.podNetIo === 'traffic' ? ps.net : null;
    out.push(
      rec('host_adapters', { adapters: p.hostNetwork || !p.mac ? [] : [{ ifIndex: p.vethIfIndex, macs: [macToString(p.mac)] }] }),
      rec('virt_disk_io', { capacity: 0n, allocation: 0n, available: 0n, rdReq: u32(ps.rdReq), rdBytes: u64(ps.rdBytes), wrReq: u32(ps.wrReq), wrBytes: u64(ps.wrBytes), errs: 0 }),
      rec('virt_memory', { memory: u64(ps.mem), maxMemory: u64(p.memLimit) }),
      rec('virt_cpu', { state: 1, cpuTime: u32(ps.cpuTimeMs), nrVirtCpu: Math.max(1, Math.ceil(p.cpuLimit)) }),
      rec('virt_net_io', {
        bytesIn: u64(net ? net.inOctets : 0),
        pktsIn: u32(net ? net.inPkts : 0),
        errsIn: 0,
        dropsIn: 0,
        bytesOut: u64(net ? net.outOctets : 0),
        pktsOut: u32(net ? net.outPkts : 0),
        errsOut: 0,
        dropsOut: 0,
      }),
      rec('host_parent', { containerType: 2, containerIndex: 1 }),
      rec('host_descr', { hostname: p.hostname, uuid: p.uuid, machineType: 3, osName: 2, osRelease: this.node.osRelease }),
    );
    return out;
  }
}

// Finished datagrams are copied into large shared chunks and handed out as views: one
// ArrayBuffer per few thousand datagrams instead of one each (the garbage collector's
// cost). A chunk is never written again once handed out, so the views stay valid.
const CHUNK = 1 << 22;
let chunk = new Uint8Array(CHUNK);
let chunkPos = 0;

function copyOut(src: Uint8Array, len: number): Uint8Array {
  if (chunkPos + len > CHUNK) {
    chunk = new Uint8Array(CHUNK);
    chunkPos = 0;
  }
  const at = chunkPos;
  chunk.set(src.subarray(0, len), at);
  chunkPos = (at + len + 7) & ~7;
  return chunk.subarray(at, at + len);
}

/** Write microseconds since the epoch as a u64 count of nanoseconds, exactly (no BigInt). */
export function writeU64Micros(v: DataView, p: number, us: number): void {
  // ns = us * 1000; split us = uh * 2^22 + ul so that every product stays below 2^53
  const uh = Math.floor(us / 4194304);
  const ul = us - uh * 4194304;
  const c = uh * 1000; // ns = c * 2^22 + ul * 1000
  const ch = Math.floor(c / 1024);
  const cl = c - ch * 1024; // c * 2^22 = ch * 2^32 + cl * 2^22
  const low = cl * 4194304 + ul * 1000;
  const carry = Math.floor(low / U32);
  v.setUint32(p, ch + carry);
  v.setUint32(p + 4, low - carry * U32);
}
