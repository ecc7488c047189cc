// Discard reason codes of sampled dropped packets (sflow_drops.txt, sample 0:5 `reason`, and the
// "format 1" discard value of a flow sample's output interface), as catalogued in
// ../shared/reference/sflow-structures.md §7 and listed in sflowtool's src/sflow_drop.h.
//
// Codes 0-15 mirror the ICMP unreachable codes; 256-262 are the V5 discard codes; 263-288 come from
// Linux devlink traps; 289-303 were reserved for devlink reasons not yet upstream; 304 onwards are
// later additions (Linux SKB drop reasons among them). The list grows: unknown codes are normal.
//
// Names are sflowtool's, spelling included (code 12 is `dst_host_tos_unreacheable`): that is what
// `sflowtool -J` prints and what sFlow-RT reports. sflow_drop.h lists dev_hdr as 33 and tc_egress
// as 36 (apparent typos for 332 and 366, the gaps in the sequence): both numbers name them here,
// but sflowtool itself only knows 33 and 36 (see `sflowtoolDropReasonName`).

/** code → name, exactly as sflowtool's sflow_drop.h lists them (in its order). */
export const SFLOWTOOL_DROP_REASONS: ReadonlyMap<number, string> = new Map<number, string>([
  [0, 'net_unreachable'],
  [1, 'host_unreachable'],
  [2, 'protocol_unreachable'],
  [3, 'port_unreachable'],
  [4, 'frag_needed'],
  [5, 'src_route_failed'],
  [6, 'dst_net_unknown'],
  [7, 'dst_host_unknown'],
  [8, 'src_host_isolated'],
  [9, 'dst_net_prohibited'],
  [10, 'dst_host_prohibited'],
  [11, 'dst_net_tos_unreachable'],
  [12, 'dst_host_tos_unreacheable'],
  [13, 'comm_admin_prohibited'],
  [14, 'host_precedence_violation'],
  [15, 'precedence_cutoff'],
  [256, 'unknown'],
  [257, 'ttl_exceeded'],
  [258, 'acl'],
  [259, 'no_buffer_space'],
  [260, 'red'],
  [261, 'traffic_shaping'],
  [262, 'pkt_too_big'],
  [263, 'src_mac_is_multicast'],
  [264, 'vlan_tag_mismatch'],
  [265, 'ingress_vlan_filter'],
  [266, 'ingress_spanning_tree_filter'],
  [267, 'port_list_is_empty'],
  [268, 'port_loopback_filter'],
  [269, 'blackhole_route'],
  [270, 'non_ip'],
  [271, 'uc_dip_over_mc_dmac'],
  [272, 'dip_is_loopback_address'],
  [273, 'sip_is_mc'],
  [274, 'sip_is_loopback_address'],
  [275, 'ip_header_corrupted'],
  [276, 'ipv4_sip_is_limited_bc'],
  [277, 'ipv6_mc_dip_reserved_scope'],
  [278, 'ipv6_mc_dip_interface_local_scope'],
  [279, 'unresolved_neigh'],
  [280, 'mc_reverse_path_forwarding'],
  [281, 'non_routable_packet'],
  [282, 'decap_error'],
  [283, 'overlay_smac_is_mc'],
  [284, 'unknown_l2'],
  [285, 'unknown_l3'],
  [286, 'unknown_l3_exception'],
  [287, 'unknown_buffer'],
  [288, 'unknown_tunnel'],
  [289, 'unknown_l4'],
  [290, 'sip_is_unspecified'],
  [291, 'mlag_port_isolation'],
  [292, 'blackhole_arp_neigh'],
  [293, 'src_mac_is_dmac'],
  [294, 'dmac_is_reserved'],
  [295, 'sip_is_class_e'],
  [296, 'mc_dmac_mismatch'],
  [297, 'sip_is_dip'],
  [298, 'dip_is_local_network'],
  [299, 'dip_is_link_local'],
  [300, 'overlay_smac_is_dmac'],
  [301, 'egress_vlan_filter'],
  [302, 'uc_reverse_path_forwarding'],
  [303, 'split_horizon'],
  [304, 'locked_port'],
  [305, 'dmac_filter'],
  [306, 'blackhole_nexthop'],
  [307, 'vxlan_parsing'],
  [308, 'llc_snap_parsing'],
  [309, 'vlan_parsing'],
  [310, 'pppoe_ppp_parsing'],
  [311, 'mpls_parsing'],
  [312, 'arp_parsing'],
  [313, 'ip_1_parsing'],
  [314, 'ip_n_parsing'],
  [315, 'gre_parsing'],
  [316, 'udp_parsing'],
  [317, 'tcp_parsing'],
  [318, 'ipsec_parsing'],
  [319, 'sctp_parsing'],
  [320, 'dccp_parsing'],
  [321, 'gtp_parsing'],
  [322, 'esp_parsing'],
  [323, 'unknown_parsing'],
  [324, 'pkt_too_small'],
  [325, 'unhandled_proto'],
  [326, 'ipv6disabled'],
  [327, 'invalid_proto'],
  [328, 'ip_noproto'],
  [329, 'skb_csum'],
  [330, 'skb_ucopy_fault'],
  [331, 'dev_ready'],
  [33, 'dev_hdr'],
  [333, 'dup_frag'],
  [334, 'skb_gso_seg'],
  [335, 'reverse_path_forwarding'],
  [336, 'icmp_parsing'],
  [337, 'tcp_md5notfound'],
  [338, 'tcp_md5unexpected'],
  [339, 'tcp_md5failure'],
  [340, 'tcp_flags'],
  [341, 'tcp_zerowindow'],
  [342, 'tcp_old_data'],
  [343, 'tcp_overwindow'],
  [344, 'tcp_ofomerge'],
  [345, 'tcp_rfc7323_paws'],
  [346, 'tcp_invalid_sequence'],
  [347, 'tcp_reset'],
  [348, 'tcp_invalid_syn'],
  [349, 'tcp_close'],
  [350, 'tcp_fastopen'],
  [351, 'tcp_old_ack'],
  [352, 'tcp_too_old_ack'],
  [353, 'tcp_ack_unsent_data'],
  [354, 'tcp_ofo_queue_prune'],
  [355, 'tcp_ofo_drop'],
  [356, 'tcp_minttl'],
  [357, 'ipv6_bad_exthdr'],
  [358, 'ipv6_ndisc_frag'],
  [359, 'ipv6_ndisc_hop_limit'],
  [360, 'ipv6_ndisc_bad_code'],
  [361, 'ipv6_ndisc_bad_options'],
  [362, 'ipv6_ndisc_ns_otherhost'],
  [363, 'tap_filter'],
  [364, 'tap_txfilter'],
  [365, 'tc_ingress'],
  [36, 'tc_egress'],
  [367, 'xdp'],
  [368, 'cpu_backlog'],
  [369, 'bpf_cgroup_egress'],
  [370, 'xfrm_policy'],
  [371, 'socket_filter'],
]);

