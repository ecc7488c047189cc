// Metric queries with sFlow-RT's semantics (../shared/reference/sflow-rt.md §2.3, as corrected by
// the recorded answers in ../shared/testdata/sflow-rt/README.md §4, §7): agent lists, filters,
// statistics across data sources and agents, tables and dumps. Pure functions over the engine's
// state: the REST layer only parses and serialises.
//
// Several providers contribute metrics to one data source: the counter metrics store, and (a
// later issue) the flow engine, whose flow names are metrics of the data sources they were
// measured on. Register more with MetricQuery.addProvider.

import type { AgentRegistry, AgentState } from './agents.js';

/** A top flow key of a flow-derived metric (shape of sFlow-RT's `topKeys` entries). */
export interface TopKey {
  key: string;
  value: number;
  lastUpdate: number;
}

export interface MetricEntry {
  value: number | string;
  /** Engine time (ms) of the last update. */
  updatedAt: number;
  /** Flow-derived metrics: the top keys behind the value. */
  topKeys?: readonly TopKey[];
}

/** A source of named metrics per (agent, data source). */
export interface MetricProvider {
  /** Visit the ids of the agent's data sources that hold metrics (and are visible at `now`). */
  forEachDataSource(agent: string, now: number, visit: (ds: string) => void): void;
  /** One metric, or undefined. */
  get(agent: string, ds: string, name: string, now: number): MetricEntry | undefined;
  /** Every metric of one data source. */
  forEachMetric(agent: string, ds: string, now: number, visit: (name: string, e: MetricEntry) => void): void;
  /**
   * Every metric name of one data source with its update time, including names that have no value
   * yet (a counter after its first sample), for /metrics/json. Optional: forEachMetric's names otherwise.
   */
  forEachName?(agent: string, ds: string, now: number, visit: (name: string, updatedAt: number) => void): void;
}

/** A client error in a query (the REST layer answers 400 with the message). */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export const STATISTICS = ['max', 'min', 'sum', 'avg', 'var', 'sdev', 'med', 'q1', 'q2', 'q3', 'iqr', 'any'] as const;
export type Statistic = (typeof STATISTICS)[number];
const STAT_SET = new Set<string>(STATISTICS);

/** `/metric` answer element (sFlow-RT's Statistic object). */
export interface StatisticResult {
  metricName: string;
  metricValue?: number | string;
  agent?: string;
  dataSource?: string;
  metricN?: number;
  lastUpdate?: number;
  lastUpdateMin?: number;
  lastUpdateMax?: number;
  quartiles?: { min: number; q1: number; med: number; q3: number; max: number };
  topKeys?: readonly TopKey[];
}

