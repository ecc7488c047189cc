// The Kubernetes manifests: the two plain files users `kubectl apply -f`, the Kustomize base and
// every overlay as `kubectl kustomize` renders them (offline). Checks what the deployment must
// guarantee — ports, probes, security, RBAC, settings, the agents' collector — and that no
// deprecated API or Kustomize field is used. Schema validation is in schema.test.ts.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BIND_OPTION, OPTIONS, parseServeArgs } from '../../src/config.js';
import { parseDockerfile } from './dockerfile.js';
import {
  BASE_DIR,
  find,
  findAll,
  kustomizations,
  kustomize,
  literalEnv,
  loadFile,
  OVERLAYS_DIR,
  PLAIN_MANIFESTS,
  podSpec,
  REPO,
  servicesSelecting,
  type K8sObject,
} from './k8s.js';

const NAMESPACE = 'sflowscope';
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'RuntimeClass']);
/** GA API versions of the kinds a deployment like ours may use (Kubernetes 1.29+). */
const GA_API: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  Service: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  PersistentVolumeClaim: 'v1',
  Deployment: 'apps/v1',
  DaemonSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
  PodDisruptionBudget: 'policy/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
};
/** GA kinds that are themselves deprecated. */
const DEPRECATED_KINDS = new Set(['Endpoints', 'ComponentStatus']);
/** Kustomization fields deprecated in Kustomize v5 (kubectl ≥ 1.27). */
const DEPRECATED_KUSTOMIZE_FIELDS = ['bases', 'commonLabels', 'patchesStrategicMerge', 'patchesJson6902', 'vars', 'imageTags'];
/** Settings the manifest sets that later issues add to `serve` (the server must accept them). */
const PENDING_SETTINGS = ['SFLOWSCOPE_DNS_SERVERS', 'SFLOWSCOPE_K8S'];
const RUNTIME_SOCKETS = ['/run/containerd/containerd.sock', '/var/run/docker.sock', '/run/k3s/containerd/containerd.sock', '/var/run/crio/crio.sock'];

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const base = () => kustomize(BASE_DIR).objects;
const analyzer = (objs: K8sObject[]) => find(objs, 'Deployment', 'sflowscope');
const analyzerContainer = (objs: K8sObject[]) => podSpec(analyzer(objs)).containers.find((c: { name: string }) => c.name === 'sflowscope');

/** Every container of every workload in a rendering. */
function containers(objs: K8sObject[]): { workload: K8sObject; c: any }[] {
  return objs.filter((o) => podSpec(o) !== undefined).flatMap((w) => [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers].map((c: any) => ({ workload: w, c })));
}

/** The container port a Service port or probe port refers to (by name or number). */
function containerPort(c: any, port: string | number): any {
  return (c.ports ?? []).find((p: any) => (typeof port === 'number' ? p.containerPort === port : p.name === port));
}

/** The UDP Service that carries sFlow to the analyzer. */
function sflowService(objs: K8sObject[]): K8sObject {
  const svc = servicesSelecting(objs, analyzer(objs)).filter((s) => s.spec.ports.some((p: any) => p.protocol === 'UDP'));
  expect(svc, 'exactly one UDP Service selects the analyzer').toHaveLength(1);
  return svc[0]!;
}

describe('the two plain manifests (kubectl apply -f, twice)', () => {
  it('parse, and the Kustomize base renders exactly their objects', () => {
    const plain = PLAIN_MANIFESTS.flatMap(loadFile);
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const rendered = new Map(base().map((o) => [key(o), o]));
    expect([...rendered.keys()].sort()).toEqual(plain.map(key).sort());
    for (const o of plain) expect(rendered.get(key(o)), key(o)).toEqual(o);
  });

  it('sflowscope.yaml starts with its Namespace, so one apply creates it before the rest', () => {
    const objs = loadFile(PLAIN_MANIFESTS[0]!);
    expect(objs[0]!.kind).toBe('Namespace');
    expect(objs[0]!.metadata.name).toBe(NAMESPACE);
    // host-sflow.yaml goes into the namespace sflowscope.yaml created.
    for (const o of loadFile(PLAIN_MANIFESTS[1]!)) expect(o.metadata.namespace).toBe(NAMESPACE);
  });
});

