// The decaying top-N table of one flow spec on one data source.
//
// Estimator (sFlow-RT's, verified against the recorded answers, README §5): a key's value at
// time `now` is
//
//     v(now) = Σ_i (x_i / t) · exp(−(now − t_i) / t)
//
// where x_i is what sample i contributed (bytes × sampling rate, frames × sampling rate...) and t
// the spec's time constant in seconds. For a steady stream of X bytes per second this converges
// to X: values read as bytes/s, frames/s, requests/s. One sample of 1000 bytes at sampling rate
// 10 with t = 10 reads 1000 at once, 904.8 a second later, 49.8 after 30 s.
//
// It is kept as a forward-decayed sum: each sample adds (x_i / t) · exp((t_i − T0) / t) to the
// key's accumulator, and v(now) = accumulator · exp(−(now − T0) / t). Adding is one multiply
// (the factor is computed once per spec per time step, not per key), a key's accumulator only
// grows, and the order of keys never changes with time — so "largest" is a pointer and
// "smallest" a lazy min-heap: a key's heap position is not updated when its value grows (no work
// per sample); the eviction pops the heap top, and a key found to have grown since it was placed
// is put back with its current value (a key's value only grows, so the first key popped whose
// placed value is still current is the smallest). When (now − T0)/t grows large, every
// accumulator of the spec is rescaled and T0 moved to now (FlowRuntime.renormalize), keeping the
// numbers in range.
//
// Bounds: at most `maxKeys` keys per table; a new key beyond that evicts the key with the
// smallest current value (counted in `evictions`).

import type { DataSourceState } from '../agents.js';
import type { SampleView } from './sample.js';
import type { CompiledValue, ValueKind } from './values.js';

/** Where each value of a spec keeps its state in an entry's `acc` array. */
export class ValueLayout {
  readonly kinds: ValueKind[];
  readonly reads: ((s: SampleView) => number)[];
  readonly distinct: (CompiledValue['distinct'])[];
  /** Offset of each value in `acc`. */
  readonly slot: number[];
  readonly slots: number;
  /** Offset of each value in the record totals. */
  readonly totSlot: number[];
  readonly totSlots: number;
  /** The primary value is a plain sum and there are no extra values (the fast path). */
  readonly simple: boolean;
  readonly hasCount: boolean;

  constructor(values: readonly CompiledValue[]) {
    this.kinds = values.map((v) => v.kind);
    this.reads = values.map((v) => v.read);
    this.distinct = values.map((v) => v.distinct);
    this.slot = [];
    this.totSlot = [];
    let n = 0;
    let m = 0;
    for (const k of this.kinds) {
      this.slot.push(n);
      this.totSlot.push(m);
      n += k === 'sum' || k === 'count' ? 1 : 2;
      m += k === 'avg' || k === 'min' || k === 'max' ? 2 : 1;
    }
    this.slots = n;
    this.totSlots = m;
    this.simple = values.length === 1 && this.kinds[0] === 'sum';
    this.hasCount = this.kinds.includes('count');
  }
}

/** Most distinct values remembered per key for `count:`. */
const MAX_DISTINCT = 1024;

/** One key of a table. */
export class FlowEntry {
  /** Position in the table's heap (-1: not in a table). */
  hi = -1;
  /** Forward-decayed rank: the primary value for sums, the sample weight otherwise. */
  rank = 0;
  /** The rank the entry was placed in the heap with (≤ rank). */
  hk = 0;
  /** Simple specs (one summed value): the forward-decayed sum. */
  v0 = 0;
  /** Other specs: every value's state (ValueLayout.slot); null for simple specs. */
  readonly acc: Float64Array | null;
  lastUpdate: number;
  /** `count:` values: distinct value → last seen (ms), per value index (null when unused). */
  distinct: (Map<string, number> | null)[] | null = null;

  // ---- flow log (specs with log: true) ---------------------------------------------------
  /** A record is open (accumulating). */
  recOpen = false;
  recStart = 0;
  /** Time of the record's last sample. */
  recLast = 0;
  /** Totals of the open record (scaled, not decayed). */
  tot: Float64Array | null = null;
  /** Start of the next record when records are contiguous (NaN: the next sample's time). */
  chainStart = NaN;
  /** flowStart specs: the start was logged. */
  started = false;
  /** Links of the idle list (least recently updated first). */
  prevIdle: FlowEntry | null = null;
  nextIdle: FlowEntry | null = null;

