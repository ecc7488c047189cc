// The agent table: who sends us sFlow, and how well it arrives.
//
// An agent is the agent address carried inside the datagram (the UDP source when the agent sent
// address type 0), as in sFlow-RT. Each sub-agent has its own datagram sequence space; each data
// source (ifIndex, 2.N host, 3.N container...) has one sample sequence space per sample kind
// (flow, counter, discard). Accounting follows sequence.ts.
//
// Bounded: at most `maxAgents` agents, `maxDataSources` data sources in all and
// `maxDataSourcesPerAgent` per agent. When a bound is hit the least recently seen entry is evicted
// and counted. Recency is kept by re-inserting an entry at the end of its Map at most once per
// `lruGranularityMs`, so the first entry of a Map is (nearly) the least recently seen one and
// eviction is O(1), without a Map delete/insert on every datagram.

import { dataSourceName } from '../sflow/datasource.js';
import { DEFAULT_SEQUENCE_CONFIG, SeqVerdict, SequenceTracker, type SequenceConfig } from './sequence.js';

export interface AgentRegistryConfig {
  /** Most agents held; the least recently seen is evicted beyond it. */
  maxAgents: number;
  /** Most data sources held across all agents. */
  maxDataSources: number;
  /** Most data sources held for one agent. */
  maxDataSourcesPerAgent: number;
  /** An agent silent this long (ms) is removed with everything it reported. */
  agentTimeoutMs: number;
  /** A data source silent this long (ms) is removed. */
  dataSourceTimeoutMs: number;
  /** A data source that reported its end (a container stopped: virt_cpu state shutoff) is removed this long (ms) after. */
  stoppedRetentionMs: number;
  sequence: SequenceConfig;
}

export const DEFAULT_AGENT_REGISTRY_CONFIG: AgentRegistryConfig = {
  maxAgents: 10_000,
  maxDataSources: 250_000,
  maxDataSourcesPerAgent: 4_096,
  agentTimeoutMs: 600_000,
  dataSourceTimeoutMs: 600_000,
  stoppedRetentionMs: 10_000,
  sequence: DEFAULT_SEQUENCE_CONFIG,
};

/** How often (ms) at most an entry is moved to the recent end of its table. */
const LRU_GRANULARITY_MS = 1000;
/** UDP source addresses remembered per agent. */
const MAX_SOURCES = 8;
/** Sub-agents tracked per agent. */
const MAX_SUB_AGENTS = 256;
/** Source classes above this cannot be keyed numerically; such samples are refused. */
const MAX_SOURCE_CLASS = 0xfffff;

export type RemovalReason = 'expired' | 'evicted' | 'stopped';

/** Sample totals of one kind for an agent: monotonic, they survive data-source removal. */
export class SampleTotals {
  samples = 0;
  lost = 0;
  duplicates = 0;
  outOfOrder = 0;

  add(t: SequenceTracker, v: SeqVerdict, lostBefore: number): void {
    this.samples++;
    if (v === SeqVerdict.Duplicate) this.duplicates++;
    else if (v === SeqVerdict.Late || v === SeqVerdict.Jump) this.outOfOrder++;
    this.lost += t.lost - lostBefore;
  }
}

export class SubAgentState {
  readonly seq = new SequenceTracker();
  uptime = -1;
  constructor(readonly id: number) {}
}

/** One data source of one agent. Sinks receive it with every sample; treat it as read-only except `markEnded`. */
export class DataSourceState {
  /** sFlow-RT's data-source id: `<ifIndex>` for class 0, `<class>.<index>` otherwise; custom names as sent. */
  readonly id: string;
  firstSeen: number;
  lastSeen: number;
  /** Moved to the recent end of the LRU tables at this time. */
  lruAt: number;
  flow: SequenceTracker | null = null;
  counter: SequenceTracker | null = null;
  discard: SequenceTracker | null = null;
  /** Sampling rate declared by the last flow sample. */
  samplingRate = 0;
  /**
   * Effective sampling rate: sFlow-RT's estimator, an EWMA (α = 0.02 per sample) of the sample
   * pool's growth per received sample; starts at the declared rate.
   */
  effectiveSamplingRate = 0;
  samplePool = -1;
  /** The last `drops` field of a flow sample (the agent's running count). */
  flowDrops = 0;
  /** The last `drops` field of a discard sample. */
  discardDrops = 0;
  /** EWMA (α = 0.25) of the interval between counter samples, ms; 0 until two were seen. */
  pollingInterval = 0;
  lastCounterAt = -1;
  /** Time the data source reported its end (NaN while alive). */
  endedAt = NaN;
  /** Bumped when the data source or its agent restarts: counter baselines of an older epoch are not comparable. */
  epoch = 0;
  /** The metrics store's state for this data source (owned by MetricsStore; null until it has any). */
  metrics: object | null = null;

