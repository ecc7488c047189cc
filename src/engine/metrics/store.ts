// The metrics store: counter samples → named metrics per (agent, data source).
//
// Rates (sFlow-RT behaviour, testdata/sflow-rt/README.md §8, unless noted):
// - rate = Δcounter / Δt, Δt = difference of the engine arrival times of the two samples (not the
//   agent's uptime), in per-second units;
// - the first sample of a data source yields gauges and strings only;
// - a 64-bit counter that went down is a reset: rate 0 for that interval;
// - a 32-bit counter that went down wrapped when the wrapped delta is under 2^31 (counters that
//   only reset on agent restart — GPU time and energy — always wrap); otherwise it was reset: 0;
// - after a detected restart of the agent or data source (sequence numbers began again, uptime
//   went back) every rate of that interval is 0 and the baselines start over;
// - a counter equal to all-ones ("unknown") yields no metric;
// - two samples with no time between them (hsflowd sometimes packs two of one data source in a
//   datagram): the second updates gauges and strings, rates keep their value and baseline.

import type { AgentState, DataSourceState, RemovalReason } from '../agents.js';
import type { CounterRecord, CounterSample, RtMetricSample } from '../../sflow/types.js';
import type { DatagramContext, SampleSink } from '../sink.js';
import type { MetricEntry, MetricProvider } from '../query.js';
import { Converter, FieldKind, NAME_INDEX, converterFor, type DeriveCache, type Val } from './converters.js';
import { VIRT_STATE_CRASHED, VIRT_STATE_SHUTOFF } from './names.js';

const TWO32 = 4294967296;
const HALF32 = 2147483648;
const MAX64 = 0xffffffffffffffffn;
/** Custom (rtmetric) metric names kept per data source at most, unless configured (--max-metrics-per-data-source). */
export const DEFAULT_MAX_RT_METRICS = 1024;

// Storage. All metrics of a data source sit in three arrays — numbers (unboxed doubles, NaN = no
// value, followed by each record's counter baselines), texts, and per-record bookkeeping — placed
// by a Layout shared by every data source that sent the same record kinds in the same order (as a
// V8 hidden class): a pod costs a few arrays, not an object per record.

/** Per-record bookkeeping slots in DsMetrics.meta. */
const META = 5;
const M_PREV_AT = 0;
const M_UPDATED = 1;
const M_EPOCH = 2;
const M_NAMED0 = 3;
const M_NAMED1 = 4;
/** Shared layouts at most; beyond (hostile input sending every order of record kinds) layouts are private. */
const MAX_LAYOUTS = 4096;
let layoutCount = 0;

class Layout {
  readonly numOff: number[] = [];
  readonly txtOff: number[] = [];
  readonly numSize: number;
  readonly txtSize: number;
  private readonly next = new Map<Converter, Layout>();

  constructor(readonly convs: readonly Converter[]) {
    let n = 0;
    let t = 0;
    for (const c of convs) {
      this.numOff.push(n);
      this.txtOff.push(t);
      n += c.numbers + c.counters;
      t += c.texts;
    }
    this.numSize = n;
    this.txtSize = t;
  }

  /** This layout plus one record kind. */
  with(conv: Converter): Layout {
    let l = this.next.get(conv);
    if (l === undefined) {
      l = new Layout([...this.convs, conv]);
      if (layoutCount < MAX_LAYOUTS) {
        layoutCount++;
        this.next.set(conv, l);
      }
    }
    return l;
  }

  indexOf(tag: number): number {
    const c = this.convs;
    for (let i = 0; i < c.length; i++) if (c[i]!.tag === tag) return i;
    return -1;
  }
}

const EMPTY_LAYOUT = new Layout([]);

const enum RtKind {
  String,
  Counter,
  Gauge,
}

interface RtEntry {
  kind: RtKind;
  value: Val;
  updatedAt: number;
  prev: number;
  prevAt: number;
  epoch: number;
}

/** Metrics of one data source. */
export class DsMetrics {
  layout: Layout = EMPTY_LAYOUT;
  num: number[] = [];
  txt: (string | undefined)[] = [];
  meta: number[] = [];
  cache: DeriveCache | null = null;
  rt: Map<string, RtEntry> | null = null;
  readonly virtual: boolean;
  constructor(readonly ds: DataSourceState) {
    this.virtual = ds.sourceClass === 3;
  }

