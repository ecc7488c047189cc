// One sample as the flow specs read it. The flow engine fills one SampleView per sample (flow
// sample 0:1/0:3 or discarded packet 0:5) — finding its records in a single pass — and hands it
// to every spec. The sampled header is parsed lazily, once, into a reused PacketView the first
// time a spec reads a packet attribute; nothing of the datagram is kept after the call.
//
// attributeReader(name) compiles a flow attribute name once into a reader of this view:
// packet attributes (the dissector's keyReader, `.N` suffixes included), sample attributes
// (agent, ds, inputifindex, outputifindex, samplingrate, direction, bytes, frames, stripped,
// requests, duration), discard attributes (reason, function, function_full,
// linux_drop_reason, trapgroup, trapname) and the attributes of extended records (switch,
// router, gateway, queue, transit, entities, HTTP/application transactions).

import type { DataSourceState } from '../agents.js';
import { IFINDEX_INTERNAL } from '../../sflow/datasource.js';
import { dropReasonName } from '../../sflow/drop-reasons.js';
import type { DiscardSample, FlowRecord, FlowSample } from '../../sflow/types.js';
import { keyReader, parsePacket, PacketView } from '../../packet/index.js';

/** Reads one attribute of a sample; undefined when the sample has none. */
export type Reader = (s: SampleView) => string | undefined;

// Record shapes we read (structurally; the decoder's types are generated from its schema).
interface HeaderRec {
  headerProtocol: number;
  frameLength: number;
  stripped: number;
  header: Uint8Array;
}
interface Ip4Rec {
  length: number;
  protocol: number;
  srcIP: string;
  dstIP: string;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  tos: number;
}
interface Ip6Rec {
  length: number;
  protocol: number;
  srcIP: string;
  dstIP: string;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  priority: number;
}
interface EthRec {
  length: number;
  srcMac: string;
  dstMac: string;
  type: number;
}
interface SwitchRec {
  srcVlan: number;
  srcPriority: number;
  dstVlan: number;
  dstPriority: number;
}
interface RouterRec {
  nextHop: string;
  srcMaskLen: number;
  dstMaskLen: number;
}
interface GatewayRec {
  nextHop: string;
  as: number;
  srcAs: number;
  srcPeerAs: number;
  dstAsPath: { type: number; asns: number[] }[];
  communities: number[];
  localPref: number;
}
interface HttpRec {
  method: number;
  protocol: number;
  uri: string;
  host: string;
  referer: string;
  userAgent: string;
  xff?: string;
  authUser: string;
  mimeType: string;
  respBytes: bigint;
  durationUs: number;
  status: number;
}
interface AppRec {
  application: string;
  operation: string;
  attributes: string;
  statusDescr: string;
  durationUs: number;
  status: number;
}
interface EntitiesRec {
  srcDsClass: number;
  srcDsIndex: number;
  dstDsClass: number;
  dstDsIndex: number;
}

const EMPTY = new Uint8Array(0);

// Small integers as text, cached (interface indexes, rates, lengths).
const SMALL: string[] = new Array<string>(65536).fill('');
export function num(n: number): string {
  if (n >= 0 && n < 65536 && Number.isInteger(n)) {
    const s = SMALL[n]!;
    if (s !== '') return s;
    return (SMALL[n] = String(n));
  }
  return String(n);
}

/** The interface of a flow sample as a flow key (`internal`, `discard`, `multiple`, else the ifIndex). */
function ifKey(format: number, value: number): string | undefined {
  if (format === 0) return value === IFINDEX_INTERNAL ? 'internal' : num(value);
  if (format === 1) return 'discard';
  if (format === 2) return 'multiple';
  return undefined;
}

/** Key expressions memoised per sample at most (beyond, readers run unmemoised). */
export const MAX_MEMO = 4096;

export class SampleView {
  // ---- per-sample memo of key expressions shared by several specs ---------------------------
  /** Sample sequence number (memo validity). */
  seq = 1;
  readonly memoSeq = new Int32Array(MAX_MEMO);
  readonly memoVal: (string | undefined)[] = new Array<string | undefined>(MAX_MEMO).fill(undefined);

