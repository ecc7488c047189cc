// Kubernetes identities for addresses, for the `k8s:<addrKey>:<attribute>` key functions: an
// in-memory index built from a list+watch of pods, services, EndpointSlices and nodes
// (reflector.ts). Lookups are synchronous map reads of precomputed, frozen identities; every
// watch event updates the identities of the addresses it touches before the next event is read,
// so a pod change is visible as soon as its event arrives.
//
// An address is, in this order of precedence:
//   service  — a ClusterIP, external IP or load-balancer IP of a Service
//   pod      — the IP of a pod not on the host network (a running pod wins over a finished one
//              still holding the address, the newest over older ones); `service` is the Service
//              whose EndpointSlices list the address
//   node     — an InternalIP/ExternalIP of a Node (host-network pods share it)
//   external — anything else, once the first lists completed (an endpoint address of a Service
//              without selector keeps its `namespace` and `service`)
// Before the first complete list lookups return undefined ("don't know yet").
//
// Bounded: at most `maxObjects` objects (all kinds together); beyond it new objects are not
// indexed and counted in `dropped` until room frees up or the next relist.

import type { Clock } from '../../engine/clock.js';
import { VERSION } from '../../version.js';
import { silentLog, type EnrichLog } from '../log.js';
import { KubeClient } from './client.js';
import type { KubeConnection } from './connection.js';
import {
  nodeRecord,
  objectKey,
  podRecord,
  serviceRecord,
  sliceRecord,
  type NodeRecord,
  type PodRecord,
  type ResourceKind,
  type ServiceRecord,
  type SliceRecord,
} from './records.js';
import { Reflector, type ReflectorSink, type ResourceSpec, type ResourceStatus } from './reflector.js';
import type { Pod, Service, Node } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export type K8sKind = 'pod' | 'service' | 'node' | 'external';

export interface K8sIdentity {
  readonly kind: K8sKind;
  readonly namespace?: string;
  readonly pod?: string;
  readonly service?: string;
  readonly node?: string;
  /** The owning workload's name (Deployment, StatefulSet, DaemonSet, Job, CronJob...). */
  readonly workload?: string;
  readonly workloadKind?: string;
  /**
   * Only with the `dnsNames` setting (--k8s-names): a DNS-shaped name with a trailing dot, for
   * charts that split names on dots (the DNS sunburst) when Kubernetes names are preferred over
   * PTR names:
   *   service → `<service>.<namespace>.svc.<domain>.`
   *   pod     → `<pod>.<service>.<namespace>.svc.<domain>.` (selected by a Service)
   *             `<pod>.<workload>.<namespace>.pod.<domain>.` (otherwise)
   *   node    → `<node>.node.<domain>.`
   *   external: none.
   */
  readonly dnsName?: string;
}

/** Attribute names of `k8s:<addrKey>:<attribute>`. */
export const K8S_ATTRIBUTES = ['kind', 'namespace', 'pod', 'service', 'node', 'workload', 'workloadkind'] as const;
export type K8sAttribute = (typeof K8S_ATTRIBUTES)[number];

export const RESOURCES: Readonly<Record<ResourceKind, ResourceSpec>> = {
  pods: { kind: 'pods', path: '/api/v1/pods' },
  services: { kind: 'services', path: '/api/v1/services' },
  endpointslices: { kind: 'endpointslices', path: '/apis/discovery.k8s.io/v1/endpointslices' },
  nodes: { kind: 'nodes', path: '/api/v1/nodes' },
};

export interface KubernetesIndexConfig {
  /** The API server, or a loader run by start() (kubeconfig / service-account files). */
  connection: KubeConnection | (() => Promise<KubeConnection>);
  resources: readonly ResourceKind[];
  /** Most objects indexed, all kinds together. */
  maxObjects: number;
  /** Objects per list page. */
  pageSize: number;
  /** Watches ask the server to end them after [this, 2 × this) seconds (client-go: 5–10 min). */
  watchTimeoutSeconds: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Socket inactivity limit of list requests. */
  requestTimeoutMs: number;
  maxEventBytes: number;
  maxPageBytes: number;
  /** Give identities a `dnsName` (costs memory; createEnrichment sets it with --k8s-names). */
  dnsNames: boolean;
  /** For dnsName. */
  clusterDomain: string;
}

