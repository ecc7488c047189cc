import { describe, expect, it } from 'vitest';
import { writeU64Micros } from './agent.js';
import { buildFrame, dnsQuery, dnsResponse, ipv4ToNumber, IPPROTO_TCP, IPPROTO_UDP, patchFrame, type FrameSpec } from './packets.js';
import { Rng } from './rng.js';

function csum(b: Uint8Array, off: number, len: number, acc = 0): number {
  for (let i = 0; i < len; i += 2) acc += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

const mac = (x: number) => new Uint8Array([2, 0, 0, 0, 0, x]);

function spec(o: Partial<FrameSpec>): FrameSpec {
  return {
    srcMac: mac(1),
    dstMac: mac(2),
    src: ipv4ToNumber('10.244.1.5'),
    dst: ipv4ToNumber('10.244.7.9'),
    ttl: 63,
    tos: 0,
    id: 4321,
    proto: IPPROTO_UDP,
    sport: 40000,
    dport: 53,
    payload: dnsQuery(0x1234, 'minio.storage.svc.cluster.local', 1),
    payloadLength: 0,
    ...o,
  };
}

describe('frames', () => {
  it('IP-in-IP: outer header between nodes, inner between pods, every checksum valid, and still valid after patching', () => {
    const q = dnsQuery(0x1234, 'minio.storage.svc.cluster.local', 1);
    const t = buildFrame(spec({ outer: { src: ipv4ToNumber('10.20.1.10'), dst: ipv4ToNumber('10.20.1.11'), ttl: 64, id: 77 }, payloadLength: q.length }), 128);
    expect(t.outerIp).toBe(14);
    expect(t.ip).toBe(34);
    expect(t.bytes[14 + 9]).toBe(4);
    expect(t.frameLength).toBe(14 + 20 + 20 + 8 + q.length + 4);
    const check = (b: Uint8Array) => {
      expect(csum(b, 14, 20)).toBe(0xffff);
      expect(csum(b, 34, 20)).toBe(0xffff);
      const udpLen = 8 + q.length;
      expect(csum(b, 54, udpLen, csum(b, 34 + 12, 8, IPPROTO_UDP + udpLen))).toBe(0xffff);
    };
    check(t.bytes);
    expect(t.dnsId).toBe(62);
    const out = new Uint8Array(200);
    patchFrame(out, 10, t, 999, 0, 0xabcd);
    const p = out.subarray(10, 10 + t.bytes.length);
    check(p);
    expect((p[62]! << 8) | p[63]!).toBe(0xabcd);
    expect((p[38]! << 8) | p[39]!).toBe(999);
  });

  it('TCP: a whole small segment gets a real checksum that survives sequence-number patching; short frames are padded', () => {
    const t = buildFrame(spec({ proto: IPPROTO_TCP, dport: 443, tcp: { flags: 0x10, seq: 1, ack: 2, window: 501, tsval: 3 }, payload: new Uint8Array(0), payloadLength: 0 }), 128);
    expect(t.l4Csum).toBe(14 + 20 + 16);
    const out = new Uint8Array(t.bytes.length);
    for (const seq of [0, 0xffffffff, 0x12345678]) {
      patchFrame(out, 0, t, 7, seq, 0);
      const segLen = 32;
      expect(csum(out, 34, segLen, csum(out, 26, 8, IPPROTO_TCP + segLen))).toBe(0xffff);
      expect(csum(out, 14, 20)).toBe(0xffff);
    }
    const tiny = buildFrame(spec({ proto: IPPROTO_UDP, dport: 9, payload: new Uint8Array(2), payloadLength: 2 }), 128);
    expect(tiny.bytes.length).toBe(60);
    expect(tiny.frameLength).toBe(64);
  });

  it('captures at most the header size asked for', () => {
    const t = buildFrame(spec({ proto: IPPROTO_TCP, tcp: { flags: 0x18, seq: 1, ack: 2, window: 501, tsval: 3 }, payload: new Uint8Array(200), payloadLength: 1428 }), 128);
    expect(t.bytes.length).toBe(128);
    expect(t.frameLength).toBe(14 + 20 + 32 + 1428 + 4);
  });

  it('DNS answers: A records for names with addresses, NXDOMAIN with the zone SOA otherwise', () => {
    const ok = dnsResponse(7, 'minio.storage.svc.cluster.local', 1, [ipv4ToNumber('10.96.3.4')]);
    expect([ok[2]! & 0x84, ok[3]! & 0xf, ok[7]]).toEqual([0x84, 0, 1]);
    expect([...ok.subarray(ok.length - 4)]).toEqual([10, 96, 3, 4]);
    const nx = dnsResponse(7, 'pypi.org.nlp-lab.svc.cluster.local', 1, []);
    expect([nx[3]! & 0xf, nx[7], nx[9]]).toEqual([3, 0, 1]);
  });
});

describe('writeU64Micros', () => {
  it('writes microseconds as nanoseconds exactly (no BigInt, no float rounding)', () => {
    const rng = new Rng(1);
    const v = new DataView(new ArrayBuffer(8));
    const cases = [0, 1, 4194303, 4194304, 1767225600123456, Math.floor(2 ** 53 / 1000) - 1, 2 ** 53 - 1];
    for (let i = 0; i < 200; i++) cases.push(Math.floor(rng.float() * 2e15));
    for (const us of cases) {
      writeU64Micros(v, 0, us);
      expect(v.getBigUint64(0)).toBe(BigInt(us) * 1000n);
    }
  });
});