  constructor(
    readonly agent: AgentState,
    readonly key: number | string,
    readonly sourceClass: number,
    readonly sourceIndex: number,
    now: number,
  ) {
    this.id = typeof key === 'string' ? key : dataSourceName(sourceClass, sourceIndex);
    this.firstSeen = now;
    this.lastSeen = now;
    this.lruAt = now;
  }

  /** Called by a sink when the data source announced its end (a stopped container). */
  markEnded(now: number): void {
    if (Number.isNaN(this.endedAt)) this.endedAt = now;
  }

  /** Whether the data source ended at least `retentionMs` before `now`. */
  isGone(now: number, retentionMs: number): boolean {
    return !Number.isNaN(this.endedAt) && now - this.endedAt >= retentionMs;
  }
}

export class AgentState {
  firstSeen: number;
  lastSeen: number;
  lruAt: number;
  /** sysUpTime (ms) of the last datagram. */
  uptime = 0;
  datagrams = 0;
  bytes = 0;
  datagramsLost = 0;
  datagramsDuplicates = 0;
  datagramsOutOfOrder = 0;
  restarts = 0;
  /** Incremented on every detected restart (data-source epochs follow it). */
  epoch = 0;
  /** Distinct UDP source addresses, most recent last (at most 8). */
  readonly sources: string[] = [];
  readonly subAgents = new Map<number, SubAgentState>();
  readonly dataSources = new Map<number | string, DataSourceState>();
  readonly flow = new SampleTotals();
  readonly counter = new SampleTotals();
  readonly discard = new SampleTotals();
  dataSourcesEvicted = 0;

  constructor(
    readonly address: string,
    now: number,
  ) {
    this.firstSeen = now;
    this.lastSeen = now;
    this.lruAt = now;
  }

  /** Data sources that sent samples of a kind. */
  countDataSources(kind: 'flow' | 'counter' | 'discard'): number {
    let n = 0;
    for (const ds of this.dataSources.values()) if (ds[kind] !== null) n++;
    return n;
  }
}

export interface RegistryListener {
  agentRemoved?(agent: AgentState, reason: RemovalReason): void;
  dataSourceRemoved?(ds: DataSourceState, reason: RemovalReason): void;
}

export interface RegistryStats {
  agentsCreated: number;
  agentsEvicted: number;
  agentsExpired: number;
  dataSourcesCreated: number;
  dataSourcesEvicted: number;
  dataSourcesExpired: number;
  dataSourcesStopped: number;
  /** Samples refused because their source class cannot be a data source. */
  badSourceIds: number;
  agentRestarts: number;
}

export class AgentRegistry {
  readonly config: AgentRegistryConfig;
  readonly agents = new Map<string, AgentState>();
  /** Every data source, least recently seen first (approximately: see LRU_GRANULARITY_MS). */
  private readonly dsLru = new Map<DataSourceState, true>();
  private readonly listeners: RegistryListener[] = [];
  /** Restart epochs are drawn from one increasing sequence, so agent and data-source epochs compare. */
  private epochSeq = 0;
  readonly stats: RegistryStats = {
    agentsCreated: 0,
    agentsEvicted: 0,
    agentsExpired: 0,
    dataSourcesCreated: 0,
    dataSourcesEvicted: 0,
    dataSourcesExpired: 0,
    dataSourcesStopped: 0,
    badSourceIds: 0,
    agentRestarts: 0,
  };

  constructor(config: Partial<AgentRegistryConfig> = {}) {
    this.config = { ...DEFAULT_AGENT_REGISTRY_CONFIG, ...config };
  }

  addListener(l: RegistryListener): void {
    this.listeners.push(l);
  }

  get dataSourceCount(): number {
    return this.dsLru.size;
  }

