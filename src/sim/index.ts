// Public surface of the cluster simulator (`sflowscope sim`, `serve --demo`).
//
//   const sim = new ClusterSimulator({ nodes: 180, seed: 1, rate: 1000, startTimeMs: Date.now() });
//   sim.advance(Date.now(), (d) => socket.send(d.bytes));      // or sim.collect(untilMs)
//
//   const demo = await startDemoTraffic({ collectorPort: 6343 }); // simulator + UDP + DNS responder
//   resolver.setServers([demo.dnsServer!]);                       // names for pods/services/nodes
//   ...
//   await demo.stop();
export { ClusterSimulator, DEFAULT_SIMULATOR_OPTIONS } from './simulator.js';
export type { SimulatorOptions, ResolvedSimulatorOptions, SimDatagram, SimStats } from './simulator.js';
export { buildCluster, GPU_MODELS, RESEARCH_GROUPS, MAX_NODES } from './topology.js';
export type { ClusterModel, SimNode, SimPod, SimService, SimGpu, NodeRole, PodRole } from './topology.js';
export { DnsResponder, clusterDnsResponder, reverseNameToIPv4 } from './dns-responder.js';
export type { DnsResponderOptions, DnsResponderStats } from './dns-responder.js';
export { PcapWriter, PcapFileWriter, LINKTYPE_ETHERNET, LINKTYPE_RAW } from './pcap-writer.js';
export type { PcapWriterOptions, UdpEndpoint } from './pcap-writer.js';
export { UdpSender } from './udp-sender.js';
export type { UdpSenderOptions, UdpSenderStats } from './udp-sender.js';
export { startDemoTraffic, DEMO_DEFAULTS } from './demo.js';
export { writeSimulationPcap } from './capture.js';
export type { SimulationCaptureOptions, SimulationCaptureResult } from './capture.js';
export type { DemoTraffic, DemoTrafficOptions } from './demo.js';
