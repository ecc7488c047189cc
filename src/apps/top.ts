// Flow and Discard Browser, server side (sFlow-RT `browse-flows/scripts/top.js`, reference
// §6.2/§6.3): one flow per distinct (keys, value, filter), sampled every second into a 300-point
// trend of top-N maps; flows not queried for `idleMs` are cleared.

import type { TopFlowsSource } from './flows.js';

export interface TopTrendsConfig {
  /** Flow name prefix (`browse_flows`, `browse_drops`). */
  prefix: string;
  dropped: boolean;
  aggMode: 'sum' | 'max';
  maxFlows: number;
  minValue: number;
  /** Smoothing, seconds. */
  t: number;
  maxPoints: number;
  stepMs: number;
  idleMs: number;
  /** Distinct specs kept at most (oldest idle dropped first). */
  maxSpecs: number;
}

export const BROWSE_FLOWS_CONFIG: TopTrendsConfig = { prefix: 'browse_flows', dropped: false, aggMode: 'max', maxFlows: 10, minValue: 0.01, t: 2, maxPoints: 300, stepMs: 1000, idleMs: 10_000, maxSpecs: 50 };
export const BROWSE_DROPS_CONFIG: TopTrendsConfig = { ...BROWSE_FLOWS_CONFIG, prefix: 'browse_drops', dropped: true, aggMode: 'sum', minValue: 0 };

export const SEP = '_SEP_';

export interface TrendAnswer {
  trend: { maxPoints: number; times: number[]; trends: { topn: Record<string, number>[] } };
}

export class BadSpecError extends Error {}

/** The browsers' value shorthands (sFlow-RT top.js): bps and Bps count bytes (the page scales bps ×8), fps frames. */
export function flowValue(value: string): string {
  if (value === 'bps' || value === 'Bps') return 'bytes';
  if (value === 'fps') return 'frames';
  return value;
}

interface Series {
  name: string;
  times: number[];
  topn: Record<string, number>[];
  lastQuery: number;
}

const MAX_FIELD = 2048;

export class TopTrends {
  private readonly series = new Map<string, Series>();
  private next = 0;

  constructor(
    private readonly source: TopFlowsSource | null,
    readonly config: TopTrendsConfig = BROWSE_FLOWS_CONFIG,
  ) {}

  /** `flows/json?keys=&value=&filter=[&after=]`. Throws BadSpecError for a missing or invalid spec. */
  query(keys: string, value: string, filter: string, after: number | null, now: number): TrendAnswer {
    keys = keys.trim();
    value = value.trim();
    filter = filter.trim();
    if (keys === '' || value === '') throw new BadSpecError('keys and value are required');
    if (keys.length > MAX_FIELD || value.length > MAX_FIELD || filter.length > MAX_FIELD) throw new BadSpecError('spec too long');
    const id = JSON.stringify([keys, value, filter]);
    let s = this.series.get(id);
    if (s === undefined) {
      const name = `${this.config.prefix}${this.next++}`;
      try {
        this.source?.define(name, { keys, value: flowValue(value), filter, t: this.config.t, n: this.config.maxFlows, fs: SEP, dropped: this.config.dropped });
      } catch (e) {
        throw new BadSpecError(e instanceof Error ? e.message : String(e));
      }
      s = { name, times: [], topn: [], lastQuery: now };
      // Pre-filled with empty points spaced one step apart, like the original.
      const t0 = Math.floor(now / this.config.stepMs) * this.config.stepMs;
      for (let i = this.config.maxPoints - 1; i >= 0; i--) {
        s.times.push(t0 - i * this.config.stepMs);
        s.topn.push({});
      }
      this.evictIfFull();
      this.series.set(id, s);
    }
    s.lastQuery = now;
    let from = 0;
    if (after !== null) {
      from = s.times.length;
      while (from > 0 && s.times[from - 1]! > after) from--;
    }
    return { trend: { maxPoints: this.config.maxPoints, times: s.times.slice(from), trends: { topn: s.topn.slice(from) } } };
  }

  /** Sample every live series (call once per step); clears idle ones. */
  tick(now: number): void {
    for (const [id, s] of this.series) {
      if (now - s.lastQuery > this.config.idleMs) {
        this.source?.clear(s.name);
        this.series.delete(id);
        continue;
      }
      const point: Record<string, number> = {};
      if (this.source !== null) {
        for (const f of this.source.activeFlows(s.name, this.config.maxFlows, this.config.minValue, this.config.aggMode)) {
          Object.defineProperty(point, f.key, { value: f.value, enumerable: true, writable: true, configurable: true });
        }
      }
      s.times.push(now);
      s.topn.push(point);
      if (s.times.length > this.config.maxPoints) {
        s.times.shift();
        s.topn.shift();
      }
    }
  }

  /** Flow keys for type-ahead: names starting with `search` (case-insensitive), sorted. */
  flowKeys(search: string): string[] {
    const all = this.source?.flowKeys() ?? [];
    const p = search.toLowerCase();
    return all.filter((k) => k.toLowerCase().startsWith(p)).sort();
  }

  get size(): number {
    return this.series.size;
  }

  private evictIfFull(): void {
    while (this.series.size >= this.config.maxSpecs) {
      let oldest: [string, Series] | null = null;
      for (const e of this.series) if (oldest === null || e[1].lastQuery < oldest[1].lastQuery) oldest = e;
      if (oldest === null) return;
      this.source?.clear(oldest[1].name);
      this.series.delete(oldest[0]);
    }
  }
}