  /** Account for a datagram of `address`; returns the agent (created, and something evicted, if new). */
  datagram(address: string, subAgentId: number, sequence: number, uptime: number, source: string, bytes: number, now: number): AgentState {
    let a = this.agents.get(address);
    if (a === undefined) {
      if (this.agents.size >= this.config.maxAgents) this.evictOldestAgent();
      a = new AgentState(address, now);
      this.agents.set(address, a);
      this.stats.agentsCreated++;
    } else if (now - a.lruAt >= LRU_GRANULARITY_MS) {
      this.agents.delete(address);
      this.agents.set(address, a);
      a.lruAt = now;
    }
    a.lastSeen = now;
    a.datagrams++;
    a.bytes += bytes;
    a.uptime = uptime;
    const srcs = a.sources;
    if (srcs.length === 0 || srcs[srcs.length - 1] !== source) this.noteSource(srcs, source);

    let sub = a.subAgents.get(subAgentId);
    if (sub === undefined) {
      if (a.subAgents.size >= MAX_SUB_AGENTS) {
        const first = a.subAgents.keys().next();
        if (!first.done) a.subAgents.delete(first.value);
      }
      sub = new SubAgentState(subAgentId);
      a.subAgents.set(subAgentId, sub);
    }
    const t = sub.seq;
    const lostBefore = t.lost;
    const v = t.track(sequence, this.config.sequence);
    a.datagramsLost += t.lost - lostBefore;
    if (v === SeqVerdict.Duplicate) a.datagramsDuplicates++;
    else if (v === SeqVerdict.Late || v === SeqVerdict.Jump) a.datagramsOutOfOrder++;
    // A restart: the sequence began again, or the uptime went back (not a 49.7-day wrap).
    const uptimeBack = sub.uptime >= 0 && uptime + 60_000 < sub.uptime && sub.uptime - uptime < 0xf0000000;
    if (v === SeqVerdict.Restart || (uptimeBack && v !== SeqVerdict.Late)) {
      a.restarts++;
      a.epoch = ++this.epochSeq;
      this.stats.agentRestarts++;
      if (v !== SeqVerdict.Restart) t.last = sequence;
    }
    if (v !== SeqVerdict.Late && v !== SeqVerdict.Duplicate) sub.uptime = uptime;
    return a;
  }

  private noteSource(srcs: string[], source: string): void {
    const i = srcs.indexOf(source);
    if (i >= 0) srcs.splice(i, 1);
    else if (srcs.length >= MAX_SOURCES) srcs.shift();
    srcs.push(source);
  }

  /** The data source of a sample, created when new. Null when the source id cannot be one. */
  dataSource(a: AgentState, sourceClass: number, sourceIndex: number, now: number): DataSourceState | null {
    if (sourceClass > MAX_SOURCE_CLASS) {
      this.stats.badSourceIds++;
      return null;
    }
    // Small integer keys (classes 0-3, index < 2^28) stay V8 Smis: no allocation, fast hashing.
    const key = sourceClass < 4 && sourceIndex < 0x10000000 ? (sourceClass << 28) | sourceIndex : 0x40000000 + sourceClass * 4294967296 + sourceIndex;
    return this.dataSourceByKey(a, key, sourceClass, sourceIndex, now);
  }

  /** A data source named by the sender (sFlow-RT custom metrics, 4300:1002/1003). */
  namedDataSource(a: AgentState, name: string, now: number): DataSourceState {
    return this.dataSourceByKey(a, name, -1, -1, now);
  }

  private dataSourceByKey(a: AgentState, key: number | string, cls: number, index: number, now: number): DataSourceState {
    let ds = a.dataSources.get(key);
    if (ds === undefined) {
      if (a.dataSources.size >= this.config.maxDataSourcesPerAgent) {
        const first = a.dataSources.values().next();
        if (!first.done) this.removeDataSource(first.value, 'evicted');
      }
      if (this.dsLru.size >= this.config.maxDataSources) {
        const first = this.dsLru.keys().next();
        if (!first.done) this.removeDataSource(first.value, 'evicted');
      }
      ds = new DataSourceState(a, key, cls, index, now);
      ds.epoch = a.epoch;
      a.dataSources.set(key, ds);
      this.dsLru.set(ds, true);
      this.stats.dataSourcesCreated++;
    } else if (now - ds.lruAt >= LRU_GRANULARITY_MS) {
      a.dataSources.delete(key);
      a.dataSources.set(key, ds);
      this.dsLru.delete(ds);
      this.dsLru.set(ds, true);
      ds.lruAt = now;
    }
    ds.lastSeen = now;
    if (ds.epoch < a.epoch) ds.epoch = a.epoch;
    return ds;
  }

