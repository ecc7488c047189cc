// The enrichment components and their settings, built in one place: reverse DNS (DnsNames) and
// Kubernetes identities (KubernetesIndex). `createEnrichment` does no I/O; `start()` resolves DNS
// server names, reads kubeconfig / service-account files and starts watching — and never fails
// the server: every problem is logged, kept in `warnings`/`status()`, and the component concerned
// answers with addresses (DNS) or nothing (Kubernetes).
//
// ENRICHMENT_OPTIONS lists every setting with its flag and environment variable, for the
// server's config module (src/config.ts) to merge into `sflowscope serve`'s table; until then
// `enrichmentConfigFromEnv` reads the environment alone. docs/enrichment.md documents them.

import type { Clock } from '../engine/clock.js';
import { DNS_DEFAULTS, DnsNames, type DnsCounters, type DnsNamesConfig, type DnsNamesDeps, type DnsTransportKind } from './dns.js';
import { parseServer } from './dns/servers.js';
import { defaultKubeconfigPath, inClusterConnection, kubeconfigConnection } from './k8s/connection.js';
import { K8S_DEFAULTS, KubernetesIndex, type KubernetesIndexConfig, type KubernetesStatus } from './k8s/kubernetes-index.js';
import { silentLog, type EnrichLog } from './log.js';

export type K8sMode = 'off' | 'in-cluster' | 'kubeconfig';

export interface EnrichmentConfig {
  /** Reverse DNS settings; null turns reverse DNS off (`dns:` keys then answer the address). */
  dns: Partial<DnsNamesConfig> | null;
  k8s: K8sMode;
  /** Kubeconfig path (mode `kubeconfig`); null: $KUBECONFIG's first entry or ~/.kube/config. */
  kubeconfig: string | null;
  /** Kubeconfig context; null: the current context. */
  kubeContext: string | null;
  /** KubernetesIndex tuning (maxObjects, clusterDomain...). */
  k8sIndex: Partial<Omit<KubernetesIndexConfig, 'connection'>>;
  /** `dns:` answers the Kubernetes name of an address when there is one, the PTR name otherwise. */
  k8sNames: boolean;
}

export const DEFAULT_ENRICHMENT_CONFIG: Readonly<EnrichmentConfig> = Object.freeze({
  dns: {},
  k8s: 'off',
  kubeconfig: null,
  kubeContext: null,
  k8sIndex: {},
  k8sNames: false,
});

export interface EnrichmentDeps {
  log?: EnrichLog;
  /** Time for DNS TTLs: give it the wall clock (DNS answers are about now, also when replaying a capture). */
  clock?: Clock;
  /** For in-cluster detection and $KUBECONFIG (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the service-account token and CA are (default /var/run/secrets/kubernetes.io/serviceaccount). */
  serviceAccountDir?: string;
  /** Test hooks. */
  dnsDeps?: DnsNamesDeps;
  random?: () => number;
}

export interface EnrichmentStatus {
  dns: { enabled: false } | { enabled: true; started: boolean; transport: DnsTransportKind; servers: string[]; counters: DnsCounters };
  k8s: { enabled: false; mode: K8sMode; reason: string | null } | ({ enabled: true; mode: K8sMode } & KubernetesStatus);
  k8sNames: boolean;
  warnings: string[];
}

export interface Enrichment {
  readonly dns: DnsNames | null;
  readonly k8s: KubernetesIndex | null;
  /**
   * What the `dns:` key function calls: the PTR name (or the address), or with `k8sNames` the
   * Kubernetes DNS-shaped name first. Chosen once here, so no per-sample branching on settings.
   */
  readonly dnsName: (address: string) => string;
  /** Configuration problems found so far (more may appear after start()). */
  readonly warnings: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): EnrichmentStatus;
}

