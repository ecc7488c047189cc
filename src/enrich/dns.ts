// Reverse DNS for the `dns:<addrKey>` key function (sflow-rt.md §3.5, §4): `name(address)` is
// synchronous and only reads a cache. A miss returns the address itself and queues a PTR lookup;
// the answer lands in the cache and later samples get the name, with its trailing dot.
//
// Hot path (DESIGN.md): a hit is one Map read (cache.ts: LRU approximated by CLOCK, so a read
// does no list bookkeeping), a compare against a coarse clock (refreshed by a timer, so no clock
// call per lookup) and a counter increment. Everything else — the queue, the rate limit, the
// sockets — runs off it.
//
// Bounded and counted: the cache (`maxEntries`, evictions counted), the queue (`maxQueued`,
// overflow counted as dropped), queries in flight (`maxInFlight`) and the query rate
// (`maxQueriesPerSecond`, token bucket; the queue absorbs bursts). Lookups are deduplicated: an
// address is queued or in flight at most once.
//
// TTLs: a positive answer is cached for its TTL clamped to [minTtlMs, maxTtlMs] (`defaultTtlMs`
// when the transport cannot tell — the c-ares transport); NXDOMAIN/NODATA for the SOA's negative
// TTL (RFC 2308) clamped to [minTtlMs, negativeTtlMs], or `negativeTtlMs` without SOA; timeouts and
// server errors for `negativeTtlMs`. An expired name is still served while it is being refreshed;
// if the refresh times out or fails, the old name is kept for another `negativeTtlMs` as long as
// it was confirmed less than `maxStaleMs` ago (RFC 8767 style), otherwise the address is shown.

import { isIP } from 'node:net';
import { SecondChanceCache, type CacheEntry } from './cache.js';
import type { Clock } from '../engine/clock.js';
import { wallClock } from '../engine/clock.js';
import { silentLog, type EnrichLog } from './log.js';
import { reverseName } from './dns/reverse.js';
import { parseServer, resolveServers, formatServer, systemLookup, type HostLookup, type ServerAddress } from './dns/servers.js';
import { ResolverTransport, UdpTransport, systemServers, type PtrResult, type PtrTransport, type TransportOptions } from './dns/transport.js';

export type DnsTransportKind = 'udp' | 'resolver';

export interface DnsNamesConfig {
  /** `host[:port]` (IPv6 in brackets with a port); host names are resolved once at start(). Empty: the system's resolvers. */
  servers: readonly string[];
  /** `udp` (our client; honours answer TTLs) or `resolver` (node:dns Resolver / c-ares; no PTR TTLs). */
  transport: DnsTransportKind;
  /** Cache size (names and negative answers); beyond it the least recently used go (CLOCK approximation, cache.ts). */
  maxEntries: number;
  minTtlMs: number;
  maxTtlMs: number;
  /** TTL of a name when the transport does not report one (`resolver`). */
  defaultTtlMs: number;
  /** TTL of NXDOMAIN/NODATA without SOA, cap of SOA-derived negative TTLs, TTL of timeouts and errors. */
  negativeTtlMs: number;
  /** A name confirmed less than this long ago is kept when its refresh times out or fails. */
  maxStaleMs: number;
  /** Per attempt. */
  timeoutMs: number;
  /** Rounds over the server list before a lookup counts as a timeout. */
  tries: number;
  maxInFlight: number;
  /** Queries sent per second at most (token bucket, burst of one second). */
  maxQueriesPerSecond: number;
  /** Addresses waiting for a query slot; beyond it misses are dropped (counted) and retried on a later miss. */
  maxQueued: number;
}

export const DNS_DEFAULTS: Readonly<DnsNamesConfig> = Object.freeze({
  servers: [],
  transport: 'udp',
  maxEntries: 100_000,
  minTtlMs: 30_000,
  maxTtlMs: 3_600_000,
  defaultTtlMs: 300_000,
  negativeTtlMs: 60_000,
  maxStaleMs: 3_600_000,
  timeoutMs: 1_000,
  tries: 2,
  maxInFlight: 64,
  maxQueriesPerSecond: 200,
  maxQueued: 10_000,
});

