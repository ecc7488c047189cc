// The flow engine: user-defined flows over packet samples and discard notifications
// (../shared/reference/sflow-rt.md §3, §2.4), as a SampleSink of the ingest pipeline and a
// MetricProvider of the metric queries (flow names are metrics: `/metric/ALL/sum:pair/json`).
//
// Per sample (hot path, synchronous, no I/O): the sample's records are found once (SampleView),
// then every spec of its kind (packet samples or, for `dropped: true`, discard notifications)
// runs its compiled filter, reads its keys (joined once with `fs`) and its value, and adds to its
// table for the sample's data source (table.ts: decaying top-N with a key budget). Specs with
// `log: true` also keep a record per key and emit it to the flow log when the flow ends.
//
// When a logged flow ends (docs/flows.md has the full story):
//  - active timeout: records whose age reached the spec's `activeTimeout` are closed by a check
//    that runs on sample arrival, at most every `logCheckIntervalMs` (10 s, as sFlow-RT does;
//    shorter when activeTimeout/2 is shorter). The record ends at that moment and the key's next
//    record starts there (contiguous records).
//  - idle: with `flowTimeoutMs` > 0 (default 5 s), a key without a sample for that long ends at
//    its last sample. With `flowTimeoutMs` = 0 (sFlow-RT 3.1 timing), an idle record ends at the
//    next 10 s sweep tick once it is `activeTimeout` old and has been idle for 2 s, and the key's
//    next record starts at that tick.
//  - eviction (key budget), deletion of the spec, removal of the data source or agent: the
//    record ends at its last sample.
// Time comes from the samples (and from the clock for queries and sweeps), so replays and tests
// are deterministic.

import type { AgentState, DataSourceState, RemovalReason } from '../agents.js';
import type { Engine } from '../engine.js';
import type { PersistentSection, StateStoreLike } from '../labels.js';
import { ageOf, parseAgents, QueryError, type MetricEntry, type MetricProvider, type TopKey } from '../query.js';
import type { DatagramContext, SampleSink } from '../sink.js';
import type { DiscardSample, FlowSample } from '../../sflow/types.js';
import { compileFilterAst, parseFilter } from './filter.js';
import { emptyKeyDeps, type KeyDeps } from './keys.js';
import { KeyTracker } from './keytracker.js';
import { FlowLog, type FlowLogQuery, type FlowRecord } from './log.js';
import { SampleView } from './sample.js';
import { checkFlowName, compileSpec, echoSpec, normalizeSpec, sameSpec, type AggMode, type CompiledSpec, type FlowSpec } from './spec.js';
import { FlowSpecError, parseKeyExpr } from './syntax.js';
import { FlowEntry, FlowTable, ValueLayout, type TableOwner } from './table.js';

export interface FlowEngineConfig {
  /** Key budget per flow spec and data source: beyond it the smallest key is evicted (counted). */
  maxKeysPerTable: number;
  /** Keys held across all specs and data sources; beyond it the table being added to evicts its smallest key. */
  maxEntries: number;
  /** Flow specs defined at most. */
  maxFlows: number;
  /** A logged flow whose key had no sample for this long ends (ms); 0 = sFlow-RT 3.1 timing (see above). */
  flowTimeoutMs: number;
  /** Active-timeout checks run at most this often (ms), on sample arrival; also the idle sweep period in sFlow-RT timing. */
  logCheckIntervalMs: number;
  /** Completed flow records kept for /flows/json (sFlow-RT flows.max). */
  flowLogMax: number;
  /** Longest long-poll of /flows/json (ms). */
  maxPollMs: number;
  /** /flowkeys lists attribute names seen within this long (ms). */
  flowKeysMaxAgeMs: number;
  /**
   * sFlow-RT timing: the sweep ticks fall on this time plus multiples of logCheckIntervalMs
   * (epoch ms; default: when the flow engine was created, like sFlow-RT's timer).
   */
  sweepAnchorMs: number | null;
}

export const DEFAULT_FLOW_ENGINE_CONFIG: FlowEngineConfig = {
  maxKeysPerTable: 1000,
  maxEntries: 1_000_000,
  maxFlows: 1000,
  flowTimeoutMs: 5000,
  logCheckIntervalMs: 10_000,
  flowLogMax: 1000,
  maxPollMs: 60_000,
  flowKeysMaxAgeMs: 3_600_000,
  sweepAnchorMs: null,
};

/**
 * sFlow-RT timing: an idle record ends at a sweep tick once idle this long (ms). The recorded
 * answers bound it between 0.35 s (records with a sample 0.32-0.35 s before a sweep stayed open)
 * and 0.68 s (records idle 0.68 s were closed).
 */
const SFLOWRT_IDLE_MS = 500;
/** Renormalize a spec's accumulators when (now − T0)/t exceeds this. */
const RENORM_EXPONENT = 200;

/** One answer element of /activeflows. */
export interface ActiveFlow {
  key: string;
  value: number;
  agent: string;
  dataSource: string;
  /** Data sources the key was seen on (merged into this answer). */
  flowN: number;
  values?: number[];
}

export interface ActiveFlowsOptions {
  /** Default 100. */
  maxFlows?: number;
  /** Keys with a smaller value are left out (default 0). */
  minValue?: number;
  /** How a key seen on several data sources is merged (default the spec's aggMode, else `max`). */
  aggMode?: AggMode | string;
  /** A filter over the flow's keys (`ipsource=10.0.0.1&ipprotocol=6`), as in the filter language. */
  filter?: string;
}

/** One (agent, data source, key) of a flow, for byFlow thresholds and /flowlocations. */
export interface FlowLocation {
  key: string;
  value: number;
  agent: string;
  dataSource: string;
  /** ms since the key's last sample on that data source. */
  lastUpdate: number;
}

export interface FlowEngineStats {
  /** Packet samples and discard notifications looked at. */
  samples: number;
  /** (sample, spec) pairs counted. */
  matches: number;
  /** Keys evicted because of a key budget. */
  evictions: number;
  /** Keys held now. */
  entries: number;
  /** Tables (spec × data source) held now. */
  tables: number;
  /** Records logged (sFlow-RT flowsGenerated). */
  recordsLogged: number;
  /** Records pushed out of the log before... (sFlow-RT flowsLost: overwritten). */
  recordsLost: number;
  /** Spec renormalizations (decay epoch moves). */
  renormalizations: number;
  /** Flow samples not counted because their sequence number resynchronised (as sFlow-RT). */
  resyncSkipped: number;
}

