// Groups: address parsing, CIDR compilation, longest-prefix lookups against a brute-force
// reference (fast-check), group order, bounds, and the state section.

import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GroupRegistry, PrefixTrie, compileGroup, parseCidr, parseIPv4, parseIPv6 } from './groups.js';
import { QueryError } from './query.js';

// ---------------------------------------------------------------------------------------------
// Reference model: addresses as BigInt, prefixes compared by shifting.

interface RefCidr {
  v6: boolean;
  net: bigint;
  len: number;
  text: string;
}

function bitsOf(v6: boolean): number {
  return v6 ? 128 : 32;
}

function contains(c: RefCidr, v6: boolean, addr: bigint): boolean {
  if (c.v6 !== v6) return false;
  const shift = BigInt(bitsOf(v6) - c.len);
  return addr >> shift === c.net >> shift;
}

/** Brute force: first group (in order) with a matching prefix; within it the longest, first listed on a tie. */
function refLookup(groups: { name: string; labels: [string, RefCidr[]][] }[], order: string[], v6: boolean, addr: bigint): string | undefined {
  for (const name of order) {
    const g = groups.find((x) => x.name === name);
    if (g === undefined) continue;
    let best: string | undefined;
    let bestLen = -1;
    for (const [label, cidrs] of g.labels) {
      for (const c of cidrs) if (contains(c, v6, addr) && c.len > bestLen) {
        best = label;
        bestLen = c.len;
      }
    }
    if (best !== undefined) return best;
  }
  return undefined;
}