export function createEnrichment(config: Partial<EnrichmentConfig> = {}, deps: EnrichmentDeps = {}): Enrichment {
  const c: EnrichmentConfig = { ...DEFAULT_ENRICHMENT_CONFIG, ...config };
  const log = deps.log ?? silentLog;
  const env = deps.env ?? process.env;
  const warnings: string[] = [];

  const dns = c.dns === null ? null : new DnsNames(c.dns, { log, ...(deps.clock ? { clock: deps.clock } : {}), ...deps.dnsDeps });

  let k8s: KubernetesIndex | null = null;
  let k8sOffReason: string | null = null;
  const indexDeps = { log, ...(deps.random ? { random: deps.random } : {}) };
  const indexConfig = { ...c.k8sIndex, dnsNames: c.k8sNames || c.k8sIndex.dnsNames === true };
  if (c.k8s === 'in-cluster') {
    if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
      k8sOffReason = 'SFLOWSCOPE_K8S=in-cluster, but this process is not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/PORT are not set): Kubernetes names are off';
      warnings.push(k8sOffReason);
    } else {
      k8s = new KubernetesIndex({ ...indexConfig, connection: () => inClusterConnection(env, deps.serviceAccountDir) }, indexDeps);
    }
  } else if (c.k8s === 'kubeconfig') {
    const path = c.kubeconfig ?? defaultKubeconfigPath(env);
    const context = c.kubeContext ?? undefined;
    k8s = new KubernetesIndex({ ...indexConfig, connection: () => kubeconfigConnection(path, context) }, indexDeps);
  }

  const dnsName = dnsNameFunction(dns, k8s, c.k8sNames);
  if (c.k8sNames && k8s === null) warnings.push('Kubernetes names for dns: keys were asked for, but Kubernetes is off: dns: answers PTR names');

  return {
    dns,
    k8s,
    dnsName,
    warnings,
    async start() {
      for (const w of warnings) log.warn({ problem: w }, 'enrichment');
      await Promise.all([dns?.start(), k8s?.start()]);
    },
    async stop() {
      await Promise.all([dns?.stop(), k8s?.stop()]);
    },
    status() {
      const k8sStatus = k8s?.status();
      return {
        dns: dns === null ? { enabled: false } : { enabled: true, started: dns.started, transport: dns.config.transport, servers: dns.servers(), counters: dns.counters() },
        k8s: k8sStatus === undefined ? { enabled: false, mode: c.k8s, reason: k8sOffReason } : { enabled: true, mode: c.k8s, ...k8sStatus },
        k8sNames: c.k8sNames && k8s !== null,
        warnings: [...warnings],
      };
    },
  };
}

/**
 * The function behind `dns:`: with `k8sNames` and an index, the Kubernetes DNS-shaped name of the
 * address when the index has one, else the PTR name (or the address when DNS is off).
 */
export function dnsNameFunction(dns: DnsNames | null, k8s: KubernetesIndex | null, k8sNames: boolean): (address: string) => string {
  if (k8sNames && k8s !== null) {
    return dns !== null ? (a) => k8s.lookup(a)?.dnsName ?? dns.name(a) : (a) => k8s.lookup(a)?.dnsName ?? a;
  }
  if (dns !== null) return (a) => dns.name(a);
  return (a) => a;
}

// ---- settings -------------------------------------------------------------------------------

export class EnrichmentConfigError extends Error {}

type OptionKind = 'servers' | 'transport' | 'count' | 'duration' | 'k8s' | 'path' | 'string' | 'bool';

export interface EnrichmentOptionDef {
  flag: string;
  env: string;
  kind: OptionKind;
  defaultText: string;
  help: string;
  /** A bound on memory or work: listed in the limits table of docs/limits.md (as OptionDef.limit). */
  limit?: true;
  /** Store a parsed value into the config. */
  apply(c: EnrichmentConfig, raw: string): void;
}

/** `500ms`, `10s`, `5m`, `1h`, `1d`; a bare number is seconds (as in docs/configuration.md). */
export function parseDurationMs(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(s);
  if (!m) throw new EnrichmentConfigError(`"${s}" is not a duration (e.g. 500ms, 10s, 5m, 1h)`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * mult);
}

function parseCount(s: string): number {
  if (!/^\s*\d+\s*$/.test(s) || Number(s) < 1) throw new EnrichmentConfigError(`"${s}" is not a positive whole number`);
  return Number(s);
}

