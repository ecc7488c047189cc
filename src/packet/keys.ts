// Flow attribute keys read from a PacketView on demand.
//
// keyReader(name) compiles an sFlow-RT attribute name (`ipsource`, `ipsource.1`, `tcpflags`,
// `stack`, `dnsqname`, `<token>_offset`, ...) once into a function that formats just that value
// from the bytes of the packet last parsed into a view, or gives undefined when that packet has
// no such value. dissect() (eager) runs the same per-layer formatters for every key, so there is
// one definition of each key.
//
// Naming rules (see dissect.ts and docs/stack.md): inner layers repeat a protocol's keys with a
// suffix that counts the earlier layers *of the same protocol*; where several protocols write a
// key (macsource: eth and wlan; ethernetprotocol: eth, wlan, chdlc; icmpunreachable*: icmp and
// icmp6) the last layer in the stack that has a value wins.

import { DSCP_NAMES, IB_TRANSPORTS, dnsTypeName, ibHasAeth, ibHasReth, ibOpName } from './names.js';
import { IP_FLAGS, TCP_FLAGS, dec, ip4, ip6, mac } from './format.js';
import {
  T_ARP,
  T_CHDLC,
  T_COUNT,
  T_DNS,
  T_ESP,
  T_ETH,
  T_GENEVE,
  T_GRE,
  T_HTTP,
  T_IBBT,
  T_ICMP,
  T_ICMP6,
  T_IP,
  T_IP6,
  T_MPLS,
  T_PPP,
  T_Q,
  T_TCP,
  T_UDP,
  T_VXLAN,
  T_WLAN,
} from './stack.js';
import { HTTP_METHODS, MAX_LAYERS, isIp6Extension, matchAscii, type PacketView } from './view.js';

/** Formats one key of layer i of a view; undefined when the layer has no value for it. */
export type LayerFormatter = (v: PacketView, i: number) => string | undefined;

/** Reads one key from a parsed packet; undefined when the packet has no value for it. */
export type KeyReader = (v: PacketView) => string | undefined;

// ---------------------------------------------------------------------------------------------
// Byte helpers

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function u24(b: Uint8Array, p: number): number {
  return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
}

function bool(x: number): string {
  return x !== 0 ? 'true' : 'false';
}

/** Latin-1 text of buf[start..end). */
function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

const offsetKey: LayerFormatter = (v, i) => dec(v.offset[i]!);

// ---------------------------------------------------------------------------------------------
// Layer 2

/** 0 unicast, 1 broadcast, 2 multicast: the destination MAC at o. */
function macKind(b: Uint8Array, o: number): number {
  if ((b[o]! & 1) === 0) return 0;
  return b[o] === 0xff && b[o + 1] === 0xff && b[o + 2] === 0xff && b[o + 3] === 0xff && b[o + 4] === 0xff && b[o + 5] === 0xff ? 1 : 2;
}

const etherTypeKey: LayerFormatter = (v, i) => {
  const t = v.aux[i]!;
  return t >= 0 ? dec(t) : undefined;
};

const ETH: [string, LayerFormatter][] = [
  ['macdestination', (v, i) => mac(v.bytes, v.offset[i]!)],
  ['macsource', (v, i) => mac(v.bytes, v.offset[i]! + 6)],
  ['isbroadcast', (v, i) => bool(macKind(v.bytes, v.offset[i]!) === 1 ? 1 : 0)],
  ['ismulticast', (v, i) => bool(macKind(v.bytes, v.offset[i]!) === 2 ? 1 : 0)],
  ['isunicast', (v, i) => bool(macKind(v.bytes, v.offset[i]!) === 0 ? 1 : 0)],
  ['ethernetprotocol', etherTypeKey],
  ['eth_offset', offsetKey],
];

const WLAN: [string, LayerFormatter][] = [
  ['macdestination', (v, i) => mac(v.bytes, v.aux2[i]!)],
  ['macsource', (v, i) => mac(v.bytes, v.aux3[i]!)],
  ['isbroadcast', (v, i) => bool(macKind(v.bytes, v.aux2[i]!) === 1 ? 1 : 0)],
  ['ismulticast', (v, i) => bool(macKind(v.bytes, v.aux2[i]!) === 2 ? 1 : 0)],
  ['isunicast', (v, i) => bool(macKind(v.bytes, v.aux2[i]!) === 0 ? 1 : 0)],
  ['ethernetprotocol', etherTypeKey],
  ['wlan_offset', offsetKey],
];

const Q: [string, LayerFormatter][] = [
  ['vlan', (v, i) => dec(u16(v.bytes, v.offset[i]!) & 0xfff)],
  ['priority', (v, i) => dec(u16(v.bytes, v.offset[i]!) >>> 13)],
];

