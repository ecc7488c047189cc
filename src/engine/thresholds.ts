// Thresholds (sFlow-RT `/threshold/{name}/json`, ../shared/reference/sflow-rt.md §2.6):
// `{"metric":"load_one","value":2,"filter":{"os_name":["linux"]},"byFlow":false,"timeout":10}`.
//
// Evaluation runs off the hot path, on a timer (every second by default), at the engine clock's
// time, through the same metric query as `/metric` and `/dump`:
// - a bare metric (`load_one`, a flow name, `2.1.load_one` for one data source) is checked on every
//   (agent, data source) that has it and passes the filter: each crossing is its own event, named
//   by agent and dataSource; on a flow metric (value = its top key's value) the event carries that
//   key as flowKey — so only the first flow over the threshold on a data source raises an event;
// - a statistic (`max:load_one`, `sum:pair`) is checked once over all agents, as
//   `/metric/ALL/<stat:metric>/json` computes it; its event names the winning agent and data
//   source for max/min/any, else agent "ALL" and dataSource "ALL";
// - `byFlow: true` on a flow name checks every flow key of the flow (FlowValuesSource, provided by
//   the flow engine): one event per (agent, data source, key) above the threshold.
// An instance fires when its value goes above `value` (strictly); it re-arms once its value has
// stayed at or below `value` (or been absent) for `timeout` seconds (default 0: at the first
// evaluation below). Redefining a threshold re-arms all its instances.

import type { Clock } from './clock.js';
import type { EventLog, NewEvent } from './events.js';
import { checkName, loadNamed } from './groups.js';
import type { PersistentSection } from './labels.js';
import { Filter, QueryError, parseFilter, parseMetricSpec, type MetricQuery, type MetricSpec } from './query.js';

/** Per-key flow values, provided by the flow engine for `byFlow` thresholds. */
export interface FlowValuesSource {
  /**
   * The largest flow keys of `flow` among the agents selected by `agents` (`ALL` or a list as in
   * /activeflows), at most `max`, each with the data source it was measured on (one entry per
   * agent, data source and key preferred: thresholds track each separately).
   */
  topFlows(agents: string, flow: string, max: number): { key: string; value: number; agent: string; dataSource: string }[];
}

/** A threshold as stored and echoed (defaults filled in). */
export interface ThresholdSpec {
  metric: string;
  value: number;
  byFlow: boolean;
  /** Seconds the value must stay at or below `value` before the threshold re-arms. */
  timeout: number;
  /** Data-source filter, as the /metric query parameters: metric → values (glob `*`); `ds` = data-source id. */
  filter?: Record<string, string[]>;
}

export interface ThresholdConfig {
  /** Most thresholds (default 1,000). */
  maxThresholds: number;
  /** Most triggered (not yet re-armed) instances per threshold (default 10,000); beyond it new crossings are counted, not raised. */
  maxTriggeredPerThreshold: number;
  /** Flow keys asked of the flow engine per byFlow threshold per evaluation (default 1,000). */
  maxFlowsPerEvaluation: number;
  /** Evaluation period of the timer, ms (default 1,000). */
  intervalMs: number;
}

export const DEFAULT_THRESHOLD_CONFIG: ThresholdConfig = { maxThresholds: 1_000, maxTriggeredPerThreshold: 10_000, maxFlowsPerEvaluation: 1_000, intervalMs: 1_000 };

const MAX_TIMEOUT_S = 7 * 24 * 3600;

interface Instance {
  /** Engine time since the value has been at or below the threshold (or absent), or null while above. */
  belowSince: number | null;
}

interface Compiled {
  name: string;
  spec: ThresholdSpec;
  metric: MetricSpec;
  filter: Filter;
  /** Triggered instances by key (`agent ds` or `agent ds key`; `*` for a statistic). */
  triggered: Map<string, Instance>;
}

function num(x: unknown, what: string): number {
  const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN;
  if (!Number.isFinite(n)) throw new QueryError(`${what}: expected a number, got ${JSON.stringify(x)?.slice(0, 80)}`);
  return n;
}

