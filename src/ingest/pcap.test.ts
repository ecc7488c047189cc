import { readFileSync, statSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isPartial,
  listCaptures,
  parseConcatenatedJson,
  readSflowtoolOracle,
  sflowtoolPcapTimestampMicros,
} from '../../test/oracle.js';
import {
  CaptureFormatError,
  CaptureReader,
  type CaptureReaderOptions,
  type CaptureSummary,
  detectCaptureFormat,
  formatIPv6,
  LinkType,
  openCaptureFile,
  readCapture,
  readCaptureFile,
  udpDatagrams,
  type UdpDatagram,
} from './pcap.js';

// =============================================================================================
// Builders: tiny writers for the headers and files the corpus does not cover.

type Bytes = Uint8Array;
const cat = (...parts: Bytes[]): Bytes => new Uint8Array(Buffer.concat(parts));
const u16 = (v: number): Bytes => Uint8Array.of(v >> 8, v & 0xff);
const u32 = (v: number, le = false): Bytes => {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return new Uint8Array(b);
};
const u16x = (v: number, le: boolean): Bytes => (le ? Uint8Array.of(v & 0xff, v >> 8) : u16(v));
const pad4 = (b: Bytes): Bytes => cat(b, new Uint8Array((4 - (b.length % 4)) % 4));
const bytes = (n: number, seed = 1): Bytes => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const ip4 = (s: string): Bytes => Uint8Array.from(s.split('.').map(Number));
const ip6 = (s: string): Bytes => {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return cat(...groups.map((g) => u16(parseInt(g, 16))));
};

/** UDP header + payload (checksum 0). */
function udp(sport: number, dport: number, payload: Bytes, lengthField = payload.length + 8): Bytes {
  return cat(u16(sport), u16(dport), u16(lengthField), u16(0), payload);
}

interface Ip4Opts {
  src?: string;
  dst?: string;
  proto?: number;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  more?: boolean;
  totalLength?: number;
  ihl?: number;
  version?: number;
}
function ipv4(body: Bytes, o: Ip4Opts = {}): Bytes {
  const ihl = o.ihl ?? 5;
  const opts = new Uint8Array(Math.max(0, ihl - 5) * 4);
  const flags = ((o.more ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3)) & 0xffff;
  return cat(
    Uint8Array.of(((o.version ?? 4) << 4) | ihl, 0),
    u16(o.totalLength ?? ihl * 4 + body.length),
    u16(o.id ?? 0x1234),
    u16(flags),
    Uint8Array.of(64, o.proto ?? 17),
    u16(0),
    ip4(o.src ?? '10.0.0.1'),
    ip4(o.dst ?? '10.0.0.2'),
    opts,
    body,
  );
}

function ipv6(nh: number, body: Bytes, o: { src?: string; dst?: string; payloadLength?: number } = {}): Bytes {
  return cat(
    Uint8Array.of(0x60, 0, 0, 0),
    u16(o.payloadLength ?? body.length),
    Uint8Array.of(nh, 64),
    ip6(o.src ?? '2001:db8::1'),
    ip6(o.dst ?? '2001:db8::2'),
    body,
  );
}
/** A generic IPv6 extension header (hop-by-hop, destination options...) of 8·(units+1) bytes. */
const ext6 = (next: number, units = 0): Bytes => cat(Uint8Array.of(next, units), new Uint8Array(6 + units * 8));
const frag6 = (next: number, offset: number, more: boolean, id: number): Bytes =>
  cat(Uint8Array.of(next, 0), u16(offset | (more ? 1 : 0)), u32(id));

const MAC_A = Uint8Array.of(2, 0, 0, 0, 0, 1);
const MAC_B = Uint8Array.of(2, 0, 0, 0, 0, 2);
/** Ethernet II with optional VLAN tags given as [tpid, vid] pairs. */
function eth(type: number, l3: Bytes, tags: [number, number][] = []): Bytes {
  return cat(MAC_B, MAC_A, ...tags.map(([tpid, vid]) => cat(u16(tpid), u16(vid))), u16(type), l3);
}
const sll = (type: number, l3: Bytes): Bytes => cat(u16(0), u16(1), u16(6), MAC_A, u16(0), u16(type), l3);
const sll2 = (type: number, l3: Bytes): Bytes =>
  cat(u16(type), u16(0), u32(3), u16(1), Uint8Array.of(0, 6), MAC_A, u16(0), l3);
const afHeader = (af: number, le: boolean, l3: Bytes): Bytes => cat(u32(af, le), l3);

interface Rec {
  data: Bytes;
  sec?: number;
  frac?: number;
  origLen?: number;
}
/** Classic pcap file. */
function pcapFile(recs: Rec[], o: { le?: boolean; nanos?: boolean; linkType?: number; modified?: boolean } = {}): Bytes {
  const le = o.le ?? true;
  const magic = o.modified ? 0xa1b2cd34 : o.nanos ? 0xa1b23c4d : 0xa1b2c3d4;
  const header = cat(u32(magic, le), u16x(2, le), u16x(4, le), u32(0, le), u32(0, le), u32(262144, le),
    u32(o.linkType ?? LinkType.ETHERNET, le));
  const records = recs.map((r, i) =>
    cat(u32(r.sec ?? 1_700_000_000 + i, le), u32(r.frac ?? 0, le), u32(r.data.length, le),
      u32(r.origLen ?? r.data.length, le), o.modified ? new Uint8Array(8) : new Uint8Array(0), r.data));
  return cat(header, ...records);
}

/** A pcapng block: type, total length, body padded to 4, total length. */
function block(type: number, body: Bytes, le: boolean): Bytes {
  const b = pad4(body);
  return cat(u32(type, le), u32(b.length + 12, le), b, u32(b.length + 12, le));
}
const option = (code: number, value: Bytes, le: boolean): Bytes => cat(u16x(code, le), u16x(value.length, le), pad4(value));
const shb = (le: boolean): Bytes =>
  block(0x0a0d0d0a, cat(u32(0x1a2b3c4d, le), u16x(1, le), u16x(0, le), u32(0xffffffff), u32(0xffffffff)), le);
