// The lazy path (parsePacket + keyReader) against the eager dissect(): the same value for every
// key of every sampled header in testdata/oracle, undefined for keys a packet lacks, null for
// names no packet can have, and nothing carried over when a view is reused.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attributeNames,
  configureDissector,
  dissect,
  keyReader,
  LAYER_KEYS,
  MAX_LAYERS,
  PacketView,
  parsePacket,
  sharedView,
  type FlowAttributes,
  type KeyReader,
} from './index.js';

const ORACLE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/testdata/oracle');

afterEach(() => {
  configureDissector();
});

/** Every sampled header (flow and discard samples) of an sflowtool -J stream, as [headerProtocol, bytes]. */
function sampledHeaders(path: string): [number, Uint8Array][] {
  const text = readFileSync(path, 'utf8');
  const out: [number, Uint8Array][] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) visit(y);
    else if (typeof x === 'object' && x !== null) {
      const el = x as Record<string, unknown>;
      const prefix = el.flowBlock_tag === '0:1' ? '' : el.discarded_flowBlock_tag === '0:1' ? 'discarded_' : null;
      const hex = prefix === null ? undefined : el[`${prefix}headerBytes`];
      if (typeof hex === 'string') {
        out.push([Number(el[`${prefix}headerProtocol`]), Uint8Array.from(hex.split('-'), (h) => parseInt(h, 16))]);
      }
      for (const y of Object.values(el)) visit(y);
    }
  };
  // a stream of concatenated JSON objects
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === 0x5c) escaped = true;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b) {
      if (depth++ === 0) start = i;
    } else if (ch === 0x7d) {
      if (--depth === 0) visit(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}

const captures = readdirSync(ORACLE)
  .filter((f) => f.endsWith('.sflowtool.json'))
  .sort();

/** Every name with the suffixes a packet could have (.1 .. .3 covers the corpus; deeper ones are tested below). */
const NAMES: string[] = attributeNames().flatMap((n) => (n === 'stack' ? [n] : [n, `${n}.1`, `${n}.2`, `${n}.3`]));
const READERS: [string, KeyReader | null][] = NAMES.map((n) => [n, keyReader(n)]);

/** What every reader gives for the packet in v. */
function readAll(v: PacketView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, r] of READERS) {
    const x = r === null ? undefined : r(v);
    if (x !== undefined) out[name] = x;
  }
  return out;
}

/** dissect() with every key it can add (tcpseqno and tcpackno too). */
function dissectAll(hp: number, b: Uint8Array): FlowAttributes {
  configureDissector({ tcpSequenceNumbers: true });
  const a = dissect(hp, b);
  configureDissector();
  return a;
}

describe('keyReader agrees with dissect() on the oracle corpus', () => {
  let headers = 0;
  let keys = 0;
  for (const capture of captures) {
    it(capture, () => {
      const wrong: string[] = [];
      sampledHeaders(join(ORACLE, capture)).forEach(([hp, b], n) => {
        headers++;
        // the default dissect(): every key it has, read lazily
        const eager = dissect(hp, b);
        const v = parsePacket(hp, b);
        for (const [key, value] of Object.entries(eager)) {
          const r = keyReader(key);
          const lazy = r === null ? null : r(v);
          if (lazy !== value) wrong.push(`header ${n} ${key}: dissect ${value}, keyReader ${lazy}`);
          keys++;
        }
        // and the other way round: no reader has a value dissect() lacks
        const all = readAll(v);
        const full = dissectAll(hp, b);
        for (const key of new Set([...Object.keys(all), ...Object.keys(full)])) {
          if (all[key] !== full[key]) wrong.push(`header ${n} ${key}: dissect ${full[key]}, keyReader ${all[key]}`);
        }
      });
      expect(wrong.slice(0, 20)).toEqual([]);
    });
  }
  it('covered the corpus', () => {
    expect(headers).toBeGreaterThan(10_000);
    expect(keys).toBeGreaterThan(200_000);
  });
});