function normalizeFilter(f: unknown): Record<string, string[]> | undefined {
  if (f === undefined || f === null || f === '') return undefined;
  const out: Record<string, string[]> = {};
  if (typeof f === 'string') {
    // Legacy form: a query string `os_name=linux&cpu_num=2`.
    for (const [k, v] of new URLSearchParams(f)) (out[k] ??= []).push(v);
  } else if (typeof f === 'object' && !Array.isArray(f)) {
    for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
      const items = Array.isArray(v) ? v : [v];
      out[k] = items.map((x, i) => {
        if (typeof x === 'string') return x;
        if (typeof x === 'number' && Number.isFinite(x)) return String(x);
        throw new QueryError(`filter ${JSON.stringify(k)}, entry ${i}: expected a string`);
      });
      if (out[k]!.length === 0) throw new QueryError(`filter ${JSON.stringify(k)}: no values`);
    }
  } else throw new QueryError('filter: expected an object {"<metric>": ["<value>", ...]}');
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Validate a threshold body; throws QueryError naming the fault. */
export function parseThreshold(body: unknown): { spec: ThresholdSpec; metric: MetricSpec; filter: Filter } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new QueryError('a threshold is an object {"metric": "<name>", "value": <number>, ...}');
  const b = body as Record<string, unknown>;
  if (typeof b.metric !== 'string' || b.metric === '') throw new QueryError('metric: required, a metric or flow name');
  const metric = parseMetricSpec(b.metric);
  if (b.value === undefined) throw new QueryError('value: required, the threshold');
  const value = num(b.value, 'value');
  let byFlow = false;
  if (b.byFlow !== undefined && b.byFlow !== null) {
    if (b.byFlow === true || b.byFlow === 'true') byFlow = true;
    else if (b.byFlow === false || b.byFlow === 'false') byFlow = false;
    else throw new QueryError('byFlow: expected true or false');
  }
  let timeout = 0;
  if (b.timeout !== undefined && b.timeout !== null) {
    timeout = num(b.timeout, 'timeout');
    if (timeout < 0 || timeout > MAX_TIMEOUT_S) throw new QueryError(`timeout: seconds, 0..${MAX_TIMEOUT_S}`);
  }
  if (byFlow && metric.explicitStat) throw new QueryError(`byFlow: the metric must be a flow name, not a statistic (${JSON.stringify(b.metric)})`);
  const f = normalizeFilter(b.filter);
  const filter = parseFilter(f);
  const spec: ThresholdSpec = { metric: b.metric, value, byFlow, timeout };
  if (f !== undefined) spec.filter = f;
  return { spec, metric, filter };
}

export interface ThresholdStats {
  evaluations: number;
  /** Time spent in the last evaluation, ms. */
  lastEvaluationMs: number;
  eventsRaised: number;
  /** Crossings not raised because a threshold had maxTriggeredPerThreshold instances triggered. */
  suppressed: number;
  /** Thresholds whose evaluation threw (a bug, logged by the caller). */
  errors: number;
}

export class ThresholdEngine {
  readonly config: ThresholdConfig;
  private readonly thresholds = new Map<string, Compiled>();
  private flows: FlowValuesSource | null = null;
  private readonly listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  readonly stats: ThresholdStats = { evaluations: 0, lastEvaluationMs: 0, eventsRaised: 0, suppressed: 0, errors: 0 };
  /** Called when an evaluation throws (the server logs it). */
  onError: ((err: unknown, thresholdID: string) => void) | null = null;

  constructor(
    private readonly query: MetricQuery,
    private readonly events: EventLog,
    private readonly clock: Clock,
    config: Partial<ThresholdConfig> = {},
  ) {
    this.config = { ...DEFAULT_THRESHOLD_CONFIG, ...config };
  }