/** The labels of the MPLS stack at off, joined with '.' (at most 16, up to the bottom of stack). */
function mplsLabels(b: Uint8Array, off: number, lim: number): string {
  let labels = '';
  let p = off;
  for (let n = 0; n < 16 && p + 4 <= lim; n++) {
    const e = u32(b, p);
    labels = n === 0 ? dec(e >>> 12) : labels + '.' + dec(e >>> 12);
    p += 4;
    if ((e & 0x100) !== 0) break;
  }
  return labels;
}

const MPLS: [string, LayerFormatter][] = [
  ['mplslabel', (v, i) => dec(u32(v.bytes, v.offset[i]!) >>> 12)],
  ['mplstc', (v, i) => dec((u32(v.bytes, v.offset[i]!) >>> 9) & 7)],
  ['mplsttl', (v, i) => dec(v.bytes[v.offset[i]! + 3]!)],
  ['mplslabels', (v, i) => mplsLabels(v.bytes, v.offset[i]!, v.limit[i]!)],
  ['mpls_offset', offsetKey],
];

/** Offset of the Ethernet/IPv4 ARP addresses (8), or -1 when the ARP packet has other sizes or is cut. */
function arpAddresses(v: PacketView, i: number): number {
  const off = v.offset[i]!;
  return v.bytes[off + 4] === 6 && v.bytes[off + 5] === 4 && off + 28 <= v.limit[i]! ? off + 8 : -1;
}

