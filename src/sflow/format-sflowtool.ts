// `sflowtool -J` compatible output: the JSON object sflowtool 6.x prints for one datagram.
//
// sflowtool (github.com/sflow/sflowtool, src/sflowtool.c) is the reference sFlow decoder; its JSON
// is the oracle our decoder is held to (../shared/testdata/oracle/*.sflowtool.json). This module
// renders a decoded Datagram the way sflowtool prints it: same field names and order, every value
// a string formatted as sflowtool formats it, the dissection of sampled headers sflowtool does
// itself (Ethernet/802.1Q, 802.3 SNAP, 802.11 addresses, IPv4, IPv6 and its extension headers,
// TCP/UDP/ICMP ports), the `discarded_` prefix inside discard samples, and sflowtool's quirks
// (listed in docs/decode-json.md, "sflowtool compatibility").
//
// Where sflowtool gives up on a datagram (it aborts at the first read past the datagram end, at a
// record or sample whose content does not match its declared length, at an unknown address type
// or value type, at a version it does not know) it stops printing. The output here stops at the
// same field and carries `"_partial": "true"`, the marker the oracle corpus uses for such
// datagrams. To find that point exactly the formatter follows sflowtool's own reading of the raw
// bytes (each sample is walked the way sflowtool walks it); the values printed come from our
// decoder's Datagram whenever sflowtool read that sample cleanly, so comparing this output with
// sflowtool's checks our decoder field by field. When sflowtool did not read a sample cleanly, the
// partial sample is rendered from that walk (sflowtool prints values it read before giving up).
//
// Pure functions over bytes and decoded values; no I/O.

import { parseIPv6 } from './addresses.js';
import { COUNTER_RECORDS, decodeDatagram, FLOW_RECORDS } from './decode.js';
import { sflowtoolDropReasonName } from './drop-reasons.js';
import { encodeDatagram } from './encode.js';
import type { RecordDef } from './flow-records.js';
import { tagName, tagOf } from './tags.js';
import type { Datagram, DecodeResult, Sample } from './types.js';
import { DecodeFault, XdrReader } from './xdr.js';

// ---------------------------------------------------------------------------------------------
// Public API

/** sflowtool's JSON values: strings, objects and arrays (it prints every number as a string). */
export type SflowtoolValue = string | SflowtoolObject | SflowtoolValue[];
export interface SflowtoolObject {
  [field: string]: SflowtoolValue;
}

/** What sflowtool knows about a datagram besides its bytes. */
export interface SflowtoolMeta {
  /**
   * Datagram size (`datagramSize`): the UDP payload length. Defaults to the length of the bytes.
   * (sflowtool reading a capture prints the captured length after the UDP header, which includes
   * any Ethernet padding of short frames.)
   */
  size?: number;
  /** UDP source address (`datagramSourceIP`); absent → "-", which sflowtool prints when it reads a file. */
  sourceIP?: string;
  /** Receive time (`unixSecondsUTC`, `_uS`, `localtime`); absent → 0, which sflowtool prints when it reads a file. */
  readTimestamp?: { sec: number; usec: number };
  /** Capture time (`pcapTimestamp`, `_uS`), printed when present and its seconds are not 0. */
  pcapTimestamp?: { sec: number; usec: number };
  /**
   * Zone of the `localtime` and `pcapTimestamp` text (sflowtool uses the process's local time):
   * 'UTC' (the default, what sflowtool prints with TZ=UTC), 'local' (this process's zone), or
   * minutes east of UTC.
   */
  timeZone?: 'UTC' | 'local' | number;
  /**
   * The datagram's bytes (the UDP payload). When given, sflowtool's framing is followed exactly
   * on them; without them a Datagram is re-encoded first (exact for any well-formed datagram).
   */
  bytes?: Uint8Array;
}

/**
 * The JSON object `sflowtool -J` prints for this datagram. A datagram sflowtool would give up on
 * (see the module comment) yields what it printed before giving up, plus `"_partial": "true"`.
 */
export function formatSflowtoolJson(datagram: Datagram, meta: SflowtoolMeta = {}): SflowtoolObject {
  const bytes = meta.bytes ?? encodeDatagram(datagram);
  return formatWith(bytes, meta, datagram, null);
}

/**
 * The same for a decode that produced an error (or no datagram at all): what sflowtool printed
 * before it gave up, marked `"_partial": "true"` (values come from sflowtool's reading of `bytes`
 * where our decoder could not decode). `meta.bytes` must be the datagram's bytes.
 */
export function formatSflowtoolPartial(result: DecodeResult, meta: SflowtoolMeta & { bytes: Uint8Array }): SflowtoolObject {
  return formatWith(meta.bytes, meta, result.datagram, result.error?.offset ?? null);
}

/** Decode a datagram's bytes and format it as sflowtool does, whether or not it decodes cleanly. */
export function formatSflowtool(bytes: Uint8Array, meta: SflowtoolMeta = {}): SflowtoolObject {
  const result = decodeDatagram(bytes);
  return formatWith(bytes, meta, result.datagram, result.error?.offset ?? null);
}

// ---------------------------------------------------------------------------------------------
// Output builder

/** Thrown where sflowtool gives up (longjmp out of the datagram). */
class GaveUp {
  constructor(readonly why: string) {}
}

function giveUp(why: string): never {
  throw new GaveUp(why);
}

/** sflowtool reads a value before printing it: a value our walk could not read stops the output. */
function need<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) giveUp(`no ${what}`);
  return v;
}

type Container = SflowtoolObject | SflowtoolValue[];

class Out {
  readonly root: SflowtoolObject = {};
  private cur: Container = this.root;
  private readonly stack: Container[] = [];
  /** sflowtool's field-name prefix stack (e.g. `discarded_`, `tunnel_ipv4_in_`). */
  private readonly prefixes: string[] = [];
  private prefix = '';

  field(name: string, value: string): void {
    (this.cur as SflowtoolObject)[this.prefix + name] = value;
  }

  /** A field whose prefix is pushed for this one field only (sflowtool's *_formatted helpers). */
  fieldP(prefix: string, name: string, value: string): void {
    (this.cur as SflowtoolObject)[this.prefix + prefix + name] = value;
  }

  pushPrefix(p: string): void {
    this.prefixes.push(p);
    this.prefix = this.prefixes.join('');
  }

  popPrefix(): void {
    this.prefixes.pop();
    this.prefix = this.prefixes.join('');
  }

  /** `"name":[` — sflowtool does not prefix array names. */
  array(name: string): void {
    const a: SflowtoolValue[] = [];
    (this.cur as SflowtoolObject)[name] = a;
    this.stack.push(this.cur);
    this.cur = a;
  }

  /** `{` inside an array. */
  object(): void {
    const o: SflowtoolObject = {};
    (this.cur as SflowtoolValue[]).push(o);
    this.stack.push(this.cur);
    this.cur = o;
  }

  /** A bare string inside an array (host_adapters MAC lists). */
  item(v: string): void {
    (this.cur as SflowtoolValue[]).push(v);
  }

  end(): void {
    const up = this.stack.pop();
    if (up !== undefined) this.cur = up;
  }
}

// ---------------------------------------------------------------------------------------------
// Value text, as sflowtool's printf formats produce it

const u32 = (n: number): string => String(n >>> 0);
const u64 = (n: bigint | number): string => (typeof n === 'bigint' ? BigInt.asUintN(64, n).toString() : String(n));
/** `%d` of a uint32 (sflowtool prints some unsigned values signed). */
const d32 = (n: number): string => String(n | 0);

const HEX_L = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_U = HEX_L.map((h) => h.toUpperCase());

/** sflowtool's string buffers hold 2048 bytes; longer text is cut (SFStr). */
const STRBUF_CAP = 2048;

/** The capacity rules of sflowtool's SFStr string buffer, for the few fields built from lists. */
class SfStr {
  s = '';

  append(t: string): boolean {
    let n = t.length;
    if (this.s.length + n >= STRBUF_CAP) n = STRBUF_CAP - this.s.length - 1;
    if (n > 0) this.s += t.slice(0, n);
    return n === t.length;
  }

  array32(values: readonly number[], sep: string): boolean {
    for (let i = 0; i < values.length; i++) {
      const t = u32(values[i]!);
      if (this.s.length + 1 + t.length >= STRBUF_CAP) return false;
      if (i > 0) this.s += sep;
      this.s += t;
    }
    return true;
  }

  hex(b: Uint8Array, upper: boolean, sep: string, prefix = false): void {
    if (prefix) {
      if (STRBUF_CAP - this.s.length < 3) return;
      this.s += '0x';
    }
    const per = sep ? 3 : 2;
    const room = Math.floor((STRBUF_CAP - this.s.length - 1) / per);
    const n = Math.min(b.length, room);
    const table = upper ? HEX_U : HEX_L;
    let out = '';
    for (let i = 0; i < n; i++) {
      if (sep && i) out += sep;
      out += table[b[i]!];
    }
    this.s += out;
  }
}

/** headerBytes: upper-case hex, dash-separated, cut where sflowtool's buffer is full (682 bytes). */
function headerHex(b: Uint8Array): string {
  const sb = new SfStr();
  sb.hex(b, true, '-');
  return sb.s;
}

function hexOf(b: Uint8Array, from: number, n: number, upper = false): string {
  const table = upper ? HEX_U : HEX_L;
  let s = '';
  for (let i = 0; i < n; i++) s += table[b[from + i] ?? 0];
  return s;
}

/** An IPv6 address as sflowtool prints it: eight 4-digit groups, nothing compressed. */
function ip6FullBytes(b: ArrayLike<number>, p = 0): string {
  let s = '';
  for (let i = 0; i < 16; i += 2) {
    if (i) s += ':';
    s += HEX_L[b[p + i] ?? 0]! + HEX_L[b[p + i + 1] ?? 0]!;
  }
  return s;
}

const ip6Cache = new Map<string, string>();
function ip6Full(text: string): string {
  let s = ip6Cache.get(text);
  if (s === undefined) {
    s = ip6FullBytes(parseIPv6(text));
    if (ip6Cache.size > 4096) ip6Cache.clear();
    ip6Cache.set(text, s);
  }
  return s;
}

/** sflowtool's printAddress: IPv4 dotted, IPv6 in full, an unknown address "-". */
function addressText(text: string): string {
  if (text === '') return '-';
  return text.includes(':') ? ip6Full(text) : text;
}

/** `%.<digits>f` of a double, rounded the way glibc's printf rounds (exactly, ties to even). */
export function printfFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const neg = x < 0 || Object.is(x, -0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) q = (mant << BigInt(exp)) * scale;
  else {
    const num = mant * scale;
    const den = 1n << BigInt(-exp);
    q = num / den;
    const r2 = (num % den) * 2n;
    if (r2 > den || (r2 === den && (q & 1n) === 1n)) q += 1n;
  }
  let s = q.toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, '0');
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return (neg ? '-' : '') + s;
}

/** sflowtool's percentage: hundredths as a float divided by 100 (in single precision), `%.2f`; -1 "unknown". */
function percentage(v: number): string {
  const h = v >>> 0;
  if (h === 0xffffffff) return 'unknown';
  return printfFixed(Math.fround(Math.fround(h) / 100), 2);
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * What sflowtool prints for a string it read with getString(buf, max): at most max-1 bytes, and
 * (printed with %s) nothing from the first NUL byte on.
 */
function cstr(s: string, max: number): string {
  let simple = s.length < max;
  for (let i = 0; simple && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c >= 0x80) simple = false;
  }
  if (simple) return s;
  let b = textEncoder.encode(s);
  if (b.length >= max) b = b.subarray(0, max - 1);
  const nul = b.indexOf(0);
  if (nul >= 0) b = b.subarray(0, nul);
  return textDecoder.decode(b);
}

/**
 * sflowtool's URLEncode (memcache keys): alphanumerics kept, white space → '+', every other byte
 * '%' and two hex digits — in swapped order (its lookup table is read as a host-order uint16 on a
 * little-endian machine, so '/' = 0x2F prints as "%F2").
 */
function urlEncode(s: string): string {
  let out = '';
  for (const c of textEncoder.encode(s)) {
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) out += String.fromCharCode(c);
    else if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) out += '+';
    else {
      const h = HEX_U[c]!;
      out += `%${h[1]}${h[0]}`;
    }
  }
  return out;
}