function v4Text(a: bigint): string {
  const n = Number(a);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** IPv6 text in one of several spellings: 0 full, 1 compressed (longest zero run), 2 upper case, 3 IPv4 tail. */
function v6Text(a: bigint, style: number): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a >> BigInt(i * 16)) & 0xffffn));
  if (style === 0) return g.map((x) => x.toString(16).padStart(4, '0')).join(':');
  if (style === 3) return `${g.slice(0, 6).map((x) => x.toString(16)).join(':')}:${g[6]! >>> 8}.${g[6]! & 255}.${g[7]! >>> 8}.${g[7]! & 255}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  const s = bestLen >= 2 ? `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}` : hex(g);
  return style === 2 ? s.toUpperCase() : s;
}

function toBig(words: Uint32Array): bigint {
  let x = 0n;
  for (const w of words) x = (x << 32n) | BigInt(w);
  return x;
}

// ---------------------------------------------------------------------------------------------

describe('address parsing', () => {
  it('IPv4', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('10.1.2.3')).toBe(0x0a010203);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.', '.1.2.3', 'a.b.c.d', '1.2.3.4 ', '1234.1.1.1', '1.2.3.-4']) {
      expect(parseIPv4(bad), bad).toBe(-1);
    }
  });

  it('IPv6: compression, IPv4 tails, case; rejects what the RFC rejects', () => {
    const w = new Uint32Array(4);
    const val = (s: string) => (parseIPv6(s, w) ? toBig(w) : null);
    expect(val('::')).toBe(0n);
    expect(val('::1')).toBe(1n);
    expect(val('1::')).toBe(1n << 112n);
    expect(val('2001:db8::8:800:200c:417a')).toBe(0x20010db80000000000080800200c417an);
    expect(val('2001:DB8:0:0:8:800:200C:417A')).toBe(0x20010db80000000000080800200c417an);
    expect(val('::ffff:10.1.2.3')).toBe(0xffff0a010203n);
    expect(val('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    expect(val('1::2:3:4:5:6:7')).toBe(0x00010000000200030004000500060007n);
    for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', '1:2:3:4:5:6:7:8::', ':1::', '1::2:', 'g::', '::1.2.3', '::1.2.3.256', 'fe80::1%eth0', '1:2:3:4:5:6:7:1.2.3.4']) {
      expect(val(bad), bad).toBeNull();
    }
  });

  it('IPv6 validity agrees with node:net on random strings', () => {
    const w = new Uint32Array(4);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''), ':', '::', 'ffff', '0', '1.2.3.4'), { maxLength: 16 }), (parts) => {
        const s = parts.join('');
        // node accepts leading zeros in an IPv4 tail where inet_pton does not; we follow inet_pton less strictly (see parseIPv4)
        if (/(^|[:.])0\d/.test(s.split(':').pop() ?? '')) return;
        expect(parseIPv6(s, w), s).toBe(isIPv6(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('every spelling of an IPv6 address parses to the same value', () => {
    const w = new Uint32Array(4);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.array(fc.nat(7), { minLength: 8, maxLength: 8 }), (raw, zeros) => {
        // Zero some groups so compression happens.
        let a = raw;
        for (const z of zeros.slice(0, 4)) a &= ~(0xffffn << BigInt(z * 16));
        for (let style = 0; style < 4; style++) {
          const s = v6Text(a, style);
          expect(parseIPv6(s, w), s).toBe(true);
          expect(toBig(w), s).toBe(a);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('CIDRs: bare addresses are host prefixes; bad lengths name the fault', () => {
    expect(parseCidr('10.0.0.1')).toMatchObject({ v6: false, len: 32 });
    expect(parseCidr('fc00::/7')).toMatchObject({ v6: true, len: 7 });
    expect(parseCidr('::1')).toMatchObject({ v6: true, len: 128 });
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/IPv4 prefix length must be 0..32/);
    expect(() => parseCidr('::/129')).toThrow(/IPv6 prefix length must be 0..128/);
    expect(() => parseCidr('10.0.0.0/')).toThrow(/bad prefix length/);
    expect(() => parseCidr('10.0.0.0/-1')).toThrow(/bad prefix length/);
    expect(() => parseCidr('example.com/8')).toThrow(/not an IPv4 or IPv6 address/);
  });
});

describe('longest-prefix lookups against a brute-force reference', () => {
  const arbCidr = (v6: boolean) =>
    fc.record({ addr: fc.bigInt({ min: 0n, max: (1n << BigInt(bitsOf(v6))) - 1n }), len: fc.nat(bitsOf(v6)) }).map(({ addr, len }): RefCidr => {
      const bits = BigInt(bitsOf(v6));
      const shift = bits - BigInt(len);
      // Keep host bits in the text half the time: they must be ignored.
      const net = (addr >> shift) << shift;
      const text = `${v6 ? v6Text(addr, 1) : v4Text(addr)}/${len}`;
      return { v6, net, len, text };
    });
  // Short prefixes from a small pool of networks, so groups overlap and nest.
  const arbLabel = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.array(fc.oneof(arbCidr(false), arbCidr(true), fc.constantFrom<RefCidr>(
    { v6: false, net: 0x0a000000n, len: 8, text: '10.0.0.0/8' },
    { v6: false, net: 0x0a010000n, len: 16, text: '10.1.0.0/16' },
    { v6: false, net: 0x0a010200n, len: 24, text: '10.1.2.0/24' },
    { v6: false, net: 0n, len: 0, text: '0.0.0.0/0' },
    { v6: true, net: 0n, len: 0, text: '::/0' },
    { v6: true, net: 0xfc00n << 112n, len: 7, text: 'fc00::/7' },
    { v6: true, net: 0xfd00n << 112n, len: 8, text: 'fd00::/8' },
  )), { maxLength: 12 }));
  const arbGroup = fc.array(arbLabel, { minLength: 1, maxLength: 4 });

  it('matches the reference for random groups, group orders and addresses (IPv4, IPv6, IPv4-mapped)', () => {
    fc.assert(
      fc.property(
        fc.array(arbGroup, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat(), fc.nat(3)), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(3), { maxLength: 4 }),
        (groupDefs, probes, orderIdx) => {
          const reg = new GroupRegistry();
          const model: { name: string; labels: [string, RefCidr[]][] }[] = [];
          groupDefs.forEach((labels, gi) => {
            // Labels are object keys: a repeated label merges its lists (JSON keeps the first key's position).
            const merged = new Map<string, RefCidr[]>();
            for (const [l, cs] of labels) merged.set(l, [...(merged.get(l) ?? []), ...cs]);
            const body: Record<string, string[]> = {};
            for (const [l, cs] of merged) body[l] = cs.map((c) => c.text);
            reg.set(`g${gi}`, body);
            model.push({ name: `g${gi}`, labels: [...merged] });
          });
          const order = orderIdx.length > 0 ? orderIdx.map((i) => `g${i}`) : model.map((g) => g.name);
          // Addresses near the prefixes (their network with random host bits) and anywhere.
          const allCidrs = model.flatMap((g) => g.labels.flatMap(([, cs]) => cs));
          for (const [v6, rnd, pick, style] of probes) {
            let isV6 = v6;
            let addr: bigint;
            const near = allCidrs.length > 0 && pick % 3 !== 0 ? allCidrs[pick % allCidrs.length]! : null;
            if (near !== null) {
              isV6 = near.v6;
              const bits = BigInt(bitsOf(isV6));
              const host = rnd & ((1n << (bits - BigInt(near.len))) - 1n);
              addr = near.net | host;
            } else addr = isV6 ? rnd : rnd & 0xffffffffn;
            const text = isV6 ? v6Text(addr, style) : v4Text(addr);
            expect(reg.lookupGroup(order, text), `${text} in ${order.join(':')}`).toBe(refLookup(model, order, isV6, addr));
            if (!isV6) {
              // An IPv4-mapped IPv6 address is looked up as IPv4.
              expect(reg.lookupGroup(order, `::ffff:${text}`)).toBe(refLookup(model, order, false, addr));
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('GroupRegistry', () => {
  const defaults = {
    external: ['0.0.0.0/0', '::/0'],
    private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fc00::/7'],
    multicast: ['224.0.0.0/4', 'ff00::/8'],
  };

  it('labels addresses as ddos-protect\'s default groups expect', () => {
    const g = new GroupRegistry();
    g.set('ddos', defaults);
    expect(g.lookupGroup(['ddos'], '10.1.2.3')).toBe('private');
    expect(g.lookupGroup(['ddos'], '8.8.8.8')).toBe('external');
    expect(g.lookupGroup(['ddos'], '239.1.1.1')).toBe('multicast');
    expect(g.lookupGroup(['ddos'], 'fd12::1')).toBe('private');
    expect(g.lookupGroup(['ddos'], '2001:db8::1')).toBe('external');
    expect(g.lookupGroup(['ddos'], 'ff02::1')).toBe('multicast');
    expect(g.lookupGroup(['ddos'], 'not-an-address')).toBeUndefined();
    expect(g.lookupGroup(['ddos'], '')).toBeUndefined();
    expect(g.lookupGroup(['nosuch'], '10.1.2.3')).toBeUndefined();
    expect(g.lookupGroup(['nosuch', 'ddos'], '10.1.2.3')).toBe('private');
  });

  it('first group in the order given wins; within a group the longest prefix, then the first label', () => {
    const g = new GroupRegistry();
    g.set('site', { lab: ['10.1.0.0/16'], campus: ['10.0.0.0/8'] });
    g.set('world', { any: ['0.0.0.0/0'] });
    g.set('dup', { first: ['10.0.0.0/8'], second: ['10.0.0.0/8', '10.9.9.9'] });
    expect(g.lookupGroup(['site', 'world'], '10.1.5.5')).toBe('lab');
    expect(g.lookupGroup(['site', 'world'], '10.2.5.5')).toBe('campus');
    expect(g.lookupGroup(['site', 'world'], '11.2.5.5')).toBe('any');
    expect(g.lookupGroup(['world', 'site'], '10.1.5.5')).toBe('any');
    expect(g.lookupGroup(['dup'], '10.1.1.1')).toBe('first');
    expect(g.lookupGroup(['dup'], '10.9.9.9')).toBe('second');
  });

  it('host bits of a prefix are ignored; a bare address is a host route', () => {
    const g = new GroupRegistry();
    g.set('x', { net: ['10.1.2.3/8'], host: ['10.2.2.2'], h6: ['2001:db8::1'] });
    expect(g.lookupGroup(['x'], '10.200.0.1')).toBe('net');
    expect(g.lookupGroup(['x'], '10.2.2.2')).toBe('host');
    expect(g.lookupGroup(['x'], '2001:db8::1')).toBe('h6');
    expect(g.lookupGroup(['x'], '2001:db8::2')).toBeUndefined();
  });

  it('rejects bad bodies with a message that points at the fault, changing nothing', () => {
    const g = new GroupRegistry();
    g.set('keep', { a: ['10.0.0.0/8'] });
    const cases: [unknown, RegExp][] = [
      [[], /a group is an object/],
      ['10.0.0.0/8', /a group is an object/],
      [null, /a group is an object/],
      [{ a: 5 }, /label "a": expected an array/],
      [{ a: ['10.0.0.0/8', 7] }, /label "a", entry 1: expected a string/],
      [{ a: ['10.0.0.0/8'], b: ['1.2.3.4/40'] }, /label "b", entry 0: "1.2.3.4\/40": IPv4 prefix length/],
      [{ '': ['10.0.0.0/8'] }, /label "": must be 1..256/],
    ];
    for (const [body, re] of cases) {
      expect(() => g.set('keep', body)).toThrow(QueryError);
      expect(() => g.set('keep', body)).toThrow(re);
    }
    expect(() => g.set('bad name', {})).toThrow(/invalid group name/);
    expect(() => g.set('a:b', {})).toThrow(/invalid group name/);
    expect(g.get('keep')).toEqual({ a: ['10.0.0.0/8'] });
    expect(g.lookupGroup(['keep'], '10.0.0.1')).toBe('a');
  });

  it('a single string stands for a one-entry list; an empty group matches nothing', () => {
    const g = new GroupRegistry();
    g.set('s', { one: '192.0.2.0/24' });
    expect(g.get('s')).toEqual({ one: ['192.0.2.0/24'] });
    expect(g.lookupGroup(['s'], '192.0.2.9')).toBe('one');
    g.set('e', {});
    expect(g.lookupGroup(['e'], '192.0.2.9')).toBeUndefined();
  });

  it('bounds: groups, CIDRs per group and in all', () => {
    const g = new GroupRegistry({ maxGroups: 2, maxEntriesPerGroup: 3, maxEntries: 4 });
    g.set('a', { x: ['10.0.0.0/8', '11.0.0.0/8'] });
    g.set('b', { x: ['12.0.0.0/8'] });
    expect(() => g.set('c', { x: [] })).toThrow(/too many groups/);
    expect(() => g.set('a', { x: ['1.0.0.0/8', '2.0.0.0/8', '3.0.0.0/8', '4.0.0.0/8'] })).toThrow(/too many CIDRs in one group/);
    expect(() => g.set('b', { x: ['1.0.0.0/8', '2.0.0.0/8', '3.0.0.0/8'] })).toThrow(/over all groups/);
    g.set('b', { x: ['1.0.0.0/8', '2.0.0.0/8'] });
    expect(g.entryCount).toBe(4);
    g.delete('a');
    expect(g.entryCount).toBe(2);
    g.set('c', { x: ['1.0.0.0/8'] });
    expect(g.names()).toEqual(['b', 'c']);
  });

  it('state section: saves definitions, loads good ones and reports bad ones', () => {
    const g = new GroupRegistry();
    g.set('a', defaults);
    const snap = JSON.parse(JSON.stringify(g.section().save())) as Record<string, unknown>;
    const h = new GroupRegistry();
    const r = h.section().load({ ...snap, broken: { x: ['300.0.0.0/8'] }, 'bad name': {} });
    expect(r.loaded).toBe(1);
    expect(r.rejected.map((x) => x.key).sort()).toEqual(['bad name', 'broken']);
    expect(h.all()).toEqual({ a: defaults });
    expect(h.lookupGroup(['a'], '172.20.0.1')).toBe('private');
    expect(h.section().load('junk').rejected).toEqual([{ key: '*', reason: 'not an object' }]);
  });

  it('notifies changes (for the state file) on set and on delete of an existing group only', () => {
    const g = new GroupRegistry();
    let n = 0;
    g.onChange(() => n++);
    g.set('a', { x: ['10.0.0.0/8'] });
    g.delete('a');
    g.delete('a');
    expect(() => g.set('a', { x: ['bad'] })).toThrow();
    expect(n).toBe(2);
  });
});

describe('PrefixTrie', () => {
  it('grows past its initial capacity and keeps every prefix', () => {
    const t = new PrefixTrie();
    for (let i = 0; i < 2000; i++) t.insert(Uint32Array.of(((i * 2654435761) >>> 0) & 0xffffff00), 24, i);
    for (let i = 0; i < 2000; i++) {
      const a = ((i * 2654435761) >>> 0) & 0xffffff00;
      const got = t.lookup32((a | 0x7f) >>> 0);
      // Colliding /24s keep the first index.
      expect(got).toBeLessThanOrEqual(i);
      expect(got).toBeGreaterThanOrEqual(0);
    }
    expect(t.nodes).toBeGreaterThan(2000);
    expect(compileGroup({ a: [] }).group.entries).toBe(0);
  });
});