/** `/dump` and `/table` element (sFlow-RT's Metric object). */
export interface MetricResult {
  agent: string;
  dataSource: string;
  metricName: string;
  metricValue: number | string;
  lastUpdate: number;
  topKeys?: readonly TopKey[];
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Split a `,` or `;` separated path segment into its items (empty items dropped). */
export function splitList(s: string): string[] {
  const out: string[] = [];
  for (const p of s.split(/[,;]/)) {
    const t = p.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

/** Agent selection: every agent, or these addresses / host names. */
export type AgentSelector = { all: true } | { all: false; tokens: string[] };

export function parseAgents(segment: string): AgentSelector {
  const tokens = splitList(segment);
  if (tokens.length === 0) throw new QueryError('empty agent list');
  if (tokens.includes('ALL')) return { all: true };
  return { all: false, tokens };
}

export interface MetricSpec {
  /** The text as requested (`max:2.1.load_one`), echoed as metricName. */
  label: string;
  stat: Statistic;
  /** Explicit statistic prefix given. */
  explicitStat: boolean;
  /** Restrict to one data source id (the `ds.` prefix), or null. */
  ds: string | null;
  name: string;
}

const NAME_RE = /^[A-Za-z0-9_.\-:]+$/;

/** Parse `[stat:][ds.]name`. A name with dots is read as `<ds>.<name>` split at the last dot. */
export function parseMetricSpec(label: string): MetricSpec {
  if (label.length > 256 || !NAME_RE.test(label)) throw new QueryError(`invalid metric name: ${JSON.stringify(label.slice(0, 80))}`);
  let stat: Statistic = 'max';
  let rest = label;
  let explicitStat = false;
  const colon = label.indexOf(':');
  if (colon >= 0) {
    const s = label.slice(0, colon);
    if (!STAT_SET.has(s)) throw new QueryError(`unknown statistic ${JSON.stringify(s)} in ${JSON.stringify(label)}`);
    stat = s as Statistic;
    explicitStat = true;
    rest = label.slice(colon + 1);
    if (rest.includes(':')) throw new QueryError(`invalid metric name: ${JSON.stringify(label)}`);
  }
  if (rest === '') throw new QueryError(`missing metric name in ${JSON.stringify(label)}`);
  let ds: string | null = null;
  let name = rest;
  const dot = rest.lastIndexOf('.');
  if (dot > 0) {
    ds = rest.slice(0, dot);
    name = rest.slice(dot + 1);
    if (name === '') throw new QueryError(`missing metric name in ${JSON.stringify(label)}`);
  }
  return { label, stat, explicitStat, ds, name };
}

export interface TableColumn {
  label: string;
  name: string;
  /** `null:` prefix: rows are kept without it. */
  optional: boolean;
  /** `sort:<m>:<n>`: sort by this column; negative = descending; |n| rows at most. */
  sort: number | null;
}

/** Parse a table column: `name`, `null:name`, `sort:name:N`. */
export function parseColumn(label: string): TableColumn {
  if (label.length > 256 || !NAME_RE.test(label)) throw new QueryError(`invalid column: ${JSON.stringify(label.slice(0, 80))}`);
  const parts = label.split(':');
  if (parts.length === 1) return { label, name: label, optional: false, sort: null };
  if (parts[0] === 'null' && parts.length === 2 && parts[1] !== '') return { label, name: parts[1]!, optional: true, sort: null };
  if (parts[0] === 'sort' && parts.length === 3 && parts[1] !== '') {
    const n = Number(parts[2]);
    if (!/^-?\d+$/.test(parts[2]!) || !Number.isSafeInteger(n)) throw new QueryError(`invalid sort count in ${JSON.stringify(label)}`);
    return { label, name: parts[1]!, optional: false, sort: n };
  }
  throw new QueryError(`invalid column: ${JSON.stringify(label)}`);
}

/** One filter condition: the named metric of the data source matches one of the patterns. */
interface FilterTerm {
  key: string;
  patterns: RegExp[];
}

/** Filters from the query string: `key=value` (glob `*`), same key repeated = OR, keys AND-ed; `ds` is the data-source id. */
export class Filter {
  readonly ds: RegExp[] | null;
  readonly terms: FilterTerm[];
  constructor(ds: RegExp[] | null, terms: FilterTerm[]) {
    this.ds = ds;
    this.terms = terms;
  }
  get empty(): boolean {
    return this.ds === null && this.terms.length === 0;
  }
}

/** Query parameters that are not filters (cache busters, paging). */
const NON_FILTER_KEYS = new Set(['_']);

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

export function parseFilter(query: Record<string, unknown> | undefined, reserved: ReadonlySet<string> = NON_FILTER_KEYS): Filter {
  let ds: RegExp[] | null = null;
  const terms: FilterTerm[] = [];
  if (query === undefined || query === null) return new Filter(null, []);
  for (const [key, raw] of Object.entries(query)) {
    if (reserved.has(key) || NON_FILTER_KEYS.has(key)) continue;
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v));
    if (key.length > 256 || values.some((v) => v.length > 1024)) throw new QueryError('filter too long');
    if (values.length > 256) throw new QueryError('too many filter values');
    const patterns = values.map(globToRegExp);
    if (key === 'ds') ds = patterns;
    else terms.push({ key, patterns });
  }
  return new Filter(ds, terms);
}

// ---------------------------------------------------------------------------------------------
// Statistics helpers

function compareNatural(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Data-source ids in a natural order: interfaces by number, then 2.N, 3.N, named ones. */
export function compareDataSources(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.max(pa.length, pb.length);
  // ifIndex "4" sorts before "2.1": compare class first (interfaces are class 0).
  const ka = pa.length === 1 ? ['0', ...pa] : pa;
  const kb = pb.length === 1 ? ['0', ...pb] : pb;
  for (let i = 0; i < n + 1; i++) {
    const x = ka[i];
    const y = kb[i];
    if (x === undefined) return y === undefined ? 0 : -1;
    if (y === undefined) return 1;
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isInteger(nx) && Number.isInteger(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return compareNatural(x, y);
  }
  return 0;
}

/** Quantile by midpoint interpolation: what sFlow-RT answers (two values: q1 = med = q3 = their mean). */
function quantile(sorted: number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return lo === hi ? sorted[lo]! : (sorted[lo]! + sorted[hi]!) / 2;
}

interface Instance {
  agent: string;
  ds: string;
  e: MetricEntry;
}

// ---------------------------------------------------------------------------------------------

export class MetricQuery {
  private readonly providers: MetricProvider[] = [];

  constructor(private readonly registry: AgentRegistry) {}

  addProvider(p: MetricProvider): void {
    this.providers.push(p);
  }

  /** Agents selected, sorted by address, hidden (expired) ones left out. */
  selectAgents(sel: AgentSelector, now: number): AgentState[] {
    const out: AgentState[] = [];
    if (sel.all) {
      for (const a of this.registry.agents.values()) if (!this.registry.isAgentHidden(a, now)) out.push(a);
    } else {
      const seen = new Set<AgentState>();
      for (const t of sel.tokens) {
        const a = this.registry.agents.get(t);
        if (a !== undefined) {
          if (!this.registry.isAgentHidden(a, now)) seen.add(a);
          continue;
        }
        // Not an agent address: an agent whose host name (any data source) is `t`.
        for (const b of this.registry.agents.values()) {
          if (seen.has(b) || this.registry.isAgentHidden(b, now)) continue;
          let match = false;
          this.forEachDataSource(b.address, now, (ds) => {
            if (!match && this.get(b.address, ds, 'host_name', now)?.value === t) match = true;
          });
          if (match) seen.add(b);
        }
      }
      out.push(...seen);
    }
    return out.sort((x, y) => compareNatural(x.address, y.address));
  }

  /** Data-source ids of an agent across providers, in natural order. */
  dataSources(agent: string, now: number): string[] {
    const set = new Set<string>();
    this.forEachDataSource(agent, now, (ds) => set.add(ds));
    return [...set].sort(compareDataSources);
  }

  private forEachDataSource(agent: string, now: number, visit: (ds: string) => void): void {
    for (const p of this.providers) p.forEachDataSource(agent, now, visit);
  }

  get(agent: string, ds: string, name: string, now: number): MetricEntry | undefined {
    for (const p of this.providers) {
      const e = p.get(agent, ds, name, now);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  forEachMetric(agent: string, ds: string, now: number, visit: (name: string, e: MetricEntry) => void): void {
    for (const p of this.providers) p.forEachMetric(agent, ds, now, visit);
  }

  /** Whether a data source passes the filter. */
  matches(agent: string, ds: string, f: Filter, now: number): boolean {
    if (f.ds !== null && !f.ds.some((re) => re.test(ds))) return false;
    for (const t of f.terms) {
      const e = this.get(agent, ds, t.key, now);
      if (e === undefined) return false;
      const s = typeof e.value === 'string' ? e.value : String(e.value);
      if (!t.patterns.some((re) => re.test(s))) return false;
    }
    return true;
  }

  /** `/metrics/json`: every metric name → ms since it was last updated anywhere. */
  metricNames(now: number): Record<string, number> {
    const out = new Map<string, number>();
    for (const a of this.selectAgents({ all: true }, now)) {
      for (const ds of this.dataSources(a.address, now)) {
        const note = (name: string, updatedAt: number) => {
          const age = ageOf(now, updatedAt);
          const cur = out.get(name);
          if (cur === undefined || age < cur) out.set(name, age);
        };
        for (const p of this.providers) {
          if (p.forEachName) p.forEachName(a.address, ds, now, note);
          else p.forEachMetric(a.address, ds, now, (name, e) => note(name, e.updatedAt));
        }
      }
    }
    return Object.fromEntries([...out].sort((x, y) => compareNatural(x[0], y[0])));
  }

  /** `/metric/{agent}/json`: `{"<ds>.<name>": value}` for the agents given (ALL gives {}, as sFlow-RT). */
  agentMetrics(sel: AgentSelector, f: Filter, now: number): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    if (sel.all) return out;
    for (const a of this.selectAgents(sel, now)) {
      for (const ds of this.dataSources(a.address, now)) {
        if (!f.empty && !this.matches(a.address, ds, f, now)) continue;
        this.forEachMetric(a.address, ds, now, (name, e) => {
          out[`${ds}.${name}`] = e.value;
        });
      }
    }
    return out;
  }

  /** Instances of a metric across the selected agents' data sources. */
  private instances(agents: AgentState[], spec: { ds: string | null; name: string }, f: Filter, now: number): Instance[] {
    const out: Instance[] = [];
    for (const a of agents) {
      const visit = (ds: string) => {
        if (!f.empty && !this.matches(a.address, ds, f, now)) return;
        const e = this.get(a.address, ds, spec.name, now);
        if (e !== undefined) out.push({ agent: a.address, ds, e });
      };
      if (spec.ds !== null) visit(spec.ds);
      else for (const ds of this.dataSources(a.address, now)) visit(ds);
    }
    return out;
  }

  /** `/metric/{agent}/{metrics}/json`: one Statistic per requested metric, in order. */
  statistics(sel: AgentSelector, specs: MetricSpec[], f: Filter, now: number): StatisticResult[] {
    const agents = this.selectAgents(sel, now);
    return specs.map((spec) => this.statistic(agents, spec, f, now));
  }

  private statistic(agents: AgentState[], spec: MetricSpec, f: Filter, now: number): StatisticResult {
    const all = this.instances(agents, spec, f, now);
    const out: StatisticResult = { metricName: spec.label };
    if (all.length === 0) return out;
    const nums = all.filter((i) => typeof i.e.value === 'number');
    const stat = spec.stat;
    const pick = stat === 'max' || stat === 'min' || stat === 'any';
    // Strings take part only in max/min/any, and only when no instance is numeric.
    const used = nums.length > 0 ? nums : pick ? all : [];
    if (used.length === 0) return out;
    let ageMin = Infinity;
    let ageMax = -Infinity;
    for (const i of used) {
      const age = ageOf(now, i.e.updatedAt);
      if (age < ageMin) ageMin = age;
      if (age > ageMax) ageMax = age;
    }
    if (pick) {
      let best = used[0]!;
      for (let k = 1; k < used.length; k++) {
        const c = used[k]!;
        if (stat === 'any') {
          if (c.e.updatedAt > best.e.updatedAt) best = c;
        } else if (stat === 'max' ? c.e.value > best.e.value : c.e.value < best.e.value) best = c;
      }
      out.agent = best.agent;
      out.dataSource = best.ds;
      out.metricValue = best.e.value;
      out.metricN = used.length;
      out.lastUpdate = ageOf(now, best.e.updatedAt);
      out.lastUpdateMin = ageMin;
      out.lastUpdateMax = ageMax;
      if (best.e.topKeys !== undefined) out.topKeys = best.e.topKeys;
      return out;
    }
    const xs = used.map((i) => i.e.value as number);
    let value: number;
    const n = xs.length;
    const sum = xs.reduce((s, x) => s + x, 0);
    const mean = sum / n;
    switch (stat) {
      case 'sum':
        value = sum;
        break;
      case 'avg':
        value = mean;
        break;
      case 'var':
      case 'sdev': {
        const v = xs.reduce((s, x) => s + (x - mean) * (x - mean), 0) / n;
        value = stat === 'var' ? v : Math.sqrt(v);
        break;
      }
      default: {
        const sorted = [...xs].sort((a, b) => a - b);
        const q = { min: sorted[0]!, q1: quantile(sorted, 0.25), med: quantile(sorted, 0.5), q3: quantile(sorted, 0.75), max: sorted[n - 1]! };
        value = stat === 'q1' ? q.q1 : stat === 'q3' ? q.q3 : stat === 'iqr' ? q.q3 - q.q1 : q.med;
        out.metricValue = value;
        out.metricN = n;
        out.lastUpdateMin = ageMin;
        out.lastUpdateMax = ageMax;
        out.quartiles = q;
        return out;
      }
    }
    out.metricValue = value;
    out.metricN = n;
    out.lastUpdateMin = ageMin;
    out.lastUpdateMax = ageMax;
    return out;
  }

  /** `/dump/{agent}/{metrics}/json`: every (agent, data source, metric) instance; `names` null = all metrics. */
  dump(sel: AgentSelector, names: MetricSpec[] | null, f: Filter, now: number): MetricResult[] {
    const out: MetricResult[] = [];
    for (const a of this.selectAgents(sel, now)) {
      for (const ds of this.dataSources(a.address, now)) {
        if (!f.empty && !this.matches(a.address, ds, f, now)) continue;
        if (names === null) {
          this.forEachMetric(a.address, ds, now, (name, e) => out.push(metricResult(a.address, ds, name, e, now)));
        } else {
          for (const spec of names) {
            if (spec.ds !== null && spec.ds !== ds) continue;
            const e = this.get(a.address, ds, spec.name, now);
            if (e !== undefined) out.push(metricResult(a.address, ds, spec.name, e, now));
          }
        }
      }
    }
    return out;
  }

  /** `/table/{agent}/{columns}/json`: one row per data source having every required column. */
  table(sel: AgentSelector, cols: TableColumn[], f: Filter, now: number): (MetricResult | null)[][] {
    const rows: (MetricResult | null)[][] = [];
    for (const a of this.selectAgents(sel, now)) {
      for (const ds of this.dataSources(a.address, now)) {
        if (!f.empty && !this.matches(a.address, ds, f, now)) continue;
        const row: (MetricResult | null)[] = [];
        let keep = true;
        for (const c of cols) {
          const e = this.get(a.address, ds, c.name, now);
          if (e === undefined) {
            if (!c.optional) {
              keep = false;
              break;
            }
            row.push(null);
          } else row.push(metricResult(a.address, ds, c.name, e, now));
        }
        if (keep) rows.push(row);
      }
    }
    const si = cols.findIndex((c) => c.sort !== null);
    if (si >= 0) {
      const n = cols[si]!.sort!;
      const dir = n < 0 ? -1 : 1;
      rows.sort((x, y) => {
        const a = x[si]?.metricValue;
        const b = y[si]?.metricValue;
        if (a === b) return 0;
        if (a === undefined) return 1;
        if (b === undefined) return -1;
        return (a < b ? -1 : 1) * dir;
      });
      const limit = Math.abs(n);
      if (limit > 0 && rows.length > limit) rows.length = limit;
    }
    return rows;
  }
}

function metricResult(agent: string, ds: string, name: string, e: MetricEntry, now: number): MetricResult {
  const m: MetricResult = { agent, dataSource: ds, metricName: name, metricValue: e.value, lastUpdate: ageOf(now, e.updatedAt) };
  if (e.topKeys !== undefined) m.topKeys = e.topKeys;
  return m;
}

/** Milliseconds since `t`, whole, never negative. */
export function ageOf(now: number, t: number): number {
  return Math.max(0, Math.round(now - t));
}