describe('keyReader', () => {
  it('compiles every layer key, with suffixes on protocols that can repeat', () => {
    for (const name of ['stack', 'ipsource', 'ipsource.1', 'ipsource.31', 'ip6source.2', 'macsource.1', 'vlan.1', 'udpsourceport.1', 'eth_offset', 'tcpseqno', 'dnsqname', 'icmpunreachableport']) {
      expect(keyReader(name), name).toBeTypeOf('function');
    }
    for (const key of LAYER_KEYS.flat()) expect(keyReader(key), key).toBeTypeOf('function');
    expect(keyReader('ipsource')).toBe(keyReader('ipsource')); // compiled once
  });

  it('gives null for names no packet can have', () => {
    for (const name of [
      '',
      'nonsense',
      'ipsrc',
      'IPSOURCE',
      'ipsource.0',
      'ipsource.01',
      'ipsource.x',
      'ipsource.',
      'ipsource.1.1',
      `ipsource.${MAX_LAYERS}`,
      'ipsource.100',
      '.1',
      'stack.1',
      'q_offset', // tags have no offset key
      'tcpsourceport.1', // one TCP layer at most (nothing is decoded inside TCP but dns/http)
      'dnsqname.1',
      'httpurl.1',
      'icmptype.1',
      'constructor',
      'toString',
      '__proto__',
    ]) {
      expect(keyReader(name), JSON.stringify(name)).toBeNull();
    }
  });

  it('gives undefined for keys the packet lacks', () => {
    const eth = Uint8Array.from([2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, 0x08, 0x06, ...new Array<number>(28).fill(0)]);
    const v = parsePacket(1, eth);
    expect(keyReader('stack')!(v)).toBe('eth.arp');
    expect(keyReader('macsource')!(v)).toBe('02000000000A');
    for (const name of ['ipsource', 'tcpsourceport', 'udpdestinationport', 'macsource.1', 'ip6source.2', 'vlan', 'dnsqname', 'ip_offset']) {
      expect(keyReader(name)!(v), name).toBeUndefined();
    }
    for (const hp of [0, 2, 99]) {
      const none = parsePacket(hp, eth);
      for (const [name, r] of READERS) if (r !== null) expect(r(none), name).toBeUndefined();
    }
  });

  it('reads deep suffixes (IP-in-IP to MAX_LAYERS)', () => {
    // 40 nested IPv4 headers (protocol 4), sources 10.0.0.<depth>
    const depth = 40;
    const b = new Uint8Array(20 * depth);
    for (let k = 0; k < depth; k++) {
      const h = b.subarray(20 * k, 20 * k + 20);
      const total = 20 * (depth - k);
      h.set([0x45, 0, total >>> 8, total & 0xff, 0, 1, 0, 0, 64, 4, 0, 0, 10, 0, 0, k, 10, 0, 0, 99]);
      let sum = 0;
      for (let j = 0; j < 20; j += 2) sum += (h[j]! << 8) | h[j + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      h[10] = (~sum >>> 8) & 0xff;
      h[11] = ~sum & 0xff;
    }
    const v = parsePacket(11, b);
    const eager = dissect(11, b);
    expect(v.layers).toBe(MAX_LAYERS);
    for (let c = 1; c < MAX_LAYERS; c++) {
      expect(keyReader(`ipsource.${c}`)!(v)).toBe(`10.0.0.${c}`);
      expect(keyReader(`ip_offset.${c}`)!(v)).toBe(eager[`ip_offset.${c}`]);
    }
  });

  it('where two protocols have a key, the inner layer wins (wlan, then an Ethernet pseudowire)', () => {
    const wlanHdr = [0x08, 0x00, 0, 0, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 3, 0, 0];
    const snapMpls = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x47];
    const label = [0, 0x01, 0x31, 64]; // label 19, bottom of stack
    const ethHdr = [0x12, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, 0x08, 0x06, ...new Array<number>(28).fill(0)]; // first nibble 1: no control word
    const b = Uint8Array.from([...wlanHdr, ...snapMpls, ...label, ...ethHdr]);
    const v = parsePacket(15, b);
    expect(keyReader('stack')!(v)).toBe('wlan.mpls.eth.arp');
    const eager = dissect(15, b);
    expect(eager.macsource).toBe('02000000000A');
    expect(eager.ethernetprotocol).toBe('2054');
    for (const key of ['macsource', 'macdestination', 'ethernetprotocol', 'isunicast', 'wlan_offset', 'eth_offset']) {
      expect(keyReader(key)!(v), key).toBe(eager[key]);
    }
  });

  it('the IPv4 checksum rule applies to parsePacket', () => {
    // raw IPv4 UDP with a wrong header checksum
    const b = Uint8Array.from([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0x12, 0x34, 10, 0, 0, 1, 10, 0, 0, 2, 0, 7, 0, 9, 0, 8, 0, 0]);
    expect(keyReader('stack')!(parsePacket(11, b))).toBeUndefined();
    configureDissector({ verifyIpv4Checksum: false });
    expect(keyReader('stack')!(parsePacket(11, b))).toBe('ip.udp');
    expect(keyReader('udpdestinationport')!(parsePacket(11, b))).toBe('9');
  });
});