  constructor(
    public key: string,
    readonly table: FlowTable,
    slots: number,
    now: number,
  ) {
    this.acc = slots > 0 ? new Float64Array(slots) : null;
    this.lastUpdate = now;
  }

  /** Make an evicted entry of the same table a fresh entry for `key` (no allocation under churn). */
  reuse(key: string, now: number): void {
    this.key = key;
    this.hi = -1;
    this.rank = 0;
    this.hk = 0;
    this.v0 = 0;
    if (this.acc !== null) this.acc.fill(0);
    this.lastUpdate = now;
    this.distinct = null;
    this.recOpen = false;
    this.recStart = 0;
    this.recLast = 0;
    this.chainStart = NaN;
    this.started = false;
    this.prevIdle = null;
    this.nextIdle = null;
  }
}

/** The per-spec state a table needs (implemented by the engine's FlowRuntime). */
export interface TableOwner {
  readonly layout: ValueLayout;
  /** exp((now − T0)/τ) / t at the current sample time. */
  factor: number;
  /** τ = t in ms. */
  readonly tauMs: number;
  /** Spec epoch T0, ms. */
  t0: number;
  /** t in seconds. */
  readonly tSeconds: number;
  /** Called when a key is evicted (to flush its log record). */
  evicted(e: FlowEntry, now: number): void;
}

export class FlowTable {
  readonly map = new Map<string, FlowEntry>();
  readonly heap: FlowEntry[] = [];
  /** The key with the largest value (null when empty). */
  top: FlowEntry | null = null;
  /** Time of the last sample counted. */
  lastUpdate = 0;
  evictions = 0;