  /** The flow engine's per-key values, for byFlow thresholds (until set, byFlow thresholds never fire). */
  setFlowValues(src: FlowValuesSource | null): void {
    this.flows = src;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  /** Create or replace (and re-arm) a threshold; returns the stored spec. Throws QueryError. */
  set(name: string, body: unknown): ThresholdSpec {
    checkName('threshold', name);
    const { spec, metric, filter } = parseThreshold(body);
    if (!this.thresholds.has(name) && this.thresholds.size >= this.config.maxThresholds) throw new QueryError(`too many thresholds (at most ${this.config.maxThresholds})`);
    this.thresholds.set(name, { name, spec, metric, filter, triggered: new Map() });
    this.emit();
    return spec;
  }

  delete(name: string): boolean {
    const had = this.thresholds.delete(name);
    if (had) this.emit();
    return had;
  }

  get(name: string): ThresholdSpec | undefined {
    return this.thresholds.get(name)?.spec;
  }

  names(): string[] {
    return [...this.thresholds.keys()].sort();
  }

  all(): Record<string, ThresholdSpec> {
    const out: Record<string, ThresholdSpec> = {};
    for (const n of this.names()) out[n] = this.thresholds.get(n)!.spec;
    return out;
  }

  get size(): number {
    return this.thresholds.size;
  }

  /** Triggered (not re-armed) instances of a threshold. */
  triggeredCount(name: string): number {
    return this.thresholds.get(name)?.triggered.size ?? 0;
  }

  /**
   * sFlow-RT's thresholdTriggered(id, agent, "<ds>.<metric>", flowKey): whether that instance has
   * fired and not re-armed yet.
   */
  isTriggered(thresholdID: string, agent: string, dsMetric: string, flowKey?: string): boolean {
    const t = this.thresholds.get(thresholdID);
    if (t === undefined) return false;
    if (t.metric.explicitStat) return t.triggered.has('*');
    const dot = dsMetric.lastIndexOf('.');
    const ds = dot > 0 ? dsMetric.slice(0, dot) : dsMetric;
    return t.triggered.has(flowKey !== undefined && t.spec.byFlow ? `${agent} ${ds} ${flowKey}` : `${agent} ${ds}`);
  }

  /** Evaluate every threshold at `now` (engine time): raise events, re-arm instances. */
  evaluate(now: number = this.clock.now()): void {
    const t0 = performance.now();
    this.stats.evaluations++;
    for (const t of this.thresholds.values()) {
      try {
        this.evaluateOne(t, now);
      } catch (err) {
        this.stats.errors++;
        this.onError?.(err, t.name);
      }
    }
    this.events.prune(now);
    this.stats.lastEvaluationMs = performance.now() - t0;
  }

  private evaluateOne(t: Compiled, now: number): void {
    const above = new Set<string>();
    const limit = t.spec.value;
    const fire = (key: string, agent: string, dataSource: string, value: number, metric: string, flowKey: string | undefined) => {
      above.add(key);
      const inst = t.triggered.get(key);
      if (inst !== undefined) {
        inst.belowSince = null;
        return;
      }
      if (t.triggered.size >= this.config.maxTriggeredPerThreshold) {
        this.stats.suppressed++;
        return;
      }
      t.triggered.set(key, { belowSince: null });
      const ev: NewEvent = { timestamp: Math.round(now), thresholdID: t.name, metric, agent, dataSource, value, threshold: limit };
      if (flowKey !== undefined) ev.flowKey = flowKey;
      this.events.append(ev);
      this.stats.eventsRaised++;
    };

    const m = t.metric;
    if (t.spec.byFlow) {
      if (this.flows !== null) {
        for (const f of this.flows.topFlows('ALL', m.name, this.config.maxFlowsPerEvaluation)) {
          if (!(f.value > limit)) continue;
          if (m.ds !== null && f.dataSource !== m.ds) continue;
          if (!t.filter.empty && !this.query.matches(f.agent, f.dataSource, t.filter, now)) continue;
          fire(`${f.agent} ${f.dataSource} ${f.key}`, f.agent, f.dataSource, f.value, m.name, f.key);
        }
      }
    } else if (m.explicitStat) {
      const s = this.query.statistics({ all: true }, [m], t.filter, now)[0];
      const v = s?.metricValue;
      if (typeof v === 'number' && v > limit) {
        fire('*', s!.agent ?? 'ALL', s!.dataSource ?? 'ALL', v, m.label, s!.topKeys?.[0]?.key);
      }
    } else {
      for (const r of this.query.dump({ all: true }, [m], t.filter, now)) {
        const v = r.metricValue;
        if (typeof v !== 'number' || !(v > limit)) continue;
        fire(`${r.agent} ${r.dataSource}`, r.agent, r.dataSource, v, m.name, r.topKeys?.[0]?.key);
      }
    }

    // Re-arm what has stayed at or below the threshold (or gone) for `timeout` seconds.
    const hold = t.spec.timeout * 1000;
    for (const [key, inst] of t.triggered) {
      if (above.has(key)) continue;
      if (inst.belowSince === null) inst.belowSince = now;
      if (now - inst.belowSince >= hold) t.triggered.delete(key);
    }
  }

  /** Evaluate every `intervalMs` (wall clock) at the engine clock's time, until stop(). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.evaluate(), this.config.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The state-store section ("thresholds"): `{ name: spec }`. */
  section(): PersistentSection {
    return {
      name: 'thresholds',
      save: () => this.all(),
      load: (snapshot: unknown) => loadNamed(snapshot, (name, body) => this.set(name, body)),
    };
  }
}

