// Traffic between the simulated cluster's pods, nodes and the internet, as one-directional
// packet streams. Each stream knows where it crosses a node's eth0 (egress at the sender's
// node, ingress at the receiver's), what its frames look like there (Calico IP-in-IP between
// nodes, SNAT to the node address towards anything outside the pod pool), how many packets
// per second it carries at traffic scale 1, and how that rate moves over time.
//
// Rates are relative: the simulator multiplies them by one scale factor chosen so the
// cluster emits the datagram rate asked for. The mix is what makes the charts realistic:
// GPU-to-GPU collective traffic and storage reads dominate bytes; DNS to kube-dns,
// Prometheus scrapes, API-server watches and ingress HTTPS are many small flows.

import {
  ascii,
  buildFrame,
  dnsQuery,
  dnsResponse,
  DNS_A,
  DNS_AAAA,
  ETH_HLEN,
  FCS_LEN,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  pingPayload,
  tlsRecord,
  type FrameTemplate,
} from './packets.js';
import { hash32, Rng } from './rng.js';
import type { ClusterModel, ExternalHost, SimNode, SimPod } from './topology.js';

export type Modulation = 'steady' | 'diurnal' | 'collective' | 'bursty' | 'dns';

export interface Stream {
  id: number;
  app: string;
  proto: number;
  /** Node whose eth0 the stream leaves by (egress sample point), or null. */
  srcNode: SimNode | null;
  /** Node whose eth0 the stream arrives by (ingress sample point), or null. */
  dstNode: SimNode | null;
  /** Both ends on one node: never on eth0, only in pod and veth counters. */
  local: boolean;
  /** Pods at either end (for pod/veth counters and extended_entities). */
  srcPod: SimPod | null;
  dstPod: SimPod | null;
  /** The frame as seen leaving srcNode / arriving at dstNode (same object within a rack). */
  egress: FrameTemplate | null;
  ingress: FrameTemplate | null;
  /** Bytes per packet on eth0, without FCS (interface octet counters). */
  l2Bytes: number;
  /** Bytes of the (inner) IP packet: tunl0 counters; +14 on a pod's veth. */
  ipBytes: number;
  encap: boolean;
  /** Packets per second at traffic scale 1, before modulation. */
  base: number;
  mod: Modulation;
  modPeriod: number;
  modDuty: number;
  modPhase: number;
  seed: number;
  /** Current packets per second (scaled, modulated); set by the simulator every second. */
  rate: number;
  ipId: number;
  tcpSeq: number;
  seqStep: number;
  dnsId: number;
  /** Index of `app` in the simulator's statistics. */
  appId: number;
  /** Encoded flow-sample templates (egress, ingress) and where the header starts in them; built by the agent. */
  sampleTpl0: Uint8Array | null;
  sampleTpl1: Uint8Array | null;
  hdrOff: [number, number];
}

/** Applications streams are labelled with (flow sample statistics are kept per app). */
export const APPS = ['dns', 'nccl', 'c10d', 's3', 'https', 'http', 'postgres', 'dask', 'mpi', 'ssh', 'scrape', 'icmp', 'apiserver', 'etcd', 'scan'] as const;

export interface DropSource {
  node: SimNode;
  /** Drop events per second before hsflowd's rate limit, at drop factor 1. */
  rate: number;
  /** Linux SKB drop reason name (net/dropreason.h, without the SKB_DROP_REASON_ prefix). */
  reason: string;
  /** sFlow drop_reason code hsflowd maps it to (dropPoints_rn.h). */
  code: number;
  /** Kernel symbol of the drop point, as drop_monitor reports it. */
  fn: string;
  template: FrameTemplate;
  /** ifIndex the packet came in by (0: not known, e.g. locally generated). */
  input: number;
}

export interface Traffic {
  streams: Stream[];
  drops: DropSource[];
}

type End =
  | { kind: 'pod'; pod: SimPod; /** addressed to the node (hostPort / hostNetwork) */ viaNode?: boolean }
  | { kind: 'node'; node: SimNode }
  | { kind: 'ext'; host: ExternalHost; ttl: number };

/** sFlow drop_reason codes (sflow_drops.txt, sflow_drop.h) for the Linux reasons we simulate. */
export const DROP_CODES: Readonly<Record<string, number>> = {
  NOT_SPECIFIED: 256,
  NO_SOCKET: 3,
  NETFILTER_DROP: 258,
  SOCKET_BACKLOG: 259,
  SOCKET_RCVBUFF: 259,
  TCP_OLD_DATA: 342,
  TCP_INVALID_SEQUENCE: 346,
  TCP_RESET: 347,
  TCP_ZEROWINDOW: 341,
  TCP_CLOSE: 349,
  NEIGH_FAILED: 279,
};