  constructor(
    readonly owner: TableOwner,
    readonly ds: DataSourceState,
    readonly agent: string,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /**
   * Count a sample: `x` is the primary value (already scaled), `s` the sample (for extra values).
   * Returns the entry. `room` says whether a new key may be added without evicting.
   */
  add(key: string, x: number, s: SampleView, now: number, room: boolean): FlowEntry {
    const e = this.map.get(key);
    if (e !== undefined) return this.bump(e, x, s, now);
    let n: FlowEntry;
    if (!room && this.heap.length > 0) {
      n = this.evictMin(now);
      n.reuse(key, now);
    } else {
      const L = this.owner.layout;
      n = new FlowEntry(key, this, L.simple ? 0 : L.slots, now);
    }
    this.map.set(key, n);
    this.bump(n, x, s, now);
    n.hk = n.rank;
    n.hi = this.heap.length;
    this.heap.push(n);
    this.siftUp(n.hi);
    return n;
  }

  /** Count a sample for an entry of this table. */
  bump(e: FlowEntry, x: number, s: SampleView, now: number): FlowEntry {
    const o = this.owner;
    const f = o.factor;
    if (o.layout.simple) {
      const v = e.v0 + x * f;
      e.v0 = v;
      e.rank = v;
    } else this.addValues(e, x, s, now, f);
    e.lastUpdate = now;
    this.lastUpdate = now;
    const top = this.top;
    if (top === null || e.rank > top.rank) this.top = e;
    return e;
  }

  private addValues(e: FlowEntry, x: number, s: SampleView, now: number, f: number): void {
    const L = this.owner.layout;
    const a = e.acc!;
    const scale = s.scale;
    for (let i = 0; i < L.kinds.length; i++) {
      const v = i === 0 ? x : L.reads[i]!(s);
      const o = L.slot[i]!;
      switch (L.kinds[i]) {
        case 'sum':
          if (v === v) a[o] = a[o]! + v * f;
          break;
        case 'avg':
          if (v === v) {
            a[o] = a[o]! + v * scale * f;
            a[o + 1] = a[o + 1]! + scale * f;
          }
          break;
        case 'min':
        case 'max': {
          if (v !== v) break;
          const isMax = L.kinds[i] === 'max';
          const stale = now - a[o + 1]! > this.owner.tauMs || a[o + 1] === 0;
          if (stale || (isMax ? v >= a[o]! : v <= a[o]!)) {
            a[o] = v;
            a[o + 1] = now;
          }
          break;
        }
        case 'count': {
          const r = L.distinct[i]!;
          const dv = r === null ? undefined : r(s);
          if (dv === undefined) break;
          const d = (e.distinct ??= new Array<Map<string, number> | null>(L.kinds.length).fill(null));
          let m = d[i];
          if (m === null || m === undefined) m = d[i] = new Map();
          if (!m.has(dv) && m.size >= MAX_DISTINCT) {
            // forget the value seen longest ago
            let oldK: string | undefined;
            let oldT = Infinity;
            for (const [k, t] of m) if (t < oldT) {
              oldT = t;
              oldK = k;
            }
            if (oldK !== undefined) m.delete(oldK);
          }
          m.set(dv, now);
          break;
        }
      }
    }
    // rank: the primary value when it is a sum, else the decayed sample weight
    e.rank = L.kinds[0] === 'sum' ? a[0]! : e.rank + scale * f;
  }

  /** Current value `i` of an entry at `now` (0 = the spec's value). */
  value(e: FlowEntry, i: number, now: number): number {
    const o = this.owner;
    const L = o.layout;
    const slot = L.slot[i]!;
    switch (L.kinds[i]) {
      case 'sum':
        return (L.simple ? e.v0 : e.acc![slot]!) * Math.exp(-(now - o.t0) / o.tauMs);
      case 'avg': {
        const den = e.acc![slot + 1]!;
        return den > 0 ? e.acc![slot]! / den : 0;
      }
      case 'min':
      case 'max':
        return e.acc![slot]!;
      case 'count': {
        const m = e.distinct?.[i];
        if (m === null || m === undefined) return 0;
        let c = 0;
        for (const t of m.values()) c += Math.exp(-(now - t) / o.tauMs);
        return c;
      }
      default:
        return 0;
    }
  }

  /** Remove the smallest key; returns its entry (the caller may reuse it). */
  private evictMin(now: number): FlowEntry {
    const h = this.heap;
    let e = h[0]!;
    // keys that grew since they were placed go back with their current rank
    while (e.hk < e.rank) {
      e.hk = e.rank;
      this.siftDown(0);
      e = h[0]!;
    }
    this.remove(e);
    this.evictions++;
    this.owner.evicted(e, now);
    return e;
  }

  /** Remove an entry (eviction or sweep). */
  remove(e: FlowEntry): void {
    const h = this.heap;
    const i = e.hi;
    const last = h.pop()!;
    if (last !== e) {
      h[i] = last;
      last.hi = i;
      this.siftDown(i);
      this.siftUp(last.hi);
    }
    e.hi = -1;
    this.map.delete(e.key);
    if (this.top === e) this.recomputeTop();
  }

  recomputeTop(): void {
    let best: FlowEntry | null = null;
    for (const x of this.heap) if (best === null || x.rank > best.rank) best = x;
    this.top = best;
  }

  /** Multiply every decayed accumulator by g (spec renormalization). */
  rescale(g: number): void {
    const L = this.owner.layout;
    for (const e of this.heap) {
      e.rank *= g;
      e.hk *= g;
      e.v0 *= g;
      const a = e.acc;
      if (a === null) continue;
      for (let i = 0; i < L.kinds.length; i++) {
        const o = L.slot[i]!;
        const k = L.kinds[i];
        if (k === 'sum') a[o] = a[o]! * g;
        else if (k === 'avg') {
          a[o] = a[o]! * g;
          a[o + 1] = a[o + 1]! * g;
        }
      }
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    const r = e.hk;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      let cr = h[l]!.hk;
      const rr = l + 1;
      if (rr < n && h[rr]!.hk < cr) {
        c = rr;
        cr = h[rr]!.hk;
      }
      if (cr >= r) break;
      const child = h[c]!;
      h[i] = child;
      child.hi = i;
      i = c;
    }
    h[i] = e;
    e.hi = i;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    const r = e.hk;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.hk <= r) break;
      h[i] = parent;
      parent.hi = i;
      i = p;
    }
    h[i] = e;
    e.hi = i;
  }

  /** The `n` largest entries, largest first. */
  topEntries(n: number): FlowEntry[] {
    const h = this.heap;
    if (n <= 0 || h.length === 0) return [];
    if (n === 1 && this.top !== null) return [this.top];
    if (h.length <= n) return [...h].sort((a, b) => b.rank - a.rank);
    // keep the n largest with a small sorted buffer (n is small: the spec's top-N)
    const out: FlowEntry[] = [];
    for (const e of h) {
      if (out.length < n) {
        out.push(e);
        if (out.length === n) out.sort((a, b) => b.rank - a.rank);
      } else if (e.rank > out[n - 1]!.rank) {
        let j = n - 1;
        while (j > 0 && out[j - 1]!.rank < e.rank) {
          out[j] = out[j - 1]!;
          j--;
        }
        out[j] = e;
      }
    }
    return out;
  }
}
