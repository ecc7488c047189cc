// Sunburst app, server side (sFlow-RT `sunburst/scripts/metrics.js`, reference §6.1): the tree
// JSON the charts draw. GPU and Process come from the metrics table (namespace › pod); Protocols
// and DNS come from flows (a `TopFlowsSource`, see ./flows.ts) and are empty until one is given.

import { parseAgents, parseColumn, parseFilter, type MetricQuery, type MetricResult } from '../engine/query.js';
import type { TopFlowsSource } from './flows.js';

export const SUNBURST_CHARTS = ['protocols', 'dns', 'process', 'gpu'] as const;
export type SunburstChart = (typeof SUNBURST_CHARTS)[number];

export interface SunburstNode {
  value: number;
  id: string;
  filter?: string;
  children: Record<string, SunburstNode>;
}

export interface SunburstTree {
  label: string;
  depth: number;
  value: number;
  flow: boolean;
  description: string;
  /** Unit of `value`, for captions (our addition). */
  units: string;
  children: Record<string, SunburstNode>;
}

export interface SunburstConfig {
  /** Namespaces left out of the GPU chart (`sunburst.gpu.k8s.namespace.exclude`). */
  gpuExcludeNamespaces: readonly string[];
  /** Rows at most read from the table (`sort:<m>:-N`). */
  maxRows: number;
  /** Top flows asked for in the flow charts (`sunburst.maxFlows`). */
  maxFlows: number;
  /** Smallest flow value drawn (`sunburst.minValue`). */
  minValue: number;
}

export const DEFAULT_SUNBURST_CONFIG: SunburstConfig = {
  gpuExcludeNamespaces: ['gpu-mon', 'kube-system'],
  maxRows: 10000,
  maxFlows: 100,
  minValue: 1,
};

const TITLES: Record<SunburstChart, { label: string; description: string; units: string; flow: boolean }> = {
  protocols: { label: 'Protocols', description: 'Network traffic (frames per second) broken out by protocol stack', units: 'frames/s', flow: true },
  dns: { label: 'DNS', description: 'Network traffic (frames per second) broken out by DNS name', units: 'frames/s', flow: true },
  process: { label: 'Process', description: 'Cluster wide CPU time broken out by service', units: '% CPU', flow: false },
  gpu: { label: 'GPU', description: 'Cluster wide GPU time broken out by service', units: 'GPU ms/s', flow: false },
};

function emptyTree(chart: SunburstChart): SunburstTree {
  return { ...TITLES[chart], depth: 0, value: 0, children: {} };
}

/** Add `value` along `path` (creating nodes), summing into every ancestor. */
function insert(tree: { value: number; children: Record<string, SunburstNode> }, path: string[], value: number, idOf: (i: number) => string, filterOf?: (i: number) => string | undefined): number {
  tree.value += value;
  let level = tree.children;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    let n = Object.hasOwn(level, key) ? level[key] : undefined;
    if (n === undefined) {
      n = { value: 0, id: idOf(i), children: {} };
      const f = filterOf?.(i);
      if (f !== undefined) n.filter = f;
      // Own-property map built from network strings: never let `__proto__` reach the prototype.
      Object.defineProperty(level, key, { value: n, enumerable: true, writable: true, configurable: true });
    }
    n.value += value;
    level = n.children;
  }
  return path.length;
}

const str = (m: MetricResult | null | undefined): string | null => (m && m.metricValue !== undefined && m.metricValue !== '' ? String(m.metricValue) : null);

/** GPU / Process: `k8s › ns › pod`, else `systemd › svc`, `swarm › name`, `docker › name`, `jvm › host`, `vm › host`. */
export function metricsTree(query: MetricQuery, chart: 'gpu' | 'process', now: number, config: SunburstConfig = DEFAULT_SUNBURST_CONFIG): SunburstTree {
  const sortMetric = chart === 'gpu' ? 'vir_nvml_gputime' : 'vir_cpu_utilization';
  const cols = [`sort:${sortMetric}:-${config.maxRows}`, 'null:k8s_namespace', 'null:k8s_name', 'null:systemd_service', 'null:swarm_name', 'null:docker_name', 'null:jvm_name', 'vir_host_name'].map(parseColumn);
  const rows = query.table(parseAgents('ALL'), cols, parseFilter({}), now);
  const tree = emptyTree(chart);
  const exclude = new Set(chart === 'gpu' ? config.gpuExcludeNamespaces : []);
  for (const row of rows) {
    const v = Number(row[0]?.metricValue);
    if (!Number.isFinite(v) || v <= 0) continue;
    const ns = str(row[1]);
    const name = str(row[2]);
    let path: string[];
    if (ns !== null && name !== null) {
      if (exclude.has(ns)) continue;
      path = ['k8s', ns, name];
    } else if (str(row[3]) !== null) path = ['systemd', str(row[3])!];
    else if (str(row[4]) !== null) path = ['swarm', str(row[4])!];
    else if (str(row[5]) !== null) path = ['docker', str(row[5])!];
    else if (str(row[6]) !== null) path = ['jvm', str(row[7]) ?? ''];
    else path = ['vm', str(row[7]) ?? ''];
    tree.depth = Math.max(tree.depth, insert(tree, path, v, (i) => path.slice(0, i + 1).join('.')));
  }
  return tree;
}