  /** Index of the record kind's block, added when new. */
  blockFor(conv: Converter): number {
    const i = this.layout.indexOf(conv.tag);
    if (i >= 0) return i;
    this.layout = this.layout.with(conv);
    // Exact-size arrays (concat), not push: a data source's arrays hardly ever grow again.
    if (conv.numbers + conv.counters > 0) this.num = this.num.concat(new Array<number>(conv.numbers + conv.counters).fill(NaN));
    if (conv.texts > 0) this.txt = this.txt.concat(new Array<string | undefined>(conv.texts).fill(undefined));
    this.meta = this.meta.concat([-1, 0, 0, 0, 0]);
    return this.layout.convs.length - 1;
  }

  value(b: number, i: number): Val {
    const l = this.layout;
    const f = l.convs[b]!.fields[i]!;
    if (f.text) return this.txt[l.txtOff[b]! + f.store];
    const x = this.num[l.numOff[b]! + f.store]!;
    return x === x ? x : undefined;
  }

  updatedAt(b: number): number {
    return this.meta[b * META + M_UPDATED]!;
  }

  isNamed(b: number, i: number): boolean {
    const m = this.meta;
    return i < 31 ? (m[b * META + M_NAMED0]! & (1 << i)) !== 0 : (m[b * META + M_NAMED1]! & (1 << (i - 31))) !== 0;
  }

  name(b: number, i: number): void {
    const m = this.meta;
    if (i < 31) m[b * META + M_NAMED0] = m[b * META + M_NAMED0]! | (1 << i);
    else m[b * META + M_NAMED1] = m[b * META + M_NAMED1]! | (1 << (i - 31));
  }

  get(name: string): MetricEntry | undefined {
    const cands = NAME_INDEX[this.virtual ? 1 : 0].get(name);
    if (cands !== undefined) {
      for (const c of cands) {
        const b = this.layout.indexOf(c.tag);
        if (b < 0) continue;
        const v = this.value(b, c.index);
        if (v !== undefined) return { value: v, updatedAt: this.updatedAt(b) };
      }
    }
    const e = this.rt?.get(name);
    if (e !== undefined && e.value !== undefined) return { value: e.value, updatedAt: e.updatedAt };
    return undefined;
  }

  forEach(visit: (name: string, e: MetricEntry) => void): void {
    const convs = this.layout.convs;
    for (let b = 0; b < convs.length; b++) {
      const exp = convs[b]!.exported;
      for (let i = 0; i < exp.length; i++) {
        const v = this.value(b, exp[i]!.index);
        if (v !== undefined) visit(exp[i]!.name, { value: v, updatedAt: this.updatedAt(b) });
      }
    }
    if (this.rt) for (const [name, e] of this.rt) if (e.value !== undefined) visit(name, { value: e.value, updatedAt: e.updatedAt });
  }

  /** Names known for this data source, including counters that have no rate yet (as sFlow-RT's /metrics/json). */
  forEachName(visit: (name: string, updatedAt: number) => void): void {
    const convs = this.layout.convs;
    for (let b = 0; b < convs.length; b++) {
      const exp = convs[b]!.exported;
      for (let i = 0; i < exp.length; i++) if (this.isNamed(b, exp[i]!.index)) visit(exp[i]!.name, this.updatedAt(b));
    }
    if (this.rt) for (const [name, e] of this.rt) visit(name, e.updatedAt);
  }
}

export interface MetricsStoreStats {
  /** Counter records of a kind we decode but do not turn into metrics. */
  unmappedRecords: number;
  /** Counter records the decoder could not read (unknown tag or broken). */
  unknownRecords: number;
  /** Custom metric values refused because their data source already holds `maxRtMetrics` names. */
  rtMetricsRefused: number;
}

export interface MetricsStoreOptions {
  /** Hide data sources the registry considers gone (ended or silent): given by the engine. */
  isHidden?: (ds: DataSourceState, now: number) => boolean;
  /** Custom (rtmetric) names kept per data source; a value under a further name is refused (counted). */
  maxRtMetrics?: number;
}

export class MetricsStore implements SampleSink, MetricProvider {
  private count = 0;
  private readonly byAgent = new Map<string, Map<string, DsMetrics>>();
  readonly stats: MetricsStoreStats = { unmappedRecords: 0, unknownRecords: 0, rtMetricsRefused: 0 };
  private readonly isHidden: (ds: DataSourceState, now: number) => boolean;
  readonly maxRtMetrics: number;

  constructor(opts: MetricsStoreOptions = {}) {
    this.isHidden = opts.isHidden ?? (() => false);
    this.maxRtMetrics = opts.maxRtMetrics ?? DEFAULT_MAX_RT_METRICS;
    if (!(this.maxRtMetrics >= 1)) throw new RangeError(`metrics store maxRtMetrics must be at least 1 (got ${this.maxRtMetrics})`);
  }

