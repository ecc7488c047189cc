// The event log behind `/events/json` (sFlow-RT §2.6): threshold events with increasing ids,
// bounded by count (sFlow-RT `events.max`, default 1000) and by age, read newest first, with
// long-poll waits (`eventID=N&timeout=T`) that are bounded too (most waiters, longest wait).
// Time stamps come from the engine clock; the waits themselves are wall-clock timers.

import type { Clock } from './clock.js';

/** One event, shaped as sFlow-RT's. */
export interface ThresholdEvent {
  eventID: number;
  /** Engine time (ms since the epoch) the threshold fired. */
  timestamp: number;
  thresholdID: string;
  /** The metric as the threshold names it (a flow name for byFlow thresholds). */
  metric: string;
  agent: string;
  dataSource: string;
  value: number;
  threshold: number;
  /** The flow key: for byFlow thresholds, and for thresholds on a flow metric (its top key). */
  flowKey?: string;
}

export type NewEvent = Omit<ThresholdEvent, 'eventID'>;

export interface EventLogConfig {
  /** Most events kept; the oldest go first (default 1,000, as sFlow-RT's events.max). */
  maxEvents: number;
  /** Events older than this (engine time) are dropped (default 24 h). */
  maxAgeMs: number;
  /** Most long-poll requests waiting at once (default 1,000); beyond it a wait is refused. */
  maxWaiters: number;
  /** Longest wait granted to one request, ms (default 60 s). */
  maxWaitMs: number;
}

export const DEFAULT_EVENT_LOG_CONFIG: EventLogConfig = { maxEvents: 1_000, maxAgeMs: 24 * 3_600_000, maxWaiters: 1_000, maxWaitMs: 60_000 };

export interface EventQuery {
  /** Only events with a larger id (default -1: every event). */
  after?: number;
  /** At most this many, the newest (default 100). */
  maxEvents?: number;
  /** Only this threshold's events. */
  thresholdID?: string | null;
}

/** Refused because too many requests are waiting already. */
export class TooManyWaitersError extends Error {
  override readonly name = 'TooManyWaitersError';
}

interface Waiter {
  q: EventQuery;
  resolve: (events: ThresholdEvent[]) => void;
  timer: NodeJS.Timeout;
}

export class EventLog {
  readonly config: EventLogConfig;
  /** Circular buffer of the retained events, oldest at `head`. */
  private ring: (ThresholdEvent | undefined)[];
  private head = 0;
  private count = 0;
  private nextId = 1;
  private readonly waiters = new Set<Waiter>();
  private notifyScheduled = false;
  private closed = false;
  private readonly listeners: ((e: ThresholdEvent) => void)[] = [];
  readonly stats = { generated: 0, droppedByCount: 0, droppedByAge: 0, waitsRefused: 0, waitsTimedOut: 0, waitsAnswered: 0 };

  constructor(
    private readonly clock: Clock,
    config: Partial<EventLogConfig> = {},
  ) {
    this.config = { ...DEFAULT_EVENT_LOG_CONFIG, ...config };
    if (!(this.config.maxEvents >= 1)) this.config.maxEvents = 1;
    this.ring = new Array<ThresholdEvent | undefined>(this.config.maxEvents);
  }

  /** Events retained now. */
  get size(): number {
    return this.count;
  }

  /** Id of the newest event ever generated (0 before the first). */
  get lastId(): number {
    return this.nextId - 1;
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** Called synchronously for every new event (script hosts, exporters). Returns an unsubscribe. */
  subscribe(listener: (e: ThresholdEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Record an event; returns it with its id. Waiters are answered once the current task ends. */
  append(e: NewEvent): ThresholdEvent {
    const ev: ThresholdEvent = { eventID: this.nextId++, ...e };
    const cap = this.ring.length;
    if (this.count === cap) {
      this.ring[this.head] = ev;
      this.head = (this.head + 1) % cap;
      this.stats.droppedByCount++;
    } else {
      this.ring[(this.head + this.count) % cap] = ev;
      this.count++;
    }
    this.stats.generated++;
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        // a listener's failure is its own
      }
    }
    this.scheduleNotify();
    return ev;
  }

  /** Drop events older than maxAgeMs at `now`. */
  prune(now: number = this.clock.now()): void {
    const cap = this.ring.length;
    const limit = now - this.config.maxAgeMs;
    while (this.count > 0) {
      const ev = this.ring[this.head]!;
      if (ev.timestamp >= limit) break;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % cap;
      this.count--;
      this.stats.droppedByAge++;
    }
  }

  /** Retained events matching `q`, newest first. */
  query(q: EventQuery = {}): ThresholdEvent[] {
    this.prune();
    let after = q.after ?? -1;
    // An id beyond the last one can only come from a client of an earlier run (ids restart at 1):
    // answer as if it had asked from the start instead of making it wait for ids that will come late.
    if (after > this.lastId) after = -1;
    const max = Math.max(0, q.maxEvents ?? 100);
    const out: ThresholdEvent[] = [];
    const cap = this.ring.length;
    for (let i = this.count - 1; i >= 0 && out.length < max; i--) {
      const ev = this.ring[(this.head + i) % cap]!;
      if (ev.eventID <= after) break;
      if (q.thresholdID != null && ev.thresholdID !== q.thresholdID) continue;
      out.push(ev);
    }
    return out;
  }

  /**
   * Events matching `q` now, or — when there are none and `timeoutMs` > 0 — the first that arrive
   * within `timeoutMs` (capped at maxWaitMs); [] on timeout or close. Throws TooManyWaitersError
   * when maxWaiters requests are waiting already. `signal` ends the wait early (client gone).
   */
  wait(q: EventQuery, timeoutMs: number, signal?: AbortSignal): Promise<ThresholdEvent[]> {
    const now = this.query(q);
    if (now.length > 0 || timeoutMs <= 0 || this.closed) return Promise.resolve(now);
    if (this.waiters.size >= this.config.maxWaiters) {
      this.stats.waitsRefused++;
      return Promise.reject(new TooManyWaitersError(`too many requests waiting for events (at most ${this.config.maxWaiters})`));
    }
    // Pin `after` to the newest id now, so a client that asked with an id from an earlier run
    // gets the next new events, not the whole log again.
    const pinned: EventQuery = { ...q, after: Math.min(q.after ?? -1, this.lastId) };
    const ms = Math.min(timeoutMs, this.config.maxWaitMs);
    return new Promise<ThresholdEvent[]>((resolve) => {
      const w: Waiter = {
        q: pinned,
        resolve: (events) => {
          clearTimeout(w.timer);
          this.waiters.delete(w);
          signal?.removeEventListener('abort', onAbort);
          resolve(events);
        },
        timer: setTimeout(() => {
          this.stats.waitsTimedOut++;
          w.resolve([]);
        }, ms),
      };
      const onAbort = () => w.resolve([]);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled || this.waiters.size === 0) return;
    this.notifyScheduled = true;
    // After the current evaluation round, so a waiter gets every event of the round at once.
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const w of [...this.waiters]) {
        const events = this.query(w.q);
        if (events.length > 0) {
          this.stats.waitsAnswered++;
          w.resolve(events);
        }
      }
    });
  }

  /** Answer every waiter with [] and refuse further waits (server stopping). */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w.resolve([]);
  }
}