/** strftime("%Y-%m-%dT%H:%M:%S%z", localtime(&sec)) in the requested zone. */
function timestampText(sec: number, zone: SflowtoolMeta['timeZone']): string {
  let offsetMin = 0;
  if (zone === 'local') offsetMin = -new Date(sec * 1000).getTimezoneOffset();
  else if (typeof zone === 'number') offsetMin = zone;
  const d = new Date((sec + offsetMin * 60) * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const year = d.getUTCFullYear();
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return (
    `${String(year).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}` +
    `T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}` +
    `${sign}${p2(Math.floor(abs / 60))}${p2(abs % 60)}`
  );
}

/** printInOutPort: the interface word of a flow sample by its format. */
function inOutPort(port: number, format: number): string {
  switch (format >>> 0) {
    case 0:
      return u32(port);
    case 1:
      return `dropCode ${u32(port)}`;
    case 2:
      return `multiple ${u32(port)}`;
    case 3:
      return `format==3 ${u32(port)}`;
    default:
      return '';
  }
}

/** printOutputPort_v2v4. */
function outputPortV2V4(port: number): string {
  const p = port >>> 0;
  if (p & 0x80000000) {
    const n = p & 0x7fffffff;
    return n > 0 ? `multiple ${n | 0}` : 'multiple >1';
  }
  return u32(p);
}

// ---------------------------------------------------------------------------------------------
// sflowtool's walk of the raw bytes
//
// sflowtool reads the datagram with a cursor bounded only by the datagram's end: a record may
// read past its declared length (then the length check after it fails), strings and opaques are
// skipped in whole 4-byte words, addresses of unknown type stop it. The walk below reads each
// sample the same way and records where sflowtool stops. Record contents are read with our own
// structure definitions, field by field, so that a record cut short keeps the fields before the
// cut (sflowtool printed those).

/** An XDR reader with sflowtool's rule for variable-length data: the padded length must fit. */
class StrictReader extends XdrReader {
  /** Bytes of the whole datagram (sflowtool's rawSampleLen). */
  readonly datagramLength: number;

  constructor(bytes: Uint8Array, pos: number) {
    super(bytes, pos, bytes.length);
    this.datagramLength = bytes.length;
  }

  override opaque(): Uint8Array {
    const n = this.u32();
    const p = this.pos;
    const padded = roundUp4(n);
    if (n > this.datagramLength || p + padded > this.end) this.fault('truncated', `opaque of ${n} bytes`);
    this.pos = p + padded;
    return this.bytes.subarray(p, p + n);
  }

  /** skipBytes(n) as sflowtool does it: whole words, checked against the datagram. */
  skip(n: number): void {
    const next = this.pos + roundUp4(n);
    if (n > this.datagramLength || next > this.end) this.fault('truncated', `skip ${n}`);
    this.pos = next;
  }
}

function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Rec = Record<string, any>;

/** One record (element) of a sample as sflowtool meets it. */
interface ElementView {
  /** data_format; undefined when sflowtool could not read it (it stops right after `{`). */
  tag?: number;
  /** Declared length; undefined when sflowtool could not read it. */
  len?: number;
  /** The record's fields (ours, or from the walk: possibly cut short). */
  rec?: Rec;
  /** sflowtool stops after printing this record (its content did not match its length, or ran out). */
  abortAfter?: boolean;
}

interface RtValueView {
  name?: string;
  type?: number;
  value?: string | number | bigint;
}

/** One sample as sflowtool meets it. */
interface SampleView {
  tag: number;
  kind: 'flow' | 'counter' | 'discard' | 'rtmetric' | 'rtflow' | 'unknown';
  expanded: boolean;
  /** The sample length word (undefined: sflowtool could not read it). */
  length?: number;
  /** Header fields, with our names (sequence, sourceIdClass, ...). */
  f: Rec;
  /** Element count (undefined: not read). */
  count?: number;
  elements: ElementView[];
  values: RtValueView[];
  /** sflowtool stopped inside this sample (read past the datagram, or a bad value). */
  stopped: boolean;
  /** The sample's content did not match its declared length: sflowtool stops after it. */
  lengthMismatch: boolean;
}

const FLOW_TAGS_SFLOWTOOL = new Set<number>(
  [
    1, 2, 3, 4, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 1020, 1021, 1022,
    1023, 1024, 1025, 1026, 1027, 1028, 1029, 1030, 1036, 1038, 1039, 1040, 1041, 1042, 1043, 2100, 2101, 2102, 2103, 2200,
    2201, 2202, 2203, 2204, 2205, 2206, 2209, 2210,
  ].map((f) => tagOf(0, f)),
);

const COUNTER_TAGS_SFLOWTOOL = new Set<number>([
  ...[1, 2, 3, 4, 5, 6, 7, 10, 1001, 1002, 1004, 1005].map((f) => tagOf(0, f)),
  ...[2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010].map((f) => tagOf(0, f)),
  ...[2100, 2101, 2102, 2103, 2104, 2105, 2106, 2200, 2201, 2202, 2203, 2204, 2205, 2206, 2207].map((f) => tagOf(0, f)),
  tagOf(5703, 1),
  tagOf(4413, 3),
]);

const T = {
  flowSample: tagOf(0, 1),
  counterSample: tagOf(0, 2),
  flowSampleExpanded: tagOf(0, 3),
  counterSampleExpanded: tagOf(0, 4),
  discard: tagOf(0, 5),
  rtMetric: tagOf(4300, 1002),
  rtFlow: tagOf(4300, 1003),
} as const;

/** Read fields of a structure in order until one does not fit; `fault` says whether one did not. */
function readFields(r: XdrReader, fields: readonly (readonly [string, { decode(r: XdrReader): unknown }])[], rec: Rec): boolean {
  for (const [name, type] of fields) {
    try {
      rec[name] = type.decode(r);
    } catch (e) {
      if (e instanceof DecodeFault) return true;
      throw e;
    }
  }
  return false;
}

function fieldsOf(def: RecordDef): [string, { decode(r: XdrReader): unknown }][] {
  return Object.entries(def.struct.fields) as [string, { decode(r: XdrReader): unknown }][];
}

const u32Field = { decode: (r: XdrReader) => r.u32() };
const u64Field = { decode: (r: XdrReader) => r.u64() };

/** sflowtool's layout of the deprecated memcache counters (0:2200), which our decoder does not know. */
const MEMCACHE_OLD: readonly (readonly [string, 'u32' | 'u64'])[] = [
  ['memcache_uptime', 'u32'],
  ['memcache_rusage_user', 'u32'],
  ['memcache_rusage_system', 'u32'],
  ['memcache_curr_connections', 'u32'],
  ['memcache_total_connections', 'u32'],
  ['memcache_connection_structures', 'u32'],
  ['memcache_cmd_get', 'u32'],
  ['memcache_cmd_set', 'u32'],
  ['memcache_cmd_flush', 'u32'],
  ['memcache_get_hits', 'u32'],
  ['memcache_get_misses', 'u32'],
  ['memcache_delete_misses', 'u32'],
  ['memcache_delete_hits', 'u32'],
  ['memcache_incr_misses', 'u32'],
  ['memcache_incr_hits', 'u32'],
  ['memcache_decr_misses', 'u32'],
  ['memcache_decr_hits', 'u32'],
  ['memcache_cas_misses', 'u32'],
  ['memcache_cas_hits', 'u32'],
  ['memcache_cas_badval', 'u32'],
  ['memcache_auth_cmds', 'u32'],
  ['memcache_auth_errors', 'u32'],
  ['memcache_bytes_read', 'u64'],
  ['memcache_bytes_written', 'u64'],
  ['memcache_limit_maxbytes', 'u32'],
  ['memcache_accepting_conns', 'u32'],
  ['memcache_listen_disabled_num', 'u32'],
  ['memcache_threads', 'u32'],
  ['memcache_conn_yields', 'u32'],
  ['memcache_bytes', 'u64'],
  ['memcache_curr_items', 'u32'],
  ['memcache_total_items', 'u32'],
  ['memcache_evictions', 'u32'],
];

/** sflowtool's sampled-header read: protocol, frame length, [stripped], header length, then the bytes. */
function walkHeaderBody(r: StrictReader, rec: Rec, withStripped: boolean): boolean {
  try {
    rec.headerProtocol = r.u32();
    rec.frameLength = r.u32();
    if (withStripped) rec.stripped = r.u32();
    const n = r.u32();
    rec.headerLen = n;
    const p = r.pos;
    r.skip(n);
    rec.header = r.bytes.subarray(p, p + n);
    return false;
  } catch (e) {
    if (e instanceof DecodeFault) return true;
    throw e;
  }
}

/** Read one record body the way sflowtool does; returns the record (maybe cut short) and whether it ran out. */
function walkRecordBody(r: StrictReader, tag: number, len: number, ctx: 'flow' | 'counter'): { rec: Rec; fault: boolean } {
  const def = (ctx === 'flow' ? FLOW_RECORDS : COUNTER_RECORDS).get(tag);
  const rec: Rec = { kind: def?.name ?? 'unknown', tag };
  const guard = (fn: () => void): boolean => {
    try {
      fn();
      return false;
    } catch (e) {
      if (e instanceof DecodeFault) return true;
      throw e;
    }
  };
  if (ctx === 'flow') {
    if (tag === tagOf(0, 1)) return { rec, fault: walkHeaderBody(r, rec, true) };
    if (tag === tagOf(0, 1013)) {
      const payload: Rec = {};
      if (guard(() => (rec.cipherSuite = r.u32()))) return { rec, fault: true };
      rec.payload = payload;
      return { rec, fault: walkHeaderBody(r, payload, true) };
    }
  } else {
    switch (tag) {
      case tagOf(0, 2200): {
        rec.kind = 'memcache_counters_old';
        const fields = MEMCACHE_OLD.map(([n, t]) => [n, t === 'u32' ? u32Field : u64Field] as const);
        return { rec, fault: readFields(r, fields, rec) };
      }
      case tagOf(0, 2003): {
        // cpu_steal, cpu_guest, cpu_guest_nice are read only when the record is longer than 68 bytes.
        const all = fieldsOf(def!);
        const base = all.slice(0, 17);
        if (readFields(r, base, rec)) return { rec, fault: true };
        if (len > 68) return { rec, fault: readFields(r, all.slice(17).map(([n]) => [n, u32Field] as const), rec) };
        return { rec, fault: false };
      }
      case tagOf(0, 2106): {
        // fd_open_count and fd_max_count are read only when the record is longer than 100 bytes.
        const all = fieldsOf(def!);
        if (readFields(r, all.slice(0, 17), rec)) return { rec, fault: true };
        if (len > 100) return { rec, fault: readFields(r, all.slice(17), rec) };
        return { rec, fault: false };
      }
      case tagOf(0, 2205): {
        // sflowtool's VDI layout is 23 u32 (ours, from the registry, has 27).
        rec.values = [] as number[];
        for (let i = 0; i < 23; i++) {
          if (guard(() => rec.values.push(r.u32()))) return { rec, fault: true };
        }
        return { rec, fault: false };
      }
      case tagOf(0, 2001): {
        // Adapters are printed as they are read: keep partial progress.
        let n = 0;
        if (guard(() => (n = r.u32()))) return { rec, fault: true };
        rec.adapters = [] as Rec[];
        rec.adapterCount = n;
        for (let i = 0; i < n; i++) {
          const a: Rec = {};
          rec.adapters.push(a);
          if (guard(() => (a.ifIndex = r.u32()))) return { rec, fault: true };
          let m = 0;
          if (guard(() => (m = r.u32()))) return { rec, fault: true };
          a.macCount = m;
          a.macs = [] as string[];
          for (let j = 0; j < m; j++) {
            if (guard(() => a.macs.push(r.mac()))) return { rec, fault: true };
          }
        }
        return { rec, fault: false };
      }
      case tagOf(0, 10): {
        // SFP lanes are printed field by field as they are read.
        const all = fieldsOf(def!);
        if (readFields(r, all.slice(0, 4), rec)) return { rec, fault: true };
        let n = 0;
        if (guard(() => (n = r.u32()))) return { rec, fault: true };
        rec.laneCount = n;
        rec.lanes = [] as Rec[];
        for (let i = 0; i < n; i++) {
          const lane: Rec = {};
          rec.lanes.push(lane);
          for (const name of SFP_LANE_FIELDS) {
            if (guard(() => (lane[name] = r.u32()))) return { rec, fault: true };
          }
        }
        return { rec, fault: false };
      }
    }
  }
  if (def === undefined) return { rec, fault: false };
  return { rec, fault: readFields(r, fieldsOf(def), rec) };
}

/** One element (record) of a flow, discard or counter sample, read the way sflowtool reads it. */
function walkElement(r: StrictReader, ctx: 'flow' | 'counter'): ElementView {
  const el: ElementView = {};
  try {
    el.tag = r.u32();
  } catch (e) {
    if (e instanceof DecodeFault) return el;
    throw e;
  }
  try {
    el.len = r.u32();
  } catch (e) {
    if (e instanceof DecodeFault) return el;
    throw e;
  }
  const start = r.pos;
  const len = el.len;
  const known = ctx === 'flow' ? FLOW_TAGS_SFLOWTOOL : COUNTER_TAGS_SFLOWTOOL;
  if (!known.has(el.tag)) {
    el.rec = { kind: 'unknown', tag: el.tag };
    try {
      r.skip(len);
    } catch (e) {
      if (!(e instanceof DecodeFault)) throw e;
      el.abortAfter = true;
    }
    return el;
  }
  const { rec, fault } = walkRecordBody(r, el.tag, len, ctx);
  el.rec = rec;
  // lengthCheck: what was read must be the declared length rounded up to a word.
  if (fault || r.pos - start !== roundUp4(len)) el.abortAfter = true;
  return el;
}

function walkElements(r: StrictReader, v: SampleView, ctx: 'flow' | 'counter'): void {
  v.count = r.u32();
  for (let i = 0; i < v.count; i++) {
    const el = walkElement(r, ctx);
    v.elements.push(el);
    if (el.tag === undefined || el.len === undefined || el.abortAfter) {
      v.stopped = true;
      return;
    }
  }
}

function walkRtValues(r: StrictReader, v: SampleView, forms: readonly string[]): void {
  v.count = r.u32();
  for (let i = 0; i < v.count; i++) {
    const e: RtValueView = {};
    v.values.push(e);
    e.name = r.string();
    e.type = r.u32();
    switch (forms[e.type]) {
      case 'string':
        e.value = r.string();
        break;
      case 'mac':
        e.value = r.mac();
        break;
      case 'ip':
        e.value = r.ipv4();
        break;
      case 'ip6':
        e.value = r.ipv6();
        break;
      case 'counter32':
      case 'gauge32':
      case 'int32':
        e.value = r.u32();
        break;
      case 'counter64':
      case 'gauge64':
      case 'int64':
        e.value = r.u64();
        break;
      case 'float':
        e.value = r.f32();
        break;
      case 'double':
        e.value = r.f64();
        break;
      default:
        // sflowtool stops at a value type it does not know.
        v.stopped = true;
        return;
    }
  }
}

const RT_METRIC_FORMS = ['string', 'counter32', 'counter64', 'gauge32', 'gauge64', 'float', 'double'] as const;
const RT_FLOW_FORMS = ['string', 'mac', 'ip', 'ip6', 'int32', 'int64', 'float', 'double'] as const;

/**
 * Walk the sample at `pos` (its tag word) as sflowtool does. Returns what sflowtool read and the
 * position where its cursor ends (meaningful only when it did not stop).
 */
function walkSample(bytes: Uint8Array, pos: number): { view: SampleView; end: number } {
  const r = new StrictReader(bytes, pos);
  const tag = r.u32();
  const v: SampleView = {
    tag,
    kind: 'unknown',
    expanded: tag === T.flowSampleExpanded || tag === T.counterSampleExpanded,
    f: {},
    elements: [],
    values: [],
    stopped: false,
    lengthMismatch: false,
  };
  switch (tag) {
    case T.flowSample:
    case T.flowSampleExpanded:
      v.kind = 'flow';
      break;
    case T.counterSample:
    case T.counterSampleExpanded:
      v.kind = 'counter';
      break;
    case T.discard:
      v.kind = 'discard';
      break;
    case T.rtMetric:
      v.kind = 'rtmetric';
      break;
    case T.rtFlow:
      v.kind = 'rtflow';
      break;
  }
  try {
    v.length = r.u32();
    const start = r.pos;
    const f = v.f;
    const dataSource = (): void => {
      if (v.expanded || v.kind === 'discard') {
        const c = r.u32();
        const i = r.u32();
        f.sourceIdClass = c;
        f.sourceIdIndex = i;
      } else {
        const id = r.u32();
        f.sourceIdClass = id >>> 24;
        f.sourceIdIndex = id & 0xffffff;
      }
    };
    switch (v.kind) {
      case 'flow': {
        const seq = r.u32();
        dataSource();
        f.sequence = seq;
        const rate = r.u32();
        const pool = r.u32();
        const drops = r.u32();
        Object.assign(f, { samplingRate: rate, samplePool: pool, drops });
        if (v.expanded) {
          const inF = r.u32();
          const inV = r.u32();
          const outF = r.u32();
          const outV = r.u32();
          Object.assign(f, { inputFormat: inF, input: inV, outputFormat: outF, output: outV });
        } else {
          const i = r.u32();
          const o = r.u32();
          Object.assign(f, { inputFormat: i >>> 30, input: i & 0x3fffffff, outputFormat: o >>> 30, output: o & 0x3fffffff });
        }
        walkElements(r, v, 'flow');
        break;
      }
      case 'counter':
        f.sequence = r.u32();
        dataSource();
        walkElements(r, v, 'counter');
        break;
      case 'discard': {
        const seq = r.u32();
        dataSource();
        f.sequence = seq;
        f.drops = r.u32();
        const inV = r.u32();
        const outV = r.u32();
        Object.assign(f, { input: inV, output: outV });
        f.reason = r.u32();
        walkElements(r, v, 'flow');
        break;
      }
      case 'rtmetric':
        f.datasource = r.string();
        walkRtValues(r, v, RT_METRIC_FORMS);
        break;
      case 'rtflow':
        f.datasource = r.string();
        f.samplingRate = r.u32();
        f.samplePool = r.u32();
        walkRtValues(r, v, RT_FLOW_FORMS);
        break;
      case 'unknown':
        // skipTLVRecord: no length check afterwards.
        r.skip(v.length);
        return { view: v, end: r.pos };
    }
    if (!v.stopped && r.pos - start !== roundUp4(v.length)) v.lengthMismatch = true;
  } catch (e) {
    if (!(e instanceof DecodeFault)) throw e;
    v.stopped = true;
  }
  return { view: v, end: r.pos };
}

function isClean(v: SampleView): boolean {
  return !v.stopped && !v.lengthMismatch && v.elements.every((e) => !e.abortAfter);
}

/**
 * The view of a sample sflowtool read cleanly, with our decoder's values in place of the walk's.
 * Null when the two disagree on the structure (then the walk is rendered).
 */
function decodedView(walk: SampleView, s: Sample): SampleView | null {
  if (s.tag !== walk.tag) return null;
  switch (s.kind) {
    case 'flow_sample':
    case 'counter_sample':
    case 'discard_sample': {
      if (s.records.length !== walk.elements.length) return null;
      const elements: ElementView[] = [];
      for (let i = 0; i < s.records.length; i++) {
        const rec = s.records[i]!;
        const el = walk.elements[i]!;
        if (rec.tag !== el.tag) return null;
        // A record our decoder could not decode but sflowtool read cleanly: show sflowtool's reading.
        const sflowtoolKnows = (s.kind === 'counter_sample' ? COUNTER_TAGS_SFLOWTOOL : FLOW_TAGS_SFLOWTOOL).has(el.tag);
        elements.push({ ...el, rec: rec.kind === 'unknown' && sflowtoolKnows ? el.rec : (rec as Rec) });
      }
      return { ...walk, f: s as unknown as Rec, elements };
    }
    case 'rtmetric':
    case 'rtflow': {
      const values = s.kind === 'rtmetric' ? s.metrics : s.fields;
      if (values.length !== walk.values.length) return null;
      return { ...walk, f: s as unknown as Rec, values: values.map((x) => ({ name: x.name, type: x.type, value: x.value })) };
    }
    case 'unknown_sample':
      return walk;
  }
}

// ---------------------------------------------------------------------------------------------
// The datagram

function formatWith(bytes: Uint8Array, meta: SflowtoolMeta, datagram: Datagram | null, errorOffset: number | null): SflowtoolObject {
  const o = new Out();
  try {
    emitDatagram(o, bytes, meta, datagram, errorOffset);
  } catch (e) {
    if (!(e instanceof GaveUp)) throw e;
    o.root['_partial'] = 'true';
  }
  return o.root;
}

function sourceText(ip: string | undefined): string {
  if (ip === undefined || ip === '') return '-';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1]!;
  return ip.includes(':') ? ip6Full(ip) : ip;
}

