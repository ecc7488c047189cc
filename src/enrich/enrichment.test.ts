import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnrichment, enrichmentConfig, enrichmentConfigFromEnv, ENRICHMENT_OPTIONS, parseDurationMs } from './enrichment.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { smallCluster } from './testing/k8s-fixtures.js';
import { startDnsmasq } from './testing/dnsmasq.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const noLookup = { lookupHost: async (h: string): Promise<string[]> => Promise.reject(new Error(`getaddrinfo ENOTFOUND ${h}`)) };

describe('enrichment settings', () => {
  it('has one flag and one environment variable per setting, all documented in docs/enrichment.md', () => {
    const flags = ENRICHMENT_OPTIONS.map((o) => o.flag);
    const envs = ENRICHMENT_OPTIONS.map((o) => o.env);
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(envs).size).toBe(envs.length);
    for (const o of ENRICHMENT_OPTIONS) {
      expect(o.flag).toMatch(/^--[a-z0-9-]+$/);
      expect(o.env).toMatch(/^SFLOWSCOPE_[A-Z0-9_]+$/);
    }
    const doc = readFileSync(new URL('../../docs/enrichment.md', import.meta.url), 'utf8');
    for (const o of ENRICHMENT_OPTIONS) expect(doc, o.flag).toContain(`| \`${o.flag}\` | \`${o.env}\` |`);
  });

  it('defaults: reverse DNS through the system resolvers, Kubernetes off', () => {
    expect(enrichmentConfigFromEnv({})).toEqual({ dns: {}, k8s: 'off', kubeconfig: null, kubeContext: null, k8sIndex: {}, k8sNames: false });
  });

  it('reads what the deployment manifest sets', () => {
    const c = enrichmentConfigFromEnv({ SFLOWSCOPE_DNS_SERVERS: 'kube-dns.kube-system.svc', SFLOWSCOPE_K8S: 'in-cluster' });
    expect(c).toMatchObject({ dns: { servers: ['kube-dns.kube-system.svc'] }, k8s: 'in-cluster' });
  });

  it('parses every kind of value', () => {
    const c = enrichmentConfigFromEnv({
      SFLOWSCOPE_DNS_SERVERS: '10.96.0.10, [fd00::a]:5353',
      SFLOWSCOPE_DNS_TRANSPORT: 'resolver',
      SFLOWSCOPE_DNS_CACHE_SIZE: '5000',
      SFLOWSCOPE_DNS_TIMEOUT: '500ms',
      SFLOWSCOPE_DNS_MIN_TTL: '10',
      SFLOWSCOPE_DNS_MAX_TTL: '2h',
      SFLOWSCOPE_DNS_NEGATIVE_TTL: '5m',
      SFLOWSCOPE_K8S_MAX_OBJECTS: '1000',
      SFLOWSCOPE_K8S_NAMES: 'true',
      SFLOWSCOPE_CLUSTER_DOMAIN: 'cluster.example.',
      SFLOWSCOPE_KUBECONFIG: '/etc/sflowscope/kubeconfig',
    });
    expect(c).toEqual({
      dns: { servers: ['10.96.0.10', '[fd00::a]:5353'], transport: 'resolver', maxEntries: 5000, timeoutMs: 500, minTtlMs: 10_000, maxTtlMs: 7_200_000, negativeTtlMs: 300_000 },
      k8s: 'kubeconfig', // implied by --kubeconfig
      kubeconfig: '/etc/sflowscope/kubeconfig',
      kubeContext: null,
      k8sIndex: { maxObjects: 1000, clusterDomain: 'cluster.example' },
      k8sNames: true,
    });
  });

  it('turns reverse DNS off with `off`, whatever the order of the options', () => {
    const raw: Record<string, string> = { '--dns-max-qps': '10', '--dns-servers': 'off' };
    expect(enrichmentConfig((o) => raw[o.flag]).dns).toBeNull();
  });

  it('names the option in errors', () => {
    expect(() => enrichmentConfigFromEnv({ SFLOWSCOPE_K8S: 'yes' })).toThrow(/--k8s \/ SFLOWSCOPE_K8S: "yes" is not off, in-cluster or kubeconfig/);
    expect(() => enrichmentConfigFromEnv({ SFLOWSCOPE_DNS_SERVERS: '10.0.0.1:70000' })).toThrow(/--dns-servers.*port 70000/);
    expect(() => enrichmentConfigFromEnv({ SFLOWSCOPE_DNS_TIMEOUT: 'soon' })).toThrow(/--dns-timeout.*not a duration/);
    expect(() => enrichmentConfigFromEnv({ SFLOWSCOPE_DNS_CACHE_SIZE: '0' })).toThrow(/--dns-cache-size/);
  });

  it('parses durations like the server settings (a bare number is seconds)', () => {
    expect([parseDurationMs('250ms'), parseDurationMs('30'), parseDurationMs('1.5s'), parseDurationMs('5m'), parseDurationMs('1h'), parseDurationMs('1d')]).toEqual([
      250, 30_000, 1_500, 300_000, 3_600_000, 86_400_000,
    ]);
  });
});