describe.each(kustomizations())('kustomization $name', ({ dir }) => {
  it('renders offline with `kubectl kustomize`, without warnings', () => {
    const r = kustomize(dir);
    expect(r.objects.length).toBeGreaterThan(0);
    expect(r.stderr.trim(), 'kustomize warnings').toBe('');
  });

  it('uses no deprecated Kustomize field', () => {
    const k = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Record<string, unknown>;
    expect(k.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(k.kind).toBe('Kustomization');
    for (const f of DEPRECATED_KUSTOMIZE_FIELDS) expect(k[f], `${f} is deprecated`).toBeUndefined();
  });

  it('uses only GA, non-deprecated APIs, one namespace, unique names', () => {
    const objs = kustomize(dir).objects;
    const seen = new Set<string>();
    for (const o of objs) {
      const id = `${o.kind}/${o.metadata?.name}`;
      expect(o.metadata?.name, id).toBeTruthy();
      expect(DEPRECATED_KINDS.has(o.kind), `${id}: deprecated kind`).toBe(false);
      expect(o.apiVersion, `${id}: apiVersion`).not.toMatch(/(alpha|beta)\d*$/);
      expect(GA_API[o.kind], `${id}: kind without a known GA API here (add it to GA_API if it is GA)`).toBeDefined();
      expect(o.apiVersion, id).toBe(GA_API[o.kind]);
      if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace, id).toBeUndefined();
      else expect(o.metadata.namespace, id).toBe(NAMESPACE);
      const key = `${id}/${o.metadata.namespace ?? ''}`;
      expect(seen.has(key), `${key} twice`).toBe(false);
      seen.add(key);
    }
  });

  it('gives every container resource requests and limits and a pinned image', () => {
    for (const { workload, c } of containers(kustomize(dir).objects)) {
      const id = `${workload.kind}/${workload.metadata.name}/${c.name}`;
      for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) expect(c.resources?.[k]?.[r], `${id}: resources.${k}.${r}`).toBeDefined();
      expect(c.image, `${id}: image with a tag`).toMatch(/:[\w.-]+$/);
    }
  });

  it('points every Service at pods that exist, on container ports that exist', () => {
    const objs = kustomize(dir).objects;
    const workloads = objs.filter((o) => podSpec(o) !== undefined);
    for (const w of workloads) {
      const sel: Record<string, string> = w.spec.selector.matchLabels;
      const labels: Record<string, string> = w.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(sel)) expect(labels[k], `${w.kind}/${w.metadata.name} selector ${k}`).toBe(v);
    }
    for (const s of findAll(objs, 'Service')) {
      const targets = workloads.filter((w) => servicesSelecting(objs, w).includes(s));
      expect(targets.length, `Service ${s.metadata.name} selects a workload`).toBeGreaterThan(0);
      for (const p of s.spec.ports) {
        for (const w of targets) {
          const cp = podSpec(w)
            .containers.map((c: any) => containerPort(c, p.targetPort ?? p.port))
            .find((x: any) => x !== undefined);
          expect(cp, `Service ${s.metadata.name} port ${p.name}: no container port ${p.targetPort}`).toBeDefined();
          expect(cp.protocol ?? 'TCP', `Service ${s.metadata.name} port ${p.name} protocol`).toBe(p.protocol ?? 'TCP');
        }
      }
    }
  });

  it('probes every long-running container that serves HTTP, on a port it has', () => {
    for (const { workload, c } of containers(kustomize(dir).objects)) {
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const p = c[probe]?.httpGet;
        if (p) expect(containerPort(c, p.port), `${workload.metadata.name}/${c.name} ${probe} port ${p.port}`).toBeDefined();
      }
    }
  });
});