  // ---- set for every sample ----------------------------------------------------------------
  /** Agent address. */
  agent = '';
  /** The data source (its id is `ds.id`). */
  ds: DataSourceState = null as unknown as DataSourceState;
  /** Engine time, ms. */
  now = 0;
  /** true for a discarded-packet notification (0:5). */
  discard = false;
  /** Scale of `bytes`/`frames` values: the effective sampling rate (1 for discards). */
  scale = 1;
  /** Sampling rate declared by the sample (0 for discards). */
  samplingRate = 0;
  inputFormat = 0;
  input = 0;
  outputFormat = 0;
  output = 0;
  /** Discard reason code (-1 for flow samples). */
  reason = -1;

  // ---- records found in the sample (null when absent) -------------------------------------
  header: HeaderRec | null = null;
  ip4: Ip4Rec | null = null;
  ip6: Ip6Rec | null = null;
  eth: EthRec | null = null;
  sw: SwitchRec | null = null;
  router: RouterRec | null = null;
  gateway: GatewayRec | null = null;
  http: HttpRec | null = null;
  app: AppRec | null = null;
  memcacheDurationUs = -1;
  entities: EntitiesRec | null = null;
  fn: string | null = null;
  linuxReason: string | null = null;
  trapGroup: string | null = null;
  trapName: string | null = null;
  egressQueue = -1;
  queueDepth = -1;
  transitDelay = -1;

  // ---- the sampled packet -----------------------------------------------------------------
  private parsed = false;
  readonly view = new PacketView();
  /** Scratch bytes for a header synthesised from sampled_ethernet/ipv4/ipv6 records. */
  private readonly synth = new Uint8Array(14 + 40 + 20);

  /** Fill from a flow sample. `scale` is the effective sampling rate. */
  setFlow(agent: string, ds: DataSourceState, now: number, s: FlowSample, scale: number): void {
    this.agent = agent;
    this.ds = ds;
    this.now = now;
    this.discard = false;
    this.scale = scale > 0 ? scale : 1;
    this.samplingRate = s.samplingRate;
    this.inputFormat = s.inputFormat;
    this.input = s.input;
    this.outputFormat = s.outputFormat;
    this.output = s.output;
    this.reason = -1;
    this.scan(s.records);
  }

  /** Fill from a discarded-packet notification (one event: scale 1). */
  setDiscard(agent: string, ds: DataSourceState, now: number, s: DiscardSample): void {
    this.agent = agent;
    this.ds = ds;
    this.now = now;
    this.discard = true;
    this.scale = 1;
    this.samplingRate = 0;
    // sflow_drops.txt: input/output are `interface` (compact: 2-bit format, 30-bit value).
    this.inputFormat = s.input >>> 30;
    this.input = s.input & 0x3fffffff;
    this.outputFormat = s.output >>> 30;
    this.output = s.output & 0x3fffffff;
    this.reason = s.reason;
    this.scan(s.records);
  }

