// The MaxMind DB reader against databases written here (the format's spec, small trees).

import { describe, expect, it } from 'vitest';
import { GeoIp, Mmdb, parseIp } from './geo.js';

/** Encode a value in the MaxMind DB data format (maps, strings, uint32). */
function encode(v: unknown): number[] {
  const ctrl = (type: number, size: number): number[] => {
    const ext = type > 7;
    const first = ((ext ? 0 : type) << 5) | (size < 29 ? size : 29);
    const out = [first];
    if (ext) out.push(type - 7);
    if (size >= 29) out.push(size - 29);
    return out;
  };
  if (typeof v === 'string') {
    const b = [...Buffer.from(v, 'utf8')];
    return [...ctrl(2, b.length), ...b];
  }
  if (typeof v === 'number') {
    const b: number[] = [];
    let n = v;
    while (n > 0) {
      b.unshift(n & 255);
      n = Math.floor(n / 256);
    }
    return [...ctrl(6, b.length), ...b];
  }
  const entries = Object.entries(v as Record<string, unknown>);
  return [...ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [...encode(k), ...encode(x)])];
}

/** A MaxMind DB with these networks (CIDR → record). */
function build(networks: [string, unknown][], recordSize: 24 | 28 | 32, ipVersion: 4 | 6): Buffer {
  type Node = [number | Node | null, number | Node | null];
  const root: Node = [null, null];
  const data: number[] = [];
  for (const [cidr, rec] of networks) {
    const [addr, len] = cidr.split('/');
    let bytes = parseIp(addr!)!;
    let bits = Number(len);
    if (ipVersion === 6 && bytes.length === 4) {
      bytes = [...new Array<number>(12).fill(0), ...bytes];
      bits += 96;
    }
    const off = data.length;
    data.push(...encode(rec));
    let n = root;
    for (let i = 0; i < bits; i++) {
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      if (i === bits - 1) n[bit] = off;
      else {
        if (!Array.isArray(n[bit])) n[bit] = [null, null];
        n = n[bit] as Node;
      }
    }
  }
  const nodes: Node[] = [];
  const index = new Map<Node, number>();
  const walk = (n: Node) => {
    index.set(n, nodes.length);
    nodes.push(n);
    for (const c of n) if (Array.isArray(c)) walk(c);
  };
  walk(root);
  const count = nodes.length;
  const value = (x: number | Node | null) => (x === null ? count : Array.isArray(x) ? index.get(x)! : count + 16 + x);
  const tree: number[] = [];
  for (const n of nodes) {
    const l = value(n[0]);
    const r = value(n[1]);
    if (recordSize === 24) tree.push(l >> 16, (l >> 8) & 255, l & 255, r >> 16, (r >> 8) & 255, r & 255);
    else if (recordSize === 28) tree.push((l >> 16) & 255, (l >> 8) & 255, l & 255, ((l >> 20) & 0xf0) | ((r >> 24) & 0x0f), (r >> 16) & 255, (r >> 8) & 255, r & 255);
    else tree.push(l >>> 24, (l >> 16) & 255, (l >> 8) & 255, l & 255, r >>> 24, (r >> 16) & 255, (r >> 8) & 255, r & 255);
  }
  const meta = encode({ node_count: count, record_size: recordSize, ip_version: ipVersion, database_type: 'GeoLite2-Test', binary_format_major_version: 2 });
  return Buffer.from([...tree, ...new Array<number>(16).fill(0), ...data, 0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com'), ...meta]);
}

const COUNTRIES: [string, unknown][] = [
  ['8.8.8.0/24', { country: { iso_code: 'US', names: { en: 'United States' } } }],
  ['81.2.69.0/24', { country: { iso_code: 'GB', names: { en: 'United Kingdom' } } }],
  ['2001:db8::/32', { registered_country: { iso_code: 'DE', names: { en: 'Germany' } } }],
];
const ASNS: [string, unknown][] = [['8.8.8.0/24', { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' }]];

describe('GeoLite2-format databases', () => {
  it.each([24, 28, 32] as const)('reads a record_size %i IPv6 tree (IPv4 under ::/96)', (size) => {
    const db = new Mmdb(build(COUNTRIES, size, 6));
    expect(db.metadata.database_type).toBe('GeoLite2-Test');
    expect(db.lookup('8.8.8.8')).toEqual(COUNTRIES[0]![1]);
    expect(db.lookup('81.2.69.160')).toEqual(COUNTRIES[1]![1]);
    expect(db.lookup('2001:db8:1::5')).toEqual(COUNTRIES[2]![1]);
    expect(db.lookup('9.9.9.9')).toBeUndefined();
    expect(db.lookup('not-an-ip')).toBeUndefined();
  });

  it('reads an IPv4 tree', () => {
    const db = new Mmdb(build(ASNS, 24, 4));
    expect(db.lookup('8.8.8.8')).toEqual(ASNS[0]![1]);
    expect(db.lookup('2001:db8::1')).toBeUndefined();
  });

  it('answers country: and asn: attributes', () => {
    const geo = new GeoIp(new Mmdb(build(COUNTRIES, 28, 6)), new Mmdb(build(ASNS, 32, 6)));
    expect(geo.country('8.8.8.8', 'code')).toBe('US');
    expect(geo.country('8.8.8.8', 'name')).toBe('United States');
    expect(geo.country('81.2.69.1', 'both')).toBe('GB United Kingdom');
    expect(geo.country('2001:db8::1', 'code')).toBe('DE');
    expect(geo.country('10.0.0.1', 'code')).toBeUndefined();
    expect(geo.asn('8.8.8.8', 'number')).toBe('15169');
    expect(geo.asn('8.8.8.8', 'descr')).toBe('GOOGLE');
    expect(geo.asn('8.8.8.8', 'both')).toBe('15169 GOOGLE');
    expect(geo.asn('1.1.1.1', 'number')).toBeUndefined();
  });

  it('refuses files that are not MaxMind DBs', () => {
    expect(() => new Mmdb(Buffer.from('hello'))).toThrow(/not a MaxMind DB/);
  });
});
