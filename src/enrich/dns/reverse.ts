// Reverse-lookup names for addresses: RFC 1035 §3.5 (in-addr.arpa) and RFC 3596 §2.5
// (ip6.arpa, one label per nibble, least significant first).

import { isIPv4, isIPv6 } from 'node:net';

/**
 * The PTR query name of an address, or null when `address` is not an IP address.
 * `10.1.2.3` → `3.2.1.10.in-addr.arpa`; `2001:db8::1` → `1.0.0.0.…8.b.d.0.1.0.0.2.ip6.arpa`.
 * An IPv6 zone (`fe80::1%eth0`) is ignored. IPv4-mapped IPv6 addresses stay in ip6.arpa
 * (that is where their PTR records would be).
 */
export function reverseName(address: string): string | null {
  if (isIPv4(address)) {
    const o = address.split('.');
    return `${o[3]}.${o[2]}.${o[1]}.${o[0]}.in-addr.arpa`;
  }
  const pct = address.indexOf('%');
  const bare = pct >= 0 ? address.slice(0, pct) : address;
  if (!isIPv6(bare)) return null;
  const words = ipv6Words(bare);
  if (words === null) return null;
  const nibbles: string[] = [];
  for (let i = 7; i >= 0; i--) {
    const w = words[i]!;
    for (let s = 0; s < 16; s += 4) nibbles.push(((w >>> s) & 0xf).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** The eight 16-bit words of a textual IPv6 address (validated by the caller). */
export function ipv6Words(address: string): number[] | null {
  let text = address;
  const tail: number[] = [];
  // Embedded IPv4 in the last 32 bits (::ffff:10.1.2.3, 64:ff9b::192.0.2.1).
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (!isIPv4(maybeV4)) return null;
    const o = maybeV4.split('.').map(Number);
    tail.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
    // '::ffff:' → '::ffff', '::' stays '::', '1:2:3:4:5:6:' → '1:2:3:4:5:6'.
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const want = 8 - tail.length;
  const dbl = text.indexOf('::');
  let head: string[];
  let rest: string[];
  if (dbl >= 0) {
    head = text.slice(0, dbl) === '' ? [] : text.slice(0, dbl).split(':');
    rest = text.slice(dbl + 2) === '' ? [] : text.slice(dbl + 2).split(':');
  } else {
    head = text === '' ? [] : text.split(':');
    rest = [];
  }
  const fill = want - head.length - rest.length;
  if (fill < 0 || (dbl < 0 && fill !== 0)) return null;
  const words: number[] = [];
  for (const h of head) words.push(parseInt(h, 16));
  for (let i = 0; i < fill; i++) words.push(0);
  for (const h of rest) words.push(parseInt(h, 16));
  words.push(...tail);
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return null;
  return words;
}

/**
 * The canonical text of an IP address (RFC 5952 for IPv6: lower case, longest run of two or more
 * zero words as `::`, leftmost on a tie; IPv4-mapped addresses as `::ffff:a.b.c.d`), or null.
 * The Kubernetes API and the packet dissector both write this form already; this makes sure of it.
 */
export function canonicalAddress(address: string): string | null {
  if (isIPv4(address)) return address.split('.').map((o) => String(Number(o))).join('.');
  if (!isIPv6(address)) return null;
  const words = ipv6Words(address);
  if (words === null) return null;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return `::ffff:${words[6]! >>> 8}.${words[6]! & 0xff}.${words[7]! >>> 8}.${words[7]! & 0xff}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}