function emitDatagram(o: Out, bytes: Uint8Array, meta: SflowtoolMeta, datagram: Datagram | null, errorOffset: number | null): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  const word = (p: number): number => {
    if (p + 4 > len) giveUp('datagram ends');
    return view.getUint32(p);
  };

  o.field('datagramSourceIP', sourceText(meta.sourceIP));
  o.field('datagramSize', u32(meta.size ?? len));
  const read = meta.readTimestamp ?? { sec: 0, usec: 0 };
  o.field('unixSecondsUTC', u32(read.sec));
  o.field('unixSecondsUTC_uS', u32(read.usec));
  o.field('localtime', timestampText(read.sec, meta.timeZone));
  if (meta.pcapTimestamp && meta.pcapTimestamp.sec !== 0) {
    o.field('pcapTimestamp', timestampText(meta.pcapTimestamp.sec, meta.timeZone));
    o.field('pcapTimestamp_uS', u32(meta.pcapTimestamp.usec));
  }

  const version = datagram?.version ?? word(0);
  o.field('datagramVersion', u32(version));
  if (version !== 2 && version !== 4 && version !== 5) giveUp('unexpected datagram version');

  // The agent address: sflowtool knows types 1 and 2 only (type 0 stops it).
  const addrType = word(4);
  let pos = 8;
  let agent: string;
  if (addrType === 1) {
    word(pos);
    agent = `${bytes[8]}.${bytes[9]}.${bytes[10]}.${bytes[11]}`;
    pos += 4;
  } else if (addrType === 2) {
    if (pos + 16 > len) giveUp('datagram ends');
    agent = ip6FullBytes(bytes, pos);
    pos += 16;
  } else giveUp('unknown agent address type');

  if (version !== 5) {
    emitV2V4(o, bytes, pos, version, agent);
    return;
  }
  o.field('agentSubId', u32(word(pos)));
  const seq = word(pos + 4);
  const uptime = word(pos + 8);
  const count = word(pos + 12);
  pos += 16;
  o.field('agent', agent);
  o.field('packetSequenceNo', u32(seq));
  o.field('sysUpTime', u32(uptime));
  o.field('samplesInPacket', u32(count));

  o.array('samples');
  // Our decoded samples line up with sflowtool's reading until the first sample our decoder
  // faulted in; from there on only sflowtool's walk is rendered.
  let aligned = datagram !== null;
  for (let i = 0; i < count; i++) {
    if (pos >= len) giveUp('unexpected end of datagram');
    word(pos);
    const { view: walk, end } = walkSample(bytes, pos);
    let v = walk;
    if (aligned) {
      const declaredEnd = walk.length === undefined ? len : Math.min(len, pos + 8 + walk.length);
      if (errorOffset !== null && errorOffset >= pos && errorOffset <= Math.max(end, declaredEnd)) aligned = false;
      else {
        const s = datagram!.samples[i];
        if (s === undefined) aligned = false;
        else if (isClean(walk)) {
          const dv = decodedView(walk, s);
          if (dv) v = dv;
          else aligned = false;
        }
      }
    }
    emitSample(o, v);
    pos = end;
  }
  o.end();
}

function emitSample(o: Out, v: SampleView): void {
  o.object();
  o.field('sampleType_tag', tagName(v.tag));
  const f = v.f;
  switch (v.kind) {
    case 'flow': {
      o.field('sampleType', 'FLOWSAMPLE');
      need(v.length, 'sample length');
      need(f.sourceIdIndex, 'data source');
      o.field('sampleSequenceNo', u32(f.sequence));
      o.field('sourceId', `${u32(f.sourceIdClass)}:${u32(f.sourceIdIndex)}`);
      need(f.drops, 'drops');
      o.field('meanSkipCount', u32(f.samplingRate));
      o.field('samplePool', u32(f.samplePool));
      o.field('dropEvents', u32(f.drops));
      need(f.output, 'output');
      o.field('inputPort', inOutPort(f.input, f.inputFormat));
      o.field('outputPort', inOutPort(f.output, f.outputFormat));
      o.array('elements');
      emitElements(o, v, 'flow');
      o.end();
      break;
    }
    case 'counter':
      o.field('sampleType', 'COUNTERSSAMPLE');
      need(v.length, 'sample length');
      o.field('sampleSequenceNo', u32(need(f.sequence, 'sequence')));
      need(f.sourceIdIndex, 'data source');
      o.field('sourceId', `${u32(f.sourceIdClass)}:${u32(f.sourceIdIndex)}`);
      need(v.count, 'record count');
      o.array('elements');
      emitElements(o, v, 'counter');
      o.end();
      break;
    case 'discard': {
      o.field('sampleType', 'DISCARD');
      need(v.length, 'sample length');
      need(f.sourceIdIndex, 'data source');
      o.field('sampleSequenceNo', u32(f.sequence));
      o.field('sourceId', `${u32(f.sourceIdClass)}:${u32(f.sourceIdIndex)}`);
      o.field('dropEvents', u32(need(f.drops, 'drops')));
      need(f.output, 'output');
      // The discard sample has no interface formats: sflowtool prints them as format 0.
      o.field('inputPort', inOutPort(f.input, 0));
      o.field('outputPort', inOutPort(f.output, 0));
      const reason = need(f.reason, 'reason') as number;
      o.field('discardCode', u32(reason));
      o.field('discardReason', sflowtoolDropReasonName(reason >>> 0) ?? 'NotFound');
      o.array('elements');
      o.pushPrefix('discarded_');
      emitElements(o, v, 'flow');
      o.popPrefix();
      o.end();
      break;
    }
    case 'rtmetric':
      o.field('sampleType', 'RTMETRIC');
      need(v.length, 'sample length');
      emitRtValues(o, v, 'rtmetric');
      break;
    case 'rtflow':
      o.field('sampleType', 'RTFLOW');
      need(v.length, 'sample length');
      emitRtValues(o, v, 'rtflow');
      break;
    case 'unknown':
      need(v.length, 'sample length');
      break;
  }
  if (v.stopped || v.lengthMismatch) giveUp('sample content does not match its length');
  o.end();
}