const MTU = 1500;
const IPIP_MSS = MTU - 20 - 20 - 32;
const MSS = MTU - 20 - 32;

export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Smooth value noise in [0, 1): a deterministic function of (seed, x). */
export function vnoise(seed: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const a = mix32(seed, i) / 4294967296;
  const b = mix32(seed, i + 1) / 4294967296;
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

/** Multiplier of a stream's base rate at time t (seconds since the simulation's epoch); averages about 1. */
export function modulate(s: Stream, t: number): number {
  switch (s.mod) {
    case 'steady':
      return 0.8 + 0.4 * vnoise(s.seed, t / 20);
    case 'dns':
      return 0.5 + vnoise(s.seed, t / 7);
    case 'diurnal':
      return (0.45 + 0.55 * (0.5 + 0.5 * Math.sin((2 * Math.PI * (t + s.modPhase)) / 3600))) * (0.75 + 0.5 * vnoise(s.seed, t / 30)) * 1.3;
    case 'collective': {
      // training step: compute, then all-reduce; an evaluation pause every half hour
      const evalPhase = (t + s.modPhase) % 1800;
      if (evalPhase < 90) return 0.03;
      const p = ((t + s.modPhase) % s.modPeriod) / s.modPeriod;
      return p < s.modDuty ? 1 / s.modDuty : 0.04;
    }
    case 'bursty': {
      const p = ((t + s.modPhase) % s.modPeriod) / s.modPeriod;
      return p < s.modDuty ? (0.7 + 0.6 * vnoise(s.seed, t / 3)) / s.modDuty : 0.01;
    }
  }
}

export function buildTraffic(cluster: ClusterModel, seed: number, headerBytes: number): Traffic {
  const rng = new Rng(seed).fork('traffic');
  const streams: Stream[] = [];
  const drops: DropSource[] = [];
  const gw = cluster.gatewayMac;

  const ephemeral = () => rng.range(32768, 60999);

  /** A pod-network pod addressed by its own IP (not a hostNetwork pod, not via a hostPort). */
  const onPodNet = (e: End): boolean => e.kind === 'pod' && !e.pod.hostNetwork && !e.viaNode;

  function wireAddr(e: End, other: End): { ip: number; node: SimNode | null } {
    if (e.kind === 'ext') return { ip: e.host.ipNum, node: null };
    if (e.kind === 'node') return { ip: e.node.ipNum, node: e.node };
    const pod = e.pod;
    // Pod to pod keeps pod addresses; anything leaving the pod pool is SNATed to the node
    // (Calico natOutgoing), and replies come back to the node's address.
    return { ip: onPodNet(e) && onPodNet(other) ? pod.ipNum : pod.node.ipNum, node: pod.node };
  }

  interface Spec {
    app: string;
    proto: number;
    sport: number;
    dport: number;
    base: number;
    mod?: Modulation;
    modPeriod?: number;
    modDuty?: number;
    modPhase?: number;
    payload?: Uint8Array;
    payloadLength?: number;
    /** TCP flags; default ACK (+PSH when there is a payload). */
    flags?: number;
    icmp?: { type: number; code: number };
    tos?: number;
  }

  function stream(from: End, to: End, spec: Spec): Stream {
    const a = wireAddr(from, to);
    const b = wireAddr(to, from);
    const srcPod = from.kind === 'pod' ? from.pod : null;
    const dstPod = to.kind === 'pod' ? to.pod : null;
    const srcNode = a.node;
    const dstNode = b.node;
    const local = srcNode !== null && srcNode === dstNode;
    // Calico IPIP (mode Always): a packet for a pod address on another node is tunnelled
    // node to node; anything else goes out as it is.
    const encap = !local && srcNode !== null && dstNode !== null && b.ip !== dstNode.ipNum;
    // a pod's packets are routed through its node: TTL already decremented once on eth0
    const forwarded = onPodNet(from);
    const innerSrc = a.ip;
    const payloadLength = spec.payloadLength ?? spec.payload?.length ?? 0;
    const flags = spec.flags ?? (spec.proto === IPPROTO_TCP ? (payloadLength > 0 ? 0x18 : 0x10) : 0);
    const sr = new Rng(hash32(`${spec.app}:${a.ip}:${b.ip}:${spec.sport}:${spec.dport}`, seed));
    const tcpSeq = sr.u32();
    const ipId = sr.int(65536);
    const ttlIn = from.kind === 'ext' ? from.ttl : forwarded ? 63 : 64;
    const build = (srcMac: Uint8Array, dstMac: Uint8Array, routed: boolean): FrameTemplate =>
      buildFrame(
        {
          srcMac,
          dstMac,
          outer: encap ? { src: srcNode!.ipNum, dst: dstNode!.ipNum, ttl: routed ? 63 : 64, id: sr.int(65536) } : undefined,
          src: innerSrc,
          dst: b.ip,
          ttl: encap ? ttlIn : routed && from.kind !== 'ext' ? ttlIn - 1 : ttlIn,
          tos: spec.tos ?? 0,
          id: ipId,
          proto: spec.proto,
          sport: spec.sport,
          dport: spec.dport,
          tcp: spec.proto === IPPROTO_TCP ? { flags, seq: tcpSeq, ack: sr.u32(), window: flags & 2 ? 64240 : 501 + sr.int(3000), tsval: sr.u32() } : undefined,
          icmp: spec.icmp ? { ...spec.icmp, id: sr.int(65536), seq: sr.int(1000) } : undefined,
          payload: spec.payload ?? new Uint8Array(0),
          payloadLength,
        },
        headerBytes,
      );
    let egress: FrameTemplate | null = null;
    let ingress: FrameTemplate | null = null;
    if (!local) {
      const sameRack = srcNode !== null && dstNode !== null && srcNode.rack === dstNode.rack;
      if (srcNode) egress = build(srcNode.mac, sameRack ? dstNode!.mac : gw, false);
      if (dstNode) ingress = sameRack && egress ? egress : build(sameRack ? srcNode!.mac : gw, dstNode.mac, srcNode !== null);
    }
    const t = egress ?? ingress;
    const l4h = spec.proto === IPPROTO_TCP ? (flags & 2 ? 40 : 32) : 8;
    const ipBytes = 20 + l4h + payloadLength;
    const s: Stream = {
      id: streams.length,
      app: spec.app,
      proto: spec.proto,
      srcNode,
      dstNode,
      local,
      srcPod,
      dstPod,
      egress,
      ingress,
      l2Bytes: t ? t.frameLength - FCS_LEN : ETH_HLEN + ipBytes,
      ipBytes,
      encap,
      base: spec.base,
      mod: spec.mod ?? 'steady',
      modPeriod: spec.modPeriod ?? 60,
      modDuty: spec.modDuty ?? 0.5,
      modPhase: spec.modPhase ?? sr.between(0, 3600),
      seed: sr.u32(),
      rate: 0,
      ipId,
      tcpSeq,
      seqStep: payloadLength,
      dnsId: sr.int(65536),
      appId: Math.max(0, (APPS as readonly string[]).indexOf(spec.app)),
      sampleTpl0: null,
      sampleTpl1: null,
      hdrOff: [0, 0],
    };
    streams.push(s);
    return s;
  }

  /** A TCP conversation: data one way, ACKs (one per two segments) the other. */
  function tcpBulk(from: End, to: End, app: string, dport: number, pps: number, o: Partial<Spec> & { payload?: Uint8Array; reqPayload?: Uint8Array; reqPps?: number } = {}): void {
    const sport = ephemeral();
    const mss = onPodNet(from) && onPodNet(to) ? IPIP_MSS : MSS;
    stream(from, to, { app, proto: IPPROTO_TCP, sport, dport, base: pps, payloadLength: mss, ...o, payload: o.payload ?? bulkBytes(sport * 31 + dport) });
    stream(to, from, { app, proto: IPPROTO_TCP, sport: dport, dport: sport, base: pps / 2, payloadLength: 0, mod: o.mod, modPeriod: o.modPeriod, modDuty: o.modDuty, modPhase: o.modPhase, payload: undefined });
  }

  /** Request/response over TCP: requests from `from` to `to`, responses back. */
  function tcpRpc(from: End, to: End, app: string, dport: number, reqPps: number, req: Uint8Array, respPps: number, resp: Uint8Array, respLen: number, mod: Partial<Spec> = {}): void {
    const sport = ephemeral();
    stream(from, to, { app, proto: IPPROTO_TCP, sport, dport, base: reqPps, payload: req, payloadLength: req.length, ...mod });
    stream(to, from, { app, proto: IPPROTO_TCP, sport: dport, dport: sport, base: respPps, payload: resp, payloadLength: Math.max(resp.length, respLen), ...mod });
  }

  const podEnd = (pod: SimPod, viaNode = false): End => ({ kind: 'pod', pod, viaNode });
  const nodeEnd = (node: SimNode): End => ({ kind: 'node', node });

  const pods = cluster.pods;
  const podNet = pods.filter((p) => !p.hostNetwork);
  const coredns = cluster.byRole('dns');
  const minio = cluster.byRole('minio');
  const haproxy = cluster.byRole('haproxy');
  const prometheus = cluster.byRole('prometheus');
  const apiservers = cluster.byRole('apiserver');
  const svcByName = new Map(cluster.services.map((s) => [`${s.name}.${s.namespace}`, s]));

  // ---- DNS: every pod resolves names through kube-dns (ndots:5 search-path expansion) ------
  const searchOf = (ns: string) => [`${ns}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'];
  const dnsLookupsFor = (p: SimPod): string[] => {
    const own = cluster.services.filter((s) => s.namespace === p.namespace).map((s) => s.name);
    const names: string[] = [];
    switch (p.role) {
      case 'trainer':
      case 'gpu-job':
        names.push('minio.storage', 'huggingface.co', 'api.wandb.ai');
        if (p.job && p.rank > 0) names.push(`${p.job}-master-0.${p.job}`);
        break;
      case 'notebook':
        names.push('pypi.org', 'github.com', 'minio.storage', ...own.slice(0, 1));
        break;
      case 'batch':
      case 'dask':
      case 'mpi':
        names.push('minio.storage', ...own.filter((x) => x === 'postgres' || x === 'dask-scheduler'));
        break;
      case 'prometheus':
        names.push('alertmanager-main', 'kube-state-metrics');
        break;
      case 'grafana':
        names.push('prometheus-k8s');
        break;
      case 'haproxy':
        names.push('grafana.monitoring', 'argo-server.argo', 'mlflow.nlp-lab', 'tensorboard.vision-lab');
        break;
      default:
        names.push('kubernetes.default');
    }
    return names;
  };
  const answerFor = (fq: string): number[] => {
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(fq);
    if (m) {
      const s = svcByName.get(`${m[1]}.${m[2]}`);
      return s ? [s.ipNum] : [];
    }
    const srv = cluster.servers.find((x) => x.name === fq);
    return srv ? [srv.ipNum] : [];
  };
  const dnsPairs = new Map<string, number>();
  for (const p of podNet) {
    if (coredns.length === 0) break;
    for (const short of dnsLookupsFor(p)) {
      // the stub resolver walks the search list, then tries the name as given; A and AAAA in parallel
      const attempts: string[] = [];
      for (const dom of searchOf(p.namespace)) attempts.push(`${short}.${dom}`);
      attempts.push(short);
      const lookupRate = p.role === 'haproxy' ? 10 : p.role === 'notebook' ? 2 : 0.8;
      let done = false;
      for (const name of attempts) {
        if (done) break;
        const answers = answerFor(name);
        for (const qtype of [DNS_A, DNS_AAAA]) {
          const server = coredns[(hash32(p.name + name) >>> 0) % coredns.length]!;
          const sport = ephemeral();
          const q = dnsQuery(0, name, qtype);
          const clusterName = name.endsWith('cluster.local');
          const r = qtype === DNS_A ? dnsResponse(0, name, qtype, answers) : dnsResponse(0, name, qtype, [], { nodata: answers.length > 0 });
          stream(podEnd(p), podEnd(server), { app: 'dns', proto: IPPROTO_UDP, sport, dport: 53, base: lookupRate, mod: 'dns', payload: q });
          stream(podEnd(server), podEnd(p), { app: 'dns', proto: IPPROTO_UDP, sport: 53, dport: sport, base: lookupRate, mod: 'dns', payload: r });
          if (!clusterName) dnsPairs.set(name, (dnsPairs.get(name) ?? 0) + lookupRate);
        }
        if (answers.length > 0) done = true;
      }
    }
  }
  // CoreDNS forwards what it does not know (and cannot answer from cache) to the data centre's resolvers
  for (const [name, rate] of dnsPairs) {
    for (const cd of coredns) {
      const up = cluster.upstreamDns[hash32(name + cd.name) % cluster.upstreamDns.length]!;
      const sport = ephemeral();
      const answers = answerFor(name);
      stream(podEnd(cd), { kind: 'ext', host: up, ttl: 64 }, { app: 'dns', proto: IPPROTO_UDP, sport, dport: 53, base: (rate * 0.15) / coredns.length, mod: 'dns', payload: dnsQuery(0, name, DNS_A) });
      stream({ kind: 'ext', host: up, ttl: 63 }, podEnd(cd), { app: 'dns', proto: IPPROTO_UDP, sport: 53, dport: sport, base: (rate * 0.15) / coredns.length, mod: 'dns', payload: dnsResponse(0, name, DNS_A, answers) });
    }
  }

  // ---- GPU training: ring all-reduce between the job's workers (NCCL over TCP sockets) -----
  const jobs = new Map<string, SimPod[]>();
  for (const p of pods) if (p.role === 'trainer' && p.group) jobs.set(`${p.namespace}/${p.job}`, p.group);
  for (const [key, group] of jobs) {
    const jr = new Rng(hash32(key, seed));
    const period = jr.between(3, 11);
    const duty = jr.between(0.3, 0.55);
    const phase = jr.between(0, 1800);
    if (group.length > 1) {
      for (let i = 0; i < group.length; i++) {
        const a = group[i]!;
        const b = group[(i + 1) % group.length]!;
        const gpus = Math.min(a.gpus.length, b.gpus.length) || 1;
        // one socket per GPU pair in NCCL's ring; two is plenty for the sampled picture
        for (let k = 0; k < Math.min(2, gpus); k++) {
          tcpBulk(podEnd(a), podEnd(b), 'nccl', jr.range(40000, 60000), 1500 * gpus, { mod: 'collective', modPeriod: period, modDuty: duty, modPhase: phase });
        }
      }
      // torch.distributed rendezvous on the master (c10d store)
      for (const w of group.slice(1)) {
        tcpRpc(podEnd(w), podEnd(group[0]!), 'c10d', 29500, 0.5, bulkBytes(7).subarray(0, 40), 0.5, bulkBytes(9).subarray(0, 24), 24);
      }
    }
    // dataset shards from object storage, checkpoints back to it
    for (const w of group) {
      if (minio.length === 0) break;
      const m = minio[hash32(w.name) % minio.length]!;
      const get = ascii(`GET /datasets/${w.namespace}/${w.job}/shard-${String(jr.range(0, 4095)).padStart(5, '0')}.tar HTTP/1.1\r\nHost: minio.storage.svc:9000\r\nUser-Agent: MinIO (linux; amd64) minio-py/7.2.7\r\nAuthorization: AWS4-HMAC-SHA256 Credential=`);
      tcpRpc(podEnd(w), podEnd(m), 's3', 9000, 6, get, 2, ascii('HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\nContent-Length: 268435456\r\nContent-Type: application/x-tar\r\nServer: MinIO\r\n'), 380);
      tcpBulk(podEnd(m), podEnd(w), 's3', 9000, 2600, { mod: 'steady', payload: tarBytes(w.name) });
      if (w.rank === 0) {
        const put = ascii(`PUT /checkpoints/${w.namespace}/${w.job}/step-${jr.range(1000, 90000)}/model.safetensors HTTP/1.1\r\nHost: minio.storage.svc:9000\r\nContent-Length: 16106127360\r\n`);
        tcpBulk(podEnd(w), podEnd(m), 's3', 9000, 3000, { mod: 'bursty', modPeriod: 900, modDuty: 0.15, modPhase: phase, payload: put });
      }
    }
    // model hub downloads (SNAT to the node)
    const hub = cluster.servers.find((s) => s.name === 'cdn-lfs.huggingface.co')!;
    tcpBulk({ kind: 'ext', host: hub, ttl: 52 }, podEnd(group[0]!), 'https', 443, 400, { mod: 'bursty', modPeriod: 1200, modDuty: 0.25, payload: tlsRecord(16401, (i) => i * 29 + 7) });
  }
  // single-node GPU jobs and notebooks: storage reads
  for (const p of pods.filter((x) => x.role === 'gpu-job' || (x.role === 'notebook' && x.gpus.length > 0))) {
    if (minio.length === 0) break;
    const m = minio[hash32(p.name) % minio.length]!;
    tcpBulk(podEnd(m), podEnd(p), 's3', 9000, p.role === 'gpu-job' ? 1500 : 250, { mod: p.role === 'gpu-job' ? 'steady' : 'bursty', modPeriod: 600, modDuty: 0.2, payload: tarBytes(p.name) });
  }

  // ---- CPU research: batch pods on object storage and databases; MPI halo exchanges --------
  for (const p of pods.filter((x) => x.role === 'batch' || x.role === 'dask')) {
    if (minio.length > 0) {
      const m = minio[hash32(p.name, 3) % minio.length]!;
      tcpBulk(podEnd(m), podEnd(p), 's3', 9000, 280, { mod: 'steady', payload: tarBytes(p.name) });
      const put = ascii(`PUT /results/${p.namespace}/${p.job ?? 'dask'}/part-${String(p.rank).padStart(5, '0')}.parquet HTTP/1.1\r\nHost: minio.storage.svc:9000\r\n`);
      tcpBulk(podEnd(p), podEnd(m), 's3', 9000, 90, { mod: 'bursty', modPeriod: 300, modDuty: 0.2, payload: put });
    }
    const pg = svcByName.get(`postgres.${p.namespace}`);
    if (pg && pg.endpoints[0]) {
      const q = new Uint8Array([0x51, 0, 0, 0, 0x3c, ...ascii('SELECT sample_id, path FROM manifests WHERE shard = $1;'), 0]);
      tcpRpc(podEnd(p), podEnd(pg.endpoints[0]), 'postgres', 5432, 4, q, 6, new Uint8Array([0x54, 0, 0, 0, 0x40, 0, 2, ...ascii('sample_id')]), 420);
    }
    const dask = svcByName.get(`dask-scheduler.${p.namespace}`);
    if (dask && dask.endpoints[0] && p.role === 'dask') tcpRpc(podEnd(p), podEnd(dask.endpoints[0]), 'dask', 8786, 8, bulkBytes(p.seed).subarray(0, 180), 8, bulkBytes(p.seed + 1).subarray(0, 96), 96);
  }
  const mpiJobs = new Map<string, SimPod[]>();
  for (const p of pods) if (p.role === 'mpi' && p.group) mpiJobs.set(`${p.namespace}/${p.job}`, p.group);
  for (const [key, group] of mpiJobs) {
    const jr = new Rng(hash32(key, seed));
    const workers = group.filter((p) => p.rank > 0);
    const period = jr.between(2, 6);
    for (let i = 0; i < workers.length; i++) {
      for (const d of [1, 2]) {
        if (workers.length <= d) continue;
        const b = workers[(i + d) % workers.length]!;
        tcpBulk(podEnd(workers[i]!), podEnd(b), 'mpi', jr.range(1024, 65000), 900, { mod: 'collective', modPeriod: period, modDuty: 0.45, modPhase: jr.between(0, 1800) });
      }
    }
    // launcher to workers: ssh-like control (mpirun via kubectl exec / sshd)
    for (const w of workers) tcpRpc(podEnd(group[0]!), podEnd(w), 'ssh', 22, 1, bulkBytes(w.seed).subarray(0, 64), 1, bulkBytes(w.seed + 2).subarray(0, 64), 64);
  }

  // ---- ingress: internet clients -> haproxy (hostPort 443 on its node) -> backends ----------
  const backends = pods.filter((p) => ['notebook', 'grafana', 'mlflow', 'tensorboard', 'argo'].includes(p.role));
  const backendPort: Record<string, number> = { notebook: 8888, grafana: 3000, mlflow: 5000, tensorboard: 6006, argo: 2746 };
  for (const c of cluster.clients) {
    if (haproxy.length === 0) break;
    const h = haproxy[hash32(c.ip) % haproxy.length]!;
    const ttl = 44 + (hash32(c.ip, 5) % 12);
    const sport = rng.range(49152, 65535);
    const client: End = { kind: 'ext', host: c, ttl };
    stream(client, podEnd(h, true), { app: 'https', proto: IPPROTO_TCP, sport, dport: 443, base: 40, mod: 'diurnal', payload: tlsRecord(517, (i) => i * 13 + c.ipNum), payloadLength: 517 });
    stream(podEnd(h, true), { kind: 'ext', host: c, ttl: 64 }, { app: 'https', proto: IPPROTO_TCP, sport: 443, dport: sport, base: 70, mod: 'diurnal', payload: tlsRecord(MSS - 5, (i) => i * 7 + c.ipNum), payloadLength: MSS });
    // a few clients hammer the ingress with new connections (and get dropped, see below)
    if (hash32(c.ip, 9) % 4 === 0) stream(client, podEnd(h, true), { app: 'https', proto: IPPROTO_TCP, sport: rng.range(49152, 65535), dport: 443, base: 25, mod: 'diurnal', flags: 0x02 });
  }
  for (const h of haproxy) {
    for (const b of backends) {
      if (hash32(h.name + b.name) % 3 !== 0 && b.role === 'notebook') continue;
      const port = backendPort[b.role] ?? 80;
      const req = ascii(`GET ${b.role === 'notebook' ? '/api/kernels' : b.role === 'grafana' ? '/api/ds/query' : '/'} HTTP/1.1\r\nHost: ${b.role}.research.example.edu\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\nX-Forwarded-For: 198.51.100.23\r\nAccept: application/json\r\n`);
      const resp = ascii('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: TornadoServer/6.4\r\nContent-Length: 8731\r\n\r\n{"id":"');
      tcpRpc(podEnd(h), podEnd(b), 'http', port, 6, req, 12, resp, 1200, { mod: 'diurnal' });
    }
  }

  // ---- monitoring: Prometheus scrapes every node, GPU exporters, kube-state-metrics ---------
  for (const pr of prometheus) {
    for (const node of cluster.nodes) {
      const req = ascii(`GET /metrics HTTP/1.1\r\nHost: ${node.ip}:9100\r\nUser-Agent: Prometheus/2.54.1\r\nAccept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2\r\n`);
      tcpRpc(podEnd(pr), nodeEnd(node), 'scrape', 9100, 0.2, req, 6, ascii('HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\r\n# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n'), MSS);
    }
    for (const d of cluster.byRole('dcgm-exporter')) {
      tcpRpc(podEnd(pr), podEnd(d), 'scrape', 9400, 0.2, ascii(`GET /metrics HTTP/1.1\r\nHost: ${d.ip}:9400\r\nUser-Agent: Prometheus/2.54.1\r\n`), 3, ascii('HTTP/1.1 200 OK\r\n\r\n# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n'), MSS);
    }
    for (const k of cluster.byRole('kube-state-metrics')) tcpRpc(podEnd(pr), podEnd(k), 'scrape', 8080, 0.2, ascii('GET /metrics HTTP/1.1\r\n'), 40, ascii('HTTP/1.1 200 OK\r\n\r\n# HELP kube_pod_status_phase'), MSS);
    for (const g of cluster.byRole('grafana')) tcpRpc(podEnd(g), podEnd(pr), 'http', 9090, 3, ascii('POST /api/v1/query_range HTTP/1.1\r\nHost: prometheus-k8s.monitoring.svc:9090\r\nContent-Type: application/x-www-form-urlencoded\r\n'), 6, ascii('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"status":"success","data":{"resultType":"matrix"'), 1100, { mod: 'diurnal' });
  }
  // blackbox exporter pings every node
  for (const bb of cluster.byRole('blackbox')) {
    for (const node of cluster.nodes) {
      stream(podEnd(bb), nodeEnd(node), { app: 'icmp', proto: IPPROTO_ICMP, sport: 0, dport: 0, base: 0.2, icmp: { type: 8, code: 0 }, payload: pingPayload(), payloadLength: 56 });
      stream(nodeEnd(node), podEnd(bb), { app: 'icmp', proto: IPPROTO_ICMP, sport: 0, dport: 0, base: 0.2, icmp: { type: 0, code: 0 }, payload: pingPayload(), payloadLength: 56 });
    }
  }

  // ---- control plane: kubelets and calico-node watch the API server; etcd peers -------------
  for (const node of cluster.nodes) {
    if (apiservers.length === 0) break;
    const api = apiservers[hash32(node.name) % apiservers.length]!;
    if (api.node === node) continue;
    tcpRpc(nodeEnd(node), podEnd(api), 'apiserver', 6443, 4, tlsRecord(380, (i) => i + node.index), 6, tlsRecord(1200, (i) => i * 3 + node.index), 1200);
  }
  const etcd = cluster.byRole('etcd');
  for (const a of etcd) for (const b of etcd) if (a !== b) tcpRpc(podEnd(a), podEnd(b), 'etcd', 2380, 25, tlsRecord(220, (i) => i * 5), 25, tlsRecord(90, (i) => i * 11), 90);

  // ---- the internet: pip/conda/git from notebooks and jobs, scanners knocking -------------
  for (const p of pods.filter((x) => x.role === 'notebook' || x.role === 'gpu-job')) {
    const srv = cluster.servers[hash32(p.name, 11) % cluster.servers.length]!;
    tcpBulk({ kind: 'ext', host: srv, ttl: 54 }, podEnd(p), 'https', 443, 100, { mod: 'bursty', modPeriod: 1800, modDuty: 0.2, payload: tlsRecord(16401, (i) => i * 17 + 3) });
  }

  // ---- drops (hsflowd drop monitor): haproxy's overloaded listeners dominate ----------------
  const ingressOf = (s: Stream) => s.ingress;
  for (const h of haproxy) {
    const node = h.node;
    const toHaproxy = streams.filter((s) => s.dstNode === node && s.app === 'https' && s.ingress && s.dstPod === h);
    if (toHaproxy.length === 0) continue;
    const pickT = (k: number) => ingressOf(toHaproxy[k % toHaproxy.length]!)!;
    const mix: [string, string, number][] = [
      ['NO_SOCKET', 'tcp_v4_rcv+0x1b1/0x10b0', 0.3],
      ['TCP_INVALID_SEQUENCE', 'tcp_validate_incoming+0x137/0x5f0', 0.15],
      ['TCP_OLD_DATA', 'tcp_data_queue+0x8a5/0xd40', 0.15],
      ['SOCKET_BACKLOG', 'tcp_add_backlog+0x2c5/0x560', 0.15],
      ['TCP_RESET', 'tcp_validate_incoming+0x2ab/0x5f0', 0.1],
      ['TCP_ZEROWINDOW', 'tcp_data_queue+0x3f1/0xd40', 0.05],
      ['NOT_SPECIFIED', 'tcp_v4_syn_recv_sock+0x391/0x470', 0.1],
    ];
    mix.forEach(([reason, fn, share], k) => drops.push({ node, rate: 150 * share, reason, code: DROP_CODES[reason]!, fn, template: pickT(k * 7), input: 2 }));
  }
  // network policy: cross-namespace database access is denied at the destination node
  const notebooks = pods.filter((p) => p.role === 'notebook');
  const pgs = pods.filter((p) => p.role === 'postgres');
  for (const nb of notebooks) {
    const target = pgs.find((pg) => pg.namespace !== nb.namespace && hash32(nb.name + pg.name) % 3 === 0);
    if (!target) continue;
    const s = stream(podEnd(nb), podEnd(target), { app: 'postgres', proto: IPPROTO_TCP, sport: ephemeral(), dport: 5432, base: 0.6, flags: 0x02 });
    if (s.ingress && s.dstNode) drops.push({ node: s.dstNode, rate: 0.6, reason: 'NETFILTER_DROP', code: DROP_CODES.NETFILTER_DROP!, fn: 'nf_hook_slow+0x41/0xc0', template: s.ingress, input: 2 });
  }
  const apiOut = new Map<SimNode, Stream>();
  for (const s of streams) if (s.app === 'apiserver' && s.egress && s.srcNode && !apiOut.has(s.srcNode)) apiOut.set(s.srcNode, s);
  // internet scanners probe node addresses: SYNs to closed ports, UDP to nothing
  for (const node of cluster.nodes) {
    const scanner = cluster.clients[hash32(node.name, 13) % cluster.clients.length]!;
    const isIngress = haproxy.some((h) => h.node === node);
    const syn = stream({ kind: 'ext', host: scanner, ttl: 49 }, nodeEnd(node), { app: 'scan', proto: IPPROTO_TCP, sport: rng.range(40000, 65000), dport: rng.pick([22, 23, 3389, 5900, 8080, 6379, 9200]), base: isIngress ? 3 : 0.3, flags: 0x02 });
    const udp = stream({ kind: 'ext', host: scanner, ttl: 49 }, nodeEnd(node), { app: 'scan', proto: IPPROTO_UDP, sport: rng.range(40000, 65000), dport: rng.pick([161, 1900, 11211, 5353]), base: 0.1, payload: bulkBytes(node.index).subarray(0, 24) });
    if (syn.ingress) drops.push({ node, rate: isIngress ? 3 : 0.3, reason: 'NO_SOCKET', code: DROP_CODES.NO_SOCKET!, fn: 'tcp_v4_rcv+0x1b1/0x10b0', template: syn.ingress, input: 2 });
    if (udp.ingress) drops.push({ node, rate: 0.1, reason: 'NO_SOCKET', code: DROP_CODES.NO_SOCKET!, fn: '__udp4_lib_rcv+0x9c1/0xd60', template: udp.ingress, input: 2 });
    // the odd neighbour that went away (egress, no input port)
    const anyOut = apiOut.get(node);
    if (anyOut?.egress) drops.push({ node, rate: 0.02, reason: 'NEIGH_FAILED', code: DROP_CODES.NEIGH_FAILED!, fn: 'neigh_invalidate+0x8e/0x140', template: anyOut.egress, input: 0 });
  }

  return { streams, drops };
}

/** Opaque-looking payload bytes (tensors, compressed data), deterministic per key. */
function bulkBytes(key: number): Uint8Array {
  const r = new Rng(key >>> 0);
  return r.bytes(160);
}

/** The start of a tar member (ustar header), as dataset shards begin. */
function tarBytes(name: string): Uint8Array {
  const out = new Uint8Array(160);
  out.set(ascii(`train/${name.slice(0, 24)}/000${hash32(name) % 9000}.jpg`).subarray(0, 100), 0);
  out.set(ascii('0000644\u00000001750\u00000001750\u000000000341162\u000014712736212\u0000'), 100);
  return out;
}