function idb(le: boolean, linkType: number, o: { tsresol?: number; tsoffset?: number; snaplen?: number } = {}): Bytes {
  const opts: Bytes[] = [];
  opts.push(option(2, new TextEncoder().encode('eth0'), le)); // if_name: an option to skip
  if (o.tsresol !== undefined) opts.push(option(9, Uint8Array.of(o.tsresol), le));
  if (o.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    if (le) v.writeBigInt64LE(BigInt(o.tsoffset));
    else v.writeBigInt64BE(BigInt(o.tsoffset));
    opts.push(option(14, new Uint8Array(v), le));
  }
  if (opts.length) opts.push(u32(0)); // opt_endofopt
  return block(1, cat(u16x(linkType, le), u16x(0, le), u32(o.snaplen ?? 0, le), ...opts), le);
}
/** Enhanced Packet Block; ts is the raw 64-bit timestamp in the interface's units. */
function epb(le: boolean, ifId: number, ts: bigint, data: Bytes, origLen = data.length): Bytes {
  return block(6, cat(u32(ifId, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le),
    u32(data.length, le), u32(origLen, le), pad4(data), option(1, new TextEncoder().encode('c'), le), u32(0)), le);
}
const spb = (le: boolean, data: Bytes, origLen = data.length): Bytes => block(3, cat(u32(origLen, le), data), le);
function opb(le: boolean, ifId: number, ts: bigint, data: Bytes): Bytes {
  return block(2, cat(u16x(ifId, le), u16x(0, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le),
    u32(data.length, le), u32(data.length, le), data), le);
}

/** IPv4 fragments of a UDP datagram, `chunk` payload bytes each (a multiple of 8). */
function fragment4(udpBytes: Bytes, chunk: number, o: Ip4Opts = {}): Bytes[] {
  const out: Bytes[] = [];
  for (let off = 0; off < udpBytes.length; off += chunk) {
    const part = udpBytes.subarray(off, off + chunk);
    out.push(ipv4(part, { ...o, fragOffset: off, more: off + chunk < udpBytes.length }));
  }
  return out;
}
/** IPv6 fragments (fragment header directly after the fixed header). */
function fragment6(first: number, data: Bytes, chunk: number, id: number, o: { src?: string; dst?: string } = {}): Bytes[] {
  const out: Bytes[] = [];
  for (let off = 0; off < data.length; off += chunk) {
    const part = data.subarray(off, off + chunk);
    out.push(ipv6(44, cat(frag6(first, off, off + chunk < data.length, id), part), o));
  }
  return out;
}

const all = (buf: Bytes, options?: CaptureReaderOptions): { datagrams: UdpDatagram[]; summary: CaptureSummary } => {
  const r = readCapture(buf, options);
  expectBalanced(r.summary);
  return r;
};

/** Every record is accounted for exactly once (see CaptureSummary.packets). */
function expectBalanced(s: CaptureSummary): void {
  const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  expect(s.packets).toBe(s.datagrams - s.fragments.reassembled + s.fragments.received + skipped);
}
const noSkips = (s: CaptureSummary): void => {
  expect(Object.values(s.skipped).every((v) => v === 0), JSON.stringify(s.skipped)).toBe(true);
};
const ethPcap = (frames: Bytes[]): Bytes => pcapFile(frames.map((data) => ({ data })));

// =============================================================================================
// The corpus, checked against sflowtool.
//
// sflowtool -r prints one JSON object for every UDP datagram of the capture, whatever its port
// and whether or not it is sFlow: in tcpdump__sflow_multiple_counter_30_pdus.pcap five frames are
// NetFlow v5 sent to 6343, which sflowtool prints as partial objects with datagramVersion
// 327681/327682 (0x0005_0001/0x0005_0002: NetFlow's version 5 and record count read as one
// sFlow version word). goflow__utils_sflow_test (edited record lengths) and goflow2 frame 5
// (unpadded string) are partial too. Partial or not, every object carries datagramSize,
// pcapTimestamp(_uS) and datagramVersion, so all of them are compared, in order, with no
// exceptions. Every capture is little-endian microsecond pcap over Ethernet (one with an 802.1Q
// tag), UDP to 6343 only, IPv4 except hsflowd-json (IPv6, ::1); none holds fragments, other link
// types or non-UDP frames: the synthetic tests below cover those.

const captures = listCaptures();

