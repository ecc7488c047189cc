// Flow records (opaque flow_data), as catalogued in ../shared/reference/sflow-structures.md §5.
// Each entry is `name: flowRecord(enterprise, format, fields)`; spec document in the comment.
// The same numbering is used inside flow samples (0:1, 0:3) and discarded packets (0:5).

import {
  address,
  array,
  lazy,
  mac,
  nested,
  opaque,
  str,
  struct,
  u32,
  u64,
  ipv4,
  ipv6,
  type Fields,
  type FieldType,
  type Infer,
  type Struct,
} from './schema.js';
import { tagOf } from './tags.js';

export interface RecordDef<F extends Fields = Fields> {
  readonly enterprise: number;
  readonly format: number;
  readonly tag: number;
  readonly name: string;
  readonly struct: Struct<F>;
}

export function recordDef<F extends Fields>(name: string, enterprise: number, format: number, fields: F): RecordDef<F> {
  const tag = tagOf(enterprise, format);
  return { enterprise, format, tag, name, struct: struct(name, fields, { kind: name, tag }) };
}

// Shared bodies, reused by the tunnel records (sflow_tunnels.txt) and 802.11 payload.
const sampledHeaderFields = { headerProtocol: u32, frameLength: u32, stripped: u32, header: opaque };
const sampledEthernetFields = { length: u32, srcMac: mac, dstMac: mac, type: u32 };
const sampledIPv4Fields = {
  length: u32,
  protocol: u32,
  srcIP: ipv4,
  dstIP: ipv4,
  srcPort: u32,
  dstPort: u32,
  tcpFlags: u32,
  tos: u32,
};
const sampledIPv6Fields = {
  length: u32,
  protocol: u32,
  srcIP: ipv6,
  dstIP: ipv6,
  srcPort: u32,
  dstPort: u32,
  tcpFlags: u32,
  priority: u32,
};
const socketIPv4Fields = { protocol: u32, localIP: ipv4, remoteIP: ipv4, localPort: u32, remotePort: u32 };
const socketIPv6Fields = { protocol: u32, localIP: ipv6, remoteIP: ipv6, localPort: u32, remotePort: u32 };

const asPathSegment = struct('as_path_segment', { type: u32, asns: array(u32) });

const httpRequestFields = {
  method: u32,
  protocol: u32,
  uri: str,
  host: str,
  referer: str,
  userAgent: str,
  authUser: str,
  mimeType: str,
  respBytes: u64,
  durationUs: u32,
  status: u32,
};

// Resolved lazily: flow 1016 nests whole flow records.
const nestedFlowRecords: FieldType<unknown[]> = lazy(() => flowRecordList);
let flowRecordList: FieldType<unknown[]>;
export function setFlowRecordListType(t: FieldType<unknown[]>): void {
  flowRecordList = t;
}