/** Per-sample state of sflowtool's header decode (it is not reset between records of a sample). */
interface HeaderState {
  gotIPV4: boolean;
  gotIPV6: boolean;
  offsetToIPV4: number;
  offsetToIPV6: number;
}

function emitElements(o: Out, v: SampleView, ctx: 'flow' | 'counter'): void {
  need(v.count, 'record count');
  const st: HeaderState = { gotIPV4: false, gotIPV6: false, offsetToIPV4: 0, offsetToIPV6: 0 };
  const emitters = ctx === 'flow' ? FLOW_EMITTERS : COUNTER_EMITTERS;
  for (const el of v.elements) {
    o.object();
    const tag = need(el.tag, 'record tag');
    o.field(ctx === 'flow' ? 'flowBlock_tag' : 'counterBlock_tag', tagName(tag));
    const len = need(el.len, 'record length');
    const emit = emitters.get(tag);
    if (emit !== undefined) emit(o, el.rec ?? {}, len, st);
    if (el.abortAfter) giveUp(`record ${tagName(tag)} does not match its length`);
    o.end();
  }
}

function emitRtValues(o: Out, v: SampleView, kind: 'rtmetric' | 'rtflow'): void {
  const f = v.f;
  const ds = need(f.datasource, 'datasource') as string;
  if (ds.length > 0) o.field(`${kind}_datasource_name`, cstr(ds, 64));
  if (kind === 'rtflow') {
    o.field('rtflow_sampling_rate', u32(need(f.samplingRate, 'sampling rate')));
    o.field('rtflow_sample_pool', u32(need(f.samplePool, 'sample pool')));
  }
  need(v.count, 'value count');
  for (const e of v.values) {
    const name = cstr(need(e.name, 'name'), 64);
    const type = need(e.type, 'type');
    const forms: readonly string[] = kind === 'rtmetric' ? RT_METRIC_FORMS : RT_FLOW_FORMS;
    const form = forms[type];
    if (form === undefined) giveUp(`${kind} unknown_type ${type}`);
    const value = need(e.value, 'value');
    let prefix: string;
    let text: string;
    switch (form) {
      case 'string':
        prefix = 'string_';
        text = cstr(String(value), 255);
        break;
      case 'mac':
        prefix = 'mac_';
        text = String(value);
        break;
      case 'ip':
        prefix = 'ip_';
        text = String(value);
        break;
      case 'ip6':
        prefix = 'ip6_';
        text = ip6Full(String(value));
        break;
      case 'counter32':
      case 'gauge32':
      case 'int32':
        prefix = `${form}_`;
        text = u32(Number(value));
        break;
      case 'counter64':
      case 'gauge64':
      case 'int64':
        prefix = `${form}_`;
        text = u64(BigInt(value));
        break;
      case 'float':
        prefix = kind === 'rtmetric' ? 'gaugeFloat_' : 'float_';
        text = printfFixed(Number(value), 3);
        break;
      default:
        prefix = kind === 'rtmetric' ? 'gaugeDouble_' : 'double_';
        text = printfFixed(Number(value), 3);
        break;
    }
    o.fieldP(`${kind}_${prefix}`, name, text);
  }
}

// ---------------------------------------------------------------------------------------------
// Sampled header dissection, as sflowtool does it (decodeLinkLayer, decode80211MAC, decodeIPV4,
// decodeIPV6, decodeIPLayer4). sflowtool copies header structures with memcpy and may read a few
// bytes past the sampled header (a TCP header cut after 8 bytes, an IPv6 extension header at the
// very end): those bytes are the datagram's next bytes, read here from the same buffer.

function byteAt(h: Uint8Array, i: number): number {
  if (i >= 0 && i < h.length) return h[i]!;
  const abs = h.byteOffset + i;
  if (i >= 0 && abs < h.buffer.byteLength) return new Uint8Array(h.buffer, abs, 1)[0]!;
  return 0;
}

/** C compares a pointer difference with sizeof() unsigned: a negative difference is "large". */
function shorterThan(diff: number, size: number): boolean {
  return diff >= 0 && diff < size;
}

function decodeHeader(o: Out, st: HeaderState, protocol: number, h: Uint8Array, frameLength: number, stripped: number): void {
  switch (protocol >>> 0) {
    case 1:
      decodeLinkLayer(o, st, h);
      break;
    case 11:
      st.gotIPV4 = true;
      st.offsetToIPV4 = 0;
      break;
    case 12:
      st.gotIPV6 = true;
      st.offsetToIPV6 = 0;
      break;
    case 15:
      decode80211MAC(o, st, h);
      break;
    default:
      break;
  }
  if (st.gotIPV4) {
    o.field('IPSize', d32(frameLength - stripped - st.offsetToIPV4));
    decodeIPV4(o, st, h);
  } else if (st.gotIPV6) {
    o.field('IPSize', d32(frameLength - stripped - st.offsetToIPV6));
    decodeIPV6(o, st, h);
  }
}

function decodeLinkLayer(o: Out, st: HeaderState, h: Uint8Array): void {
  const end = h.length;
  const at = (i: number) => byteAt(h, i);
  st.gotIPV4 = false;
  st.gotIPV6 = false;
  if (end < 14) return;
  o.field('dstMAC', hexOf(h, 0, 6));
  o.field('srcMAC', hexOf(h, 6, 6));
  let typeLen = (at(12) << 8) | at(13);
  let p = 14;
  let depth = 0;
  while (typeLen === 0x8100 || typeLen === 0x88a8 || typeLen === 0x9100 || typeLen === 0x9200 || typeLen === 0x9300) {
    if (end - p < 4) return;
    const tci = (at(p) << 8) | at(p + 1);
    p += 2;
    if (depth === 0) {
      o.field('decodedVLAN', u32(tci & 0xfff));
      o.field('decodedPriority', u32(tci >>> 13));
    } else {
      o.field(`decodedVLAN.${depth}`, u32(tci & 0xfff));
      o.field(`decodedPriority.${depth}`, u32(tci >>> 13));
    }
    typeLen = (at(p) << 8) | at(p + 1);
    p += 2;
    depth++;
  }
  if (end < 20) return;
  if (typeLen === 0x0200 || typeLen === 0x0201 || typeLen === 0x0600) {
    const ipxChecksum = at(p) === 0xff && at(p + 1) === 0xff;
    const ipxLen = (at(p + 2) << 8) | at(p + 3);
    if (ipxChecksum && ipxLen >= 30 && ipxLen <= 30 + 546) return;
  }
  if (typeLen <= 1500) {
    if (at(p) === 0xaa && at(p + 1) === 0xaa && at(p + 2) === 0x03) {
      p += 3;
      if (at(p) !== 0 || at(p + 1) !== 0 || at(p + 2) !== 0) {
        o.field('VSNAP_OUI', `${HEX_U[at(p)]}-${HEX_U[at(p + 1)]}-${HEX_U[at(p + 2)]}`);
        return;
      }
      p += 3;
      typeLen = (at(p) << 8) | at(p + 1);
      p += 2;
    } else if (at(p) === 0x06 && at(p + 1) === 0x06 && (at(p + 2) & 0x01) !== 0) {
      p += 3;
      typeLen = 0x0800;
    } else return;
  }
  o.field('ethernet_type', u32(typeLen));
  if (typeLen === 0x0800) {
    if (shorterThan(end - p, 20)) return;
    if (at(p) >> 4 !== 4) return;
    if ((at(p) & 15) < 5) return;
    st.gotIPV4 = true;
    st.offsetToIPV4 = p;
  }
  if (typeLen === 0x86dd) {
    if (at(p) >> 4 !== 6) return;
    st.gotIPV6 = true;
    st.offsetToIPV6 = p;
  }
}

function decode80211MAC(o: Out, st: HeaderState, h: Uint8Array): void {
  st.gotIPV4 = false;
  st.gotIPV6 = false;
  if (h.length < 24) return;
  const at = (i: number) => byteAt(h, i);
  const fc = (at(1) << 8) | at(0);
  const control = (fc >> 2) & 3;
  const toDS = (fc >> 8) & 1;
  const fromDS = (fc >> 9) & 1;
  if (control !== 2) return;
  const a1 = 4;
  const a2 = 10;
  const a3 = 16;
  const a4 = 24;
  let src: number;
  let dst: number;
  if (toDS) {
    dst = a3;
    src = fromDS ? a4 : a2;
  } else {
    dst = a1;
    src = fromDS ? a3 : a2;
  }
  const mac = (p: number) => {
    let s = '';
    for (let i = 0; i < 6; i++) s += HEX_L[at(p + i)];
    return s;
  };
  o.field('srcMAC', mac(src));
  o.field('dstMAC', mac(dst));
  o.field('txMAC', mac(a2));
  o.field('rxMAC', mac(a1));
}

function decodeIPV4(o: Out, st: HeaderState, h: Uint8Array): void {
  const end = h.length;
  let p = st.offsetToIPV4;
  if (shorterThan(end - p, 20)) return;
  const at = (i: number) => byteAt(h, i);
  const protocol = at(p + 9);
  o.field('ip.tot_len', u32((at(p + 2) << 8) | at(p + 3)));
  o.field('srcIP', `${at(p + 12)}.${at(p + 13)}.${at(p + 14)}.${at(p + 15)}`);
  o.field('dstIP', `${at(p + 16)}.${at(p + 17)}.${at(p + 18)}.${at(p + 19)}`);
  o.field('IPProtocol', u32(protocol));
  o.field('IPTOS', u32(at(p + 1)));
  o.field('IPTTL', u32(at(p + 8)));
  // sflowtool prints the IP id without converting it from network byte order (little-endian host).
  o.field('IPID', u32(at(p + 4) | (at(p + 5) << 8)));
  const fragOffset = ((at(p + 6) << 8) | at(p + 7)) & 0x1fff;
  if (fragOffset > 0) {
    o.field('IPFragmentOffset', u32(fragOffset));
    return;
  }
  const headerBytes = (at(p) & 0x0f) * 4;
  if (end - p < headerBytes) return;
  p += headerBytes;
  decodeIPLayer4(o, h, p, protocol);
}

function decodeIPV6(o: Out, st: HeaderState, h: Uint8Array): void {
  const end = h.length;
  let p = st.offsetToIPV6;
  if (shorterThan(end - p, 40)) return;
  const at = (i: number) => byteAt(h, i);
  if (at(p) >> 4 !== 6) return;
  o.field('IPTOS', u32(((at(p) & 15) << 4) + (at(p + 1) >> 4)));
  p++;
  o.field('IP6_label', `0x${(((at(p) & 15) << 16) + (at(p + 1) << 8) + at(p + 2)).toString(16)}`);
  p += 3;
  const payloadLen = (at(p) << 8) | at(p + 1);
  p += 2;
  o.field('IPV6_payloadLen', payloadLen === 0 ? '<jumbo>' : u32(payloadLen));
  let nextHeader = at(p++);
  o.field('IPTTL', u32(at(p++)));
  o.field('srcIP6', ip6FullBytes(h, p));
  p += 16;
  o.field('dstIP6', ip6FullBytes(h, p));
  p += 16;
  while (nextHeader === 0 || nextHeader === 43 || nextHeader === 44 || nextHeader === 51 || nextHeader === 60) {
    o.field('IP6HeaderExtension', u32(nextHeader));
    nextHeader = at(p);
    p += 8 * (at(p + 1) + 1);
    if (p > end) return;
  }
  o.field('IPProtocol', u32(nextHeader));
  decodeIPLayer4(o, h, p, nextHeader);
}

