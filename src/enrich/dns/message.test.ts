import { describe, expect, it } from 'vitest';
import { safeName } from '../dns.js';
import { decodeResponse, DnsFormatError, encodeQuery, interpretPtr, readName, TYPE_CNAME, TYPE_PTR, TYPE_SOA } from './message.js';
import { canonicalAddress, reverseName } from './reverse.js';
import { formatServer, parseServer, resolveServers } from './servers.js';

/** Builds DNS messages byte by byte (uncompressed names unless a pointer is given). */
function name(n: string): number[] {
  const out: number[] = [];
  for (const l of n.split('.').filter(Boolean)) out.push(l.length, ...Buffer.from(l, 'latin1'));
  out.push(0);
  return out;
}
const u16 = (v: number): number[] => [v >>> 8, v & 0xff];
const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
function rr(owner: number[], type: number, ttl: number, rdata: number[]): number[] {
  return [...owner, ...u16(type), ...u16(1), ...u32(ttl), ...u16(rdata.length), ...rdata];
}
function message(o: { id?: number; flags?: number; q: string; an?: number[][]; ns?: number[][] }): Uint8Array {
  const an = o.an ?? [];
  const ns = o.ns ?? [];
  return Uint8Array.from([
    ...u16(o.id ?? 0x1234),
    ...u16(o.flags ?? 0x8180),
    ...u16(1),
    ...u16(an.length),
    ...u16(ns.length),
    ...u16(0),
    ...name(o.q),
    ...u16(TYPE_PTR),
    ...u16(1),
    ...an.flat(),
    ...ns.flat(),
  ]);
}
const Q = '3.2.1.10.in-addr.arpa';
const QPTR = [0xc0, 12]; // pointer to the question name

