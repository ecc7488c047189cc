// Completed flow records of `log: true` specs (sFlow-RT `/flows/json`): a bounded ring, newest
// records win; each record gets the next flowID. Readers ask for records newer than a flowID and
// may wait (long poll) until one arrives or their timeout passes. Listeners (script hosts,
// apps) get every record as it is logged.

/** A completed flow (sFlow-RT's record shape; `values` only for specs with `values`). */
export interface FlowRecord {
  flowID: number;
  name: string;
  agent: string;
  dataSource: string;
  /** The key tuple joined with the spec's `fs`. */
  flowKeys: string;
  /** Total of the spec's value over the record (bytes, frames... scaled by the sampling rate). */
  value: number;
  /** Epoch ms of the record's start and end. */
  start: number;
  end: number;
  values?: number[];
}

export interface FlowLogQuery {
  /** Only records of this flow. */
  name?: string;
  /** Only records with a larger flowID. */
  after?: number;
  /** At most this many (newest first). */
  maxFlows: number;
}

interface Waiter {
  q: FlowLogQuery;
  resolve: (r: FlowRecord[]) => void;
  timer: NodeJS.Timeout;
}

export class FlowLog {
  private readonly ring: (FlowRecord | undefined)[];
  private head = 0;
  private count = 0;
  private nextId = 0;
  private waiters: Waiter[] = [];
  private notifyScheduled = false;
  private readonly listeners = new Set<(r: FlowRecord) => void>();
  /** Records logged since start. */
  generated = 0;
  /** Records pushed out of the ring before being read by anyone... (all overwritten records). */
  lost = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<FlowRecord | undefined>(Math.max(1, capacity)).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** The flowID the next record will get. */
  get nextFlowId(): number {
    return this.nextId;
  }

  /** Log a record (its flowID is assigned here). */
  append(r: Omit<FlowRecord, 'flowID'>): FlowRecord {
    const rec = r as FlowRecord;
    rec.flowID = this.nextId++;
    const cap = this.ring.length;
    if (this.count === cap) this.lost++;
    else this.count++;
    this.ring[this.head] = rec;
    this.head = (this.head + 1) % cap;
    this.generated++;
    for (const l of this.listeners) {
      try {
        l(rec);
      } catch {
        // a listener's fault is its own
      }
    }
    if (this.waiters.length > 0 && !this.notifyScheduled) {
      this.notifyScheduled = true;
      setImmediate(() => this.notify());
    }
    return rec;
  }

  /** Subscribe to records as they are logged; returns the unsubscribe function. */
  subscribe(fn: (r: FlowRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Records matching the query, newest first. */
  query(q: FlowLogQuery): FlowRecord[] {
    const out: FlowRecord[] = [];
    const cap = this.ring.length;
    for (let k = 1; k <= this.count && out.length < q.maxFlows; k++) {
      const r = this.ring[(this.head - k + cap) % cap]!;
      if (q.after !== undefined && r.flowID <= q.after) break;
      if (q.name !== undefined && r.name !== q.name) continue;
      out.push(r);
    }
    return out;
  }

  /**
   * Records matching the query, newest first; when there are none and `timeoutMs` > 0, wait until
   * some arrive or the timeout passes (then `[]`).
   */
  poll(q: FlowLogQuery, timeoutMs: number): Promise<FlowRecord[]> {
    const now = this.query(q);
    if (now.length > 0 || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = {
        q,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve([]);
        }, timeoutMs),
      };
      w.timer.unref?.();
      this.waiters.push(w);
    });
  }

  private notify(): void {
    this.notifyScheduled = false;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      const r = this.query(w.q);
      if (r.length > 0) {
        clearTimeout(w.timer);
        w.resolve(r);
      } else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Answer every waiter now (shutdown). */
  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve([]);
    }
    this.waiters = [];
  }

  /** Waiting readers (for stats). */
  get pending(): number {
    return this.waiters.length;
  }
}
