// The lazy half of the sampled-header dissector: parsePacket() walks the layers of a sampled
// header once and records only numbers in a reusable PacketView (which layers, where they start,
// how far their bytes may be read, and the few facts that later keys need). Attribute values are
// formatted on demand by the compiled readers of keys.ts; dissect.ts builds the eager attribute
// object from the same view. The rules (which layer follows which, bounds, `stack` tokens) are
// documented in dissect.ts and docs/stack.md.
//
// parsePacket() reads the bytes in place (no copies, no DataView), bounds every read by the end
// of the current layer, never throws on malformed or truncated input, allocates nothing (the
// `stack` string comes from the interning trie of stack.ts), and is bounded in time (at most
// MAX_LAYERS layers; every loop advances through the buffer or has a fixed iteration cap).

import {
  STACK_ROOT,
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
  stackPush,
  type StackNode,
} from './stack.js';

/**
 * The tokens of stack.ts (T_*), and the walk's own steps, as a const enum: the compiler writes
 * them as literals, which the walk needs to be fast (a module constant is a load and a check
 * on every use, measured at about 20% of the walk; literal case labels also make a jump table).
 * Checked against stack.ts when this module loads.
 */
const enum L {
  ETH = 0,
  Q = 1,
  MPLS = 2,
  ARP = 3,
  IP = 4,
  IP6 = 5,
  TCP = 6,
  UDP = 7,
  ICMP = 8,
  ICMP6 = 9,
  GRE = 10,
  VXLAN = 11,
  GENEVE = 12,
  DNS = 13,
  HTTP = 14,
  ESP = 15,
  IBBT = 16,
  PPP = 17,
  CHDLC = 18,
  WLAN = 19,
  /** Not layers: what follows a POS header (Cisco HDLC or PPP), an IPv4 AH header (skipped). */
  POS = 20,
  AH = 21,
  /** No further layer. */
  END = -1,
  /** Protocol layers decoded at most. */
  MAX_LAYERS = 32,
}

const TOKEN_NUMBERS: readonly (readonly [L, number])[] = [
  [L.ETH, T_ETH], [L.Q, T_Q], [L.MPLS, T_MPLS], [L.ARP, T_ARP], [L.IP, T_IP], [L.IP6, T_IP6], [L.TCP, T_TCP],
  [L.UDP, T_UDP], [L.ICMP, T_ICMP], [L.ICMP6, T_ICMP6], [L.GRE, T_GRE], [L.VXLAN, T_VXLAN], [L.GENEVE, T_GENEVE],
  [L.DNS, T_DNS], [L.HTTP, T_HTTP], [L.ESP, T_ESP], [L.IBBT, T_IBBT], [L.PPP, T_PPP], [L.CHDLC, T_CHDLC], [L.WLAN, T_WLAN],
];
if (TOKEN_NUMBERS.length !== T_COUNT || TOKEN_NUMBERS.some(([a, b]) => a !== b) || L.POS !== T_COUNT) {
  throw new Error('packet/view.ts: token numbers out of step with stack.ts');
}

/** Protocol layers decoded at most (encapsulation depth bound). */
export const MAX_LAYERS: number = L.MAX_LAYERS;

/** HTTP request methods recognised at the start of a TCP payload (index = PacketView.aux of an `http` layer). */
export const HTTP_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

const EMPTY = new Uint8Array(0);

/**
 * The layers of one sampled header, as numbers. Reused from packet to packet: parsePacket()
 * resets it, so a view describes the last packet parsed into it, and its key readers format
 * from `bytes`, which must stay unchanged until they have run.
 *
 * Per layer i < layers: token[i] (stack.ts T_*), offset[i] (byte offset: `<token>_offset`),
 * limit[i] (end of the bytes the layer's fields may be read from: the captured bytes cut to the
 * enclosing IP/UDP lengths) and per-token facts in aux/aux2/aux3:
 *   eth   aux = EtherType after tags and LLC/SNAP, -1 if none (cut, plain LLC, cut inside tags)
 *   q     offset = the tag control information
 *   ppp   aux = PPP protocol
 *   wlan  aux = EtherType or -1, aux2 = destination address offset, aux3 = source address offset
 *   ip6   aux = next header after the extension headers, -1 when cut inside them
 *   tcp   aux = end of the IP packet (for tcppayloadbytes)
 *   http  aux = index in HTTP_METHODS for a request, -1 for a status line
 * Entries at and beyond `layers` are left over from earlier packets and never read.
 */