describe('the analyzer (sflowscope.yaml)', () => {
  it('runs one replica of the image built from this version, with the Dockerfile entry command', () => {
    const d = analyzer(base());
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type, 'RWO state volume: stop before start').toBe('Recreate');
    const c = analyzerContainer(base());
    expect(c.image).toBe(`sflowscope/sflowscope:${pkg.version}`);
    const df = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    const fin = df.stages.at(-1)!;
    const entrypoint = fin.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.exec ?? [];
    const cmd = fin.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.exec ?? [];
    expect([...(c.command ?? entrypoint), ...(c.args ?? (c.command ? [] : cmd))]).toEqual([...entrypoint, ...cmd]);
    expect([...c.command, ...c.args]).toEqual(['node', 'dist/cli/main.js', 'serve']);
  });

  it('has readiness, liveness and startup probes on /status of the HTTP port', () => {
    const c = analyzerContainer(base());
    const env = literalEnv(c);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(c[probe]?.httpGet?.path, probe).toBe('/status');
      expect(containerPort(c, c[probe].httpGet.port)?.containerPort, `${probe} port`).toBe(Number(env.SFLOWSCOPE_HTTP_PORT));
    }
    expect(c.livenessProbe.failureThreshold * c.livenessProbe.periodSeconds, 'liveness tolerates a minute of GC pauses').toBeGreaterThanOrEqual(60);
  });

  it('listens where its ports and Services say', () => {
    const objs = base();
    const c = analyzerContainer(objs);
    const env = literalEnv(c);
    expect(containerPort(c, 'http')).toMatchObject({ containerPort: Number(env.SFLOWSCOPE_HTTP_PORT), protocol: 'TCP' });
    expect(containerPort(c, 'sflow')).toMatchObject({ containerPort: Number(env.SFLOWSCOPE_SFLOW_PORT), protocol: 'UDP' });
    expect(env.SFLOWSCOPE_HTTP_PORT).toBe('8008');
    expect(env.SFLOWSCOPE_SFLOW_PORT).toBe('6343');
    const udp = sflowService(objs);
    expect(udp.spec.type).toBe('NodePort');
    expect(udp.spec.ports).toEqual([{ name: 'sflow', protocol: 'UDP', port: 6343, targetPort: 'sflow' }]);
    const tcp = servicesSelecting(objs, analyzer(objs)).filter((s) => s !== udp);
    expect(tcp).toHaveLength(1);
    expect(tcp[0]!.spec.type).toBe('LoadBalancer');
    expect(tcp[0]!.spec.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8008, targetPort: 'http' }]);
  });

  it('meets the restricted Pod Security profile, with a read-only root filesystem', () => {
    const pod = podSpec(analyzer(base()));
    const c = analyzerContainer(base());
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.securityContext.capabilities.add).toBeUndefined();
    expect(c.securityContext.privileged ?? false).toBe(false);
  });

  it('keeps its state file on a persistent volume at the data directory', () => {
    const objs = base();
    const pod = podSpec(analyzer(objs));
    const c = analyzerContainer(objs);
    const dataDir = literalEnv(c).SFLOWSCOPE_DATA_DIR;
    expect(dataDir).toMatch(/^\//);
    const mount = c.volumeMounts.find((m: any) => m.mountPath === dataDir);
    expect(mount, `a volume is mounted at ${dataDir}`).toBeDefined();
    expect(mount.readOnly ?? false).toBe(false);
    const vol = pod.volumes.find((v: any) => v.name === mount.name);
    expect(vol.persistentVolumeClaim?.claimName).toBeDefined();
    const pvc = find(objs, 'PersistentVolumeClaim', vol.persistentVolumeClaim.claimName);
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(pvc.spec.resources.requests.storage).toBeDefined();
    expect(pod.securityContext.fsGroup, 'the volume is writable by the non-root user').toBe(pod.securityContext.runAsGroup);
  });

  it('is configured by environment: settings `serve` knows, values it accepts', () => {
    const env = literalEnv(analyzerContainer(base()));
    const known = new Set([...OPTIONS.map((o) => o.env), BIND_OPTION.env, ...PENDING_SETTINGS]);
    for (const name of Object.keys(env)) {
      if (name.startsWith('SFLOWSCOPE_')) expect(known.has(name), `${name} is not a sflowscope setting`).toBe(true);
      else expect(['NODE_OPTIONS', 'NODE_ENV', 'TZ'], `unexpected env ${name}`).toContain(name);
    }
    // The values parse (a typo fails here, not at 3 a.m. in CrashLoopBackOff).
    const parsed = parseServeArgs([], env);
    expect(parsed.config.httpPort).toBe(8008);
    expect(parsed.config.sflowPort).toBe(6343);
    expect(parsed.config.dataDir).toBe(env.SFLOWSCOPE_DATA_DIR);
    expect(env.NODE_OPTIONS ?? '').toMatch(/--max-old-space-size=\d+/);
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS!)![1]);
    const limit = analyzerContainer(base()).resources.limits.memory as string;
    expect(limit).toMatch(/^\d+(Mi|Gi)$/);
    const limitMiB = parseInt(limit, 10) * (limit.endsWith('Gi') ? 1024 : 1);
    expect(heapMiB, 'V8 heap below the memory limit').toBeLessThan(limitMiB);
  });

  it('resolves names through the cluster DNS service and identities through the API (RBAC)', () => {
    const objs = base();
    const env = literalEnv(analyzerContainer(objs));
    expect(env.SFLOWSCOPE_DNS_SERVERS).toMatch(/^kube-dns\.kube-system\.svc(\.cluster\.local)?$/);
    expect(env.SFLOWSCOPE_K8S).toBe('in-cluster');
    const pod = podSpec(analyzer(objs));
    const sa = find(objs, 'ServiceAccount', pod.serviceAccountName);
    expect(pod.automountServiceAccountToken).not.toBe(false);
    const bindings = findAll(objs, 'ClusterRoleBinding').filter((b) => b.subjects.some((s: any) => s.kind === 'ServiceAccount' && s.name === sa.metadata.name && s.namespace === sa.metadata.namespace));
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.roleRef).toMatchObject({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole' });
    const role = find(objs, 'ClusterRole', bindings[0]!.roleRef.name);
    const allowed = (group: string, resource: string, verb: string) =>
      role.rules.some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const [group, resource] of [
      ['', 'pods'],
      ['', 'services'],
      ['', 'nodes'],
      ['discovery.k8s.io', 'endpointslices'],
    ] as const) {
      for (const verb of ['list', 'watch']) expect(allowed(group, resource, verb), `${verb} ${resource}`).toBe(true);
    }
    // Read-only, and nothing beyond what enrichment needs.
    for (const r of role.rules) {
      expect(r.verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v)), 'write verbs').toEqual([]);
      expect(r.resources).not.toContain('secrets');
      expect(r.resources).not.toContain('*');
    }
  });

  it('carries Prometheus scrape annotations for the HTTP port', () => {
    const d = analyzer(base());
    const a = d.spec.template.metadata.annotations;
    expect(a['prometheus.io/scrape']).toBe('true');
    expect(Number(a['prometheus.io/port'])).toBe(containerPort(analyzerContainer(base()), 'http').containerPort);
    expect(a['prometheus.io/path']).toMatch(/^\/prometheus\/metrics\/ALL\/ALL\/txt$/);
  });
});