function parseBool(s: string): boolean {
  const v = s.trim().toLowerCase();
  if (v === '' || v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  throw new EnrichmentConfigError(`"${s}" is not true or false`);
}

function dnsOf(c: EnrichmentConfig): Partial<DnsNamesConfig> {
  // A DNS tuning option after `--dns-servers off` is ignored: DNS stays off.
  return c.dns ?? {};
}

function setDns<K extends keyof DnsNamesConfig>(k: K, v: DnsNamesConfig[K]): (c: EnrichmentConfig) => void {
  return (c) => {
    if (c.dns !== null) c.dns = { ...dnsOf(c), [k]: v };
  };
}

const ms = (ttl: number): string => (ttl % 3_600_000 === 0 ? `${ttl / 3_600_000}h` : ttl % 60_000 === 0 ? `${ttl / 60_000}m` : ttl % 1000 === 0 ? `${ttl / 1000}s` : `${ttl}ms`);

export const ENRICHMENT_OPTIONS: readonly EnrichmentOptionDef[] = [
  {
    flag: '--dns-servers',
    env: 'SFLOWSCOPE_DNS_SERVERS',
    kind: 'servers',
    defaultText: '(system)',
    help: 'Resolvers for reverse DNS (`dns:` keys, the DNS sunburst): comma-separated `host[:port]`, IPv6 as `[addr]:port`. Host names (kube-dns.kube-system.svc) are resolved once at start with the system resolver; a name that does not resolve is logged and skipped, and with none left the system resolvers are used. Empty: the system resolvers (/etc/resolv.conf). `off`: no reverse DNS (dns: answers the address).',
    apply(c, raw) {
      const v = raw.trim();
      if (v.toLowerCase() === 'off') {
        c.dns = null;
        return;
      }
      const servers = v === '' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const s of servers) {
        try {
          parseServer(s);
        } catch (e) {
          throw new EnrichmentConfigError((e as Error).message);
        }
      }
      c.dns = { ...(c.dns ?? {}), servers };
    },
  },
  {
    flag: '--dns-transport',
    env: 'SFLOWSCOPE_DNS_TRANSPORT',
    kind: 'transport',
    defaultText: DNS_DEFAULTS.transport,
    help: '`udp`: our own PTR client (caches each answer for its TTL; truncated answers are retried through c-ares over TCP). `resolver`: node\'s c-ares Resolver, which does not report PTR TTLs, so names are cached for --dns-default-ttl.',
    apply(c, raw) {
      const v = raw.trim();
      if (v !== 'udp' && v !== 'resolver') throw new EnrichmentConfigError(`"${raw}" is not udp or resolver`);
      setDns('transport', v)(c);
    },
  },
  { flag: '--dns-cache-size', env: 'SFLOWSCOPE_DNS_CACHE_SIZE', kind: 'count', defaultText: String(DNS_DEFAULTS.maxEntries), help: 'Most addresses cached (names and negative answers); the least recently used is evicted (counted).', limit: true, apply: (c, r) => setDns('maxEntries', parseCount(r))(c) },
  { flag: '--dns-timeout', env: 'SFLOWSCOPE_DNS_TIMEOUT', kind: 'duration', defaultText: ms(DNS_DEFAULTS.timeoutMs), help: 'Wait this long for each attempt.', apply: (c, r) => setDns('timeoutMs', Math.max(1, parseDurationMs(r)))(c) },
  { flag: '--dns-tries', env: 'SFLOWSCOPE_DNS_TRIES', kind: 'count', defaultText: String(DNS_DEFAULTS.tries), help: 'Rounds over the server list before a lookup counts as timed out.', apply: (c, r) => setDns('tries', parseCount(r))(c) },
  { flag: '--dns-min-ttl', env: 'SFLOWSCOPE_DNS_MIN_TTL', kind: 'duration', defaultText: ms(DNS_DEFAULTS.minTtlMs), help: 'Cache answers at least this long (CoreDNS answers with TTL 5 s).', apply: (c, r) => setDns('minTtlMs', parseDurationMs(r))(c) },
  { flag: '--dns-max-ttl', env: 'SFLOWSCOPE_DNS_MAX_TTL', kind: 'duration', defaultText: ms(DNS_DEFAULTS.maxTtlMs), help: 'Cache answers at most this long.', apply: (c, r) => setDns('maxTtlMs', parseDurationMs(r))(c) },
  { flag: '--dns-default-ttl', env: 'SFLOWSCOPE_DNS_DEFAULT_TTL', kind: 'duration', defaultText: ms(DNS_DEFAULTS.defaultTtlMs), help: 'Cache time of names when the transport does not report a TTL (--dns-transport resolver).', apply: (c, r) => setDns('defaultTtlMs', parseDurationMs(r))(c) },
  { flag: '--dns-negative-ttl', env: 'SFLOWSCOPE_DNS_NEGATIVE_TTL', kind: 'duration', defaultText: ms(DNS_DEFAULTS.negativeTtlMs), help: 'Cache time of NXDOMAIN/NODATA without SOA (and the cap of SOA-derived negative TTLs), timeouts and server errors.', apply: (c, r) => setDns('negativeTtlMs', parseDurationMs(r))(c) },
  { flag: '--dns-max-in-flight', env: 'SFLOWSCOPE_DNS_MAX_IN_FLIGHT', kind: 'count', defaultText: String(DNS_DEFAULTS.maxInFlight), help: 'Most lookups outstanding at once.', limit: true, apply: (c, r) => setDns('maxInFlight', parseCount(r))(c) },
  { flag: '--dns-max-qps', env: 'SFLOWSCOPE_DNS_MAX_QPS', kind: 'count', defaultText: String(DNS_DEFAULTS.maxQueriesPerSecond), help: 'Most lookups sent per second (bursts of up to one second\'s worth).', limit: true, apply: (c, r) => setDns('maxQueriesPerSecond', parseCount(r))(c) },
  { flag: '--dns-max-queued', env: 'SFLOWSCOPE_DNS_MAX_QUEUED', kind: 'count', defaultText: String(DNS_DEFAULTS.maxQueued), help: 'Most addresses waiting for a lookup; beyond it lookups are dropped (counted) and retried when the address is seen again.', limit: true, apply: (c, r) => setDns('maxQueued', parseCount(r))(c) },
  {
    flag: '--k8s',
    env: 'SFLOWSCOPE_K8S',
    kind: 'k8s',
    defaultText: 'off',
    help: 'Kubernetes identities for `k8s:` keys: `off`; `in-cluster` (the pod\'s service account; outside a pod this is logged and Kubernetes stays off); `kubeconfig` (--kubeconfig). Giving --kubeconfig alone implies `kubeconfig`.',
    apply(c, raw) {
      const v = raw.trim();
      if (v !== 'off' && v !== 'in-cluster' && v !== 'kubeconfig') throw new EnrichmentConfigError(`"${raw}" is not off, in-cluster or kubeconfig`);
      c.k8s = v;
    },
  },
  {
    flag: '--kubeconfig',
    env: 'SFLOWSCOPE_KUBECONFIG',
    kind: 'path',
    defaultText: '($KUBECONFIG or ~/.kube/config)',
    help: 'Kubeconfig file for --k8s kubeconfig (token, client certificate or basic auth; exec and auth-provider plugins are not supported).',
    apply(c, raw) {
      const v = raw.trim();
      if (v === '') return;
      c.kubeconfig = v;
    },
  },
  { flag: '--k8s-context', env: 'SFLOWSCOPE_K8S_CONTEXT', kind: 'string', defaultText: '(current context)', help: 'Kubeconfig context to use.', apply: (c, r) => void (c.kubeContext = r.trim() || null) },
  {
    flag: '--k8s-max-objects',
    env: 'SFLOWSCOPE_K8S_MAX_OBJECTS',
    kind: 'count',
    defaultText: String(K8S_DEFAULTS.maxObjects),
    help: 'Most Kubernetes objects indexed (pods, services, EndpointSlices and nodes together); beyond it objects are not indexed (counted).',
    limit: true,
    apply: (c, r) => void (c.k8sIndex = { ...c.k8sIndex, maxObjects: parseCount(r) }),
  },
  {
    flag: '--k8s-names',
    env: 'SFLOWSCOPE_K8S_NAMES',
    kind: 'bool',
    defaultText: 'false',
    help: '`dns:` keys (the DNS sunburst, the Flow Browser) answer Kubernetes names (`<pod>.<service>.<namespace>.svc.<domain>.`...) where the index knows the address, PTR names elsewhere.',
    apply: (c, r) => void (c.k8sNames = parseBool(r)),
  },
  {
    flag: '--cluster-domain',
    env: 'SFLOWSCOPE_CLUSTER_DOMAIN',
    kind: 'string',
    defaultText: K8S_DEFAULTS.clusterDomain,
    help: 'Domain of the Kubernetes names made by --k8s-names.',
    apply(c, raw) {
      const v = raw.trim().replace(/^\.+|\.+$/g, '');
      if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(v)) throw new EnrichmentConfigError(`"${raw}" is not a domain name`);
      c.k8sIndex = { ...c.k8sIndex, clusterDomain: v };
    },
  },
];

