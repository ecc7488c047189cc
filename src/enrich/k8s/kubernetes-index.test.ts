// KubernetesIndex against a local server speaking the list/watch protocol
// (src/enrich/testing/fake-apiserver.ts) with realistic objects (testing/k8s-fixtures.ts).
// Loopback only; every wait is bounded.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer, type FakeKind } from '../testing/fake-apiserver.js';
import { deploymentPod, node, pod, smallCluster } from '../testing/k8s-fixtures.js';
import { createServer } from 'node:net';
import { KubernetesIndex, type KubernetesIndexConfig } from './kubernetes-index.js';
import { backoffDelay } from './reflector.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(opts: ConstructorParameters<typeof FakeApiServer>[0] = {}, port = 0): Promise<FakeApiServer> {
  const s = new FakeApiServer(opts);
  await s.start(port);
  cleanup.push(() => s.stop());
  return s;
}

function load(s: FakeApiServer, cluster = smallCluster()): void {
  for (const kind of ['nodes', 'services', 'endpointslices', 'pods'] as const) {
    for (const o of cluster[kind]) s.set(kind, o as unknown as Record<string, unknown>);
  }
}

function index(s: FakeApiServer | string, config: Partial<KubernetesIndexConfig> = {}, log?: { lines: string[] }): KubernetesIndex {
  const record = (level: string) => (o: object, m?: string) => log?.lines.push(`${level} ${m} ${JSON.stringify(o)}`);
  const ix = new KubernetesIndex(
    {
      connection: { server: typeof s === 'string' ? s : s.url, source: 'test' },
      pageSize: 3,
      dnsNames: true,
      backoffInitialMs: 20,
      backoffMaxMs: 200,
      ...config,
    },
    { log: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') } },
  );
  cleanup.push(() => ix.stop());
  return ix;
}

/** Poll `pred` until true; returns the milliseconds it took. Fails after `ms`. */
async function until(pred: () => boolean, ms = 3000, what = 'condition'): Promise<number> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - t0;
}

/**
 * A free port below the ephemeral range (32768–60999 on Linux): connecting to a closed port inside
 * that range may pick the same port as its own source and connect to itself (TCP self-connect).
 */
async function refusedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function watchRequests(s: FakeApiServer, kind: FakeKind): { query: Record<string, string>; status: number }[] {
  return s.requests.filter((r) => r.kind === kind && r.watch);
}
function listRequests(s: FakeApiServer, kind: FakeKind): { query: Record<string, string>; status: number }[] {
  return s.requests.filter((r) => r.kind === kind && !r.watch);
}

