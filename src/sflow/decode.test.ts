import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listCaptures } from '../../test/oracle.js';
import { readCapture } from '../ingest/pcap.js';
import { decodeDatagram } from './decode.js';
import { encodeDatagram } from './encode.js';
import { flowRecordDefs } from './flow-records.js';
import { counterRecordDefs } from './counter-records.js';
import type { Datagram, FlowSample, Sample } from './types.js';
import { tagOf } from './tags.js';
import { XdrWriter } from './xdr.js';

const captures = listCaptures().map((c) => ({ ...c, datagrams: readCapture(readFileSync(c.path)).datagrams }));

/**
 * Well-formed = decodes without error, no record overran its own length, and every length is
 * a multiple of 4 (two public vectors carry an unpadded string or lengths that contradict their
 * contents; they are malformed by construction and are covered by the robustness tests).
 */
function wellFormed(bytes: Uint8Array): Datagram | null {
  const { datagram, error } = decodeDatagram(bytes);
  if (error || !datagram || bytes.length % 4 !== 0) return null;
  for (const s of datagram.samples) {
    if ('records' in s && s.records.some((r) => r.kind === 'unknown' && r.error)) return null;
  }
  return datagram;
}

describe('decoder on every capture', () => {
  for (const cap of captures) {
    it(`${cap.name}: re-encoding reproduces every well-formed datagram byte for byte (XDR padding aside)`, () => {
      let checked = 0;
      for (const d of cap.datagrams) {
        const datagram = wellFormed(d.payload);
        if (!datagram) continue;
        checked++;
        const padding: number[] = [];
        decodeDatagram(d.payload, padding);
        const again = encodeDatagram(datagram);
        expect(again.length, `datagram #${d.index} length`).toBe(d.payload.length);
        // hsflowd leaves XDR padding uninitialised (RFC 4506 says zero); we write zeros.
        const pad = new Set(padding);
        const diffs: number[] = [];
        for (let i = 0; i < again.length; i++) if (again[i] !== d.payload[i] && !pad.has(i)) diffs.push(i);
        expect(diffs, `datagram #${d.index}: bytes differ outside padding`).toEqual([]);
        expect(decodeDatagram(again).datagram).toEqual(datagram);
      }
      if (cap.datagrams.length > 0 && !cap.name.startsWith('goflow__')) expect(checked).toBeGreaterThan(0);
    });
  }

  it('finds every sample the captures hold, and no unknown structure in the hsflowd captures', () => {
    for (const cap of captures.filter((c) => c.group === 'hsflowd')) {
      let unknown = 0;
      for (const d of cap.datagrams) {
        const { datagram, error } = decodeDatagram(d.payload);
        expect(error, `${cap.name} #${d.index}`).toBeNull();
        expect(datagram!.samples.length).toBe(datagram!.sampleCount);
        for (const s of datagram!.samples) {
          if (s.kind === 'unknown_sample') unknown++;
          if ('records' in s) unknown += s.records.filter((r) => r.kind === 'unknown').length;
        }
      }
      expect(unknown, cap.name).toBe(0);
    }
  });
});

function datagramWith(samples: Sample[], agentAddress = '192.0.2.1'): Uint8Array {
  return encodeDatagram({ version: 5, agentAddress, agentAddressType: 0, subAgentId: 7, sequence: 9, uptime: 1000, samples });
}

const headerRecord = {
  kind: 'sampled_header' as const,
  tag: flowRecordDefs.sampled_header.tag,
  headerProtocol: 1,
  frameLength: 64,
  stripped: 4,
  header: new Uint8Array([1, 2, 3, 4, 5]),
};

function flow(records: FlowSample['records'], tag = 3): FlowSample {
  return {
    kind: 'flow_sample',
    tag,
    sequence: 1,
    sourceIdClass: 0,
    sourceIdIndex: 5,
    samplingRate: 512,
    samplePool: 1024,
    drops: 0,
    inputFormat: 0,
    input: 3,
    outputFormat: 2,
    output: 4,
    records,
  };
}

