// What the index keeps of each API object: a few strings and the addresses, not the object
// (a pod's JSON with managedFields is 5–20 KB; its record is a few hundred bytes).

import type { Pod, Service, Node } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { canonicalAddress } from '../dns/reverse.js';

export type ResourceKind = 'pods' | 'services' | 'endpointslices' | 'nodes';

/**
 * Strings many objects share (namespaces, node names, workload names and kinds) are kept once:
 * JSON.parse makes a fresh copy for every object. Bounded: the pool starts over when it is full
 * (copies then merely stop being shared).
 */
const POOL_MAX = 100_000;
const pool = new Map<string, string>();
export function intern(s: string): string {
  const had = pool.get(s);
  if (had !== undefined) return had;
  if (pool.size >= POOL_MAX) pool.clear();
  // Flatten (a slice or concatenation would pin its parent string) before keeping it.
  const flat = s.length > 0 ? (' ' + s).slice(1) : s;
  pool.set(flat, flat);
  return flat;
}

export interface PodRecord {
  kind: 'pods';
  namespace: string;
  name: string;
  ips: string[];
  node: string | undefined;
  hostNetwork: boolean;
  /** Succeeded/Failed, or being deleted: its address may already belong to a new pod. */
  finished: boolean;
  created: number;
  workload: string;
  /** Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, StaticPod, Pod, or the owner's kind. */
  workloadKind: string;
}

export interface ServiceRecord {
  kind: 'services';
  namespace: string;
  name: string;
  /** ClusterIPs, external IPs, load-balancer ingress IPs. */
  ips: string[];
}

export interface SliceRecord {
  kind: 'endpointslices';
  namespace: string;
  /** From the kubernetes.io/service-name label; slices without it are ignored. */
  service: string;
  ips: string[];
}

export interface NodeRecord {
  kind: 'nodes';
  name: string;
  /** InternalIP and ExternalIP addresses. */
  ips: string[];
}

function addrs(list: Iterable<string | undefined>): string[] {
  const out: string[] = [];
  for (const a of list) {
    if (!a) continue;
    const c = canonicalAddress(a);
    if (c !== null && !out.includes(c)) out.push(c);
  }
  return out;
}

/** Characters Kubernetes uses for generated name suffixes (apimachinery rand.SafeEncodeString). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const RS_HASH = new RegExp(`^(.+)-${SAFE}{5,10}$`);
/** CronJob-made Jobs are named <cronjob>-<scheduled time in minutes since the epoch>. */
const CRONJOB_JOB = /^(.+)-(\d{8,10})$/;

/** The workload owning a pod: its controller, walked up by naming convention where the API does not tell. */
export function podWorkload(pod: Pod): { workload: string; workloadKind: string } {
  const meta = pod.metadata ?? {};
  const name = meta.name ?? '';
  const owners: OwnerReference[] = meta.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (!owner) return { workload: name, workloadKind: 'Pod' };
  switch (owner.kind) {
    case 'ReplicaSet': {
      // Deployment → ReplicaSet <deployment>-<pod-template-hash>; the pod carries the hash label.
      const hash = meta.labels?.['pod-template-hash'];
      if (hash && owner.name.endsWith(`-${hash}`)) return { workload: owner.name.slice(0, -hash.length - 1), workloadKind: 'Deployment' };
      const m = RS_HASH.exec(owner.name);
      if (m && !hash) return { workload: m[1]!, workloadKind: 'Deployment' };
      return { workload: owner.name, workloadKind: 'ReplicaSet' };
    }
    case 'Job': {
      const m = CRONJOB_JOB.exec(owner.name);
      return m ? { workload: m[1]!, workloadKind: 'CronJob' } : { workload: owner.name, workloadKind: 'Job' };
    }
    case 'Node': {
      // Static (mirror) pods: <manifest name>-<node name>.
      const node = pod.spec?.nodeName ?? owner.name;
      const suffix = `-${node}`;
      return { workload: name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : name, workloadKind: 'StaticPod' };
    }
    default:
      return { workload: owner.name, workloadKind: owner.kind };
  }
}

export function podRecord(pod: Pod): PodRecord | null {
  const meta = pod.metadata;
  if (!meta?.name || !meta.namespace) return null;
  const status = pod.status ?? {};
  const phase = status.phase ?? '';
  const created = Date.parse(meta.creationTimestamp ?? '');
  const w = podWorkload(pod);
  const node = pod.spec?.nodeName;
  return {
    kind: 'pods',
    namespace: intern(meta.namespace),
    name: meta.name,
    ips: addrs([...(status.podIPs ?? []).map((p) => p.ip), status.podIP]),
    node: node ? intern(node) : undefined,
    hostNetwork: pod.spec?.hostNetwork === true,
    finished: phase === 'Succeeded' || phase === 'Failed' || meta.deletionTimestamp != null,
    created: Number.isFinite(created) ? created : 0,
    workload: intern(w.workload),
    workloadKind: intern(w.workloadKind),
  };
}

export function serviceRecord(svc: Service): ServiceRecord | null {
  const meta = svc.metadata;
  if (!meta?.name || !meta.namespace) return null;
  const spec = svc.spec ?? {};
  const cluster = [...(spec.clusterIPs ?? []), spec.clusterIP].filter((ip) => ip && ip !== 'None');
  const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
  return { kind: 'services', namespace: intern(meta.namespace), name: meta.name, ips: addrs([...cluster, ...(spec.externalIPs ?? []), ...lb]) };
}

export function sliceRecord(slice: EndpointSlice): SliceRecord | null {
  const meta = slice.metadata;
  const service = meta?.labels?.['kubernetes.io/service-name'];
  if (!meta?.name || !meta.namespace || !service) return null;
  const base = { kind: 'endpointslices' as const, namespace: intern(meta.namespace), service: intern(service) };
  if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') return { ...base, ips: [] };
  return { ...base, ips: addrs((slice.endpoints ?? []).flatMap((e) => e.addresses ?? [])) };
}

export function nodeRecord(node: Node): NodeRecord | null {
  const name = node.metadata?.name;
  if (!name) return null;
  const a = (node.status?.addresses ?? []).filter((x) => x.type === 'InternalIP' || x.type === 'ExternalIP').map((x) => x.address);
  return { kind: 'nodes', name: intern(name), ips: addrs(a) };
}

/** The index key of an object: namespace/name (name for cluster-scoped objects). */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string | null {
  const m = obj.metadata;
  if (!m?.name) return null;
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}