export class PacketView {
  /** The sampled header of the last packet parsed (empty after clear()). */
  bytes: Uint8Array = EMPTY;
  /** sFlow header_protocol of the last packet parsed. */
  headerProtocol = 0;
  /** Number of layers decoded (0: no `stack`). */
  layers = 0;
  /** Bit t set when a layer with token t was decoded. */
  present = 0;
  /** The interned `stack` path, once asked for (null: not yet looked up for this packet). */
  private node: StackNode | null = null;
  readonly token = new Uint8Array(MAX_LAYERS);
  readonly offset = new Int32Array(MAX_LAYERS);
  readonly limit = new Int32Array(MAX_LAYERS);
  readonly aux = new Int32Array(MAX_LAYERS);
  readonly aux2 = new Int32Array(MAX_LAYERS);
  readonly aux3 = new Int32Array(MAX_LAYERS);
  /** Index of the first layer with token t (valid where bit t of `present` is set). */
  readonly first = new Uint8Array(T_COUNT);

  /**
   * The `stack` key: tokens joined with '.', outermost first; undefined when nothing was
   * decoded. Interned: the trie of stack.ts is walked once per packet, allocating nothing for
   * a path seen before.
   */
  get stack(): string | undefined {
    if (this.layers === 0) return undefined;
    if (this.node !== null) return this.node.s;
    let n: StackNode = STACK_ROOT;
    for (let i = 0; i < this.layers; i++) {
      const t = this.token[i]!;
      const child: StackNode | undefined = n.next[t];
      n = child !== undefined ? child : stackPush(n, t);
    }
    this.node = n;
    return n.s;
  }

  /** True when a layer with token t was decoded. */
  hasToken(t: number): boolean {
    return (this.present & (1 << t)) !== 0;
  }

  /** How many layers before layer i have its token (the `.N` suffix of its keys). */
  ordinal(i: number): number {
    const t = this.token[i]!;
    let c = 0;
    for (let j = this.first[t]!; j < i; j++) if (this.token[j] === t) c++;
    return c;
  }

  /** Index of the layer with token t preceded by c layers with token t, or -1. */
  layerOf(t: number, c: number): number {
    if ((this.present & (1 << t)) === 0) return -1;
    let i = this.first[t]!;
    for (let k = 0; k < c; k++) {
      do i++;
      while (i < this.layers && this.token[i] !== t);
      if (i >= this.layers) return -1;
    }
    return i;
  }

  /** Starts a new packet (used by parsePacket). */
  reset(bytes: Uint8Array, headerProtocol: number): void {
    this.bytes = bytes;
    this.headerProtocol = headerProtocol;
    this.layers = 0;
    this.present = 0;
    this.node = null;
  }

  /** Forgets the packet (drops the reference to its bytes). */
  clear(): void {
    this.reset(EMPTY, 0);
  }
}

/** The view parsePacket() uses when given none. */
export const sharedView = new PacketView();

let verifyChecksum = true;

/** Whether IPv4 headers with a wrong header checksum are left undecoded (sFlow-RT behaviour; default true). */
export function setVerifyIpv4Checksum(on: boolean): void {
  verifyChecksum = on;
}

export function getVerifyIpv4Checksum(): boolean {
  return verifyChecksum;
}

// ---------------------------------------------------------------------------------------------
// The walk. One loop over the layers, in one function, so that the per-packet state (bytes,
// limit, IP end) lives in locals: each layer checks its fixed header, records itself (push) and
// names the layer that follows (`next`, at offset `p`), or ends the walk.

/** Records a layer with token t at byte offset off, readable up to lim; returns its index. */
function push(v: PacketView, t: number, off: number, lim: number): number {
  const i = v.layers++;
  v.token[i] = t;
  v.offset[i] = off;
  v.limit[i] = lim;
  const bit = 1 << t;
  if ((v.present & bit) === 0) {
    v.present |= bit;
    v.first[t] = i;
  }
  return i;
}

export function isVlanType(t: number): boolean {
  return t === 0x8100 || t === 0x88a8 || t === 0x9100 || t === 0x9200;
}