describe('createEnrichment', () => {
  it('off: dns: answers the address and k8s is null', () => {
    const e = createEnrichment({ dns: null, k8s: 'off' });
    expect(e.dns).toBeNull();
    expect(e.k8s).toBeNull();
    expect(e.dnsName('10.1.2.3')).toBe('10.1.2.3');
    expect(e.status()).toEqual({ dns: { enabled: false }, k8s: { enabled: false, mode: 'off', reason: null }, k8sNames: false, warnings: [] });
  });

  it('with the deployment settings outside a cluster: logs, carries on, never throws', async () => {
    const warned: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (o: object, m?: string) => void warned.push(`${m} ${JSON.stringify(o)}`) };
    const e = createEnrichment(enrichmentConfigFromEnv({ SFLOWSCOPE_DNS_SERVERS: 'kube-dns.kube-system.svc', SFLOWSCOPE_K8S: 'in-cluster' }), {
      log,
      env: {},
      dnsDeps: noLookup,
    });
    cleanup.push(() => e.stop());
    expect(e.k8s).toBeNull();
    expect(e.warnings[0]).toMatch(/not running in a Kubernetes pod/);
    await expect(e.start()).resolves.toBeUndefined();
    expect(e.dns!.started).toBe(true);
    expect(warned.join('\n')).toMatch(/kube-dns\.kube-system\.svc/);
    expect(warned.join('\n')).toMatch(/not running in a Kubernetes pod/);
    expect(e.status().k8s).toMatchObject({ enabled: false, mode: 'in-cluster', reason: expect.stringMatching(/KUBERNETES_SERVICE_HOST/) });
  });

  it('a kubeconfig that cannot be read is reported, not fatal', async () => {
    const e = createEnrichment({ dns: null, k8s: 'kubeconfig', kubeconfig: '/nonexistent/kubeconfig' });
    await e.start();
    expect(e.k8s).not.toBeNull();
    expect(e.status().k8s).toMatchObject({ enabled: true, mode: 'kubeconfig', connected: false, lastError: expect.stringMatching(/cannot read kubeconfig/) });
    await e.stop();
  });

  it('in-cluster from the service-account files: connects with the pod token', async () => {
    const s = new FakeApiServer({ token: 'pod-token' });
    await s.start();
    cleanup.push(() => s.stop());
    for (const n of smallCluster().nodes) s.set('nodes', n as never);
    const sa = await mkdtemp(join(tmpdir(), 'sflowscope-sa-'));
    cleanup.push(() => rm(sa, { recursive: true, force: true }));
    await writeFile(join(sa, 'token'), 'pod-token');
    await writeFile(join(sa, 'ca.crt'), '');
    // Our fake server speaks plain HTTP; in-cluster always means https, so check the connection it builds.
    const e = createEnrichment({ dns: null, k8s: 'in-cluster', k8sIndex: { resources: ['nodes'] } }, { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(s.port) }, serviceAccountDir: sa });
    cleanup.push(() => e.stop());
    await e.start();
    expect(e.status().k8s).toMatchObject({ enabled: true, mode: 'in-cluster', source: 'in-cluster', server: `https://127.0.0.1:${s.port}` });
  });

  it('k8sNames: dns: answers Kubernetes names where the index knows the address, PTR names elsewhere', async () => {
    const dnsmasq = await startDnsmasq({ hosts: [['192.0.2.80', 'www.example.com'], ['10.244.1.17', '10-244-1-17.web.shop.svc.cluster.local']], localTtl: 60 });
    cleanup.push(() => dnsmasq.stop());
    const s = new FakeApiServer();
    await s.start();
    cleanup.push(() => s.stop());
    const c = smallCluster();
    for (const kind of ['nodes', 'services', 'endpointslices', 'pods'] as const) for (const o of c[kind]) s.set(kind, o as never);
    const kcDir = await mkdtemp(join(tmpdir(), 'sflowscope-kc-'));
    cleanup.push(() => rm(kcDir, { recursive: true, force: true }));
    const kubeconfig = join(kcDir, 'config');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters: [{name: t, cluster: {server: "${s.url}"}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\nusers: [{name: u, user: {token: x}}]\n`,
    );
    const e = createEnrichment(
      enrichmentConfigFromEnv({ SFLOWSCOPE_DNS_SERVERS: dnsmasq.server, SFLOWSCOPE_KUBECONFIG: kubeconfig, SFLOWSCOPE_K8S_NAMES: 'true', SFLOWSCOPE_DNS_MIN_TTL: '0' }),
    );
    cleanup.push(() => e.stop());
    await e.start();
    await e.k8s!.waitForSync();
    expect(e.dnsName('10.244.1.17')).toBe('web-7d9f8c6b5-x2x7q.web.shop.svc.cluster.local.'); // pod name, not the dashed IP
    expect(e.dnsName('10.96.14.7')).toBe('web.shop.svc.cluster.local.');
    expect(e.dnsName('10.244.2.41')).toBe('report-28994400-7vx5t.report.batch.pod.cluster.local.');
    expect(e.dnsName('192.0.2.80')).toBe('192.0.2.80'); // external: PTR lookup queued
    await e.dns!.settled();
    expect(e.dnsName('192.0.2.80')).toBe('www.example.com.');
    const st = e.status();
    expect(st.k8sNames).toBe(true);
    expect(st.dns).toMatchObject({ enabled: true, started: true, transport: 'udp', servers: [dnsmasq.server], counters: { answered: 1, queries: 1 } });
    expect(st.k8s).toMatchObject({ enabled: true, mode: 'kubeconfig', synced: true, objects: { pods: 9, services: 4, endpointslices: 5, nodes: 2 } });
    // Without k8sNames, dns: is plain reverse DNS.
    const plain = createEnrichment({ dns: { servers: [dnsmasq.server], minTtlMs: 0 }, k8s: 'kubeconfig', kubeconfig });
    cleanup.push(() => plain.stop());
    await plain.start();
    plain.dnsName('10.244.1.17');
    await plain.dns!.settled();
    expect(plain.dnsName('10.244.1.17')).toBe('10-244-1-17.web.shop.svc.cluster.local.');
  });
});