  private metricsOf(ds: DataSourceState): DsMetrics {
    let m = ds.metrics as DsMetrics | null;
    if (m === null) {
      m = new DsMetrics(ds);
      ds.metrics = m;
      this.count++;
      let a = this.byAgent.get(ds.agent.address);
      if (a === undefined) this.byAgent.set(ds.agent.address, (a = new Map()));
      a.set(ds.id, m);
    }
    return m;
  }

  // --- SampleSink ---------------------------------------------------------------------------

  counterSample(ctx: DatagramContext, s: CounterSample, ds: DataSourceState): void {
    const m = this.metricsOf(ds);
    const now = ctx.nowMs;
    const recs = s.records;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      if (r.kind === 'unknown') {
        this.stats.unknownRecords++;
        continue;
      }
      const conv = converterFor(r.tag, m.virtual);
      if (conv === undefined) {
        this.stats.unmappedRecords++;
        continue;
      }
      apply(m, m.blockFor(conv), r, now, ds.epoch);
      if (r.kind === 'virt_cpu' && (r.state === VIRT_STATE_SHUTOFF || r.state === VIRT_STATE_CRASHED)) ds.markEnded(now);
    }
  }

  rtMetric(ctx: DatagramContext, s: RtMetricSample, ds: DataSourceState): void {
    const m = this.metricsOf(ds);
    const rt = (m.rt ??= new Map());
    const now = ctx.nowMs;
    for (const v of s.metrics) {
      let e = rt.get(v.name);
      const kind = v.type === 0 ? RtKind.String : v.type === 1 || v.type === 2 ? RtKind.Counter : RtKind.Gauge;
      if (e === undefined || e.kind !== kind) {
        if (e === undefined && rt.size >= this.maxRtMetrics) {
          this.stats.rtMetricsRefused++;
          continue;
        }
        e = { kind, value: undefined, updatedAt: now, prev: NaN, prevAt: -1, epoch: ds.epoch };
        rt.set(v.name, e);
      }
      if (kind === RtKind.String) e.value = String(v.value);
      else if (kind === RtKind.Gauge) {
        const x = Number(v.value);
        e.value = Number.isFinite(x) ? x : undefined;
      } else {
        const x = Number(v.value);
        if (e.prevAt >= 0 && e.epoch === ds.epoch) {
          const dt = now - e.prevAt;
          if (dt < 1) continue;
          let d = x - e.prev;
          if (d < 0) d = v.type === 1 && d + TWO32 < HALF32 ? d + TWO32 : 0;
          e.value = (d * 1000) / dt;
        } else if (e.prevAt >= 0) e.value = 0;
        e.prev = x;
        e.prevAt = now;
        e.epoch = ds.epoch;
      }
      e.updatedAt = now;
    }
  }

  dataSourceRemoved(ds: DataSourceState, _reason: RemovalReason): void {
    if (ds.metrics === null) return;
    ds.metrics = null;
    this.count--;
    const a = this.byAgent.get(ds.agent.address);
    if (a !== undefined && a.get(ds.id)?.ds === ds) {
      a.delete(ds.id);
      if (a.size === 0) this.byAgent.delete(ds.agent.address);
    }
  }

  agentRemoved(agent: AgentState, _reason: RemovalReason): void {
    for (const ds of agent.dataSources.values()) {
      if (ds.metrics !== null) {
        ds.metrics = null;
        this.count--;
      }
    }
    this.byAgent.delete(agent.address);
  }

  // --- MetricProvider -----------------------------------------------------------------------

  forEachDataSource(agent: string, now: number, visit: (ds: string) => void): void {
    const a = this.byAgent.get(agent);
    if (a === undefined) return;
    for (const [id, m] of a) if (!this.isHidden(m.ds, now)) visit(id);
  }

  get(agent: string, ds: string, name: string, now: number): MetricEntry | undefined {
    const m = this.byAgent.get(agent)?.get(ds);
    if (m === undefined || this.isHidden(m.ds, now)) return undefined;
    return m.get(name);
  }

  forEachMetric(agent: string, ds: string, now: number, visit: (name: string, e: MetricEntry) => void): void {
    const m = this.byAgent.get(agent)?.get(ds);
    if (m === undefined || this.isHidden(m.ds, now)) return;
    m.forEach(visit);
  }

  forEachName(agent: string, ds: string, now: number, visit: (name: string, updatedAt: number) => void): void {
    const m = this.byAgent.get(agent)?.get(ds);
    if (m === undefined || this.isHidden(m.ds, now)) return;
    m.forEachName(visit);
  }

  /** Number of data sources holding metrics. */
  get size(): number {
    return this.count;
  }
}

