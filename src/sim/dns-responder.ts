// A small authoritative DNS server for the demo: answers reverse (PTR) queries for the
// simulated cluster's pods, services and nodes with Kubernetes-style names, and forward (A)
// queries for those names; NXDOMAIN for everything else. UDP only, loopback by default.
// Message format: RFC 1035 §4; EDNS(0) OPT echoed when the query carries one (RFC 6891).
//
// `answer()` is pure (bytes in, bytes out) and is what the tests exercise; `start()` binds
// the socket.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { ClusterModel } from './topology.js';

export const DNS_TYPE = { A: 1, NS: 2, SOA: 6, PTR: 12, AAAA: 28, OPT: 41, ANY: 255 } as const;
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsResponderOptions {
  /** Reverse names: IPv4 address → PTR target (a trailing dot is added if missing). */
  ptr: ReadonlyMap<string, string>;
  /** Forward names: fully qualified name (trailing dot optional, any case) → IPv4 address. */
  forward?: ReadonlyMap<string, string>;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 (default) picks a free one. */
  port?: number;
  /** TTL of answers, seconds. Default 30. */
  ttl?: number;
}

export interface DnsResponderStats {
  queries: number;
  answered: number;
  nxdomain: number;
  nodata: number;
  errors: number;
}

interface Question {
  /** Name as received (case kept), without the trailing dot. */
  name: string;
  qtype: number;
  qclass: number;
  /** Byte range of the question in the query, copied into the answer as is. */
  start: number;
  end: number;
}

function readName(b: Uint8Array, p: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let total = 0;
  for (;;) {
    if (p >= b.length) return null;
    const len = b[p]!;
    if (len === 0) return { name: labels.join('.'), end: p + 1 };
    if (len & 0xc0) return null; // compression has no place in a query's question
    if (p + 1 + len > b.length) return null;
    total += len + 1;
    if (total > 255) return null;
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(b[p + 1 + i]!);
    labels.push(s);
    p += 1 + len;
  }
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label.length === 0) continue;
    out.push(Math.min(63, label.length));
    for (let i = 0; i < Math.min(63, label.length); i++) out.push(label.charCodeAt(i) & 0x7f);
  }
  out.push(0);
  return out;
}

/** IPv4 address of an `in-addr.arpa` name, or null. */
export function reverseNameToIPv4(name: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa\.?$/i.exec(name);
  if (!m) return null;
  const o = [m[4], m[3], m[2], m[1]].map(Number);
  if (o.some((x) => x > 255)) return null;
  return o.join('.');
}

export class DnsResponder {
  readonly stats: DnsResponderStats = { queries: 0, answered: 0, nxdomain: 0, nodata: 0, errors: 0 };
  private readonly ptr: Map<string, string>;
  private readonly forward: Map<string, string>;
  private readonly ttl: number;
  private readonly host: string;
  private readonly wantPort: number;
  private socket: Socket | null = null;
  private boundPort = 0;

  constructor(options: DnsResponderOptions) {
    this.ptr = new Map();
    for (const [ip, name] of options.ptr) this.ptr.set(ip, name.endsWith('.') ? name : `${name}.`);
    this.forward = new Map();
    for (const [name, ip] of options.forward ?? []) this.forward.set(name.toLowerCase().replace(/\.$/, ''), ip);
    this.ttl = options.ttl ?? 30;
    this.host = options.host ?? '127.0.0.1';
    this.wantPort = options.port ?? 0;
  }