/** LLC/SNAP header with an EtherType (OUI 00-00-00 or 00-00-F8) at p. */
function isSnap(b: Uint8Array, p: number, lim: number): boolean {
  return p + 8 <= lim && b[p] === 0xaa && b[p + 1] === 0xaa && b[p + 2] === 0x03 && b[p + 3] === 0 && b[p + 4] === 0 && (b[p + 5] === 0 || b[p + 5] === 0xf8);
}

/** The layer an EtherType announces. */
function etherNext(type: number): number {
  switch (type) {
    case 0x0800:
      return L.IP;
    case 0x86dd:
      return L.IP6;
    case 0x0806:
      return L.ARP;
    case 0x8847:
    case 0x8848:
      return L.MPLS;
    default:
      return L.END;
  }
}

/** The layer an IP protocol number announces. */
function ipNext(proto: number): number {
  switch (proto) {
    case 6:
      return L.TCP;
    case 17:
      return L.UDP;
    case 1:
      return L.ICMP;
    case 58:
      return L.ICMP6;
    case 4:
      return L.IP;
    case 41:
      return L.IP6;
    case 47:
      return L.GRE;
    case 50:
      return L.ESP;
    case 51:
      return L.AH;
    default:
      return L.END;
  }
}

export function isIp6Extension(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 60 || nh === 51 || nh === 135 || nh === 139 || nh === 140 || nh === 253 || nh === 254;
}

