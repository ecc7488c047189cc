// Names for addresses: reverse DNS (`dns:` keys) and Kubernetes identities (`k8s:` keys).
// See docs/enrichment.md. Hot-path calls: DnsNames.name, KubernetesIndex.lookup / attribute /
// attributeGetter, Enrichment.dnsName — synchronous cache reads; everything else runs off it.

export { DnsNames, DNS_DEFAULTS, type DnsNamesConfig, type DnsNamesDeps, type DnsCounters, type DnsTransportKind } from './dns.js';
export type { PtrTransport, PtrResult, TransportOptions } from './dns/transport.js';
export { reverseName, canonicalAddress } from './dns/reverse.js';
export {
  KubernetesIndex,
  K8S_DEFAULTS,
  K8S_ATTRIBUTES,
  type K8sAttribute,
  type K8sIdentity,
  type K8sKind,
  type KubernetesIndexConfig,
  type KubernetesIndexDeps,
  type KubernetesStatus,
} from './k8s/kubernetes-index.js';
export type { ResourceStatus } from './k8s/reflector.js';
export type { ResourceKind } from './k8s/records.js';
export { inClusterConnection, kubeconfigConnection, defaultKubeconfigPath, KubeConfigError, type KubeConnection } from './k8s/connection.js';
export {
  createEnrichment,
  dnsNameFunction,
  enrichmentConfig,
  enrichmentConfigFromEnv,
  parseDurationMs,
  ENRICHMENT_OPTIONS,
  DEFAULT_ENRICHMENT_CONFIG,
  EnrichmentConfigError,
  type Enrichment,
  type EnrichmentConfig,
  type EnrichmentDeps,
  type EnrichmentOptionDef,
  type EnrichmentStatus,
  type K8sMode,
} from './enrichment.js';
export type { EnrichLog } from './log.js';