describe('KubernetesIndex: list, then lookups', () => {
  it('indexes pods, services, endpointslices and nodes listed in pages', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    expect(ix.lookup('10.244.1.17')).toBeUndefined(); // not started: unknown, not "external"
    await ix.start();
    await ix.waitForSync();
    await until(() => ix.status().connected && s.openWatches() === 4, 3000, 'watches open');

    expect(ix.lookup('10.244.1.17')).toEqual({
      kind: 'pod',
      namespace: 'shop',
      pod: 'web-7d9f8c6b5-x2x7q',
      node: 'worker-1',
      workload: 'web',
      workloadKind: 'Deployment',
      service: 'web',
      dnsName: 'web-7d9f8c6b5-x2x7q.web.shop.svc.cluster.local.',
    });
    expect(ix.lookup('fd00:10:244:1::11')).toBe(ix.lookup('fd00:10:244:1::11'));
    expect(ix.lookup('fd00:10:244:1::11')).toMatchObject({ kind: 'pod', pod: 'web-7d9f8c6b5-x2x7q', service: 'web' });
    expect(ix.lookup('10.96.14.7')).toEqual({ kind: 'service', namespace: 'shop', service: 'web', dnsName: 'web.shop.svc.cluster.local.' });
    expect(ix.lookup('fd00:10:96::e07')).toMatchObject({ kind: 'service', service: 'web' });
    expect(ix.lookup('198.51.100.20')).toMatchObject({ kind: 'service', service: 'gateway' });
    expect(ix.lookup('10.96.0.10')).toMatchObject({ kind: 'service', namespace: 'kube-system', service: 'kube-dns' });
    expect(ix.lookup('10.244.1.2')).toMatchObject({ kind: 'pod', namespace: 'kube-system', workload: 'coredns', service: 'kube-dns' });
    expect(ix.lookup('10.244.2.30')).toMatchObject({ kind: 'pod', pod: 'db-0', workload: 'db', workloadKind: 'StatefulSet', service: 'db' });
    expect(ix.lookup('10.244.2.41')).toMatchObject({ kind: 'pod', namespace: 'batch', workload: 'report', workloadKind: 'CronJob', node: 'worker-2' });
    expect(ix.lookup('10.244.2.41')?.service).toBeUndefined();
    expect(ix.lookup('10.244.2.41')?.dnsName).toBe('report-28994400-7vx5t.report.batch.pod.cluster.local.');
    expect(ix.lookup('10.244.1.50')).toMatchObject({ kind: 'pod', workload: 'cache', workloadKind: 'ReplicaSet' });
    // Host-network pods share the node's address: the address is the node's.
    expect(ix.lookup('192.168.10.11')).toEqual({ kind: 'node', node: 'worker-1', dnsName: 'worker-1.node.cluster.local.' });
    expect(ix.lookup('fd00:192:168:10::11')).toMatchObject({ kind: 'node', node: 'worker-1' });
    expect(ix.lookup('203.0.113.12')).toMatchObject({ kind: 'node', node: 'worker-2' });
    // An endpoint of a Service without selector.
    expect(ix.lookup('192.0.2.44')).toEqual({ kind: 'external', namespace: 'shop', service: 'legacy-billing' });
    expect(ix.lookup('8.8.8.8')).toEqual({ kind: 'external' });

    expect(ix.attribute('10.244.1.17', 'namespace')).toBe('shop');
    expect(ix.attribute('10.244.1.17', 'workload')).toBe('web');
    expect(ix.attribute('10.244.1.17', 'workloadkind')).toBe('Deployment');
    expect(ix.attribute('10.244.1.17', 'node')).toBe('worker-1');
    expect(ix.attribute('10.96.14.7', 'pod')).toBeUndefined();
    expect(ix.attribute('8.8.8.8', 'kind')).toBe('external');
    expect(ix.attribute('8.8.8.8', 'namespace')).toBeUndefined();
    expect(ix.attribute('10.244.1.17', 'color')).toBeUndefined();
    expect(ix.attributeGetter('color')).toBeNull();
    expect(ix.attributeGetter('service')!('10.244.2.30')).toBe('db');
    expect(ix.attributeGetter('kind')!('1.1.1.1')).toBe('external');

    const st = ix.status();
    expect(st).toMatchObject({
      connected: true,
      synced: true,
      objects: { pods: 9, services: 4, endpointslices: 5, nodes: 2 },
      dropped: 0,
      relists: 0,
      lastError: null,
      source: 'test',
    });
    // Pages of 3: 9 pods took 3 requests, each continuing the previous one.
    const lists = listRequests(s, 'pods');
    expect(lists.map((r) => r.query.limit)).toEqual(['3', '3', '3']);
    expect(lists.filter((r) => r.query.continue).length).toBe(2);
    // The watch resumes from the list's resourceVersion and asks for bookmarks.
    const w = watchRequests(s, 'pods')[0]!;
    expect(w.query).toMatchObject({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: String(s.resourceVersion) });
    expect(Number(w.query.timeoutSeconds)).toBeGreaterThanOrEqual(300);
    expect(Number(w.query.timeoutSeconds)).toBeLessThan(600);
  });
});