  /** Account for a flow sample's sequence number and sampling fields. */
  flowSample(ds: DataSourceState, sequence: number, samplingRate: number, samplePool: number, drops: number): SeqVerdict {
    const t = (ds.flow ??= new SequenceTracker());
    const lostBefore = t.lost;
    const v = t.track(sequence, this.config.sequence);
    ds.agent.flow.add(t, v, lostBefore);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.Late) return v;
    if (v === SeqVerdict.Restart) ds.epoch = ++this.epochSeq;
    ds.flowDrops = drops;
    if (v === SeqVerdict.First || v === SeqVerdict.Restart || samplingRate !== ds.samplingRate || samplePool === 0 || ds.samplePool < 0) {
      ds.effectiveSamplingRate = samplingRate;
    } else {
      const delta = (samplePool - ds.samplePool) >>> 0;
      ds.effectiveSamplingRate += 0.02 * (delta - ds.effectiveSamplingRate);
    }
    ds.samplingRate = samplingRate;
    ds.samplePool = samplePool;
    return v;
  }

  counterSample(ds: DataSourceState, sequence: number, now: number): SeqVerdict {
    const t = (ds.counter ??= new SequenceTracker());
    const lostBefore = t.lost;
    const v = t.track(sequence, this.config.sequence);
    ds.agent.counter.add(t, v, lostBefore);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.Late) return v;
    if (v === SeqVerdict.Restart) ds.epoch = ++this.epochSeq;
    if (ds.lastCounterAt >= 0) {
      const iv = now - ds.lastCounterAt;
      if (iv > 0) ds.pollingInterval = ds.pollingInterval === 0 ? iv : ds.pollingInterval + 0.25 * (iv - ds.pollingInterval);
    }
    ds.lastCounterAt = now;
    // A data source that reports again after announcing its end is alive again.
    if (!Number.isNaN(ds.endedAt)) ds.endedAt = NaN;
    return v;
  }

  discardSample(ds: DataSourceState, sequence: number, drops: number): SeqVerdict {
    const t = (ds.discard ??= new SequenceTracker());
    const lostBefore = t.lost;
    const v = t.track(sequence, this.config.sequence);
    ds.agent.discard.add(t, v, lostBefore);
    if (v !== SeqVerdict.Duplicate && v !== SeqVerdict.Late) ds.discardDrops = drops;
    return v;
  }

  removeDataSource(ds: DataSourceState, reason: RemovalReason): void {
    const a = ds.agent;
    if (a.dataSources.get(ds.key) !== ds) return;
    a.dataSources.delete(ds.key);
    this.dsLru.delete(ds);
    if (reason === 'evicted') {
      this.stats.dataSourcesEvicted++;
      a.dataSourcesEvicted++;
    } else if (reason === 'expired') this.stats.dataSourcesExpired++;
    else this.stats.dataSourcesStopped++;
    for (const l of this.listeners) l.dataSourceRemoved?.(ds, reason);
  }

  removeAgent(a: AgentState, reason: RemovalReason): void {
    if (this.agents.get(a.address) !== a) return;
    this.agents.delete(a.address);
    for (const ds of a.dataSources.values()) this.dsLru.delete(ds);
    if (reason === 'evicted') this.stats.agentsEvicted++;
    else this.stats.agentsExpired++;
    for (const l of this.listeners) l.agentRemoved?.(a, reason);
  }

  private evictOldestAgent(): void {
    const first = this.agents.values().next();
    if (!first.done) this.removeAgent(first.value, 'evicted');
  }

  /** Remove silent agents and data sources, and stopped data sources past their retention. */
  sweep(now: number): void {
    const c = this.config;
    for (const a of [...this.agents.values()]) {
      if (now - a.lastSeen >= c.agentTimeoutMs) {
        this.removeAgent(a, 'expired');
        continue;
      }
      for (const ds of [...a.dataSources.values()]) {
        if (ds.isGone(now, c.stoppedRetentionMs)) this.removeDataSource(ds, 'stopped');
        else if (now - ds.lastSeen >= c.dataSourceTimeoutMs) this.removeDataSource(ds, 'expired');
      }
    }
  }

  /** Whether the data source should be hidden from answers at `now` (ended, or silent past its timeout). */
  isHidden(ds: DataSourceState, now: number): boolean {
    return ds.isGone(now, this.config.stoppedRetentionMs) || now - ds.lastSeen >= this.config.dataSourceTimeoutMs;
  }

  /** Whether the agent should be hidden from answers at `now`. */
  isAgentHidden(a: AgentState, now: number): boolean {
    return now - a.lastSeen >= this.config.agentTimeoutMs;
  }
}