export interface SetFlowOptions {
  /**
   * Who owns the flow: undefined = a user (REST API; persisted in the state file), or an app's
   * tag (`prometheus`, `sunburst`, `browse-flows`...: not persisted, the app re-creates it).
   */
  owner?: string;
  /** Keep the running state when the spec is identical (default true). */
  keepIfSame?: boolean;
}

interface DsFlows {
  readonly agent: string;
  readonly ds: DataSourceState;
  readonly tables: (FlowTable | undefined)[];
  // The effective sampling rate as sFlow-RT estimates it (see flowRate()).
  /** The data source's out-of-order and restart counts when its last flow sample was seen. */
  ooo: number;
  restarts: number;
  /** Effective sampling rate; 0 before the first sample. */
  r: number;
  /** Sample pool and declared rate of the last sample. */
  pool: number;
  rate: number;
}

/** A level of the key-tuple interner. */
interface TupleNode {
  /** The next key's values (null at the last key). */
  next: Map<string, TupleNode> | null;
  /** At the last key: the joined key string (interned: its hash is computed once). */
  key: string | null;
  /** The table and entry this tuple last updated (skips the table lookup when it repeats). */
  table: FlowTable | null;
  entry: FlowEntry | null;
}

/** Key tuples interned per spec at most (then the interner starts afresh). */
const MAX_TUPLES = 100_000;

/** The live state of one flow spec. */
export class FlowRuntime implements TableOwner {
  readonly layout: ValueLayout;
  factor = 1;
  t0: number;
  readonly tauMs: number;
  readonly tSeconds: number;
  /** Time the factor was computed for. */
  private fNow = NaN;
  readonly tables = new Set<FlowTable>();
  /** Entries with an open record (log specs). */
  readonly open = new Set<FlowEntry>();
  /** Idle list: entries with an open record (or a logged start), least recently updated first. */
  idleHead: FlowEntry | null = null;
  idleTail: FlowEntry | null = null;
  nextActiveCheck = -Infinity;
  readonly activeCheckMs: number;
  /** Interner of key tuples (specs with several keys): value → next level, leaf → joined key. */
  private tuples = new Map<string, TupleNode>();
  private tupleCount = 0;
  readonly fs: string;
  readonly log: boolean;
  readonly flowStart: boolean;
  readonly activeTimeoutMs: number;
  matches = 0;
  // the compiled spec, flattened for the hot path
  private readonly filter: CompiledSpec['filter'];
  private readonly keyReaders: CompiledSpec['keys'];
  private readonly read: CompiledSpec['value']['read'];
  private readonly simple: boolean;

  constructor(
    readonly engine: FlowEngine,
    readonly name: string,
    readonly compiled: CompiledSpec,
    readonly slot: number,
    /** Owner tag (undefined: user-defined, persisted). */
    public owner: string | undefined,
    now: number,
  ) {
    const spec = compiled.spec;
    this.layout = new ValueLayout([compiled.value, ...compiled.extra]);
    this.t0 = now;
    this.tSeconds = spec.t;
    this.tauMs = spec.t * 1000;
    this.fs = spec.fs;
    this.log = spec.log;
    this.flowStart = spec.flowStart;
    this.activeTimeoutMs = spec.activeTimeout * 1000;
    this.activeCheckMs = Math.min(engine.config.logCheckIntervalMs, this.activeTimeoutMs / 2);
    this.filter = compiled.filter;
    this.keyReaders = compiled.keys;
    this.read = compiled.value.read;
    this.simple = this.layout.simple;
  }

  get spec(): FlowSpec {
    return this.compiled.spec;
  }

  /** Count a sample (hot path). */
  process(s: SampleView, dsf: DsFlows, now: number): void {
    const filter = this.filter;
    if (filter !== null && !filter(s)) return;
    const ks = this.keyReaders;
    const n = ks.length;
    let key: string;
    let node: TupleNode | null = null;
    if (n === 1) {
      const k0 = ks[0]!(s);
      if (k0 === undefined) return;
      key = k0;
    } else if (n === 0) key = '';
    else {
      // Walk the tuple interner with the key strings (most come from caches, hash already
      // known): no joined string is built for a tuple seen before.
      let level = this.tuples;
      for (let i = 0; ; i++) {
        const v = ks[i]!(s);
        if (v === undefined) return;
        let next: TupleNode | null | undefined = level.get(v);
        if (next === undefined) next = this.internMiss(level, v, s, i);
        if (next === null) return;
        if (i === n - 1) {
          node = next;
          break;
        }
        level = next.next!;
      }
      key = node.key!;
    }
    const x = this.read(s);
    if (x !== x) return;
    if (now !== this.fNow) this.setTime(now);
    let t = dsf.tables[this.slot];
    if (t === undefined) t = this.engine.createTable(this, dsf);
    let e: FlowEntry;
    if (node !== null && node.table === t && node.entry!.hi >= 0 && node.entry!.key === key) {
      // the tuple's entry in this table
      e = node.entry!;
      if (this.simple) {
        const v = e.v0 + x * this.factor;
        e.v0 = v;
        e.rank = v;
        e.lastUpdate = now;
        t.lastUpdate = now;
        if (v > t.top!.rank) t.top = e;
      } else t.bump(e, x, s, now);
    } else {
      const eng = this.engine;
      const before = t.map.size;
      e = t.add(key, x, s, now, before < eng.config.maxKeysPerTable && eng.entryCount < eng.config.maxEntries);
      eng.entryCount += t.map.size - before;
      if (node !== null) {
        node.table = t;
        node.entry = e;
      }
    }
    this.matches++;
    if (this.log) this.logSample(e, x, s, now);
  }