describe('KubernetesIndex: watch events', () => {
  it('shows a pod added, updated and deleted during the watch within a second', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches('pods') === 1, 3000, 'pod watch');

    // Added (Pending, no address yet), then Running with an address.
    s.set('pods', deploymentPod({ deployment: 'api', namespace: 'shop', hash: '5b8c9d7f6', suffix: 'q4n2w', node: 'worker-2', phase: 'Pending' }) as never);
    s.set('pods', deploymentPod({ deployment: 'api', namespace: 'shop', hash: '5b8c9d7f6', suffix: 'q4n2w', node: 'worker-2', ip: '10.244.2.77' }) as never);
    const added = await until(() => ix.attribute('10.244.2.77', 'pod') === 'api-5b8c9d7f6-q4n2w', 1000, 'added pod');
    expect(ix.lookup('10.244.2.77')).toMatchObject({ kind: 'pod', workload: 'api', workloadKind: 'Deployment', node: 'worker-2' });

    // Updated: the address moves (pod IPs do not change in place in real clusters, but a
    // MODIFIED event must re-index whatever changed).
    s.set('pods', deploymentPod({ deployment: 'api', namespace: 'shop', hash: '5b8c9d7f6', suffix: 'q4n2w', node: 'worker-2', ip: '10.244.2.78' }) as never);
    const updated = await until(() => ix.attribute('10.244.2.78', 'pod') === 'api-5b8c9d7f6-q4n2w', 1000, 'updated pod');
    expect(ix.lookup('10.244.2.77')).toEqual({ kind: 'external' });

    // Deleted.
    s.delete('pods', 'shop', 'api-5b8c9d7f6-q4n2w');
    const deleted = await until(() => ix.attribute('10.244.2.78', 'kind') === 'external', 1000, 'deleted pod');
    for (const ms of [added, updated, deleted]) expect(ms).toBeLessThan(1000);
    expect(ix.status().objects.pods).toBe(9);
  });

  it('prefers a running pod over a finished one holding the same address', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches('pods') === 1);
    // 10.244.2.41 belongs to a Succeeded pod; a new pod gets the address.
    s.set('pods', pod({ name: 'worker-job-abcde', namespace: 'ml', ip: '10.244.2.41', node: 'worker-2', created: '2025-03-14T10:00:00Z' }) as never);
    await until(() => ix.attribute('10.244.2.41', 'pod') === 'worker-job-abcde', 1000);
    expect(ix.lookup('10.244.2.41')).toMatchObject({ namespace: 'ml', workload: 'worker-job-abcde', workloadKind: 'Pod' });
    // The finished pod goes away: the running one stays.
    s.delete('pods', 'batch', 'report-28994400-7vx5t');
    await until(() => ix.status().objects.pods === 9, 1000);
    expect(ix.attribute('10.244.2.41', 'pod')).toBe('worker-job-abcde');
  });

  it('follows services, endpointslices and nodes too', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches() === 4);
    // A new Service selects the cache pod.
    const cl = smallCluster();
    s.set('endpointslices', { ...cl.endpointslices[2]!, metadata: { ...cl.endpointslices[2]!.metadata, name: 'cache-x9k2v', labels: { 'kubernetes.io/service-name': 'cache' } }, endpoints: [{ addresses: ['10.244.1.50'], conditions: { ready: true } }] } as never);
    await until(() => ix.attribute('10.244.1.50', 'service') === 'cache', 1000);
    s.set('nodes', node({ name: 'gpu-3', internalIP: '192.168.10.13' }) as never);
    await until(() => ix.attribute('192.168.10.13', 'node') === 'gpu-3', 1000);
    s.delete('services', 'shop', 'gateway');
    await until(() => ix.attribute('198.51.100.20', 'kind') === 'external', 1000);
  });

  it('reads events split across chunks, inside multi-byte characters', async () => {
    const s = await server({ splitEvents: true });
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches('pods') === 1);
    for (let i = 0; i < 5; i++) s.set('pods', pod({ name: `split-${i}`, namespace: 'shop', ip: `10.244.3.${i + 1}` }) as never);
    await until(() => ix.attribute('10.244.3.5', 'pod') === 'split-4', 2000);
    for (let i = 0; i < 5; i++) expect(ix.attribute(`10.244.3.${i + 1}`, 'pod')).toBe(`split-${i}`);
    expect(ix.status().errors).toBe(0);
  });
});

