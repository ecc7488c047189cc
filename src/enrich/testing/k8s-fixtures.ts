// Kubernetes objects shaped like `kubectl get -o json` output of a v1.30 cluster (kubeadm,
// containerd, Calico-style pod CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, dual-stack
// fd00:10:244::/56), including the fields a real server sends and the index does not use
// (managedFields, conditions, container statuses...), so parsing is tested against realistic
// documents. Builders take only what tests vary.

import type { Pod, Service, Node } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

const T0 = '2025-03-14T09:26:53Z';

function managedFields(manager: string, operation: 'Update' | 'Apply', subresource?: string): object[] {
  return [
    {
      manager,
      operation,
      apiVersion: 'v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } }, ...(subresource ? {} : { 'f:spec': {} }) },
      ...(subresource ? { subresource } : {}),
    },
  ];
}

export interface PodOptions {
  name: string;
  namespace: string;
  ip?: string;
  /** A second (IPv6) pod IP. */
  ip6?: string;
  node?: string;
  owner?: { kind: string; name: string; apiVersion?: string };
  labels?: Record<string, string>;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  hostNetwork?: boolean;
  hostIP?: string;
  created?: string;
  deleting?: boolean;
  image?: string;
}

export function pod(o: PodOptions): Pod {
  const phase = o.phase ?? 'Running';
  const node = o.node ?? 'worker-1';
  const ips = [o.ip, o.ip6].filter((x): x is string => !!x);
  const running = phase === 'Running';
  const owner = o.owner;
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid: `6f1c2d3e-${o.name.length.toString(16).padStart(4, '0')}-4a5b-9c8d-${Buffer.from(o.name).toString('hex').slice(0, 12).padEnd(12, '0')}`,
      resourceVersion: '1',
      creationTimestamp: o.created ?? T0,
      ...(o.deleting ? { deletionTimestamp: '2025-03-14T10:00:00Z', deletionGracePeriodSeconds: 30 } : {}),
      labels: { ...(o.labels ?? {}) },
      annotations: {
        'cni.projectcalico.org/containerID': '9d2f5a0e4b7c1f3a8e6d2c4b0a9f7e5d3c1b8a6f4e2d0c9b7a5f3e1d9c7b5a3f',
        'cni.projectcalico.org/podIP': o.ip ? `${o.ip}/32` : '',
        'kubectl.kubernetes.io/restartedAt': '2025-03-14T09:26:50Z',
        'sflowscope.test/description': 'café ☕ — unicode in a label value',
      },
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion ?? (owner.kind === 'Job' ? 'batch/v1' : owner.kind === 'Node' ? 'v1' : 'apps/v1'),
                kind: owner.kind,
                name: owner.name,
                uid: '3b8e7a51-2c4d-4e6f-8a9b-0c1d2e3f4a5b',
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
      managedFields: [...managedFields('kube-controller-manager', 'Update'), ...managedFields('kubelet', 'Update', 'status')],
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: 'main',
          image: o.image ?? 'registry.example.com/shop/web:1.27.3',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          volumeMounts: [{ name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: owner?.kind === 'Job' ? 'OnFailure' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: o.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      ...(node ? { nodeName: node } : {}),
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase,
      conditions: [
        { type: 'PodReadyToStartContainers', status: running ? 'True' : 'False', lastProbeTime: null as unknown as string, lastTransitionTime: T0 },
        { type: 'Initialized', status: 'True', lastProbeTime: null as unknown as string, lastTransitionTime: T0 },
        { type: 'Ready', status: running ? 'True' : 'False', lastProbeTime: null as unknown as string, lastTransitionTime: T0 },
        { type: 'ContainersReady', status: running ? 'True' : 'False', lastProbeTime: null as unknown as string, lastTransitionTime: T0 },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null as unknown as string, lastTransitionTime: T0 },
      ],
      ...(phase !== 'Pending' || o.ip ? { hostIP: o.hostIP ?? '192.168.10.11', hostIPs: [{ ip: o.hostIP ?? '192.168.10.11' }] } : {}),
      ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
      startTime: T0,
      containerStatuses: [
        {
          name: 'main',
          state: running ? { running: { startedAt: T0 } } : phase === 'Pending' ? { waiting: { reason: 'ContainerCreating' } } : { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: T0, finishedAt: T0, containerID: 'containerd://4c1e' } },
          lastState: {},
          ready: running,
          restartCount: 0,
          image: o.image ?? 'registry.example.com/shop/web:1.27.3',
          imageID: 'registry.example.com/shop/web@sha256:0c3ab2a2f7c5b2f1f2b2e4f9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9',
          containerID: 'containerd://4c1e8a0b2d4f6e8a0c2e4f6a8b0d2f4e6a8c0e2f4a6b8d0f2e4a6c8e0a2c4e6a',
          started: running,
        },
      ],
      qosClass: 'Burstable',
    },
  };
}