describe('the Host sFlow agents (host-sflow.yaml)', () => {
  const agents = () => find(base(), 'DaemonSet', 'host-sflow');
  const agent = () => podSpec(agents()).containers[0];

  it('run sflow/host-sflow on the host network of every node', () => {
    const pod = podSpec(agents());
    expect(agent().image).toMatch(/^(docker\.io\/)?sflow\/host-sflow(:|@)/);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy, 'resolve the collector Service name from the host network').toBe('ClusterFirstWithHostNet');
    expect(pod.tolerations).toContainEqual({ operator: 'Exists' });
  });

  it('send to the analyzer’s sFlow Service with sampling, host networking and drop monitoring on', () => {
    const objs = base();
    const env = literalEnv(agent());
    const svc = sflowService(objs);
    expect(env.COLLECTOR).toBe(svc.metadata.name);
    expect(agents().metadata.namespace, 'short Service names resolve within the namespace').toBe(svc.metadata.namespace);
    expect(Number(env.PORT ?? '6343')).toBe(svc.spec.ports[0].port);
    expect(env.SAMPLING).toMatch(/^[1-9]\d*$/);
    expect(env.NET).toBe('host');
    expect(env.DROPMON).toBe('enable');
  });

  it('mount the container runtime socket read-only', () => {
    const pod = podSpec(agents());
    const mounts = agent().volumeMounts.filter((m: any) => RUNTIME_SOCKETS.includes(m.mountPath));
    expect(mounts).toHaveLength(1);
    expect(mounts[0].readOnly).toBe(true);
    const vol = pod.volumes.find((v: any) => v.name === mounts[0].name);
    expect(vol.hostPath.type, 'fail visibly where the socket is missing (never create it)').toBe('Socket');
    expect(RUNTIME_SOCKETS).toContain(vol.hostPath.path);
  });
});

