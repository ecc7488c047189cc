import { describe, expect, it } from 'vitest';
import type { MetricQuery, MetricResult } from '../engine/query.js';
import { DNS_DST_KEY, DNS_SRC_KEY, dnsTree, metricsTree, protocolsTree, sunburstTree } from './sunburst.js';

/** A metrics table stub: rows of [value, namespace, name, systemd, swarm, docker, jvm, vir_host_name]. */
function tableOf(rows: (string | number | null)[][]): MetricQuery {
  const cell = (v: string | number | null, name: string): MetricResult | null => (v === null ? null : { agent: '10.0.0.1', dataSource: '3.1', metricName: name, metricValue: v, lastUpdate: 0 });
  const names = ['value', 'k8s_namespace', 'k8s_name', 'systemd_service', 'swarm_name', 'docker_name', 'jvm_name', 'vir_host_name'];
  return { table: () => rows.map((r) => r.map((v, i) => cell(v, names[i]!))) } as unknown as MetricQuery;
}

describe('GPU and Process trees (namespace › pod)', () => {
  const q = tableOf([
    [600, 'nlp-lab', 'trainer-0', null, null, null, null, 'k8s__trainer-0_nlp-lab_u_a'],
    [200, 'nlp-lab', 'trainer-1', null, null, null, null, 'k8s__trainer-1_nlp-lab_u_a'],
    [150, 'vision-lab', 'vit-0', null, null, null, null, 'k8s__vit-0_vision-lab_u_a'],
    [40, 'kube-system', 'dcgm', null, null, null, null, 'k8s__dcgm_kube-system_u_a'],
    [10, null, null, 'kubelet.service', null, null, null, 'node-1'],
    [5, null, null, null, null, null, null, 'vm-7'],
    [0, 'nlp-lab', 'idle', null, null, null, null, 'x'],
  ]);

  it('process: every row under its branch, values summed into ancestors', () => {
    const t = metricsTree(q, 'process', 0);
    expect(t).toMatchObject({ label: 'Process', flow: false, depth: 3, value: 1005, description: 'Cluster wide CPU time broken out by service' });
    expect(t.children.k8s!.value).toBe(990);
    expect(t.children.k8s!.children['nlp-lab']!.value).toBe(800);
    expect(t.children.k8s!.children['nlp-lab']!.children['trainer-0']).toEqual({ value: 600, id: 'k8s.nlp-lab.trainer-0', children: {} });
    expect(t.children.systemd!.children['kubelet.service']!.value).toBe(10);
    expect(t.children.vm!.children['vm-7']!.value).toBe(5);
    expect(Object.keys(t.children.k8s!.children['nlp-lab']!.children)).not.toContain('idle');
  });

  it('gpu: excluded namespaces dropped', () => {
    const t = metricsTree(q, 'gpu', 0);
    expect(Object.keys(t.children.k8s!.children).sort()).toEqual(['nlp-lab', 'vision-lab']);
    expect(t.value).toBe(965);
  });

  it('labels from the network cannot reach the prototype', () => {
    const t = metricsTree(tableOf([[1, '__proto__', 'constructor', null, null, null, null, 'x']]), 'process', 0);
    expect(Object.hasOwn(t.children.k8s!.children, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});

describe('Protocols tree (reference §6.1)', () => {
  it('stack tokens become rings, then the service port / protocol number', () => {
    const t = protocolsTree([
      { key: 'eth.ip.tcp,2048,6,0,443,51234,0,0', value: 60 },
      { key: 'eth.ip.udp,2048,17,0,0,0,53000,53', value: 30 },
      { key: 'eth.arp,2054,0,0,0,0,0,0', value: 10 },
    ]);
    expect(t).toMatchObject({ label: 'Protocols', flow: true, value: 100, depth: 4 });
    const eth = t.children.eth!;
    expect(eth).toMatchObject({ value: 100, id: 'eth', filter: 'prefix:stack:.:1=eth' });
    expect(eth.children.ip!).toMatchObject({ value: 90, id: 'eth.ip', filter: 'prefix:stack:.:2=eth.ip' });
    expect(eth.children.ip!.children.tcp!.children['443']).toEqual({ value: 60, id: 'eth.ip.tcp.443', filter: 'prefix:stack:.:3=eth.ip.tcp&(tcpsourceport=443|tcpdestinationport=443)', children: {} });
    expect(eth.children.ip!.children.udp!.children['53']!.filter).toBe('prefix:stack:.:3=eth.ip.udp&(udpsourceport=53|udpdestinationport=53)');
    expect(eth.children.arp).toMatchObject({ value: 10, filter: 'prefix:stack:.:2=eth.arp', children: {} });
  });
});

describe('DNS tree (reference §4)', () => {
  it('names split right to left, ids are suffixes, filters on both ends', () => {
    const t = dnsTree([
      { key: 'trainer-0.llama.nlp-lab.svc.cluster.local.', value: 5 },
      { key: 'vit-0.vit.vision-lab.svc.cluster.local.', value: 3 },
      { key: '10.1.2.3', value: 1 },
    ]);
    expect(t.value).toBe(9);
    const svc = t.children.local!.children.cluster!.children.svc!;
    expect(svc.value).toBe(8);
    expect(Object.keys(svc.children).sort()).toEqual(['nlp-lab', 'vision-lab']);
    expect(svc.children['nlp-lab']).toMatchObject({ id: 'nlp-lab.svc.cluster.local.', filter: `suffix:[${DNS_SRC_KEY}]:.:5=nlp-lab.svc.cluster.local.|suffix:[${DNS_DST_KEY}]:.:5=nlp-lab.svc.cluster.local.` });
    // The quirk kept from the original: an unresolved address loses its last octet.
    expect(t.children['2']!.children['1']!.children['10']!.value).toBe(1);
  });

  it('flow charts are empty without a flow engine', () => {
    expect(sunburstTree('dns', tableOf([]), null, 0)).toMatchObject({ label: 'DNS', flow: true, value: 0, children: {} });
  });
});