describe('corpus captures vs sflowtool', () => {
  it('finds the captures of both folders', () => {
    expect(captures.some((c) => c.group === 'hsflowd')).toBe(true);
    expect(captures.some((c) => c.group === 'public')).toBe(true);
  });

  it.each(captures)('$group/$name: same datagrams, sizes and times as sflowtool', async ({ name, path }) => {
    const file = readFileSync(path);
    const oracle = readSflowtoolOracle(name);
    const { datagrams, summary } = await readCaptureFile(path);
    expectBalanced(summary);
    noSkips(summary);
    expect(summary.stoppedBy).toBeNull();
    expect(summary.bytesRead).toBe(statSync(path).size);
    expect(summary.fragments.received).toBe(0);
    expect(datagrams.length).toBe(oracle.length);
    for (const [i, o] of oracle.entries()) {
      const d = datagrams[i]!;
      const where = `${name} datagram ${i + 1}${isPartial(o) ? ' (partial in sflowtool)' : ''}`;
      expect(d.payload.length, where).toBe(Number(o.datagramSize));
      expect(d.timestampMicros, where).toBe(sflowtoolPcapTimestampMicros(o));
      // The payload starts where sflowtool's did: its version word agrees.
      expect(Buffer.from(d.payload).readUInt32BE(0), where).toBe(Number(o['datagramVersion']));
      expect(d.dstPort, where).toBe(6343);
    }
    // No copies: payloads are views of the file's bytes.
    const again = readCapture(file).datagrams;
    expect(again.every((d) => d.payload.buffer === file.buffer && !d.reassembled)).toBe(true);
  });

  it('reads what the corpus is known to hold', async () => {
    const json = await readCaptureFile(captures.find((c) => c.name === 'hsflowd-json.pcap')!.path);
    expect(json.datagrams.every((d) => d.ipVersion === 6 && d.srcAddress === '::1' && d.dstAddress === '::1')).toBe(true);
    const flows = await readCaptureFile(captures.find((c) => c.name === 'hsflowd-flows.pcap')!.path);
    expect(flows.datagrams[0]).toMatchObject({ index: 1, ipVersion: 4, srcAddress: '127.0.0.1', dstAddress: '127.0.0.1', dstPort: 6343 });
    expect(flows.summary.linkTypes).toEqual([LinkType.ETHERNET]);
    const tagged = await readCaptureFile(captures.find((c) => c.name === 'nxthdr-sflow-parser__sflow.pcap')!.path);
    expect(tagged.datagrams).toHaveLength(1); // behind an 802.1Q tag
    const tcpdump = await readCaptureFile(captures.find((c) => c.name === 'tcpdump__sflow_multiple_counter_30_pdus.pcap')!.path);
    // Five NetFlow v5 datagrams to port 6343 (version word 0x0005_00nn), partial in sflowtool.
    const netflow = tcpdump.datagrams.filter((d) => Buffer.from(d.payload).readUInt32BE(0) !== 5);
    expect(netflow.map((d) => d.payload[1])).toEqual([5, 5, 5, 5, 5]);
    const partial = readSflowtoolOracle('tcpdump__sflow_multiple_counter_30_pdus.pcap').flatMap((o, i) => (isPartial(o) ? [i + 1] : []));
    expect(netflow.map((d) => d.index)).toEqual(partial);
  });

  it('iterates lazily and reports the summary at the end', async () => {
    const reader = await openCaptureFile(captures.find((c) => c.name === 'hsflowd-flows.pcap')!.path);
    let n = 0;
    for (const d of reader) {
      n++;
      if (n === 10) {
        expect(d.index).toBe(10);
        expect(reader.summary.datagrams).toBe(10);
      }
    }
    expect(reader.summary.datagrams).toBe(n);
    expect(reader.summary.packets).toBe(n);
    // A second pass starts afresh.
    const it2 = reader.datagrams();
    let r = it2.next();
    while (!r.done) r = it2.next();
    expect(r.value.datagrams).toBe(n);
  });
});

describe('oracle helper', () => {
  it('splits concatenated JSON without being fooled by brackets in strings', () => {
    const text = '{"a": "}{", "b": ["]"]}\n{"c": "\\"}"}  [1,{"d":"{"}]\n';
    expect(parseConcatenatedJson(text)).toEqual([{ a: '}{', b: [']'] }, { c: '"}' }, [1, { d: '{' }]]);
  });
  it('fails loudly on damage', () => {
    expect(() => parseConcatenatedJson('{"a": "1"}\n{"b": ')).toThrow(/unterminated/);
    expect(() => parseConcatenatedJson('{"a": "1"} x')).toThrow(/unexpected/);
    expect(() => parseConcatenatedJson('{"a": 1,}')).toThrow(/does not parse/);
  });
  it('reads the partial objects the maintainers closed', () => {
    const o = readSflowtoolOracle('goflow2__sflow_test.pcap');
    expect(o.map(isPartial)).toEqual([false, false, false, false, true]);
  });
});

// =============================================================================================
// Container formats

const PAYLOAD = bytes(100);
const FRAME = eth(0x0800, ipv4(udp(50000, 6343, PAYLOAD)));

describe('classic pcap', () => {
  type PcapOpts = { le: boolean; nanos?: boolean; modified?: boolean };
  it.each<[string, PcapOpts]>([
    ['little-endian µs', { le: true }],
    ['big-endian µs', { le: false }],
    ['little-endian ns', { le: true, nanos: true }],
    ['big-endian ns', { le: false, nanos: true }],
    ['modified (Kuznetzov)', { le: true, modified: true }],
  ])('%s', (_, o) => {
    const frac = o.nanos ? 123_456_789 : 123_456;
    const buf = pcapFile([{ data: FRAME, sec: 1_700_000_000, frac }, { data: FRAME, sec: 1_700_000_001, frac: 0 }], o);
    expect(detectCaptureFormat(buf)).toBe('pcap');
    const { datagrams, summary } = all(buf);
    expect(datagrams).toHaveLength(2);
    expect(datagrams[0]).toEqual({
      index: 1,
      timestampMicros: 1_700_000_000_123_456,
      ipVersion: 4,
      srcAddress: '10.0.0.1',
      srcPort: 50000,
      dstAddress: '10.0.0.2',
      dstPort: 6343,
      payload: PAYLOAD,
      reassembled: false,
    });
    expect(datagrams[1]!.timestampMicros).toBe(1_700_000_001_000_000);
    expect(summary).toMatchObject({ format: 'pcap', packets: 2, datagrams: 2, stoppedBy: null, bytesRead: buf.length });
  });

  it('ignores FCS flags in the upper bits of the link type', () => {
    const buf = pcapFile([{ data: cat(FRAME, u32(0xdeadbeef)) }], { linkType: 0x14000001 });
    expect(all(buf).datagrams[0]!.payload).toEqual(PAYLOAD);
  });

  it('accepts a Buffer, and a Uint8Array that is a window on a larger buffer', () => {
    const file = pcapFile([{ data: FRAME }]);
    const big = new Uint8Array(file.length + 10);
    big.set(file, 7);
    const window = big.subarray(7, 7 + file.length);
    const d = all(window).datagrams[0]!;
    expect(d.payload).toEqual(PAYLOAD);
    expect(d.payload.buffer).toBe(big.buffer);
    expect(all(Buffer.from(file)).datagrams).toHaveLength(1);
  });
});

