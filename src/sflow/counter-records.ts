// Counter records (opaque counter_data), as catalogued in ../shared/reference/sflow-structures.md §6.
// Counters wrap at their width; deltas are the metrics engine's job.

import { array, f32, fixed, i32, mac, nested, optional, str, struct, u32, u64, type Fields, type Infer } from './schema.js';
import { recordDef } from './flow-records.js';

/** N consecutive u32 counters, named in wire order. */
function u32s<const N extends readonly string[]>(...names: N): { [K in N[number]]: typeof u32 } {
  const out: Record<string, typeof u32> = {};
  for (const n of names) out[n] = u32;
  return out as { [K in N[number]]: typeof u32 };
}

const netIOFields = {
  bytesIn: u64,
  pktsIn: u32,
  errsIn: u32,
  dropsIn: u32,
  bytesOut: u64,
  pktsOut: u32,
  errsOut: u32,
  dropsOut: u32,
};

const sfpLane = struct('sfp_lane', {
  laneIndex: u32,
  txBiasCurrent: u32,
  txPower: u32,
  txPowerMin: u32,
  txPowerMax: u32,
  txWavelength: u32,
  rxPower: u32,
  rxPowerMin: u32,
  rxPowerMax: u32,
  rxWavelength: u32,
});

const hostAdapter = struct('host_adapter', { ifIndex: u32, macs: array(mac) });

