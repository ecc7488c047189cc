// Sampled-header dissector: turns the header bytes of an sFlow flow sample (sampled_header,
// enterprise 0 format 1) into sFlow-RT flow attributes and the `stack` key.
//
// Two ways in, one implementation:
//  - lazy (the hot path): parsePacket(headerProtocol, bytes, view?) walks the layers once into a
//    reusable PacketView, recording numbers only (view.ts); keyReader(name) compiles an attribute
//    name once into a function that formats just that attribute from the view (keys.ts).
//  - eager: dissect(headerProtocol, bytes) parses into a private view and runs every key's
//    formatter, returning all attributes as one object (tests, tools, `decode`).
// Parsing reads the bytes in place (no copies, no DataView), bounds every read by the end of the
// current layer, never throws on malformed or truncated input, and is bounded in time (at most
// MAX_LAYERS protocol layers; every loop advances through the buffer or has a fixed iteration
// cap).
//
// Header protocols handled (sFlow v5 header_protocol enum):
//   1  Ethernet (Ethernet II and 802.3 with LLC/SNAP)    11 raw IPv4      12 raw IPv6
//   13 MPLS label stack                                   7  PPP           14 POS (PPP in
//   HDLC-like framing, or Cisco HDLC)                     15 802.11 MAC (data frames)
// Any other value yields an empty attribute set (no `stack`).
//
// ---------------------------------------------------------------------------------------------
// `stack` rules (tokens joined with '.', outermost first), as derived from the recorded sFlow-RT
// 3.1 answers in testdata/sflow-rt (stacks.txt, activeflows and flowkeys of the hsflowd-flows and
// hsflowd-tunnels-sample replays):
//  - one token per decoded layer: eth, q (each 802.1Q/802.1ad tag), mpls (whole label stack),
//    arp, ip, ip6, tcp, udp, icmp, icmp6, gre, vxlan, geneve, esp, ibbt (RoCEv2 BTH); and for
//    the non-Ethernet header protocols ppp, chdlc, wlan (our names; sFlow-RT shows none).
//  - IPv6 extension headers (hop-by-hop, routing incl. SRv6, fragment, destination options, AH)
//    are not tokens: SRv6 carrying IPv4 is `eth.ip6.ip.udp` (recorded).
//  - the packet quoted inside an ICMP/ICMPv6 error is not part of the stack (`ip.icmp`), but
//    its addresses/ports fill the icmpunreachable* keys.
//  - a non-first IPv4/IPv6 fragment stops at `ip`/`ip6`; a first fragment is decoded further.
//  - an IPv4 header whose header checksum is wrong is not decoded at all (recorded probe
//    _probes/ipv4-checksum: the stack stops at `eth`).
//  - UDP 4789 and 8472 (flannel) are VXLAN, 6081 Geneve, 4791 RoCEv2 (destination port first,
//    then source port).
//  - application tokens: `dns` is appended for UDP with source or destination port 53 when a
//    12-byte DNS header is present (recorded: `ip.udp.dns`, also for answers to ephemeral
//    ports; mDNS 5353 gets no token). For TCP port 53 we append `dns` only when a
//    length-prefixed DNS header is present (sFlow-RT left a payload-less SYN to port 53 as
//    `ip.tcp`; TCP DNS with payload was not in the recordings — inferred).
//    `http` is appended for TCP with source or destination port 80 or 8080 whose payload
//    starts with an HTTP request line (`GET `, `POST `, ... ) or `HTTP/`. Fitting the recorded
//    decaying `ip.tcp.http` / `ip.tcp` values of the hsflowd-flows replay reproduces them to
//    0.1% with exactly this rule (payload-less segments and continuation segments on 8080 are
//    `ip.tcp`); HTTP on 8081 (the IPv6 server in that capture) never got the token, so the
//    port list is {80, 8080} (8081 excluded; other ports unknown).
//    No other application tokens exist (no `https`, no `mdns`).
//  - where sFlow-RT stops early we go on: IPv6-in-IPv6 (ip6tnl) is `eth.ip6.ip6.tcp` here and
//    `eth.ip6` in sFlow-RT. docs/stack.md lists every difference from sFlow-RT and from tshark.
//
// Attribute naming: sFlow-RT names (reference §3.4 and the recorded /flowkeys answers). Inner
// layers repeat a protocol's keys with a suffix that counts earlier layers *of the same
// protocol*, as recorded (`ipsource.1` for the second IPv4 header; in `eth.ip6.ip.udp` the IPv4
// header is `ipsource` without suffix; the inner TCP of a VXLAN packet is `tcpsourceport`).
// `<token>_offset` is the byte offset of the layer in the sampled header.
//
// The result object of dissect(): its prototype is one frozen, empty object whose own prototype
// is null, so no key is inherited ('toString' in attrs === false) and it behaves as a
// null-prototype object for every lookup; a literal Object.create(null) would be a
// dictionary-mode object, much slower to fill.