describe('decoder behaviour', () => {
  it('decodes compact and expanded forms to the same fields, IPv6 agents included', () => {
    for (const tag of [1, 3]) {
      const bytes = datagramWith([flow([headerRecord], tag)], '2001:db8::1');
      const { datagram, error } = decodeDatagram(bytes);
      expect(error).toBeNull();
      expect(datagram!.agentAddress).toBe('2001:db8::1');
      expect(datagram!.agentAddressType).toBe(2);
      const s = datagram!.samples[0] as FlowSample;
      expect(s).toMatchObject({ tag, sourceIdIndex: 5, samplingRate: 512, outputFormat: 2, output: 4 });
      expect(s.records[0]).toMatchObject({ kind: 'sampled_header', frameLength: 64 });
      expect(Array.from((s.records[0] as typeof headerRecord).header)).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('skips an unknown record by its length and goes on with the next one', () => {
    const unknown = { kind: 'unknown' as const, tag: tagOf(9999, 77), body: new Uint8Array(12).fill(0xee) };
    const { datagram, error } = decodeDatagram(datagramWith([flow([unknown, headerRecord])]));
    expect(error).toBeNull();
    const recs = (datagram!.samples[0] as FlowSample).records;
    expect(recs.map((r) => r.kind)).toEqual(['unknown', 'sampled_header']);
    expect(recs[0]!.tag).toBe(tagOf(9999, 77));
  });

  it('skips an unknown sample and decodes the ones after it', () => {
    const { datagram, error } = decodeDatagram(
      datagramWith([{ kind: 'unknown_sample', tag: tagOf(1234, 5), body: new Uint8Array(8) }, flow([headerRecord])]),
    );
    expect(error).toBeNull();
    expect(datagram!.samples.map((s) => s.kind)).toEqual(['unknown_sample', 'flow_sample']);
  });

  it('reads a structure that grew at the end and keeps the extra bytes (host_cpu without the 3 newer fields too)', () => {
    const w = new XdrWriter();
    const cpu = {
      loadOne: 1.5, loadFive: 1, loadFifteen: 0.5, procRun: 1, procTotal: 100, cpuNum: 4, cpuSpeed: 2000, uptime: 10,
      cpuUser: 1, cpuNice: 2, cpuSystem: 3, cpuIdle: 4, cpuWio: 5, cpuIntr: 6, cpuSintr: 7, interrupts: 8, contexts: 9,
      cpuSteal: undefined, cpuGuest: undefined, cpuGuestNice: undefined,
    };
    counterRecordDefs.host_cpu.struct.encode(w, cpu);
    const body68 = w.finish();
    expect(body68.length).toBe(68);
    const grown = new Uint8Array(68 + 12 + 8);
    grown.set(body68);
    grown.set([0, 0, 0, 11, 0, 0, 0, 12, 0, 0, 0, 13, 0xaa, 0xbb, 0xcc, 0xdd], 68);
    for (const body of [body68, grown]) {
      const { datagram, error } = decodeDatagram(
        datagramWith([
          { kind: 'counter_sample', tag: 4, sequence: 1, sourceIdClass: 2, sourceIdIndex: 1, records: [{ kind: 'unknown', tag: counterRecordDefs.host_cpu.tag, body }] },
        ]),
      );
      expect(error).toBeNull();
      const rec = (datagram!.samples[0] as { records: unknown[] }).records[0] as Record<string, unknown>;
      expect(rec.kind).toBe('host_cpu');
      expect(rec.cpuSintr).toBe(7);
      if (body === grown) {
        expect([rec.cpuSteal, rec.cpuGuest, rec.cpuGuestNice]).toEqual([11, 12, 13]);
        expect(Array.from(rec.trailing as Uint8Array)).toEqual([0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0]);
      } else expect(rec.cpuSteal).toBeUndefined();
    }
  });

  it('keeps a record whose fields overrun its own length as raw bytes with the reason, and goes on', () => {
    const short = { kind: 'unknown' as const, tag: flowRecordDefs.sampled_ipv4.tag, body: new Uint8Array(8) };
    const { datagram, error } = decodeDatagram(datagramWith([flow([short, headerRecord])]));
    expect(error).toBeNull();
    const recs = (datagram!.samples[0] as FlowSample).records;
    expect(recs[0]).toMatchObject({ kind: 'unknown', error: 'truncated' });
    expect(recs[1]!.kind).toBe('sampled_header');
  });

  it('types its errors and returns what decoded before them', () => {
    const good = datagramWith([flow([headerRecord]), flow([headerRecord])]);
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), 'truncated'],
      [good.subarray(0, 10), 'truncated'],
      [Uint8Array.from([0, 0, 0, 4, ...good.subarray(4)]), 'unsupported_version'],
      [Uint8Array.from([0, 5, 0, 1, ...good.subarray(4)]), 'bad_version'],
      [Uint8Array.from([...good.subarray(0, 4), 0, 0, 0, 3, ...good.subarray(8)]), 'bad_address_type'],
    ];
    for (const [bytes, reason] of cases) expect(decodeDatagram(bytes).error?.reason).toBe(reason);

    // sample count inflated: both samples are there, then too_many_samples
    const inflated = Uint8Array.from(good);
    new DataView(inflated.buffer).setUint32(24, 1_000_000);
    const r1 = decodeDatagram(inflated);
    expect(r1.error?.reason).toBe('too_many_samples');
    expect(r1.datagram!.samples).toHaveLength(2);

    // second sample's length pointing past the end: first sample kept
    const firstLen = new DataView(good.buffer).getUint32(32);
    const badLen = Uint8Array.from(good);
    new DataView(badLen.buffer).setUint32(36 + firstLen + 4, 0x7fffffff);
    const r2 = decodeDatagram(badLen);
    expect(r2.error?.reason).toBe('bad_length');
    expect(r2.datagram!.samples).toHaveLength(1);

    // record count inflated in the first sample: its record is kept, the second sample still decodes
    const recCount = Uint8Array.from(good);
    new DataView(recCount.buffer).setUint32(36 + 40, 500);
    const r3 = decodeDatagram(recCount);
    expect(r3.error?.reason).toBe('too_many_records');
    expect(r3.datagram!.samples).toHaveLength(2);
    expect((r3.datagram!.samples[0] as FlowSample).records).toHaveLength(1);
    expect((r3.datagram!.samples[1] as FlowSample).records).toHaveLength(1);
  });

  it('round-trips rtmetric and rtflow samples of every value type', () => {
    const samples: Sample[] = [
      {
        kind: 'rtmetric',
        tag: tagOf(4300, 1002),
        datasource: 'app1',
        metrics: [
          { name: 's', type: 0, value: 'text' },
          { name: 'c32', type: 1, value: 7 },
          { name: 'c64', type: 2, value: 1n << 40n },
          { name: 'g32', type: 3, value: 8 },
          { name: 'g64', type: 4, value: 9n },
          { name: 'f', type: 5, value: 0.25 },
          { name: 'd', type: 6, value: Math.PI },
        ],
      },
      {
        kind: 'rtflow',
        tag: tagOf(4300, 1003),
        datasource: 'web1',
        samplingRate: 10,
        samplePool: 0,
        fields: [
          { name: 'user', type: 0, value: 'user0' },
          { name: 'mac', type: 1, value: '020304050607' },
          { name: 'src', type: 2, value: '127.0.0.1' },
          { name: 'src6', type: 3, value: '::1' },
          { name: 'code', type: 4, value: -202 },
          { name: 'bytes', type: 5, value: 1099511627776n },
          { name: 'ratio', type: 6, value: 0.25 },
          { name: 'dur', type: 7, value: 3.142 },
        ],
      },
    ];
    const { datagram, error } = decodeDatagram(datagramWith(samples));
    expect(error).toBeNull();
    expect(datagram!.samples).toEqual(samples);
  });
});