  /**
   * A key value not yet in the interner at depth i: add it (the leaf holds the joined key). The
   * remaining keys are read again to build the joined string; null when one is missing.
   */
  private internMiss(level: Map<string, TupleNode>, v: string, s: SampleView, i: number): TupleNode | null {
    const ks = this.compiled.keys;
    const last = i === ks.length - 1;
    if (this.tupleCount >= MAX_TUPLES) {
      // bounded: start afresh (entries keep their key strings)
      this.tuples = new Map();
      this.tupleCount = 0;
      if (i > 0) return this.rebuildPath(s);
      level = this.tuples;
    }
    let key: string | null = null;
    if (last) {
      key = '';
      for (let k = 0; k < ks.length; k++) {
        const x = ks[k]!(s);
        if (x === undefined) return null;
        key = k === 0 ? x : key + this.fs + x;
      }
      this.tupleCount++;
    }
    const node: TupleNode = { next: last ? null : new Map(), key, table: null, entry: null };
    level.set(v, node);
    return node;
  }

  /** After the interner was cleared mid-walk: the leaf for the sample's tuple, rebuilt from the root. */
  private rebuildPath(s: SampleView): TupleNode | null {
    const ks = this.compiled.keys;
    let level = this.tuples;
    let node: TupleNode | null = null;
    for (let i = 0; i < ks.length; i++) {
      const v = ks[i]!(s);
      if (v === undefined) return null;
      let next = level.get(v);
      if (next === undefined) {
        const last = i === ks.length - 1;
        let key: string | null = null;
        if (last) {
          key = '';
          for (let k = 0; k < ks.length; k++) key = k === 0 ? ks[k]!(s)! : key + this.fs + ks[k]!(s)!;
          this.tupleCount++;
        }
        next = { next: last ? null : new Map(), key, table: null, entry: null };
        level.set(v, next);
      }
      node = next;
      if (next.next !== null) level = next.next;
    }
    return node;
  }

  private setTime(now: number): void {
    this.fNow = now;
    let ex = (now - this.t0) / this.tauMs;
    if (ex > RENORM_EXPONENT || ex < -RENORM_EXPONENT) {
      this.renormalize(now);
      ex = 0;
    }
    this.factor = Math.exp(ex) / this.tSeconds;
  }

  /** Move the decay epoch to `now`, rescaling every accumulator (values are unchanged). */
  renormalize(now: number): void {
    const g = Math.exp(-(now - this.t0) / this.tauMs);
    for (const t of this.tables) t.rescale(g);
    this.t0 = now;
    this.fNow = NaN;
    this.engine.stats.renormalizations++;
  }

  // ---- flow log ----------------------------------------------------------------------------

  private logSample(e: FlowEntry, x: number, s: SampleView, now: number): void {
    if (this.flowStart) {
      if (!e.started) {
        e.started = true;
        const tot = this.totals(e);
        tot.fill(0);
        this.accumulate(tot, x, s);
        this.engine.emit(this, e, now, now, tot);
      }
      e.recLast = now;
      this.touch(e);
      return;
    }
    const tot = this.totals(e);
    if (!e.recOpen) {
      e.recOpen = true;
      e.recStart = e.chainStart === e.chainStart ? e.chainStart : now;
      e.chainStart = NaN;
      tot.fill(0);
      this.open.add(e);
    }
    this.accumulate(tot, x, s);
    e.recLast = now;
    this.touch(e);
  }

  private totals(e: FlowEntry): Float64Array {
    return (e.tot ??= new Float64Array(this.layout.totSlots));
  }

  private accumulate(tot: Float64Array, x: number, s: SampleView): void {
    const L = this.layout;
    if (L.simple) {
      tot[0] = tot[0]! + x;
      return;
    }
    for (let i = 0; i < L.kinds.length; i++) {
      const v = i === 0 ? x : L.reads[i]!(s);
      if (v !== v) continue;
      const o = L.totSlot[i]!;
      switch (L.kinds[i]) {
        case 'sum':
          tot[o] = tot[o]! + v;
          break;
        case 'avg':
          tot[o] = tot[o]! + v * s.scale;
          tot[o + 1] = tot[o + 1]! + s.scale;
          break;
        case 'min':
          if (tot[o + 1] === 0 || v < tot[o]!) {
            tot[o] = v;
            tot[o + 1] = 1;
          }
          break;
        case 'max':
          if (tot[o + 1] === 0 || v > tot[o]!) {
            tot[o] = v;
            tot[o + 1] = 1;
          }
          break;
        default:
          break;
      }
    }
  }

  /** Value `i` of a record's totals (count: the key's current distinct count). */
  recordValue(e: FlowEntry, i: number, tot: Float64Array, now: number): number {
    const L = this.layout;
    const o = L.totSlot[i]!;
    switch (L.kinds[i]) {
      case 'sum':
        return tot[o]!;
      case 'avg':
        return tot[o + 1]! > 0 ? tot[o]! / tot[o + 1]! : 0;
      case 'min':
      case 'max':
        return tot[o]!;
      default:
        return e.table.value(e, i, now);
    }
  }

  /** Move to the recent end of the idle list. */
  private touch(e: FlowEntry): void {
    if (this.idleTail === e) return;
    this.unlink(e);
    e.prevIdle = this.idleTail;
    e.nextIdle = null;
    if (this.idleTail !== null) this.idleTail.nextIdle = e;
    else this.idleHead = e;
    this.idleTail = e;
  }

  unlink(e: FlowEntry): void {
    const p = e.prevIdle;
    const n = e.nextIdle;
    if (p === null && n === null && this.idleHead !== e) return;
    if (p !== null) p.nextIdle = n;
    else this.idleHead = n;
    if (n !== null) n.prevIdle = p;
    else this.idleTail = p;
    e.prevIdle = null;
    e.nextIdle = null;
  }

  /** Close an open record ending at `end`; with `chain` the key's next record starts there. */
  close(e: FlowEntry, end: number, chain: boolean, now: number): void {
    if (!e.recOpen) return;
    e.recOpen = false;
    this.open.delete(e);
    this.unlink(e);
    e.chainStart = chain ? end : NaN;
    this.engine.emit(this, e, e.recStart, end, e.tot!, now);
  }

  /** The active-timeout check (sample-driven). */
  activeCheck(now: number): void {
    this.nextActiveCheck = now + this.activeCheckMs;
    if (this.open.size === 0) return;
    const limit = this.activeTimeoutMs;
    for (const e of [...this.open]) if (now - e.recStart >= limit) this.close(e, now, true, now);
  }