export const K8S_DEFAULTS: Readonly<Omit<KubernetesIndexConfig, 'connection'>> = Object.freeze({
  resources: Object.freeze(['pods', 'services', 'endpointslices', 'nodes'] as ResourceKind[]),
  maxObjects: 200_000,
  pageSize: 500,
  watchTimeoutSeconds: 300,
  backoffInitialMs: 1_000,
  backoffMaxMs: 30_000,
  requestTimeoutMs: 30_000,
  maxEventBytes: 16 * 1024 * 1024,
  maxPageBytes: 256 * 1024 * 1024,
  dnsNames: false,
  clusterDomain: 'cluster.local',
});

export interface KubernetesIndexDeps {
  log?: EnrichLog;
  /** Backoff jitter and watch timeouts (default Math.random). */
  random?: () => number;
  /** For lastErrorAt in the status (default: the wall clock). */
  clock?: Clock;
}

export interface KubernetesStatus {
  /** Where the connection came from (`in-cluster`, `kubeconfig <path> (context <name>)`). */
  source: string | null;
  server: string | null;
  /** Every resource listed and none failing now. */
  connected: boolean;
  /** Every resource listed at least once (lookups answer `external` for unknown addresses from then on). */
  synced: boolean;
  objects: Record<ResourceKind, number>;
  /** Addresses with an identity. */
  addresses: number;
  /** Objects not indexed because of maxObjects. */
  dropped: number;
  relists: number;
  errors: number;
  lastError: string | null;
  lastErrorAt: number | null;
  resources: Partial<Record<ResourceKind, ResourceStatus & { objects: number }>>;
}

type AnyRecord = PodRecord | ServiceRecord | SliceRecord | NodeRecord;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const EXTERNAL: K8sIdentity = Object.freeze({ kind: 'external' as const });