export interface DnsCounters {
  /** name() calls answered from the cache (names and cached negative answers). */
  hits: number;
  /** name() calls that found nothing cached (the address was returned). */
  misses: number;
  /** Addresses waiting for a query now. */
  queued: number;
  /** Lookups not queued because the queue was full (the query rate or the server could not keep up). */
  dropped: number;
  /** Queries in flight now. */
  inFlight: number;
  /** Lookups sent. */
  queries: number;
  /** Lookups answered with a name. */
  answered: number;
  nxdomain: number;
  /** NOERROR without a PTR record. */
  nodata: number;
  timeouts: number;
  /** SERVFAIL, REFUSED, network errors... (see lastError). */
  errors: number;
  /** Entries evicted to stay within maxEntries. */
  evictions: number;
  /** Entries cached now. */
  entries: number;
  lastError: string | null;
}

export interface DnsNamesDeps {
  /** Time for TTLs (default: the wall clock). */
  clock?: Clock;
  log?: EnrichLog;
  /** Resolves server host names at start (default: the system resolver, getaddrinfo). */
  lookupHost?: HostLookup;
  /** Builds the transport (tests wrap the real one to observe it). */
  transport?: (opts: TransportOptions, kind: DnsTransportKind) => PtrTransport;
  /** Monotonic milliseconds for the rate limit (default: performance.now). */
  monotonic?: () => number;
}

interface Entry extends CacheEntry {
  /** The PTR name (trailing dot) or, for a negative entry, the address. */
  name: string;
  expires: number;
  positive: boolean;
  /** When a positive answer last confirmed `name`. */
  confirmed: number;
  /** Queued or in flight for a refresh. */
  refreshing: boolean;
}

/** How often the coarse clock used by name() is refreshed. */
const TICK_MS = 200;

/**
 * Characters that must not reach a flow key or a filter: `,` and `:` separate keys and key-function
 * arguments; spaces and controls. Written `\DDD` like other unusual bytes in DNS names.
 */
const UNSAFE = /[\x00-\x20,:\x7f]/;
const UNSAFE_ALL = /[\x00-\x20,:\x7f]/g;
export function safeName(n: string): string {
  const s = n.endsWith('.') ? n : `${n}.`;
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, (c) => `\\${String(c.charCodeAt(0)).padStart(3, '0')}`) : s;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export function createTransport(opts: TransportOptions, kind: DnsTransportKind): PtrTransport {
  return kind === 'resolver' ? new ResolverTransport(opts) : new UdpTransport(opts);
}

export class DnsNames {
  readonly config: Readonly<DnsNamesConfig>;
  private readonly clock: Clock;
  private readonly log: EnrichLog;
  private readonly lookupHost: HostLookup;
  private readonly makeTransport: (opts: TransportOptions, kind: DnsTransportKind) => PtrTransport;
  private readonly monotonic: () => number;

  private readonly cache: SecondChanceCache<Entry>;
  /** Coarse time read by name(); see tick(). */
  private now: number;

  private readonly queue: string[] = [];
  private qHead = 0;
  private readonly queuedSet = new Set<string>();
  private readonly inFlight = new Set<string>();
  private tokens: number;
  private tokensAt: number;

