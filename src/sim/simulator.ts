// ClusterSimulator: N Host sFlow agents for a simulated Kubernetes/GPU cluster, producing the
// datagrams they would send, in time order, deterministically from a seed.
//
// Time is an input: `advance(untilMs, sink)` runs the model up to a simulated instant and
// hands over every datagram sent before it. Nothing here reads the clock or does I/O; the
// drivers (udp-sender.ts, pcap-writer.ts, the CLI and the server's demo mode) decide how
// simulated time maps to wall time.
//
// The model runs in 100 ms slices (hsflowd's drop-monitor quota period). Once a second the
// stream rates are re-evaluated, resources move, and each agent's counters integrate. Within
// a slice, each agent samples the packets crossing its eth0 1-in-N, receives its drop
// notifications, and on its one-second tick polls due counters and flushes its datagram.

import { HostAgent, type AgentConfig, type AgentStyle, type DatagramSink } from './agent.js';
import { Rng } from './rng.js';
import { buildCluster, MAX_NODES, type ClusterModel } from './topology.js';
import { APPS, buildTraffic, modulate, type Stream, type Traffic } from './traffic.js';

export interface SimulatorOptions {
  /** Number of nodes (Host sFlow agents). Default 180. */
  nodes?: number;
  /** Seed for every random choice. Default 1. */
  seed?: number;
  /**
   * Target datagrams per second for the whole cluster. Traffic volume is scaled so the
   * agents send about this many (counter and discard samples included). Default 1000.
   */
  rate?: number;
  /** Packet sampling: 1-in-N on each node's eth0. Default 10. */
  samplingRate?: number;
  /** Counter polling interval, seconds. Default 20. */
  pollingInterval?: number;
  /** Wall-clock time (ms since the Unix epoch) that simulated time 0 stands for. Default 2026-01-01T00:00:00Z. */
  startTimeMs?: number;
  /** 'hsflowd' (default): what Host sFlow sends. 'switch': only structures switches send (flow samples with a sampled header and extended_switch, if_counters + ethernet_counters). */
  style?: AgentStyle;
  /** hsflowd `k8s { markTraffic = on }`: extended_entities in flow samples. Default true. */
  markTraffic?: boolean;
  /** hsflowd datagram size limit (bytes of sFlow payload). Default 1400. */
  maxDatagramSize?: number;
  /** Sampled header bytes. Default 128. */
  headerBytes?: number;
  /** Drop monitor limit, notifications per second per agent. Default 100 (hsflowd's); 0 turns the drop monitor off. */
  dropLimit?: number;
  /** Pod virt_net_io: 'zero' (what mod_k8s sends) or 'traffic'. Default 'zero'. */
  podNetIo?: 'zero' | 'traffic';
  /** Default 100000 (hsflowd). */
  subAgentId?: number;
}

export type ResolvedSimulatorOptions = Required<SimulatorOptions>;

export const DEFAULT_SIMULATOR_OPTIONS: ResolvedSimulatorOptions = {
  nodes: 180,
  seed: 1,
  rate: 1000,
  samplingRate: 10,
  pollingInterval: 20,
  startTimeMs: Date.UTC(2026, 0, 1),
  style: 'hsflowd',
  markTraffic: true,
  maxDatagramSize: 1400,
  headerBytes: 128,
  dropLimit: 100,
  podNetIo: 'zero',
  subAgentId: 100000,
};

/**
 * One datagram as an agent sent it. `bytes` is a view into a large shared buffer (a few MB
 * holds thousands of datagrams): keep a copy rather than the view if you hold on to a few
 * datagrams for long.
 */
export interface SimDatagram {
  /** Send time, ms since the Unix epoch (fractional). */
  timeMs: number;
  /** Agent (node) address: the datagram's agent_address and its UDP source. */
  agent: string;
  agentIndex: number;
  /** UDP source port hsflowd sends from on that node. */
  srcPort: number;
  /** The sFlow datagram (UDP payload). */
  bytes: Uint8Array;
  /** Samples it holds, by kind. */
  flowSamples: number;
  counterSamples: number;
  discardSamples: number;
  /** Sum of its flow samples' sampled_header.frame_length. */
  flowFrameBytes: number;
}

