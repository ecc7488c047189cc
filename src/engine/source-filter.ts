// `--agents-allow`: sFlow is taken only from UDP source addresses inside the given prefixes.
//
// The check runs before decoding, on every datagram, so it must cost next to nothing: agents send
// from few addresses, and the verdict of each source string is cached. The cache is bounded and
// first-in-first-out — a flood of spoofed sources would otherwise grow it without end; such a flood
// only costs a trie walk per datagram once the cache churns (counted in `cacheEvictions`).
//
// Semantics (docs/limits.md, docs/configuration.md):
// - the UDP source address is checked, not the agent address inside the datagram (which anyone
//   can write): the filter says who may talk to us, not what they may claim to be;
// - an IPv4-mapped IPv6 source (`::ffff:10.1.2.3`, a dual-stack socket) is checked as IPv4, and an
//   allowed prefix written in mapped form (`::ffff:10.0.0.0/104`) allows the IPv4 prefix;
// - a source that is not an address (cannot come from a socket; a capture may hold anything) is
//   refused; a zone id (`fe80::1%eth0`) is ignored;
// - the capture feed (--pcap) goes through the same pipeline, so its datagrams are filtered by the
//   capture's IP source addresses too.

import { parseCidr, parseIPv4, parseIPv6, PrefixTrie } from './groups.js';

export interface SourceFilterStats {
  /** Verdicts dropped from the cache to stay within its bound (a sign of many distinct sources). */
  cacheEvictions: number;
}

/** Verdicts cached at most: far more than real agents, small enough not to matter under a flood. */
export const DEFAULT_SOURCE_CACHE_SIZE = 4096;

export class SourceFilter {
  private readonly v4 = new PrefixTrie();
  private readonly v6 = new PrefixTrie();
  private readonly cache = new Map<string, boolean>();
  private readonly words = new Uint32Array(4);
  readonly stats: SourceFilterStats = { cacheEvictions: 0 };
  /** The prefixes as given (normalised spacing). */
  readonly prefixes: readonly string[];

  /** Throws (QueryError) on a prefix that is not a CIDR or an address. */
  constructor(
    prefixes: readonly string[],
    readonly cacheSize: number = DEFAULT_SOURCE_CACHE_SIZE,
  ) {
    if (!(cacheSize >= 1)) throw new RangeError(`source filter cacheSize must be at least 1 (got ${cacheSize})`);
    const kept: string[] = [];
    for (const raw of prefixes) {
      const text = raw.trim();
      if (text === '') continue;
      const c = parseCidr(text);
      const w = c.words;
      if (c.v6 && c.len >= 96 && w[0] === 0 && w[1] === 0 && w[2] === 0xffff) this.v4.insert(Uint32Array.of(w[3]!), c.len - 96, 0);
      else (c.v6 ? this.v6 : this.v4).insert(w, c.len, 0);
      kept.push(text);
    }
    this.prefixes = kept;
  }

  /** True when `source` (a UDP source address as text) lies inside an allowed prefix. */
  allows(source: string): boolean {
    const hit = this.cache.get(source);
    if (hit !== undefined) return hit;
    const verdict = this.check(source);
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
      this.stats.cacheEvictions++;
    }
    this.cache.set(source, verdict);
    return verdict;
  }

  /** Verdicts held now. */
  get cached(): number {
    return this.cache.size;
  }

  private check(source: string): boolean {
    const v4 = parseIPv4(source);
    if (v4 >= 0) return this.v4.lookup32(v4) >= 0;
    const pct = source.indexOf('%');
    const w = this.words;
    if (!parseIPv6(source, w, 0, pct >= 0 ? pct : source.length)) return false;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return this.v4.lookup32(w[3]!) >= 0;
    return this.v6.lookup128(w) >= 0;
  }
}
