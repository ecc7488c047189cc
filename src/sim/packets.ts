// Packet bytes for sampled headers: Ethernet, IPv4 (and IPv4-in-IPv4 as Calico's IPIP mode
// sends it between nodes), TCP, UDP, ICMP, and DNS messages. Built once per simulated
// stream as a template; per sample only the IP identification, TCP sequence number and DNS
// transaction id change, patched in place with incremental checksum updates (RFC 1624).
//
// Checksums are real wherever the whole packet fits in the captured bytes, so that tshark
// and other dissectors see well-formed packets.

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const ETH_HLEN = 14;
export const FCS_LEN = 4;
const TCP_HLEN = 32; // 20 + NOP NOP TIMESTAMP, what Linux sends on an established connection
const TCP_SYN_HLEN = 40; // MSS, SACK-permitted, timestamps, NOP, window scale

export function ipv4ToNumber(s: string): number {
  const p = s.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

export function numberToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

export function macToString(m: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += m[i]!.toString(16).padStart(2, '0');
  return s;
}

/** One's-complement sum of 16-bit words over b[off, off+len) (not folded, not inverted). */
function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i < end) acc += b[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

export function ipv4HeaderChecksum(b: Uint8Array, off: number): number {
  b[off + 10] = 0;
  b[off + 11] = 0;
  const c = ~fold(sum16(b, off, 20)) & 0xffff;
  b[off + 10] = c >>> 8;
  b[off + 11] = c & 0xff;
  return c;
}

/** RFC 1624 eqn. 3: update the checksum at `csumOff` after a 16-bit word changed from `oldV` to `newV`. */
export function checksumReplace16(b: Uint8Array, csumOff: number, oldV: number, newV: number): void {
  const hc = (b[csumOff]! << 8) | b[csumOff + 1]!;
  let s = (~hc & 0xffff) + (~oldV & 0xffff) + newV;
  s = fold(s);
  const c = ~s & 0xffff;
  b[csumOff] = c >>> 8;
  b[csumOff + 1] = c & 0xff;
}

/** Checksum of a TCP/UDP segment over an IPv4 pseudo header, when all its bytes are present. */
function l4Checksum(b: Uint8Array, ipOff: number, l4Off: number, l4Len: number, proto: number): number {
  let acc = sum16(b, ipOff + 12, 8); // src + dst
  acc += proto + l4Len;
  acc = sum16(b, l4Off, l4Len, acc);
  const c = ~fold(acc) & 0xffff;
  return proto === IPPROTO_UDP && c === 0 ? 0xffff : c;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

const enc = new TextEncoder();
export function ascii(s: string): Uint8Array {
  return enc.encode(s);
}

export interface TcpSpec {
  flags: number; // FIN 1, SYN 2, RST 4, PSH 8, ACK 16
  seq: number;
  ack: number;
  window: number;
  tsval: number;
}

export interface IcmpSpec {
  type: number;
  code: number;
  id: number;
  seq: number;
}

export interface FrameSpec {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** Outer IPv4 header of an IP-in-IP tunnel (Calico IPIP), or none. */
  outer?: { src: number; dst: number; ttl: number; id: number };
  src: number;
  dst: number;
  ttl: number;
  tos: number;
  id: number;
  proto: number;
  sport: number;
  dport: number;
  tcp?: TcpSpec;
  icmp?: IcmpSpec;
  /** The first bytes of the L4 payload (only what can be captured matters). */
  payload: Uint8Array;
  /** Full L4 payload length on the wire (>= payload.length). */
  payloadLength: number;
}

/** A frame as captured at an interface, with the offsets the per-sample patching needs. */
export interface FrameTemplate {
  /** Captured bytes (at most the capture limit), without the FCS. */
  bytes: Uint8Array;
  /** Frame length on the wire, including the 4-byte FCS (sampled_header.frame_length). */
  frameLength: number;
  /** Offset of the outer IPv4 header (IPIP), or -1. */
  outerIp: number;
  /** Offset of the IPv4 header that carries the transport header. */
  ip: number;
  l4: number;
  proto: number;
  /** TCP sequence number offset, when captured; -1 otherwise. */
  tcpSeq: number;
  /** Checksum offset of a transport checksum that covers the captured bytes entirely, or -1. */
  l4Csum: number;
  /** DNS transaction id offset (UDP port 53 both ways), or -1. */
  dnsId: number;
}

/**
 * Build a frame: Ethernet II, [outer IPv4 (proto 4)], IPv4, TCP/UDP/ICMP, payload. Frames
 * shorter than Ethernet's 60-byte minimum are padded. `capture` limits the returned bytes.
 */
export function buildFrame(spec: FrameSpec, capture: number): FrameTemplate {
  const syn = spec.tcp !== undefined && (spec.tcp.flags & 2) !== 0;
  const l4h = spec.proto === IPPROTO_TCP ? (syn ? TCP_SYN_HLEN : TCP_HLEN) : 8;
  const innerLen = 20 + l4h + spec.payloadLength;
  const outerLen = spec.outer ? 20 : 0;
  const l2Len = ETH_HLEN + outerLen + innerLen;
  const padded = Math.max(60, l2Len);
  // The whole frame; payload bytes past the given prefix (and Ethernet padding) stay zero.
  const b = new Uint8Array(padded);
  b.set(spec.dstMac.subarray(0, 6), 0);
  b.set(spec.srcMac.subarray(0, 6), 6);
  put16(b, 12, 0x0800);
  let o = ETH_HLEN;
  let outerIp = -1;
  if (spec.outer) {
    outerIp = o;
    writeIpv4(b, o, spec.tos, 20 + innerLen, spec.outer.id, spec.outer.ttl, IPPROTO_IPIP, spec.outer.src, spec.outer.dst);
    o += 20;
  }
  const ip = o;
  writeIpv4(b, ip, spec.tos, innerLen, spec.id, spec.ttl, spec.proto, spec.src, spec.dst);
  const l4 = ip + 20;
  const pay = l4 + l4h;
  const payCopy = Math.min(spec.payload.length, Math.max(0, b.length - pay));
  if (payCopy > 0) b.set(spec.payload.subarray(0, payCopy), pay);
  let tcpSeq = -1;
  let l4Csum = -1;
  let dnsId = -1;
  const wholeSegment = l2Len <= capture && spec.payload.length >= spec.payloadLength;
  if (spec.proto === IPPROTO_TCP) {
    const t = spec.tcp!;
    put16(b, l4, spec.sport);
    put16(b, l4 + 2, spec.dport);
    put32(b, l4 + 4, t.seq);
    put32(b, l4 + 8, t.ack);
    b[l4 + 12] = (l4h / 4) << 4;
    b[l4 + 13] = t.flags;
    put16(b, l4 + 14, t.window);
    const p = l4 + 20;
    if (syn) {
      b.set([2, 4, 0x05, 0xb4, 4, 2, 8, 10], p); // MSS 1460, SACK permitted, timestamps
      put32(b, p + 8, t.tsval);
      put32(b, p + 12, 0);
      b.set([1, 3, 3, 7], p + 16); // NOP, window scale 7
    } else {
      b.set([1, 1, 8, 10], p);
      put32(b, p + 4, t.tsval);
      put32(b, p + 8, (t.tsval - 17) >>> 0);
    }
    tcpSeq = l4 + 4;
    if (wholeSegment) {
      put16(b, l4 + 16, l4Checksum(b, ip, l4, l4h + spec.payloadLength, IPPROTO_TCP));
      l4Csum = l4 + 16;
    } else {
      put16(b, l4 + 16, (spec.sport * 7919 + spec.dport * 104729 + t.seq) & 0xffff);
    }
  } else if (spec.proto === IPPROTO_UDP) {
    put16(b, l4, spec.sport);
    put16(b, l4 + 2, spec.dport);
    put16(b, l4 + 4, 8 + spec.payloadLength);
    if (spec.sport === 53 || spec.dport === 53) dnsId = pay;
    if (wholeSegment) {
      put16(b, l4 + 6, l4Checksum(b, ip, l4, 8 + spec.payloadLength, IPPROTO_UDP));
      l4Csum = l4 + 6;
    } else {
      put16(b, l4 + 6, (spec.sport * 31 + spec.dport) & 0xffff || 1);
    }
  } else if (spec.proto === IPPROTO_ICMP) {
    const c = spec.icmp!;
    b[l4] = c.type;
    b[l4 + 1] = c.code;
    put16(b, l4 + 4, c.id);
    put16(b, l4 + 6, c.seq);
    if (wholeSegment) {
      const s = ~fold(sum16(b, l4, 8 + spec.payloadLength)) & 0xffff;
      put16(b, l4 + 2, s);
      l4Csum = l4 + 2;
    }
  }
  const cap = Math.min(capture, padded);
  return {
    bytes: b.slice(0, cap),
    frameLength: padded + FCS_LEN,
    outerIp,
    ip,
    l4,
    proto: spec.proto,
    tcpSeq: tcpSeq >= 0 && tcpSeq + 4 <= cap ? tcpSeq : -1,
    l4Csum: l4Csum >= 0 && l4Csum + 2 <= cap ? l4Csum : -1,
    dnsId: dnsId >= 0 && dnsId + 2 <= cap ? dnsId : -1,
  };
}

function writeIpv4(b: Uint8Array, o: number, tos: number, totalLen: number, id: number, ttl: number, proto: number, src: number, dst: number): void {
  b[o] = 0x45;
  b[o + 1] = tos;
  put16(b, o + 2, totalLen);
  put16(b, o + 4, id);
  put16(b, o + 6, 0x4000); // DF
  b[o + 8] = ttl;
  b[o + 9] = proto;
  put32(b, o + 12, src);
  put32(b, o + 16, dst);
  ipv4HeaderChecksum(b, o);
}

/**
 * Copy a template into `out` at `at` and vary it for one sampled packet: new IP ids (outer
 * and inner), TCP sequence number, DNS transaction id; checksums follow incrementally.
 */
export function patchFrame(out: Uint8Array, at: number, t: FrameTemplate, ipId: number, tcpSeq: number, dnsId: number): void {
  out.set(t.bytes, at);
  patchFrameInPlace(out, at, t, ipId, tcpSeq, dnsId);
}

/** As {@link patchFrame}, for a copy of the template's bytes already at `at`. */
export function patchFrameInPlace(out: Uint8Array, at: number, t: FrameTemplate, ipId: number, tcpSeq: number, dnsId: number): void {
  const ip = at + t.ip;
  const oldId = (out[ip + 4]! << 8) | out[ip + 5]!;
  const newId = ipId & 0xffff;
  out[ip + 4] = newId >>> 8;
  out[ip + 5] = newId & 0xff;
  checksumReplace16(out, ip + 10, oldId, newId);
  if (t.outerIp >= 0) {
    const op = at + t.outerIp;
    const oid = (out[op + 4]! << 8) | out[op + 5]!;
    const nid = (ipId * 7 + 3) & 0xffff;
    out[op + 4] = nid >>> 8;
    out[op + 5] = nid & 0xff;
    checksumReplace16(out, op + 10, oid, nid);
  }
  if (t.tcpSeq >= 0) {
    const s = at + t.tcpSeq;
    const oldHi = (out[s]! << 8) | out[s + 1]!;
    const oldLo = (out[s + 2]! << 8) | out[s + 3]!;
    const v = tcpSeq >>> 0;
    const hi = v >>> 16;
    const lo = v & 0xffff;
    out[s] = hi >>> 8;
    out[s + 1] = hi & 0xff;
    out[s + 2] = lo >>> 8;
    out[s + 3] = lo & 0xff;
    if (t.l4Csum >= 0) {
      checksumReplace16(out, at + t.l4Csum, oldHi, hi);
      checksumReplace16(out, at + t.l4Csum, oldLo, lo);
    }
  }
  if (t.dnsId >= 0) {
    const d = at + t.dnsId;
    const old = (out[d]! << 8) | out[d + 1]!;
    const v = dnsId & 0xffff;
    out[d] = v >>> 8;
    out[d + 1] = v & 0xff;
    if (t.l4Csum >= 0) checksumReplace16(out, at + t.l4Csum, old, v);
  }
}

// ---------------------------------------------------------------------------------------------
// DNS messages (RFC 1035), as a resolver in a pod sends them and CoreDNS answers.

export const DNS_A = 1;
export const DNS_AAAA = 28;
export const DNS_PTR = 12;
export const DNS_SOA = 6;

export function encodeDnsName(name: string): Uint8Array {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  let n = 1;
  for (const l of labels) n += 1 + l.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const l of labels) {
    out[o++] = l.length;
    for (let i = 0; i < l.length; i++) out[o++] = l.charCodeAt(i) & 0x7f;
  }
  out[o] = 0;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u16(v: number): Uint8Array {
  return new Uint8Array([(v >>> 8) & 0xff, v & 0xff]);
}

function u32b(v: number): Uint8Array {
  return new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** A standard query with recursion desired, one question, no EDNS (glibc and musl stub resolvers). */
export function dnsQuery(id: number, name: string, qtype: number): Uint8Array {
  return concat([u16(id), u16(0x0100), u16(1), u16(0), u16(0), u16(0), encodeDnsName(name), u16(qtype), u16(1)]);
}

/**
 * CoreDNS's answer to `dnsQuery(id, name, qtype)`: for cluster.local names it is authoritative
 * (AA); an address answer carries `answers`; an empty answer set is NXDOMAIN (or NODATA when
 * `nodata`) with the zone's SOA in the authority section, as CoreDNS's kubernetes plugin does.
 */
export function dnsResponse(id: number, name: string, qtype: number, answers: number[], opts: { nodata?: boolean; ttl?: number } = {}): Uint8Array {
  const cluster = /\.cluster\.local\.?$/.test(name);
  const ttl = opts.ttl ?? (cluster ? 5 : 30);
  const rcode = answers.length === 0 && !opts.nodata ? 3 : 0;
  const flags = 0x8000 | (cluster ? 0x0400 : 0) | 0x0100 | 0x0080 | rcode;
  const parts: Uint8Array[] = [u16(id), u16(flags), u16(1), u16(answers.length), u16(answers.length === 0 ? 1 : 0), u16(0)];
  parts.push(encodeDnsName(name), u16(qtype), u16(1));
  for (const a of answers) {
    parts.push(u16(0xc00c), u16(qtype), u16(1), u32b(ttl));
    if (qtype === DNS_AAAA) {
      parts.push(u16(16), new Uint8Array([0xfd, 0, 0x10, 0x96, 0, 0, 0, 0, 0, 0, 0, 0]), u32b(a));
    } else {
      parts.push(u16(4), u32b(a));
    }
  }
  if (answers.length === 0) {
    const zone = cluster ? 'cluster.local' : '';
    const rdata = concat([
      encodeDnsName(cluster ? 'ns.dns.cluster.local' : 'a.root-servers.net'),
      encodeDnsName(cluster ? 'hostmaster.cluster.local' : 'nstld.verisign-grs.com'),
      u32b(cluster ? 1735689600 : 2025010100),
      u32b(7200),
      u32b(1800),
      u32b(86400),
      u32b(cluster ? 5 : 86400),
    ]);
    parts.push(encodeDnsName(zone), u16(DNS_SOA), u16(1), u32b(ttl), u16(rdata.length), rdata);
  }
  return concat(parts);
}

/** A TLS 1.2/1.3 application-data record header followed by opaque bytes. */
export function tlsRecord(len: number, fill: (i: number) => number): Uint8Array {
  const n = Math.min(len, 96);
  const out = new Uint8Array(5 + n);
  out[0] = 0x17;
  out[1] = 3;
  out[2] = 3;
  out[3] = (len >>> 8) & 0xff;
  out[4] = len & 0xff;
  for (let i = 0; i < n; i++) out[5 + i] = fill(i) & 0xff;
  return out;
}

/** An ICMP echo payload as Linux ping sends it: 8-byte timestamp, then 0x10, 0x11, ... */
export function pingPayload(n = 56): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 8; i < n; i++) out[i] = (i + 8) & 0xff;
  out[0] = 0x67;
  out[1] = 0x8a;
  out[2] = 0x1c;
  out[3] = 0x40;
  return out;
}
