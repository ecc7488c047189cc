// DnsNames against a real DNS server: dnsmasq on a loopback port with a generated hosts file
// (src/enrich/testing/dnsmasq.ts). Every test is bounded in time and talks only to 127.0.0.1.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../engine/clock.js';
import { createTransport, DnsNames, type DnsNamesConfig, type DnsTransportKind } from './dns.js';
import type { PtrTransport, TransportOptions } from './dns/transport.js';
import { startBlackHole, startDnsmasq, type Dnsmasq, type HostsEntries } from './testing/dnsmasq.js';

const HOSTS: HostsEntries = [
  ['10.244.1.17', '10-244-1-17.web.shop.svc.cluster.local'],
  ['10.96.0.10', 'kube-dns.kube-system.svc.cluster.local'],
  ['192.0.2.80', 'www.example.com'],
  ['2001:db8::5', 'six.example.test'],
  ['fd00:10:244:1::1a', '1a.pods.example.test'],
  ...Array.from({ length: 20 }, (_, i) => [`10.9.0.${i + 1}`, `host-${i + 1}.lru.test`] as const),
];

let dnsmasq: Dnsmasq;

beforeAll(async () => {
  dnsmasq = await startDnsmasq({ hosts: HOSTS, localTtl: 7 });
});

afterAll(async () => {
  await dnsmasq?.stop();
});

/** A transport wrapper that records concurrency and start times (the real transport underneath). */
function observe(): { make: (o: TransportOptions, k: DnsTransportKind) => PtrTransport; maxConcurrent: number; starts: number[]; current: number } {
  const st = {
    maxConcurrent: 0,
    current: 0,
    starts: [] as number[],
    make: (o: TransportOptions, k: DnsTransportKind): PtrTransport => {
      const t = createTransport(o, k);
      return {
        query: async (q) => {
          st.current++;
          st.maxConcurrent = Math.max(st.maxConcurrent, st.current);
          st.starts.push(performance.now());
          try {
            return await t.query(q);
          } finally {
            st.current--;
          }
        },
        close: () => t.close(),
      };
    },
  };
  return st;
}

async function started(config: Partial<DnsNamesConfig>, clock?: ManualClock, make?: (o: TransportOptions, k: DnsTransportKind) => PtrTransport): Promise<DnsNames> {
  const d = new DnsNames({ servers: [dnsmasq.server], minTtlMs: 0, ...config }, { ...(clock ? { clock } : {}), ...(make ? { transport: make } : {}) });
  await d.start();
  return d;
}