/** Turn one counter record into its block's values (see the rules at the top of this file). */
function apply(m: DsMetrics, b: number, r: CounterRecord, now: number, epoch: number): void {
  const l = m.layout;
  const conv = l.convs[b]!;
  const fields = conv.fields;
  const v = conv.scratch;
  const num = m.num;
  const numBase = l.numOff[b]!;
  const prevBase = numBase + conv.numbers;
  const txtBase = l.txtOff[b]!;
  const metaBase = b * META;
  const meta = m.meta;
  const prevAt = meta[metaBase + M_PREV_AT]!;
  // 0 first sample, 1 rates, 2 no time elapsed (keep rates), 3 restart (rates 0)
  let mode: number;
  let dt = 0;
  if (prevAt < 0) mode = 0;
  else if (epoch !== meta[metaBase + M_EPOCH]) mode = 3;
  else {
    dt = now - prevAt;
    mode = dt >= 1 ? 1 : 2;
  }
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    switch (f.kind) {
      case FieldKind.Gauge: {
        const x = f.get!(r);
        if (typeof x === 'number') v[i] = Number.isFinite(x) ? x : undefined;
        else v[i] = typeof x === 'bigint' ? Number(x) : undefined;
        break;
      }
      case FieldKind.String: {
        const x = f.get!(r);
        v[i] = typeof x === 'string' ? x : undefined;
        break;
      }
      case FieldKind.C32: {
        if (mode === 2) {
          v[i] = m.value(b, i);
          break;
        }
        const raw = f.get!(r) as number;
        const slot = prevBase + f.slot;
        if (raw === 0xffffffff) {
          v[i] = undefined;
          num[slot] = NaN;
          break;
        }
        const p = num[slot]!;
        if (mode === 0 || p !== p) v[i] = undefined;
        else if (mode === 3) v[i] = 0;
        else {
          let d = raw - p;
          if (d < 0) d = f.wrap === 'always' || d + TWO32 < HALF32 ? d + TWO32 : 0;
          v[i] = (d * 1000) / dt;
        }
        num[slot] = raw;
        break;
      }
      case FieldKind.C64: {
        if (mode === 2) {
          v[i] = m.value(b, i);
          break;
        }
        const big = f.get!(r) as bigint;
        const slot = prevBase + f.slot;
        if (big === MAX64) {
          v[i] = undefined;
          num[slot] = NaN;
          break;
        }
        const raw = Number(big);
        const p = num[slot]!;
        if (mode === 0 || p !== p) v[i] = undefined;
        else if (mode === 3) v[i] = 0;
        else {
          const d = raw - p;
          v[i] = d < 0 ? 0 : (d * 1000) / dt;
        }
        num[slot] = raw;
        break;
      }
      default: {
        const x = f.derive!(v, r, (m.cache ??= {}));
        v[i] = typeof x === 'number' && !Number.isFinite(x) ? undefined : x;
      }
    }
  }
  // Store: numbers unboxed, texts apart; an unchanged text keeps its (older) string.
  const txt = m.txt;
  let n0 = meta[metaBase + M_NAMED0]!;
  let n1 = meta[metaBase + M_NAMED1]!;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const x = v[i];
    if (x !== undefined) {
      if (i < 31) n0 |= 1 << i;
      else n1 |= 1 << (i - 31);
    }
    if (f.text) {
      if (txt[txtBase + f.store] !== x) txt[txtBase + f.store] = x as string | undefined;
    } else num[numBase + f.store] = typeof x === 'number' ? x : NaN;
    v[i] = undefined;
  }
  meta[metaBase + M_NAMED0] = n0;
  meta[metaBase + M_NAMED1] = n1;
  if (mode === 0) nameFirstSample(m, b, r);
  if (mode !== 2) {
    meta[metaBase + M_PREV_AT] = now;
    meta[metaBase + M_EPOCH] = epoch;
  }
  meta[metaBase + M_UPDATED] = now;
}

/**
 * After a data source's first sample: mark the counters (known raw values) and the metrics
 * derived from them as named, by deriving once with every known counter at a dummy rate of 1.
 */
function nameFirstSample(m: DsMetrics, b: number, r: CounterRecord): void {
  const l = m.layout;
  const conv = l.convs[b]!;
  const fields = conv.fields;
  const prevBase = l.numOff[b]! + conv.numbers;
  const tmp: Val[] = fields.map((_, i) => m.value(b, i));
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.kind === FieldKind.C32 || f.kind === FieldKind.C64) {
      const p = m.num[prevBase + f.slot]!;
      if (p === p) {
        tmp[i] = 1;
        m.name(b, i);
      }
    } else if (f.kind === FieldKind.Derived) {
      const x = f.derive!(tmp, r, {});
      tmp[i] = x;
      if (x !== undefined && !(typeof x === 'number' && !Number.isFinite(x))) m.name(b, i);
    }
  }
}
