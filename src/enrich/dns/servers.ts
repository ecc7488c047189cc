// Resolver addresses: `host[:port]` as written in --dns-servers, and turning host names into
// addresses once at start (the deployment sets `kube-dns.kube-system.svc`, which only the pod's own
// resolver — with its search domains — can expand).

import { promises as dnsp } from 'node:dns';
import { isIP } from 'node:net';

export interface ServerAddress {
  /** An IP address, or (before `resolveServers`) a host name. */
  host: string;
  port: number;
}

/**
 * `10.96.0.10`, `10.96.0.10:5353`, `[fd00::a]:53`, `fd00::a`, `kube-dns.kube-system.svc`,
 * `dns.example:5353`. Throws on anything else.
 */
export function parseServer(text: string): ServerAddress {
  const s = text.trim();
  if (s === '') throw new Error('empty DNS server');
  let host = s;
  let port = 53;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new Error(`bad DNS server "${text}": missing ]`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new Error(`bad DNS server "${text}"`);
      port = parsePort(rest.slice(1), text);
    }
    if (isIP(host) !== 6) throw new Error(`bad DNS server "${text}": not an IPv6 address in brackets`);
    return { host, port };
  }
  if (isIP(s) === 6) return { host: s, port };
  const colon = s.lastIndexOf(':');
  if (colon >= 0) {
    host = s.slice(0, colon);
    port = parsePort(s.slice(colon + 1), text);
  }
  if (host.includes(':') || !/^[A-Za-z0-9._-]+$/.test(host)) throw new Error(`bad DNS server "${text}"`);
  return { host, port };
}

function parsePort(p: string, text: string): number {
  const n = Number(p);
  if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new Error(`bad DNS server "${text}": port ${p}`);
  return n;
}

/** `1.2.3.4:53`, `[fd00::a]:53` — the form `Resolver.setServers` takes. */
export function formatServer(s: ServerAddress): string {
  return isIP(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

export type HostLookup = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: /etc/hosts and search domains). Used only at start. */
export const systemLookup: HostLookup = async (host) => (await dnsp.lookup(host, { all: true })).map((a) => a.address);

/**
 * Replace host names by their addresses (every address of each name, in order, duplicates removed).
 * Never throws: a name that does not resolve within `timeoutMs` is reported in `problems` and left out.
 */
export async function resolveServers(
  servers: readonly ServerAddress[],
  lookup: HostLookup = systemLookup,
  timeoutMs = 5000,
): Promise<{ servers: ServerAddress[]; problems: string[] }> {
  const out: ServerAddress[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const add = (s: ServerAddress): void => {
    const k = formatServer(s);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(s);
    }
  };
  for (const s of servers) {
    if (isIP(s.host)) {
      add(s);
      continue;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const addrs = await Promise.race([
        lookup(s.host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (addrs.length === 0) problems.push(`DNS server ${s.host}: no address`);
      for (const a of addrs) add({ host: a, port: s.port });
    } catch (e) {
      problems.push(`DNS server ${s.host}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { servers: out, problems };
}