  private transport: PtrTransport | null = null;
  private activeServers: ServerAddress[] = [];
  private running = false;
  private starting: Promise<void> | null = null;
  private generation = 0;
  private pumpScheduled = false;
  private rateTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];

  private readonly n = {
    hits: 0,
    misses: 0,
    dropped: 0,
    queries: 0,
    answered: 0,
    nxdomain: 0,
    nodata: 0,
    timeouts: 0,
    errors: 0,
    evictions: 0,
  };
  private lastError: string | null = null;

  constructor(config: Partial<DnsNamesConfig> = {}, deps: DnsNamesDeps = {}) {
    const c: DnsNamesConfig = { ...DNS_DEFAULTS, ...config };
    for (const k of ['maxEntries', 'maxInFlight', 'maxQueued', 'tries', 'timeoutMs', 'maxQueriesPerSecond'] as const) {
      if (!(c[k] >= 1)) throw new RangeError(`dns ${k} must be at least 1 (got ${c[k]})`);
    }
    for (const k of ['minTtlMs', 'maxTtlMs', 'defaultTtlMs', 'negativeTtlMs', 'maxStaleMs'] as const) {
      if (!(c[k] >= 0)) throw new RangeError(`dns ${k} must not be negative (got ${c[k]})`);
    }
    if (c.minTtlMs > c.maxTtlMs) throw new RangeError('dns minTtlMs is larger than maxTtlMs');
    this.config = Object.freeze({ ...c, servers: Object.freeze([...c.servers]) });
    this.clock = deps.clock ?? wallClock;
    this.log = deps.log ?? silentLog;
    this.lookupHost = deps.lookupHost ?? systemLookup;
    this.makeTransport = deps.transport ?? createTransport;
    this.monotonic = deps.monotonic ?? (() => performance.now());
    this.cache = new SecondChanceCache<Entry>(c.maxEntries, () => {
      this.n.evictions++;
    });
    this.now = this.clock.now();
    this.tokens = c.maxQueriesPerSecond;
    this.tokensAt = this.monotonic();
  }

  // ---- hot path ---------------------------------------------------------------------------

  /**
   * The cached PTR name of `address` (with its trailing dot), or `address` itself when there is
   * none (yet, or NXDOMAIN). A miss or an expired name queues a lookup. Never blocks, never throws.
   */
  name(address: string): string {
    const e = this.cache.get(address);
    if (e !== undefined) {
      this.n.hits++;
      if (e.expires <= this.now && !e.refreshing && this.enqueue(address)) e.refreshing = true;
      return e.name;
    }
    this.n.misses++;
    this.enqueue(address);
    return address;
  }

  /** Alias of name(). */
  lookup(address: string): string {
    return this.name(address);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Resolve server names, open the transport, start sending queued lookups. Never rejects. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    if (this.starting) return this.starting;
    const gen = ++this.generation;
    this.starting = (async () => {
      const parsed: ServerAddress[] = [];
      const problems: string[] = [];
      for (const s of this.config.servers) {
        try {
          parsed.push(parseServer(s));
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      const resolved = await resolveServers(parsed, this.lookupHost, Math.max(this.config.timeoutMs * this.config.tries, 2000));
      problems.push(...resolved.problems);
      for (const p of problems) this.log.warn({ problem: p }, 'reverse DNS: server ignored');
      let servers = resolved.servers;
      if (this.config.servers.length > 0 && servers.length === 0) {
        this.log.warn({ servers: this.config.servers }, 'reverse DNS: no configured server is usable; using the system resolvers');
      }
      if (servers.length === 0) servers = [];
      if (gen !== this.generation) return; // stopped meanwhile
      try {
        this.transport = this.makeTransport({ servers, timeoutMs: this.config.timeoutMs, tries: this.config.tries }, this.config.transport);
      } catch (e) {
        this.lastError = (e as Error).message;
        this.log.warn({ err: this.lastError }, 'reverse DNS: cannot create the transport; names stay addresses');
        return;
      }
      this.activeServers = servers.length > 0 ? servers : this.config.transport === 'udp' ? systemServers() : [];
      this.running = true;
      this.tick();
      this.tickTimer = setInterval(() => this.tick(), TICK_MS);
      this.tickTimer.unref();
      this.log.info(
        { servers: this.servers(), transport: this.config.transport, maxEntries: this.config.maxEntries },
        'reverse DNS started',
      );
      this.schedulePump();
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** Abandon queued and in-flight lookups, stop the timers. The cache is kept. */
  async stop(): Promise<void> {
    this.generation++;
    this.running = false;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.tickTimer = this.rateTimer = null;
    this.transport?.close();
    this.transport = null;
    for (let i = this.qHead; i < this.queue.length; i++) {
      const e = this.cache.peek(this.queue[i]!);
      if (e) e.refreshing = false;
    }
    this.queue.length = 0;
    this.qHead = 0;
    this.queuedSet.clear();
    for (const a of this.inFlight) {
      const e = this.cache.peek(a);
      if (e) e.refreshing = false;
    }
    this.inFlight.clear();
    this.wakeIdle();
  }

  /** Resolves when nothing is queued or in flight (tests; never on the hot path). */
  settled(): Promise<void> {
    if (this.isIdle() || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refresh the coarse time name() compares expiry against. A timer does it every 200 ms while
   * started; tests driving a manual clock call it after moving the clock.
   */
  tick(): void {
    this.now = this.clock.now();
  }

  // ---- status -----------------------------------------------------------------------------

  counters(): DnsCounters {
    return {
      ...this.n,
      queued: this.queue.length - this.qHead,
      inFlight: this.inFlight.size,
      entries: this.cache.size,
      lastError: this.lastError,
    };
  }

  /** The resolvers in use (`ip:port`), empty before start() or when the system's are used via c-ares. */
  servers(): string[] {
    return this.activeServers.map(formatServer);
  }

  get started(): boolean {
    return this.running;
  }

  /** What is cached for an address, without counting or queueing (Status page, tests). */
  peek(address: string): { name: string; positive: boolean; expiresAt: number } | undefined {
    const e = this.cache.peek(address);
    return e && { name: e.name, positive: e.positive, expiresAt: e.expires };
  }

  // ---- the queue --------------------------------------------------------------------------

  /** Queue a lookup unless one is queued or in flight. False when it could not be queued. */
  private enqueue(address: string): boolean {
    if (this.queuedSet.has(address) || this.inFlight.has(address)) return true;
    if (isIP(address) === 0) return false; // not an address: nothing to look up
    if (this.queue.length - this.qHead >= this.config.maxQueued) {
      this.n.dropped++;
      return false;
    }
    this.queue.push(address);
    this.queuedSet.add(address);
    this.schedulePump();
    return true;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(this.pump);
  }

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (!this.running || this.transport === null) return;
    const rate = this.config.maxQueriesPerSecond;
    const t = this.monotonic();
    this.tokens = Math.min(rate, this.tokens + ((t - this.tokensAt) * rate) / 1000);
    this.tokensAt = t;
    while (this.qHead < this.queue.length && this.inFlight.size < this.config.maxInFlight) {
      if (this.tokens < 1) {
        if (this.rateTimer === null) {
          const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / rate));
          this.rateTimer = setTimeout(() => {
            this.rateTimer = null;
            this.pump();
          }, wait);
        }
        break;
      }
      this.tokens -= 1;
      const address = this.queue[this.qHead]!;
      this.queue[this.qHead++] = '';
      this.queuedSet.delete(address);
      this.launch(address);
    }
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue.splice(0, this.qHead);
      this.qHead = 0;
    }
    this.wakeIdle();
  };

  private launch(address: string): void {
    const qname = reverseName(address);
    if (qname === null) return;
    const transport = this.transport!;
    const gen = this.generation;
    this.inFlight.add(address);
    this.n.queries++;
    transport.query(qname).then(
      (r) => this.complete(address, r, gen),
      (e: unknown) => this.complete(address, { status: 'error', code: String((e as Error)?.message ?? e) }, gen),
    );
  }

  private complete(address: string, r: PtrResult, gen: number): void {
    if (gen !== this.generation) return; // stopped (and maybe restarted) meanwhile
    this.inFlight.delete(address);
    const now = this.clock.now();
    const c = this.config;
    const prev = this.cache.peek(address);
    let entry: Entry;
    switch (r.status) {
      case 'ok':
        this.n.answered++;
        entry = {
          name: safeName(r.names[0]!),
          expires: now + clamp(r.ttlMs ?? c.defaultTtlMs, c.minTtlMs, c.maxTtlMs),
          positive: true,
          confirmed: now,
          refreshing: false,
          referenced: false,
          slot: 0,
        };
        break;
      case 'nxdomain':
      case 'nodata':
        this.n[r.status]++;
        entry = this.negative(address, now, r.ttlMs === undefined ? c.negativeTtlMs : clamp(r.ttlMs, c.minTtlMs, c.negativeTtlMs));
        break;
      case 'timeout':
      case 'error':
        if (r.status === 'timeout') this.n.timeouts++;
        else {
          this.n.errors++;
          this.lastError = r.code;
        }
        entry =
          prev !== undefined && prev.positive && now - prev.confirmed < c.maxStaleMs
            ? { ...prev, expires: now + c.negativeTtlMs, refreshing: false }
            : this.negative(address, now, c.negativeTtlMs);
        break;
    }
    this.cache.set(address, entry);
    this.schedulePump();
    this.wakeIdle();
  }

  private negative(address: string, now: number, ttl: number): Entry {
    return { name: address, expires: now + ttl, positive: false, confirmed: 0, refreshing: false, referenced: false, slot: 0 };
  }

  private isIdle(): boolean {
    return this.qHead >= this.queue.length && this.inFlight.size === 0;
  }

  private wakeIdle(): void {
    if (this.idleWaiters.length === 0 || (this.running && !this.isIdle())) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