describe('pcapng', () => {
  it.each([true, false])('little-endian=%s: IDB options, EPB, SPB, OPB, unknown blocks skipped', (le) => {
    const frame6 = eth(0x86dd, ipv6(17, udp(1, 2, PAYLOAD)));
    const buf = cat(
      shb(le),
      idb(le, LinkType.ETHERNET, { snaplen: 65535 }),
      block(4, cat(u16x(1, le), u16x(4, le), ip4('10.0.0.1'), u32(0)), le), // NRB
      idb(le, LinkType.RAW, { tsresol: 9 }), // nanoseconds
      epb(le, 0, 1_700_000_000_123_456n, FRAME),
      epb(le, 1, 1_700_000_000_123_456_789n, ipv4(udp(1, 2, PAYLOAD))),
      block(5, cat(u32(0, le), u32(0, le), u32(0, le)), le), // ISB
      spb(le, frame6),
      block(0x40000bad, bytes(10), le), // custom block
      opb(le, 0, 1_700_000_002_000_000n, FRAME),
      block(0x0bad, new Uint8Array(0), le), // unknown type
    );
    expect(detectCaptureFormat(buf)).toBe('pcapng');
    const { datagrams, summary } = all(buf);
    expect(datagrams.map((d) => [d.index, d.timestampMicros, d.ipVersion])).toEqual([
      [1, 1_700_000_000_123_456, 4],
      [2, 1_700_000_000_123_456, 4],
      [3, 1_700_000_000_123_456, 6], // SPB: time of the previous packet
      [4, 1_700_000_002_000_000, 4],
    ]);
    expect(datagrams.every((d) => d.payload.length === 100)).toBe(true);
    expect(datagrams[2]!.srcAddress).toBe('2001:db8::1');
    expect(summary).toMatchObject({ format: 'pcapng', packets: 4, datagrams: 4, unknownBlocks: 4, stoppedBy: null });
    expect(summary.linkTypes).toEqual([LinkType.ETHERNET, LinkType.RAW]);
    noSkips(summary);
  });

  it('converts every timestamp resolution, and applies if_tsoffset', () => {
    const cases: [Parameters<typeof idb>[2], bigint, number][] = [
      [{}, 1_700_000_000_654_321n, 1_700_000_000_654_321],
      [{ tsresol: 6 }, 1_700_000_000_654_321n, 1_700_000_000_654_321],
      [{ tsresol: 9 }, 1_700_000_000_654_321_999n, 1_700_000_000_654_321],
      [{ tsresol: 3 }, 1_700_000_000_654n, 1_700_000_000_654_000],
      [{ tsresol: 0 }, 1_700_000_000n, 1_700_000_000_000_000],
      [{ tsresol: 12 }, 1_000_000_654_321_999_999n, 1_000_000_654_321],
      [{ tsresol: 17 }, 15_000_000_654_321_999_999n, 150_000_006], // divisor 10^11: still exact
      [{ tsresol: 18 }, 15_000_000_654_321_999_999n, 15_000_000], // beyond: BigInt
      [{ tsresol: 0x80 | 20 }, (1_700_000_000n << 20n) + 524288n, 1_700_000_000_500_000], // 2^-20 s
      [{ tsresol: 0x80 | 32 }, (1_700_000_000n << 32n) + (1n << 30n), 1_700_000_000_250_000],
      [{ tsresol: 0x80 | 40 }, (1_000_000n << 40n) + (1n << 39n), 1_000_000_500_000],
      [{ tsresol: 9, tsoffset: 1_000 }, 5_000_000_000n, 1_005_000_000],
      [{ tsoffset: -10 }, 20_000_000n, 10_000_000],
    ];
    for (const [opts, raw, micros] of cases) {
      for (const le of [true, false]) {
        const buf = cat(shb(le), idb(le, LinkType.ETHERNET, opts), epb(le, 0, raw, FRAME));
        expect(all(buf).datagrams[0]!.timestampMicros, JSON.stringify(opts)).toBe(micros);
      }
    }
  });

  it('starts interfaces afresh in each section, whose byte order may differ', () => {
    const buf = cat(
      shb(true), idb(true, LinkType.ETHERNET), epb(true, 0, 1n, FRAME),
      shb(false), idb(false, LinkType.LINUX_SLL), epb(false, 0, 2n, sll(0x0800, ipv4(udp(7, 8, PAYLOAD)))),
      epb(false, 1, 3n, FRAME), // no interface 1 in this section
    );
    const { datagrams, summary } = all(buf);
    expect(datagrams.map((d) => [d.index, d.srcPort])).toEqual([[1, 50000], [2, 7]]);
    expect(summary.skipped.unknownInterface).toBe(1);
    expect(summary.linkTypes).toEqual([LinkType.ETHERNET, LinkType.LINUX_SLL]);
  });

  it('SPB is cut to the interface snap length, EPB with an impossible length is skipped', () => {
    const le = true;
    const buf = cat(shb(le), idb(le, LinkType.ETHERNET, { snaplen: 60 }), spb(le, FRAME),
      block(6, cat(u32(0, le), u32(0, le), u32(0, le), u32(5000, le), u32(5000, le), bytes(8)), le),
      epb(le, 0, 0n, FRAME));
    const { datagrams, summary } = all(buf);
    expect(datagrams.map((d) => d.index)).toEqual([3]);
    expect(summary.skipped).toMatchObject({ truncated: 1, badRecord: 1 });
  });
});

