// Protocol tokens of the `stack` flow key and an interning trie that turns a token sequence into
// its dotted string without allocating once a path has been seen.

/** Stack tokens, outermost first in a stack. Names are sFlow-RT's where sFlow-RT has one. */
export const TOKENS = [
  'eth', // 0  Ethernet II / 802.3
  'q', // 1  802.1Q / 802.1ad tag (one token per tag)
  'mpls', // 2  MPLS label stack (one token for the whole stack)  [our name]
  'arp', // 3
  'ip', // 4  IPv4
  'ip6', // 5  IPv6 (extension headers are not tokens)
  'tcp', // 6
  'udp', // 7
  'icmp', // 8
  'icmp6', // 9
  'gre', // 10
  'vxlan', // 11
  'geneve', // 12
  'dns', // 13 application token (see dissect.ts header)
  'http', // 14 application token
  'esp', // 15 IPsec ESP (payload opaque)
  'ibbt', // 16 InfiniBand base transport header of RoCEv2 (UDP 4791)
  'ppp', // 17 PPP (header protocols 7 and 14)  [our name]
  'chdlc', // 18 Cisco HDLC framing on POS links (header protocol 14)  [our name]
  'wlan', // 19 802.11 MAC (header protocol 15)  [our name]
] as const;

export type Token = (typeof TOKENS)[number];

export const T_ETH = 0;
export const T_Q = 1;
export const T_MPLS = 2;
export const T_ARP = 3;
export const T_IP = 4;
export const T_IP6 = 5;
export const T_TCP = 6;
export const T_UDP = 7;
export const T_ICMP = 8;
export const T_ICMP6 = 9;
export const T_GRE = 10;
export const T_VXLAN = 11;
export const T_GENEVE = 12;
export const T_DNS = 13;
export const T_HTTP = 14;
export const T_ESP = 15;
export const T_IBBT = 16;
export const T_PPP = 17;
export const T_CHDLC = 18;
export const T_WLAN = 19;
export const T_COUNT = 20;

/** A node of the trie: the dotted string of the path from the root, and children by token. */
export interface StackNode {
  readonly s: string;
  readonly next: (StackNode | undefined)[];
}

/** Bound on interned paths; hostile input cannot grow the trie beyond this. */
const MAX_NODES = 4096;
let nodes = 0;

export const STACK_ROOT: StackNode = { s: '', next: new Array<StackNode | undefined>(T_COUNT) };

/** The node for `node`'s path followed by token `t`. */
export function stackPush(node: StackNode, t: number): StackNode {
  const child = node.next[t];
  if (child !== undefined) return child;
  const s = node.s === '' ? TOKENS[t]! : node.s + '.' + TOKENS[t]!;
  const created: StackNode = { s, next: new Array<StackNode | undefined>(T_COUNT) };
  if (nodes < MAX_NODES) {
    nodes++;
    node.next[t] = created;
  }
  return created;
}