export const counterRecordDefs = {
  /** V5: if_counters (0:1) */
  if_counters: recordDef('if_counters', 0, 1, {
    ifIndex: u32,
    ifType: u32,
    ifSpeed: u64,
    ifDirection: u32,
    ifStatus: u32,
    ifInOctets: u64,
    ...u32s('ifInUcastPkts', 'ifInMulticastPkts', 'ifInBroadcastPkts', 'ifInDiscards', 'ifInErrors', 'ifInUnknownProtos'),
    ifOutOctets: u64,
    ...u32s('ifOutUcastPkts', 'ifOutMulticastPkts', 'ifOutBroadcastPkts', 'ifOutDiscards', 'ifOutErrors', 'ifPromiscuousMode'),
  }),
  /** V5: ethernet_counters (0:2) */
  ethernet_counters: recordDef(
    'ethernet_counters',
    0,
    2,
    u32s(
      'dot3StatsAlignmentErrors',
      'dot3StatsFCSErrors',
      'dot3StatsSingleCollisionFrames',
      'dot3StatsMultipleCollisionFrames',
      'dot3StatsSQETestErrors',
      'dot3StatsDeferredTransmissions',
      'dot3StatsLateCollisions',
      'dot3StatsExcessiveCollisions',
      'dot3StatsInternalMacTransmitErrors',
      'dot3StatsCarrierSenseErrors',
      'dot3StatsFrameTooLongs',
      'dot3StatsInternalMacReceiveErrors',
      'dot3StatsSymbolErrors',
    ),
  ),
  /** V5: tokenring_counters (0:3) */
  tokenring_counters: recordDef(
    'tokenring_counters',
    0,
    3,
    u32s(
      'dot5StatsLineErrors',
      'dot5StatsBurstErrors',
      'dot5StatsACErrors',
      'dot5StatsAbortTransErrors',
      'dot5StatsInternalErrors',
      'dot5StatsLostFrameErrors',
      'dot5StatsReceiveCongestions',
      'dot5StatsFrameCopiedErrors',
      'dot5StatsTokenErrors',
      'dot5StatsSoftErrors',
      'dot5StatsHardErrors',
      'dot5StatsSignalLoss',
      'dot5StatsTransmitBeacons',
      'dot5StatsRecoverys',
      'dot5StatsLobeWires',
      'dot5StatsRemoves',
      'dot5StatsSingles',
      'dot5StatsFreqErrors',
    ),
  ),
  /** V5: vg_counters (0:4) */
  vg_counters: recordDef('vg_counters', 0, 4, {
    dot12InHighPriorityFrames: u32,
    dot12InHighPriorityOctets: u64,
    dot12InNormPriorityFrames: u32,
    dot12InNormPriorityOctets: u64,
    ...u32s('dot12InIPMErrors', 'dot12InOversizeFrameErrors', 'dot12InDataErrors', 'dot12InNullAddressedFrames', 'dot12OutHighPriorityFrames'),
    dot12OutHighPriorityOctets: u64,
    dot12TransitionIntoTrainings: u32,
    dot12HCInHighPriorityOctets: u64,
    dot12HCInNormPriorityOctets: u64,
    dot12HCOutHighPriorityOctets: u64,
  }),
  /** V5: vlan_counters (0:5) */
  vlan_counters: recordDef('vlan_counters', 0, 5, {
    vlanId: u32,
    octets: u64,
    ...u32s('ucastPkts', 'multicastPkts', 'broadcastPkts', 'discards'),
  }),
  /** sflow_80211.txt: ieee80211_counters (0:6) */
  ieee80211_counters: recordDef(
    'ieee80211_counters',
    0,
    6,
    u32s(
      'dot11TransmittedFragmentCount',
      'dot11MulticastTransmittedFrameCount',
      'dot11FailedCount',
      'dot11RetryCount',
      'dot11MultipleRetryCount',
      'dot11FrameDuplicateCount',
      'dot11RTSSuccessCount',
      'dot11RTSFailureCount',
      'dot11ACKFailureCount',
      'dot11ReceivedFragmentCount',
      'dot11MulticastReceivedFrameCount',
      'dot11FCSErrorCount',
      'dot11TransmittedFrameCount',
      'dot11WEPUndecryptableCount',
      'dot11QoSDiscardedFragmentCount',
      'dot11AssociatedStationCount',
      'dot11QoSCFPollsReceivedCount',
      'dot11QoSCFPollsUnusedCount',
      'dot11QoSCFPollsUnusableCount',
      'dot11QoSCFPollsLostCount',
    ),
  ),
  /** sflow_lag.txt: lag_port_stats (0:7) */
  lag_port_stats: recordDef('lag_port_stats', 0, 7, {
    actorSystemID: mac,
    partnerSystemID: mac,
    attachedAggID: u32,
    portState: fixed(4),
    ...u32s(
      'LACPDUsRx',
      'MarkerPDUsRx',
      'MarkerResponsePDUsRx',
      'UnknownRx',
      'IllegalRx',
      'LACPDUsTx',
      'MarkerPDUsTx',
      'MarkerResponsePDUsTx',
    ),
  }),
  /** sflow_optics.txt: sfp (0:10) */
  sfp: recordDef('sfp', 0, 10, {
    moduleId: u32,
    moduleTotalLanes: u32,
    moduleSupplyVoltage: u32,
    moduleTemperature: i32,
    lanes: array(nested(sfpLane)),
  }),
  /** host-sflow/sflowtool: pfc (0:11) */
  pfc: recordDef('pfc', 0, 11, u32s('requests', 'indications', 'pauseDuration', 'stormDetected', 'stormRestored')),
  /** V5: processor (0:1001); percentages in hundredths */
  processor: recordDef('processor', 0, 1001, { cpu5s: i32, cpu1m: i32, cpu5m: i32, totalMemory: u64, freeMemory: u64 }),
  /** sflow_80211.txt: radio_utilization (0:1002) */
  radio_utilization: recordDef('radio_utilization', 0, 1002, u32s('elapsedTime', 'onChannelTime', 'onChannelBusyTime')),
  /** sflow_openflow.txt: of_port (0:1004) */
  of_port: recordDef('of_port', 0, 1004, { datapathId: u64, portNo: u32 }),
  /** sflow_openflow.txt: port_name (0:1005) */
  port_name: recordDef('port_name', 0, 1005, { name: str }),
  /** sflow_host.txt: host_descr (0:2000); uuid is 16 raw bytes, no length word */
  host_descr: recordDef('host_descr', 0, 2000, { hostname: str, uuid: fixed(16), machineType: u32, osName: u32, osRelease: str }),
  /** sflow_host.txt: host_adapters (0:2001) */
  host_adapters: recordDef('host_adapters', 0, 2001, { adapters: array(nested(hostAdapter)) }),
  /** sflow_host.txt: host_parent (0:2002) */
  host_parent: recordDef('host_parent', 0, 2002, { containerType: u32, containerIndex: u32 }),
  /** sflow_host.txt: host_cpu (0:2003); hsflowd appends steal/guest/guest_nice (80 bytes) */
  host_cpu: recordDef('host_cpu', 0, 2003, {
    loadOne: f32,
    loadFive: f32,
    loadFifteen: f32,
    ...u32s(
      'procRun',
      'procTotal',
      'cpuNum',
      'cpuSpeed',
      'uptime',
      'cpuUser',
      'cpuNice',
      'cpuSystem',
      'cpuIdle',
      'cpuWio',
      'cpuIntr',
      'cpuSintr',
      'interrupts',
      'contexts',
    ),
    cpuSteal: optional(u32),
    cpuGuest: optional(u32),
    cpuGuestNice: optional(u32),
  }),
  /** sflow_host.txt: host_memory (0:2004) */
  host_memory: recordDef('host_memory', 0, 2004, {
    memTotal: u64,
    memFree: u64,
    memShared: u64,
    memBuffers: u64,
    memCached: u64,
    swapTotal: u64,
    swapFree: u64,
    ...u32s('pageIn', 'pageOut', 'swapIn', 'swapOut'),
  }),
  /** sflow_host.txt: host_disk_io (0:2005) */
  host_disk_io: recordDef('host_disk_io', 0, 2005, {
    diskTotal: u64,
    diskFree: u64,
    partMaxUsed: i32,
    reads: u32,
    bytesRead: u64,
    readTime: u32,
    writes: u32,
    bytesWritten: u64,
    writeTime: u32,
  }),
  /** sflow_host.txt: host_net_io (0:2006) */
  host_net_io: recordDef('host_net_io', 0, 2006, netIOFields),
  /** sflow_host_ip.txt: mib2_ip_group (0:2007) */
  mib2_ip_group: recordDef(
    'mib2_ip_group',
    0,
    2007,
    u32s(
      'ipForwarding',
      'ipDefaultTTL',
      'ipInReceives',
      'ipInHdrErrors',
      'ipInAddrErrors',
      'ipForwDatagrams',
      'ipInUnknownProtos',
      'ipInDiscards',
      'ipInDelivers',
      'ipOutRequests',
      'ipOutDiscards',
      'ipOutNoRoutes',
      'ipReasmTimeout',
      'ipReasmReqds',
      'ipReasmOKs',
      'ipReasmFails',
      'ipFragOKs',
      'ipFragFails',
      'ipFragCreates',
    ),
  ),
  /** sflow_host_ip.txt: mib2_icmp_group (0:2008) */
  mib2_icmp_group: recordDef(
    'mib2_icmp_group',
    0,
    2008,
    u32s(
      'icmpInMsgs',
      'icmpInErrors',
      'icmpInDestUnreachs',
      'icmpInTimeExcds',
      'icmpInParamProbs',
      'icmpInSrcQuenchs',
      'icmpInRedirects',
      'icmpInEchos',
      'icmpInEchoReps',
      'icmpInTimestamps',
      'icmpInAddrMasks',
      'icmpInAddrMaskReps',
      'icmpOutMsgs',
      'icmpOutErrors',
      'icmpOutDestUnreachs',
      'icmpOutTimeExcds',
      'icmpOutParamProbs',
      'icmpOutSrcQuenchs',
      'icmpOutRedirects',
      'icmpOutEchos',
      'icmpOutEchoReps',
      'icmpOutTimestamps',
      'icmpOutTimestampReps',
      'icmpOutAddrMasks',
      'icmpOutAddrMaskReps',
    ),
  ),
  /** sflow_host_ip.txt: mib2_tcp_group (0:2009) */
  mib2_tcp_group: recordDef(
    'mib2_tcp_group',
    0,
    2009,
    u32s(
      'tcpRtoAlgorithm',
      'tcpRtoMin',
      'tcpRtoMax',
      'tcpMaxConn',
      'tcpActiveOpens',
      'tcpPassiveOpens',
      'tcpAttemptFails',
      'tcpEstabResets',
      'tcpCurrEstab',
      'tcpInSegs',
      'tcpOutSegs',
      'tcpRetransSegs',
      'tcpInErrs',
      'tcpOutRsts',
      'tcpInCsumErrors',
    ),
  ),
  /** sflow_host_ip.txt: mib2_udp_group (0:2010) */
  mib2_udp_group: recordDef(
    'mib2_udp_group',
    0,
    2010,
    u32s('udpInDatagrams', 'udpNoPorts', 'udpInErrors', 'udpOutDatagrams', 'udpRcvbufErrors', 'udpSndbufErrors', 'udpInCsumErrors'),
  ),
  /** sflow_host.txt: virt_node (0:2100) */
  virt_node: recordDef('virt_node', 0, 2100, { mhz: u32, cpus: u32, memory: u64, memoryFree: u64, numDomains: u32 }),
  /** sflow_host.txt: virt_cpu (0:2101); cpuTime in ms */
  virt_cpu: recordDef('virt_cpu', 0, 2101, { state: u32, cpuTime: u32, nrVirtCpu: u32 }),
  /** sflow_host.txt: virt_memory (0:2102) */
  virt_memory: recordDef('virt_memory', 0, 2102, { memory: u64, maxMemory: u64 }),
  /** sflow_host.txt: virt_disk_io (0:2103) */
  virt_disk_io: recordDef('virt_disk_io', 0, 2103, {
    capacity: u64,
    allocation: u64,
    available: u64,
    rdReq: u32,
    rdBytes: u64,
    wrReq: u32,
    wrBytes: u64,
    errs: u32,
  }),
  /** sflow_host.txt: virt_net_io (0:2104) */
  virt_net_io: recordDef('virt_net_io', 0, 2104, netIOFields),
  /** sflow_jvm.txt: jvm_runtime (0:2105) */
  jvm_runtime: recordDef('jvm_runtime', 0, 2105, { vmName: str, vmVendor: str, vmVersion: str }),
  /** sflow_jvm.txt: jvm_statistics (0:2106) */
  jvm_statistics: recordDef('jvm_statistics', 0, 2106, {
    heapInitial: u64,
    heapUsed: u64,
    heapCommitted: u64,
    heapMax: u64,
    nonHeapInitial: u64,
    nonHeapUsed: u64,
    nonHeapCommitted: u64,
    nonHeapMax: u64,
    ...u32s(
      'gcCount',
      'gcTime',
      'classesLoaded',
      'classesTotal',
      'classesUnloaded',
      'compilationTime',
      'threadNumLive',
      'threadNumDaemon',
      'threadNumStarted',
      'fdOpenCount',
      'fdMaxCount',
    ),
  }),
  /** sflow_http.txt: http_counters (0:2201) */
  http_counters: recordDef(
    'http_counters',
    0,
    2201,
    u32s(
      'methodOptionCount',
      'methodGetCount',
      'methodHeadCount',
      'methodPostCount',
      'methodPutCount',
      'methodDeleteCount',
      'methodTraceCount',
      'methodConnectCount',
      'methodOtherCount',
      'status1XXCount',
      'status2XXCount',
      'status3XXCount',
      'status4XXCount',
      'status5XXCount',
      'statusOtherCount',
    ),
  ),
  /** sflow_application.txt: app_operations (0:2202) */
  app_operations: recordDef('app_operations', 0, 2202, {
    application: str,
    ...u32s(
      'success',
      'other',
      'timeout',
      'internalError',
      'badRequest',
      'forbidden',
      'tooLarge',
      'notImplemented',
      'notFound',
      'unavailable',
      'unauthorized',
    ),
  }),
  /** sflow_application.txt: app_resources (0:2203) */
  app_resources: recordDef('app_resources', 0, 2203, {
    userTime: u32,
    systemTime: u32,
    memUsed: u64,
    memMax: u64,
    ...u32s('fdOpen', 'fdMax', 'connOpen', 'connMax'),
  }),
  /** sflow_memcache.txt: memcache_counters (0:2204) */
  memcache_counters: recordDef('memcache_counters', 0, 2204, {
    ...u32s(
      'cmdSet',
      'cmdTouch',
      'cmdFlush',
      'getHits',
      'getMisses',
      'deleteHits',
      'deleteMisses',
      'incrHits',
      'incrMisses',
      'decrHits',
      'decrMisses',
      'casHits',
      'casMisses',
      'casBadval',
      'authCmds',
      'authErrors',
      'threads',
      'connYields',
      'listenDisabledNum',
      'currConnections',
      'rejectedConnections',
      'totalConnections',
      'connectionStructures',
      'evictions',
      'reclaimed',
      'currItems',
      'totalItems',
    ),
    bytesRead: u64,
    bytesWritten: u64,
    bytes: u64,
    limitMaxbytes: u64,
  }),
  /** sflowtool: vdi_counters (0:2205) */
  vdi_counters: recordDef(
    'vdi_counters',
    0,
    2205,
    u32s(
      'sessionsCurrent',
      'sessionsTotal',
      'sessionsDuration',
      'rxBytes',
      'txBytes',
      'rxPackets',
      'txPackets',
      'rxPacketsLost',
      'txPacketsLost',
      'rttMinMs',
      'rttMaxMs',
      'rttAvgMs',
      'audioRxBytes',
      'audioTxBytes',
      'audioTxLimit',
      'imgRxBytes',
      'imgTxBytes',
      'imgFramesIn',
      'imgFramesOut',
      'usbRxBytes',
      'usbTxBytes',
      'usbTxLimit',
      'usbRxLimit',
      'mmRxBytes',
      'mmTxBytes',
      'mmRxPackets',
      'mmTxPackets',
    ),
  ),
  /** sflow_application.txt: app_workers (0:2206) */
  app_workers: recordDef('app_workers', 0, 2206, u32s('workersActive', 'workersIdle', 'workersMax', 'reqDelayed', 'reqDropped')),
  /** Open vSwitch: ovs_dp_stats (0:2207) */
  ovs_dp_stats: recordDef('ovs_dp_stats', 0, 2207, u32s('hit', 'missed', 'lost', 'maskHit', 'flows', 'masks')),
  /** sflow_broadcom_tables.txt: hw_tables (4413:3) */
  bcm_tables: recordDef(
    'bcm_tables',
    4413,
    3,
    u32s(
      'hostEntries',
      'hostEntriesMax',
      'ipv4Entries',
      'ipv4EntriesMax',
      'ipv6Entries',
      'ipv6EntriesMax',
      'ipv4Ipv6Entries',
      'ipv4Ipv6EntriesMax',
      'longIpv6Entries',
      'longIpv6EntriesMax',
      'totalRoutes',
      'totalRoutesMax',
      'ecmpNexthops',
      'ecmpNexthopsMax',
      'macEntries',
      'macEntriesMax',
      'ipv4Neighbors',
      'ipv6Neighbors',
      'ipv4Routes',
      'ipv6Routes',
      'aclIngressEntries',
      'aclIngressEntriesMax',
      'aclIngressCounters',
      'aclIngressCountersMax',
      'aclIngressMeters',
      'aclIngressMetersMax',
      'aclIngressSlices',
      'aclIngressSlicesMax',
      'aclEgressEntries',
      'aclEgressEntriesMax',
      'aclEgressCounters',
      'aclEgressCountersMax',
      'aclEgressMeters',
      'aclEgressMetersMax',
      'aclEgressSlices',
      'aclEgressSlicesMax',
    ),
  ),
  /** sflow_nvml.txt: nvidia_gpu (5703:1); energy in mJ (u32, wraps), times in ms */
  nvidia_gpu: recordDef('nvidia_gpu', 5703, 1, {
    deviceCount: u32,
    processes: u32,
    gpuTime: u32,
    memTime: u32,
    memTotal: u64,
    memFree: u64,
    eccErrors: u32,
    energy: u32,
    temperature: u32,
    fanSpeed: u32,
  }),
} as const;

type CounterDefs = typeof counterRecordDefs;
export type CounterRecordOf<K extends keyof CounterDefs> = { kind: K; tag: number; trailing?: Uint8Array } & Infer<
  CounterDefs[K]['struct']['fields']
>;
export type KnownCounterRecord = { [K in keyof CounterDefs]: CounterRecordOf<K> }[keyof CounterDefs];

export type IfCounters = CounterRecordOf<'if_counters'>;
export type HostDescr = CounterRecordOf<'host_descr'>;
export type HostCpu = CounterRecordOf<'host_cpu'>;
export type HostMemory = CounterRecordOf<'host_memory'>;
export type VirtCpu = CounterRecordOf<'virt_cpu'>;
export type NvidiaGpu = CounterRecordOf<'nvidia_gpu'>;

export type { Fields };
