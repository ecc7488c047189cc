// How a PTR question reaches a server. Two transports:
//  - `udp`: our own RFC 1035 client over node:dgram — one socket per attempt (a fresh random
//    source port and query id each time), timeouts and tries per server, and the answer's TTL
//    (positive, and negative from the SOA). A truncated answer is asked again through c-ares
//    (which retries over TCP).
//  - `resolver`: node:dns/promises Resolver (c-ares) with setServers, timeout and tries. c-ares
//    does not report the TTL of PTR answers, so the cache uses its default TTL with this one.
// Neither uses dns.lookup / getaddrinfo (the libuv thread pool).

import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { getServers, promises as dnsp } from 'node:dns';
import { isIP } from 'node:net';
import { decodeResponse, encodeQuery, interpretPtr, RCODE_NAMES, TYPE_PTR, CLASS_IN, type DnsResponse } from './message.js';
import { formatServer, parseServer, type ServerAddress } from './servers.js';

export type PtrResult =
  /** Names with trailing dots; `ttlMs` undefined when the transport cannot tell. */
  | { status: 'ok'; names: string[]; ttlMs: number | undefined }
  /** NXDOMAIN or NODATA; `ttlMs` from the SOA (RFC 2308) when the server sent one. */
  | { status: 'nxdomain' | 'nodata'; ttlMs: number | undefined }
  | { status: 'timeout' }
  /** SERVFAIL, REFUSED, a network error...; `code` says which. */
  | { status: 'error'; code: string };

export interface PtrTransport {
  /** Ask for the PTR records of `qname` (e.g. `3.2.1.10.in-addr.arpa`). Never rejects. */
  query(qname: string): Promise<PtrResult>;
  /** Abandon every query in flight (they resolve as `error` / `cancelled`). */
  close(): void;
}

export interface TransportOptions {
  /** Resolver addresses (IP literals); empty = the system's (/etc/resolv.conf). */
  servers: readonly ServerAddress[];
  /** Per attempt. */
  timeoutMs: number;
  /** Rounds over the server list. */
  tries: number;
}

/** The system's resolvers as c-ares read them from /etc/resolv.conf. */
export function systemServers(): ServerAddress[] {
  const out: ServerAddress[] = [];
  for (const s of getServers()) {
    try {
      out.push(parseServer(s));
    } catch {
      // getServers() only returns literals; skip anything odd.
    }
  }
  return out;
}

export class ResolverTransport implements PtrTransport {
  private resolver: dnsp.Resolver;

  constructor(opts: TransportOptions) {
    this.resolver = new dnsp.Resolver({ timeout: opts.timeoutMs, tries: opts.tries });
    if (opts.servers.length > 0) this.resolver.setServers(opts.servers.map(formatServer));
  }

  async query(qname: string): Promise<PtrResult> {
    try {
      const names = await this.resolver.resolvePtr(qname);
      if (names.length === 0) return { status: 'nodata', ttlMs: undefined };
      return { status: 'ok', names: names.map((n) => (n.endsWith('.') ? n : `${n}.`)), ttlMs: undefined };
    } catch (e) {
      const code = String((e as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
      if (code === 'ENOTFOUND') return { status: 'nxdomain', ttlMs: undefined };
      if (code === 'ENODATA') return { status: 'nodata', ttlMs: undefined };
      if (code === 'ETIMEOUT') return { status: 'timeout' };
      return { status: 'error', code };
    }
  }

  close(): void {
    this.resolver.cancel();
  }
}

type Attempt = { kind: 'response'; res: DnsResponse } | { kind: 'timeout' } | { kind: 'error'; code: string };

export class UdpTransport implements PtrTransport {
  private readonly servers: ServerAddress[];
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private fallback: ResolverTransport | null = null;

  constructor(private readonly opts: TransportOptions) {
    this.servers = opts.servers.length > 0 ? [...opts.servers] : systemServers();
    for (const s of this.servers) if (!isIP(s.host)) throw new Error(`DNS server ${s.host} is not an address`);
  }

  async query(qname: string): Promise<PtrResult> {
    if (this.servers.length === 0) return { status: 'error', code: 'ENOSERVERS' };
    let lastError: string | null = null;
    for (let round = 0; round < Math.max(1, this.opts.tries); round++) {
      for (const server of this.servers) {
        if (this.closed) return { status: 'error', code: 'ECANCELLED' };
        const a = await this.attempt(server, qname);
        if (a.kind === 'timeout') continue;
        if (a.kind === 'error') {
          lastError = a.code;
          continue;
        }
        if (a.res.truncated) return this.viaResolver(qname);
        const ans = interpretPtr(a.res, qname);
        if (ans.kind === 'names') return { status: 'ok', names: ans.names, ttlMs: ans.ttl * 1000 };
        if (ans.kind === 'rcode') {
          // SERVFAIL, REFUSED, NOTIMP, FORMERR: another server may do better.
          lastError = RCODE_NAMES[ans.rcode] ?? `RCODE${ans.rcode}`;
          continue;
        }
        return { status: ans.kind, ttlMs: ans.ttl === undefined ? undefined : ans.ttl * 1000 };
      }
    }
    return lastError === null ? { status: 'timeout' } : { status: 'error', code: lastError };
  }

  private viaResolver(qname: string): Promise<PtrResult> {
    this.fallback ??= new ResolverTransport({ ...this.opts, servers: this.servers });
    return this.fallback.query(qname);
  }

  private attempt(server: ServerAddress, qname: string): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      const id = randomInt(0x10000);
      let query: Buffer;
      try {
        query = encodeQuery(id, qname);
      } catch (e) {
        resolve({ kind: 'error', code: 'EBADNAME' });
        return;
      }
      const sock = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
      this.sockets.add(sock);
      let done = false;
      const finish = (a: Attempt): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.sockets.delete(sock);
        try {
          sock.close();
        } catch {
          // already closed (close() during the attempt)
        }
        resolve(a);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), this.opts.timeoutMs);
      sock.on('error', (e: NodeJS.ErrnoException) => finish({ kind: 'error', code: e.code ?? 'EIO' }));
      sock.on('close', () => finish({ kind: 'error', code: 'ECANCELLED' }));
      sock.on('message', (msg) => {
        let res: DnsResponse;
        try {
          res = decodeResponse(msg);
        } catch {
          return; // not a DNS answer we can read: keep waiting (a spoofer cannot end the attempt)
        }
        if (!res.qr || res.id !== id) return;
        const q = res.question;
        if (q === null || q.type !== TYPE_PTR || q.class !== CLASS_IN || q.name.toLowerCase() !== qname.toLowerCase()) return;
        finish({ kind: 'response', res });
      });
      // A connected socket only receives datagrams from the server's address and port.
      sock.connect(server.port, server.host, () => {
        if (done) return;
        sock.send(query, (err) => {
          if (err) finish({ kind: 'error', code: (err as NodeJS.ErrnoException).code ?? 'EIO' });
        });
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const s of [...this.sockets]) {
      try {
        s.close();
      } catch {
        // ignore
      }
    }
    this.sockets.clear();
    this.fallback?.close();
  }
}
