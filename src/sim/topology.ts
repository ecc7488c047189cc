// The simulated cluster: nodes (control plane, CPU workers, GPU workers with 1-8 GPUs),
// namespaces, pods placed on nodes the way a scheduler would, services with ClusterIPs, and
// the names a cluster DNS gives to all of them. Built once from a seed; pure data.
//
// Addressing (Calico defaults): nodes 10.20.0.0/16; pods from the IP pool 10.244.0.0/14 in
// one /26 block per node; services 10.96.0.0/12 (kube-dns 10.96.0.10). Internet peers use the
// documentation ranges (RFC 5737) so nothing real is ever named.

import { hash32, k8sSuffix, Rng } from './rng.js';
import { numberToIpv4 } from './packets.js';

export interface GpuModel {
  /** NVML product name, for reference. */
  name: string;
  /** Short name used in node names. */
  short: string;
  memBytes: number;
  idleWatts: number;
  busyWatts: number;
}

export const GPU_MODELS: readonly GpuModel[] = [
  { name: 'NVIDIA A100-SXM4-80GB', short: 'a100', memBytes: 81920 * 1048576, idleWatts: 62, busyWatts: 255 },
  { name: 'NVIDIA H100 80GB HBM3', short: 'h100', memBytes: 81559 * 1048576, idleWatts: 72, busyWatts: 265 },
  { name: 'NVIDIA L40S', short: 'l40s', memBytes: 46068 * 1048576, idleWatts: 36, busyWatts: 240 },
];

export interface SimGpu {
  node: SimNode;
  /** NVML index on the node. */
  index: number;
  uuid: string;
  model: GpuModel;
  owner: SimPod | null;
  /** A GPU that logs the odd double-bit ECC error. */
  flaky: boolean;
}

export type NodeRole = 'control-plane' | 'cpu' | 'gpu';

export interface SimNode {
  index: number;
  name: string;
  role: NodeRole;
  controlPlane: boolean;
  ip: string;
  ipNum: number;
  mac: Uint8Array;
  rack: number;
  cpus: number;
  cpuMhz: number;
  memBytes: number;
  diskBytes: number;
  osRelease: string;
  uuid: Uint8Array;
  /** Interface speed of eth0, bits per second. */
  ifSpeed: number;
  gpus: SimGpu[];
  pods: SimPod[];
  /** Calico IPAM blocks (/26) the node holds; pods take addresses from the last one. */
  podBlocks: number[];
  nextPodOffset: number;
  /** Seconds the node had been up when the simulation starts. */
  uptimeAtStart: number;
  /** Where new pods may go. */
  schedulable: boolean;
  cpuRequested: number;
  /** hsflowd pod data-source indexes in use on this node. */
  dsIndexes: Set<number>;
  /** ifIndexes given to pod veths. */
  nextIfIndex: number;
}

export type PodRole =
  | 'dns'
  | 'cni'
  | 'proxy'
  | 'device-plugin'
  | 'controller'
  | 'metrics-server'
  | 'apiserver'
  | 'etcd'
  | 'scheduler'
  | 'prometheus'
  | 'alertmanager'
  | 'grafana'
  | 'kube-state-metrics'
  | 'node-exporter'
  | 'dcgm-exporter'
  | 'blackbox'
  | 'haproxy'
  | 'minio'
  | 'nfs'
  | 'argo'
  | 'trainer'
  | 'gpu-job'
  | 'notebook'
  | 'tensorboard'
  | 'mlflow'
  | 'batch'
  | 'mpi'
  | 'postgres'
  | 'dask';

export interface SimPod {
  name: string;
  namespace: string;
  node: SimNode;
  role: PodRole;
  hostNetwork: boolean;
  /** Pod IP (the node's IP for hostNetwork pods). */
  ip: string;
  ipNum: number;
  /** MAC of the pod's eth0 (none for hostNetwork pods). */
  mac: Uint8Array | null;
  /** hsflowd data source: 3:dsIndex on the node's agent. */
  dsIndex: number;
  uuid: Uint8Array;
  /** `k8s__<pod>_<namespace>_u_a`, what hsflowd's Kubernetes module sends as host_descr.hostname. */
  hostname: string;
  cpuRequest: number;
  cpuLimit: number;
  memLimit: number;
  /** Typical share of its CPU limit the pod keeps busy. */
  cpuBusy: number;
  memBase: number;
  gpus: SimGpu[];
  /** Host-side Calico veth (none for hostNetwork pods). */
  vethIfIndex: number;
  vethName: string;
  /** Multi-pod workloads: job name and this pod's rank. */
  job: string | null;
  rank: number;
  group: SimPod[] | null;
  /** Per-pod seed for its time series. */
  seed: number;
}