function decodeIPLayer4(o: Out, h: Uint8Array, p: number, protocol: number): void {
  if (p > h.length - 8) return;
  const at = (i: number) => byteAt(h, i);
  switch (protocol) {
    case 1:
      o.field('ICMPType', u32(at(p)));
      o.field('ICMPCode', u32(at(p + 1)));
      break;
    case 6:
      o.field('TCPSrcPort', u32((at(p) << 8) | at(p + 1)));
      o.field('TCPDstPort', u32((at(p + 2) << 8) | at(p + 3)));
      o.field('TCPFlags', u32(at(p + 13)));
      break;
    case 17:
      o.field('UDPSrcPort', u32((at(p) << 8) | at(p + 1)));
      o.field('UDPDstPort', u32((at(p + 2) << 8) | at(p + 3)));
      o.field('UDPBytes', u32((at(p + 4) << 8) | at(p + 5)));
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Flow records (readFlowSample_* and readExtended* in sflowtool)

type Emitter = (o: Out, r: Rec, len: number, st: HeaderState) => void;

/** Emit fields read and printed one by one (sflowtool's sf_log_next32/64 runs). */
type Fmt = 'u32' | 'u64' | 'pct' | 'f3' | 'mac';
function seq(o: Out, r: Rec, list: readonly (readonly [string, string, Fmt?])[]): void {
  for (const [name, key, fmt] of list) {
    const v = need(r[key], key);
    switch (fmt ?? 'u32') {
      case 'u32':
        o.field(name, u32(v));
        break;
      case 'u64':
        o.field(name, u64(v));
        break;
      case 'pct':
        o.field(name, percentage(v));
        break;
      case 'f3':
        o.field(name, printfFixed(v, 3));
        break;
      case 'mac':
        o.field(name, v);
        break;
    }
  }
}

function emitSampledHeader(o: Out, r: Rec, st: HeaderState, withStripped = true): void {
  o.field('flowSampleType', 'HEADER');
  const protocol = need(r.headerProtocol, 'header protocol');
  o.field('headerProtocol', u32(protocol));
  const frameLength = need(r.frameLength, 'frame length');
  o.field('sampledPacketSize', u32(frameLength));
  let stripped = 0;
  if (withStripped) {
    stripped = need(r.stripped, 'stripped');
    o.field('strippedBytes', u32(stripped));
  }
  const header: Uint8Array | undefined = r.header;
  o.field('headerLen', u32(need(r.headerLen ?? header?.length, 'header length')));
  need(header, 'header bytes');
  o.field('headerBytes', headerHex(header!));
  decodeHeader(o, st, protocol, header!, frameLength, stripped);
}

function emitSampledEthernet(prefix: string): Emitter {
  return (o, r) => {
    o.field('flowSampleType', `${prefix}ETHERNET`);
    need(r.type, 'ethernet');
    o.pushPrefix(prefix);
    o.field('ethernet_type', u32(r.type));
    o.field('ethernet_len', u32(r.length));
    o.field('ethernet_src', r.srcMac);
    o.field('ethernet_dst', r.dstMac);
    o.popPrefix();
  };
}

function emitL4Ports(o: Out, protocol: number, r: Rec): void {
  switch (protocol >>> 0) {
    case 1:
      o.field('ICMPType', u32(r.dstPort));
      break;
    case 6:
      o.field('TCPSrcPort', u32(r.srcPort));
      o.field('TCPDstPort', u32(r.dstPort));
      o.field('TCPFlags', u32(r.tcpFlags));
      break;
    case 17:
      o.field('UDPSrcPort', u32(r.srcPort));
      o.field('UDPDstPort', u32(r.dstPort));
      break;
  }
}

function emitSampledIPv4(prefix: string): Emitter {
  return (o, r) => {
    o.field('flowSampleType', `${prefix}IPV4`);
    need(r.tos, 'sampled IPv4');
    o.pushPrefix(prefix);
    o.field('sampledPacketSize', u32(r.length));
    o.field('IPSize', u32(r.length));
    o.field('srcIP', r.srcIP);
    o.field('dstIP', r.dstIP);
    o.field('IPProtocol', u32(r.protocol));
    o.field('IPTOS', u32(r.tos));
    emitL4Ports(o, r.protocol, r);
    o.popPrefix();
  };
}

function emitSampledIPv6(prefix: string): Emitter {
  return (o, r) => {
    o.field('flowSampleType', `${prefix}IPV6`);
    need(r.priority, 'sampled IPv6');
    o.pushPrefix(prefix);
    o.field('sampledPacketSize', u32(r.length));
    o.field('IPSize', u32(r.length));
    o.field('srcIP6', ip6Full(r.srcIP));
    o.field('dstIP6', ip6Full(r.dstIP));
    o.field('IPProtocol', u32(r.protocol));
    o.field('priority', u32(r.priority));
    emitL4Ports(o, r.protocol, r);
    o.popPrefix();
  };
}

/** getAddress: sflowtool stops at an address of type 0 (printed '' by our decoder) or unknown. */
function address(a: string | undefined, what: string): string {
  const s = need(a, what);
  if (s === '') giveUp(`unknown ${what} address type`);
  return addressText(s);
}

function emitGateway(o: Out, r: Rec): void {
  o.field('extendedType', 'GATEWAY');
  o.field('bgp_nexthop', address(r.nextHop, 'BGP next hop'));
  need(r.srcPeerAs, 'AS numbers');
  o.field('my_as', u32(r.as));
  o.field('src_as', u32(r.srcAs));
  o.field('src_peer_as', u32(r.srcPeerAs));
  const segs: { type: number; asns: number[] }[] = need(r.dstAsPath, 'AS path');
  let dstPeerAs = 0;
  let dstAs = 0;
  if (segs.length > 0) {
    const path = new SfStr();
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      // sflowtool takes the first ASN of the first segment and the last ASN of the last one
      // without checking the segment is not empty: it then reads the neighbouring words.
      if (i === 0) dstPeerAs = seg.asns.length > 0 ? seg.asns[0]! : (segs[1]?.type ?? need(r.communities, 'communities').length);
      if (seg.type === 1) path.append('(');
      path.array32(seg.asns, '-');
      if (seg.type === 1) path.append(')');
      if (i === segs.length - 1) dstAs = seg.asns.length > 0 ? seg.asns[seg.asns.length - 1]! : 0;
    }
    o.field('dst_as_path', path.s);
  }
  o.field('dst_as', u32(dstAs));
  o.field('dst_peer_as', u32(dstPeerAs));
  const communities: number[] = need(r.communities, 'communities');
  if (communities.length > 0) {
    const c = new SfStr();
    c.array32(communities, '-');
    o.field('BGP_communities', c.s);
  }
  o.field('BGP_localpref', u32(need(r.localPref, 'local pref')));
}

function labelStack(o: Out, name: string, stack: number[]): void {
  if (stack.length === 0) return;
  const s = new SfStr();
  for (let j = 0; j < stack.length; j++) {
    if (j > 0) s.append('-');
    const lab = stack[j]! >>> 0;
    s.array32([lab >>> 12, (lab >>> 9) & 7, (lab >>> 8) & 1, lab & 255], '.');
  }
  o.field(name, s.s);
}

function vlanTunnel(o: Out, stack: number[]): void {
  if (stack.length === 0) return;
  const s = new SfStr();
  for (let j = 0; j < stack.length; j++) {
    if (j > 0) s.append('-');
    const lab = stack[j]! >>> 0;
    s.hex(Uint8Array.of(lab >>> 24, (lab >>> 16) & 255), false, '', true);
    s.array32([(lab >>> 13) & 7, (lab >>> 12) & 1, lab & 4095], '.');
  }
  o.field('vlan_tunnel', s.s);
}

/** A string field sflowtool prints only when its length word is not 0. */
function optStr(o: Out, name: string, v: string | undefined, max: number): void {
  const s = need(v, name);
  if (s.length > 0) o.field(name, cstr(s, max));
}

const APP_STATUS = [
  'SUCCESS',
  'OTHER',
  'TIMEOUT',
  'INTERNAL_ERROR',
  'BAD_REQUEST',
  'FORBIDDEN',
  'TOO_LARGE',
  'NOT_IMPLEMENTED',
  'NOT_FOUND',
  'UNAVAILABLE',
  'UNATHORIZED',
];

const FLOW_EMITTERS = new Map<number, Emitter>();
const flow = (format: number, e: Emitter, enterprise = 0): void => {
  FLOW_EMITTERS.set(tagOf(enterprise, format), e);
};

flow(1, (o, r, _len, st) => emitSampledHeader(o, r, st));
flow(2, emitSampledEthernet(''));
flow(3, emitSampledIPv4(''));
flow(4, emitSampledIPv6(''));
flow(1001, (o, r) => {
  o.field('extendedType', 'SWITCH');
  need(r.dstPriority, 'switch');
  o.field('in_vlan', u32(r.srcVlan));
  o.field('in_priority', u32(r.srcPriority));
  o.field('out_vlan', u32(r.dstVlan));
  o.field('out_priority', u32(r.dstPriority));
});
flow(1002, (o, r) => {
  o.field('extendedType', 'ROUTER');
  const nextHop = address(r.nextHop, 'next hop');
  need(r.dstMaskLen, 'masks');
  o.field('nextHop', nextHop);
  o.field('srcSubnetMask', u32(r.srcMaskLen));
  o.field('dstSubnetMask', u32(r.dstMaskLen));
});
flow(1003, emitGateway);
flow(1004, (o, r) => {
  o.field('extendedType', 'USER');
  o.field('src_user_charset', u32(need(r.srcCharset, 'charset')));
  need(r.srcUser, 'user');
  o.field('dst_user_charset', u32(need(r.dstCharset, 'charset')));
  need(r.dstUser, 'user');
  o.field('src_user', cstr(r.srcUser, 200));
  o.field('dst_user', cstr(r.dstUser, 200));
});
flow(1005, (o, r) => {
  o.field('extendedType', 'URL');
  o.field('url_direction', u32(need(r.direction, 'direction')));
  o.field('url', cstr(need(r.url, 'url'), 200));
  o.field('host', cstr(need(r.host, 'host'), 200));
});
flow(1006, (o, r) => {
  o.field('extendedType', 'MPLS');
  o.field('mpls_nexthop', address(r.nextHop, 'MPLS next hop'));
  labelStack(o, 'mpls_input_stack', need(r.inStack, 'label stack'));
  labelStack(o, 'mpls_output_stack', need(r.outStack, 'label stack'));
});
flow(1007, (o, r) => {
  o.field('extendedType', 'NAT');
  o.field('nat_src', address(r.srcAddress, 'NAT source'));
  o.field('nat_dst', address(r.dstAddress, 'NAT destination'));
});
flow(1008, (o, r) => {
  optStr(o, 'mpls_tunnel_lsp_name', r.tunnelLspName, 100);
  seq(o, r, [
    ['mpls_tunnel_id', 'tunnelId'],
    ['mpls_tunnel_cos', 'tunnelCos'],
  ]);
});
flow(1009, (o, r) => {
  optStr(o, 'mpls_vc_name', r.vcInstanceName, 100);
  seq(o, r, [
    ['mpls_vll_vc_id', 'vllVcId'],
    ['mpls_vc_cos', 'vcLabelCos'],
  ]);
});
flow(1010, (o, r) => {
  optStr(o, 'mpls_ftn_descr', r.mplsFTNDescr, 100);
  seq(o, r, [['mpls_ftn_mask', 'mplsFTNMask']]);
});
flow(1011, (o, r) => seq(o, r, [['mpls_fec_addr_prefix_len', 'mplsFecAddrPrefixLength']]));
flow(1012, (o, r) => vlanTunnel(o, need(r.stack, 'VLAN stack')));
flow(1013, (o, r, _len, st) => {
  o.field('cipher_suite', u32(need(r.cipherSuite, 'cipher suite')));
  emitSampledHeader(o, r.payload ?? {}, st);
});
flow(1014, (o, r) => {
  optStr(o, 'rx_SSID', r.ssid, 256);
  o.field('rx_BSSID', need(r.bssid, 'BSSID'));
  seq(o, r, [
    ['rx_version', 'version'],
    ['rx_channel', 'channel'],
    ['rx_speed', 'speed', 'u64'],
    ['rx_rsni', 'rsni'],
    ['rx_rcpi', 'rcpi'],
    ['rx_packet_uS', 'packetDurationUs'],
  ]);
});
flow(1015, (o, r) => {
  optStr(o, 'tx_SSID', r.ssid, 256);
  o.field('tx_BSSID', need(r.bssid, 'BSSID'));
  seq(o, r, [
    ['tx_version', 'version'],
    ['tx_transmissions', 'transmissions'],
    ['tx_packet_uS', 'packetDurationUs'],
    ['tx_retrans_uS', 'retransDurationUs'],
    ['tx_channel', 'channel'],
    ['tx_speed', 'speed', 'u64'],
    ['tx_power_mW', 'powerMw'],
  ]);
});
flow(1020, (o, r) => {
  o.field('extendedType', 'NAT PORT');
  seq(o, r, [
    ['nat_src_port', 'srcPort'],
    ['nat_dst_port', 'dstPort'],
  ]);
});
flow(1021, emitSampledEthernet('tunnel_l2_out_'));
flow(1022, emitSampledEthernet('tunnel_l2_in_'));
flow(1023, emitSampledIPv4('tunnel_ipv4_out_'));
flow(1024, emitSampledIPv4('tunnel_ipv4_in_'));
flow(1025, emitSampledIPv6('tunnel_ipv6_out_'));
flow(1026, emitSampledIPv6('tunnel_ipv6_in_'));
for (const [format, prefix] of [
  [1027, 'out_'],
  [1028, 'in_'],
] as const) {
  flow(format, (o, r) => {
    o.field('extendedType', `${prefix}decap`);
    o.fieldP(prefix, 'decap_inner_header_offset', u32(need(r.innerHeaderOffset, 'offset')));
  });
}
for (const [format, prefix] of [
  [1029, 'out_'],
  [1030, 'in_'],
] as const) {
  flow(format, (o, r) => {
    o.field('extendedType', `${prefix}VNI`);
    o.fieldP(prefix, 'VNI', u32(need(r.vni, 'VNI')));
  });
}
flow(1036, (o, r) => {
  o.field('extendedType', 'egress_queue');
  seq(o, r, [['egress_queue_id', 'queue']]);
});
flow(1038, (o, r) => {
  o.field('extendedType', 'function');
  optStr(o, 'symbol', r.symbol, 64);
});
flow(1039, (o, r) => {
  o.field('extendedType', 'transit_delay');
  seq(o, r, [['transit_delay_nS', 'delay']]);
});
flow(1040, (o, r) => {
  o.field('extendedType', 'queue_depth');
  seq(o, r, [['queue_depth_bytes', 'depth']]);
});
flow(1041, (o, r) => {
  o.field('extendedType', 'hw_trap');
  optStr(o, 'hw_trap_group', r.group, 64);
  optStr(o, 'hw_trap_name', r.trap, 64);
});
flow(1042, (o, r) => {
  o.field('extendedType', 'linux_reason');
  optStr(o, 'linux_drop_reason', r.reason, 64);
});
flow(1043, (o, r) => {
  o.field('extendedType', 'timestamp');
  seq(o, r, [['timestamp_nS', 'nanoseconds', 'u64']]);
});
for (const [format, name] of [
  [2100, 'socket4'],
  [2101, 'socket6'],
  [2102, 'proxy_socket4'],
  [2103, 'proxy_socket6'],
] as const) {
  const v6 = name.endsWith('6');
  flow(format, (o, r) => {
    o.field('extendedType', name);
    o.field(`${name}_ip_protocol`, u32(need(r.protocol, 'protocol')));
    need(r.remoteIP, 'addresses');
    o.field(`${name}_local_ip`, v6 ? ip6Full(r.localIP) : r.localIP);
    o.field(`${name}_remote_ip`, v6 ? ip6Full(r.remoteIP) : r.remoteIP);
    seq(o, r, [
      [`${name}_local_port`, 'localPort'],
      [`${name}_remote_port`, 'remotePort'],
    ]);
  });
}
flow(2200, (o, r) => {
  o.field('flowSampleType', 'memcache');
  seq(o, r, [
    ['memcache_op_protocol', 'protocol'],
    ['memcache_op_cmd', 'cmd'],
  ]);
  const key = need(r.key, 'key') as string;
  if (key.length > 0) o.field('memcache_op_key', urlEncode(cstr(key, 255)));
  seq(o, r, [
    ['memcache_op_nkeys', 'nkeys'],
    ['memcache_op_value_bytes', 'valueBytes'],
    ['memcache_op_duration_uS', 'durationUs'],
    ['memcache_op_status', 'status'],
  ]);
});
for (const format of [2201, 2206]) {
  const v2 = format === 2206;
  flow(format, (o, r) => {
    o.field('flowSampleType', 'http');
    seq(o, r, [
      ['http_method', 'method'],
      ['http_protocol', 'protocol'],
    ]);
    optStr(o, 'http_uri', r.uri, 255);
    optStr(o, 'http_host', r.host, 64);
    optStr(o, 'http_referrer', r.referer, 255);
    optStr(o, 'http_useragent', r.userAgent, 128);
    if (v2) optStr(o, 'http_xff', r.xff, 64);
    optStr(o, 'http_authuser', r.authUser, 32);
    optStr(o, 'http_mimetype', r.mimeType, 64);
    if (v2) seq(o, r, [['http_request_bytes', 'reqBytes', 'u64']]);
    seq(o, r, [
      ['http_bytes', 'respBytes', 'u64'],
      ['http_duration_uS', 'durationUs'],
      ['http_status', 'status'],
    ]);
  });
}
flow(2202, (o, r) => {
  o.field('flowSampleType', 'applicationOperation');
  optStr(o, 'application', r.application, 32);
  optStr(o, 'operation', r.operation, 32);
  optStr(o, 'attributes', r.attributes, 255);
  optStr(o, 'status_descr', r.statusDescr, 32);
  seq(o, r, [
    ['request_bytes', 'reqBytes', 'u64'],
    ['response_bytes', 'respBytes', 'u64'],
    ['duration_uS', 'durationUs'],
  ]);
  const status = need(r.status, 'status') >>> 0;
  o.field('status', status < APP_STATUS.length ? APP_STATUS[status]! : `<out-of-range=${status}>`);
});
flow(2203, (o, r) => {
  optStr(o, 'server_context_application', r.application, 32);
  optStr(o, 'server_context_operation', r.operation, 32);
  optStr(o, 'server_context_attributes', r.attributes, 255);
});
flow(2204, (o, r) => optStr(o, 'actor_initiator', r.actor, 64));
flow(2205, (o, r) => optStr(o, 'actor_target', r.actor, 64));
flow(2209, (o, r) => {
  const dirn = need(r.dirn, 'direction') >>> 0;
  o.field('tcpinfo_direction', dirn === 0 ? 'unknown' : dirn === 1 ? 'received' : dirn === 2 ? 'sent' : '<bad value>');
  seq(o, r, [
    ['tcpinfo_send_mss', 'sndMss'],
    ['tcpinfo_receive_mss', 'rcvMss'],
    ['tcpinfo_unacked_pkts', 'unacked'],
    ['tcpinfo_lost_pkts', 'lost'],
    ['tcpinfo_retrans_pkts', 'retrans'],
    ['tcpinfo_path_mtu', 'pmtu'],
    ['tcpinfo_rtt_uS', 'rtt'],
    ['tcpinfo_rtt_uS_var', 'rttvar'],
    ['tcpinfo_send_congestion_win', 'sndCwnd'],
    ['tcpinfo_reordering', 'reordering'],
    ['tcpinfo_rtt_uS_min', 'minRtt'],
  ]);
});
flow(2210, (o, r) => {
  o.field('extendedType', 'entities');
  seq(o, r, [
    ['entities_src_class', 'srcDsClass'],
    ['entities_src_index', 'srcDsIndex'],
    ['entities_dst_class', 'dstDsClass'],
    ['entities_dst_index', 'dstDsIndex'],
  ]);
});

// ---------------------------------------------------------------------------------------------
// Counter records (readCounters_* in sflowtool)

const COUNTER_EMITTERS = new Map<number, Emitter>();
const counter = (format: number, e: Emitter, enterprise = 0): void => {
  COUNTER_EMITTERS.set(tagOf(enterprise, format), e);
};
/** A counter block printed field by field under the given names (sflowtool name, our field, format). */
const counterSeq = (format: number, list: readonly (readonly [string, string, Fmt?])[], enterprise = 0): void =>
  counter(format, (o, r) => seq(o, r, list), enterprise);
/** Same names as ours, all u32 (or as given). */
const same = (...names: string[]): [string, string][] => names.map((n) => [n, n]);

counterSeq(1, [
  ['ifIndex', 'ifIndex'],
  ['networkType', 'ifType'],
  ['ifSpeed', 'ifSpeed', 'u64'],
  ['ifDirection', 'ifDirection'],
  ['ifStatus', 'ifStatus'],
  ['ifInOctets', 'ifInOctets', 'u64'],
  ...same('ifInUcastPkts', 'ifInMulticastPkts', 'ifInBroadcastPkts', 'ifInDiscards', 'ifInErrors', 'ifInUnknownProtos'),
  ['ifOutOctets', 'ifOutOctets', 'u64'],
  ...same('ifOutUcastPkts', 'ifOutMulticastPkts', 'ifOutBroadcastPkts', 'ifOutDiscards', 'ifOutErrors', 'ifPromiscuousMode'),
]);
counterSeq(
  2,
  same(
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
);
counterSeq(
  3,
  same(
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
);
counterSeq(4, [
  ['dot12InHighPriorityFrames', 'dot12InHighPriorityFrames'],
  ['dot12InHighPriorityOctets', 'dot12InHighPriorityOctets', 'u64'],
  ['dot12InNormPriorityFrames', 'dot12InNormPriorityFrames'],
  ['dot12InNormPriorityOctets', 'dot12InNormPriorityOctets', 'u64'],
  ...same('dot12InIPMErrors', 'dot12InOversizeFrameErrors', 'dot12InDataErrors', 'dot12InNullAddressedFrames', 'dot12OutHighPriorityFrames'),
  ['dot12OutHighPriorityOctets', 'dot12OutHighPriorityOctets', 'u64'],
  ['dot12TransitionIntoTrainings', 'dot12TransitionIntoTrainings'],
  ['dot12HCInHighPriorityOctets', 'dot12HCInHighPriorityOctets', 'u64'],
  ['dot12HCInNormPriorityOctets', 'dot12HCInNormPriorityOctets', 'u64'],
  ['dot12HCOutHighPriorityOctets', 'dot12HCOutHighPriorityOctets', 'u64'],
]);
counterSeq(5, [
  ['in_vlan', 'vlanId'],
  ['octets', 'octets', 'u64'],
  ...same('ucastPkts', 'multicastPkts', 'broadcastPkts', 'discards'),
]);
counterSeq(
  6,
  same(
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
);
counter(7, (o, r) => {
  seq(o, r, [
    ['actorSystemID', 'actorSystemID', 'mac'],
    ['partnerSystemID', 'partnerSystemID', 'mac'],
    ['attachedAggID', 'attachedAggID'],
  ]);
  const ps: Uint8Array = need(r.portState, 'port state');
  o.field('actorAdminPortState', u32(ps[0] ?? 0));
  o.field('actorOperPortState', u32(ps[1] ?? 0));
  o.field('partnerAdminPortState', u32(ps[2] ?? 0));
  o.field('partnerOperPortState', u32(ps[3] ?? 0));
  seq(o, r, [
    ['LACPDUsRx', 'LACPDUsRx'],
    ['markerPDUsRx', 'MarkerPDUsRx'],
    ['markerResponsePDUsRx', 'MarkerResponsePDUsRx'],
    ['unknownRx', 'UnknownRx'],
    ['illegalRx', 'IllegalRx'],
    ['LACPDUsTx', 'LACPDUsTx'],
    ['markerPDUsTx', 'MarkerPDUsTx'],
    ['markerResponsePDUsTx', 'MarkerResponsePDUsTx'],
  ]);
});

const SFP_LANE_FIELDS = [
  'laneIndex',
  'txBiasCurrent',
  'txPower',
  'txPowerMin',
  'txPowerMax',
  'txWavelength',
  'rxPower',
  'rxPowerMin',
  'rxPowerMax',
  'rxWavelength',
] as const;
// sflowtool's lane field names; the literal "%u" in most is its own (the lane number is appended after).
const SFP_LANE_NAMES = [
  'index',
  'tx_bias_current_uA',
  'tx_power_uW.%u',
  'tx_power_min_uW.%u',
  'tx_power_max_uW.%u',
  'tx_wavelength_nM.%u',
  'rx_power_uW.%u',
  'rx_power_min_uW.%u',
  'rx_power_max_uW.%u',
  'rx_wavelength_nM.%u',
] as const;
counter(10, (o, r) => {
  seq(o, r, [
    ['sfp_module_id', 'moduleId'],
    ['sfp_module_total_lanes', 'moduleTotalLanes'],
    ['sfp_module_supply_voltage', 'moduleSupplyVoltage'],
    ['sfp_module_temperature', 'moduleTemperature'],
  ]);
  const lanes: Rec[] = need(r.lanes, 'lanes');
  const count: number = r.laneCount ?? lanes.length;
  o.field('sfp_module_active_lanes', u32(count));
  // With no lanes sflowtool leaves this array unclosed (its JSON is then invalid); we close it.
  o.array('sfp_lanes');
  for (let ll = 0; ll < lanes.length; ll++) {
    const lane = lanes[ll]!;
    o.object();
    for (let k = 0; k < SFP_LANE_FIELDS.length; k++) {
      const value = u32(need(lane[SFP_LANE_FIELDS[k]!], 'lane'));
      o.field(SFP_LANE_NAMES[k]!, value);
      o.fieldP('sfp_lane_', `${SFP_LANE_NAMES[k]}.${ll}`, value);
    }
    o.end();
  }
  o.end();
});
counterSeq(1001, [
  ['5s_cpu', 'cpu5s', 'pct'],
  ['1m_cpu', 'cpu1m', 'pct'],
  ['5m_cpu', 'cpu5m', 'pct'],
  ['total_memory_bytes', 'totalMemory', 'u64'],
  ['free_memory_bytes', 'freeMemory', 'u64'],
]);
counterSeq(1002, [
  ['radio_elapsed_time', 'elapsedTime'],
  ['radio_on_channel_time', 'onChannelTime'],
  ['radio_on_channel_busy_time', 'onChannelBusyTime'],
]);
counter(1004, (o, r) => {
  o.field('openflow_datapath_id', BigInt.asUintN(64, need(r.datapathId, 'datapath id')).toString(16).padStart(16, '0'));
  seq(o, r, [['openflow_port', 'portNo']]);
});
counter(1005, (o, r) => optStr(o, 'ifName', r.name, 255));
counter(2000, (o, r) => {
  optStr(o, 'hostname', r.hostname, 64);
  const id: Uint8Array = need(r.uuid, 'UUID');
  o.field('UUID', `${hexOf(id, 0, 4)}-${hexOf(id, 4, 2)}-${hexOf(id, 6, 2)}-${hexOf(id, 8, 2)}-${hexOf(id, 10, 6)}`);
  seq(o, r, [
    ['machine_type', 'machineType'],
    ['os_name', 'osName'],
  ]);
  optStr(o, 'os_release', r.osRelease, 32);
});
counter(2001, (o, r) => {
  const adapters: Rec[] = need(r.adapters, 'adapters');
  o.array('adaptor_list');
  for (const a of adapters) {
    const ifIndex = need(a.ifIndex, 'ifIndex');
    o.object();
    o.field('ifIndex', u32(ifIndex));
    const macs: string[] = need(a.macs, 'MACs');
    const n: number = a.macCount ?? macs.length;
    o.field('MACs', u32(n));
    o.array('mac_list');
    for (let j = 0; j < n; j++) o.item(need(macs[j], 'MAC'));
    o.end();
    o.end();
  }
  o.end();
});
counterSeq(2002, [
  ['parent_dsClass', 'containerType'],
  ['parent_dsIndex', 'containerIndex'],
]);
counter(2003, (o, r, len) => {
  seq(o, r, [
    ['cpu_load_one', 'loadOne', 'f3'],
    ['cpu_load_five', 'loadFive', 'f3'],
    ['cpu_load_fifteen', 'loadFifteen', 'f3'],
    ['cpu_proc_run', 'procRun'],
    ['cpu_proc_total', 'procTotal'],
    ['cpu_num', 'cpuNum'],
    ['cpu_speed', 'cpuSpeed'],
    ['cpu_uptime', 'uptime'],
    ['cpu_user', 'cpuUser'],
    ['cpu_nice', 'cpuNice'],
    ['cpu_system', 'cpuSystem'],
    ['cpu_idle', 'cpuIdle'],
    ['cpu_wio', 'cpuWio'],
    ['cpuintr', 'cpuIntr'],
    ['cpu_sintr', 'cpuSintr'],
    ['cpuinterrupts', 'interrupts'],
    ['cpu_contexts', 'contexts'],
  ]);
  if (len > 68) {
    seq(o, r, [
      ['cpu_steal', 'cpuSteal'],
      ['cpu_guest', 'cpuGuest'],
      ['cpu_guest_nice', 'cpuGuestNice'],
    ]);
  }
});
counterSeq(2004, [
  ['mem_total', 'memTotal', 'u64'],
  ['mem_free', 'memFree', 'u64'],
  ['mem_shared', 'memShared', 'u64'],
  ['mem_buffers', 'memBuffers', 'u64'],
  ['mem_cached', 'memCached', 'u64'],
  ['swap_total', 'swapTotal', 'u64'],
  ['swap_free', 'swapFree', 'u64'],
  ['page_in', 'pageIn'],
  ['page_out', 'pageOut'],
  ['swap_in', 'swapIn'],
  ['swap_out', 'swapOut'],
]);
counterSeq(2005, [
  ['disk_total', 'diskTotal', 'u64'],
  ['disk_free', 'diskFree', 'u64'],
  ['disk_partition_max_used', 'partMaxUsed', 'pct'],
  ['disk_reads', 'reads'],
  ['disk_bytes_read', 'bytesRead', 'u64'],
  ['disk_read_time', 'readTime'],
  ['disk_writes', 'writes'],
  ['disk_bytes_written', 'bytesWritten', 'u64'],
  ['disk_write_time', 'writeTime'],
]);
const netIO = (p: string): [string, string, Fmt?][] => [
  [`${p}_bytes_in`, 'bytesIn', 'u64'],
  [`${p}_pkts_in`, 'pktsIn'],
  [`${p}_errs_in`, 'errsIn'],
  [`${p}_drops_in`, 'dropsIn'],
  [`${p}_bytes_out`, 'bytesOut', 'u64'],
  [`${p}_pkts_out`, 'pktsOut'],
  [`${p}_errs_out`, 'errsOut'],
  [`${p}_drops_out`, 'dropsOut'],
];
counterSeq(2006, netIO('nio'));
counterSeq(
  2007,
  same(
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
);
counterSeq(
  2008,
  same(
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
);
counterSeq(
  2009,
  same(
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
);
counterSeq(
  2010,
  same('udpInDatagrams', 'udpNoPorts', 'udpInErrors', 'udpOutDatagrams', 'udpRcvbufErrors', 'udpSndbufErrors', 'udpInCsumErrors'),
);
counterSeq(2100, [
  ['vnode_mhz', 'mhz'],
  ['vnode_cpus', 'cpus'],
  ['vnode_memory', 'memory', 'u64'],
  ['vnode_memory_free', 'memoryFree', 'u64'],
  ['vnode_num_domains', 'numDomains'],
]);
counterSeq(2101, [
  ['vcpu_state', 'state'],
  ['vcpu_cpu_mS', 'cpuTime'],
  ['vcpu_cpuCount', 'nrVirtCpu'],
]);
counterSeq(2102, [
  ['vmem_memory', 'memory', 'u64'],
  ['vmem_maxMemory', 'maxMemory', 'u64'],
]);
counterSeq(2103, [
  ['vdsk_capacity', 'capacity', 'u64'],
  ['vdsk_allocation', 'allocation', 'u64'],
  ['vdsk_available', 'available', 'u64'],
  ['vdsk_rd_req', 'rdReq'],
  ['vdsk_rd_bytes', 'rdBytes', 'u64'],
  ['vdsk_wr_req', 'wrReq'],
  ['vdsk_wr_bytes', 'wrBytes', 'u64'],
  ['vdsk_errs', 'errs'],
]);
counterSeq(2104, netIO('vnio'));
counter(2105, (o, r) => {
  optStr(o, 'jvm_name', r.vmName, 64);
  optStr(o, 'jvm_vendor', r.vmVendor, 32);
  optStr(o, 'jvm_version', r.vmVersion, 32);
});
counter(2106, (o, r, len) => {
  seq(o, r, [
    ['heap_mem_initial', 'heapInitial', 'u64'],
    ['heap_mem_used', 'heapUsed', 'u64'],
    ['heap_mem_committed', 'heapCommitted', 'u64'],
    ['heap_mem_max', 'heapMax', 'u64'],
    ['non_heap_mem_initial', 'nonHeapInitial', 'u64'],
    ['non_heap_mem_used', 'nonHeapUsed', 'u64'],
    ['non_heap_mem_committed', 'nonHeapCommitted', 'u64'],
    ['non_heap_mem_max', 'nonHeapMax', 'u64'],
    ['gc_count', 'gcCount'],
    ['gc_mS', 'gcTime'],
    ['classes_loaded', 'classesLoaded'],
    ['classes_total', 'classesTotal'],
    ['classes_unloaded', 'classesUnloaded'],
    ['compilation_mS', 'compilationTime'],
    ['threads_live', 'threadNumLive'],
    ['threads_daemon', 'threadNumDaemon'],
    ['threads_started', 'threadNumStarted'],
  ]);
  if (len > 100) {
    seq(o, r, [
      ['fds_open', 'fdOpenCount'],
      ['fds_max', 'fdMaxCount'],
    ]);
  }
});
counter(2200, (o, r) => seq(o, r, MEMCACHE_OLD.map(([n, t]) => [n, n, t] as const)));
counterSeq(2201, [
  ['http_method_option_count', 'methodOptionCount'],
  ['http_method_get_count', 'methodGetCount'],
  ['http_method_head_count', 'methodHeadCount'],
  ['http_method_post_count', 'methodPostCount'],
  ['http_method_put_count', 'methodPutCount'],
  ['http_method_delete_count', 'methodDeleteCount'],
  ['http_method_trace_count', 'methodTraceCount'],
  ['http_methd_connect_count', 'methodConnectCount'],
  ['http_method_other_count', 'methodOtherCount'],
  ['http_status_1XX_count', 'status1XXCount'],
  ['http_status_2XX_count', 'status2XXCount'],
  ['http_status_3XX_count', 'status3XXCount'],
  ['http_status_4XX_count', 'status4XXCount'],
  ['http_status_5XX_count', 'status5XXCount'],
  ['http_status_other_count', 'statusOtherCount'],
]);
counter(2202, (o, r) => {
  optStr(o, 'application', r.application, 32);
  seq(o, r, [
    ['status_OK', 'success'],
    ['errors_OTHER', 'other'],
    ['errors_TIMEOUT', 'timeout'],
    ['errors_INTERNAL_ERROR', 'internalError'],
    ['errors_BAD_REQUEST', 'badRequest'],
    ['errors_FORBIDDEN', 'forbidden'],
    ['errors_TOO_LARGE', 'tooLarge'],
    ['errors_NOT_IMPLEMENTED', 'notImplemented'],
    ['errors_NOT_FOUND', 'notFound'],
    ['errors_UNAVAILABLE', 'unavailable'],
    ['errors_UNAUTHORIZED', 'unauthorized'],
  ]);
});
counterSeq(2203, [
  ['user_time', 'userTime'],
  ['system_time', 'systemTime'],
  ['memory_used', 'memUsed', 'u64'],
  ['memory_max', 'memMax', 'u64'],
  ['files_open', 'fdOpen'],
  ['files_max', 'fdMax'],
  ['connections_open', 'connOpen'],
  ['connections_max', 'connMax'],
]);
counterSeq(2204, [
  ['memcache_cmd_set', 'cmdSet'],
  ['memcache_cmd_touch', 'cmdTouch'],
  ['memcache_cmd_flush', 'cmdFlush'],
  ['memcache_get_hits', 'getHits'],
  ['memcache_get_misses', 'getMisses'],
  ['memcache_delete_hits', 'deleteHits'],
  ['memcache_delete_misses', 'deleteMisses'],
  ['memcache_incr_hits', 'incrHits'],
  ['memcache_incr_misses', 'incrMisses'],
  ['memcache_decr_hits', 'decrHits'],
  ['memcache_decr_misses', 'decrMisses'],
  ['memcache_cas_hits', 'casHits'],
  ['memcache_cas_misses', 'casMisses'],
  ['memcache_cas_badval', 'casBadval'],
  ['memcache_auth_cmds', 'authCmds'],
  ['memcache_auth_errors', 'authErrors'],
  ['memcache_threads', 'threads'],
  ['memcache_conn_yields', 'connYields'],
  ['memcache_listen_disabled_num', 'listenDisabledNum'],
  ['memcache_curr_connections', 'currConnections'],
  ['memcache_rejected_connections', 'rejectedConnections'],
  ['memcache_total_connections', 'totalConnections'],
  ['memcache_connection_structures', 'connectionStructures'],
  ['memcache_evictions', 'evictions'],
  ['memcache_reclaimed', 'reclaimed'],
  ['memcache_curr_items', 'currItems'],
  ['memcache_total_items', 'totalItems'],
  ['memcache_bytes_read', 'bytesRead', 'u64'],
  ['memcache_bytes_written', 'bytesWritten', 'u64'],
  ['memcache_bytes', 'bytes', 'u64'],
  ['memcache_limit_maxbytes', 'limitMaxbytes', 'u64'],
]);
const VDI_NAMES = [
  'vdi_sessions_current',
  'vdi_sessions_total',
  'vdi_sessions_duration',
  'vdi_rx_bytes',
  'vdi_tx_bytes',
  'vdi_rx_packets',
  'vdi_tx_packets',
  'vdi_rx_packets_lost',
  'vdi_tx_packets_lost',
  'vdi_rtt_min_ms',
  'vdi_rtt_max_ms',
  'vdi_rtt_avg_ms',
  'vdi_audio_rx_bytes',
  'vdi_audio_tx_bytes',
  'vdi_audio_tx_limit',
  'vdi_img_rx_bytes',
  'vdi_img_tx_bytes',
  'vdi_img_frames',
  'vdi_img_qual_min',
  'vdi_img_qual_max',
  'vdi_img_qual_avg',
  'vdi_usb_rx_bytes',
  'vdi_usb_tx_bytes',
];
counter(2205, (o, r) => {
  // sflowtool reads 23 words; our (registry) layout has 27, taken here in wire order.
  const values: number[] = r.values ?? Object.values(r).filter((x): x is number => typeof x === 'number' && x !== r.tag);
  for (let i = 0; i < VDI_NAMES.length; i++) o.field(VDI_NAMES[i]!, u32(need(values[i], 'VDI counter')));
});
counterSeq(2206, [
  ['workers_active', 'workersActive'],
  ['workers_idle', 'workersIdle'],
  ['workers_max', 'workersMax'],
  ['requests_delayed', 'reqDelayed'],
  ['requests_dropped', 'reqDropped'],
]);
counterSeq(2207, [
  ['OVS_dp_hits', 'hit'],
  ['OVS_dp_misses', 'missed'],
  ['OVS_dp_lost', 'lost'],
  ['OVS_dp_mask_hits', 'maskHit'],
  ['OVS_dp_flows', 'flows'],
  ['OVS_dp_masks', 'masks'],
]);
counterSeq(
  1,
  [
    ['nvml_device_count', 'deviceCount'],
    ['nvml_processes', 'processes'],
    ['nvml_gpu_mS', 'gpuTime'],
    ['nvml_mem_mS', 'memTime'],
    ['nvml_mem_bytes_total', 'memTotal', 'u64'],
    ['nvml_mem_bytes_free', 'memFree', 'u64'],
    ['nvml_ecc_errors', 'eccErrors'],
    ['nvml_energy_mJ', 'energy'],
    ['nvml_temperature_C', 'temperature'],
    ['nvml_fan_speed_pc', 'fanSpeed'],
  ],
  5703,
);
counterSeq(
  3,
  [
    ['bcm_asic_host_entries', 'hostEntries'],
    ['bcm_host_entries_max', 'hostEntriesMax'],
    ['bcm_ipv4_entries', 'ipv4Entries'],
    ['bcm_ipv4_entries_max', 'ipv4EntriesMax'],
    ['bcm_ipv6_entries', 'ipv6Entries'],
    ['bcm_ipv6_entries_max', 'ipv6EntriesMax'],
    ['bcm_ipv4_ipv6_entries', 'ipv4Ipv6Entries'],
    ['bcm_ipv4_ipv6_entries_max', 'ipv4Ipv6EntriesMax'],
    ['bcm_long_ipv6_entries', 'longIpv6Entries'],
    ['bcm_long_ipv6_entries_max', 'longIpv6EntriesMax'],
    ['bcm_total_routes', 'totalRoutes'],
    ['bcm_total_routes_max', 'totalRoutesMax'],
    ['bcm_ecmp_nexthops', 'ecmpNexthops'],
    ['bcm_ecmp_nexthops_max', 'ecmpNexthopsMax'],
    ['bcm_mac_entries', 'macEntries'],
    ['bcm_mac_entries_max', 'macEntriesMax'],
    ['bcm_ipv4_neighbors', 'ipv4Neighbors'],
    ['bcm_ipv6_neighbors', 'ipv6Neighbors'],
    ['bcm_ipv4_routes', 'ipv4Routes'],
    ['bcm_ipv6_routes', 'ipv6Routes'],
    ['bcm_acl_ingress_entries', 'aclIngressEntries'],
    ['bcm_acl_ingress_entries_max', 'aclIngressEntriesMax'],
    ['bcm_acl_ingress_counters', 'aclIngressCounters'],
    ['bcm_acl_ingress_counters_max', 'aclIngressCountersMax'],
    ['bcm_acl_ingress_meters', 'aclIngressMeters'],
    ['bcm_acl_ingress_meters_max', 'aclIngressMetersMax'],
    ['bcm_acl_ingress_slices', 'aclIngressSlices'],
    ['bcm_acl_ingress_slices_max', 'aclIngressSlicesMax'],
    ['bcm_acl_egress_entries', 'aclEgressEntries'],
    ['bcm_acl_egress_entries_max', 'aclEgressEntriesMax'],
    ['bcm_acl_egress_counters', 'aclEgressCounters'],
    ['bcm_acl_egress_counters_max', 'aclEgressCountersMax'],
    ['bcm_acl_egress_meters', 'aclEgressMeters'],
    ['bcm_acl_egress_meters_max', 'aclEgressMetersMax'],
    ['bcm_acl_egress_slices', 'aclEgressSlices'],
    ['bcm_acl_egress_slices_max', 'aclEgressSlicesMax'],
  ],
  4413,
);

// ---------------------------------------------------------------------------------------------
// sFlow versions 2 and 4 (sflowtool's readFlowSample_v2v4 / readCountersSample_v2v4). Our decoder
// recognises these versions without decoding them, so they are rendered from sflowtool's walk of
// the bytes. No TLV framing: one packet-data block and a list of extended blocks per flow sample,
// a counters version and its blocks per counter sample.

const V2V4 = {
  flowSample: 1,
  countersSample: 2,
  packetHeader: 1,
  packetIPv4: 2,
  packetIPv6: 3,
  extSwitch: 1,
  extRouter: 2,
  extGateway: 3,
  extUser: 4,
  extUrl: 5,
} as const;

function emitV2V4(o: Out, bytes: Uint8Array, pos: number, version: number, agent: string): void {
  const r = new StrictReader(bytes, pos);
  const read = <V>(fn: () => V): V => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DecodeFault) giveUp('datagram ends');
      throw e;
    }
  };
  const seqNo = read(() => r.u32());
  const uptime = read(() => r.u32());
  const count = read(() => r.u32());
  o.field('agent', agent);
  o.field('packetSequenceNo', u32(seqNo));
  o.field('sysUpTime', u32(uptime));
  o.field('samplesInPacket', u32(count));
  o.array('samples');
  for (let i = 0; i < count; i++) {
    if (r.pos >= bytes.length) giveUp('unexpected end of datagram');
    const type = read(() => r.u32());
    o.object();
    o.field('sampleType_tag', tagName(type));
    if (type === V2V4.flowSample) emitFlowSampleV2V4(o, r, read, version);
    else if (type === V2V4.countersSample) emitCountersSampleV2V4(o, r, read);
    else giveUp('unexpected sample type');
    o.end();
  }
  o.end();
}

type Read = <V>(fn: () => V) => V;

/**
 * Print one v2/v4 block with a v5 printer: its fields are read in order until one does not fit,
 * printed as far as they go, and then sflowtool gives up if one did not fit.
 */
function emitBlock(o: Out, r: StrictReader, def: RecordDef, emit: Emitter, st: HeaderState): void {
  const rec: Rec = {};
  const fault = readFields(r, fieldsOf(def), rec);
  emit(o, rec, 0, st);
  if (fault) giveUp('datagram ends');
}

function emitFlowSampleV2V4(o: Out, r: StrictReader, read: Read, version: number): void {
  o.field('sampleType', 'FLOWSAMPLE');
  o.field('sampleSequenceNo', u32(read(() => r.u32())));
  const id = read(() => r.u32());
  o.field('sourceId', `${id >>> 24}:${id & 0xffffff}`);
  const rate = read(() => r.u32());
  const pool = read(() => r.u32());
  const drops = read(() => r.u32());
  const input = read(() => r.u32());
  const output = read(() => r.u32());
  o.field('meanSkipCount', u32(rate));
  o.field('samplePool', u32(pool));
  o.field('dropEvents', u32(drops));
  o.field('inputPort', u32(input));
  o.field('outputPort', outputPortV2V4(output));
  const packetTag = read(() => r.u32());
  o.array('elements');
  o.object();
  const st: HeaderState = { gotIPV4: false, gotIPV6: false, offsetToIPV4: 0, offsetToIPV6: 0 };
  switch (packetTag) {
    case V2V4.packetHeader: {
      const rec: Rec = {};
      const fault = walkHeaderBody(r, rec, false);
      emitSampledHeader(o, rec, st, false);
      if (fault) giveUp('datagram ends');
      break;
    }
    case V2V4.packetIPv4:
      emitBlock(o, r, FLOW_RECORDS.get(tagOf(0, 3))!, emitSampledIPv4(''), st);
      break;
    case V2V4.packetIPv6:
      emitBlock(o, r, FLOW_RECORDS.get(tagOf(0, 4))!, emitSampledIPv6(''), st);
      break;
    default:
      giveUp('unexpected packet_data_tag');
  }
  o.end();
  const n = read(() => r.u32());
  for (let x = 0; x < n; x++) {
    o.object();
    const ext = read(() => r.u32());
    switch (ext) {
      case V2V4.extSwitch:
      case V2V4.extRouter: {
        const tag = tagOf(0, ext === V2V4.extSwitch ? 1001 : 1002);
        emitBlock(o, r, FLOW_RECORDS.get(tag)!, FLOW_EMITTERS.get(tag)!, st);
        break;
      }
      case V2V4.extGateway:
        if (version === 2) emitGatewayV2(o, r, read);
        else emitGatewayV4(o, r, read);
        break;
      case V2V4.extUser: {
        o.field('extendedType', 'USER');
        const src = read(() => r.string());
        const dst = read(() => r.string());
        o.field('src_user', cstr(src, 200));
        o.field('dst_user', cstr(dst, 200));
        break;
      }
      case V2V4.extUrl:
        o.field('extendedType', 'URL');
        o.field('url_direction', u32(read(() => r.u32())));
        o.field('url', cstr(read(() => r.string()), 200));
        break;
      default:
        giveUp('unrecognized extended data tag');
    }
    o.end();
  }
  o.end();
}

function emitGatewayV2(o: Out, r: StrictReader, read: Read): void {
  o.field('extendedType', 'GATEWAY');
  const myAs = read(() => r.u32());
  const srcAs = read(() => r.u32());
  const srcPeerAs = read(() => r.u32());
  const n = read(() => r.u32());
  const path: number[] = [];
  if (n > 0) {
    const p = r.pos;
    read(() => r.skip(n * 4));
    for (let i = 0; i < n; i++) path.push(new DataView(r.bytes.buffer, r.bytes.byteOffset).getUint32(p + 4 * i));
  }
  o.field('my_as', u32(myAs));
  o.field('src_as', u32(srcAs));
  o.field('src_peer_as', u32(srcPeerAs));
  o.field('dst_as', u32(n > 0 ? path[n - 1]! : 0));
  o.field('dst_peer_as', u32(n > 0 ? path[0]! : 0));
  o.field('dst_as_path_len', u32(n));
  if (n > 0) {
    const s = new SfStr();
    s.array32(path, '-');
    o.field('dst_as_path', s.s);
  }
}

function emitGatewayV4(o: Out, r: StrictReader, read: Read): void {
  // readExtendedGateway without the next hop (version < 5).
  const rec: Rec = {};
  o.field('extendedType', 'GATEWAY');
  rec.as = read(() => r.u32());
  rec.srcAs = read(() => r.u32());
  rec.srcPeerAs = read(() => r.u32());
  o.field('my_as', u32(rec.as));
  o.field('src_as', u32(rec.srcAs));
  o.field('src_peer_as', u32(rec.srcPeerAs));
  const def = FLOW_RECORDS.get(tagOf(0, 1003))!;
  const fields = Object.fromEntries(fieldsOf(def));
  rec.dstAsPath = read(() => fields.dstAsPath!.decode(r));
  rec.communities = read(() => fields.communities!.decode(r));
  rec.localPref = read(() => r.u32());
  // Re-use the v5 printer from the AS path on (it prints the next hop first: skip that part).
  const sub = new Out();
  emitGateway(sub, { ...rec, nextHop: '0.0.0.0' });
  for (const [k, v] of Object.entries(sub.root)) {
    if (k === 'extendedType' || k === 'bgp_nexthop' || k === 'my_as' || k === 'src_as' || k === 'src_peer_as') continue;
    o.field(k, v as string);
  }
}

function emitCountersSampleV2V4(o: Out, r: StrictReader, read: Read): void {
  o.field('sampleType', 'COUNTERSSAMPLE');
  o.field('sampleSequenceNo', u32(read(() => r.u32())));
  const id = read(() => r.u32());
  o.field('sourceId', `${id >>> 24}:${id & 0xffffff}`);
  o.field('statsSamplingInterval', u32(read(() => r.u32())));
  const version = read(() => r.u32());
  o.field('counterBlockVersion', u32(version));
  o.array('elements');
  o.object();
  const st: HeaderState = { gotIPV4: false, gotIPV6: false, offsetToIPV4: 0, offsetToIPV6: 0 };
  const block = (format: number) => {
    const tag = tagOf(0, format);
    emitBlock(o, r, COUNTER_RECORDS.get(tag)!, COUNTER_EMITTERS.get(tag)!, st);
  };
  if (version >= 1 && version <= 6) block(1);
  else if (version !== 7) giveUp('unknown stats version');
  o.end();
  o.object();
  switch (version) {
    case 2:
      block(2);
      break;
    case 3:
      block(3);
      break;
    case 5:
      block(4);
      break;
    case 7:
      block(5);
      break;
  }
  o.end();
  o.end();
}