  private scan(records: readonly FlowRecord[]): void {
    this.seq = (this.seq + 1) | 0;
    if (this.seq === 0) {
      this.memoSeq.fill(0);
      this.seq = 1;
    }
    this.parsed = false;
    this.header = null;
    this.ip4 = null;
    this.ip6 = null;
    this.eth = null;
    this.sw = null;
    this.router = null;
    this.gateway = null;
    this.http = null;
    this.app = null;
    this.memcacheDurationUs = -1;
    this.entities = null;
    this.fn = null;
    this.linuxReason = null;
    this.trapGroup = null;
    this.trapName = null;
    this.egressQueue = -1;
    this.queueDepth = -1;
    this.transitDelay = -1;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      switch (r.kind) {
        case 'sampled_header':
          if (this.header === null) this.header = r as unknown as HeaderRec;
          break;
        case 'sampled_ipv4':
          this.ip4 = r as unknown as Ip4Rec;
          break;
        case 'sampled_ipv6':
          this.ip6 = r as unknown as Ip6Rec;
          break;
        case 'sampled_ethernet':
          this.eth = r as unknown as EthRec;
          break;
        case 'extended_switch':
          this.sw = r as unknown as SwitchRec;
          break;
        case 'extended_router':
          this.router = r as unknown as RouterRec;
          break;
        case 'extended_gateway':
          this.gateway = r as unknown as GatewayRec;
          break;
        case 'http_request':
        case 'http_request_v1':
          this.http = r as unknown as HttpRec;
          break;
        case 'app_operation':
          this.app = r as unknown as AppRec;
          break;
        case 'memcache_operation':
          this.memcacheDurationUs = (r as unknown as { durationUs: number }).durationUs;
          break;
        case 'extended_entities':
          this.entities = r as unknown as EntitiesRec;
          break;
        case 'extended_function':
          this.fn = (r as unknown as { symbol: string }).symbol;
          break;
        case 'extended_linux_drop_reason':
          this.linuxReason = (r as unknown as { reason: string }).reason;
          break;
        case 'extended_hw_trap':
          this.trapGroup = (r as unknown as { group: string }).group;
          this.trapName = (r as unknown as { trap: string }).trap;
          break;
        case 'extended_egress_queue':
          this.egressQueue = (r as unknown as { queue: number }).queue;
          break;
        case 'extended_queue':
          this.queueDepth = (r as unknown as { depth: number }).depth;
          break;
        case 'extended_transit':
          this.transitDelay = (r as unknown as { delay: number }).delay;
          break;
        default:
          break;
      }
    }
  }

  /** The sampled packet, parsed on first use (an empty view when the sample has no header). */
  packet(): PacketView {
    if (this.parsed) return this.view;
    this.parsed = true;
    const h = this.header;
    if (h !== null) return parsePacket(h.headerProtocol, h.header, this.view);
    if (this.ip4 !== null || this.ip6 !== null || this.eth !== null) return this.synthesize();
    this.view.reset(EMPTY, 0);
    return this.view;
  }

  /** Frame length (`bytes`): the sampled header's frame length, else the sampled_* record's length; -1 if unknown. */
  frameLength(): number {
    if (this.header !== null) return this.header.frameLength;
    if (this.eth !== null) return this.eth.length;
    if (this.ip4 !== null) return this.ip4.length;
    if (this.ip6 !== null) return this.ip6.length;
    return -1;
  }

  /** Duration of the application transaction, µs; -1 when none. */
  durationUs(): number {
    if (this.http !== null) return this.http.durationUs;
    if (this.app !== null) return this.app.durationUs;
    return this.memcacheDurationUs;
  }

  /** Drop the references into the datagram (called after the specs have run). */
  release(): void {
    this.header = null;
    this.ip4 = null;
    this.ip6 = null;
    this.eth = null;
    this.sw = null;
    this.router = null;
    this.gateway = null;
    this.http = null;
    this.app = null;
    this.entities = null;
    if (this.parsed) this.view.clear();
    this.parsed = false;
  }

  /**
   * A header built from sampled_ethernet / sampled_ipv4 / sampled_ipv6 records (agents that
   * send decoded fields instead of bytes), so that the same key readers apply.
   */
  private synthesize(): PacketView {
    const b = this.synth;
    b.fill(0);
    let p = 0;
    let hp = 11;
    const e = this.eth;
    if (e !== null) {
      hp = 1;
      writeMac(b, 0, e.dstMac);
      writeMac(b, 6, e.srcMac);
      const type = this.ip4 !== null ? 0x0800 : this.ip6 !== null ? 0x86dd : e.type;
      b[12] = (type >>> 8) & 0xff;
      b[13] = type & 0xff;
      p = 14;
    } else if (this.ip4 === null) hp = 12;
    let proto = -1;
    let src = 0;
    let dst = 0;
    let flags = 0;
    const v4 = this.ip4;
    const v6 = this.ip6;
    if (v4 !== null) {
      b[p] = 0x45;
      b[p + 1] = v4.tos & 0xff;
      const len = Math.min(v4.length, 0xffff);
      b[p + 2] = len >>> 8;
      b[p + 3] = len & 0xff;
      b[p + 8] = 64;
      b[p + 9] = v4.protocol & 0xff;
      writeIp4(b, p + 12, v4.srcIP);
      writeIp4(b, p + 16, v4.dstIP);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += (b[p + i]! << 8) | b[p + i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      const ck = ~sum & 0xffff;
      b[p + 10] = ck >>> 8;
      b[p + 11] = ck & 0xff;
      p += 20;
      proto = v4.protocol;
      src = v4.srcPort;
      dst = v4.dstPort;
      flags = v4.tcpFlags;
    } else if (v6 !== null) {
      b[p] = 0x60 | ((v6.priority >>> 4) & 0x0f);
      b[p + 1] = (v6.priority & 0x0f) << 4;
      const plen = Math.max(0, Math.min(v6.length - 40, 0xffff));
      b[p + 4] = plen >>> 8;
      b[p + 5] = plen & 0xff;
      b[p + 6] = v6.protocol & 0xff;
      b[p + 7] = 64;
      writeIp6(b, p + 8, v6.srcIP);
      writeIp6(b, p + 24, v6.dstIP);
      p += 40;
      proto = v6.protocol;
      src = v6.srcPort;
      dst = v6.dstPort;
      flags = v6.tcpFlags;
    }
    if (proto === 6) {
      b[p] = (src >>> 8) & 0xff;
      b[p + 1] = src & 0xff;
      b[p + 2] = (dst >>> 8) & 0xff;
      b[p + 3] = dst & 0xff;
      b[p + 12] = 0x50 | ((flags >>> 8) & 1);
      b[p + 13] = flags & 0xff;
      p += 20;
    } else if (proto === 17) {
      b[p] = (src >>> 8) & 0xff;
      b[p + 1] = src & 0xff;
      b[p + 2] = (dst >>> 8) & 0xff;
      b[p + 3] = dst & 0xff;
      b[p + 5] = 8;
      p += 8;
    }
    return parsePacket(hp, b.subarray(0, p), this.view);
  }
}

