// Text formatting for flow attribute values, tuned for the per-sample hot path.
//
// Every attribute value is a string (sFlow-RT flow keys are strings). Converting numbers and
// addresses to text is most of the dissector's cost, so:
// - small integers (0..65535: ports, protocol numbers, TTLs, lengths, VLAN ids) come from a
//   lazily filled table, so each distinct value is converted once per process;
// - MAC, IPv4 and IPv6 addresses go through small direct-mapped caches keyed by the raw bits
//   (traffic repeats addresses, so most lookups are a hit and allocate nothing);
// - fixed vocabularies (bit strings, booleans, hex octets) are precomputed.
// Nothing here allocates on a cache hit. All readers take (bytes, offset) and never read past
// offset + width; callers check bounds first.

const DEC_TABLE_SIZE = 65536;
// Filled with '' (not left holey): a sparse holey array would be turned into a hash table by V8.
const decTable: string[] = new Array<string>(DEC_TABLE_SIZE).fill('');

/** Decimal text of a non-negative integer (cached below 65536). */
export function dec(n: number): string {
  if (n < DEC_TABLE_SIZE && n >= 0) {
    const s = decTable[n]!;
    if (s !== '') return s;
    return (decTable[n] = String(n));
  }
  return String(n);
}

/** Upper-case two-digit hex of each octet. */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).toUpperCase().padStart(2, '0'),
);

/** Decimal text of each octet (0..255), and the same followed by a dot. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
const OCTET_DOT: readonly string[] = OCTET.map((s) => s + '.');

// Upper-case 4-digit hex of 16-bit values, filled on demand.
const hex4Table: string[] = new Array<string>(65536).fill('');
function hex4(v: number): string {
  const s = hex4Table[v]!;
  if (s !== '') return s;
  return (hex4Table[v] = HEX2[v >>> 8]! + HEX2[v & 0xff]!);
}

/** 9-character TCP flag strings (NS CWR ECE URG ACK PSH RST SYN FIN), indexed by the 9 flag bits. */
export const TCP_FLAGS: readonly string[] = Array.from({ length: 512 }, (_, i) =>
  i.toString(2).padStart(9, '0'),
);

/** 3-character IPv4 flag strings (reserved, DF, MF), indexed by the 3 flag bits. */
export const IP_FLAGS: readonly string[] = Array.from({ length: 8 }, (_, i) => i.toString(2).padStart(3, '0'));

// ---------------------------------------------------------------------------------------------
// MAC addresses: 12 upper-case hex digits, no separators (sFlow-RT form).

const MAC_CACHE = 1024;
const macHi = new Int32Array(MAC_CACHE);
const macLo = new Int32Array(MAC_CACHE);
const macStr: string[] = new Array<string>(MAC_CACHE).fill('');

/** MAC address at b[o..o+6). */
export function mac(b: Uint8Array, o: number): string {
  const hi = (b[o]! << 8) | b[o + 1]!;
  const lo = (b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!;
  const h = (Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> 22) & (MAC_CACHE - 1);
  const cached = macStr[h];
  if (cached !== '' && macLo[h] === lo && macHi[h] === hi) return cached;
  const s = hex4(hi) + hex4(lo >>> 16) + hex4(lo & 0xffff);
  macHi[h] = hi;
  macLo[h] = lo;
  macStr[h] = s;
  return s;
}

// ---------------------------------------------------------------------------------------------
// IPv4 addresses: dotted quad.

const IP4_CACHE = 4096;
const ip4Key = new Int32Array(IP4_CACHE);
const ip4Str: string[] = new Array<string>(IP4_CACHE).fill('');

/** IPv4 address at b[o..o+4). */
export function ip4(b: Uint8Array, o: number): string {
  const a0 = b[o]!;
  const a1 = b[o + 1]!;
  const a2 = b[o + 2]!;
  const a3 = b[o + 3]!;
  const k = (a0 << 24) | (a1 << 16) | (a2 << 8) | a3;
  const h = Math.imul(k, 0x9e3779b1) >>> 20; // 12 bits
  const cached = ip4Str[h];
  if (cached !== '' && ip4Key[h] === k) return cached;
  const s = OCTET_DOT[a0]! + OCTET_DOT[a1]! + OCTET_DOT[a2]! + OCTET[a3]!;
  ip4Key[h] = k;
  ip4Str[h] = s;
  return s;
}

// ---------------------------------------------------------------------------------------------
// IPv6 addresses: RFC 5952 canonical text (lower case, no leading zeros, the longest run of two
// or more zero groups — the first one on a tie — replaced by "::"; IPv4-mapped addresses
// ::ffff:0:0/96 in mixed notation, RFC 5952 §5).

const IP6_CACHE = 1024;
const ip6Key = new Int32Array(IP6_CACHE * 4);
const ip6Str: string[] = new Array<string>(IP6_CACHE).fill('');
const hex16Table: string[] = new Array<string>(65536).fill('');
const groups = new Uint16Array(8);

function hex16(g: number): string {
  const s = hex16Table[g]!;
  if (s !== '') return s;
  return (hex16Table[g] = g.toString(16));
}

function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

/** IPv6 address at b[o..o+16). */
export function ip6(b: Uint8Array, o: number): string {
  const w0 = word(b, o);
  const w1 = word(b, o + 4);
  const w2 = word(b, o + 8);
  const w3 = word(b, o + 12);
  const h = Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x27d4eb2f), 0x9e3779b1) >>> 22;
  const k = h << 2;
  const cached = ip6Str[h];
  if (cached !== '' && ip6Key[k] === w0 && ip6Key[k + 1] === w1 && ip6Key[k + 2] === w2 && ip6Key[k + 3] === w3) {
    return cached;
  }
  const s = formatIp6(b, o);
  ip6Key[k] = w0;
  ip6Key[k + 1] = w1;
  ip6Key[k + 2] = w2;
  ip6Key[k + 3] = w3;
  ip6Str[h] = s;
  return s;
}

/** RFC 5952 text of the IPv6 address at b[o..o+16) (uncached). */
export function formatIp6(b: Uint8Array, o: number): string {
  for (let i = 0; i < 8; i++) groups[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return '::ffff:' + OCTET[b[o + 12]!]! + '.' + OCTET[b[o + 13]!]! + '.' + OCTET[b[o + 14]!]! + '.' + OCTET[b[o + 15]!]!;
  }
  let bestStart = -1;
  let bestLen = 1; // a run must be at least 2 groups long
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  if (bestStart < 0) {
    s = hex16(groups[0]!);
    for (let i = 1; i < 8; i++) s += ':' + hex16(groups[i]!);
    return s;
  }
  for (let i = 0; i < bestStart; i++) s += (i === 0 ? '' : ':') + hex16(groups[i]!);
  s += '::';
  for (let i = bestStart + bestLen; i < 8; i++) s += (i === bestStart + bestLen ? '' : ':') + hex16(groups[i]!);
  return s;
}