export interface SimService {
  name: string;
  namespace: string;
  ip: string;
  ipNum: number;
  port: number;
  endpoints: SimPod[];
}

export interface ExternalHost {
  ip: string;
  ipNum: number;
  name: string;
}

export interface ResearchGroup {
  namespace: string;
  gpuHeavy: boolean;
  users: string[];
  trainingJobs: string[];
  batchJobs: string[];
  mpiJobs: string[];
}

export const RESEARCH_GROUPS: readonly ResearchGroup[] = [
  { namespace: 'nlp-lab', gpuHeavy: true, users: ['amira', 'bjorn', 'chen'], trainingJobs: ['llama3-8b-sft', 'mistral-dpo'], batchJobs: ['tokenize-shards'], mpiJobs: [] },
  { namespace: 'vision-lab', gpuHeavy: true, users: ['dana', 'eitan'], trainingJobs: ['vit-h14-pretrain', 'sam-finetune'], batchJobs: ['decode-frames'], mpiJobs: [] },
  { namespace: 'speech-lab', gpuHeavy: true, users: ['farah', 'goran'], trainingJobs: ['whisper-large-ft'], batchJobs: ['vad-segment'], mpiJobs: [] },
  { namespace: 'rl-group', gpuHeavy: true, users: ['hiro', 'ines'], trainingJobs: ['ppo-procgen-sweep'], batchJobs: ['rollout-eval'], mpiJobs: [] },
  { namespace: 'robotics-lab', gpuHeavy: true, users: ['jonas', 'kemi'], trainingJobs: ['diffusion-policy'], batchJobs: ['sim2real-render'], mpiJobs: [] },
  { namespace: 'medical-imaging', gpuHeavy: true, users: ['lena', 'mateo'], trainingJobs: ['unet3d-brats'], batchJobs: ['dicom-convert'], mpiJobs: [] },
  { namespace: 'genomics', gpuHeavy: false, users: ['nadia', 'oscar'], trainingJobs: [], batchJobs: ['bwa-align', 'gatk-haplotype'], mpiJobs: [] },
  { namespace: 'climate-model', gpuHeavy: false, users: ['priya', 'quentin'], trainingJobs: [], batchJobs: ['regrid-era5'], mpiJobs: ['wrf-ensemble'] },
  { namespace: 'astro-sim', gpuHeavy: false, users: ['rosa', 'sven'], trainingJobs: [], batchJobs: ['lightcone-extract'], mpiJobs: ['gadget4-run'] },
  { namespace: 'materials-sci', gpuHeavy: false, users: ['tariq'], trainingJobs: [], batchJobs: ['phonon-scan'], mpiJobs: ['vasp-relax'] },
  { namespace: 'quantum-chem', gpuHeavy: false, users: ['uma', 'viktor'], trainingJobs: [], batchJobs: ['orca-dft'], mpiJobs: ['cp2k-md'] },
  { namespace: 'econ-lab', gpuHeavy: false, users: ['wen', 'ximena'], trainingJobs: [], batchJobs: ['bootstrap-panel'], mpiJobs: [] },
];

export interface ClusterModel {
  nodes: SimNode[];
  pods: SimPod[];
  services: SimService[];
  namespaces: string[];
  /** Internet clients of the ingress (web browsers, API users). */
  clients: ExternalHost[];
  /** Internet servers pods fetch from (model hubs, package indexes). */
  servers: ExternalHost[];
  /** The data centre's recursive resolvers CoreDNS forwards to. */
  upstreamDns: ExternalHost[];
  /** Router (VRRP) MAC: next hop for traffic leaving a rack. */
  gatewayMac: Uint8Array;
  /** Reverse names: address → PTR target (with the trailing dot), as the cluster DNS answers. */
  ptr: Map<string, string>;
  /** Forward names: fully qualified name (trailing dot) → address. */
  forward: Map<string, string>;
  podByIp: Map<number, SimPod>;
  nodeByIp: Map<number, SimNode>;
  byRole(role: PodRole): SimPod[];
}

