// Enrichment hot path: ns per cached lookup — DnsNames.name, Enrichment.dnsName with Kubernetes
// names, KubernetesIndex.lookup / attribute / attributeGetter — against a plain Map.get over the
// same number of address strings (the floor: any cached lookup is at least one map read).
// Run: npx tsx bench/enrich.bench.ts [addresses...]   (also part of `npm run bench`)
//
// Caches are filled first — DNS from an in-process transport (no network), the Kubernetes
// index from a loopback fake API server — then each case reads every address in turn, many
// times, interleaving the cases over several rounds; it prints medians and the per-round ratios to
// two baselines. Lookups use strings equal to, but not the same objects as, the cached keys.

import { DnsNames, type PtrTransport } from '../src/enrich/index.js';
import { dnsNameFunction } from '../src/enrich/enrichment.js';
import { KubernetesIndex } from '../src/enrich/k8s/kubernetes-index.js';
import { FakeApiServer } from '../src/enrich/testing/fake-apiserver.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [4_096, 100_000];
const ROUNDS = 15;
const TARGET_OPS = 2_000_000;

function addressesOf(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`);
  return out;
}

/** An in-process transport answering every PTR question at once. */
const instant: PtrTransport = {
  query: async (q) => ({ status: 'ok', names: [`host-${q.split('.').slice(0, 4).join('-')}.bench.example.`], ttlMs: 3_600_000 }),
  close() {},
};

interface Case {
  name: string;
  loop: (keys: string[], reps: number) => number;
}

interface Result {
  name: string;
  /** Median ns per lookup. */
  ns: number;
  /** Median over rounds of (this case / Map.get in the same round), and / baseline 2. */
  ratio: number;
  ratio2: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Run every case once per round, interleaved, so that load from other processes hits all cases
 * alike; report each case's median time and its median ratio to the baselines (cases 0 and 1)
 * within the same round.
 */
function measureAll(keys: string[], cases: Case[]): Result[] {
  const reps = Math.max(1, Math.round(TARGET_OPS / keys.length));
  for (const c of cases) if (c.loop(keys, Math.max(1, reps >> 2)) === 0) throw new Error(`${c.name}: nothing found`); // warm-up
  const times: number[][] = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((c, i) => {
      const t0 = process.hrtime.bigint();
      c.loop(keys, reps);
      times[i]!.push(Number(process.hrtime.bigint() - t0) / (reps * keys.length));
    });
  }
  return cases.map((c, i) => ({
    name: c.name,
    ns: median(times[i]!),
    ratio: median(times[i]!.map((t, r) => t / times[0]![r]!)),
    ratio2: median(times[i]!.map((t, r) => t / times[1]![r]!)),
  }));
}

async function main(): Promise<void> {
  const server = new FakeApiServer();
  await server.start();
  try {
    for (const n of SIZES) {
      const keys = addressesOf(n);

      // Baseline: a Map from address to name.
      const map = new Map<string, string>();
      for (const k of keys) map.set(k, `host-${k}.bench.example.`);
      // Second baseline: values are objects and the lookup reads one field (what any cache
      // holding more than a bare string does). Objects are allocated in shuffled order, as
      // answers arriving over time would be.
      const objMap = new Map<string, { name: string; expires: number }>();
      const order = keys.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = (Math.imul(i, 2654435761) >>> 0) % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const objs = new Array<{ name: string; expires: number }>(n);
      for (const i of order) objs[i] = { name: `host-${keys[i]}.bench.example.`, expires: Infinity };
      for (let i = 0; i < n; i++) objMap.set(keys[i]!, objs[i]!);

      // DnsNames with every address cached.
      const dns = new DnsNames(
        { servers: ['127.0.0.1:9'], maxEntries: n * 2, maxQueued: n, maxInFlight: 1024, maxQueriesPerSecond: 1e9 },
        { transport: () => instant },
      );
      await dns.start();
      for (const k of keys) dns.name(k);
      await dns.settled();
      if (dns.counters().entries !== n) throw new Error(`dns cache holds ${dns.counters().entries}, not ${n}`);

      // KubernetesIndex with one pod per address, listed from the loopback fake API server
      // (small pod objects: the bench is about lookups, not parsing).
      for (let i = 0; i < n; i++) {
        server.set('pods', {
          metadata: {
            name: `bench-${i}`,
            namespace: `ns-${i % 50}`,
            creationTimestamp: '2025-03-14T09:26:53Z',
            labels: { 'pod-template-hash': '7d9f8c6b5' },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `app-${i % 200}-7d9f8c6b5`, uid: 'u', controller: true }],
          },
          spec: { nodeName: `node-${i % 64}` },
          status: { phase: 'Running', podIP: keys[i], podIPs: [{ ip: keys[i] }] },
        });
      }
      const k8s = new KubernetesIndex({ connection: { server: server.url, source: 'bench' }, resources: ['pods'], maxObjects: n * 2, pageSize: 5000, dnsNames: true });
      await k8s.start();
      await k8s.waitForSync();
      if (k8s.status().addresses !== n) throw new Error(`k8s index holds ${k8s.status().addresses} addresses, not ${n}`);
      const getNamespace = k8s.attributeGetter('namespace')!;

      const cases: Case[] = [
        {
          name: 'Map.get (baseline)',
          loop: (ks, reps) => {
            let c = 0;
            for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += map.get(ks[i]!)!.length;
            return c;
          },
        },
        {
          name: 'Map.get → object field (baseline 2)',
          loop: (ks, reps) => {
            let c = 0;
            for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += objMap.get(ks[i]!)!.name.length;
            return c;
          },
        },
        {
          name: 'DnsNames.name (cached)',
          loop: (ks, reps) => {
            let c = 0;
            for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += dns.name(ks[i]!).length;
            return c;
          },
        },
        {
          name: 'KubernetesIndex.lookup',
          loop: (ks, reps) => {
            let c = 0;
            for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += k8s.lookup(ks[i]!)!.kind.length;
            return c;
          },
        },
        {
          name: "KubernetesIndex.attribute(a, 'namespace')",
          loop: (ks, reps) => {
            let c = 0;
            for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += k8s.attribute(ks[i]!, 'namespace')!.length;
            return c;
          },
        },
        {
          name: "attributeGetter('namespace')(a)",
          loop: (ks, reps) => {
            let c = 0;
            for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += getNamespace(ks[i]!)!.length;
            return c;
          },
        },
      ];
      // dns: with --k8s-names: Kubernetes name first (every address is a pod here).
      const dnsNameK8s = dnsNameFunction(dns, k8s, true);
      cases.push({
        name: 'dns: with --k8s-names (k8s hit)',
        loop: (ks, reps) => {
          let c = 0;
          for (let r = 0; r < reps; r++) for (let i = 0; i < ks.length; i++) c += dnsNameK8s(ks[i]!).length;
          return c;
        },
      });
      // Look up with equal but distinct strings: the engine's address strings (from the packet
      // dissector) are never the very objects the caches were filled with (from DNS answers, API
      // JSON), so Map lookups compare contents, not pointers. The baselines pay the same.
      const lookupKeys = keys.map((k) => Buffer.from(k, 'latin1').toString('latin1'));
      const results = measureAll(lookupKeys, cases);

      console.log(`\n${n.toLocaleString('en')} cached addresses (${ROUNDS} interleaved rounds of ~${(TARGET_OPS / 1e6).toFixed(0)}M lookups per case; medians; ratios within a round)`);
      console.log(`${'case'.padEnd(44)} ${'ns/lookup'.padStart(10)} ${'× Map.get'.padStart(10)} ${'× baseline 2'.padStart(13)}`);
      for (const r of results) console.log(`${r.name.padEnd(44)} ${r.ns.toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(10)} ${r.ratio2.toFixed(2).padStart(13)}`);
      const c = dns.counters();
      console.log(`dns counters: hits ${c.hits}, misses ${c.misses}, entries ${c.entries}`);

      await dns.stop();
      await k8s.stop();
      for (let i = 0; i < n; i++) server.delete('pods', `ns-${i % 50}`, `bench-${i}`);
      server.compact();
    }
  } finally {
    await server.stop();
  }
}

await main();