/** Codes beyond sflowtool's list: the corrected numbers of its two typos, and host-sflow's newest code. */
const EXTRA_DROP_REASONS: ReadonlyMap<number, string> = new Map<number, string>([
  [332, 'dev_hdr'],
  [366, 'tc_egress'],
  [372, 'bgp_flowspec'],
]);

/**
 * Name of a discard reason code, or undefined for a code no list knows (agents may send newer
 * codes: report the number). Knows every sflowtool code, plus 332 (dev_hdr) and 366 (tc_egress),
 * which fixed agents send for the codes sflow_drop.h misnumbers as 33 and 36, and 372
 * (bgp_flowspec, host-sflow only).
 */
export function dropReasonName(code: number): string | undefined {
  return SFLOWTOOL_DROP_REASONS.get(code) ?? EXTRA_DROP_REASONS.get(code);
}

/** The name sflowtool prints for a code (its own list only: 332, 366 and 372 are unknown to it). */
export function sflowtoolDropReasonName(code: number): string | undefined {
  return SFLOWTOOL_DROP_REASONS.get(code);
}

/** Every known name → code (the corrected numbers win for dev_hdr and tc_egress). */
export function dropReasonCode(name: string): number | undefined {
  return REVERSE.get(name);
}

const REVERSE: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [code, name] of SFLOWTOOL_DROP_REASONS) if (!m.has(name)) m.set(name, code);
  for (const [code, name] of EXTRA_DROP_REASONS) m.set(name, code);
  return m;
})();