import { LAYER_FORMATTERS, type LayerFormatter } from './keys.js';
import { T_COUNT } from './stack.js';
import { PacketView, getVerifyIpv4Checksum, parsePacket, setVerifyIpv4Checksum } from './view.js';

/** Flow attributes of one sampled header, keyed by sFlow-RT attribute name. */
export type FlowAttributes = Record<string, string>;

/** sFlow header_protocol values (sFlow v5, sampled_header). */
export const HEADER_PROTOCOL = {
  ETHERNET: 1,
  PPP: 7,
  IPV4: 11,
  IPV6: 12,
  MPLS: 13,
  POS: 14,
  IEEE80211: 15,
} as const;

/** Dissector options (process-wide; set once at start-up). */
export interface DissectorOptions {
  /**
   * Check IPv4 header checksums and leave a header that fails undecoded, as sFlow-RT does
   * (recorded: such a packet's stack is `eth`). Default true. Applies to parsePacket(), so to
   * every key reader and to dissect().
   */
  verifyIpv4Checksum: boolean;
  /** dissect() includes the `<token>_offset` keys (byte offset of each layer). Default true. */
  offsets: boolean;
  /**
   * dissect() includes the less used header fields: ipdscpname, ipid, ipoptionslength,
   * ip6dscpname, tcpwindow, tcpoffset, tcpoptbytes, tcppayloadbytes. Default true.
   */
  extras: boolean;
  /**
   * dissect() includes `tcpseqno` and `tcpackno`. Default false: they are unique per packet
   * (useless as flow keys). keyReader('tcpseqno') reads them whatever this says.
   */
  tcpSequenceNumbers: boolean;
}

export const DEFAULT_DISSECTOR_OPTIONS: Readonly<DissectorOptions> = Object.freeze({
  verifyIpv4Checksum: true,
  offsets: true,
  extras: true,
  tcpSequenceNumbers: false,
});

/** Keys controlled by the `extras` option. */
export const EXTRA_KEYS: readonly string[] = ['ipdscpname', 'ipid', 'ipoptionslength', 'ip6dscpname', 'tcpwindow', 'tcpoffset', 'tcpoptbytes', 'tcppayloadbytes'];

let options: DissectorOptions = { ...DEFAULT_DISSECTOR_OPTIONS };

/** Whether dissect() includes key `name` under the options in force. */
function included(name: string): boolean {
  if (!options.offsets && name.endsWith('_offset')) return false;
  if (!options.extras && EXTRA_KEYS.includes(name)) return false;
  if (!options.tcpSequenceNumbers && (name === 'tcpseqno' || name === 'tcpackno')) return false;
  return true;
}

// dissect() adds a layer's keys through an emitter generated once per (token, suffix) from
// LAYER_FORMATTERS: named stores of constant keys keep the result a fast object with one shape
// per stack (a loop of keyed stores with varying names would make it a slow dictionary, about
// 10x slower, measured), and an emitter compiled from its own source calls its formatters from
// call sites of its own, which V8 inlines.
type Emitter = (o: FlowAttributes, v: PacketView, i: number) => void;
let emitters: (Emitter | undefined)[][] = [];

function emitter(t: number, c: number): Emitter {
  const perToken = (emitters[t] ??= []);
  let e = perToken[c];
  if (e === undefined) {
    const formatters: LayerFormatter[] = [];
    let body = 'let x;\n';
    for (const [name, f] of LAYER_FORMATTERS[t]!) {
      if (!included(name)) continue;
      const key = JSON.stringify(c === 0 ? name : `${name}.${c}`);
      body += `x = f${formatters.length}(v, i); if (x !== undefined) o[${key}] = x;\n`;
      formatters.push(f);
    }
    // The source holds string literals built from LAYER_FORMATTERS' key names (constants) only.
    const make = new Function(...formatters.map((_, k) => `f${k}`), `return function emit(o, v, i) {\n${body}};`);
    e = make(...formatters) as Emitter;
    perToken[c] = e;
  }
  return e;
}