describe('KubernetesIndex: resourceVersion continuity', () => {
  it('resumes a dropped watch from the last resourceVersion (bookmarks move it on) without listing again', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches() === 4);
    const listed = s.resourceVersion;
    s.bump(100); // other resources changed
    const bm = s.bookmark();
    await until(() => ix.status().resources.pods!.resourceVersion === String(bm), 1000, 'bookmark');
    expect(ix.status().resources.pods!.bookmarks).toBe(1);
    expect(bm).toBeGreaterThan(listed);
    s.dropConnections();
    // Changes while the client is away are replayed from the server's history on resume.
    s.set('pods', pod({ name: 'while-away', namespace: 'shop', ip: '10.244.3.99' }) as never);
    await until(() => ix.attribute('10.244.3.99', 'pod') === 'while-away', 3000, 'replayed event');
    const resumed = watchRequests(s, 'pods').at(-1)!;
    expect(resumed.query.resourceVersion).toBe(String(bm));
    expect(listRequests(s, 'pods').filter((r) => !r.query.continue).length).toBe(1);
    expect(ix.status().relists).toBe(0);
  });

  it('lists again after an ERROR event with 410 Gone, dropping objects deleted meanwhile', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches() === 4);
    s.dropConnections();
    // While disconnected: a pod goes, and the history is compacted away.
    s.delete('pods', 'shop', 'cache-tk9gx');
    s.compact();
    await until(() => ix.status().resources.pods!.relists === 1, 3000, 'relist');
    await until(() => ix.attribute('10.244.1.50', 'kind') === 'external', 1000, 'pruned pod');
    expect(ix.status().objects.pods).toBe(8);
    // The resumed watch of pods was answered 200 + ERROR 410; the list that followed started afresh.
    const firstFresh = listRequests(s, 'pods').filter((r) => !r.query.continue);
    expect(firstFresh.length).toBe(2);
    await until(() => ix.status().connected, 3000, 'reconnected');
    expect(ix.status().errors).toBe(4); // the four dropped connections; 410 is protocol, not an error
  });

  it('lists again on HTTP 410 and on an ERROR 410 sent down an open watch', async () => {
    const s = await server({ goneAsHttpStatus: true });
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches() === 4);
    s.dropConnections();
    s.bump(); // something changed after the client's resourceVersion...
    s.compact(); // ...and the history up to it is gone
    await until(() => ix.status().relists === 4, 3000, 'relist of every resource');
    expect(watchRequests(s, 'pods').some((r) => r.status === 410)).toBe(true);
    await until(() => s.openWatches() === 4);
    s.bump();
    s.compact();
    s.expireWatches();
    await until(() => ix.status().relists === 8, 3000, 'second relist');
    expect(ix.status().synced).toBe(true);
    expect(ix.lookup('10.244.1.17')?.pod).toBe('web-7d9f8c6b5-x2x7q');
  });

  it('restarts a paged list whose continue token expired', async () => {
    const s = await server();
    load(s);
    let compacted = false;
    s.onRequest = (r) => {
      if (r.kind === 'pods' && r.query.continue && !compacted) {
        compacted = true;
        s.bump();
        s.compact();
      }
    };
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    const lists = listRequests(s, 'pods');
    expect(lists[1]!.status).toBe(410);
    expect(lists.filter((r) => !r.query.continue).length).toBe(2);
    expect(ix.status().objects.pods).toBe(9);
  });

  it('resumes a watch the server ended (timeoutSeconds) from its resourceVersion, without listing', async () => {
    const s = await server();
    load(s);
    const ix = index(s, { watchTimeoutSeconds: 60 });
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches() === 4);
    s.set('pods', pod({ name: 'late', namespace: 'shop', ip: '10.244.3.50' }) as never);
    await until(() => ix.attribute('10.244.3.50', 'pod') === 'late', 1000);
    const rv = ix.status().resources.pods!.resourceVersion;
    s.endWatches();
    await until(() => watchRequests(s, 'pods').length === 2 && s.openWatches() === 4, 3000, 'rewatch');
    const w = watchRequests(s, 'pods');
    expect(w[1]!.query.resourceVersion).toBe(rv);
    for (const r of w) {
      expect(Number(r.query.timeoutSeconds)).toBeGreaterThanOrEqual(60);
      expect(Number(r.query.timeoutSeconds)).toBeLessThan(120);
    }
    expect(listRequests(s, 'pods').length).toBe(3); // the first list only: 9 pods in pages of 3
    expect(ix.status().resources.pods!.lists).toBe(1);
  });
});