  /** Idle ends up to `now`. */
  idleCheck(now: number, flowTimeoutMs: number): void {
    if (flowTimeoutMs <= 0) return;
    let e = this.idleHead;
    while (e !== null && now - e.recLast >= flowTimeoutMs) {
      const next = e.nextIdle;
      if (this.flowStart) {
        e.started = false;
        this.unlink(e);
      } else this.close(e, e.recLast, false, now);
      e = next;
    }
  }

  /** sFlow-RT timing: the periodic sweep at tick `tau`. */
  sweepTick(tau: number): void {
    let e = this.idleHead;
    const limit = this.activeTimeoutMs;
    while (e !== null && tau - e.recLast >= SFLOWRT_IDLE_MS) {
      const next = e.nextIdle;
      if (!this.flowStart && tau - e.recStart >= limit) this.close(e, tau, true, tau);
      e = next;
    }
  }

  /** A key left its table (budget, removal): end its record at its last sample. */
  evicted(e: FlowEntry, now: number): void {
    this.engine.stats.evictions++;
    this.drop(e, now);
  }

  /** Forget an entry's log state, ending its record. */
  drop(e: FlowEntry, now: number): void {
    if (e.recOpen) this.close(e, e.recLast, false, now);
    this.unlink(e);
  }
}

/** Statistics of a query over many tables: the answer of /activeflows. */
interface Merge {
  key: string;
  value: number;
  /** The largest single value (its agent and data source are reported). */
  best: number;
  agent: string;
  dataSource: string;
  flowN: number;
  values: number[] | null;
  /** agent mode: per-agent sums. */
  perAgent: Map<string, number> | null;
}

export class FlowEngine implements SampleSink {
  readonly config: FlowEngineConfig;
  readonly deps: KeyDeps;
  readonly log: FlowLog;
  readonly stats: FlowEngineStats = { samples: 0, matches: 0, evictions: 0, entries: 0, tables: 0, recordsLogged: 0, recordsLost: 0, renormalizations: 0, resyncSkipped: 0 };
  /** Keys held across all tables. */
  entryCount = 0;
  private readonly specs = new Map<string, FlowRuntime>();
  private flowSpecs: FlowRuntime[] = [];
  private discardSpecs: FlowRuntime[] = [];
  private logSpecs: FlowRuntime[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly dsFlows = new Map<DataSourceState, DsFlows>();
  private readonly byAgent = new Map<string, Map<string, DsFlows>>();
  private lastDs: DataSourceState | null = null;
  private lastDsf: DsFlows | null = null;
  private readonly view = new SampleView();
  readonly keys = new KeyTracker();
  private nextActiveCheck = -Infinity;
  /** sFlow-RT timing: next sweep tick (NaN until the first sample). */
  private nextTick = NaN;
  private state: StateStoreLike | null = null;
  private readonly changeListeners = new Set<(name: string) => void>();
  readonly metrics: MetricProvider;
  /** Engine time when the flow engine was created. */
  readonly createdAt: number;

  constructor(
    readonly engine: Engine,
    config: Partial<FlowEngineConfig> = {},
    deps: Partial<KeyDeps> = {},
  ) {
    this.config = { ...DEFAULT_FLOW_ENGINE_CONFIG, ...config };
    for (const k of ['maxKeysPerTable', 'maxEntries', 'maxFlows', 'logCheckIntervalMs', 'flowLogMax'] as const) {
      if (!(this.config[k] >= 1)) throw new RangeError(`flow engine ${k} must be at least 1 (got ${this.config[k]})`);
    }
    if (!(this.config.flowTimeoutMs >= 0)) throw new RangeError('flow engine flowTimeoutMs must be 0 or more');
    this.deps = { ...emptyKeyDeps(), ...deps };
    this.deps.hostAttribute ??= this.hostAttributeLookup();
    this.deps.ifName ??= (agent, ifIndex, now) => {
      const v = engine.query.get(agent, ifIndex, 'ifname', now)?.value;
      return typeof v === 'string' ? v : undefined;
    };
    this.log = new FlowLog(this.config.flowLogMax);
    this.createdAt = engine.clock.now();
    this.metrics = this.metricProvider();
    engine.addSink(this);
    engine.addMetricProvider(this.metrics);
  }

  private now(): number {
    return this.engine.clock.now();
  }

  // ---- specs -------------------------------------------------------------------------------

  /**
   * Define or replace a flow. `body` is the sFlow-RT spec (PUT body). Throws FlowSpecError with a
   * message that points at the fault. Returns the normalized spec.
   */
  setFlow(name: string, body: unknown, opts: SetFlowOptions = {}): FlowSpec {
    checkFlowName(name);
    const spec = normalizeSpec(body);
    const compiled = compileSpec(spec, this.deps);
    const old = this.specs.get(name);
    if (old !== undefined && opts.keepIfSame !== false && sameSpec(old.spec, spec)) {
      const persistedBefore = old.owner === undefined;
      old.owner = opts.owner;
      if (persistedBefore || opts.owner === undefined) this.changed(name);
      return old.spec;
    }
    if (old === undefined && this.specs.size >= this.config.maxFlows) throw new FlowSpecError(`too many flows (at most ${this.config.maxFlows}); delete some first`);
    if (old !== undefined) this.removeRuntime(old);
    const slot = old !== undefined ? old.slot : (this.freeSlots.pop() ?? this.nextSlot++);
    const rt = new FlowRuntime(this, name, compiled, slot, opts.owner, this.now());
    this.specs.set(name, rt);
    this.rebuildLists();
    if (opts.owner === undefined || (old !== undefined && old.owner === undefined)) this.changed(name);
    return spec;
  }

  /** Delete a flow; false when there was none. Open records are flushed to the log. */
  deleteFlow(name: string): boolean {
    const rt = this.specs.get(name);
    if (rt === undefined) return false;
    this.removeRuntime(rt);
    this.specs.delete(name);
    this.freeSlots.push(rt.slot);
    this.rebuildLists();
    if (rt.owner === undefined) this.changed(name);
    return true;
  }

  private removeRuntime(rt: FlowRuntime): void {
    const now = this.now();
    for (const e of [...rt.open]) rt.close(e, e.recLast, false, now);
    for (const t of rt.tables) {
      const dsf = this.dsFlows.get(t.ds);
      if (dsf !== undefined && dsf.tables[rt.slot] === t) dsf.tables[rt.slot] = undefined;
      this.entryCount -= t.size;
      this.stats.tables--;
    }
    rt.tables.clear();
  }

  private rebuildLists(): void {
    const all = [...this.specs.values()];
    this.flowSpecs = all.filter((r) => !r.spec.dropped);
    this.discardSpecs = all.filter((r) => r.spec.dropped);
    this.logSpecs = all.filter((r) => r.log);
    this.nextActiveCheck = -Infinity;
  }

  /** The normalized spec of a flow. */
  getFlow(name: string): FlowSpec | undefined {
    return this.specs.get(name)?.spec;
  }

  /** Owner tag of a flow (undefined: user-defined). */
  flowOwner(name: string): string | undefined {
    return this.specs.get(name)?.owner;
  }

  hasFlow(name: string): boolean {
    return this.specs.has(name);
  }

  /** Every flow as GET /flow/json shows it. */
  listFlows(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [name, rt] of this.specs) out[name] = echoSpec(rt.spec);
    return out;
  }

