// Names sFlow-RT derives from a virtual entity's host name (vir_host_name), as the Sunburst and
// Prometheus apps use them. Observed in sFlow-RT 3.1 answers (testdata/sflow-rt/README.md §3):
//   k8s_<container>_<pod>_<namespace>_<uid>_<attempt>   (dockershim; `POD` = the pause container)
//     → k8s_container = <container>, k8s_namespace = <namespace>,
//       k8s_name = <pod> without its controller suffix:
//       web-7d9f8c6b5-x2x7q → web (Deployment), ingest-28f6d → ingest (DaemonSet/Job), trainer-0 → trainer-0
// hsflowd's k8s module (containerd) names a pod `k8s__<pod>_<namespace>_<uid>_<attempt>` (empty
// container part): no k8s_container then. Our additions, from the same name (sFlow-RT does not
// emit these for plain containers):
//   <service>.<slot>.<25-char task id>      → swarm_name = <service>       (Docker Swarm task)
//   <unit>.service | .scope | .slice ...    → systemd_service = <unit>.<type> (hsflowd systemd module)
//   any other Docker-style name             → docker_name = the name

export interface VirtualNames {
  k8s_container?: string;
  k8s_name?: string;
  k8s_namespace?: string;
  swarm_name?: string;
  systemd_service?: string;
  docker_name?: string;
}

/** Characters Kubernetes uses for generated name suffixes (k8s.io/apimachinery rand.SafeEncodeString). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const DEPLOYMENT_POD = new RegExp(`^(.+)-(?:${SAFE}{5,10}|[0-9]{8,})-${SAFE}{5}$`);
const GENERATED_POD = new RegExp(`^(.+)-${SAFE}{5}$`);
const SWARM_TASK = /^(.+)\.(\d+)\.([a-z0-9]{25})$/;
const SYSTEMD_UNIT = /^[^/\s]+\.(service|scope|slice|socket|mount|swap|target|timer|path|device)$/;
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The workload name of a pod: the pod name without the suffixes its controller generated. */
export function podWorkloadName(pod: string): string {
  let m = DEPLOYMENT_POD.exec(pod);
  if (m) return m[1]!;
  m = GENERATED_POD.exec(pod);
  if (m) return m[1]!;
  return pod;
}

/** Parse a vir_host_name. Returns null when no derived name applies. */
export function parseVirtualHostName(name: string): VirtualNames | null {
  if (name.startsWith('k8s_')) {
    const f = name.split('_');
    // k8s, container, pod, namespace, uid, attempt — pod, namespace and container cannot hold '_'.
    if (f.length >= 4 && f[2] !== '' && f[3] !== '') {
      const out: VirtualNames = { k8s_name: podWorkloadName(f[2]!), k8s_namespace: f[3]! };
      if (f[1] !== '') out.k8s_container = f[1]!;
      return out;
    }
  }
  const swarm = SWARM_TASK.exec(name);
  if (swarm) return { swarm_name: swarm[1]! };
  if (SYSTEMD_UNIT.test(name)) return { systemd_service: name };
  if (DOCKER_NAME.test(name)) return { docker_name: name };
  return null;
}