export interface TopologyOptions {
  nodes: number;
  seed: number;
}

const GIB = 1073741824;
const NODE_NET = (10 << 24) | (20 << 16);
const POD_POOL = (10 << 24) | (244 << 16);
const SERVICE_NET = (10 << 24) | (96 << 16);
/** The pod pool 10.244.0.0/14 holds 4096 blocks of 64: one per node plus spares. */
export const MAX_NODES = 2048;

function uuidBytes(rng: Rng, version: number): Uint8Array {
  const b = rng.bytes(16);
  b[6] = (b[6]! & 0x0f) | (version << 4);
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

/** hsflowd names a pod by a type-5 UUID of its name and the agent address; a stable stand-in. */
function nameUuid(name: string, agentIp: string): Uint8Array {
  const rng = new Rng(hash32(name + '\0' + agentIp));
  return uuidBytes(rng, 5);
}

function uuidText(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function mac(oui: number, rng: Rng): Uint8Array {
  const v = rng.u32();
  return new Uint8Array([(oui >>> 16) & 0xff, (oui >>> 8) & 0xff, oui & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** A locally administered unicast MAC, as Calico gives pod interfaces. */
function localMac(rng: Rng): Uint8Array {
  const b = rng.bytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return b;
}

function pad3(n: number): string {
  return String(n).padStart(3, '0');
}

export function buildCluster(opts: TopologyOptions): ClusterModel {
  const n = Math.max(1, Math.min(MAX_NODES, Math.floor(opts.nodes)));
  const root = new Rng(opts.seed);
  const rng = root.fork('topology');
  const nodes: SimNode[] = [];

  // ---- nodes ---------------------------------------------------------------------------
  const cpCount = n >= 4 ? 3 : 1;
  const workers = n - cpCount;
  const gpuCount = n === 1 ? 1 : Math.max(1, Math.round(workers * 0.25));
  let gpuSeen = 0;
  let cpuSeen = 0;
  for (let i = 0; i < n; i++) {
    const nr = rng.fork(`node-${i}`);
    const controlPlane = i < cpCount;
    let role: NodeRole;
    if (n === 1) role = 'gpu';
    else if (controlPlane) role = 'control-plane';
    else {
      // GPU nodes interleaved through the racks, as they get added over the years
      const want = Math.round(((i - cpCount + 1) * gpuCount) / Math.max(1, workers));
      role = want > gpuSeen ? 'gpu' : 'cpu';
    }
    let name: string;
    let model: GpuModel | null = null;
    if (role === 'gpu') {
      gpuSeen++;
      const r = gpuSeen / Math.max(1, gpuCount);
      model = r <= 0.6 ? GPU_MODELS[0]! : r <= 0.9 ? GPU_MODELS[1]! : GPU_MODELS[2]!;
      name = n === 1 ? 'gpu-node-001' : `gpu-${model.short}-${pad3(gpuSeen)}`;
    } else if (role === 'cpu') {
      cpuSeen++;
      name = `cpu-node-${pad3(cpuSeen)}`;
    } else name = `k8s-cp-${String(i + 1).padStart(2, '0')}`;
    const ipNum = (NODE_NET + ((1 + Math.floor(i / 200)) << 8) + (10 + (i % 200))) >>> 0;
    const gpuCountHere = role !== 'gpu' ? 0 : model === GPU_MODELS[2] ? nr.pick([2, 4]) : nr.weighted([8, 4, 2, 1], [0.6, 0.25, 0.1, 0.05]);
    const node: SimNode = {
      index: i,
      name,
      role,
      controlPlane,
      ip: numberToIpv4(ipNum),
      ipNum,
      mac: role === 'gpu' ? mac(0xb8cef6, nr) : mac(0x3cecef, nr),
      rack: Math.floor(i / 32),
      cpus: role === 'control-plane' ? 16 : role === 'gpu' ? (model === GPU_MODELS[1] ? 192 : 128) : nr.pick([64, 128]),
      cpuMhz: role === 'gpu' && model === GPU_MODELS[1] ? 2000 : nr.pick([2450, 2250, 2600]),
      memBytes: (role === 'control-plane' ? 64 : role === 'gpu' ? (model === GPU_MODELS[1] ? 2048 : 1024) : nr.pick([256, 512])) * GIB,
      diskBytes: (role === 'gpu' ? 7681 : role === 'cpu' ? 3841 : 960) * 1e9,
      osRelease: nr.chance(0.8) ? '5.15.0-124-generic' : '6.8.0-49-generic',
      uuid: uuidBytes(nr, 4),
      ifSpeed: role === 'gpu' ? (model === GPU_MODELS[1] ? 200e9 : 100e9) : 25e9,
      gpus: [],
      pods: [],
      podBlocks: [(POD_POOL + i * 64) >>> 0],
      nextPodOffset: 1,
      uptimeAtStart: Math.floor(nr.between(1.5, 120) * 86400),
      schedulable: !controlPlane || n < 4,
      cpuRequested: 0,
      dsIndexes: new Set(),
      nextIfIndex: 4,
    };
    for (let g = 0; g < gpuCountHere; g++) {
      const gu = uuidText(uuidBytes(nr, 4));
      node.gpus.push({ node, index: g, uuid: `GPU-${gu}`, model: model!, owner: null, flaky: nr.chance(0.01) });
    }
    nodes.push(node);
  }

  // ---- pods ----------------------------------------------------------------------------
  const pods: SimPod[] = [];
  const prng = rng.fork('pods');
  let nextBlock = n;

  function newPod(
    node: SimNode,
    ns: string,
    name: string,
    role: PodRole,
    o: { hostNetwork?: boolean; cpu?: [number, number]; mem?: number; busy?: number; gpus?: SimGpu[]; job?: string; rank?: number; group?: SimPod[] } = {},
  ): SimPod {
    const hostNetwork = o.hostNetwork ?? false;
    let ipNum = node.ipNum;
    if (!hostNetwork) {
      if (node.nextPodOffset >= 64) {
        // block full: Calico's IPAM hands the node another /26 from the pool
        node.podBlocks.push((POD_POOL + nextBlock++ * 64) >>> 0);
        node.nextPodOffset = 1;
      }
      ipNum = (node.podBlocks[node.podBlocks.length - 1]! + node.nextPodOffset) >>> 0;
      node.nextPodOffset++;
    }
    const hostname = `k8s__${name}_${ns}_u_a`;
    const h = hash32(hostname + node.ip);
    let ds = 100000 + (h % 50000);
    while (node.dsIndexes.has(ds)) ds = ds === 149999 ? 100000 : ds + 1;
    node.dsIndexes.add(ds);
    const cpu = o.cpu ?? [0.1, 1];
    const pod: SimPod = {
      name,
      namespace: ns,
      node,
      role,
      hostNetwork,
      ip: numberToIpv4(ipNum),
      ipNum,
      mac: hostNetwork ? null : localMac(prng),
      dsIndex: ds,
      uuid: nameUuid(hostname, node.ip),
      hostname,
      cpuRequest: cpu[0],
      cpuLimit: cpu[1],
      memLimit: o.mem ?? 2 * GIB,
      cpuBusy: o.busy ?? 0.1,
      memBase: (o.mem ?? 2 * GIB) * prng.between(0.25, 0.7),
      gpus: o.gpus ?? [],
      vethIfIndex: hostNetwork ? 0 : node.nextIfIndex++,
      // Calico: "cali" + the first 11 hex digits of a hash of "<namespace>.<pod>"
      vethName: hostNetwork ? '' : `cali${hash32(`${ns}.${name}`).toString(16).padStart(8, '0')}${(hash32(name, 7) >>> 20).toString(16).padStart(3, '0')}`,
      job: o.job ?? null,
      rank: o.rank ?? 0,
      group: o.group ?? null,
      seed: hash32(`${ns}/${name}`, opts.seed),
    };
    for (const g of pod.gpus) g.owner = pod;
    node.pods.push(pod);
    node.cpuRequested += cpu[0];
    pods.push(pod);
    return pod;
  }

  const schedulable = () => nodes.filter((x) => x.schedulable);
  const cpuNodes = () => {
    const c = nodes.filter((x) => x.schedulable && x.role === 'cpu');
    return c.length > 0 ? c : schedulable();
  };
  const gpuNodes = nodes.filter((x) => x.role === 'gpu');

  function place(candidates: SimNode[], avoid: Set<SimNode> = new Set()): SimNode {
    // least-requested CPU among a few random candidates (the default scheduler's scoring, roughly)
    let best: SimNode | null = null;
    for (let k = 0; k < 4; k++) {
      const c = prng.pick(candidates);
      if (avoid.has(c) && avoid.size < candidates.length) continue;
      if (best === null || c.cpuRequested / c.cpus < best.cpuRequested / best.cpus) best = c;
    }
    return best ?? prng.pick(candidates);
  }


  function deployment(ns: string, name: string, role: PodRole, replicas: number, o: Parameters<typeof newPod>[4] & { on?: SimNode[] } = {}): SimPod[] {
    const hash = k8sSuffix(prng, 10);
    const out: SimPod[] = [];
    const avoid = new Set<SimNode>();
    for (let r = 0; r < replicas; r++) {
      const node = place(o.on ?? cpuNodes(), avoid);
      avoid.add(node);
      out.push(newPod(node, ns, `${name}-${hash}-${k8sSuffix(prng, 5)}`, role, o));
    }
    return out;
  }

  function statefulSet(ns: string, name: string, role: PodRole, replicas: number, o: Parameters<typeof newPod>[4] & { on?: SimNode[] } = {}): SimPod[] {
    const out: SimPod[] = [];
    const avoid = new Set<SimNode>();
    for (let r = 0; r < replicas; r++) {
      const node = place(o.on ?? cpuNodes(), avoid);
      avoid.add(node);
      out.push(newPod(node, ns, `${name}-${r}`, role, o));
    }
    return out;
  }

  // control plane static pods
  for (const cp of nodes.filter((x) => x.controlPlane)) {
    newPod(cp, 'kube-system', `kube-apiserver-${cp.name}`, 'apiserver', { hostNetwork: true, cpu: [0.25, 4], mem: 8 * GIB, busy: 0.35 });
    newPod(cp, 'kube-system', `etcd-${cp.name}`, 'etcd', { hostNetwork: true, cpu: [0.1, 2], mem: 8 * GIB, busy: 0.3 });
    newPod(cp, 'kube-system', `kube-scheduler-${cp.name}`, 'scheduler', { hostNetwork: true, cpu: [0.1, 1], mem: GIB, busy: 0.1 });
    newPod(cp, 'kube-system', `kube-controller-manager-${cp.name}`, 'controller', { hostNetwork: true, cpu: [0.2, 2], mem: 2 * GIB, busy: 0.15 });
  }
  // daemonsets
  for (const node of nodes) {
    newPod(node, 'kube-system', `calico-node-${k8sSuffix(prng, 5)}`, 'cni', { hostNetwork: true, cpu: [0.25, 1], mem: GIB, busy: 0.08 });
    newPod(node, 'kube-system', `kube-proxy-${k8sSuffix(prng, 5)}`, 'proxy', { hostNetwork: true, cpu: [0.05, 0.5], mem: 512 * 1048576, busy: 0.05 });
    newPod(node, 'monitoring', `node-exporter-${k8sSuffix(prng, 5)}`, 'node-exporter', { hostNetwork: true, cpu: [0.1, 0.5], mem: 256 * 1048576, busy: 0.06 });
    if (node.gpus.length > 0) {
      newPod(node, 'kube-system', `nvidia-device-plugin-daemonset-${k8sSuffix(prng, 5)}`, 'device-plugin', { cpu: [0.05, 0.2], mem: 256 * 1048576, busy: 0.02 });
      newPod(node, 'monitoring', `dcgm-exporter-${k8sSuffix(prng, 5)}`, 'dcgm-exporter', { cpu: [0.1, 0.5], mem: 512 * 1048576, busy: 0.1 });
    }
  }
  // cluster services
  const coredns = deployment('kube-system', 'coredns', 'dns', Math.min(2, Math.max(1, cpuNodes().length)), { cpu: [0.1, 1], mem: 170 * 1048576, busy: 0.25 });
  deployment('kube-system', 'calico-kube-controllers', 'controller', 1, { cpu: [0.05, 0.5], mem: 256 * 1048576, busy: 0.03 });
  const metricsServer = deployment('kube-system', 'metrics-server', 'metrics-server', 1, { cpu: [0.1, 1], mem: 512 * 1048576, busy: 0.05 });
  const prometheus = statefulSet('monitoring', 'prometheus-k8s', 'prometheus', Math.min(2, cpuNodes().length), { cpu: [1, 4], mem: 32 * GIB, busy: 0.45 });
  const alertmanager = statefulSet('monitoring', 'alertmanager-main', 'alertmanager', 1, { cpu: [0.1, 0.5], mem: 512 * 1048576, busy: 0.02 });
  const grafana = deployment('monitoring', 'grafana', 'grafana', 1, { cpu: [0.1, 1], mem: GIB, busy: 0.08 });
  const ksm = deployment('monitoring', 'kube-state-metrics', 'kube-state-metrics', 1, { cpu: [0.1, 1], mem: GIB, busy: 0.1 });
  deployment('monitoring', 'blackbox-exporter', 'blackbox', 1, { cpu: [0.05, 0.5], mem: 256 * 1048576, busy: 0.02 });
  const haproxy = deployment('ingress', 'haproxy-ingress', 'haproxy', Math.min(3, cpuNodes().length), { cpu: [0.5, 4], mem: 2 * GIB, busy: 0.55 });
  const minio = statefulSet('storage', 'minio', 'minio', Math.min(4, cpuNodes().length), { cpu: [1, 8], mem: 16 * GIB, busy: 0.3 });
  deployment('storage', 'nfs-subdir-external-provisioner', 'nfs', 1, { cpu: [0.05, 0.2], mem: 128 * 1048576, busy: 0.01 });
  const argo = deployment('argo', 'argo-server', 'argo', 1, { cpu: [0.1, 1], mem: GIB, busy: 0.04 });
  deployment('argo', 'workflow-controller', 'controller', 1, { cpu: [0.1, 1], mem: GIB, busy: 0.06 });

  // research groups
  const scale = Math.max(0.05, workers / 177);
  const jobsPer = (x: number) => Math.max(prng.chance(Math.min(1, x * scale)) ? 1 : 0, Math.round(x * scale));
  const services: SimService[] = [];
  const svcRng = rng.fork('services');
  const usedSvcIps = new Set<number>([SERVICE_NET + 1, SERVICE_NET + 10]);
  function svc(ns: string, name: string, port: number, endpoints: SimPod[], fixed?: number): SimService {
    let ipNum = fixed;
    if (ipNum === undefined) {
      do ipNum = (SERVICE_NET + 256 + svcRng.int(0x000fff00)) >>> 0;
      while (usedSvcIps.has(ipNum));
      usedSvcIps.add(ipNum);
    }
    const s: SimService = { name, namespace: ns, ip: numberToIpv4(ipNum), ipNum, port, endpoints };
    services.push(s);
    return s;
  }

  function freeGpus(node: SimNode): SimGpu[] {
    return node.gpus.filter((g) => g.owner === null);
  }

  function takeGpus(want: number, wholeNode: boolean, avoid: Set<SimNode>): { node: SimNode; gpus: SimGpu[] } | null {
    const fits = gpuNodes.filter((x) => !avoid.has(x) && (wholeNode ? freeGpus(x).length === x.gpus.length && x.gpus.length >= want : freeGpus(x).length >= want));
    if (fits.length === 0) return null;
    const node = prng.pick(fits);
    return { node, gpus: freeGpus(node).slice(0, want) };
  }

  for (const g of RESEARCH_GROUPS) {
    const ns = g.namespace;
    const rg = rng.fork(`group-${ns}`);
    if (g.gpuHeavy) {
      for (const job of g.trainingJobs.slice(0, Math.max(1, jobsPer(g.trainingJobs.length)))) {
        const workersWanted = rg.pick([2, 3, 4, 4, 6]);
        const perPod = rg.chance(0.75) ? 8 : 4;
        const group: SimPod[] = [];
        const avoid = new Set<SimNode>();
        for (let r = 0; r < workersWanted; r++) {
          const got = takeGpus(perPod, perPod === 8, avoid) ?? takeGpus(Math.min(perPod, 4), false, avoid) ?? takeGpus(1, false, avoid);
          if (!got) break;
          avoid.add(got.node);
          const name = r === 0 ? `${job}-master-0` : `${job}-worker-${r - 1}`;
          group.push(newPod(got.node, ns, name, 'trainer', { cpu: [8 * got.gpus.length, 12 * got.gpus.length], mem: 96 * GIB * got.gpus.length, busy: 0.55, gpus: got.gpus, job, rank: r, group }));
        }
      }
      for (let j = 0; j < Math.max(1, jobsPer(2)); j++) {
        const want = rg.pick([1, 2, 4]);
        const got = takeGpus(want, false, new Set()) ?? takeGpus(1, false, new Set());
        if (!got) break;
        const base = rg.pick(['hparam-search', 'eval-suite', 'distill', 'ablation', 'embed-corpus']);
        newPod(got.node, ns, `${base}-${rg.range(1, 99)}-${k8sSuffix(prng, 5)}`, 'gpu-job', { cpu: [4 * want, 8 * want], mem: 64 * GIB * want, busy: 0.5, gpus: got.gpus, job: base });
      }
      const tb = deployment(ns, 'tensorboard', 'tensorboard', 1, { cpu: [0.2, 2], mem: 4 * GIB, busy: 0.05 });
      svc(ns, 'tensorboard', 6006, tb);
      const mlflow = deployment(ns, 'mlflow', 'mlflow', 1, { cpu: [0.2, 2], mem: 4 * GIB, busy: 0.06 });
      svc(ns, 'mlflow', 5000, mlflow);
    } else {
      for (const bj of g.batchJobs.slice(0, Math.max(1, jobsPer(g.batchJobs.length)))) {
        const count = Math.max(1, Math.round(rg.range(10, 36) * scale));
        const group: SimPod[] = [];
        const start = rg.range(1, 400);
        for (let k = 0; k < count; k++) {
          const node = place(cpuNodes());
          group.push(newPod(node, ns, `${bj}-${start + k}-${k8sSuffix(prng, 5)}`, 'batch', { cpu: [4, 8], mem: 16 * GIB, busy: 0.85, job: bj, rank: k, group }));
        }
      }
      for (const mj of g.mpiJobs.slice(0, Math.max(1, jobsPer(g.mpiJobs.length)))) {
        const count = Math.max(2, Math.round(rg.range(4, 16) * scale));
        const group: SimPod[] = [];
        const avoid = new Set<SimNode>();
        const launcher = place(cpuNodes());
        group.push(newPod(launcher, ns, `${mj}-launcher-${k8sSuffix(prng, 5)}`, 'mpi', { cpu: [1, 2], mem: 2 * GIB, busy: 0.05, job: mj, rank: 0, group }));
        for (let k = 0; k < count; k++) {
          const node = place(cpuNodes(), avoid);
          avoid.add(node);
          group.push(newPod(node, ns, `${mj}-worker-${k}`, 'mpi', { cpu: [32, 32], mem: 128 * GIB, busy: 0.95, job: mj, rank: k + 1, group }));
        }
      }
      if (rg.chance(0.5)) {
        const pg = statefulSet(ns, 'postgres', 'postgres', 1, { cpu: [0.5, 2], mem: 8 * GIB, busy: 0.1 });
        svc(ns, 'postgres', 5432, pg);
      }
      if (ns === 'econ-lab' || ns === 'genomics') {
        const sched = deployment(ns, 'dask-scheduler', 'dask', 1, { cpu: [1, 2], mem: 4 * GIB, busy: 0.2 });
        svc(ns, 'dask-scheduler', 8786, sched);
        deployment(ns, 'dask-worker', 'dask', Math.max(1, Math.round(4 * scale)), { cpu: [4, 4], mem: 16 * GIB, busy: 0.7 });
      }
    }
    // notebooks (Kubeflow-style StatefulSets named after the user's notebook)
    for (const user of g.users.slice(0, Math.max(1, Math.round(g.users.length * Math.min(1, scale * 1.5))))) {
      const withGpu = g.gpuHeavy && rg.chance(0.6);
      const got = withGpu ? takeGpus(1, false, new Set()) : null;
      const node = got ? got.node : place(cpuNodes());
      const nb = newPod(node, ns, `${user}-${rg.pick(['workbench', 'scratch', 'analysis', 'dev'])}-0`, 'notebook', {
        cpu: [1, 4],
        mem: 16 * GIB,
        busy: 0.15,
        gpus: got ? got.gpus : [],
      });
      svc(ns, nb.name.replace(/-0$/, ''), 80, [nb]);
    }
  }

  // ---- services ------------------------------------------------------------------------
  const apiservers = pods.filter((p) => p.role === 'apiserver');
  svc('default', 'kubernetes', 443, apiservers, (SERVICE_NET + 1) >>> 0);
  svc('kube-system', 'kube-dns', 53, coredns, (SERVICE_NET + 10) >>> 0);
  svc('kube-system', 'metrics-server', 443, metricsServer);
  svc('monitoring', 'prometheus-k8s', 9090, prometheus);
  svc('monitoring', 'alertmanager-main', 9093, alertmanager);
  svc('monitoring', 'grafana', 3000, grafana);
  svc('monitoring', 'kube-state-metrics', 8080, ksm);
  svc('ingress', 'haproxy-ingress', 443, haproxy);
  svc('storage', 'minio', 9000, minio);
  svc('argo', 'argo-server', 2746, argo);

  // ---- outside world ---------------------------------------------------------------------
  const xr = rng.fork('external');
  const clients: ExternalHost[] = [];
  const clientNets = [(198 << 24) | (51 << 16) | (100 << 8), (203 << 24) | (0 << 16) | (113 << 8)];
  for (let i = 0; i < 48; i++) {
    const ipNum = (clientNets[i % 2]! + xr.range(2, 254)) >>> 0;
    if (clients.some((c) => c.ipNum === ipNum)) continue;
    clients.push({ ip: numberToIpv4(ipNum), ipNum, name: '' });
  }
  const serverNames = ['huggingface.co', 'cdn-lfs.huggingface.co', 'pypi.org', 'files.pythonhosted.org', 'github.com', 'objects.githubusercontent.com', 'conda.anaconda.org', 'registry-1.docker.io', 'api.wandb.ai', 'download.pytorch.org'];
  const servers: ExternalHost[] = serverNames.map((name, i) => {
    const ipNum = ((192 << 24) | (0 << 16) | (2 << 8) | (10 + i * 7)) >>> 0;
    return { ip: numberToIpv4(ipNum), ipNum, name };
  });
  const upstreamDns: ExternalHost[] = [53, 54].map((x) => {
    const ipNum = (NODE_NET + (255 << 8) + x) >>> 0;
    return { ip: numberToIpv4(ipNum), ipNum, name: `ns${x - 52}.dc.internal` };
  });

  // ---- names -----------------------------------------------------------------------------
  const ptr = new Map<string, string>();
  const forward = new Map<string, string>();
  for (const node of nodes) {
    ptr.set(node.ip, `${node.name}.`);
    forward.set(`${node.name}.`, node.ip);
  }
  for (const p of pods) {
    if (p.hostNetwork) continue;
    const name = `${p.ip.replace(/\./g, '-')}.${p.namespace}.pod.cluster.local.`;
    ptr.set(p.ip, name);
    forward.set(name, p.ip);
  }
  for (const s of services) {
    const name = `${s.name}.${s.namespace}.svc.cluster.local.`;
    ptr.set(s.ip, name);
    forward.set(name, s.ip);
  }
  for (const u of upstreamDns) {
    ptr.set(u.ip, `${u.name}.`);
    forward.set(`${u.name}.`, u.ip);
  }

  const podByIp = new Map<number, SimPod>();
  for (const p of pods) if (!p.hostNetwork) podByIp.set(p.ipNum, p);
  const nodeByIp = new Map<number, SimNode>();
  for (const node of nodes) nodeByIp.set(node.ipNum, node);
  const roles = new Map<PodRole, SimPod[]>();
  for (const p of pods) {
    const l = roles.get(p.role);
    if (l) l.push(p);
    else roles.set(p.role, [p]);
  }
  const namespaces = [...new Set(pods.map((p) => p.namespace).concat(['default']))].sort();

  return {
    nodes,
    pods,
    services,
    namespaces,
    clients,
    servers,
    upstreamDns,
    gatewayMac: new Uint8Array([0x00, 0x00, 0x5e, 0x00, 0x01, 0x01]),
    ptr,
    forward,
    podByIp,
    nodeByIp,
    byRole: (role) => roles.get(role) ?? [],
  };
}
