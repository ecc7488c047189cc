import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../ingest/pcap.js';
import { decodeDatagram } from '../sflow/decode.js';
import { writeSimulationPcap } from './capture.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter } from './pcap-writer.js';
import { ClusterSimulator } from './simulator.js';

const dir = mkdtempSync(join(tmpdir(), 'sflowscope-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PcapWriter', () => {
  for (const link of ['ethernet', 'raw'] as const) {
    it(`writes ${link} records our capture reader reads back exactly`, () => {
      const w = new PcapWriter({ link });
      const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(1400).fill(7), new Uint8Array(0)];
      const parts = [w.header(), ...payloads.map((p, i) => w.udpRecord(1767225600123.456 + i * 1000, { ip: '10.20.1.10', port: 40000 + i }, { ip: '127.0.0.1', port: 6343 }, p))];
      const file = Buffer.concat(parts);
      expect(file.readUInt32LE(20)).toBe(link === 'raw' ? LINKTYPE_RAW : LINKTYPE_ETHERNET);
      const cap = readCapture(file);
      expect(cap.format).toBe('pcap');
      expect(cap.datagrams.length).toBe(3);
      cap.datagrams.forEach((d, i) => {
        expect(d.srcAddress).toBe('10.20.1.10');
        expect(d.srcPort).toBe(40000 + i);
        expect(d.dstAddress).toBe('127.0.0.1');
        expect(d.dstPort).toBe(6343);
        expect(Buffer.from(d.payload).equals(Buffer.from(payloads[i]!))).toBe(true);
        expect(d.timestampMicros).toBe(1767225600123456 + i * 1000000);
      });
    });
  }

  it('writes valid IPv4 header and UDP checksums', () => {
    const w = new PcapWriter();
    const rec = w.udpRecord(0, { ip: '10.0.0.1', port: 1234 }, { ip: '10.0.0.2', port: 6343 }, new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]));
    const sum = (b: Uint8Array, o: number, n: number, acc = 0) => {
      for (let i = 0; i < n; i += 2) acc += (b[o + i]! << 8) | (i + 1 < n ? b[o + i + 1]! : 0);
      while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
      return acc;
    };
    const ip = 16 + 14;
    expect(sum(rec, ip, 20)).toBe(0xffff);
    const udpLen = 8 + 5;
    const pseudo = sum(rec, ip + 12, 8, 17 + udpLen);
    expect(sum(rec, ip + 20, udpLen, pseudo)).toBe(0xffff);
  });

  it('captures a simulation: every datagram, in order, with the simulated send times', async () => {
    const start = Date.UTC(2026, 0, 2);
    const sim = new ClusterSimulator({ nodes: 5, rate: 100, seed: 8, startTimeMs: start });
    const path = join(dir, 'sim.pcap');
    const r = await writeSimulationPcap(sim, path, { durationMs: 5000 });
    const cap = readCapture(readFileSync(path));
    expect(cap.datagrams.length).toBe(r.packets);
    expect(r.packets).toBe(sim.stats().datagrams);
    let last = 0;
    for (const d of cap.datagrams) {
      expect(d.timestampMicros).toBeGreaterThanOrEqual(last);
      last = d.timestampMicros;
      expect(d.timestampMicros).toBeGreaterThanOrEqual(start * 1000);
      expect(d.timestampMicros).toBeLessThan((start + 5000) * 1000);
      const { datagram, error } = decodeDatagram(d.payload);
      expect(error).toBeNull();
      expect(datagram!.agentAddress).toBe(d.srcAddress);
    }
  });
});