// --- Protocols ---------------------------------------------------------------------------

export const PROTOCOLS_FLOW = {
  keys: ['stack', 'null:ethernetprotocol:0', 'null:ipprotocol:0', 'null:ip6nexthdr:0', 'null:tcpsourceport:0', 'null:tcpdestinationport:0', 'null:udpsourceport:0', 'null:udpdestinationport:0'],
  value: 'frames',
};

/** Protocols tree from top flows keyed as PROTOCOLS_FLOW (fields joined by `sep`). */
export function protocolsTree(flows: readonly { key: string; value: number }[], sep = ','): SunburstTree {
  const tree = emptyTree('protocols');
  for (const f of flows) {
    const [stack = '', ethType, ipProto, ip6Next, tcpSrc, tcpDst, udpSrc, udpDst] = f.key.split(sep);
    const tokens = stack.split('.').filter((t) => t !== '');
    if (tokens.length === 0) continue;
    const last = tokens[tokens.length - 1];
    const num = (s: string | undefined) => Number(s ?? 0) || 0;
    let extra: { n: number; filter: string } | null = null;
    if (last === 'eth' && num(ethType) > 0) extra = { n: num(ethType), filter: `ethernetprotocol=${num(ethType)}` };
    else if (last === 'ip' && num(ipProto) > 0) extra = { n: num(ipProto), filter: `ipprotocol=${num(ipProto)}` };
    else if (last === 'ip6' && num(ip6Next) > 0) extra = { n: num(ip6Next), filter: `ip6nexthdr=${num(ip6Next)}` };
    else if (last === 'tcp' || last === 'udp') {
      const s = last === 'tcp' ? num(tcpSrc) : num(udpSrc);
      const d = last === 'tcp' ? num(tcpDst) : num(udpDst);
      const p = Math.min(s || d, d || s);
      if (p > 0) extra = { n: p, filter: `(${last}sourceport=${p}|${last}destinationport=${p})` };
    }
    const path = extra ? [...tokens, String(extra.n)] : tokens;
    const prefixFilter = (k: number) => `prefix:stack:.:${k}=${tokens.slice(0, k).join('.')}`;
    const d = insert(
      tree,
      path,
      f.value,
      (i) => (i < tokens.length ? tokens.slice(0, i + 1).join('.') : `${tokens.join('.')}.${extra!.n}`),
      (i) => (i < tokens.length ? prefixFilter(i + 1) : `${prefixFilter(tokens.length)}&${extra!.filter}`),
    );
    tree.depth = Math.max(tree.depth, d);
  }
  return tree;
}

// --- DNS ---------------------------------------------------------------------------------

export const DNS_SRC_KEY = 'if:[first:stack:.:ip:ip6]:ip:[dns:ipsource]:[dns:ip6source]';
export const DNS_DST_KEY = 'if:[first:stack:.:ip:ip6]:ip:[dns:ipdestination]:[dns:ip6destination]';

/** DNS tree: names split on `.`, last (empty) label dropped, inserted right to left (TLD innermost). */
export function dnsTree(flows: readonly { key: string; value: number }[]): SunburstTree {
  const tree = emptyTree('dns');
  for (const f of flows) {
    const labels = f.key.split('.');
    labels.pop();
    if (labels.length === 0) continue;
    const path = labels.slice().reverse();
    const idOf = (i: number) => `${labels.slice(labels.length - 1 - i).join('.')}.`;
    const filterOf = (i: number) => {
      const k = i + 2;
      const id = idOf(i);
      return `suffix:[${DNS_SRC_KEY}]:.:${k}=${id}|suffix:[${DNS_DST_KEY}]:.:${k}=${id}`;
    };
    tree.depth = Math.max(tree.depth, insert(tree, path, f.value, idOf, filterOf));
  }
  return tree;
}

/** The tree for one chart; flow charts ask `flows` (empty tree without one). */
export function sunburstTree(chart: SunburstChart, query: MetricQuery, flows: TopFlowsSource | null, now: number, config: SunburstConfig = DEFAULT_SUNBURST_CONFIG): SunburstTree {
  if (chart === 'gpu' || chart === 'process') return metricsTree(query, chart, now, config);
  if (flows === null) return emptyTree(chart);
  if (chart === 'protocols') {
    flows.define('sunburst-stack', { keys: PROTOCOLS_FLOW.keys.join(','), value: 'frames', filter: '', t: 5, n: 20, fs: ',' });
    return protocolsTree(flows.activeFlows('sunburst-stack', config.maxFlows, config.minValue, 'sum'), ',');
  }
  flows.define('sunburst-dns-src', { keys: DNS_SRC_KEY, value: 'frames', filter: '', t: 5, n: 20, fs: ',' });
  flows.define('sunburst-dns-dst', { keys: DNS_DST_KEY, value: 'frames', filter: '', t: 5, n: 20, fs: ',' });
  return dnsTree([
    ...flows.activeFlows('sunburst-dns-src', config.maxFlows, config.minValue, 'sum'),
    ...flows.activeFlows('sunburst-dns-dst', config.maxFlows, config.minValue, 'sum'),
  ]);
}