export const flowRecordDefs = {
  /** V5: sampled_header (0:1) */
  sampled_header: recordDef('sampled_header', 0, 1, sampledHeaderFields),
  /** V5: sampled_ethernet (0:2) */
  sampled_ethernet: recordDef('sampled_ethernet', 0, 2, sampledEthernetFields),
  /** V5: sampled_ipv4 (0:3) */
  sampled_ipv4: recordDef('sampled_ipv4', 0, 3, sampledIPv4Fields),
  /** V5: sampled_ipv6 (0:4) */
  sampled_ipv6: recordDef('sampled_ipv6', 0, 4, sampledIPv6Fields),
  /** V5 + ERRATA: extended_switch (0:1001); 0xffffffff = unknown */
  extended_switch: recordDef('extended_switch', 0, 1001, { srcVlan: u32, srcPriority: u32, dstVlan: u32, dstPriority: u32 }),
  /** V5: extended_router (0:1002) */
  extended_router: recordDef('extended_router', 0, 1002, { nextHop: address, srcMaskLen: u32, dstMaskLen: u32 }),
  /** V5: extended_gateway (0:1003) */
  extended_gateway: recordDef('extended_gateway', 0, 1003, {
    nextHop: address,
    as: u32,
    srcAs: u32,
    srcPeerAs: u32,
    dstAsPath: array(nested(asPathSegment)),
    communities: array(u32),
    localPref: u32,
  }),
  /** V5: extended_user (0:1004) */
  extended_user: recordDef('extended_user', 0, 1004, { srcCharset: u32, srcUser: str, dstCharset: u32, dstUser: str }),
  /** V5: extended_url (0:1005, deprecated) */
  extended_url: recordDef('extended_url', 0, 1005, { direction: u32, url: str, host: str }),
  /** V5: extended_mpls (0:1006) */
  extended_mpls: recordDef('extended_mpls', 0, 1006, { nextHop: address, inStack: array(u32), outStack: array(u32) }),
  /** V5: extended_nat (0:1007) */
  extended_nat: recordDef('extended_nat', 0, 1007, { srcAddress: address, dstAddress: address }),
  /** V5: extended_mpls_tunnel (0:1008) */
  extended_mpls_tunnel: recordDef('extended_mpls_tunnel', 0, 1008, { tunnelLspName: str, tunnelId: u32, tunnelCos: u32 }),
  /** V5: extended_mpls_vc (0:1009) */
  extended_mpls_vc: recordDef('extended_mpls_vc', 0, 1009, { vcInstanceName: str, vllVcId: u32, vcLabelCos: u32 }),
  /** V5: extended_mpls_FTN (0:1010) */
  extended_mpls_ftn: recordDef('extended_mpls_ftn', 0, 1010, { mplsFTNDescr: str, mplsFTNMask: u32 }),
  /** V5: extended_mpls_LDP_FEC (0:1011) */
  extended_mpls_ldp_fec: recordDef('extended_mpls_ldp_fec', 0, 1011, { mplsFecAddrPrefixLength: u32 }),
  /** V5: extended_vlantunnel (0:1012): TPID<<16 | TCI of stripped outer tags, outermost first */
  extended_vlantunnel: recordDef('extended_vlantunnel', 0, 1012, { stack: array(u32) }),
  /** sflow_80211.txt: extended_80211_payload (0:1013) */
  extended_80211_payload: recordDef('extended_80211_payload', 0, 1013, {
    cipherSuite: u32,
    payload: nested(struct('sampled_header_body', sampledHeaderFields)),
  }),
  /** sflow_80211.txt: extended_80211_rx (0:1014) */
  extended_80211_rx: recordDef('extended_80211_rx', 0, 1014, {
    ssid: str,
    bssid: mac,
    version: u32,
    channel: u32,
    speed: u64,
    rsni: u32,
    rcpi: u32,
    packetDurationUs: u32,
  }),
  /** sflow_80211.txt: extended_80211_tx (0:1015) */
  extended_80211_tx: recordDef('extended_80211_tx', 0, 1015, {
    ssid: str,
    bssid: mac,
    version: u32,
    transmissions: u32,
    packetDurationUs: u32,
    retransDurationUs: u32,
    channel: u32,
    speed: u64,
    powerMw: u32,
  }),
  /** sflow_80211.txt: extended_80211_aggregation (0:1016): each PDU is a list of flow records */
  extended_80211_aggregation: recordDef('extended_80211_aggregation', 0, 1016, { pdus: array(nestedFlowRecords) }),
  /** "Port NAT" (sflowtool): extended_nat_port (0:1020) */
  extended_nat_port: recordDef('extended_nat_port', 0, 1020, { srcPort: u32, dstPort: u32 }),
  /** sflow_tunnels.txt: extended_L2_tunnel_egress (0:1021): outer Ethernet header */
  extended_l2_tunnel_egress: recordDef('extended_l2_tunnel_egress', 0, 1021, sampledEthernetFields),
  /** sflow_tunnels.txt: extended_L2_tunnel_ingress (0:1022) */
  extended_l2_tunnel_ingress: recordDef('extended_l2_tunnel_ingress', 0, 1022, sampledEthernetFields),
  /** sflow_tunnels.txt: extended_ipv4_tunnel_egress (0:1023): outer IPv4 header */
  extended_ipv4_tunnel_egress: recordDef('extended_ipv4_tunnel_egress', 0, 1023, sampledIPv4Fields),
  /** sflow_tunnels.txt: extended_ipv4_tunnel_ingress (0:1024) */
  extended_ipv4_tunnel_ingress: recordDef('extended_ipv4_tunnel_ingress', 0, 1024, sampledIPv4Fields),
  /** sflow_tunnels.txt: extended_ipv6_tunnel_egress (0:1025) */
  extended_ipv6_tunnel_egress: recordDef('extended_ipv6_tunnel_egress', 0, 1025, sampledIPv6Fields),
  /** sflow_tunnels.txt: extended_ipv6_tunnel_ingress (0:1026) */
  extended_ipv6_tunnel_ingress: recordDef('extended_ipv6_tunnel_ingress', 0, 1026, sampledIPv6Fields),
  /** sflow_tunnels.txt: extended_decapsulate_egress (0:1027) */
  extended_decapsulate_egress: recordDef('extended_decapsulate_egress', 0, 1027, { innerHeaderOffset: u32 }),
  /** sflow_tunnels.txt: extended_decapsulate_ingress (0:1028) */
  extended_decapsulate_ingress: recordDef('extended_decapsulate_ingress', 0, 1028, { innerHeaderOffset: u32 }),
  /** sflow_tunnels.txt: extended_vni_egress (0:1029) */
  extended_vni_egress: recordDef('extended_vni_egress', 0, 1029, { vni: u32 }),
  /** sflow_tunnels.txt: extended_vni_ingress (0:1030) */
  extended_vni_ingress: recordDef('extended_vni_ingress', 0, 1030, { vni: u32 }),
  /** sflow_drops.txt: extended_egress_queue (0:1036) */
  extended_egress_queue: recordDef('extended_egress_queue', 0, 1036, { queue: u32 }),
  /** sflow_drops.txt: extended_acl (0:1037); direction 0 unknown, 1 ingress, 2 egress */
  extended_acl: recordDef('extended_acl', 0, 1037, { number: u32, name: str, direction: u32 }),
  /** sflow_drops.txt: extended_function (0:1038): symbol of the software drop point */
  extended_function: recordDef('extended_function', 0, 1038, { symbol: str }),
  /** sflow_transit.txt: extended_transit (0:1039): delay in ns */
  extended_transit: recordDef('extended_transit', 0, 1039, { delay: u32 }),
  /** sflow_transit.txt: extended_queue (0:1040): depth in bytes */
  extended_queue: recordDef('extended_queue', 0, 1040, { depth: u32 }),
  /** host-sflow: extended_hw_trap (0:1041): devlink trap group and name */
  extended_hw_trap: recordDef('extended_hw_trap', 0, 1041, { group: str, trap: str }),
  /** host-sflow: extended_linux_drop_reason (0:1042): SKB_DROP_REASON_* name */
  extended_linux_drop_reason: recordDef('extended_linux_drop_reason', 0, 1042, { reason: str }),
  /** host-sflow: extended_timestamp (0:1043): ns since the Unix epoch */
  extended_timestamp: recordDef('extended_timestamp', 0, 1043, { nanoseconds: u64 }),
  /** sflow_host.txt: extended_socket_ipv4 (0:2100) */
  extended_socket_ipv4: recordDef('extended_socket_ipv4', 0, 2100, socketIPv4Fields),
  /** sflow_host.txt: extended_socket_ipv6 (0:2101) */
  extended_socket_ipv6: recordDef('extended_socket_ipv6', 0, 2101, socketIPv6Fields),
  /** sflow_http.txt: extended_proxy_socket_ipv4 (0:2102) */
  extended_proxy_socket_ipv4: recordDef('extended_proxy_socket_ipv4', 0, 2102, socketIPv4Fields),
  /** sflow_http.txt: extended_proxy_socket_ipv6 (0:2103) */
  extended_proxy_socket_ipv6: recordDef('extended_proxy_socket_ipv6', 0, 2103, socketIPv6Fields),
  /** sflow_memcache.txt: memcache_operation (0:2200) */
  memcache_operation: recordDef('memcache_operation', 0, 2200, {
    protocol: u32,
    cmd: u32,
    key: str,
    nkeys: u32,
    valueBytes: u32,
    durationUs: u32,
    status: u32,
  }),
  /** registry/sflowtool: http_request (0:2201, deprecated layout) */
  http_request_v1: recordDef('http_request_v1', 0, 2201, httpRequestFields),
  /** sflow_application.txt: app_operation (0:2202) */
  app_operation: recordDef('app_operation', 0, 2202, {
    application: str,
    operation: str,
    attributes: str,
    statusDescr: str,
    reqBytes: u64,
    respBytes: u64,
    durationUs: u32,
    status: u32,
  }),
  /** sflow_application.txt: app_parent_context (0:2203) */
  app_parent_context: recordDef('app_parent_context', 0, 2203, { application: str, operation: str, attributes: str }),
  /** sflow_application.txt: app_initiator (0:2204) */
  app_initiator: recordDef('app_initiator', 0, 2204, { actor: str }),
  /** sflow_application.txt: app_target (0:2205) */
  app_target: recordDef('app_target', 0, 2205, { actor: str }),
  /** sflow_http.txt: http_request (0:2206) */
  http_request: recordDef('http_request', 0, 2206, {
    method: u32,
    protocol: u32,
    uri: str,
    host: str,
    referer: str,
    userAgent: str,
    xff: str,
    authUser: str,
    mimeType: str,
    reqBytes: u64,
    respBytes: u64,
    durationUs: u32,
    status: u32,
  }),
  /** sflow_http.txt: extended_proxy_request (0:2207) */
  extended_proxy_request: recordDef('extended_proxy_request', 0, 2207, { uri: str, host: str }),
  /** host-sflow "TCP performance": extended_tcp_info (0:2209) */
  extended_tcp_info: recordDef('extended_tcp_info', 0, 2209, {
    dirn: u32,
    sndMss: u32,
    rcvMss: u32,
    unacked: u32,
    lost: u32,
    retrans: u32,
    pmtu: u32,
    rtt: u32,
    rttvar: u32,
    sndCwnd: u32,
    reordering: u32,
    minRtt: u32,
  }),
  /** host-sflow "Systemd traffic marking": extended_entities (0:2210) */
  extended_entities: recordDef('extended_entities', 0, 2210, {
    srcDsClass: u32,
    srcDsIndex: u32,
    dstDsClass: u32,
    dstDsIndex: u32,
  }),
  /** sflow_broadcom_buffers.txt: bst_egress_queue (4413:1) */
  bst_egress_queue: recordDef('bst_egress_queue', 4413, 1, { queue: u32 }),
} as const;

type FlowDefs = typeof flowRecordDefs;
export type FlowRecordOf<K extends keyof FlowDefs> = { kind: K; tag: number; trailing?: Uint8Array } & Omit<
  Infer<FlowDefs[K]['struct']['fields']>,
  'kind' | 'tag'
>;
export type KnownFlowRecord = { [K in keyof FlowDefs]: FlowRecordOf<K> }[keyof FlowDefs];

export type SampledHeader = FlowRecordOf<'sampled_header'>;
export type SampledEthernet = FlowRecordOf<'sampled_ethernet'>;
export type SampledIPv4 = FlowRecordOf<'sampled_ipv4'>;
export type SampledIPv6 = FlowRecordOf<'sampled_ipv6'>;
export type ExtendedSwitch = FlowRecordOf<'extended_switch'>;
export type ExtendedTimestamp = FlowRecordOf<'extended_timestamp'>;
export type ExtendedEntities = FlowRecordOf<'extended_entities'>;