const ARP: [string, LayerFormatter][] = [
  ['arphardwaretype', (v, i) => dec(u16(v.bytes, v.offset[i]!))],
  ['arpprotocoltype', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['arpoperation', (v, i) => dec(u16(v.bytes, v.offset[i]! + 6))],
  ['arpmacsender', (v, i) => {
    const a = arpAddresses(v, i);
    return a < 0 ? undefined : mac(v.bytes, a);
  }],
  ['arpipsender', (v, i) => {
    const a = arpAddresses(v, i);
    return a < 0 ? undefined : ip4(v.bytes, a + 6);
  }],
  ['arpmactarget', (v, i) => {
    const a = arpAddresses(v, i);
    return a < 0 ? undefined : mac(v.bytes, a + 10);
  }],
  ['arpiptarget', (v, i) => {
    const a = arpAddresses(v, i);
    return a < 0 ? undefined : ip4(v.bytes, a + 16);
  }],
  ['arp_offset', offsetKey],
];

const PPP: [string, LayerFormatter][] = [
  ['pppprotocol', (v, i) => dec(v.aux[i]!)],
  ['ppp_offset', offsetKey],
];

const CHDLC: [string, LayerFormatter][] = [
  ['ethernetprotocol', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['chdlc_offset', offsetKey],
];

// ---------------------------------------------------------------------------------------------
// Layer 3

function ipTos(v: PacketView, i: number): number {
  return v.bytes[v.offset[i]! + 1]!;
}

const IP: [string, LayerFormatter][] = [
  ['ipsource', (v, i) => ip4(v.bytes, v.offset[i]! + 12)],
  ['ipdestination', (v, i) => ip4(v.bytes, v.offset[i]! + 16)],
  ['ipprotocol', (v, i) => dec(v.bytes[v.offset[i]! + 9]!)],
  ['iptos', (v, i) => dec(ipTos(v, i))],
  ['ipdscp', (v, i) => dec(ipTos(v, i) >>> 2)],
  ['ipdscpname', (v, i) => DSCP_NAMES[ipTos(v, i) >>> 2]!],
  ['ipecn', (v, i) => dec(ipTos(v, i) & 3)],
  ['ipttl', (v, i) => dec(v.bytes[v.offset[i]! + 8]!)],
  ['ipflags', (v, i) => IP_FLAGS[v.bytes[v.offset[i]! + 6]! >>> 5]!],
  ['ipfragoffset', (v, i) => dec(u16(v.bytes, v.offset[i]! + 6) & 0x1fff)],
  ['ipbytes', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['ipid', (v, i) => dec(u16(v.bytes, v.offset[i]! + 4))],
  ['ipoptionslength', (v, i) => dec(((v.bytes[v.offset[i]!]! & 15) << 2) - 20)],
  ['ip_offset', offsetKey],
];

function ip6Class(v: PacketView, i: number): number {
  const off = v.offset[i]!;
  return ((v.bytes[off]! & 15) << 4) | (v.bytes[off + 1]! >>> 4);
}

// IPv6 extension header keys: the chain is walked again (as view.ts walks it) and each key keeps
// the value of the last extension header that sets it.
const X_EXTENSIONS = 0;
const X_FRAGOFFSET = 1;
const X_FRAGM = 2;
const X_ROUTETYPE = 3;
const X_SEGSLEFT = 4;
const X_SRLASTENTRY = 5;
const X_SRFLAGS = 6;
const X_SRTAG = 7;
const X_SRSEGMENTS = 8;
const X_SROPTLEN = 9;

function ip6Extension(v: PacketView, i: number, key: number): string | undefined {
  const b = v.bytes;
  const off = v.offset[i]!;
  const lim = v.limit[i]!;
  let nh = b[off + 6]!;
  let p = off + 40;
  let out: string | undefined;
  for (let n = 0; n < 16 && isIp6Extension(nh); n++) {
    if (p + 8 > lim) break;
    const next = b[p]!;
    let len: number;
    let stop = false;
    if (nh === 44) {
      len = 8;
      const fo = u16(b, p + 2);
      if (key === X_FRAGOFFSET) out = dec(fo >>> 3);
      else if (key === X_FRAGM) out = (fo & 1) !== 0 ? 'yes' : 'no';
      if (fo >>> 3 !== 0) stop = true; // not the first fragment
    } else if (nh === 51) {
      len = (b[p + 1]! + 2) << 2;
    } else {
      len = (b[p + 1]! + 1) << 3;
      if (nh === 43 && key >= X_ROUTETYPE) {
        const x = routingKey(b, p, len, lim, key);
        if (x !== undefined) out = x;
      }
    }
    if (key === X_EXTENSIONS) out = out === undefined ? dec(nh) : out + '.' + dec(nh);
    nh = next;
    p += len;
    if (stop) break;
  }
  return out;
}

/** A key of the IPv6 routing header at p (length len); segment routing (type 4, RFC 8754) in detail. */
function routingKey(b: Uint8Array, p: number, len: number, lim: number, key: number): string | undefined {
  const type = b[p + 2]!;
  if (key === X_ROUTETYPE) return dec(type);
  if (key === X_SEGSLEFT) return dec(b[p + 3]!);
  if (type !== 4) return undefined;
  const last = b[p + 4]!;
  switch (key) {
    case X_SRLASTENTRY:
      return dec(last);
    case X_SRFLAGS:
      return dec(b[p + 5]!);
    case X_SRTAG:
      return dec(u16(b, p + 6));
    case X_SROPTLEN: {
      const segBytes = (last + 1) << 4;
      return segBytes + 8 <= len ? dec(len - 8 - segBytes) : undefined;
    }
    case X_SRSEGMENTS: {
      let segs = '';
      for (let i = 0, q = p + 8; i <= last && q + 16 <= p + len && q + 16 <= lim; i++, q += 16) {
        segs = i === 0 ? ip6(b, q) : segs + ';' + ip6(b, q);
      }
      return segs !== '' ? segs : undefined;
    }
    default:
      return undefined;
  }
}

const IP6: [string, LayerFormatter][] = [
  ['ip6source', (v, i) => ip6(v.bytes, v.offset[i]! + 8)],
  ['ip6destination', (v, i) => ip6(v.bytes, v.offset[i]! + 24)],
  ['ip6tos', (v, i) => dec(ip6Class(v, i))],
  ['ip6dscp', (v, i) => dec(ip6Class(v, i) >>> 2)],
  ['ip6dscpname', (v, i) => DSCP_NAMES[ip6Class(v, i) >>> 2]!],
  ['ip6ecn', (v, i) => dec(ip6Class(v, i) & 3)],
  ['ip6flowlabel', (v, i) => dec(u24(v.bytes, v.offset[i]! + 1) & 0xfffff)],
  ['ip6ttl', (v, i) => dec(v.bytes[v.offset[i]! + 7]!)],
  ['ip6bytes', (v, i) => dec(u16(v.bytes, v.offset[i]! + 4) + 40)],
  ['ip6_offset', offsetKey],
  ['ip6fragoffset', (v, i) => ip6Extension(v, i, X_FRAGOFFSET)],
  ['ip6fragm', (v, i) => ip6Extension(v, i, X_FRAGM)],
  ['ip6routetype', (v, i) => ip6Extension(v, i, X_ROUTETYPE)],
  ['ip6routesegsleft', (v, i) => ip6Extension(v, i, X_SEGSLEFT)],
  ['ip6routesrlastentry', (v, i) => ip6Extension(v, i, X_SRLASTENTRY)],
  ['ip6routesrflags', (v, i) => ip6Extension(v, i, X_SRFLAGS)],
  ['ip6routesrtag', (v, i) => ip6Extension(v, i, X_SRTAG)],
  ['ip6routesrsegments', (v, i) => ip6Extension(v, i, X_SRSEGMENTS)],
  ['ip6routesroptlen', (v, i) => ip6Extension(v, i, X_SROPTLEN)],
  ['ip6extensions', (v, i) => ip6Extension(v, i, X_EXTENSIONS)],
  ['ip6nexthdr', (v, i) => {
    const nh = v.aux[i]!;
    return nh >= 0 ? dec(nh) : undefined;
  }],
];

// ---------------------------------------------------------------------------------------------
// Layer 4 and tunnels

function tcpHeaderLength(v: PacketView, i: number): number {
  return (v.bytes[v.offset[i]! + 12]! >>> 4) << 2;
}

const TCP: [string, LayerFormatter][] = [
  ['tcpsourceport', (v, i) => dec(u16(v.bytes, v.offset[i]!))],
  ['tcpdestinationport', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['tcpflags', (v, i) => {
    const off = v.offset[i]!;
    return TCP_FLAGS[((v.bytes[off + 12]! & 1) << 8) | v.bytes[off + 13]!]!;
  }],
  ['tcpseqno', (v, i) => String(u32(v.bytes, v.offset[i]! + 4))],
  ['tcpackno', (v, i) => String(u32(v.bytes, v.offset[i]! + 8))],
  ['tcpwindow', (v, i) => dec(u16(v.bytes, v.offset[i]! + 14))],
  ['tcpoffset', (v, i) => dec(tcpHeaderLength(v, i))],
  ['tcpoptbytes', (v, i) => {
    const hl = tcpHeaderLength(v, i);
    return dec(hl > 20 ? hl - 20 : 0);
  }],
  ['tcppayloadbytes', (v, i) => {
    const data = v.offset[i]! + tcpHeaderLength(v, i);
    const end = v.aux[i]!;
    return dec(end > data ? end - data : 0);
  }],
  ['tcp_offset', offsetKey],
];

const UDP: [string, LayerFormatter][] = [
  ['udpsourceport', (v, i) => dec(u16(v.bytes, v.offset[i]!))],
  ['udpdestinationport', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['udpbytes', (v, i) => dec(u16(v.bytes, v.offset[i]! + 4))],
  ['udp_offset', offsetKey],
];

// Destination unreachable: what the quoted packet (after the 8-byte ICMP header) says.
const U_NET = 0;
const U_HOST = 1;
const U_PROTOCOL = 2;
const U_PORT = 3;

/** ICMP type 3: key from the IPv4 header quoted at off + 8 (codes 0 net, 1 host, 2 protocol, 3 port). */
function unreachable4(v: PacketView, i: number, key: number): string | undefined {
  const b = v.bytes;
  const off = v.offset[i]!;
  const lim = v.limit[i]!;
  if (b[off] !== 3 || b[off + 1] !== key) return undefined;
  const q = off + 8;
  if (q + 20 > lim || b[q]! >>> 4 !== 4) return undefined;
  switch (key) {
    case U_NET:
    case U_HOST:
      return ip4(b, q + 16);
    case U_PROTOCOL:
      return dec(b[q + 9]!);
    default: {
      const ihl = (b[q]! & 15) << 2;
      const proto = b[q + 9]!;
      return ihl >= 20 && q + ihl + 4 <= lim && (proto === 6 || proto === 17 || proto === 132) ? dec(u16(b, q + ihl + 2)) : undefined;
    }
  }
}

/** ICMPv6 type 1: key from the IPv6 header quoted at off + 8 (codes 0 net, 3 host, 4 port; no extension headers walked). */
function unreachable6(v: PacketView, i: number, key: number): string | undefined {
  const b = v.bytes;
  const off = v.offset[i]!;
  const lim = v.limit[i]!;
  const code = key === U_NET ? 0 : key === U_HOST ? 3 : key === U_PORT ? 4 : -1;
  if (b[off] !== 1 || b[off + 1] !== code) return undefined;
  const q = off + 8;
  if (q + 40 > lim || b[q]! >>> 4 !== 6) return undefined;
  if (key !== U_PORT) return ip6(b, q + 24);
  const nh = b[q + 6]!;
  return (nh === 6 || nh === 17 || nh === 132) && q + 44 <= lim ? dec(u16(b, q + 42)) : undefined;
}

/** ICMP echo (types a and b) sequence number. */
function echoSeq(v: PacketView, i: number, a: number, c: number): string | undefined {
  const off = v.offset[i]!;
  const type = v.bytes[off]!;
  return (type === a || type === c) && off + 8 <= v.limit[i]! ? dec(u16(v.bytes, off + 6)) : undefined;
}

const ICMP: [string, LayerFormatter][] = [
  ['icmptype', (v, i) => dec(v.bytes[v.offset[i]!]!)],
  ['icmpcode', (v, i) => dec(v.bytes[v.offset[i]! + 1]!)],
  ['icmpseqno', (v, i) => echoSeq(v, i, 0, 8)],
  ['icmpunreachablenet', (v, i) => unreachable4(v, i, U_NET)],
  ['icmpunreachablehost', (v, i) => unreachable4(v, i, U_HOST)],
  ['icmpunreachableprotocol', (v, i) => unreachable4(v, i, U_PROTOCOL)],
  ['icmpunreachableport', (v, i) => unreachable4(v, i, U_PORT)],
  ['icmp_offset', offsetKey],
];

const ICMP6: [string, LayerFormatter][] = [
  ['icmp6type', (v, i) => dec(v.bytes[v.offset[i]!]!)],
  ['icmp6code', (v, i) => dec(v.bytes[v.offset[i]! + 1]!)],
  ['icmp6seqno', (v, i) => echoSeq(v, i, 128, 129)],
  ['icmpunreachablenet', (v, i) => unreachable6(v, i, U_NET)],
  ['icmpunreachablehost', (v, i) => unreachable6(v, i, U_HOST)],
  ['icmpunreachableprotocol', () => undefined],
  ['icmpunreachableport', (v, i) => unreachable6(v, i, U_PORT)],
  ['icmp6_offset', offsetKey],
];

/** Offset of the GRE key, or -1 when the K bit is clear or the key is cut. */
function greKeyAt(v: PacketView, i: number): number {
  const b = v.bytes;
  const off = v.offset[i]!;
  if ((b[off]! & 0x20) === 0) return -1;
  const p = (b[off]! & 0xc0) !== 0 ? off + 8 : off + 4; // after checksum (and offset) if present
  return p + 4 <= v.limit[i]! ? p : -1;
}

const GRE: [string, LayerFormatter][] = [
  ['greversion', (v, i) => dec(v.bytes[v.offset[i]! + 1]! & 7)],
  ['greprotocoltype', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['grekey', (v, i) => {
    const p = greKeyAt(v, i);
    return p < 0 ? undefined : String(u32(v.bytes, p));
  }],
  ['grevsid', (v, i) => {
    const p = greKeyAt(v, i);
    return p < 0 ? undefined : dec(u24(v.bytes, p));
  }],
  ['greflowid', (v, i) => {
    const p = greKeyAt(v, i);
    return p < 0 ? undefined : dec(v.bytes[p + 3]!);
  }],
  ['gre_offset', offsetKey],
];

const VXLAN: [string, LayerFormatter][] = [
  ['vxlanvni', (v, i) => dec(u24(v.bytes, v.offset[i]! + 4))],
  ['vxlan_offset', offsetKey],
];

const GENEVE: [string, LayerFormatter][] = [
  ['genevevni', (v, i) => dec(u24(v.bytes, v.offset[i]! + 4))],
  ['geneveprotocoltype', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['geneveoptlen', (v, i) => dec((v.bytes[v.offset[i]!]! & 0x3f) << 2)],
  ['geneve_offset', offsetKey],
];

const ESP: [string, LayerFormatter][] = [
  ['espspi', (v, i) => String(u32(v.bytes, v.offset[i]!))],
  ['esp_offset', offsetKey],
];

function ibOpcode(v: PacketView, i: number): number {
  return v.bytes[v.offset[i]!]!;
}

function ibFlags(v: PacketView, i: number): number {
  return v.bytes[v.offset[i]! + 1]!;
}

const IBBT: [string, LayerFormatter][] = [
  ['ibbtopcode', (v, i) => dec(ibOpcode(v, i))],
  ['ibbtopname', (v, i) => ibOpName(ibOpcode(v, i))],
  ['ibbtoptransport', (v, i) => IB_TRANSPORTS[ibOpcode(v, i) >>> 5]!],
  ['ibbtse', (v, i) => bool(ibFlags(v, i) & 0x80)],
  ['ibbtm', (v, i) => bool(ibFlags(v, i) & 0x40)],
  ['ibbttver', (v, i) => dec(ibFlags(v, i) & 15)],
  ['ibbtpkey', (v, i) => dec(u16(v.bytes, v.offset[i]! + 2))],
  ['ibbtdestqp', (v, i) => String(u24(v.bytes, v.offset[i]! + 5))],
  ['ibbtack', (v, i) => bool(v.bytes[v.offset[i]! + 8]! & 0x80)],
  ['ibbtpsn', (v, i) => String(u24(v.bytes, v.offset[i]! + 9))],
  ['ibbtrdmalen', (v, i) => {
    const off = v.offset[i]!;
    const opcode = v.bytes[off]!;
    return opcode >>> 5 <= 1 && ibHasReth(opcode & 0x1f) && off + 28 <= v.limit[i]! ? String(u32(v.bytes, off + 24)) : undefined;
  }],
  ['ibbtaethack', (v, i) => {
    const off = v.offset[i]!;
    const opcode = v.bytes[off]!;
    if (opcode >>> 5 !== 0 || !ibHasAeth(opcode & 0x1f) || off + 16 > v.limit[i]!) return undefined;
    const syndrome = v.bytes[off + 12]!;
    return syndrome >>> 5 === 0 ? dec(syndrome & 0x1f) : undefined;
  }],
  ['ibbt_offset', offsetKey],
];

// ---------------------------------------------------------------------------------------------
// Applications

// Domain names: the text is assembled in nameBuf, then looked up in a small cache keyed by its
// bytes (names repeat), so a hit allocates nothing.
const nameBuf = new Uint8Array(1024);
const NAME_CACHE = 256;
const NAME_MAX_CACHED = 128;
const nameCacheLen = new Int32Array(NAME_CACHE);
const nameCacheBytes = new Uint8Array(NAME_CACHE * NAME_MAX_CACHED);
const nameCacheText: string[] = new Array<string>(NAME_CACHE).fill('');
let nameLen = 0;
let nameHash = 0;

/** The string for nameBuf[0..n), through the cache. */
function nameString(n: number, hash: number): string {
  if (n > NAME_MAX_CACHED) return latin1(nameBuf, 0, n);
  const slot = (Math.imul(hash, 0x9e3779b1) >>> 24) & (NAME_CACHE - 1);
  const base = slot * NAME_MAX_CACHED;
  if (nameCacheLen[slot] === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (nameCacheBytes[base + i] !== nameBuf[i]) {
        same = false;
        break;
      }
    }
    if (same) return nameCacheText[slot]!;
  }
  const s = latin1(nameBuf, 0, n);
  nameCacheBytes.set(nameBuf.subarray(0, n), base);
  nameCacheLen[slot] = n;
  nameCacheText[slot] = s;
  return s;
}

/**
 * Reads the domain name at p inside the DNS message starting at msg, within lim. Leaves its text
 * in nameBuf[0..nameLen) (lower-case ASCII, labels joined by '.', trailing dot kept, empty for
 * the root; bytes outside 0x21-0x7e and '.' or '\' inside a label are written as \DDD) and
 * returns the offset after the name in the original position, or -1 if the name is truncated or
 * malformed. Compression pointers are followed backwards only, at most 16 times; the name is at
 * most 255 bytes.
 */
function qname(b: Uint8Array, msg: number, p: number, lim: number): number {
  let n = 0;
  let hash = 0x811c9dc5;
  let after = -1;
  let wire = 0;
  for (let jumps = 0, guard = 0; guard < 256; guard++) {
    if (p >= lim) return -1;
    const len = b[p]!;
    if (len === 0) {
      if (after < 0) after = p + 1;
      nameLen = n;
      nameHash = hash;
      return after;
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 2 > lim || ++jumps > 16) return -1;
      const target = msg + (((len & 0x3f) << 8) | b[p + 1]!);
      if (after < 0) after = p + 2;
      if (target >= p) return -1; // forward or self pointer
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1; // reserved label types
    wire += len + 1;
    if (wire > 255 || p + 1 + len > lim) return -1;
    for (let i = p + 1; i <= p + len; i++) {
      let ch = b[i]!;
      if (ch >= 0x41 && ch <= 0x5a) ch += 0x20;
      if (ch > 0x20 && ch < 0x7f && ch !== 0x2e && ch !== 0x5c) {
        nameBuf[n++] = ch;
        hash = Math.imul(hash ^ ch, 0x01000193);
      } else {
        // \DDD
        const d0 = 0x30 + ((ch / 100) | 0);
        const d1 = 0x30 + (((ch / 10) | 0) % 10);
        const d2 = 0x30 + (ch % 10);
        nameBuf[n++] = 0x5c;
        nameBuf[n++] = d0;
        nameBuf[n++] = d1;
        nameBuf[n++] = d2;
        hash = Math.imul(Math.imul(Math.imul(Math.imul(hash ^ 0x5c, 0x01000193) ^ d0, 0x01000193) ^ d1, 0x01000193) ^ d2, 0x01000193);
      }
    }
    nameBuf[n++] = 0x2e;
    hash = Math.imul(hash ^ 0x2e, 0x01000193);
    p += 1 + len;
  }
  return -1;
}

/** Offset of the QTYPE of the first question (its name is then in nameBuf), or -1. */
function question(v: PacketView, i: number): number {
  const b = v.bytes;
  const off = v.offset[i]!;
  const lim = v.limit[i]!;
  if (u16(b, off + 4) === 0) return -1;
  const after = qname(b, off, off + 12, lim);
  return after >= 0 && after + 4 <= lim ? after : -1;
}

function dnsFlags(v: PacketView, i: number): number {
  return u16(v.bytes, v.offset[i]! + 2);
}

const DNS: [string, LayerFormatter][] = [
  ['dnsid', (v, i) => dec(u16(v.bytes, v.offset[i]!))],
  ['dnsqr', (v, i) => bool(dnsFlags(v, i) & 0x8000)],
  ['dnsopcode', (v, i) => dec((dnsFlags(v, i) >>> 11) & 15)],
  ['dnsaa', (v, i) => bool(dnsFlags(v, i) & 0x400)],
  ['dnstc', (v, i) => bool(dnsFlags(v, i) & 0x200)],
  ['dnsrd', (v, i) => bool(dnsFlags(v, i) & 0x100)],
  ['dnsra', (v, i) => bool(dnsFlags(v, i) & 0x80)],
  ['dnsz', (v, i) => dec((dnsFlags(v, i) >>> 4) & 7)],
  ['dnsrcode', (v, i) => dec(dnsFlags(v, i) & 15)],
  ['dnsqdcount', (v, i) => dec(u16(v.bytes, v.offset[i]! + 4))],
  ['dnsancount', (v, i) => dec(u16(v.bytes, v.offset[i]! + 6))],
  ['dnsnscount', (v, i) => dec(u16(v.bytes, v.offset[i]! + 8))],
  ['dnsarcount', (v, i) => dec(u16(v.bytes, v.offset[i]! + 10))],
  ['dnsqname', (v, i) => {
    if (question(v, i) < 0) return undefined;
    return nameLen === 0 ? '.' : nameString(nameLen, nameHash);
  }],
  ['dnsqtype', (v, i) => {
    const q = question(v, i);
    return q < 0 ? undefined : dec(u16(v.bytes, q));
  }],
  ['dnsqtypename', (v, i) => {
    const q = question(v, i);
    return q < 0 ? undefined : dnsTypeName(u16(v.bytes, q));
  }],
  ['dnsqclass', (v, i) => {
    const q = question(v, i);
    return q < 0 ? undefined : dec(u16(v.bytes, q + 2));
  }],
  ['dns_offset', offsetKey],
];

const MAX_URL = 2048;

/** End of the printable-ASCII run from p up to (not including) a space, control byte or lim, at most max bytes. */
function tokenEnd(b: Uint8Array, p: number, max: number, lim: number): number {
  let i = p;
  const end = Math.min(lim, p + max);
  while (i < end && b[i]! > 0x20 && b[i]! < 0x7f) i++;
  return i;
}

/** Request line: offset after the method (at the space before the URL). */
function afterMethod(v: PacketView, i: number): number {
  return v.offset[i]! + HTTP_METHODS[v.aux[i]!]!.length;
}

function httpProtocol(v: PacketView, i: number): string | undefined {
  const b = v.bytes;
  const lim = v.limit[i]!;
  if (v.aux[i]! < 0) {
    const off = v.offset[i]!;
    return latin1(b, off, tokenEnd(b, off, 16, lim));
  }
  const p = afterMethod(v, i) + 1;
  const u = tokenEnd(b, p, MAX_URL, lim);
  if (b[u] !== 0x20 || u >= lim) return undefined;
  const proto = latin1(b, u + 1, tokenEnd(b, u + 1, 16, lim));
  return proto.startsWith('HTTP/') ? proto : undefined;
}

const HTTP: [string, LayerFormatter][] = [
  ['httpmethod', (v, i) => (v.aux[i]! >= 0 ? HTTP_METHODS[v.aux[i]!]! : undefined)],
  ['httpurl', (v, i) => {
    if (v.aux[i]! < 0) return undefined;
    const p = afterMethod(v, i) + 1;
    const u = tokenEnd(v.bytes, p, MAX_URL, v.limit[i]!);
    return u > p ? latin1(v.bytes, p, u) : undefined;
  }],
  ['httpprotocol', httpProtocol],
  ['httpstatus', (v, i) => {
    if (v.aux[i]! >= 0) return undefined;
    const b = v.bytes;
    const off = v.offset[i]!;
    const s = tokenEnd(b, off, 16, v.limit[i]!) + 1;
    if (b[s - 1] !== 0x20 || s + 3 > v.limit[i]!) return undefined;
    const d0 = b[s]! - 0x30;
    const d1 = b[s + 1]! - 0x30;
    const d2 = b[s + 2]! - 0x30;
    return d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 ? dec(d0 * 100 + d1 * 10 + d2) : undefined;
  }],
  ['http_offset', offsetKey],
];

// ---------------------------------------------------------------------------------------------
// Keys per token, and the compiled readers

/** Keys each layer may have, with their formatters, per token (in the order dissect() adds them). */
export const LAYER_FORMATTERS: readonly (readonly (readonly [string, LayerFormatter])[])[] = (() => {
  const k: [string, LayerFormatter][][] = Array.from({ length: T_COUNT }, () => []);
  k[T_ETH] = ETH;
  k[T_Q] = Q;
  k[T_MPLS] = MPLS;
  k[T_ARP] = ARP;
  k[T_IP] = IP;
  k[T_IP6] = IP6;
  k[T_TCP] = TCP;
  k[T_UDP] = UDP;
  k[T_ICMP] = ICMP;
  k[T_ICMP6] = ICMP6;
  k[T_GRE] = GRE;
  k[T_VXLAN] = VXLAN;
  k[T_GENEVE] = GENEVE;
  k[T_DNS] = DNS;
  k[T_HTTP] = HTTP;
  k[T_ESP] = ESP;
  k[T_IBBT] = IBBT;
  k[T_PPP] = PPP;
  k[T_CHDLC] = CHDLC;
  k[T_WLAN] = WLAN;
  return k;
})();

/** Keys each layer may write, per token. */
export const LAYER_KEYS: readonly (readonly string[])[] = LAYER_FORMATTERS.map((list) => list.map(([name]) => name));

/**
 * Tokens that occur at most once in a stack, so their keys never have a `.N` suffix: terminal
 * layers (nothing is decoded after arp, tcp's application, icmp, icmp6, esp, ibbt, dns, http)
 * and the framings that only start a header (ppp, chdlc, wlan).
 */
const ONCE = new Set([T_ARP, T_TCP, T_ICMP, T_ICMP6, T_ESP, T_IBBT, T_DNS, T_HTTP, T_PPP, T_CHDLC, T_WLAN]);

interface Producer {
  t: number;
  f: LayerFormatter;
}
const PRODUCERS = new Map<string, Producer[]>();
for (let t = 0; t < T_COUNT; t++) {
  for (const [name, f] of LAYER_FORMATTERS[t]!) {
    let list = PRODUCERS.get(name);
    if (list === undefined) PRODUCERS.set(name, (list = []));
    list.push({ t, f });
  }
}

const readStack: KeyReader = (v) => v.stack;

/**
 * The reader of a key of the first layer with token t. Each one is compiled from its own source
 * (new Function) so that it has its own type feedback: V8 then inlines the formatter into it,
 * where readers made by one closure would share one call site for ~300 formatters and call them
 * without inlining (measured: about half the cost of a reader).
 */
function firstLayerReader(t: number, f: LayerFormatter): KeyReader {
  // The source is built from two integers.
  const make = new Function('f', `return function readKey(v) { return (v.present & ${1 << t}) === 0 ? undefined : f(v, v.first[${t}]); };`);
  return make(f) as KeyReader;
}

function compile(name: string): KeyReader | null {
  if (name === 'stack') return readStack;
  let base = name;
  let c = 0;
  const dot = name.indexOf('.');
  if (dot >= 0) {
    const sfx = name.slice(dot + 1);
    if (!/^[1-9][0-9]?$/.test(sfx)) return null;
    c = Number(sfx);
    if (c >= MAX_LAYERS) return null;
    base = name.slice(0, dot);
  }
  const producers = (PRODUCERS.get(base) ?? []).filter((p) => c === 0 || !ONCE.has(p.t));
  if (producers.length === 0) return null;
  if (producers.length === 1) {
    const { t, f } = producers[0]!;
    if (c === 0) return firstLayerReader(t, f);
    return (v) => {
      const i = v.layerOf(t, c);
      return i < 0 ? undefined : f(v, i);
    };
  }
  // several protocols have this key (e.g. macsource: eth and wlan): the last layer with a value wins
  const byToken: (LayerFormatter | undefined)[] = new Array<LayerFormatter | undefined>(T_COUNT).fill(undefined);
  let mask = 0;
  for (const p of producers) {
    byToken[p.t] = p.f;
    mask |= 1 << p.t;
  }
  return (v) => {
    if ((v.present & mask) === 0) return undefined;
    for (let i = v.layers - 1; i >= 0; i--) {
      const f = byToken[v.token[i]!];
      if (f !== undefined && v.ordinal(i) === c) {
        const x = f(v, i);
        if (x !== undefined) return x;
      }
    }
    return undefined;
  };
}

const compiled = new Map<string, KeyReader | null>();
const MAX_COMPILED = 4096;

/**
 * Compiles an attribute name into a reader of that attribute from a parsed packet (see the file
 * header). Returns null for a name no packet can have: not an attribute of any layer, a suffix
 * other than .1 ... .31, or a suffix on a protocol that occurs at most once (`tcpsourceport.1`).
 * Compile once (e.g. when a flow is defined) and call the reader per packet; readers are cached
 * by name.
 */
export function keyReader(name: string): KeyReader | null {
  let r = compiled.get(name);
  if (r === undefined) {
    r = compile(name);
    if (compiled.size < MAX_COMPILED) compiled.set(name, r);
  }
  return r;
}

/** Every attribute name a packet can have without suffix (layer keys and `stack`). */
export function attributeNames(): string[] {
  return ['stack', ...PRODUCERS.keys()];
}
