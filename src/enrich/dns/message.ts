// DNS messages for PTR lookups, RFC 1035 §4 (header, question, resource records, name
// compression §4.1.4), negative-answer TTLs from the SOA record, RFC 2308 §5.
//
// Why our own codec: node's Resolver (c-ares) returns PTR names without their TTL, and the cache
// must honour TTLs. Only what a PTR lookup needs is here: one question, no EDNS (a truncated
// answer is handed to c-ares, which retries over TCP).

export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/** A query for `qname` (dotted, without the root dot) of type PTR, class IN, recursion desired. */
export function encodeQuery(id: number, qname: string, qtype = TYPE_PTR): Buffer {
  const labels = qname.replace(/\.$/, '').split('.');
  let len = 12 + 1 + 4;
  for (const l of labels) len += 1 + Buffer.byteLength(l, 'latin1');
  const b = Buffer.alloc(len);
  b.writeUInt16BE(id & 0xffff, 0);
  b.writeUInt16BE(0x0100, 2); // RD
  b.writeUInt16BE(1, 4); // QDCOUNT
  let o = 12;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new RangeError(`bad DNS label in ${qname}`);
    b[o++] = l.length;
    o += b.write(l, o, 'latin1');
  }
  b[o++] = 0;
  b.writeUInt16BE(qtype, o);
  b.writeUInt16BE(CLASS_IN, o + 2);
  return b;
}

export interface ResourceRecord {
  /** Owner name, dotted, no trailing dot, as received (case kept). */
  name: string;
  type: number;
  class: number;
  /** Seconds. */
  ttl: number;
  /** PTR / CNAME target (dotted, no trailing dot); SOA: the primary server name. */
  target?: string;
  /** SOA MINIMUM (RFC 2308: the negative-caching TTL). */
  soaMinimum?: number;
}

export interface DnsResponse {
  id: number;
  qr: boolean;
  opcode: number;
  /** TC: the answer did not fit; ask again over TCP. */
  truncated: boolean;
  rcode: number;
  question: { name: string; type: number; class: number } | null;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
}

export class DnsFormatError extends Error {}

/** Bytes that stand for themselves in a name's text form; others are written `\DDD` (RFC 4343 §2.1). */
function plain(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2a || c === 0x2f
  );
}

/**
 * Read a possibly compressed name at `offset`. Returns the dotted text (no trailing dot; the root
 * is '') and the offset just past the name in the original position. Bytes that could break a
 * flow key (`.` inside a label, `,`, `:`, spaces, controls...) are escaped as `\DDD`.
 */
export function readName(b: Uint8Array, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let o = offset;
  let end = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (o >= b.length) throw new DnsFormatError('name runs past the message');
    const len = b[o]!;
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= b.length) throw new DnsFormatError('truncated compression pointer');
      if (end < 0) end = o + 2;
      if (++jumps > 64) throw new DnsFormatError('compression loop');
      o = ((len & 0x3f) << 8) | b[o + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unknown label type');
    o++;
    if (len === 0) break;
    if (o + len > b.length) throw new DnsFormatError('label runs past the message');
    total += len + 1;
    if (total > 255) throw new DnsFormatError('name longer than 255 bytes');
    let s = '';
    for (let i = 0; i < len; i++) {
      const c = b[o + i]!;
      s += plain(c) ? String.fromCharCode(c) : `\\${String(c).padStart(3, '0')}`;
    }
    labels.push(s);
    o += len;
  }
  return { name: labels.join('.'), end: end < 0 ? o : end };
}