/** A pod of Deployment `deployment` (ReplicaSet `<deployment>-<hash>`, pod `<rs>-<suffix>`). */
export function deploymentPod(o: Omit<PodOptions, 'name' | 'owner'> & { deployment: string; hash?: string; suffix?: string }): Pod {
  const hash = o.hash ?? '7d9f8c6b5';
  const rs = `${o.deployment}-${hash}`;
  return pod({ ...o, name: `${rs}-${o.suffix ?? 'x2x7q'}`, owner: { kind: 'ReplicaSet', name: rs }, labels: { app: o.deployment, 'pod-template-hash': hash, ...(o.labels ?? {}) } });
}

export function service(o: { name: string; namespace: string; clusterIP: string; clusterIP6?: string; type?: string; selector?: Record<string, string>; loadBalancerIP?: string; externalIPs?: string[] }): Service {
  const headless = o.clusterIP === 'None';
  const ips = [o.clusterIP, o.clusterIP6].filter((x): x is string => !!x);
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid: `a1b2c3d4-0000-4000-8000-${Buffer.from(o.name).toString('hex').slice(0, 12).padEnd(12, '0')}`,
      resourceVersion: '1',
      creationTimestamp: T0,
      labels: { app: o.name },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"apiVersion":"v1","kind":"Service","metadata":{"name":"${o.name}"}}\n` },
      managedFields: managedFields('kubectl-client-side-apply', 'Update'),
    },
    spec: {
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' as unknown as number }],
      selector: o.selector ?? { app: o.name },
      clusterIP: o.clusterIP,
      clusterIPs: ips,
      type: o.type ?? 'ClusterIP',
      sessionAffinity: 'None',
      ...(o.externalIPs ? { externalIPs: o.externalIPs } : {}),
      ipFamilies: headless ? ['IPv4'] : ips.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')),
      ipFamilyPolicy: ips.length > 1 ? 'PreferDualStack' : 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ...(o.type === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster' } : {}),
    },
    status: { loadBalancer: o.loadBalancerIP ? { ingress: [{ ip: o.loadBalancerIP, ipMode: 'VIP' }] } : {} },
  };
}

export function endpointSlice(o: {
  service: string;
  namespace: string;
  name?: string;
  addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: { ip: string; pod?: string; node?: string; ready?: boolean }[];
}): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name: o.name ?? `${o.service}-8xk2n`,
      generateName: `${o.service}-`,
      namespace: o.namespace,
      uid: `e5f6a7b8-0000-4000-8000-${Buffer.from(o.name ?? o.service).toString('hex').slice(0, 12).padEnd(12, '0')}`,
      resourceVersion: '1',
      generation: 3,
      creationTimestamp: T0,
      labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': o.service, app: o.service },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': T0 },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: o.service, uid: 'a1b2c3d4-0000-4000-8000-000000000000', controller: true, blockOwnerDeletion: true }],
      managedFields: managedFields('kube-controller-manager', 'Update'),
    },
    addressType: o.addressType ?? 'IPv4',
    endpoints: o.endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
      ...(e.pod
        ? { targetRef: { kind: 'Pod', namespace: o.namespace, name: e.pod, uid: '6f1c2d3e-0000-4a5b-9c8d-000000000000' } }
        : {}),
      ...(e.node ? { nodeName: e.node, zone: 'zone-a' } : {}),
    })),
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };
}

export function node(o: { name: string; internalIP: string; internalIP6?: string; externalIP?: string; podCIDR?: string }): Node {
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: {
      name: o.name,
      uid: `c0d1e2f3-0000-4000-8000-${Buffer.from(o.name).toString('hex').slice(0, 12).padEnd(12, '0')}`,
      resourceVersion: '1',
      creationTimestamp: T0,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': o.name,
        'kubernetes.io/os': 'linux',
        'nvidia.com/gpu.present': 'true',
        'topology.kubernetes.io/zone': 'zone-a',
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'projectcalico.org/IPv4Address': `${o.internalIP}/24`,
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
      managedFields: [...managedFields('kubelet', 'Update'), ...managedFields('kubelet', 'Update', 'status')],
    },
    spec: { podCIDR: o.podCIDR ?? '10.244.1.0/24', podCIDRs: [o.podCIDR ?? '10.244.1.0/24'] },
    status: {
      capacity: { cpu: '64', 'ephemeral-storage': '959786032Ki', 'hugepages-1Gi': '0', memory: '527952724Ki', 'nvidia.com/gpu': '8', pods: '110' },
      allocatable: { cpu: '64', 'ephemeral-storage': '884538805627', memory: '527850324Ki', 'nvidia.com/gpu': '8', pods: '110' },
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: T0, lastTransitionTime: T0, reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
        { type: 'Ready', status: 'True', lastHeartbeatTime: T0, lastTransitionTime: T0, reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      addresses: [
        { type: 'InternalIP', address: o.internalIP },
        ...(o.internalIP6 ? [{ type: 'InternalIP', address: o.internalIP6 }] : []),
        ...(o.externalIP ? [{ type: 'ExternalIP', address: o.externalIP }] : []),
        { type: 'Hostname', address: o.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '3f1a9c2e7b4d4e0f8a6b5c4d3e2f1a0b',
        systemUUID: '4c4c4544-0042-3510-8051-b4c04f564433',
        bootID: '8e7d6c5b-4a3f-2e1d-0c9b-8a7f6e5d4c3b',
        kernelVersion: '6.1.0-28-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: 'v1.30.8',
        kubeProxyVersion: 'v1.30.8',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/**
 * A small cluster: two nodes, kube-dns, a `shop` namespace with a Deployment behind a Service, a
 * StatefulSet, a DaemonSet pod on the host network, a CronJob pod that finished, and a pod of a
 * bare ReplicaSet.
 */
export function smallCluster(): { pods: Pod[]; services: Service[]; endpointslices: EndpointSlice[]; nodes: Node[] } {
  return {
    nodes: [
      node({ name: 'worker-1', internalIP: '192.168.10.11', internalIP6: 'fd00:192:168:10::11', podCIDR: '10.244.1.0/24' }),
      node({ name: 'worker-2', internalIP: '192.168.10.12', externalIP: '203.0.113.12', podCIDR: '10.244.2.0/24' }),
    ],
    services: [
      service({ name: 'kube-dns', namespace: 'kube-system', clusterIP: '10.96.0.10', selector: { 'k8s-app': 'kube-dns' } }),
      service({ name: 'web', namespace: 'shop', clusterIP: '10.96.14.7', clusterIP6: 'fd00:10:96::e07' }),
      service({ name: 'db', namespace: 'shop', clusterIP: 'None' }),
      service({ name: 'gateway', namespace: 'shop', clusterIP: '10.96.20.1', type: 'LoadBalancer', loadBalancerIP: '198.51.100.20' }),
    ],
    endpointslices: [
      endpointSlice({
        service: 'web',
        namespace: 'shop',
        endpoints: [
          { ip: '10.244.1.17', pod: 'web-7d9f8c6b5-x2x7q', node: 'worker-1' },
          { ip: '10.244.2.9', pod: 'web-7d9f8c6b5-k8wpz', node: 'worker-2' },
        ],
      }),
      endpointSlice({ service: 'web', namespace: 'shop', name: 'web-v6-9qzt2', addressType: 'IPv6', endpoints: [{ ip: 'fd00:10:244:1::11', pod: 'web-7d9f8c6b5-x2x7q', node: 'worker-1' }] }),
      endpointSlice({ service: 'db', namespace: 'shop', endpoints: [{ ip: '10.244.2.30', pod: 'db-0', node: 'worker-2' }] }),
      endpointSlice({ service: 'kube-dns', namespace: 'kube-system', endpoints: [{ ip: '10.244.1.2', pod: 'coredns-76f75df574-6xqlm', node: 'worker-1' }] }),
      endpointSlice({ service: 'legacy-billing', namespace: 'shop', endpoints: [{ ip: '192.0.2.44' }] }),
    ],
    pods: [
      deploymentPod({ deployment: 'web', namespace: 'shop', ip: '10.244.1.17', ip6: 'fd00:10:244:1::11', node: 'worker-1' }),
      deploymentPod({ deployment: 'web', namespace: 'shop', suffix: 'k8wpz', ip: '10.244.2.9', node: 'worker-2' }),
      deploymentPod({ deployment: 'coredns', namespace: 'kube-system', hash: '76f75df574', suffix: '6xqlm', ip: '10.244.1.2', node: 'worker-1', labels: { 'k8s-app': 'kube-dns' } }),
      pod({ name: 'db-0', namespace: 'shop', ip: '10.244.2.30', node: 'worker-2', owner: { kind: 'StatefulSet', name: 'db' }, labels: { app: 'db', 'statefulset.kubernetes.io/pod-name': 'db-0' } }),
      pod({ name: 'host-sflow-4hd8x', namespace: 'sflowscope', ip: '192.168.10.11', node: 'worker-1', hostNetwork: true, owner: { kind: 'DaemonSet', name: 'host-sflow' } }),
      pod({ name: 'report-28994400-7vx5t', namespace: 'batch', ip: '10.244.2.41', node: 'worker-2', phase: 'Succeeded', owner: { kind: 'Job', name: 'report-28994400' } }),
      pod({ name: 'cache-tk9gx', namespace: 'shop', ip: '10.244.1.50', node: 'worker-1', owner: { kind: 'ReplicaSet', name: 'cache' }, labels: { app: 'cache' } }),
      pod({ name: 'kube-apiserver-worker-1', namespace: 'kube-system', ip: '192.168.10.11', node: 'worker-1', hostNetwork: true, owner: { kind: 'Node', name: 'worker-1' } }),
      pod({ name: 'pending-zz9x2', namespace: 'shop', phase: 'Pending', node: 'worker-2' }),
    ],
  };
}