function byName(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function bestPod(refs: readonly AnyRecord[]): PodRecord | undefined {
  let best: PodRecord | undefined;
  for (const p of refs) {
    if (p.kind !== 'pods' || p.hostNetwork) continue;
    if (
      best === undefined ||
      (best.finished && !p.finished) ||
      (best.finished === p.finished && (p.created > best.created || (p.created === best.created && byName(p, best) < 0)))
    ) {
      best = p;
    }
  }
  return best;
}

/** The alphabetically first service among slices in `namespace` (any namespace if not given). */
function sliceService(refs: readonly AnyRecord[], namespace?: string): SliceRecord | undefined {
  let best: SliceRecord | undefined;
  for (const s of refs) {
    if (s.kind !== 'endpointslices') continue;
    if (namespace !== undefined && s.namespace !== namespace) continue;
    if (best === undefined || s.service < best.service || (s.service === best.service && s.namespace < best.namespace)) best = s;
  }
  return best;
}

export class KubernetesIndex {
  readonly config: Readonly<KubernetesIndexConfig>;
  private readonly log: EnrichLog;
  private readonly random: () => number;
  private readonly clock: Clock | null;

  private readonly stores: Record<ResourceKind, Map<string, AnyRecord>> = {
    pods: new Map(),
    services: new Map(),
    endpointslices: new Map(),
    nodes: new Map(),
  };
  private total = 0;
  /** Every object holding each address (usually one or two). */
  private readonly byIp = new Map<string, AnyRecord[]>();
  private readonly identities = new Map<string, K8sIdentity>();
  private isSynced = false;

  private connection: KubeConnection | null = null;
  private client: KubeClient | null = null;
  private reflectors: Reflector[] = [];
  private running = false;
  private starting: Promise<void> | null = null;
  private setupError: string | null = null;
  private setupErrorAt: number | null = null;
  private readonly getters: Record<K8sAttribute, (address: string) => string | undefined>;

  constructor(config: Partial<KubernetesIndexConfig> & Pick<KubernetesIndexConfig, 'connection'>, deps: KubernetesIndexDeps = {}) {
    const c: KubernetesIndexConfig = { ...K8S_DEFAULTS, ...config };
    for (const k of ['maxObjects', 'pageSize', 'watchTimeoutSeconds', 'backoffInitialMs', 'backoffMaxMs', 'requestTimeoutMs', 'maxEventBytes', 'maxPageBytes'] as const) {
      if (!(c[k] >= 1)) throw new RangeError(`kubernetes ${k} must be at least 1 (got ${c[k]})`);
    }
    for (const r of c.resources) if (!(r in RESOURCES)) throw new RangeError(`unknown Kubernetes resource ${r}`);
    this.config = Object.freeze({ ...c, resources: Object.freeze([...c.resources]) });
    this.log = deps.log ?? silentLog;
    this.random = deps.random ?? Math.random;
    this.clock = deps.clock ?? null;
    const ids = this.identities;
    const ext = (a: string): K8sIdentity | undefined => ids.get(a) ?? (this.isSynced ? EXTERNAL : undefined);
    // One closure per attribute: key functions compile `k8s:ipsource:namespace` to one of these.
    this.getters = {
      kind: (a) => ext(a)?.kind,
      namespace: (a) => ids.get(a)?.namespace,
      pod: (a) => ids.get(a)?.pod,
      service: (a) => ids.get(a)?.service,
      node: (a) => ids.get(a)?.node,
      workload: (a) => ids.get(a)?.workload,
      workloadkind: (a) => ids.get(a)?.workloadKind,
    };
  }

  // ---- hot path ---------------------------------------------------------------------------

  /**
   * The identity of an address (canonical text: `10.1.2.3`, `fd00::1a`); `{kind: 'external'}`
   * for an unknown address once the index is synced; undefined before.
   */
  lookup(address: string): K8sIdentity | undefined {
    const id = this.identities.get(address);
    if (id !== undefined) return id;
    return this.isSynced ? EXTERNAL : undefined;
  }

  /** One attribute of an address's identity (`kind`, `namespace`, `pod`, `service`, `node`, `workload`, `workloadkind`), or undefined. */
  attribute(address: string, attr: string): string | undefined {
    const id = this.identities.get(address) ?? (this.isSynced ? EXTERNAL : undefined);
    if (id === undefined) return undefined;
    switch (attr) {
      case 'kind':
        return id.kind;
      case 'namespace':
        return id.namespace;
      case 'pod':
        return id.pod;
      case 'service':
        return id.service;
      case 'node':
        return id.node;
      case 'workload':
        return id.workload;
      case 'workloadkind':
        return id.workloadKind;
      default:
        return undefined;
    }
  }

  /** A function reading one attribute (null for an unknown attribute name): resolve it once when a flow is defined. */
  attributeGetter(attr: string): ((address: string) => string | undefined) | null {
    return (K8S_ATTRIBUTES as readonly string[]).includes(attr) ? this.getters[attr as K8sAttribute] : null;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Load the connection, then list+watch every resource. Never rejects; problems go to status() and the log. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    if (this.starting) return this.starting;
    this.starting = (async () => {
      try {
        this.connection = typeof this.config.connection === 'function' ? await this.config.connection() : this.config.connection;
      } catch (e) {
        this.setupError = (e as Error).message;
        this.setupErrorAt = this.now();
        this.log.warn({ err: this.setupError }, 'kubernetes: cannot connect; Kubernetes names are off');
        return;
      }
      this.setupError = null;
      const c = this.config;
      this.client = new KubeClient(this.connection, {
        requestTimeoutMs: c.requestTimeoutMs,
        maxBodyBytes: c.maxPageBytes,
        maxEventBytes: c.maxEventBytes,
        userAgent: `sflowscope/${VERSION}`,
      });
      const sink: ReflectorSink = {
        upsert: (kind, obj) => this.upsert(kind, obj),
        remove: (kind, obj) => this.remove(kind, obj),
        prune: (kind, keep) => this.prune(kind, keep),
        keyOf: (obj) => objectKey(obj),
      };
      const opts = {
        pageSize: c.pageSize,
        watchTimeoutSeconds: c.watchTimeoutSeconds,
        backoffInitialMs: c.backoffInitialMs,
        backoffMaxMs: c.backoffMaxMs,
        random: this.random,
      };
      this.reflectors = c.resources.map((r) => new Reflector(this.client!, RESOURCES[r], sink, opts, (ref, ev) => this.onState(ref, ev)));
      this.running = true;
      this.log.info({ source: this.connection.source, server: this.connection.server, resources: c.resources }, 'kubernetes: watching');
      for (const r of this.reflectors) r.start();
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** Stop watching. The index keeps what it holds. */
  async stop(): Promise<void> {
    if (this.starting) await this.starting;
    this.running = false;
    const waits = this.reflectors.map((r) => r.stop());
    this.client?.close();
    await Promise.all(waits);
    this.client = null;
  }

  /** Resolves when every resource has been listed once (tests, start-up); at once when not running. */
  async waitForSync(): Promise<void> {
    if (this.starting) await this.starting;
    await Promise.all(this.reflectors.map((r) => r.synced()));
  }

  status(): KubernetesStatus {
    const resources: Partial<Record<ResourceKind, ResourceStatus & { objects: number }>> = {};
    let relists = 0;
    let errors = 0;
    let dropped = 0;
    let lastError = this.setupError;
    let lastErrorAt = this.setupErrorAt;
    let healthy = this.running && this.reflectors.length > 0;
    for (const r of this.reflectors) {
      const s = r.status;
      resources[r.spec.kind] = { ...s, objects: this.stores[r.spec.kind].size };
      relists += s.relists;
      errors += s.errors;
      dropped += s.dropped;
      if (s.lastErrorAt !== null && (lastErrorAt === null || s.lastErrorAt > lastErrorAt)) {
        lastErrorAt = s.lastErrorAt;
        lastError = `${r.spec.kind}: ${s.lastError}`;
      }
      if (!s.synced || !s.healthy) healthy = false;
    }
    return {
      source: this.connection?.source ?? null,
      server: this.connection?.server ?? null,
      connected: healthy,
      synced: this.isSynced,
      objects: {
        pods: this.stores.pods.size,
        services: this.stores.services.size,
        endpointslices: this.stores.endpointslices.size,
        nodes: this.stores.nodes.size,
      },
      addresses: this.identities.size,
      dropped,
      relists,
      errors,
      lastError,
      lastErrorAt,
      resources,
    };
  }

  private now(): number {
    return this.clock ? this.clock.now() : Date.now();
  }

  private onState(r: Reflector, ev: 'synced' | 'error' | 'recovered'): void {
    const kind = r.spec.kind;
    if (ev === 'synced') {
      this.log.info({ resource: kind, objects: this.stores[kind].size }, 'kubernetes: listed');
      if (!this.isSynced && this.reflectors.every((x) => x.status.synced)) {
        this.isSynced = true;
        this.log.info({ addresses: this.identities.size }, 'kubernetes: index synced');
      }
    } else if (ev === 'error') {
      this.log.warn({ resource: kind, err: r.status.lastError }, 'kubernetes: list/watch failing; retrying with backoff');
    } else {
      this.log.info({ resource: kind }, 'kubernetes: list/watch recovered');
    }
  }

  // ---- the index --------------------------------------------------------------------------

  private toRecord(kind: ResourceKind, obj: Record<string, unknown>): AnyRecord | null {
    switch (kind) {
      case 'pods':
        return podRecord(obj as unknown as Pod);
      case 'services':
        return serviceRecord(obj as unknown as Service);
      case 'endpointslices':
        return sliceRecord(obj as unknown as EndpointSlice);
      case 'nodes':
        return nodeRecord(obj as unknown as Node);
    }
  }

  private upsert(kind: ResourceKind, obj: Record<string, unknown>): boolean {
    const key = objectKey(obj);
    if (key === null) return true;
    const rec = this.toRecord(kind, obj);
    const store = this.stores[kind];
    const old = store.get(key);
    if (rec === null) {
      if (old) this.drop(kind, key, old);
      return true;
    }
    if (old === undefined && this.total >= this.config.maxObjects) return false;
    if (old === undefined) this.total++;
    store.set(key, rec);
    const touched = new Set<string>(old ? old.ips : []);
    if (old) for (const ip of old.ips) this.unref(ip, old);
    for (const ip of rec.ips) {
      this.ref(ip, rec);
      touched.add(ip);
    }
    for (const ip of touched) this.recompute(ip);
    return true;
  }

  private remove(kind: ResourceKind, obj: Record<string, unknown>): void {
    const key = objectKey(obj);
    if (key === null) return;
    const old = this.stores[kind].get(key);
    if (old) this.drop(kind, key, old);
  }

  private prune(kind: ResourceKind, keep: Set<string>): void {
    for (const [key, rec] of [...this.stores[kind]]) if (!keep.has(key)) this.drop(kind, key, rec);
  }

  private drop(kind: ResourceKind, key: string, rec: AnyRecord): void {
    this.stores[kind].delete(key);
    this.total--;
    for (const ip of rec.ips) {
      this.unref(ip, rec);
      this.recompute(ip);
    }
  }

  private ref(ip: string, rec: AnyRecord): void {
    const refs = this.byIp.get(ip);
    if (refs === undefined) this.byIp.set(ip, [rec]);
    else refs.push(rec);
  }

  private unref(ip: string, rec: AnyRecord): void {
    const refs = this.byIp.get(ip);
    if (refs === undefined) return;
    const i = refs.indexOf(rec);
    if (i >= 0) refs.splice(i, 1);
    if (refs.length === 0) this.byIp.delete(ip);
  }

  private recompute(ip: string): void {
    const refs = this.byIp.get(ip);
    const id = refs ? this.identify(refs) : undefined;
    if (id === undefined) this.identities.delete(ip);
    else this.identities.set(ip, id);
  }

  private identify(refs: readonly AnyRecord[]): K8sIdentity | undefined {
    const d = this.config.clusterDomain;
    const names = this.config.dnsNames;
    let svc: ServiceRecord | undefined;
    for (const r of refs) if (r.kind === 'services' && (svc === undefined || byName(r, svc) < 0)) svc = r;
    if (svc !== undefined) {
      const id: Mutable<K8sIdentity> = { kind: 'service', namespace: svc.namespace, service: svc.name };
      if (names) id.dnsName = `${svc.name}.${svc.namespace}.svc.${d}.`;
      return Object.freeze(id);
    }
    const pod = bestPod(refs);
    if (pod !== undefined) {
      const service = sliceService(refs, pod.namespace)?.service;
      const id: Mutable<K8sIdentity> = { kind: 'pod', namespace: pod.namespace, pod: pod.name, workload: pod.workload, workloadKind: pod.workloadKind };
      if (pod.node !== undefined) id.node = pod.node;
      if (service !== undefined) id.service = service;
      if (names) id.dnsName = service !== undefined ? `${pod.name}.${service}.${pod.namespace}.svc.${d}.` : `${pod.name}.${pod.workload}.${pod.namespace}.pod.${d}.`;
      return Object.freeze(id);
    }
    let node: string | undefined;
    for (const r of refs) if (r.kind === 'nodes') node ??= r.name;
    for (const r of refs) if (r.kind === 'pods' && r.hostNetwork && r.node !== undefined) node ??= r.node;
    const slice = sliceService(refs);
    if (node !== undefined) {
      const id: Mutable<K8sIdentity> = { kind: 'node', node };
      if (slice) {
        id.namespace = slice.namespace;
        id.service = slice.service;
      }
      if (names) id.dnsName = `${node}.node.${d}.`;
      return Object.freeze(id);
    }
    if (slice) return Object.freeze({ kind: 'external', namespace: slice.namespace, service: slice.service });
    return undefined;
  }
}
