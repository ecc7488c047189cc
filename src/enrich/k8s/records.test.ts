import { describe, expect, it } from 'vitest';
import { deploymentPod, endpointSlice, node, pod, service } from '../testing/k8s-fixtures.js';
import { nodeRecord, objectKey, podRecord, podWorkload, serviceRecord, sliceRecord } from './records.js';

describe('podWorkload', () => {
  it.each([
    ['Deployment (pod-template-hash label)', deploymentPod({ deployment: 'web', namespace: 'shop' }), 'web', 'Deployment'],
    ['Deployment with dashes', deploymentPod({ deployment: 'gpu-inference-api', namespace: 'ml', hash: '6c9f7b8d4' }), 'gpu-inference-api', 'Deployment'],
    ['Deployment (name pattern, no label)', pod({ name: 'web-7d9f8c6b5-x2x7q', namespace: 's', owner: { kind: 'ReplicaSet', name: 'web-7d9f8c6b5' } }), 'web', 'Deployment'],
    ['bare ReplicaSet', pod({ name: 'cache-tk9gx', namespace: 's', owner: { kind: 'ReplicaSet', name: 'cache' } }), 'cache', 'ReplicaSet'],
    ['StatefulSet', pod({ name: 'db-0', namespace: 's', owner: { kind: 'StatefulSet', name: 'db' } }), 'db', 'StatefulSet'],
    ['DaemonSet', pod({ name: 'host-sflow-4hd8x', namespace: 's', owner: { kind: 'DaemonSet', name: 'host-sflow' } }), 'host-sflow', 'DaemonSet'],
    ['Job', pod({ name: 'migrate-v2-9kq7d', namespace: 's', owner: { kind: 'Job', name: 'migrate-v2' } }), 'migrate-v2', 'Job'],
    ['CronJob (Job named <cronjob>-<minutes>)', pod({ name: 'report-28994400-7vx5t', namespace: 's', owner: { kind: 'Job', name: 'report-28994400' } }), 'report', 'CronJob'],
    ['static pod', pod({ name: 'kube-apiserver-cp-1', namespace: 'kube-system', node: 'cp-1', owner: { kind: 'Node', name: 'cp-1' } }), 'kube-apiserver', 'StaticPod'],
    ['other controller', pod({ name: 'canary-5f6d-abcde', namespace: 's', owner: { kind: 'Rollout', name: 'canary', apiVersion: 'argoproj.io/v1alpha1' } }), 'canary', 'Rollout'],
    ['no owner', pod({ name: 'debug-shell', namespace: 's' }), 'debug-shell', 'Pod'],
  ])('%s', (_what, p, workload, kind) => {
    expect(podWorkload(p)).toEqual({ workload, workloadKind: kind });
  });
});

describe('records', () => {
  it('keeps only what lookups need from a pod, canonicalising addresses', () => {
    const r = podRecord(pod({ name: 'p', namespace: 'n', ip: '10.244.1.7', ip6: 'FD00:10:244:1:0:0:0:7', node: 'w1' }));
    expect(r).toEqual({
      kind: 'pods',
      namespace: 'n',
      name: 'p',
      ips: ['10.244.1.7', 'fd00:10:244:1::7'],
      node: 'w1',
      hostNetwork: false,
      finished: false,
      created: Date.parse('2025-03-14T09:26:53Z'),
      workload: 'p',
      workloadKind: 'Pod',
    });
    expect(podRecord(pod({ name: 'p', namespace: 'n', ip: '10.244.1.7', deleting: true }))!.finished).toBe(true);
    expect(podRecord(pod({ name: 'p', namespace: 'n', ip: '10.244.1.7', phase: 'Failed' }))!.finished).toBe(true);
    expect(podRecord(pod({ name: 'p', namespace: 'n', phase: 'Pending' }))!.ips).toEqual([]);
    expect(podRecord({ metadata: { name: 'x' } })).toBeNull();
  });

  it('takes cluster, external and load-balancer IPs of a service, not "None"', () => {
    expect(serviceRecord(service({ name: 'db', namespace: 'n', clusterIP: 'None' }))!.ips).toEqual([]);
    expect(serviceRecord(service({ name: 'gw', namespace: 'n', clusterIP: '10.96.0.5', clusterIP6: 'fd00:10:96::5', type: 'LoadBalancer', loadBalancerIP: '198.51.100.5', externalIPs: ['203.0.113.5'] }))!.ips).toEqual([
      '10.96.0.5',
      'fd00:10:96::5',
      '203.0.113.5',
      '198.51.100.5',
    ]);
  });

  it('reads EndpointSlice addresses and the service label; FQDN slices hold no address', () => {
    expect(sliceRecord(endpointSlice({ service: 'web', namespace: 'n', endpoints: [{ ip: '10.244.1.7' }, { ip: '10.244.2.8' }] }))).toEqual({ kind: 'endpointslices', namespace: 'n', service: 'web', ips: ['10.244.1.7', '10.244.2.8'] });
    expect(sliceRecord(endpointSlice({ service: 'ext', namespace: 'n', addressType: 'FQDN', endpoints: [{ ip: 'db.example.com' }] }))!.ips).toEqual([]);
    const unlabelled = endpointSlice({ service: 'x', namespace: 'n', endpoints: [] });
    delete unlabelled.metadata!.labels!['kubernetes.io/service-name'];
    expect(sliceRecord(unlabelled)).toBeNull();
  });

  it('takes InternalIP and ExternalIP of a node, not its Hostname', () => {
    expect(nodeRecord(node({ name: 'w2', internalIP: '192.168.10.12', internalIP6: 'fd00::12', externalIP: '203.0.113.12' }))).toEqual({ kind: 'nodes', name: 'w2', ips: ['192.168.10.12', 'fd00::12', '203.0.113.12'] });
  });

  it('keys objects by namespace/name, cluster-scoped ones by name', () => {
    expect(objectKey({ metadata: { namespace: 'a', name: 'b' } })).toBe('a/b');
    expect(objectKey({ metadata: { name: 'w1' } })).toBe('w1');
    expect(objectKey({})).toBeNull();
  });
});