function readRecord(b: Uint8Array, dv: DataView, offset: number): { rr: ResourceRecord; end: number } {
  const { name, end: at } = readName(b, offset);
  if (at + 10 > b.length) throw new DnsFormatError('record header runs past the message');
  const type = dv.getUint16(at);
  const klass = dv.getUint16(at + 2);
  const ttlRaw = dv.getUint32(at + 4);
  const rdlen = dv.getUint16(at + 8);
  const rd = at + 10;
  if (rd + rdlen > b.length) throw new DnsFormatError('record data runs past the message');
  // RFC 2181 §8: a TTL with the top bit set is treated as zero.
  const rr: ResourceRecord = { name, type, class: klass, ttl: ttlRaw > 0x7fffffff ? 0 : ttlRaw };
  if (type === TYPE_PTR || type === TYPE_CNAME) {
    rr.target = readName(b, rd).name;
  } else if (type === TYPE_SOA) {
    const mname = readName(b, rd);
    const rname = readName(b, mname.end);
    if (rname.end + 20 > rd + rdlen) throw new DnsFormatError('short SOA record');
    rr.target = mname.name;
    rr.soaMinimum = dv.getUint32(rname.end + 16);
  }
  return { rr, end: rd + rdlen };
}

/** Decode a response. Throws DnsFormatError on malformed input. Additional records are skipped. */
export function decodeResponse(msg: Uint8Array): DnsResponse {
  if (msg.length < 12) throw new DnsFormatError('shorter than a DNS header');
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const flags = dv.getUint16(2);
  const qd = dv.getUint16(4);
  const an = dv.getUint16(6);
  const ns = dv.getUint16(8);
  const res: DnsResponse = {
    id: dv.getUint16(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    truncated: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    question: null,
    answers: [],
    authority: [],
  };
  let o = 12;
  for (let i = 0; i < qd; i++) {
    const q = readName(msg, o);
    if (q.end + 4 > msg.length) throw new DnsFormatError('question runs past the message');
    if (i === 0) res.question = { name: q.name, type: dv.getUint16(q.end), class: dv.getUint16(q.end + 2) };
    o = q.end + 4;
  }
  // A truncated message may stop anywhere after the question: keep what was read.
  try {
    for (let i = 0; i < an; i++) {
      const r = readRecord(msg, dv, o);
      res.answers.push(r.rr);
      o = r.end;
    }
    for (let i = 0; i < ns; i++) {
      const r = readRecord(msg, dv, o);
      res.authority.push(r.rr);
      o = r.end;
    }
  } catch (e) {
    if (!res.truncated) throw e;
  }
  return res;
}

function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

export type PtrAnswer =
  | { kind: 'names'; names: string[]; ttl: number }
  | { kind: 'nxdomain' | 'nodata'; ttl: number | undefined }
  | { kind: 'rcode'; rcode: number };

/**
 * What a response says about `qname`: the PTR names (with trailing dots) and the smallest TTL
 * along the CNAME chain (RFC 2317 classless delegation answers with a CNAME first), or a negative
 * answer with its RFC 2308 TTL (min of the SOA's own TTL and its MINIMUM), or a failing RCODE.
 */
export function interpretPtr(res: DnsResponse, qname: string): PtrAnswer {
  if (res.rcode !== RCODE_NOERROR && res.rcode !== RCODE_NXDOMAIN) return { kind: 'rcode', rcode: res.rcode };
  let owner = qname.replace(/\.$/, '');
  let ttl = Infinity;
  for (let hops = 0; hops < 8; hops++) {
    const names: string[] = [];
    let next: string | null = null;
    let hopTtl = Infinity;
    for (const rr of res.answers) {
      if (rr.class !== CLASS_IN || !sameName(rr.name, owner)) continue;
      if (rr.type === TYPE_PTR && rr.target !== undefined) {
        names.push(`${rr.target}.`);
        ttl = Math.min(ttl, rr.ttl);
      } else if (rr.type === TYPE_CNAME && rr.target !== undefined && next === null) {
        next = rr.target;
        hopTtl = rr.ttl;
      }
    }
    if (names.length > 0) return { kind: 'names', names, ttl };
    if (next === null) break;
    ttl = Math.min(ttl, hopTtl);
    owner = next;
  }
  let negTtl: number | undefined;
  for (const rr of res.authority) {
    if (rr.type === TYPE_SOA && rr.soaMinimum !== undefined) negTtl = Math.min(rr.ttl, rr.soaMinimum);
  }
  return { kind: res.rcode === RCODE_NXDOMAIN ? 'nxdomain' : 'nodata', ttl: negTtl };
}