/**
 * Build the configuration from raw option values. `get` returns an option's raw text (the
 * caller applies its own precedence: flag > environment), or undefined when not given.
 * Throws EnrichmentConfigError naming the option on a bad value.
 */
export function enrichmentConfig(get: (opt: EnrichmentOptionDef) => string | undefined): EnrichmentConfig {
  const c: EnrichmentConfig = { ...DEFAULT_ENRICHMENT_CONFIG, dns: {}, k8sIndex: {} };
  let k8sGiven = false;
  // --dns-servers first: `off` must win over tuning options whatever their order.
  const ordered = [...ENRICHMENT_OPTIONS].sort((a, b) => (a.flag === '--dns-servers' ? -1 : b.flag === '--dns-servers' ? 1 : 0));
  for (const opt of ordered) {
    const raw = get(opt);
    if (raw === undefined) continue;
    if (opt.flag === '--k8s') k8sGiven = true;
    try {
      opt.apply(c, raw);
    } catch (e) {
      throw new EnrichmentConfigError(`${opt.flag} / ${opt.env}: ${(e as Error).message}`);
    }
  }
  if (!k8sGiven && c.kubeconfig !== null) c.k8s = 'kubeconfig';
  return c;
}

/** The configuration from environment variables alone. */
export function enrichmentConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EnrichmentConfig {
  return enrichmentConfig((opt) => env[opt.env]);
}