  /** The port bound (after `start()`). */
  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return this.host;
  }

  /** The reply to one query message, or null when it is not worth one (too short to answer). */
  answer(q: Uint8Array): Uint8Array | null {
    this.stats.queries++;
    if (q.length < 12) {
      this.stats.errors++;
      return null;
    }
    const id = (q[0]! << 8) | q[1]!;
    const flags = (q[2]! << 8) | q[3]!;
    const qd = (q[4]! << 8) | q[5]!;
    const ar = (q[10]! << 8) | q[11]!;
    if (flags & 0x8000) {
      // a response sent to us: ignore
      this.stats.errors++;
      return null;
    }
    const rd = flags & 0x0100;
    const opcode = (flags >>> 11) & 0xf;
    if (opcode !== 0) return this.reply(q, id, rd, DNS_RCODE.NOTIMP, null, [], false);
    if (qd !== 1) {
      this.stats.errors++;
      return this.reply(q, id, rd, DNS_RCODE.FORMERR, null, [], false);
    }
    const n = readName(q, 12);
    if (!n || n.end + 4 > q.length) {
      this.stats.errors++;
      return this.reply(q, id, rd, DNS_RCODE.FORMERR, null, [], false);
    }
    const question: Question = { name: n.name, qtype: (q[n.end]! << 8) | q[n.end + 1]!, qclass: (q[n.end + 2]! << 8) | q[n.end + 3]!, start: 12, end: n.end + 4 };
    const edns = ar > 0 && hasOpt(q, question.end);
    const lname = question.name.toLowerCase();
    const want = (t: number) => question.qtype === t || question.qtype === DNS_TYPE.ANY;
    const inClass = question.qclass === 1 || question.qclass === 255;
    let target: string | undefined;
    let kind: 'ptr' | 'a' | null = null;
    const rev = reverseNameToIPv4(lname);
    if (rev !== null) {
      target = this.ptr.get(rev);
      kind = 'ptr';
    } else {
      target = this.forward.get(lname);
      kind = 'a';
    }
    if (target === undefined || !inClass) {
      this.stats.nxdomain++;
      return this.reply(q, id, rd, DNS_RCODE.NXDOMAIN, question, [], edns);
    }
    const rr: number[][] = [];
    if (kind === 'ptr' && want(DNS_TYPE.PTR)) {
      const rdata = encodeName(target);
      rr.push([0xc0, 0x0c, 0, DNS_TYPE.PTR, 0, 1, ...u32(this.ttl), rdata.length >>> 8, rdata.length & 0xff, ...rdata]);
    } else if (kind === 'a' && want(DNS_TYPE.A)) {
      const o = target.split('.').map(Number);
      rr.push([0xc0, 0x0c, 0, DNS_TYPE.A, 0, 1, ...u32(this.ttl), 0, 4, ...o]);
    }
    if (rr.length === 0) this.stats.nodata++;
    else this.stats.answered++;
    return this.reply(q, id, rd, DNS_RCODE.NOERROR, question, rr, edns);
  }

  private reply(q: Uint8Array, id: number, rd: number, rcode: number, question: Question | null, answers: number[][], edns: boolean): Uint8Array {
    const out: number[] = [];
    const flags = 0x8000 | 0x0400 | rd | rcode; // QR, AA
    out.push(id >>> 8, id & 0xff, flags >>> 8, flags & 0xff);
    out.push(0, question ? 1 : 0, 0, answers.length, 0, 0, 0, edns ? 1 : 0);
    if (question) for (let i = question.start; i < question.end; i++) out.push(q[i]!);
    for (const a of answers) out.push(...a);
    if (edns) out.push(0, 0, DNS_TYPE.OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0); // root, OPT, 1232 bytes, no flags, no options
    return Uint8Array.from(out);
  }

  /** Bind the UDP socket and start answering. Resolves with the bound port. */
  async start(): Promise<number> {
    if (this.socket) return this.boundPort;
    const sock = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const r = this.answer(msg);
      if (r) sock.send(r, rinfo.port, rinfo.address);
    });
    sock.on('error', () => {
      this.stats.errors++;
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      sock.once('error', fail);
      sock.bind(this.wantPort, this.host, () => {
        sock.off('error', fail);
        resolve();
      });
    });
    this.socket = sock;
    this.boundPort = sock.address().port;
    return this.boundPort;
  }

  async stop(): Promise<void> {
    const sock = this.socket;
    if (!sock) return;
    this.socket = null;
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** Does the additional section (starting at `p`) hold an OPT record? */
function hasOpt(q: Uint8Array, p: number): boolean {
  // an OPT record's owner is the root: a single zero byte, then type 41
  return p + 3 <= q.length && q[p] === 0 && q[p + 1] === 0 && q[p + 2] === DNS_TYPE.OPT;
}

/** A responder for a simulated cluster's names (pods, services, nodes). */
export function clusterDnsResponder(cluster: ClusterModel, options: Omit<DnsResponderOptions, 'ptr' | 'forward'> = {}): DnsResponder {
  return new DnsResponder({ ...options, ptr: cluster.ptr, forward: cluster.forward });
}