describe('file header errors', () => {
  const cases: [string, string, Bytes][] = [
    ['empty', 'TRUNCATED_HEADER', new Uint8Array(0)],
    ['3 bytes', 'TRUNCATED_HEADER', Uint8Array.of(0xd4, 0xc3, 0xb2)],
    ['pcap magic, short header', 'TRUNCATED_HEADER', pcapFile([]).subarray(0, 20)],
    ['text', 'UNKNOWN_MAGIC', new TextEncoder().encode('hello, world, not a capture')],
    ['gzip', 'UNKNOWN_MAGIC', Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0)],
    ['pcapng, bad byte-order magic', 'BAD_HEADER', cat(u32(0x0a0d0d0a), u32(28), u32(0x11223344), bytes(16))],
    ['pcapng, impossible length', 'BAD_HEADER', cat(u32(0x0a0d0d0a), u32(13), u32(0x1a2b3c4d), bytes(16))],
    ['pcapng, short', 'TRUNCATED_HEADER', shb(true).subarray(0, 20)],
  ];
  it.each(cases)('%s → CaptureFormatError %s, thrown by the call, not the first next()', (_, code, buf) => {
    let err: unknown;
    try {
      udpDatagrams(buf);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).code).toBe(code);
    expect(() => new CaptureReader(buf)).toThrow(CaptureFormatError);
  });
  it('hints at compression', () => {
    expect(() => udpDatagrams(Uint8Array.of(0x1f, 0x8b, 8, 0))).toThrow(/gzip/);
  });
  it('a header with no records is an empty capture', () => {
    expect(all(pcapFile([])).summary).toMatchObject({ packets: 0, datagrams: 0, stoppedBy: null });
    expect(all(shb(false)).summary).toMatchObject({ packets: 0, datagrams: 0, stoppedBy: null });
  });
  it('rejects a missing file with the fs error', async () => {
    await expect(readCaptureFile('/nonexistent/x.pcap')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('damaged files end the iteration gracefully', () => {
  it('classic pcap cut inside a record header, and inside a record', () => {
    const buf = ethPcap([FRAME, FRAME, FRAME]);
    const recLen = 16 + FRAME.length;
    for (const [cut, n] of [[24 + 2 * recLen + 5, 2], [24 + 2 * recLen + 16 + 30, 2], [24 + recLen - 1, 0]] as const) {
      const { datagrams, summary } = all(buf.subarray(0, cut));
      expect(datagrams).toHaveLength(n);
      expect(summary.stoppedBy).toBe('truncatedRecord');
      expect(summary.skipped.truncatedRecord).toBe(1);
      expect(summary.bytesRead).toBe(24 + n * recLen);
    }
  });
  it('pcapng cut inside a block, and a block with a corrupt length', () => {
    const good = cat(shb(true), idb(true, 1), epb(true, 0, 0n, FRAME));
    const cut = all(cat(good, epb(true, 0, 0n, FRAME)).subarray(0, good.length + 50));
    expect(cut.datagrams).toHaveLength(1);
    expect(cut.summary.stoppedBy).toBe('truncatedRecord');
    const tail = all(cat(good, Uint8Array.of(6, 0, 0)));
    expect(tail.summary.stoppedBy).toBe('truncatedRecord');
    const bad = all(cat(good, u32(6, true), u32(13, true), bytes(40), epb(true, 0, 0n, FRAME)));
    expect(bad.datagrams).toHaveLength(1);
    expect(bad.summary.stoppedBy).toBe('badRecord');
    const mismatch = epb(true, 0, 0n, FRAME);
    mismatch[mismatch.length - 4]! ^= 4;
    expect(all(cat(good, mismatch)).summary.stoppedBy).toBe('badRecord');
    const badBom = all(cat(good, cat(u32(0x0a0d0d0a), u32(28), u32(0x11223344), bytes(16))));
    expect(badBom.summary.stoppedBy).toBe('badRecord');
  });
});

// =============================================================================================
// Link layers

describe('link types', () => {
  const v4 = ipv4(udp(1000, 6343, PAYLOAD));
  const v6 = ipv6(17, udp(1000, 6343, PAYLOAD));
  const cases: [string, number, Bytes, 4 | 6][] = [
    ['Ethernet IPv4', LinkType.ETHERNET, eth(0x0800, v4), 4],
    ['Ethernet IPv6', LinkType.ETHERNET, eth(0x86dd, v6), 6],
    ['Ethernet 802.1Q', LinkType.ETHERNET, eth(0x0800, v4, [[0x8100, 100]]), 4],
    ['Ethernet QinQ 802.1ad', LinkType.ETHERNET, eth(0x86dd, v6, [[0x88a8, 10], [0x8100, 20]]), 6],
    ['Ethernet QinQ 0x9100', LinkType.ETHERNET, eth(0x0800, v4, [[0x9100, 10], [0x8100, 20]]), 4],
    ['Ethernet 802.3 LLC/SNAP', LinkType.ETHERNET,
      cat(MAC_B, MAC_A, u16(8 + v4.length), Uint8Array.of(0xaa, 0xaa, 3, 0, 0, 0), u16(0x0800), v4), 4],
    ['raw IP (101) v4', LinkType.RAW, v4, 4],
    ['raw IP (101) v6', LinkType.RAW, v6, 6],
    ['raw IP (12, OpenBSD DLT_RAW)', 12, v4, 4],
    ['IPv4 (228)', LinkType.IPV4, v4, 4],
    ['IPv6 (229)', LinkType.IPV6, v6, 6],
    ['Linux cooked v1', LinkType.LINUX_SLL, sll(0x0800, v4), 4],
    ['Linux cooked v1, IPv6', LinkType.LINUX_SLL, sll(0x86dd, v6), 6],
    ['Linux cooked v1 with a VLAN tag', LinkType.LINUX_SLL, sll(0x8100, cat(u16(5), u16(0x0800), v4)), 4],
    ['Linux cooked v2', LinkType.LINUX_SLL2, sll2(0x0800, v4), 4],
    ['Linux cooked v2, IPv6', LinkType.LINUX_SLL2, sll2(0x86dd, v6), 6],
    ['null, AF_INET little-endian', LinkType.NULL, afHeader(2, true, v4), 4],
    ['null, AF_INET big-endian', LinkType.NULL, afHeader(2, false, v4), 4],
    ['null, AF_INET6 Linux', LinkType.NULL, afHeader(10, true, v6), 6],
    ['null, AF_INET6 BSD', LinkType.NULL, afHeader(24, true, v6), 6],
    ['null, AF_INET6 FreeBSD, big-endian', LinkType.NULL, afHeader(28, false, v6), 6],
    ['null, AF_INET6 macOS', LinkType.NULL, afHeader(30, true, v6), 6],
    ['OpenBSD loop, AF_INET', LinkType.LOOP, afHeader(2, false, v4), 4],
    ['OpenBSD loop, AF_INET6 (little-endian AF word)', LinkType.LOOP, afHeader(24, true, v6), 6],
  ];
  it.each(cases)('%s', (_, linkType, frame, version) => {
    for (const le of [true, false]) {
      const { datagrams, summary } = all(pcapFile([{ data: frame }], { linkType, le }));
      expect(summary.linkTypes).toEqual([linkType]);
      expect(datagrams).toHaveLength(1);
      expect(datagrams[0]).toMatchObject({ ipVersion: version, srcPort: 1000, dstPort: 6343, payload: PAYLOAD });
      // The same frame in pcapng.
      const ng = all(cat(shb(le), idb(le, linkType), epb(le, 0, 0n, frame)));
      expect(ng.datagrams[0]!.payload).toEqual(PAYLOAD);
    }
  });

  it('counts frames it cannot use', () => {
    const arp = eth(0x0806, bytes(28));
    const tcp = eth(0x0800, ipv4(bytes(40), { proto: 6 }));
    const icmp6 = eth(0x86dd, ipv6(58, bytes(16)));
    const esp6 = eth(0x86dd, ipv6(0, cat(ext6(50), bytes(20))));
    const llc = cat(MAC_B, MAC_A, u16(40), Uint8Array.of(0x42, 0x42, 3), bytes(37));
    const { datagrams, summary } = all(ethPcap([arp, tcp, FRAME, icmp6, esp6, llc]));
    expect(datagrams.map((d) => d.index)).toEqual([3]);
    expect(summary.skipped).toMatchObject({ nonIp: 2, nonUdp: 3 });

    const other = all(pcapFile([{ data: FRAME }], { linkType: 105 })); // 802.11
    expect(other.summary.skipped.unsupportedLinkType).toBe(1);
    const af = all(pcapFile([{ data: afHeader(7, true, bytes(40)) }], { linkType: LinkType.NULL }));
    expect(af.summary.skipped.nonIp).toBe(1);
    const raw = all(pcapFile([{ data: bytes(40, 0x50) }], { linkType: LinkType.RAW }));
    expect(raw.summary.skipped.badHeader).toBe(1);
  });
});

// =============================================================================================
// IP and UDP

describe('IP and UDP headers', () => {
  it('takes the payload length from UDP, not the frame (Ethernet padding, FCS)', () => {
    const small = eth(0x0800, ipv4(udp(1, 2, Uint8Array.of(9, 9))));
    const padded = cat(small, new Uint8Array(60 - small.length));
    const d = all(ethPcap([padded, cat(FRAME, u32(0xcafebabe))])).datagrams;
    expect(d[0]!.payload).toEqual(Uint8Array.of(9, 9));
    expect(d[1]!.payload).toEqual(PAYLOAD);
  });

  it('IPv4 options, and zero total length (segmentation offload)', () => {
    const d = all(ethPcap([
      eth(0x0800, ipv4(udp(1, 2, PAYLOAD), { ihl: 7 })),
      eth(0x0800, ipv4(udp(1, 2, PAYLOAD), { totalLength: 0 })),
    ])).datagrams;
    expect(d.map((x) => x.payload.length)).toEqual([100, 100]);
  });

  it('walks IPv6 extension headers, including an atomic fragment', () => {
    const body = udp(53, 5353, PAYLOAD);
    const frames = [
      ipv6(0, cat(ext6(60, 1), ext6(17), body)), // hop-by-hop, destination options
      ipv6(43, cat(ext6(51), Uint8Array.of(17, 4), bytes(22), body)), // routing, AH (24 bytes)
      ipv6(44, cat(frag6(17, 0, false, 99), body)), // atomic fragment
    ].map((p) => eth(0x86dd, p));
    const { datagrams, summary } = all(ethPcap(frames));
    expect(datagrams.map((d) => [d.srcPort, d.dstPort, d.payload.length])).toEqual([[53, 5353, 100], [53, 5353, 100], [53, 5353, 100]]);
    expect(summary.fragments.received).toBe(0);
  });

  it('formats IPv6 addresses as RFC 5952 text', () => {
    const cases = [
      ['2001:db8::1', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
      ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ];
    for (const [input, text] of cases) expect(formatIPv6(ip6(input!))).toBe(text);
    const d = all(ethPcap([eth(0x86dd, ipv6(17, udp(1, 2, PAYLOAD), { src: 'fe80::1', dst: 'ff02::1:2' }))])).datagrams[0]!;
    expect([d.srcAddress, d.dstAddress]).toEqual(['fe80::1', 'ff02::1:2']);
  });

  it('distinguishes bad headers from frames cut by the snap length', () => {
    const v4 = ipv4(udp(1, 2, PAYLOAD));
    const frames: [Bytes, string][] = [
      [eth(0x0800, ipv4(udp(1, 2, PAYLOAD), { version: 5 })), 'badHeader'],
      [eth(0x0800, ipv4(udp(1, 2, PAYLOAD), { ihl: 4 })), 'badHeader'],
      [eth(0x0800, ipv4(udp(1, 2, PAYLOAD), { totalLength: 10 })), 'badHeader'],
      [eth(0x0800, ipv4(udp(1, 2, PAYLOAD, 4))), 'badHeader'], // UDP length < 8
      [eth(0x0800, ipv4(udp(1, 2, PAYLOAD, 500))), 'badHeader'], // UDP longer than IP
      [eth(0x0800, ipv4(Uint8Array.of(0, 1, 0), { totalLength: 23 })), 'badHeader'], // no room for UDP
      [eth(0x86dd, ipv6(17, udp(1, 2, PAYLOAD), { payloadLength: 4 })), 'badHeader'],
      [eth(0x86dd, ipv4(udp(1, 2, PAYLOAD))), 'badHeader'], // version 4 in an IPv6 frame
      [eth(0x0800, v4).subarray(0, 14 + 40), 'truncated'], // snap length cut the payload
      [eth(0x0800, v4).subarray(0, 14 + 24), 'truncated'], // ... the UDP header
      [eth(0x0800, v4).subarray(0, 14 + 10), 'truncated'], // ... the IP header
      [eth(0x0800, v4).subarray(0, 10), 'truncated'], // ... the Ethernet header
      [eth(0x0800, v4, [[0x8100, 1]]).subarray(0, 16), 'truncated'], // ... a VLAN tag
      [eth(0x86dd, ipv6(0, cat(ext6(17, 2), udp(1, 2, PAYLOAD)))).subarray(0, 14 + 40 + 10), 'truncated'],
      [eth(0x86dd, ipv6(0, cat(ext6(17, 2), udp(1, 2, PAYLOAD)), { payloadLength: 10 })), 'badHeader'],
    ];
    for (const [frame, reason] of frames) {
      const { datagrams, summary } = all(pcapFile([{ data: frame, origLen: 2000 }]));
      expect(datagrams, reason).toHaveLength(0);
      expect(summary.skipped[reason as keyof CaptureSummary['skipped']], `${reason} ${Buffer.from(frame).toString('hex')}`).toBe(1);
    }
  });
});

// =============================================================================================
// Fragments

describe('IP reassembly', () => {
  const big = bytes(3000, 3);
  const dgram = udp(40000, 6343, big);

  it('IPv4, in order: payload rebuilt, index and time of the last fragment', () => {
    const frags = fragment4(dgram, 1480);
    expect(frags).toHaveLength(3);
    const buf = pcapFile(frags.map((f, i) => ({ data: eth(0x0800, f), sec: 100, frac: i })));
    const { datagrams, summary } = all(buf);
    expect(datagrams).toHaveLength(1);
    expect(datagrams[0]).toMatchObject({ index: 3, timestampMicros: 100_000_002, reassembled: true, srcPort: 40000, dstPort: 6343 });
    expect(datagrams[0]!.payload).toEqual(big);
    expect(summary.fragments).toMatchObject({ received: 3, reassembled: 1, incomplete: 0 });
    expect(summary.datagrams).toBe(1);
  });

  it('IPv4, out of order, duplicated, interleaved with another datagram and plain traffic', () => {
    const a = fragment4(dgram, 1000, { id: 1 });
    const other = bytes(2000, 9);
    const b = fragment4(udp(1, 2, other), 1024, { id: 2 });
    const frames = [a[3]!, b[1]!, FRAME, a[1]!, a[1]!, b[0]!, a[0]!, a[2]!].map((f) => (f === FRAME ? f : eth(0x0800, f)));
    const { datagrams, summary } = all(ethPcap(frames));
    expect(datagrams.map((d) => [d.index, d.payload.length])).toEqual([[3, 100], [6, 2000], [8, 3000]]);
    expect(datagrams[1]!.payload).toEqual(other);
    expect(datagrams[2]!.payload).toEqual(big);
    expect(summary.fragments).toMatchObject({ received: 7, reassembled: 2, duplicates: 1 });
  });

  it('keeps datagrams with the same id apart by address', () => {
    const a = fragment4(udp(1, 2, bytes(100, 1)), 64, { src: '10.0.0.1' });
    const b = fragment4(udp(1, 2, bytes(100, 2)), 64, { src: '10.0.0.9' });
    const d = all(ethPcap([a[0]!, b[0]!, b[1]!, a[1]!].map((f) => eth(0x0800, f)))).datagrams;
    expect(d.map((x) => x.srcAddress)).toEqual(['10.0.0.9', '10.0.0.1']);
    expect(d[1]!.payload).toEqual(bytes(100, 1));
  });

  it('IPv6, with an extension header after the fragment header, through Linux cooked v2', () => {
    const data = cat(ext6(17), udp(6343, 6343, big));
    const frags = fragment6(60, data, 1232, 0xdeadbeef, { src: '2001:db8::a' });
    const { datagrams, summary } = all(pcapFile(frags.reverse().map((f) => ({ data: sll2(0x86dd, f) })), { linkType: LinkType.LINUX_SLL2 }));
    expect(datagrams).toHaveLength(1);
    expect(datagrams[0]).toMatchObject({ ipVersion: 6, srcAddress: '2001:db8::a', reassembled: true, index: 3 });
    expect(datagrams[0]!.payload).toEqual(big);
    expect(summary.fragments.reassembled).toBe(1);
  });

  it('IPv6 fragments of something else are not reassembled', () => {
    const frags = fragment6(6, bytes(3000), 1232, 7);
    const { summary } = all(ethPcap(frags.map((f) => eth(0x86dd, f))));
    expect(summary.skipped.nonUdp).toBe(3);
    expect(summary.fragments.received).toBe(0);
  });

  it('drops overlapping fragments, and malformed ones', () => {
    const f = fragment4(dgram, 1000);
    const overlap = ipv4(dgram.subarray(500, 1500), { fragOffset: 496, more: true });
    const odd = ipv4(dgram.subarray(0, 999), { more: true, id: 9 }); // non-last, not a multiple of 8
    const tooFar = ipv4(bytes(100), { fragOffset: 65528, more: false, id: 10 });
    const { datagrams, summary } = all(ethPcap([f[0]!, overlap, f[1]!, f[2]!, f[3]!, odd, tooFar].map((x) => eth(0x0800, x))));
    expect(datagrams).toHaveLength(0);
    expect(summary.fragments).toMatchObject({ overlapping: 1, invalid: 2, reassembled: 0, incomplete: 1 });
  });

  it('drops a datagram whose fragments contradict its end', () => {
    const f = fragment4(dgram, 1000);
    const shorterLast = ipv4(bytes(8), { fragOffset: 1000, more: false });
    const { summary } = all(ethPcap([f[0]!, f[3]!, shorterLast].map((x) => eth(0x0800, x))));
    expect(summary.fragments).toMatchObject({ invalid: 1, incomplete: 0 });
  });

  it('a reassembled datagram that is not valid UDP is counted, not yielded', () => {
    const f = fragment4(udp(1, 2, bytes(200), 5000), 104);
    const { datagrams, summary } = all(ethPcap(f.map((x) => eth(0x0800, x))));
    expect(datagrams).toHaveLength(0);
    expect(summary.fragments).toMatchObject({ received: 2, invalid: 1 });
  });

  it('times out stale reassemblies (capture time)', () => {
    const a = fragment4(dgram, 1480, { id: 1 });
    const b = fragment4(dgram, 1480, { id: 2 });
    const recs = [
      { data: eth(0x0800, a[0]!), sec: 0 },
      { data: eth(0x0800, b[0]!), sec: 20 },
      { data: eth(0x0800, a[1]!), sec: 31 }, // a is 31 s old: dropped, this starts it over
      { data: eth(0x0800, b[1]!), sec: 32 },
      { data: eth(0x0800, b[2]!), sec: 33 }, // b completes (13 s)
      { data: eth(0x0800, a[2]!), sec: 34 },
    ];
    const { datagrams, summary } = all(pcapFile(recs));
    expect(datagrams.map((d) => d.index)).toEqual([5]);
    expect(summary.fragments).toMatchObject({ timedOut: 1, reassembled: 1, incomplete: 1 });
    const patient = all(pcapFile(recs), { reassemblyTimeoutMicros: 60_000_000 });
    expect(patient.datagrams.map((d) => d.index)).toEqual([5, 6]);
  });

  it('bounds pending reassemblies by count and by bytes', () => {
    const heads = [1, 2, 3, 4, 5].map((id) => fragment4(dgram, 1480, { id }));
    // All first fragments, then the rest of datagrams 3, 4, 5, 1, 2.
    const order = [2, 3, 4, 0, 1];
    const frames = [...heads.map((h) => h[0]!), ...order.flatMap((i) => [heads[i]![1]!, heads[i]![2]!])].map((f) => eth(0x0800, f));
    expect(all(ethPcap(frames)).datagrams).toHaveLength(5);
    const byCount = all(ethPcap(frames), { maxPendingReassemblies: 3 });
    // 1 and 2 are evicted by 4 and 5; 3, 4, 5 complete; what is left of 1 and 2 never does.
    expect(byCount.summary.fragments).toMatchObject({ evicted: 2, reassembled: 3, incomplete: 2 });
    expect(byCount.datagrams.map((d) => d.index)).toEqual([7, 9, 11]);
    const byBytes = all(ethPcap(frames), { maxPendingBytes: 4000 });
    // 2 first fragments fit (2960 bytes); a third evicts the oldest, and so on.
    expect(byBytes.summary.fragments.evicted).toBeGreaterThan(0);
    expect(byBytes.summary.fragments.reassembled).toBeLessThan(5);
    const tiny = all(ethPcap(frames), { maxPendingBytes: 1000 });
    expect(tiny.summary.fragments.reassembled).toBe(0);
    expect(tiny.datagrams).toHaveLength(0);
  });
});

// =============================================================================================
// Never throw after the header

describe('malformed input never throws', () => {
  const small = captures.find((c) => c.name === 'goflow2__sflow_test.pcap')!;
  const file = new Uint8Array(readFileSync(small.path));
  const full = all(file).datagrams.length;

  it('every truncation of a real capture', () => {
    for (let n = 24; n <= file.length; n++) {
      const { datagrams, summary } = all(file.subarray(0, n));
      expect(datagrams.length).toBeLessThanOrEqual(full);
      if (n < file.length) expect(datagrams.length < full || summary.stoppedBy === null).toBe(true);
    }
  });

  const frames = [FRAME, eth(0x86dd, ipv6(0, cat(ext6(44), frag6(17, 8, true, 1), bytes(64)))), ...fragment4(udp(1, 2, bytes(300)), 104).map((f) => eth(0x0800, f))];
  const seeds: [string, Bytes][] = [
    ['real pcap', file],
    ['pcap', ethPcap(frames)],
    ['pcapng', cat(shb(true), idb(true, 1, { tsresol: 9 }), ...frames.map((f) => epb(true, 0, 5n, f)), spb(true, FRAME))],
    ['pcapng BE', cat(shb(false), idb(false, LinkType.LINUX_SLL2), epb(false, 0, 5n, sll2(0x0800, ipv4(udp(1, 2, PAYLOAD)))))],
  ];
  it.each(seeds)('random byte corruption of a %s', (_, seed) => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
        (edits) => {
          const buf = Uint8Array.from(seed);
          for (const [at, v] of edits) if (at >= 8) buf[at] = v; // keep the magic
          try {
            all(buf);
          } catch (e) {
            if (!(e instanceof CaptureFormatError)) throw e;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each<[string, Bytes]>([
    ['Ethernet pcap', pcapFile([])],
    ['raw IP pcap', pcapFile([], { linkType: LinkType.RAW })],
    ['null pcap', pcapFile([], { linkType: LinkType.NULL })],
    ['cooked v2 pcap', pcapFile([], { linkType: LinkType.LINUX_SLL2 })],
  ])('random records after a %s header', (_, header) => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 8 }), (frames) => {
        const buf = cat(header, ...frames.map((f) => cat(u32(0, true), u32(0, true), u32(f.length, true), u32(f.length, true), f)));
        all(buf);
      }),
      { numRuns: 300 },
    );
  });

  it('random blocks after a pcapng section header', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2, 3, 5, 6, 0x0a0d0d0a, 99), fc.uint8Array({ maxLength: 80 })), { maxLength: 8 }),
        (blocks) => {
          all(cat(shb(true), ...blocks.map(([t, body]) => block(t, body, true))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
