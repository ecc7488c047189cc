// List+watch of one resource, the way client-go's reflector does it:
//   1. list in pages (`limit`/`continue`), applying objects as they come and, at the end,
//      removing what the list no longer holds; remember the list's resourceVersion;
//   2. watch from that resourceVersion (`allowWatchBookmarks=true`, a randomised
//      `timeoutSeconds`); apply ADDED/MODIFIED/DELETED, follow BOOKMARKs; every event moves the
//      resourceVersion forward;
//   3. when the server ends the watch (its timeout), watch again from the last resourceVersion —
//      no list;
//   4. on 410 Gone (HTTP 410, an ERROR event with code 410, an expired `continue` token) list
//      again from scratch (a "relist");
//   5. on any other failure (connection refused or reset, 5xx, 401/403, broken JSON...) wait
//      with exponential backoff and full jitter, then resume the watch from the last
//      resourceVersion (or list, if there never was one).
// Objects reach the sink synchronously as each event is parsed: lookups see them at once.

import { GoneError, KubeHttpError, type KubeClient } from './client.js';
import type { ResourceKind } from './records.js';

export interface ResourceSpec {
  kind: ResourceKind;
  /** `/api/v1/pods`, `/apis/discovery.k8s.io/v1/endpointslices`... */
  path: string;
}

export interface ReflectorSink {
  /** Store or replace an object. Returns false when it was not stored (memory cap). */
  upsert(kind: ResourceKind, obj: Record<string, unknown>): boolean;
  remove(kind: ResourceKind, obj: Record<string, unknown>): void;
  /** After a complete list: drop the objects of this kind whose keys the list did not hold. */
  prune(kind: ResourceKind, keep: Set<string>): void;
  keyOf(obj: Record<string, unknown>): string | null;
}

export interface ReflectorOptions {
  pageSize: number;
  /** The watch timeout asked of the server is uniformly random in [this, 2 × this) seconds. */
  watchTimeoutSeconds: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  random: () => number;
}

export interface ResourceStatus {
  /** Listed completely at least once. */
  synced: boolean;
  /** A watch stream is open now. */
  watching: boolean;
  /** The last list or watch succeeded (false after an error until the next success). */
  healthy: boolean;
  resourceVersion: string | null;
  lists: number;
  /** Lists after the first (410 Gone). */
  relists: number;
  watches: number;
  events: number;
  bookmarks: number;
  errors: number;
  /** Objects the sink refused (memory cap). */
  dropped: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

/** Exponential backoff with full jitter: uniform in [0, min(max, initial × 2^attempt)], at least 1 ms. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling * random()));
}

/** A watch open this long counts as healthy: the next failure starts the backoff from the beginning. */
const HEALTHY_WATCH_MS = 10_000;

export class Reflector {
  readonly status: ResourceStatus = {
    synced: false,
    watching: false,
    healthy: false,
    resourceVersion: null,
    lists: 0,
    relists: 0,
    watches: 0,
    events: 0,
    bookmarks: 0,
    errors: 0,
    dropped: 0,
    lastError: null,
    lastErrorAt: null,
  };
  private stopped = true;
  private attempt = 0;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private syncWaiters: (() => void)[] = [];
  private watchOpenedAt = 0;