describe('reverse names', () => {
  it.each([
    ['10.1.2.3', '3.2.1.10.in-addr.arpa'],
    ['192.0.2.80', '80.2.0.192.in-addr.arpa'],
    ['2001:db8::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
    ['::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa'],
    ['fe80::1%eth0', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa'],
    ['::ffff:10.1.2.3', '3.0.2.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa'],
    ['2001:DB8:0:0:1:0:0:1', '1.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
  ])('%s → %s', (a, r) => {
    expect(reverseName(a)).toBe(r);
  });

  it.each(['', 'web', '10.1.2', '10.1.2.256', '1:2:3', 'gggg::1'])('%j is not an address', (a) => {
    expect(reverseName(a)).toBeNull();
  });

  it.each([
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:0a01:0203', '::ffff:10.1.2.3'],
    ['fd00:10:244:1::1a', 'fd00:10:244:1::1a'],
    ['10.1.2.3', '10.1.2.3'],
  ])('canonical %s → %s', (a, c) => {
    expect(canonicalAddress(a)).toBe(c);
  });
});

describe('DNS messages', () => {
  it('encodes a PTR query with recursion desired', () => {
    const q = encodeQuery(0xabcd, Q);
    expect([...q.subarray(0, 12)]).toEqual([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect([...q.subarray(12)]).toEqual([...name(Q), 0, 12, 0, 1]);
    expect(() => encodeQuery(1, 'a..b')).toThrow(RangeError);
  });

  it('reads a PTR answer with a compressed owner name', () => {
    const res = decodeResponse(message({ q: Q, an: [rr(QPTR, TYPE_PTR, 300, name('web-1.example.test'))] }));
    expect(res).toMatchObject({ id: 0x1234, qr: true, rcode: 0, truncated: false, question: { name: Q, type: 12, class: 1 } });
    expect(interpretPtr(res, Q)).toEqual({ kind: 'names', names: ['web-1.example.test.'], ttl: 300 });
  });

  it('follows a CNAME (RFC 2317 classless delegation) and takes the smallest TTL', () => {
    const target = '3.0-25.1.10.in-addr.arpa';
    const res = decodeResponse(message({ q: Q, an: [rr(QPTR, TYPE_CNAME, 60, name(target)), rr(name(target), TYPE_PTR, 3600, name('h.example'))] }));
    expect(interpretPtr(res, Q)).toEqual({ kind: 'names', names: ['h.example.'], ttl: 60 });
  });

  it('derives the negative TTL from the SOA (RFC 2308: min of its TTL and MINIMUM)', () => {
    const soa = [...name('ns.example'), ...name('hostmaster.example'), ...u32(1), ...u32(7200), ...u32(900), ...u32(86400), ...u32(45)];
    const nx = decodeResponse(message({ flags: 0x8183, q: Q, ns: [rr(name('10.in-addr.arpa'), TYPE_SOA, 120, soa)] }));
    expect(interpretPtr(nx, Q)).toEqual({ kind: 'nxdomain', ttl: 45 });
    const nodata = decodeResponse(message({ q: Q, ns: [rr(name('10.in-addr.arpa'), TYPE_SOA, 30, soa)] }));
    expect(interpretPtr(nodata, Q)).toEqual({ kind: 'nodata', ttl: 30 });
    expect(interpretPtr(decodeResponse(message({ flags: 0x8183, q: Q })), Q)).toEqual({ kind: 'nxdomain', ttl: undefined });
  });

  it('reports failing RCODEs and the TC bit', () => {
    expect(interpretPtr(decodeResponse(message({ flags: 0x8182, q: Q })), Q)).toEqual({ kind: 'rcode', rcode: 2 });
    expect(interpretPtr(decodeResponse(message({ flags: 0x8185, q: Q })), Q)).toEqual({ kind: 'rcode', rcode: 5 });
    expect(decodeResponse(message({ flags: 0x8380, q: Q })).truncated).toBe(true);
  });

  it('ignores PTR records for other names', () => {
    const res = decodeResponse(message({ q: Q, an: [rr(name('4.2.1.10.in-addr.arpa'), TYPE_PTR, 300, name('other.example'))] }));
    expect(interpretPtr(res, Q)).toEqual({ kind: 'nodata', ttl: undefined });
  });

  it('treats a TTL with the top bit set as zero (RFC 2181 §8)', () => {
    const res = decodeResponse(message({ q: Q, an: [rr(QPTR, TYPE_PTR, 0x80000000, name('x.example'))] }));
    expect(res.answers[0]!.ttl).toBe(0);
  });

  it('escapes bytes that could break a flow key', () => {
    const odd = [3, 0x61, 0x2c, 0x62, 2, 0x3a, 0x20, 3, 0x61, 0x2e, 0x62, 0];
    expect(readName(Uint8Array.from(odd), 0).name).toBe('a\\044b.\\058\\032.a\\046b');
    expect(safeName('a,b:c d')).toBe('a\\044b\\058c\\032d.');
    expect(safeName('plain.example.')).toBe('plain.example.');
  });

  it('rejects malformed messages without looping or over-reading', () => {
    expect(() => decodeResponse(Uint8Array.from([0, 1, 2]))).toThrow(DnsFormatError);
    const loop = Uint8Array.from([...u16(1), ...u16(0x8180), ...u16(1), 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1]);
    expect(() => decodeResponse(loop)).toThrow(/compression loop/);
    const past = message({ q: Q, an: [rr(QPTR, TYPE_PTR, 300, name('web.example'))] }).subarray(0, 50);
    expect(() => decodeResponse(past)).toThrow(DnsFormatError);
    const long = Uint8Array.from([...Array.from({ length: 5 }, () => [63, ...new Array(63).fill(0x61)]).flat(), 0]);
    expect(() => readName(long, 0)).toThrow(/255/);
  });
});

describe('DNS server addresses', () => {
  it.each([
    ['10.96.0.10', { host: '10.96.0.10', port: 53 }, '10.96.0.10:53'],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }, '127.0.0.1:5353'],
    ['[fd00::a]:5353', { host: 'fd00::a', port: 5353 }, '[fd00::a]:5353'],
    ['fd00::a', { host: 'fd00::a', port: 53 }, '[fd00::a]:53'],
    ['kube-dns.kube-system.svc', { host: 'kube-dns.kube-system.svc', port: 53 }, 'kube-dns.kube-system.svc:53'],
    [' dns.example:5300 ', { host: 'dns.example', port: 5300 }, 'dns.example:5300'],
  ])('%s', (text, parsed, formatted) => {
    expect(parseServer(text)).toEqual(parsed);
    expect(formatServer(parsed)).toBe(formatted);
  });

  it.each(['', '10.0.0.1:0', '10.0.0.1:99999', '[fd00::a', '[10.0.0.1]:53', 'a b', 'host:port'])('rejects %j', (t) => {
    expect(() => parseServer(t)).toThrow();
  });

  it('resolves names to every address, keeps literals, reports failures and never throws', async () => {
    const r = await resolveServers(
      [parseServer('10.0.0.1'), parseServer('dns.test:5353'), parseServer('missing.test'), parseServer('slow.test')],
      async (h) => {
        if (h === 'dns.test') return ['192.0.2.1', '2001:db8::53', '192.0.2.1'];
        if (h === 'slow.test') return new Promise<string[]>(() => {});
        throw new Error('ENOTFOUND');
      },
      50,
    );
    expect(r.servers.map(formatServer)).toEqual(['10.0.0.1:53', '192.0.2.1:5353', '[2001:db8::53]:5353']);
    expect(r.problems).toEqual(['DNS server missing.test: ENOTFOUND', 'DNS server slow.test: no answer within 50 ms']);
  });
});