/**
 * What the simulator has sent: datagrams handed to a sink by `advance` and the samples in
 * them. (`flowSamplesByApp`, `discardsSuppressed` and `packets` count what the model has
 * generated, which runs up to a fraction of a second ahead of what was sent.)
 */
export interface SimStats {
  datagrams: number;
  bytes: number;
  flowSamples: number;
  counterSamples: number;
  discardSamples: number;
  /** Drop events the agents' rate limit suppressed (reported in the samples' `drops`). */
  discardsSuppressed: number;
  /** Sum of sampled_header.frame_length over the flow samples sent. */
  flowSampleFrameBytes: number;
  /** Flow samples generated, by application ('dns', 'nccl', 'https', ...). */
  flowSamplesByApp: Record<string, number>;
  /** Packets that crossed the agents' eth0 (the sample pools' growth). */
  packets: number;
  /** Simulated time covered, ms. */
  simulatedMs: number;
}

const SLICE_MS = 100;

export class ClusterSimulator {
  readonly options: ResolvedSimulatorOptions;
  readonly cluster: ClusterModel;
  readonly traffic: Traffic;
  readonly agents: HostAgent[];
  /** Multiplier applied to every stream's base rate to reach the requested datagram rate. */
  readonly trafficScale: number;
  /** Drop events multiplier (scales with datagrams per node). */
  readonly dropFactor: number;
  /** The rate model's estimate of datagrams per second. */
  readonly plannedRate: number;

  private readonly rng: Rng;
  private simMs = 0;
  private second = -1;
  private pending: SimDatagram[] = [];
  private pendingAt = 0;
  private readonly stat: SimStats;
  private readonly streamSrcAgent: (HostAgent | null)[];
  private readonly streamDstAgent: (HostAgent | null)[];
  private readonly sink: DatagramSink;
  private sliceOut: SimDatagram[] = [];
  private readonly byApp = new Float64Array(APPS.length);

  constructor(options: SimulatorOptions = {}) {
    const o: ResolvedSimulatorOptions = { ...DEFAULT_SIMULATOR_OPTIONS };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
    o.nodes = Math.max(1, Math.min(MAX_NODES, Math.floor(o.nodes)));
    o.samplingRate = Math.max(1, Math.floor(o.samplingRate));
    o.pollingInterval = Math.max(1, Math.floor(o.pollingInterval));
    o.maxDatagramSize = Math.max(600, Math.min(65000, Math.floor(o.maxDatagramSize)));
    o.headerBytes = Math.max(14, Math.min(256, Math.floor(o.headerBytes)));
    this.options = o;
    this.rng = new Rng(o.seed).fork('sampling');
    this.cluster = buildCluster({ nodes: o.nodes, seed: o.seed });
    this.traffic = buildTraffic(this.cluster, o.seed, o.headerBytes);
    const cfg: AgentConfig = {
      samplingRate: o.samplingRate,
      pollingInterval: o.pollingInterval,
      maxDatagramSize: o.maxDatagramSize,
      headerBytes: o.headerBytes,
      style: o.style,
      markTraffic: o.markTraffic,
      dropLimit: o.dropLimit,
      podNetIo: o.podNetIo,
      subAgentId: o.subAgentId,
    };
    const agentRng = new Rng(o.seed).fork('agents');
    this.agents = this.cluster.nodes.map((n) => new HostAgent(n, cfg, agentRng.fork(n.name)));

    // who sees each stream
    const streams = this.traffic.streams;
    this.streamSrcAgent = streams.map((s) => (s.srcNode ? this.agents[s.srcNode.index]! : null));
    this.streamDstAgent = streams.map((s) => (s.dstNode ? this.agents[s.dstNode.index]! : null));
    const cross: [Stream, number][][] = this.agents.map(() => []);
    for (const s of streams) {
      if (s.local) continue;
      if (s.srcNode && s.egress) cross[s.srcNode.index]!.push([s, 0]);
      if (s.dstNode && s.ingress) cross[s.dstNode.index]!.push([s, 1]);
    }
    this.agents.forEach((a, i) => {
      const c = cross[i]!;
      a.cross = c.map((x) => x[0]);
      a.crossDir = Uint8Array.from(c.map((x) => x[1]));
      a.cdf = new Float64Array(c.length);
    });
    if (o.style === 'hsflowd' && o.dropLimit > 0) {
      for (const d of this.traffic.drops) this.agents[d.node.index]!.dropSources.push(d);
      for (const a of this.agents) a.dropCdf = new Float64Array(a.dropSources.length);
    }

    // ---- rate planning: choose the traffic scale that yields about `rate` datagrams/s ----
    const planned = this.plan(o.rate);
    this.trafficScale = planned.scale;
    this.dropFactor = planned.dropFactor;
    this.plannedRate = planned.rate;

    this.stat = {
      datagrams: 0,
      bytes: 0,
      flowSamples: 0,
      counterSamples: 0,
      discardSamples: 0,
      discardsSuppressed: 0,
      flowSamplesByApp: {},
      flowSampleFrameBytes: 0,
      packets: 0,
      simulatedMs: 0,
    };
    this.sink = (timeMs, agent, bytes, c) => {
      this.sliceOut.push({
        timeMs,
        agent: agent.address,
        agentIndex: agent.index,
        srcPort: agent.srcPort,
        bytes,
        flowSamples: c.flow,
        counterSamples: c.counter,
        discardSamples: c.discard,
        flowFrameBytes: c.frameBytes,
      });
    };
  }