describe.each(['udp', 'resolver'] as const)('DnsNames over dnsmasq (%s transport)', (transport) => {
  it('returns the address on a miss, then the PTR name with its trailing dot', async () => {
    const d = await started({ transport });
    expect(d.name('10.244.1.17')).toBe('10.244.1.17');
    expect(d.name('10.244.1.17')).toBe('10.244.1.17'); // still queued: deduplicated
    expect(d.counters()).toMatchObject({ misses: 2, queued: 1 });
    await d.settled();
    expect(d.name('10.244.1.17')).toBe('10-244-1-17.web.shop.svc.cluster.local.');
    expect(d.name('192.0.2.80')).toBe('192.0.2.80');
    await d.settled();
    expect(d.name('192.0.2.80')).toBe('www.example.com.');
    expect(d.counters()).toMatchObject({ hits: 2, misses: 3, queries: 2, answered: 2, entries: 2, queued: 0, inFlight: 0 });
    await d.stop();
  });

  it('answers IPv6 addresses through ip6.arpa nibble names', async () => {
    const d = await started({ transport });
    d.name('2001:db8::5');
    d.name('fd00:10:244:1::1a');
    await d.settled();
    expect(d.name('2001:db8::5')).toBe('six.example.test.');
    expect(d.name('fd00:10:244:1::1a')).toBe('1a.pods.example.test.');
    expect(dnsmasq.output()).toContain('query[PTR] 5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
    await d.stop();
  });

  it('caches NXDOMAIN for the negative TTL, then asks again', async () => {
    const clock = new ManualClock(1_000_000);
    const d = await started({ transport, negativeTtlMs: 30_000 }, clock);
    expect(d.name('10.1.1.1')).toBe('10.1.1.1');
    await d.settled();
    const asked = dnsmasq.ptrQueries();
    expect(d.name('10.1.1.1')).toBe('10.1.1.1');
    expect(d.counters()).toMatchObject({ nxdomain: 1, hits: 1, misses: 1, queued: 0 });
    expect(d.peek('10.1.1.1')).toEqual({ name: '10.1.1.1', positive: false, expiresAt: 1_030_000 });
    clock.advance(29_000);
    d.tick();
    d.name('10.1.1.1');
    await d.settled();
    expect(dnsmasq.ptrQueries()).toBe(asked); // still cached
    clock.advance(1_000);
    d.tick();
    d.name('10.1.1.1');
    await d.settled();
    expect(dnsmasq.ptrQueries()).toBe(asked + 1);
    expect(d.counters().nxdomain).toBe(2);
    await d.stop();
  });

  it('ignores what is not an address', async () => {
    const d = await started({ transport });
    expect(d.name('not-an-address')).toBe('not-an-address');
    expect(d.name('')).toBe('');
    expect(d.counters()).toMatchObject({ misses: 2, queued: 0, dropped: 0 });
    await d.stop();
  });

  it('times out against a server that never answers, and caches that negatively', async () => {
    const hole = await startBlackHole();
    const d = new DnsNames({ servers: [hole.server], transport, timeoutMs: 100, tries: 2, negativeTtlMs: 5_000 });
    await d.start();
    const t0 = performance.now();
    expect(d.name('192.0.2.99')).toBe('192.0.2.99');
    await d.settled();
    const took = performance.now() - t0;
    expect(d.counters()).toMatchObject({ timeouts: 1, answered: 0, inFlight: 0, queries: 1 });
    expect(d.peek('192.0.2.99')).toMatchObject({ name: '192.0.2.99', positive: false });
    expect(hole.received()).toBeGreaterThanOrEqual(2); // two tries
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(3_000);
    d.name('192.0.2.99');
    await d.settled();
    expect(d.counters().queries).toBe(1); // negative entry served
    await d.stop();
    await hole.stop();
  });
});

describe('DnsNames TTLs (udp transport: the answer TTL is honoured)', () => {
  it('caches for the answer TTL (dnsmasq --local-ttl=7), clamped by minTtlMs/maxTtlMs', async () => {
    const clock = new ManualClock(5_000_000);
    const d = await started({ transport: 'udp' }, clock);
    d.name('10.244.1.17');
    await d.settled();
    expect(d.peek('10.244.1.17')?.expiresAt).toBe(5_007_000);
    await d.stop();
    const floor = await started({ transport: 'udp', minTtlMs: 60_000 }, clock);
    floor.name('10.244.1.17');
    await floor.settled();
    expect(floor.peek('10.244.1.17')?.expiresAt).toBe(5_060_000);
    await floor.stop();
    const ceiling = await started({ transport: 'udp', maxTtlMs: 2_000 }, clock);
    ceiling.name('10.244.1.17');
    await ceiling.settled();
    expect(ceiling.peek('10.244.1.17')?.expiresAt).toBe(5_002_000);
    await ceiling.stop();
  });

  it('refetches when the TTL expires, serving the old name until the new one arrives', async () => {
    const clock = new ManualClock(0);
    const d = await started({ transport: 'udp' }, clock);
    d.name('10.9.0.1');
    await d.settled();
    expect(d.name('10.9.0.1')).toBe('host-1.lru.test.');
    await dnsmasq.setHosts([...HOSTS.filter(([a]) => a !== '10.9.0.1'), ['10.9.0.1', 'renamed.lru.test']]);
    try {
      clock.advance(6_999);
      d.tick();
      expect(d.name('10.9.0.1')).toBe('host-1.lru.test.');
      await d.settled();
      expect(d.counters().queries).toBe(1);
      clock.advance(1);
      d.tick();
      expect(d.name('10.9.0.1')).toBe('host-1.lru.test.'); // stale while refreshing
      expect(d.counters().queued).toBe(1);
      expect(d.name('10.9.0.1')).toBe('host-1.lru.test.');
      expect(d.counters().queued).toBe(1); // one refresh only
      await d.settled();
      expect(d.name('10.9.0.1')).toBe('renamed.lru.test.');
      expect(d.counters().queries).toBe(2);
      expect(d.peek('10.9.0.1')?.expiresAt).toBe(14_000);
    } finally {
      await dnsmasq.setHosts(HOSTS);
    }
    await d.stop();
  });

  it('uses defaultTtlMs with the resolver transport (c-ares does not report PTR TTLs)', async () => {
    const clock = new ManualClock(0);
    const d = await started({ transport: 'resolver', defaultTtlMs: 45_000 }, clock);
    d.name('10.244.1.17');
    await d.settled();
    expect(d.peek('10.244.1.17')).toEqual({ name: '10-244-1-17.web.shop.svc.cluster.local.', positive: true, expiresAt: 45_000 });
    await d.stop();
  });

  it('keeps a confirmed name when its refresh fails (server gone), within maxStaleMs', async () => {
    const own = await startDnsmasq({ hosts: HOSTS, localTtl: 7 });
    const clock = new ManualClock(0);
    const d = new DnsNames({ servers: [own.server], minTtlMs: 0, timeoutMs: 100, tries: 1, negativeTtlMs: 10_000, maxStaleMs: 60_000 }, { clock });
    await d.start();
    d.name('192.0.2.80');
    await d.settled();
    await own.stop();
    clock.advance(8_000);
    d.tick();
    expect(d.name('192.0.2.80')).toBe('www.example.com.');
    await d.settled();
    const c = d.counters();
    expect(c.timeouts + c.errors).toBe(1);
    expect(d.peek('192.0.2.80')).toEqual({ name: 'www.example.com.', positive: true, expiresAt: 18_000 });
    clock.advance(60_000);
    d.tick();
    d.name('192.0.2.80');
    await d.settled();
    expect(d.peek('192.0.2.80')?.positive).toBe(false); // confirmed too long ago: back to the address
    expect(d.name('192.0.2.80')).toBe('192.0.2.80');
    await d.stop();
  });
});

describe('DnsNames bounds', () => {
  it('holds at most maxEntries, evicting the least recently used (counted)', async () => {
    const d = await started({ maxEntries: 5 });
    for (let i = 1; i <= 5; i++) d.name(`10.9.0.${i}`);
    await d.settled();
    expect(d.name('10.9.0.1')).toBe('host-1.lru.test.'); // 10.9.0.1 is now the most recently used
    for (let i = 6; i <= 8; i++) d.name(`10.9.0.${i}`);
    await d.settled();
    expect(d.counters()).toMatchObject({ entries: 5, evictions: 3 });
    expect(d.peek('10.9.0.1')?.name).toBe('host-1.lru.test.');
    for (const gone of ['10.9.0.2', '10.9.0.3', '10.9.0.4']) expect(d.peek(gone)).toBeUndefined();
    for (const kept of ['10.9.0.5', '10.9.0.6', '10.9.0.7', '10.9.0.8']) expect(d.peek(kept)).toBeDefined();
    await d.stop();
  });

  it('keeps queue, in-flight and rate bounds under a flood of 10,000 distinct addresses', async () => {
    const obs = observe();
    const d = await started({ maxInFlight: 8, maxQueued: 1_000, maxQueriesPerSecond: 500, timeoutMs: 2_000 }, undefined, obs.make);
    const addresses = Array.from({ length: 10_000 }, (_, i) => `10.${100 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`);
    const answers: string[] = [];
    let maxQueued = 0;
    const t0 = performance.now();
    for (let i = 0; i < addresses.length; i++) {
      answers.push(d.name(addresses[i]!));
      if ((i & 255) === 0) maxQueued = Math.max(maxQueued, d.counters().queued);
    }
    const hotMs = performance.now() - t0;
    expect(answers).toEqual(addresses);
    const c0 = d.counters();
    expect(c0).toMatchObject({ misses: 10_000, queued: 1_000, dropped: 9_000, inFlight: 0 });
    // Synchronous and nothing awaited: a few ms in practice; the bound only catches gross regressions.
    expect(hotMs).toBeLessThan(2_000);
    const sampler = setInterval(() => {
      const c = d.counters();
      maxQueued = Math.max(maxQueued, c.queued);
      expect(c.inFlight).toBeLessThanOrEqual(8);
    }, 5);
    await d.settled();
    clearInterval(sampler);
    const c = d.counters();
    expect(maxQueued).toBeLessThanOrEqual(1_000);
    expect(obs.maxConcurrent).toBeLessThanOrEqual(8);
    expect(obs.maxConcurrent).toBeGreaterThan(1);
    expect(c.queries).toBe(1_000);
    expect(c.answered + c.nxdomain + c.timeouts + c.errors).toBe(1_000);
    // Token bucket: a burst of 500 (one second's worth), then 500 per second.
    const first = obs.starts[0]!;
    const within = (ms: number): number => obs.starts.filter((t) => t - first < ms).length;
    expect(within(400)).toBeLessThanOrEqual(500 + 0.4 * 500 + 10);
    expect(obs.starts.at(-1)! - first).toBeGreaterThanOrEqual(900);
    // Misses after the queue drained are queued again (dropped lookups are retried on later misses).
    d.name('10.100.39.15'); // the 10,000th address: was dropped
    expect(d.counters().queued).toBe(1);
    await d.settled();
    await d.stop();
  }, 20_000);
});

describe('DnsNames servers', () => {
  it('resolves server host names once at start', async () => {
    const asked: string[] = [];
    const d = new DnsNames(
      { servers: [`dns.cluster.test:${dnsmasq.port}`] },
      { lookupHost: async (h) => (asked.push(h), ['127.0.0.1']) },
    );
    await d.start();
    expect(asked).toEqual(['dns.cluster.test']);
    expect(d.servers()).toEqual([dnsmasq.server]);
    d.name('192.0.2.80');
    await d.settled();
    expect(d.name('192.0.2.80')).toBe('www.example.com.');
    await d.stop();
  });

  it('is never fatal: an unresolvable or malformed server is logged and the system resolvers are used', async () => {
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (o: object, m?: string) => void warnings.push(`${m} ${JSON.stringify(o)}`) };
    const d = new DnsNames(
      { servers: ['kube-dns.kube-system.svc', '10.0.0.1:99999'] },
      {
        log,
        lookupHost: async () => {
          throw Object.assign(new Error('getaddrinfo ENOTFOUND kube-dns.kube-system.svc'), { code: 'ENOTFOUND' });
        },
      },
    );
    await expect(d.start()).resolves.toBeUndefined();
    expect(d.started).toBe(true);
    expect(warnings.join('\n')).toMatch(/kube-dns\.kube-system\.svc/);
    expect(warnings.join('\n')).toMatch(/99999/);
    expect(warnings.join('\n')).toMatch(/using the system resolvers/);
    await d.stop();
  });

  it('answers with the address before start() and after stop(), without throwing', async () => {
    const d = new DnsNames({ servers: [dnsmasq.server] });
    expect(d.name('192.0.2.80')).toBe('192.0.2.80');
    await d.start();
    await d.settled();
    expect(d.name('192.0.2.80')).toBe('www.example.com.');
    await d.stop();
    expect(d.name('192.0.2.80')).toBe('www.example.com.'); // the cache survives stop()
    expect(d.name('10.244.1.17')).toBe('10.244.1.17');
    await d.settled();
  });
});