function writeMac(b: Uint8Array, o: number, mac: string): void {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '');
  for (let i = 0; i < 6 && i * 2 + 2 <= hex.length; i++) b[o + i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
}

function writeIp4(b: Uint8Array, o: number, ip: string): void {
  const parts = ip.split('.');
  for (let i = 0; i < 4; i++) b[o + i] = Number(parts[i] ?? 0) & 0xff;
}

/** IPv6 text (with `::`) into 16 bytes. */
export function writeIp6(b: Uint8Array, o: number, ip: string): void {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head === '' || head === undefined ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i] ?? '0', 16) || 0;
    b[o + i * 2] = v >>> 8;
    b[o + i * 2 + 1] = v & 0xff;
  }
}

// ---------------------------------------------------------------------------------------------
// Attribute readers

const DIRECTION_IN = 'ingress';
const DIRECTION_OUT = 'egress';
const ONE = '1';
const HTTP_METHOD_NAMES = ['OTHER', 'OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];
const HTTP_PROTOCOL_NAMES: Record<number, string> = { 1000: 'HTTP/1.0', 1001: 'HTTP/1.1', 2000: 'HTTP/2.0' };

/** `__udp4_lib_rcv+0xbed/0xd90` → `__udp4_lib_rcv` (as sFlow-RT's `function`). */
export function functionSymbol(full: string): string {
  const plus = full.indexOf('+');
  return plus > 0 ? full.slice(0, plus) : full;
}

function dsName(cls: number, index: number): string {
  return cls === 0 ? num(index) : `${cls}.${index}`;
}

/** Numeric value of a u32 field that uses 0xffffffff for "unknown". */
function known(n: number): string | undefined {
  return n === 0xffffffff || n < 0 ? undefined : num(n);
}

const icmpType = keyReader('icmptype')!;
const icmp6Type = keyReader('icmp6type')!;
const dnsQr = keyReader('dnsqr')!;
const httpMethod = keyReader('httpmethod')!;
const tcpFlags = keyReader('tcpflags')!;

/**
 * Whether the sample is a request: an application transaction record (HTTP, application,
 * memcache), or a sampled packet that asks for something — an HTTP request line, a DNS query,
 * an ICMP/ICMPv6 echo request, a TCP SYN without ACK. (sFlow-RT's exact rule is unpublished.)
 */
export function isRequest(s: SampleView): boolean {
  if (s.http !== null || s.app !== null || s.memcacheDurationUs >= 0) return true;
  const v = s.packet();
  if (v.layers === 0) return false;
  if (httpMethod(v) !== undefined) return true;
  const qr = dnsQr(v);
  if (qr !== undefined) return qr === 'false';
  const it = icmpType(v);
  if (it !== undefined) return it === '8';
  const i6 = icmp6Type(v);
  if (i6 !== undefined) return i6 === '128';
  const f = tcpFlags(v);
  // 9 flag bits NS CWR ECE URG ACK PSH RST SYN FIN: SYN set, ACK clear
  return f !== undefined && f.length === 9 && f[7] === '1' && f[4] === '0';
}

/** Readers of the attributes that are not in the sampled packet. */
const SAMPLE_READERS: Record<string, Reader> = {
  agent: (s) => s.agent,
  ds: (s) => s.ds.id,
  datasource: (s) => s.ds.id,
  inputifindex: (s) => ifKey(s.inputFormat, s.input),
  outputifindex: (s) => ifKey(s.outputFormat, s.output),
  // a discard is one event: sampling rate 1
  samplingrate: (s) => (s.discard ? ONE : num(s.samplingRate)),
  direction: (s) => {
    const ds = s.ds;
    if (ds.sourceClass !== 0) return undefined;
    if (s.outputFormat === 0 && s.output === ds.sourceIndex) return DIRECTION_OUT;
    if (s.inputFormat === 0 && s.input === ds.sourceIndex) return DIRECTION_IN;
    return undefined;
  },
  bytes: (s) => {
    const n = s.frameLength();
    return n >= 0 ? num(n) : undefined;
  },
  frames: () => ONE,
  stripped: (s) => (s.header !== null ? num(s.header.stripped) : undefined),
  requests: (s) => (isRequest(s) ? ONE : undefined),
  duration: (s) => {
    const d = s.durationUs();
    return d >= 0 ? num(d) : undefined;
  },
  // discarded packets (sflow_drops.txt)
  reason: (s) => (s.reason >= 0 ? (dropReasonName(s.reason) ?? num(s.reason)) : undefined),
  function: (s) => (s.fn !== null ? functionSymbol(s.fn) : undefined),
  function_full: (s) => (s.fn !== null ? s.fn : undefined),
  linux_drop_reason: (s) => (s.linuxReason !== null ? s.linuxReason : undefined),
  trapgroup: (s) => (s.trapGroup !== null ? s.trapGroup : undefined),
  trapname: (s) => (s.trapName !== null ? s.trapName : undefined),
  // extended_switch
  vlansource: (s) => (s.sw !== null ? known(s.sw.srcVlan) : undefined),
  vlandestination: (s) => (s.sw !== null ? known(s.sw.dstVlan) : undefined),
  prioritysource: (s) => (s.sw !== null ? known(s.sw.srcPriority) : undefined),
  prioritydestination: (s) => (s.sw !== null ? known(s.sw.dstPriority) : undefined),
  // extended_router
  ipnexthoprouter: (s) => (s.router !== null ? s.router.nextHop : undefined),
  ipsourcemaskbits: (s) => (s.router !== null ? num(s.router.srcMaskLen) : undefined),
  ipdestinationmaskbits: (s) => (s.router !== null ? num(s.router.dstMaskLen) : undefined),
  // extended_gateway
  bgpnexthop: (s) => (s.gateway !== null ? s.gateway.nextHop : undefined),
  bgpas: (s) => (s.gateway !== null ? num(s.gateway.as) : undefined),
  bgpsourceas: (s) => (s.gateway !== null ? num(s.gateway.srcAs) : undefined),
  bgpsourcepeeras: (s) => (s.gateway !== null ? num(s.gateway.srcPeerAs) : undefined),
  bgpdestinationas: (s) => {
    const g = s.gateway;
    if (g === null) return undefined;
    const last = g.dstAsPath[g.dstAsPath.length - 1];
    const asns = last?.asns;
    return asns !== undefined && asns.length > 0 ? num(asns[asns.length - 1]!) : undefined;
  },
  bgpdestinationaspath: (s) => (s.gateway !== null ? s.gateway.dstAsPath.map((seg) => seg.asns.join('-')).join('_') : undefined),
  bgpcommunities: (s) => (s.gateway !== null ? s.gateway.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join('-') : undefined),
  bgplocalpref: (s) => (s.gateway !== null ? num(s.gateway.localPref) : undefined),
  // queues and transit (sflow_drops.txt, sflow_transit.txt)
  queueindex: (s) => (s.egressQueue >= 0 ? num(s.egressQueue) : undefined),
  queuedepth: (s) => (s.queueDepth >= 0 ? num(s.queueDepth) : undefined),
  transitdelay: (s) => (s.transitDelay >= 0 ? num(s.transitDelay) : undefined),
  // hsflowd extended_entities (0:2210): the data sources a packet went between
  entitysource: (s) => (s.entities !== null && s.entities.srcDsClass !== 0xffffffff ? dsName(s.entities.srcDsClass, s.entities.srcDsIndex) : undefined),
  entitydestination: (s) => (s.entities !== null && s.entities.dstDsClass !== 0xffffffff ? dsName(s.entities.dstDsClass, s.entities.dstDsIndex) : undefined),
  // HTTP transactions (sflow_http.txt) — the packet's own HTTP fields come first (see below)
  httphost: (s) => (s.http !== null && s.http.host !== '' ? s.http.host : undefined),
  httpreferer: (s) => (s.http !== null && s.http.referer !== '' ? s.http.referer : undefined),
  httpuseragent: (s) => (s.http !== null && s.http.userAgent !== '' ? s.http.userAgent : undefined),
  httpxff: (s) => (s.http?.xff ? s.http.xff : undefined),
  httpauthuser: (s) => (s.http !== null && s.http.authUser !== '' ? s.http.authUser : undefined),
  httpmimetype: (s) => (s.http !== null && s.http.mimeType !== '' ? s.http.mimeType : undefined),
  // application transactions (sflow_application.txt)
  appname: (s) => (s.app !== null ? s.app.application : undefined),
  appoperation: (s) => (s.app !== null ? s.app.operation : undefined),
  appattributes: (s) => (s.app !== null && s.app.attributes !== '' ? s.app.attributes : undefined),
  appstatus: (s) => (s.app !== null ? num(s.app.status) : undefined),
};

/** HTTP keys that an http_request record provides when the packet does not. */
const HTTP_RECORD_FALLBACK: Record<string, Reader> = {
  httpmethod: (s) => (s.http !== null ? HTTP_METHOD_NAMES[s.http.method] : undefined),
  httpurl: (s) => (s.http !== null && s.http.uri !== '' ? s.http.uri : undefined),
  httpprotocol: (s) => (s.http !== null ? HTTP_PROTOCOL_NAMES[s.http.protocol] : undefined),
  httpstatus: (s) => (s.http !== null ? num(s.http.status) : undefined),
};

/** Names of the sample-level attributes (not from the packet). */
export const SAMPLE_ATTRIBUTES: readonly string[] = Object.keys(SAMPLE_READERS);

/** Attributes every flow sample has (for /flowkeys). */
export const ALWAYS_FLOW_ATTRIBUTES: readonly string[] = ['agent', 'ds', 'inputifindex', 'outputifindex', 'samplingrate', 'direction', 'frames'];

const memoSlots = new Map<string, number>();

/**
 * Wrap a reader so that, within one sample, it runs once however many specs read it: the
 * value is kept in the view's memo under a slot allocated per expression text (`ipsource`,
 * `dns:ipsource`...). Past MAX_MEMO distinct expressions readers are returned as they are.
 */
export function memoized(id: string, r: Reader): Reader {
  let slot = memoSlots.get(id);
  if (slot === undefined) {
    if (memoSlots.size >= MAX_MEMO) return r;
    slot = memoSlots.size;
    memoSlots.set(id, slot);
  }
  const k = slot;
  return (s) => {
    if (s.memoSeq[k] === s.seq) return s.memoVal[k];
    const v = r(s);
    s.memoSeq[k] = s.seq;
    s.memoVal[k] = v;
    return v;
  };
}

const attributeCache = new Map<string, Reader | null>();

/**
 * A reader of the attribute `name` (compiled once, memoised per sample), or null when no sample
 * can have it.
 */
export function attributeReader(name: string): Reader | null {
  const cached = attributeCache.get(name);
  if (cached !== undefined) return cached;
  let r: Reader | null;
  const own = SAMPLE_READERS[name];
  if (own !== undefined) r = own;
  else {
    const pr = keyReader(name);
    if (pr === null) r = null;
    else {
      const fallback = HTTP_RECORD_FALLBACK[name];
      r = memoized(name, fallback !== undefined ? (s) => pr(s.packet()) ?? fallback(s) : (s) => pr(s.packet()));
    }
  }
  if (attributeCache.size < 4096) attributeCache.set(name, r);
  return r;
}