  constructor(
    private readonly client: KubeClient,
    readonly spec: ResourceSpec,
    private readonly sink: ReflectorSink,
    private readonly opts: ReflectorOptions,
    /** `error`: the first failure of an outage (not every retry); `recovered`: the next success. */
    private readonly onState: (r: Reflector, event: 'synced' | 'error' | 'recovered') => void,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stop; the client is closed by the owner (that aborts an open watch). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.status.watching = false;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Resolves once the first list completed (or on stop). */
  synced(): Promise<void> {
    if (this.status.synced || this.stopped) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  private failing = false;

  /** A list or watch succeeded. */
  private markHealthy(): void {
    this.status.healthy = true;
    if (this.failing) {
      this.failing = false;
      this.onState(this, 'recovered');
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delayMs = 0;
      try {
        if (this.status.resourceVersion === null) await this.list();
        if (this.stopped) break;
        const quick = await this.watch();
        // A watch the server closed at once without a single event: do not spin.
        if (quick) delayMs = backoffDelay(this.attempt++, this.opts.backoffInitialMs, this.opts.backoffMaxMs, this.opts.random);
        else this.attempt = 0;
      } catch (e) {
        this.status.watching = false;
        if (this.stopped) break;
        // A watch that had been healthy for a while starts a fresh backoff sequence.
        if (this.watchOpenedAt > 0 && Date.now() - this.watchOpenedAt > HEALTHY_WATCH_MS) this.attempt = 0;
        if (e instanceof GoneError) {
          // Too old: start again from a fresh list — at once the first time, with backoff if
          // the server keeps answering 410.
          this.status.resourceVersion = null;
          if (this.attempt > 0) delayMs = backoffDelay(this.attempt, this.opts.backoffInitialMs, this.opts.backoffMaxMs, this.opts.random);
          this.attempt++;
        } else {
          this.status.errors++;
          this.status.lastError = (e as Error).message || String(e);
          this.status.lastErrorAt = Date.now();
          this.status.healthy = false;
          const first = !this.failing;
          this.failing = true;
          if (first) this.onState(this, 'error');
          delayMs = backoffDelay(this.attempt++, this.opts.backoffInitialMs, this.opts.backoffMaxMs, this.opts.random);
          if (e instanceof KubeHttpError && e.retryAfter !== undefined) delayMs = Math.max(delayMs, Math.min(e.retryAfter * 1000, this.opts.backoffMaxMs));
        }
      }
      if (delayMs > 0 && !this.stopped) await this.sleep(delayMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = null;
        this.wake?.();
      }, ms);
    });
  }

  private async list(): Promise<void> {
    const keep = new Set<string>();
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const q: Record<string, string> = { limit: String(this.opts.pageSize) };
      if (cont) q.continue = cont;
      const page = await this.client.getJson(this.spec.path, q);
      if (this.stopped) return;
      const meta = (page.metadata ?? {}) as { resourceVersion?: string; continue?: string };
      const items = Array.isArray(page.items) ? (page.items as Record<string, unknown>[]) : [];
      for (const obj of items) {
        const key = this.sink.keyOf(obj);
        if (key === null) continue;
        if (this.sink.upsert(this.spec.kind, obj)) keep.add(key);
        else this.status.dropped++;
      }
      rv = meta.resourceVersion;
      cont = meta.continue || undefined;
    } while (cont);
    this.sink.prune(this.spec.kind, keep);
    if (this.status.lists > 0) this.status.relists++;
    this.status.lists++;
    this.status.resourceVersion = rv ?? '';
    this.markHealthy();
    if (!this.status.synced) {
      this.status.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
      this.onState(this, 'synced');
    }
  }

  /** One watch, until the server ends it. Returns true when it ended at once without events. */
  private async watch(): Promise<boolean> {
    const timeoutSeconds = Math.floor(this.opts.watchTimeoutSeconds * (1 + this.opts.random()));
    const q: Record<string, string> = { allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) };
    if (this.status.resourceVersion) q.resourceVersion = this.status.resourceVersion;
    const opened = Date.now();
    this.watchOpenedAt = 0;
    let events = 0;
    this.status.watches++;
    // Idle limit on the socket: the server sends bookmarks about every minute and ends the
    // stream after timeoutSeconds; a silent connection beyond that is dead.
    const idleMs = (timeoutSeconds + 30) * 1000;
    try {
      for await (const ev of this.client.watch(this.spec.path, q, idleMs, () => {
        this.status.watching = true;
        this.watchOpenedAt = Date.now();
        this.markHealthy();
      })) {
        if (this.stopped) break;
        events++;
        this.status.events++;
        const obj = ev.object;
        const rv = (obj.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        switch (ev.type) {
          case 'ADDED':
          case 'MODIFIED':
            if (!this.sink.upsert(this.spec.kind, obj)) this.status.dropped++;
            break;
          case 'DELETED':
            this.sink.remove(this.spec.kind, obj);
            break;
          case 'BOOKMARK':
            this.status.bookmarks++;
            break;
          case 'ERROR': {
            const st = obj as { code?: number; reason?: string; message?: string };
            const msg = `watch ERROR ${st.code ?? ''} ${st.reason ?? ''}: ${st.message ?? ''}`.trim();
            if (st.code === 410 || st.reason === 'Expired' || st.reason === 'Gone') throw new GoneError(msg);
            throw new Error(msg);
          }
          default:
            throw new Error(`unknown watch event type ${ev.type}`);
        }
        if (rv) this.status.resourceVersion = rv;
      }
    } finally {
      this.status.watching = false;
    }
    return events === 0 && Date.now() - opened < 1000;
  }
}