describe('reused views', () => {
  const all: [number, Uint8Array][] = captures.flatMap((c) => sampledHeaders(join(ORACLE, c)));

  it('a view reused for every header of the corpus gives what a fresh view gives', () => {
    configureDissector({ tcpSequenceNumbers: true });
    const reused = new PacketView();
    // in an order that puts deep tunnels before short headers
    const order = [...all.keys()].sort((a, b) => ((a * 7919) % all.length) - ((b * 7919) % all.length));
    for (const k of order) {
      const [hp, b] = all[k]!;
      expect(parsePacket(hp, b, reused)).toBe(reused);
      const got = readAll(reused);
      expect(got).toEqual(readAll(parsePacket(hp, b, new PacketView())));
    }
  });

  it('after a deep packet, a short or unsupported one leaves nothing behind', () => {
    const deep = all.reduce((best, h) => (parsePacket(h[0], h[1]).layers > parsePacket(best[0], best[1]).layers ? h : best));
    const v = new PacketView();
    parsePacket(deep[0], deep[1], v);
    expect(v.layers).toBeGreaterThanOrEqual(7);
    const before = readAll(v);
    expect(Object.keys(before).some((k) => k.endsWith('.1'))).toBe(true);
    for (const [hp, b] of [
      [deep[0], deep[1].subarray(0, 20)],
      [deep[0], new Uint8Array(0)],
      [99, deep[1]],
    ] as [number, Uint8Array][]) {
      parsePacket(deep[0], deep[1], v);
      parsePacket(hp, b, v);
      expect(readAll(v)).toEqual(readAll(parsePacket(hp, b, new PacketView())));
      expect({ ...dissect(hp, b) }).toEqual(Object.fromEntries(Object.entries(readAll(v)).filter(([k]) => !k.startsWith('tcpseqno') && !k.startsWith('tcpackno'))));
    }
  });

  it('two views hold two packets at once; dissect() disturbs neither', () => {
    const [hpA, a] = all.find(([hp, b]) => parsePacket(hp, b).stack!.includes('vxlan'))!;
    const [hpB, b] = all.find(([hp, x]) => parsePacket(hp, x).stack === 'eth.ip6.tcp')!;
    const va = parsePacket(hpA, a, new PacketView());
    const vb = parsePacket(hpB, b, new PacketView());
    const ra = readAll(va);
    const rb = readAll(vb);
    parsePacket(hpB, b); // the shared view
    dissect(hpA, a);
    expect(readAll(va)).toEqual(ra);
    expect(readAll(vb)).toEqual(rb);
    expect(readAll(sharedView)).toEqual(rb);
  });

  it('clear() forgets the packet and its bytes', () => {
    const [hp, b] = all[0]!;
    const v = parsePacket(hp, b, new PacketView());
    v.clear();
    expect(v.bytes.length).toBe(0);
    expect(readAll(v)).toEqual({});
  });
});

describe('hostile input through the lazy path', () => {
  it('random and bit-flipped headers: readers agree with dissect() and never throw', () => {
    const corpus: [number, Uint8Array][] = sampledHeaders(join(ORACLE, 'hsflowd-tunnels-sample.pcap.sflowtool.json'));
    const v = new PacketView();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constantFrom(1, 7, 11, 12, 13, 14, 15), fc.uint8Array({ maxLength: 200 })),
          fc.tuple(fc.constantFrom(...corpus), fc.array(fc.nat(), { maxLength: 6 }), fc.nat()).map(([[hp, h], flips, cut]) => {
            const b = h.slice(0, cut % (h.length + 1));
            for (const f of flips) if (b.length > 0) b[f % b.length]! ^= 1 << (f % 8);
            return [hp, b] as [number, Uint8Array];
          }),
        ),
        ([hp, b]) => {
          parsePacket(hp, b, v);
          expect(readAll(v)).toEqual({ ...dissectAll(hp, b) });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