describe('KubernetesIndex: failures', () => {
  it('backs off (exponential, jittered) while the API server refuses connections, then connects', async () => {
    const port = await refusedPort();
    const log = { lines: [] as string[] };
    const ix = new KubernetesIndex(
      { connection: { server: `http://127.0.0.1:${port}`, source: 'test' }, backoffInitialMs: 20, backoffMaxMs: 200, resources: ['pods'] },
      { random: () => 1, log: { debug() {}, info: (o, m) => void log.lines.push(`info ${m}`), warn: (o, m) => void log.lines.push(`warn ${m} ${JSON.stringify(o)}`), error() {} } },
    );
    cleanup.push(() => ix.stop());
    await ix.start();
    await new Promise((r) => setTimeout(r, 1000));
    const st = ix.status();
    // Delays 20, 40, 80, 160, 200, 200... ms: about 8 attempts in a second, not thousands.
    expect(st.errors).toBeGreaterThanOrEqual(4);
    expect(st.errors).toBeLessThanOrEqual(10);
    expect(st.connected).toBe(false);
    expect(st.synced).toBe(false);
    expect(st.lastError).toMatch(/ECONNREFUSED/);
    expect(ix.lookup('10.244.1.17')).toBeUndefined();
    expect(log.lines.filter((l) => l.startsWith('warn')).length).toBe(1); // once per outage, not per retry
    // The server comes up on that port.
    const s = await server({}, port);
    load(s);
    await until(() => ix.status().connected, 3000, 'connected');
    expect(ix.attribute('10.244.1.17', 'pod')).toBe('web-7d9f8c6b5-x2x7q');
    expect(log.lines.some((l) => l.includes('recovered'))).toBe(true);
  });

  it('backoffDelay: exponential up to the maximum, scaled by the jitter', () => {
    const one = (): number => 1;
    expect([0, 1, 2, 3, 4, 5, 10, 100].map((a) => backoffDelay(a, 500, 30_000, one))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(3, 500, 30_000, () => 0.25)).toBe(1000);
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(1);
  });

  it('retries HTTP errors and non-410 ERROR events from the last resourceVersion, without relisting', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    s.failNext(2, 503, 'ServiceUnavailable', { kind: 'pods' });
    await ix.start();
    await ix.waitForSync();
    expect(listRequests(s, 'pods').slice(0, 2).map((r) => r.status)).toEqual([503, 503]);
    expect(ix.status().resources.pods!.errors).toBe(2);
    expect(ix.status().lastError).toMatch(/503/);
    await until(() => s.openWatches() === 4);
    const rv = ix.status().resources.pods!.resourceVersion;
    s.failNext(1, 500, 'InternalError', { kind: 'pods', watchOnly: true });
    s.dropConnections();
    await until(() => s.openWatches('pods') === 1 && ix.status().resources.pods!.watching, 3000, 'rewatch after 500');
    const w = watchRequests(s, 'pods');
    expect(w.at(-2)!.status).toBe(500);
    expect(w.at(-1)!.query.resourceVersion).toBe(rv);
    expect(ix.status().resources.pods!.relists).toBe(0);
  });

  it('holds at most maxObjects objects and counts the rest', async () => {
    const s = await server();
    load(s); // 20 objects
    const ix = index(s, { maxObjects: 10 });
    await ix.start();
    await ix.waitForSync();
    const st = ix.status();
    const held = st.objects.pods + st.objects.services + st.objects.endpointslices + st.objects.nodes;
    expect(held).toBe(10);
    expect(st.dropped).toBe(10);
    await until(() => s.openWatches() === 4);
    s.set('pods', pod({ name: 'one-too-many', namespace: 'shop', ip: '10.244.3.7' }) as never);
    await until(() => ix.status().dropped === 11, 1000);
    expect(ix.attribute('10.244.3.7', 'pod')).toBeUndefined();
  });

  it('stops promptly with watches open', async () => {
    const s = await server();
    load(s);
    const ix = index(s);
    await ix.start();
    await ix.waitForSync();
    await until(() => s.openWatches() === 4);
    const t0 = performance.now();
    await ix.stop();
    expect(performance.now() - t0).toBeLessThan(2_000); // not the watch timeout (minutes)
    await until(() => s.openWatches() === 0, 1000);
    expect(ix.status().connected).toBe(false);
    expect(ix.attribute('10.244.1.17', 'pod')).toBe('web-7d9f8c6b5-x2x7q'); // what it held stays
  });
});

describe('KubernetesIndex: authentication', () => {
  it('sends the bearer token, re-reading the token file for each request (rotation)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sflowscope-token-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'token-one\n');
    const s = await server({ token: 'token-one' });
    load(s);
    const ix = index(s, { connection: { server: s.url, tokenFile, source: 'test' } });
    await ix.start();
    await ix.waitForSync();
    expect(s.requests.every((r) => r.authorization === 'Bearer token-one')).toBe(true);
    await writeFile(tokenFile, 'token-two\n');
    s.token = 'token-two';
    s.dropConnections();
    await until(() => s.openWatches() === 4, 3000, 'rewatch with the new token');
    expect(s.requests.at(-1)!.authorization).toBe('Bearer token-two');
    expect(s.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('reports 401 as an error and keeps retrying', async () => {
    const s = await server({ token: 'right' });
    load(s);
    const ix = index(s, { connection: { server: s.url, token: 'wrong', source: 'test' }, resources: ['nodes'] });
    await ix.start();
    await until(() => ix.status().errors >= 2, 2000);
    expect(ix.status().lastError).toMatch(/401/);
    expect(ix.status().connected).toBe(false);
  });

  it('does not start without a connection, and says why', async () => {
    const ix = new KubernetesIndex({
      connection: async () => {
        throw new Error('not running in a Kubernetes pod');
      },
    });
    await ix.start();
    expect(ix.status()).toMatchObject({ connected: false, synced: false, lastError: 'not running in a Kubernetes pod' });
    expect(ix.lookup('10.0.0.1')).toBeUndefined();
    await ix.stop();
  });
});
