// A bounded map with least-recently-used eviction approximated by CLOCK ("second chance"):
// a hit costs one Map read and, at most, one flag write — no list splicing per read, which is what
// keeps a cached `dns:` lookup at about the price of a plain map read (bench/enrich.bench.ts).
//
// Entries sit in `max` slots; a hand sweeps the slots when room is needed: an entry read since
// the hand last passed gets a second chance (its flag is cleared), the first one not read is
// evicted and its slot reused. Eviction is amortised O(1) and never reshuffles the Map (deleting
// and re-inserting entries of a JS Map to move them leaves tombstones that iteration must skip).

export interface CacheEntry {
  /** Set by get(); cleared when the hand passes. */
  referenced: boolean;
  /** The entry's slot; managed by the cache. */
  slot: number;
}

export class SecondChanceCache<V extends CacheEntry> {
  private readonly map = new Map<string, V>();
  private readonly keys: string[] = [];
  private readonly values: V[] = [];
  private hand = 0;
  /** Slots the hand passed giving second chances (each consumes a mark set by a get). */
  secondChances = 0;
  evictions = 0;

  constructor(
    readonly max: number,
    private readonly onEvict: (key: string, value: V) => void = () => {},
  ) {
    if (!(max >= 1)) throw new RangeError(`cache size must be at least 1 (got ${max})`);
  }

  /** Read and mark as used. */
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined && !v.referenced) v.referenced = true;
    return v;
  }

  /** Read without marking. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  /**
   * Insert or replace. A replacement takes over the old entry's slot and flag; a new entry starts
   * unmarked (it was just used to be inserted: a later read marks it). When full, one entry goes.
   */
  set(key: string, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      value.slot = old.slot;
      value.referenced = old.referenced;
      this.values[old.slot] = value;
      this.map.set(key, value);
      return;
    }
    let slot: number;
    if (this.keys.length < this.max) {
      slot = this.keys.length;
      this.keys.push(key);
      this.values.push(value);
    } else {
      // Terminates within two sweeps: every entry passed loses its flag.
      for (;;) {
        const e = this.values[this.hand]!;
        if (!e.referenced) break;
        e.referenced = false;
        this.secondChances++;
        this.hand = this.hand + 1 === this.max ? 0 : this.hand + 1;
      }
      slot = this.hand;
      const goneKey = this.keys[slot]!;
      const gone = this.values[slot]!;
      this.map.delete(goneKey);
      this.keys[slot] = key;
      this.values[slot] = value;
      this.hand = slot + 1 === this.max ? 0 : slot + 1;
      this.evictions++;
      this.onEvict(goneKey, gone);
    }
    value.slot = slot;
    value.referenced = false;
    this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }
}