/** Sets dissector options; unspecified ones return to their defaults. Returns the options in force. */
export function configureDissector(o: Partial<DissectorOptions> = {}): DissectorOptions {
  options = {
    verifyIpv4Checksum: o.verifyIpv4Checksum ?? DEFAULT_DISSECTOR_OPTIONS.verifyIpv4Checksum,
    offsets: o.offsets ?? DEFAULT_DISSECTOR_OPTIONS.offsets,
    extras: o.extras ?? DEFAULT_DISSECTOR_OPTIONS.extras,
    tcpSequenceNumbers: o.tcpSequenceNumbers ?? DEFAULT_DISSECTOR_OPTIONS.tcpSequenceNumbers,
  };
  setVerifyIpv4Checksum(options.verifyIpv4Checksum);
  emitters = [];
  return { ...options, verifyIpv4Checksum: getVerifyIpv4Checksum() };
}

// The result object. Instances are ordinary fast-mode objects; see the header comment.
type Attrs = FlowAttributes;
type AttrsConstructor = new (wide?: boolean) => Attrs;

/** Attributes kept inside the object itself (more go to a separate, growing property array). */
const IN_OBJECT_SLOTS = 40;

/**
 * The constructor of result objects. V8 sizes instances of a constructor from the number of
 * `this.x =` assignments in its source and, after a few instances, shrinks them to the widest
 * shape seen ("slack tracking"). Our attributes are added after construction, so without help
 * V8 settles on 10 in-object slots and then reallocates the property array every 3 attributes.
 * The generated constructor declares IN_OBJECT_SLOTS assignments that only run for one warm-up
 * instance, which keeps that many slots in every instance. The prototype is a frozen empty
 * object with a null prototype.
 */
function wideConstructor(slots: number, prototype: object): AttrsConstructor {
  let body = 'if (wide === true) {\n';
  for (let i = 0; i < slots; i++) body += `  this.w${i} = '';\n`;
  body += '}\n';
  // The body is built from constants only.
  const ctor = new Function('wide', body) as unknown as AttrsConstructor & { prototype: object };
  ctor.prototype = prototype;
  new ctor(true);
  for (let i = 0; i < 8; i++) new ctor();
  return ctor;
}

const ATTRS_PROTOTYPE: object = Object.freeze(Object.create(null) as object);
const Attrs = wideConstructor(IN_OBJECT_SLOTS, ATTRS_PROTOTYPE);

/** True for objects returned by dissect(). */
export function isFlowAttributes(x: unknown): x is FlowAttributes {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === ATTRS_PROTOTYPE;
}

const counts = new Uint8Array(T_COUNT);

/** dissect()'s own view, so that it never disturbs a view the caller is reading from. */
const eagerView = new PacketView();

/**
 * Dissects a sampled packet header into all its attributes (and `stack`) at once. The hot path
 * uses parsePacket() and keyReader() instead, which format only the attributes asked for.
 * @param headerProtocol sFlow header_protocol (1 Ethernet, 11 IPv4, 12 IPv6, 13 MPLS, 7 PPP, 14 POS, 15 802.11)
 * @param bytes the sampled header (read in place, not retained)
 */
export function dissect(headerProtocol: number, bytes: Uint8Array): FlowAttributes {
  const v = parsePacket(headerProtocol, bytes, eagerView);
  const o = new Attrs();
  // layer by layer, outermost first: where two protocols have the same key (macsource of wlan
  // and of an inner eth) the inner one wins, as keyReader() has it
  let seen = 0;
  for (let i = 0; i < v.layers; i++) {
    const t = v.token[i]!;
    // earlier layers of this protocol: the suffix
    let c = 0;
    if ((seen & (1 << t)) === 0) {
      seen |= 1 << t;
      counts[t] = 1;
    } else {
      c = counts[t]!++;
    }
    emitter(t, c)(o, v, i);
  }
  if (v.layers !== 0) o.stack = v.stack!;
  v.clear();
  return o;
}