/** True when the IPv4 header at off (ihl bytes, 20 to 60, within the bytes) has a correct header checksum. */
function ipv4ChecksumOk(b: Uint8Array, off: number, ihl: number): boolean {
  // The one's-complement sum of the 16-bit words, with the high and the low bytes summed apart
  // (fewer operations than assembling each word); the fixed 20 bytes unrolled.
  let hi = b[off]! + b[off + 2]! + b[off + 4]! + b[off + 6]! + b[off + 8]! + b[off + 10]! + b[off + 12]! + b[off + 14]! + b[off + 16]! + b[off + 18]!;
  let lo = b[off + 1]! + b[off + 3]! + b[off + 5]! + b[off + 7]! + b[off + 9]! + b[off + 11]! + b[off + 13]! + b[off + 15]! + b[off + 17]! + b[off + 19]!;
  for (let k = off + 20; k < off + ihl; k += 2) {
    hi += b[k]!;
    lo += b[k + 1]!;
  }
  let sum = (hi << 8) + lo; // at most 30 * 0xffff
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** Offset of the GRE payload (after the optional fields), or -1 when it is not decoded further. */
export function grePayload(bytes: Uint8Array, off: number, limit: number): number {
  const flags = (bytes[off]! << 8) | bytes[off + 1]!;
  let p = off + 4;
  if ((flags & 0xc000) !== 0) p += 4; // checksum (and offset) present
  let ok = (flags & 7) === 0 && (flags & 0x4000) === 0; // version 0, no source routing
  if ((flags & 0x2000) !== 0) {
    if (p + 4 > limit) ok = false;
    p += 4; // key
  }
  if ((flags & 0x1000) !== 0) p += 4; // sequence number
  return ok && p < limit ? p : -1;
}

/** Matches ASCII text `s` at p, within limit; returns the offset after it or -1. */
export function matchAscii(bytes: Uint8Array, p: number, limit: number, s: string): number {
  if (p + s.length > limit) return -1;
  for (let i = 0; i < s.length; i++) if (bytes[p + i] !== s.charCodeAt(i)) return -1;
  return p + s.length;
}

/**
 * Parses a sampled packet header into `v` (by default the shared view) and returns it.
 * @param headerProtocol sFlow header_protocol (1 Ethernet, 11 IPv4, 12 IPv6, 13 MPLS, 7 PPP, 14 POS, 15 802.11)
 * @param bytes the sampled header (read in place; referenced by the view until its next parse)
 */
export function parsePacket(headerProtocol: number, bytes: Uint8Array, v: PacketView = sharedView): PacketView {
  v.reset(bytes, headerProtocol);
  const b = bytes;
  let lim = bytes.length; // end of readable bytes for the current layer (captured bytes ∩ enclosing lengths)
  let l3End = -1; // end of the innermost IP packet per its length field (may exceed the capture); -1 unknown
  let next: number;
  switch (headerProtocol) {
    case 1:
      next = L.ETH;
      break;
    case 11:
      next = L.IP;
      break;
    case 12:
      next = L.IP6;
      break;
    case 13:
      next = L.MPLS;
      break;
    case 7:
      next = L.PPP;
      break;
    case 14:
      next = L.POS;
      break;
    case 15:
      next = L.WLAN;
      break;
    default:
      next = L.END;
      break;
  }
  let p = 0; // offset of the next layer
  // Bounded: every step records a layer (at most MAX_LAYERS, checked before each push), skips
  // an IPv4 AH header (p moves forward, within lim), or hands a POS header on to PPP.
  while (next !== L.END) {
    const off = p;
    const what = next;
    next = L.END;
    switch (what) {
      // ---- layer 2
      case L.ETH: {
        if (off + 14 > lim || v.layers >= L.MAX_LAYERS) break;
        const i = push(v, L.ETH, off, lim);
        let type = (b[off + 12]! << 8) | b[off + 13]!;
        p = off + 14;
        // 802.1Q / 802.1ad tags, one `q` layer each
        while (isVlanType(type) && p + 4 <= lim && v.layers < L.MAX_LAYERS) {
          push(v, L.Q, p, lim);
          type = (b[p + 2]! << 8) | b[p + 3]!;
          p += 4;
        }
        if (type < 0x600) {
          // 802.3 length field: LLC, and SNAP with an EtherType
          type = -1;
          if (isSnap(b, p, lim)) {
            type = (b[p + 6]! << 8) | b[p + 7]!;
            p += 8;
          }
        }
        // no EtherType (nor ethernetprotocol) when cut inside the tags
        if (type >= 0 && !isVlanType(type)) {
          v.aux[i] = type;
          next = etherNext(type);
        } else {
          v.aux[i] = -1;
        }
        break;
      }
      case L.ARP:
        if (off + 8 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.ARP, off, lim);
        break;
      case L.MPLS: {
        // The payload is guessed as sFlow has no payload type: IPv4 after label 0 or when the
        // first nibble is 4, IPv6 after label 2 or nibble 6, else an Ethernet pseudowire (with
        // a control word when the nibble is 0).
        if (off + 4 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.MPLS, off, lim);
        p = off;
        let bottom = false;
        let lastLabel = -1;
        for (let n = 0; n < 16 && p + 4 <= lim; n++) {
          const e = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
          lastLabel = e >>> 12;
          p += 4;
          if ((e & 0x100) !== 0) {
            bottom = true;
            break;
          }
        }
        if (!bottom || p >= lim) break;
        const nib = b[p]! >>> 4;
        if ((lastLabel === 0 || nib === 4) && lastLabel !== 2) next = L.IP;
        else if (lastLabel === 2 || nib === 6) next = L.IP6;
        else {
          next = L.ETH;
          if (nib === 0) p += 4; // pseudowire control word
        }
        break;
      }
      case L.PPP: {
        // PPP: optional FF 03 address/control, 1- or 2-byte protocol field
        p = off;
        if (p < lim && b[p] === 0xff) {
          if (p + 2 > lim || b[p + 1] !== 0x03) break; // address/control field cut or invalid
          p += 2;
        }
        if (p + 1 > lim || v.layers >= L.MAX_LAYERS) break;
        let proto: number;
        if ((b[p]! & 1) !== 0) {
          proto = b[p]!;
          p += 1;
        } else {
          if (p + 2 > lim) break;
          proto = (b[p]! << 8) | b[p + 1]!;
          p += 2;
        }
        v.aux[push(v, L.PPP, off, lim)] = proto;
        if (proto === 0x0021) next = L.IP;
        else if (proto === 0x0057) next = L.IP6;
        else if (proto === 0x0281 || proto === 0x0283) next = L.MPLS;
        break;
      }
      case L.POS:
        // POS: Cisco HDLC (0F/8F 00 + EtherType) or PPP in HDLC-like framing
        if (off + 4 <= lim && (b[off] === 0x0f || b[off] === 0x8f) && b[off + 1] === 0) {
          if (v.layers >= L.MAX_LAYERS) break;
          push(v, L.CHDLC, off, lim);
          next = etherNext((b[off + 2]! << 8) | b[off + 3]!);
          p = off + 4;
        } else {
          next = L.PPP;
          p = off;
        }
        break;
      case L.WLAN: {
        // 802.11 MAC: data frames with an LLC/SNAP EtherType payload
        if (off + 24 > lim || v.layers >= L.MAX_LAYERS) break;
        const fc0 = b[off]!;
        const flags = b[off + 1]!;
        if ((fc0 & 3) !== 0) break; // protocol version 0 only
        const toDs = flags & 1;
        const fromDs = (flags >>> 1) & 1;
        let da: number;
        let sa: number;
        if (toDs === 0) {
          da = off + 4;
          sa = fromDs === 0 ? off + 10 : off + 16;
        } else {
          da = off + 16;
          sa = fromDs === 0 ? off + 10 : off + 24;
        }
        p = off + 24;
        if (toDs !== 0 && fromDs !== 0) p += 6;
        if (sa + 6 > lim) break;
        const i = push(v, L.WLAN, off, lim);
        const subtype = fc0 >>> 4;
        let etype = -1;
        if (((fc0 >>> 2) & 3) === 2 && (subtype & 4) === 0 && (flags & 0x40) === 0) {
          if ((subtype & 8) !== 0) {
            p += 2; // QoS control
            if ((flags & 0x80) !== 0) p += 4; // HT control
          }
          if (isSnap(b, p, lim)) {
            etype = (b[p + 6]! << 8) | b[p + 7]!;
            p += 8;
          }
        }
        v.aux[i] = etype;
        v.aux2[i] = da;
        v.aux3[i] = sa;
        if (etype >= 0) next = etherNext(etype);
        break;
      }

      // ---- layer 3
      case L.IP: {
        // nothing is decoded when the header is cut or its checksum is wrong
        if (off + 20 > lim || v.layers >= L.MAX_LAYERS) break;
        const ver = b[off]!;
        if (ver >>> 4 !== 4) break;
        const ihl = (ver & 15) << 2;
        if (ihl < 20 || off + ihl > lim) break;
        // header checksum (sFlow-RT ignores IPv4 headers that fail it)
        if (verifyChecksum && !ipv4ChecksumOk(b, off, ihl)) break;
        push(v, L.IP, off, lim);
        const total = (b[off + 2]! << 8) | b[off + 3]!;
        if (total >= ihl) {
          l3End = off + total;
          if (l3End < lim) lim = l3End;
        } else {
          l3End = -1; // e.g. 0 for a segmentation-offload super-packet
        }
        // fragment offset 0 (not a later fragment)
        if ((((b[off + 6]! & 0x1f) << 8) | b[off + 7]!) === 0) {
          next = ipNext(b[off + 9]!);
          p = off + ihl;
        }
        break;
      }
      case L.IP6: {
        // IPv6 header; extension headers are walked, they are not layers
        if (off + 40 > lim || v.layers >= L.MAX_LAYERS) break;
        if (b[off]! >>> 4 !== 6) break;
        const payload = (b[off + 4]! << 8) | b[off + 5]!;
        if (payload !== 0) {
          l3End = off + 40 + payload;
          if (l3End < lim) lim = l3End;
        } else {
          l3End = -1; // jumbogram or offload super-packet
        }
        // (the extension headers are read within the payload length)
        const i = push(v, L.IP6, off, lim);
        let nh = b[off + 6]!;
        p = off + 40;
        let stop = false;
        let truncated = false;
        // keys.ts (ip6Extension) walks the same chain again for the extension header keys
        for (let n = 0; n < 16 && isIp6Extension(nh); n++) {
          if (p + 8 > lim) {
            stop = truncated = true; // cut inside the extension headers: upper layer unknown
            break;
          }
          const nextHeader = b[p]!;
          let len: number;
          if (nh === 44) {
            len = 8;
            if ((((b[p + 2]! << 8) | b[p + 3]!) >>> 3) !== 0) stop = true; // not the first fragment
          } else if (nh === 51) {
            len = (b[p + 1]! + 2) << 2;
          } else {
            len = (b[p + 1]! + 1) << 3;
          }
          nh = nextHeader;
          p += len;
          if (stop) break;
        }
        v.aux[i] = truncated ? -1 : nh;
        if (!stop && nh !== 59) next = ipNext(nh);
        break;
      }
      case L.AH:
        // IPv4 AH: skipped (as IPv6 does for its AH extension header)
        if (off + 8 <= lim) {
          next = ipNext(b[off]!);
          p = off + ((b[off + 1]! + 2) << 2);
        }
        break;

      // ---- layer 4 and tunnels
      case L.TCP: {
        if (off + 20 > lim || v.layers >= L.MAX_LAYERS) break;
        v.aux[push(v, L.TCP, off, lim)] = l3End >= 0 ? l3End : lim;
        const sp = (b[off]! << 8) | b[off + 1]!;
        const dp = (b[off + 2]! << 8) | b[off + 3]!;
        const hl = (b[off + 12]! >>> 4) << 2;
        p = off + hl;
        if (hl < 20 || p >= lim) break;
        if (sp === 80 || dp === 80 || sp === 8080 || dp === 8080) next = L.HTTP;
        else if ((sp === 53 || dp === 53) && p + 2 <= lim) {
          next = L.DNS; // after the 2-byte length of DNS over TCP
          p += 2;
        }
        break;
      }
      case L.UDP: {
        if (off + 8 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.UDP, off, lim);
        const sp = (b[off]! << 8) | b[off + 1]!;
        const dp = (b[off + 2]! << 8) | b[off + 3]!;
        const len = (b[off + 4]! << 8) | b[off + 5]!;
        if (len >= 8 && off + len < lim) lim = off + len;
        p = off + 8;
        if (p >= lim) break;
        if (dp === 4789 || dp === 8472) next = L.VXLAN;
        else if (dp === 6081) next = L.GENEVE;
        else if (dp === 4791) next = L.IBBT;
        else if (sp === 4789 || sp === 8472) next = L.VXLAN;
        else if (sp === 6081) next = L.GENEVE;
        else if (sp === 53 || dp === 53) next = L.DNS;
        break;
      }
      case L.ICMP:
      case L.ICMP6:
      case L.ESP:
        if (off + 4 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, what, off, lim);
        break;
      case L.GRE: {
        // GRE (RFC 2784/2890), incl. NVGRE/GRETAP (0x6558)
        if (off + 4 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.GRE, off, lim);
        p = grePayload(b, off, lim);
        if (p < 0) break;
        const proto = (b[off + 2]! << 8) | b[off + 3]!;
        if (proto === 0x0800) next = L.IP;
        else if (proto === 0x86dd) next = L.IP6;
        else if (proto === 0x6558) next = L.ETH;
        else if (proto === 0x8847 || proto === 0x8848) next = L.MPLS;
        break;
      }
      case L.VXLAN:
        if (off + 8 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.VXLAN, off, lim);
        next = L.ETH;
        p = off + 8;
        break;
      case L.GENEVE: {
        if (off + 8 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.GENEVE, off, lim);
        if (b[off]! >>> 6 !== 0) break; // unknown version
        p = off + 8 + ((b[off]! & 0x3f) << 2); // option TLVs are skipped as a block
        if (p >= lim) break;
        const proto = (b[off + 2]! << 8) | b[off + 3]!;
        if (proto === 0x6558) next = L.ETH;
        else if (proto === 0x0800) next = L.IP;
        else if (proto === 0x86dd) next = L.IP6;
        break;
      }
      case L.IBBT:
        // InfiniBand base transport header of RoCEv2 (UDP 4791)
        if (off + 12 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.IBBT, off, lim);
        break;

      // ---- applications
      case L.DNS:
        // DNS message (UDP payload, or after the 2-byte length of DNS over TCP)
        if (off + 12 > lim || v.layers >= L.MAX_LAYERS) break;
        push(v, L.DNS, off, lim);
        break;
      case L.HTTP: {
        // HTTP/1.x request or status line at the start of a TCP payload
        if (v.layers >= L.MAX_LAYERS) break;
        let m = 0;
        for (; m < HTTP_METHODS.length; m++) {
          const q = matchAscii(b, off, lim, HTTP_METHODS[m]!);
          if (q >= 0 && b[q] === 0x20 && q < lim) break;
        }
        if (m < HTTP_METHODS.length) v.aux[push(v, L.HTTP, off, lim)] = m;
        else if (matchAscii(b, off, lim, 'HTTP/') >= 0) v.aux[push(v, L.HTTP, off, lim)] = -1;
        break;
      }
      default:
        break;
    }
  }
  return v;
}