  /**
   * Traffic scale for a datagram rate. Per agent, datagrams per second are about
   * bytes / (capacity - half a sample) plus the partly filled datagram each one-second tick
   * flushes, which exists only when the agent had anything to send that second.
   */
  private plan(rate: number): { scale: number; dropFactor: number; rate: number } {
    const o = this.options;
    const cap = o.maxDatagramSize - 28;
    const dropFactor = rate <= 0 ? 0 : Math.min(5, Math.max(0.02, rate / 1000));
    interface Load {
      /** flow bytes and samples per second per unit of scale */
      xb: number;
      xs: number;
      /** counter + drop bytes and samples per second */
      fb: number;
      fs: number;
    }
    const loads: Load[] = [];
    let sampleBytes = 0;
    let sampleWeight = 0;
    for (const a of this.agents) {
      const l: Load = { xb: 0, xs: 0, fb: 0, fs: 0 };
      for (let i = 0; i < a.cross.length; i++) {
        const s = a.cross[i]!;
        const size = a.flowSampleSize(s, a.crossDir[i]!);
        l.xb += (s.base * size) / o.samplingRate;
        l.xs += s.base / o.samplingRate;
        sampleBytes += s.base * size;
        sampleWeight += s.base;
      }
      for (const cs of a.allCounterSamples()) {
        l.fb += a.encodeSample(cs).length / o.pollingInterval;
        l.fs += 1 / o.pollingInterval;
      }
      let dropRate = 0;
      for (const d of a.dropSources) dropRate += d.rate;
      const drops = Math.min(dropRate * dropFactor, o.dropLimit);
      l.fb += drops * 240;
      l.fs += drops;
      loads.push(l);
    }
    const avgSample = sampleWeight > 0 ? sampleBytes / sampleWeight : 250;
    const capEff = cap - avgSample / 2;
    const datagrams = (k: number): number => {
      let d = 0;
      for (const l of loads) {
        const m = k * l.xs + l.fs;
        const any = 1 - Math.exp(-m);
        d += Math.max((k * l.xb + l.fb) / capEff + 0.5 * any, any);
      }
      return d;
    };
    if (rate <= 0) return { scale: 0, dropFactor, rate: datagrams(0) };
    let lo = 0;
    let hi = 1;
    while (datagrams(hi) < rate && hi < 1e12) hi *= 2;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (datagrams(mid) < rate) lo = mid;
      else hi = mid;
    }
    // below what counters alone need: keep a trickle of flows rather than none
    const scale = Math.max(lo, 1e-6);
    return { scale, dropFactor, rate: datagrams(scale) };
  }

  /**
   * How far the model has run, ms since the Unix epoch: datagrams are generated up to here
   * (a slice of 100 ms at a time) and handed out up to the last `advance` bound.
   */
  get now(): number {
    return this.options.startTimeMs + this.simMs;
  }

  stats(): SimStats {
    const byApp: Record<string, number> = {};
    APPS.forEach((app, i) => {
      if (this.byApp[i]! > 0) byApp[app] = this.byApp[i]!;
    });
    return { ...this.stat, flowSamplesByApp: byApp };
  }

  /**
   * Run the model until `untilMs` (ms since the Unix epoch) and pass every datagram sent
   * before then to `sink`, in time order. Returns how many were passed.
   */
  advance(untilMs: number, sink: (d: SimDatagram) => void): number {
    let n = 0;
    for (;;) {
      while (this.pendingAt < this.pending.length) {
        const d = this.pending[this.pendingAt]!;
        if (d.timeMs >= untilMs) return n;
        this.pendingAt++;
        const st = this.stat;
        st.datagrams++;
        st.bytes += d.bytes.length;
        st.flowSamples += d.flowSamples;
        st.counterSamples += d.counterSamples;
        st.discardSamples += d.discardSamples;
        st.flowSampleFrameBytes += d.flowFrameBytes;
        sink(d);
        n++;
      }
      if (this.options.startTimeMs + this.simMs >= untilMs) return n;
      this.runSlice();
    }
  }

  /** Every datagram sent before `untilMs`, as an array (the same as `collect`). */
  tick(nowMs: number): SimDatagram[] {
    return this.collect(nowMs);
  }

  /** Every datagram sent before `untilMs`, as an array. */
  collect(untilMs: number): SimDatagram[] {
    const out: SimDatagram[] = [];
    this.advance(untilMs, (d) => out.push(d));
    return out;
  }

  /** Every datagram sent before `untilMs`, one at a time. */
  *datagrams(untilMs: number): Generator<SimDatagram, void, undefined> {
    const batch: SimDatagram[] = [];
    while (this.now < untilMs || this.pendingAt < this.pending.length) {
      const step = Math.min(untilMs, this.now + SLICE_MS);
      this.advance(step, (d) => batch.push(d));
      yield* batch;
      batch.length = 0;
      if (step >= untilMs) break;
    }
  }

  private runSlice(): void {
    const t0 = this.simMs;
    const epoch = this.options.startTimeMs;
    const sec = Math.floor(t0 / 1000);
    if (sec !== this.second) this.secondUpdate(sec);
    const t1 = t0 + SLICE_MS;
    const sink = this.sink;
    const st = this.stat;
    const quota = this.options.dropLimit >= 10 ? Math.floor(this.options.dropLimit / 10) : this.options.dropLimit;
    const rng = this.rng;
    const dt = SLICE_MS / 1000;
    const dropTimes: number[] = [];
    const byApp = this.byApp;
    for (const a of this.agents) {
      // drop notifications in this slice (quota refreshed every 100 ms)
      dropTimes.length = 0;
      if (a.dropRate > 0) {
        const events = rng.poisson(a.dropRate * dt);
        const sent = Math.min(events, quota);
        a.noQuota += events - sent;
        st.discardsSuppressed += events - sent;
        for (let i = 0; i < sent; i++) dropTimes.push(t0 + ((i + rng.float()) / sent) * SLICE_MS);
      }
      let di = 0;
      const tick = sec * 1000 + a.tickPhase;
      let tickAt = tick >= t0 && tick < t1 ? tick : Infinity;
      // interleave ticks and drops up to time t
      const upTo = (t: number): void => {
        for (;;) {
          const dtm = di < dropTimes.length ? dropTimes[di]! : Infinity;
          if (tickAt !== Infinity && tickAt <= t && tickAt <= dtm) {
            a.pollCounters(sec, tickAt, epoch, sink);
            a.flush(tickAt, epoch, sink);
            tickAt = Infinity;
          } else if (dtm !== Infinity && dtm <= t) {
            a.writeDiscard(pickDrop(a, rng), dtm, epoch, sink);
            di++;
          } else return;
        }
      };
      // packets crossing eth0 in this slice, sampled 1-in-N
      const p = a.totalPps * dt + a.pktFrac;
      const whole = Math.floor(p);
      a.pktFrac = p - whole;
      st.packets += whole;
      let remaining = whole;
      let used = 0;
      while (a.skip <= remaining) {
        remaining -= a.skip;
        used += a.skip;
        a.samplePool += a.skip;
        a.skip = a.nextSkip();
        const ts = t0 + (used / whole) * SLICE_MS;
        upTo(ts);
        const k = pickStream(a.cdf, a.totalPps * rng.float());
        const s = a.cross[k]!;
        a.writeFlowSample(s, a.crossDir[k]!, ts, epoch, a.samplePool, sink);
        byApp[s.appId]++;
      }
      a.skip -= remaining;
      a.samplePool += remaining;
      upTo(Infinity);
    }
    this.simMs = t1;
    st.simulatedMs = t1;
    // hand the slice over in time order (ties: by agent, then by send order)
    const out = this.sliceOut;
    if (this.pendingAt >= this.pending.length) {
      // swap: the emptied array takes the next slice's output
      const old = this.pending;
      old.length = 0;
      this.pending = out;
      this.sliceOut = old;
    } else {
      this.pending = this.pending.slice(this.pendingAt).concat(out);
      out.length = 0;
    }
    this.pendingAt = 0;
    this.pending.sort(byTime);
  }

  /** Once a second: resources and counters move on, stream rates are re-evaluated. */
  private secondUpdate(sec: number): void {
    const first = this.second < 0;
    this.second = sec;
    for (const a of this.agents) a.secondTick(sec);
    const streams = this.traffic.streams;
    for (const a of this.agents) {
      a.eth0.resetRates();
      a.tunl0.resetRates();
      for (const ps of a.pods) ps.net.resetRates();
    }
    const scale = this.trafficScale;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      const r = s.base * scale * modulate(s, sec);
      s.rate = r;
      if (r === 0) continue;
      const src = this.streamSrcAgent[i];
      const dst = this.streamDstAgent[i];
      if (!s.local) {
        if (src) {
          src.eth0.outPps += r;
          src.eth0.outBps += r * s.l2Bytes;
          if (s.encap) {
            src.tunl0.outPps += r;
            src.tunl0.outBps += r * s.ipBytes;
          }
        }
        if (dst) {
          dst.eth0.inPps += r;
          dst.eth0.inBps += r * s.l2Bytes;
          if (s.encap) {
            dst.tunl0.inPps += r;
            dst.tunl0.inBps += r * s.ipBytes;
          }
        }
      }
      if (s.srcPod && !s.srcPod.hostNetwork && src) {
        const ps = src.podByDs.get(s.srcPod.dsIndex);
        if (ps) {
          ps.net.outPps += r;
          ps.net.outBps += r * (s.ipBytes + 14);
        }
      }
      if (s.dstPod && !s.dstPod.hostNetwork && dst) {
        const ps = dst.podByDs.get(s.dstPod.dsIndex);
        if (ps) {
          ps.net.inPps += r;
          ps.net.inBps += r * (s.ipBytes + 14);
        }
      }
    }
    for (const a of this.agents) {
      let acc = 0;
      for (let i = 0; i < a.cross.length; i++) {
        acc += a.cross[i]!.rate;
        a.cdf[i] = acc;
      }
      a.totalPps = acc;
      let d = 0;
      for (let i = 0; i < a.dropSources.length; i++) {
        d += a.dropSources[i]!.rate * this.dropFactor;
        a.dropCdf[i] = d;
      }
      a.dropRate = d;
      if (first) a.warmCounters();
    }
  }
}

function byTime(x: SimDatagram, y: SimDatagram): number {
  return x.timeMs - y.timeMs || x.agentIndex - y.agentIndex;
}

function pickStream(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function pickDrop(a: HostAgent, rng: Rng) {
  return a.dropSources[pickStream(a.dropCdf, a.dropRate * rng.float())]!;
}