  /** Names of the flows (optionally of one owner; `null` = user-defined ones). */
  flowNames(owner?: string | null): string[] {
    const out: string[] = [];
    for (const [name, rt] of this.specs) if (owner === undefined || (owner === null ? rt.owner === undefined : rt.owner === owner)) out.push(name);
    return out;
  }

  /** Called after every change of a user-defined flow (name). */
  onChange(fn: (name: string) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  private changed(name: string): void {
    this.state?.changed('flows');
    for (const l of this.changeListeners) l(name);
  }

  // ---- the hot path ------------------------------------------------------------------------

  /** The per-data-source table array. */
  private dsFlowsOf(ds: DataSourceState, agent: string): DsFlows {
    if (ds === this.lastDs) return this.lastDsf!;
    let d = this.dsFlows.get(ds);
    if (d === undefined) {
      d = { agent, ds, tables: [], ooo: 0, restarts: 0, r: 0, pool: 0, rate: 0 };
      this.dsFlows.set(ds, d);
      let m = this.byAgent.get(agent);
      if (m === undefined) {
        m = new Map();
        this.byAgent.set(agent, m);
      }
      m.set(ds.id, d);
    }
    this.lastDs = ds;
    this.lastDsf = d;
    return d;
  }

  /** A table for a spec on a data source (called by FlowRuntime.process). */
  createTable(rt: FlowRuntime, dsf: DsFlows): FlowTable {
    const t = new FlowTable(rt, dsf.ds, dsf.agent);
    while (dsf.tables.length <= rt.slot) dsf.tables.push(undefined);
    dsf.tables[rt.slot] = t;
    rt.tables.add(t);
    this.stats.tables++;
    return t;
  }

  /**
   * The effective sampling rate of a flow sample, as sFlow-RT scales it: per data source, the
   * declared rate for the first sample, after a rate change, a sequence restart or a resync; else
   * an EWMA (α = 0.02) of the sample pool's growth per sample received. A late sample keeps the
   * current rate. A resync — the sequence number jumped ahead by seqno.maxdelta (20) or more —
   * restarts the estimate and the sample itself is not counted (NaN): sFlow-RT 3.1 does both
   * (the recorded hsflowd-tunnels-sample replay, which keeps every 5th datagram, matches only so).
   */
  private flowRate(dsf: DsFlows, ds: DataSourceState, sample: FlowSample): number {
    const t = ds.flow;
    const rate = sample.samplingRate;
    const pool = sample.samplePool;
    if (t === null) return rate;
    const ooo = t.outOfOrder;
    const restarts = t.restarts;
    const moved = ooo !== dsf.ooo;
    dsf.ooo = ooo;
    const restarted = restarts !== dsf.restarts;
    dsf.restarts = restarts;
    if (moved && t.last !== sample.sequence) return dsf.r > 0 ? dsf.r : rate; // late
    const jump = moved && t.last === sample.sequence && dsf.r > 0;
    if (dsf.r === 0 || jump || restarted || rate !== dsf.rate || pool === 0) dsf.r = rate;
    else dsf.r += 0.02 * (((pool - dsf.pool) >>> 0) - dsf.r);
    dsf.pool = pool;
    dsf.rate = rate;
    return jump ? NaN : dsf.r;
  }

  flowSample(ctx: DatagramContext, sample: FlowSample, ds: DataSourceState): void {
    const now = ctx.nowMs;
    const s = this.view;
    const dsf = this.dsFlowsOf(ds, ctx.agent.address);
    const rate = this.flowRate(dsf, ds, sample);
    this.stats.samples++;
    if (rate !== rate) {
      this.stats.resyncSkipped++;
      return;
    }
    s.setFlow(ctx.agent.address, ds, now, sample, rate);
    if (this.logSpecs.length > 0) this.advance(now);
    const specs = this.flowSpecs;
    for (let i = 0; i < specs.length; i++) specs[i]!.process(s, dsf, now);
    this.keys.note(s, now);
    s.release();
    this.afterSample(now);
  }

  discardSample(ctx: DatagramContext, sample: DiscardSample, ds: DataSourceState): void {
    const now = ctx.nowMs;
    const s = this.view;
    s.setDiscard(ctx.agent.address, ds, now, sample);
    this.stats.samples++;
    if (this.logSpecs.length > 0) this.advance(now);
    const specs = this.discardSpecs;
    if (specs.length > 0) {
      const dsf = this.dsFlowsOf(ds, ctx.agent.address);
      for (let i = 0; i < specs.length; i++) specs[i]!.process(s, dsf, now);
    }
    this.keys.note(s, now);
    s.release();
    this.afterSample(now);
  }

  /**
   * The active-timeout checks after a sample at `now` (time-driven ends up to `now` ran before
   * the sample was counted: a sweep tick in the past must not see this sample).
   */
  private afterSample(now: number): void {
    const logs = this.logSpecs;
    if (logs.length === 0) return;
    if (now >= this.nextActiveCheck) {
      let next = Infinity;
      for (let i = 0; i < logs.length; i++) {
        const rt = logs[i]!;
        if (now >= rt.nextActiveCheck) rt.activeCheck(now);
        if (rt.nextActiveCheck < next) next = rt.nextActiveCheck;
      }
      this.nextActiveCheck = next;
    }
  }

  /** Time-driven log ends up to `now` (idle timeouts, sFlow-RT sweep ticks). Deterministic. */
  advance(now: number): void {
    const logs = this.logSpecs;
    if (logs.length === 0) return;
    const ft = this.config.flowTimeoutMs;
    if (ft > 0) {
      for (let i = 0; i < logs.length; i++) logs[i]!.idleCheck(now, ft);
      return;
    }
    const period = this.config.logCheckIntervalMs;
    if (this.nextTick !== this.nextTick) {
      const anchor = this.config.sweepAnchorMs ?? this.createdAt;
      this.nextTick = anchor + (Math.floor((now - anchor) / period) + 1) * period;
      return;
    }
    // a clock far ahead (a long pause): skip to the last tick
    if (now - this.nextTick > 1000 * period) this.nextTick += Math.floor((now - this.nextTick) / period) * period;
    while (this.nextTick <= now) {
      const tau = this.nextTick;
      for (let i = 0; i < logs.length; i++) logs[i]!.sweepTick(tau);
      this.nextTick += period;
    }
  }

  /** Log a record (called by runtimes). */
  emit(rt: FlowRuntime, e: FlowEntry, start: number, end: number, tot: Float64Array, now: number = end): void {
    const nValues = rt.layout.kinds.length;
    const rec: Omit<FlowRecord, 'flowID'> = {
      name: rt.name,
      agent: e.table.agent,
      dataSource: e.table.ds.id,
      flowKeys: e.key,
      value: rt.recordValue(e, 0, tot, now),
      start,
      end,
    };
    if (nValues > 1) {
      const values: number[] = [];
      for (let i = 1; i < nValues; i++) values.push(rt.recordValue(e, i, tot, now));
      rec.values = values;
    }
    this.log.append(rec);
    this.stats.recordsLogged = this.log.generated;
    this.stats.recordsLost = this.log.lost;
  }

  agentRemoved(agent: AgentState, _reason: RemovalReason): void {
    const m = this.byAgent.get(agent.address);
    if (m === undefined) return;
    for (const dsf of [...m.values()]) this.dropDs(dsf);
    this.byAgent.delete(agent.address);
  }

  dataSourceRemoved(ds: DataSourceState, _reason: RemovalReason): void {
    const dsf = this.dsFlows.get(ds);
    if (dsf !== undefined) this.dropDs(dsf);
  }

  private dropDs(dsf: DsFlows): void {
    const now = this.now();
    for (let slot = 0; slot < dsf.tables.length; slot++) {
      const t = dsf.tables[slot];
      if (t === undefined) continue;
      const rt = t.owner as FlowRuntime;
      for (const e of t.heap) rt.drop(e, now);
      rt.tables.delete(t);
      this.entryCount -= t.size;
      this.stats.tables--;
    }
    this.dsFlows.delete(dsf.ds);
    const m = this.byAgent.get(dsf.agent);
    if (m !== undefined && m.get(dsf.ds.id) === dsf) {
      m.delete(dsf.ds.id);
      if (m.size === 0) this.byAgent.delete(dsf.agent);
    }
    if (this.lastDs === dsf.ds) {
      this.lastDs = null;
      this.lastDsf = null;
    }
  }

  /** Housekeeping (the engine's sweep timer): idle log ends at the clock's time. */
  sweep(now: number): void {
    this.advance(now);
    this.stats.entries = this.entryCount;
  }

  /** Answer pending long polls (shutdown). */
  stop(): void {
    this.log.close();
  }

  // ---- queries -----------------------------------------------------------------------------

  /** Tables of a flow on the agents selected (`ALL` or a list), visible at `now`. */
  private tablesOf(rt: FlowRuntime, agents: string, now: number): FlowTable[] {
    const sel = this.engine.query.selectAgents(parseAgents(agents), now);
    const out: FlowTable[] = [];
    const reg = this.engine.registry;
    for (const a of sel) {
      const m = this.byAgent.get(a.address);
      if (m === undefined) continue;
      for (const dsf of m.values()) {
        const t = dsf.tables[rt.slot];
        if (t !== undefined && t.size > 0 && !reg.isHidden(dsf.ds, now)) out.push(t);
      }
    }
    return out;
  }

  /** A predicate over key strings from an /activeflows filter on the flow's keys. */
  private keyFilter(rt: FlowRuntime, text: string): (fields: string[]) => boolean {
    const names = rt.compiled.keyNames;
    const ast = parseFilter(text, 'filter');
    return compileFilterAst<string[]>(
      ast,
      (key) => {
        let i = names.indexOf(key.trim());
        if (i < 0) {
          // also accept the key as written without brackets (`[dns:ipsource]` vs `dns:ipsource`)
          const src = parseKeyExpr(key, 'filter').source;
          i = names.findIndex((n) => parseKeyExpr(n, 'keys').source === src);
        }
        if (i < 0) throw new FlowSpecError(`filter: ${JSON.stringify(key)} is not a key of flow ${JSON.stringify(rt.name)} (keys: ${names.join(', ')})`);
        const idx = i;
        return (f) => f[idx];
      },
      'filter',
    );
  }

  /**
   * The current top flows of `name` across the agents' data sources (sFlow-RT activeFlows):
   * keys merged across data sources (`max`: the largest value, `sum`: added, `edge`: as max —
   * without a topology every data source counts as an edge port —, `core`: nothing without a
   * topology, `agent`: summed per agent, then the largest agent), sorted by value, largest
   * first. Unknown flow: []. Throws FlowSpecError for a bad filter or aggMode.
   */
  activeFlows(agents: string, name: string, opts: ActiveFlowsOptions = {}, now: number = this.now()): ActiveFlow[] {
    const rt = this.specs.get(name);
    if (rt === undefined) return [];
    this.advance(now);
    const mode = String(opts.aggMode ?? rt.spec.aggMode ?? 'max').toLowerCase();
    if (!['max', 'sum', 'edge', 'core', 'agent'].includes(mode)) throw new FlowSpecError(`aggMode: expected max, sum, edge, core or agent, not ${JSON.stringify(opts.aggMode)}`);
    const maxFlows = opts.maxFlows ?? 100;
    const minValue = opts.minValue ?? 0;
    const filter = opts.filter !== undefined && opts.filter !== '' ? this.keyFilter(rt, opts.filter) : null;
    if (mode === 'core') return [];
    const nValues = rt.layout.kinds.length;
    const merged = new Map<string, Merge>();
    const fs = rt.fs;
    const single = rt.compiled.keyNames.length <= 1;
    for (const t of this.tablesOf(rt, agents, now)) {
      for (const e of t.heap) {
        if (filter !== null && !filter(single ? [e.key] : e.key.split(fs))) continue;
        const v = t.value(e, 0, now);
        const values = nValues > 1 ? Array.from({ length: nValues - 1 }, (_, i) => t.value(e, i + 1, now)) : null;
        let m = merged.get(e.key);
        if (m === undefined) {
          m = { key: e.key, value: v, best: v, agent: t.agent, dataSource: t.ds.id, flowN: 1, values, perAgent: null };
          if (mode === 'agent') m.perAgent = new Map([[t.agent, v]]);
          merged.set(e.key, m);
          continue;
        }
        m.flowN++;
        const larger = v > m.best;
        if (larger) {
          m.best = v;
          m.agent = t.agent;
          m.dataSource = t.ds.id;
        }
        if (mode === 'sum') {
          m.value += v;
          if (m.values !== null && values !== null) for (let i = 0; i < values.length; i++) m.values[i] = m.values[i]! + values[i]!;
        } else if (mode === 'agent') {
          const pa = m.perAgent!;
          pa.set(t.agent, (pa.get(t.agent) ?? 0) + v);
          if (m.values !== null && values !== null) for (let i = 0; i < values.length; i++) m.values[i] = m.values[i]! + values[i]!;
        } else if (larger) {
          m.value = v;
          m.values = values;
        }
      }
    }
    const list = [...merged.values()];
    if (mode === 'agent') {
      for (const m of list) {
        let best = -Infinity;
        for (const v of m.perAgent!.values()) if (v > best) best = v;
        m.value = best;
      }
    }
    const kept = list.filter((m) => m.value >= minValue);
    kept.sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (kept.length > maxFlows) kept.length = Math.max(0, maxFlows);
    return kept.map((m) => {
      const o: ActiveFlow = { key: m.key, value: m.value, agent: m.agent, dataSource: m.dataSource, flowN: m.flowN };
      if (m.values !== null) o.values = m.values;
      return o;
    });
  }

  /**
   * The largest (agent, data source, key) values of a flow, at most `max`, largest first — one
   * entry per data source and key (thresholds with `byFlow` track each separately). Unknown flow: [].
   */
  topFlows(agents: string, flow: string, max: number, now: number = this.now()): FlowLocation[] {
    const rt = this.specs.get(flow);
    if (rt === undefined || max <= 0) return [];
    const out: FlowLocation[] = [];
    for (const t of this.tablesOf(rt, agents, now)) {
      for (const e of t.heap) out.push({ key: e.key, value: t.value(e, 0, now), agent: t.agent, dataSource: t.ds.id, lastUpdate: ageOf(now, e.lastUpdate) });
    }
    out.sort((a, b) => b.value - a.value);
    if (out.length > max) out.length = max;
    return out;
  }

  /** The value of one key of a flow on one data source; undefined when the flow, agent or data source has no table (404). 0 for an unknown key. */
  flowValue(agent: string, dataSource: string, name: string, key: string, now: number = this.now()): number | undefined {
    const rt = this.specs.get(name);
    if (rt === undefined) return undefined;
    const dsf = this.byAgent.get(agent)?.get(dataSource);
    const t = dsf?.tables[rt.slot];
    if (t === undefined || this.engine.registry.isHidden(dsf!.ds, now)) return undefined;
    const e = t.map.get(key);
    return e === undefined ? 0 : t.value(e, 0, now);
  }

  /** Where a key of a flow is seen: one entry per (agent, data source), largest first. */
  flowLocations(agents: string, name: string, key: string, now: number = this.now()): FlowLocation[] {
    const rt = this.specs.get(name);
    if (rt === undefined) return [];
    const out: FlowLocation[] = [];
    for (const t of this.tablesOf(rt, agents, now)) {
      const e = t.map.get(key);
      if (e !== undefined) out.push({ key, value: t.value(e, 0, now), agent: t.agent, dataSource: t.ds.id, lastUpdate: ageOf(now, e.lastUpdate) });
    }
    return out.sort((a, b) => b.value - a.value);
  }

  /** /flowkeys/json: attribute names seen recently → ms since last seen. */
  flowKeys(now: number = this.now()): Record<string, number> {
    return this.keys.snapshot(now, this.config.flowKeysMaxAgeMs);
  }

  /** Completed flow records, newest first (after time-driven ends up to the clock's time). */
  flows(q: FlowLogQuery, now: number = this.now()): FlowRecord[] {
    this.advance(now);
    return this.log.query(q);
  }

  /** Like flows(), waiting up to `timeoutMs` for a record when none matches. */
  pollFlows(q: FlowLogQuery, timeoutMs: number, now: number = this.now()): Promise<FlowRecord[]> {
    this.advance(now);
    return this.log.poll(q, Math.min(timeoutMs, this.config.maxPollMs));
  }

  /** Statistics (entries refreshed). */
  getStats(): FlowEngineStats {
    this.stats.entries = this.entryCount;
    this.stats.recordsLogged = this.log.generated;
    this.stats.recordsLost = this.log.lost;
    return { ...this.stats };
  }

  /** Extra /analyzer/json fields. */
  analyzerFields(): Record<string, number> {
    const s = this.getStats();
    return {
      flowsGenerated: s.recordsLogged,
      flowsLost: s.recordsLost,
      flowSpecs: this.specs.size,
      flowSamples: s.samples,
      flowTables: s.tables,
      flowKeys: s.entries,
      flowKeyEvictions: s.evictions,
    };
  }

  // ---- flow metrics ------------------------------------------------------------------------

  private metricEntry(rt: FlowRuntime, t: FlowTable, now: number): MetricEntry {
    const n = rt.spec.n;
    let top: FlowEntry[];
    if (rt.layout.kinds[0] === 'sum') top = t.topEntries(n);
    else top = [...t.heap].sort((a, b) => t.value(b, 0, now) - t.value(a, 0, now)).slice(0, n);
    const topKeys: TopKey[] = top.map((e) => ({ key: e.key, value: t.value(e, 0, now), lastUpdate: ageOf(now, e.lastUpdate) }));
    return { value: topKeys.length > 0 ? topKeys[0]!.value : 0, updatedAt: t.lastUpdate, topKeys };
  }

  private metricProvider(): MetricProvider {
    const reg = this.engine.registry;
    return {
      forEachDataSource: (agent, now, visit) => {
        const m = this.byAgent.get(agent);
        if (m === undefined || this.specs.size === 0) return;
        for (const [id, dsf] of m) {
          if (reg.isHidden(dsf.ds, now)) continue;
          if (dsf.tables.some((t) => t !== undefined && t.size > 0)) visit(id);
        }
      },
      get: (agent, ds, name, now) => {
        const rt = this.specs.get(name);
        if (rt === undefined) return undefined;
        const dsf = this.byAgent.get(agent)?.get(ds);
        const t = dsf?.tables[rt.slot];
        if (t === undefined || t.size === 0 || reg.isHidden(dsf!.ds, now)) return undefined;
        return this.metricEntry(rt, t, now);
      },
      forEachMetric: (agent, ds, now, visit) => {
        const dsf = this.byAgent.get(agent)?.get(ds);
        if (dsf === undefined || reg.isHidden(dsf.ds, now)) return;
        for (const [name, rt] of this.specs) {
          const t = dsf.tables[rt.slot];
          if (t !== undefined && t.size > 0) visit(name, this.metricEntry(rt, t, now));
        }
      },
    };
  }

  // ---- dependencies of key functions -------------------------------------------------------

  /** Set (or replace) lookups used by key functions: groups, maps, dnsName, k8s, geo, topology... */
  setDeps(d: Partial<KeyDeps>): void {
    Object.assign(this.deps, d);
  }

  private hostAttributeLookup(): (address: string, attr: string, now: number) => string | undefined {
    const cache = new Map<string, { v: string | undefined; at: number }>();
    const q = this.engine.query;
    return (address, attr, now) => {
      const k = `${address}\u0000${attr}`;
      const c = cache.get(k);
      if (c !== undefined && now - c.at < 10_000 && now >= c.at) return c.v;
      let v: string | undefined;
      for (const ds of q.dataSources(address, now)) {
        const e = q.get(address, ds, attr, now);
        if (e !== undefined && typeof e.value === 'string') {
          v = e.value;
          break;
        }
      }
      if (cache.size >= 10_000) cache.clear();
      cache.set(k, { v, at: now });
      return v;
    };
  }

  // ---- persistence -------------------------------------------------------------------------

  /** The state-file section of user-defined flows (`flows`: name → spec). */
  persistentSection(): PersistentSection {
    return {
      name: 'flows',
      save: () => {
        const out: Record<string, unknown> = {};
        for (const [name, rt] of this.specs) if (rt.owner === undefined) out[name] = echoSpec(rt.spec);
        return out;
      },
      load: (snapshot) => {
        const rejected: { key: string; reason: string }[] = [];
        let loaded = 0;
        if (snapshot === null || typeof snapshot !== 'object' || Array.isArray(snapshot)) {
          return { loaded, rejected: [{ key: '*', reason: 'flows: expected an object of flow specs' }] };
        }
        const state = this.state;
        this.state = null; // loading is not a change
        try {
          for (const [name, body] of Object.entries(snapshot as Record<string, unknown>)) {
            try {
              this.setFlow(name, body);
              loaded++;
            } catch (e) {
              rejected.push({ key: name, reason: (e as Error).message });
            }
          }
        } finally {
          this.state = state;
        }
        return { loaded, rejected };
      },
    };
  }

  /** Keep user-defined flows in the state file: registers the `flows` section. */
  attachStateStore(store: StateStoreLike): void {
    this.state = store;
    store.register(this.persistentSection());
  }

  // ---- adapters for other components -------------------------------------------------------

  /** For the Prometheus flow export (src/engine/prometheus/flows.ts FlowExportSource). */
  exportSource(owner = 'prometheus'): {
    ensureFlow(name: string, spec: { keys: string; value: string; filter?: string; n: number; t: number; dropped: boolean; fs: string }): void;
    removeFlow(name: string): void;
    activeFlows(agents: string, name: string, opts: { maxFlows: number; minValue: number; aggMode: 'max' | 'sum' }): { key: string; value: number }[];
  } {
    return {
      ensureFlow: (name, spec) => {
        this.setFlow(name, spec, { owner });
      },
      removeFlow: (name) => {
        this.deleteFlow(name);
      },
      activeFlows: (agents, name, opts) => this.activeFlows(agents, name, opts).map((f) => ({ key: f.key, value: f.value })),
    };
  }

  /** For the flow apps (src/apps/flows.ts TopFlowsSource): flows tagged with `owner`. */
  appSource(owner = 'apps'): {
    define(name: string, spec: { keys: string; value: string; filter: string; t: number; n: number; fs: string; dropped?: boolean }): void;
    clear(name: string): void;
    activeFlows(name: string, maxFlows: number, minValue: number, aggMode: 'sum' | 'max'): { key: string; value: number }[];
    flowKeys(): string[];
  } {
    return {
      define: (name, spec) => {
        // The apps' routes answer QueryError with 400 and its message; a FlowSpecError (the flow
        // engine full at --max-flows, or a bad spec) would otherwise surface as a 500.
        try {
          this.setFlow(name, spec, { owner });
        } catch (e) {
          if (e instanceof FlowSpecError) throw new QueryError(e.message);
          throw e;
        }
      },
      clear: (name) => {
        this.deleteFlow(name);
      },
      activeFlows: (name, maxFlows, minValue, aggMode) => this.activeFlows('ALL', name, { maxFlows, minValue, aggMode }).map((f) => ({ key: f.key, value: f.value })),
      flowKeys: () => Object.keys(this.flowKeys()),
    };
  }
}