describe('overlays', () => {
  const overlay = (name: string) => kustomize(join(OVERLAYS_DIR, name)).objects;

  it('demo: the simulator, from the analyzer’s image, sends to the sFlow Service; no real agents', () => {
    const objs = overlay('demo');
    expect(findAll(objs, 'DaemonSet')).toEqual([]);
    const sim = find(objs, 'Deployment', 'sflowscope-sim');
    const c = podSpec(sim).containers[0];
    expect(c.image).toBe(analyzerContainer(objs).image);
    const argv: string[] = [...c.command, ...c.args];
    expect(argv.slice(0, 3)).toEqual(['node', 'dist/cli/main.js', 'sim']);
    const svc = sflowService(objs);
    expect(argv[argv.indexOf('--to') + 1]).toBe(`${svc.metadata.name}:${svc.spec.ports[0].port}`);
    expect(sim.metadata.namespace).toBe(svc.metadata.namespace);
    expect(podSpec(sim).securityContext.runAsNonRoot).toBe(true);
  });

  it('prometheus: a Prometheus server whose scrape config targets the API Service', () => {
    const objs = overlay('prometheus');
    const prom = find(objs, 'Deployment', 'prometheus');
    const cms = findAll(objs, 'ConfigMap').filter((c) => c.metadata.name.startsWith('prometheus-config'));
    expect(cms).toHaveLength(1);
    const mounted = podSpec(prom).volumes.find((v: any) => v.configMap)?.configMap.name;
    expect(mounted, 'the Deployment mounts the generated ConfigMap').toBe(cms[0]!.metadata.name);
    expect(podSpec(prom).containers[0].image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    const cfg = parseAllDocuments(cms[0]!.data['prometheus.yml'])[0]!.toJS() as { scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[] };
    const api = servicesSelecting(objs, analyzer(objs)).find((s) => s.spec.type === 'LoadBalancer')!;
    const target = `${api.metadata.name}.${api.metadata.namespace}.svc:${api.spec.ports[0].port}`;
    const paths = cfg.scrape_configs.map((j) => j.metrics_path).sort();
    expect(paths).toEqual(['/prometheus/analyzer/txt', '/prometheus/metrics/ALL/ALL/txt']);
    for (const j of cfg.scrape_configs) expect(j.static_configs.flatMap((s) => s.targets)).toEqual([target]);
  });

  it('prometheus: promtool accepts the scrape config', (ctx) => {
    const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      ctx.skip('promtool not installed (Debian package `prometheus`; .ci/run installs it)');
      return;
    }
    const r = spawnSync('promtool', ['check', 'config', '--syntax-only', join(OVERLAYS_DIR, 'prometheus', 'prometheus.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('docker: the agents use the Docker Engine socket instead', () => {
    const ds = find(overlay('docker'), 'DaemonSet', 'host-sflow');
    const c = podSpec(ds).containers[0];
    const m = c.volumeMounts.find((x: any) => RUNTIME_SOCKETS.includes(x.mountPath));
    expect(m).toMatchObject({ mountPath: '/var/run/docker.sock', readOnly: true });
    expect(podSpec(ds).volumes.find((v: any) => v.name === m.name).hostPath).toEqual({ path: '/var/run/docker.sock', type: 'Socket' });
  });

  it('gpu: NVML agents on GPU nodes, the stock agents everywhere else', () => {
    const objs = overlay('gpu');
    const gpu = find(objs, 'DaemonSet', 'host-sflow-gpu');
    const stock = find(objs, 'DaemonSet', 'host-sflow');
    const label = 'nvidia.com/gpu.present';
    expect(podSpec(gpu).nodeSelector).toEqual({ [label]: 'true' });
    expect(podSpec(stock).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: label, operator: 'NotIn', values: ['true'] }] },
    ]);
    const c = podSpec(gpu).containers[0];
    expect(c.image).not.toMatch(/^(docker\.io\/)?sflow\/host-sflow[:@]/);
    const env = literalEnv(c);
    expect(env).toMatchObject({ COLLECTOR: literalEnv(podSpec(stock).containers[0]).COLLECTOR, NET: 'host', DROPMON: 'enable', NVIDIA_VISIBLE_DEVICES: 'all' });
    expect(env.NVIDIA_DRIVER_CAPABILITIES).toMatch(/utility/);
    expect(podSpec(gpu).hostNetwork).toBe(true);
  });
});
