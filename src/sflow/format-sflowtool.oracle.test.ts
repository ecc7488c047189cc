// Our decoder, rendered as sflowtool renders it, against `sflowtool -r <capture> -J` for every
// capture of the corpus (../shared/testdata/captures/{hsflowd,public}, discovered by listing, so a
// capture added there is checked here too). Datagram by datagram, field by field, in order.
//
// sflowtool read a file: its `datagramSourceIP` is "-", `unixSecondsUTC` 0 and `localtime` the
// epoch, which the meta below reproduces (no source address, no receive time). `localtime` is
// compared as an instant (the zone sflowtool ran in is not ours to match). Where sflowtool gave up
// on a datagram (the corpus marks those `"_partial": "true"`), every field it printed must be ours
// too, and we must give up as well.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasOracle, isPartial, listCaptures, readSflowtoolOracle, type SflowtoolObject as OracleObject } from '../../test/oracle.js';
import { readCapture, type UdpDatagram } from '../ingest/pcap.js';
import { decodeDatagram } from './decode.js';
import { dropReasonCode, dropReasonName, sflowtoolDropReasonName } from './drop-reasons.js';
import { encodeDatagram } from './encode.js';
import type { Datagram } from './types.js';
import { counterRecordDefs } from './counter-records.js';
import {
  formatSflowtool,
  formatSflowtoolJson,
  formatSflowtoolPartial,
  printfFixed,
  type SflowtoolMeta,
  type SflowtoolObject,
  type SflowtoolValue,
} from './format-sflowtool.js';

const captures = listCaptures().filter((c) => hasOracle(c.name));

function metaOf(d: UdpDatagram): SflowtoolMeta & { bytes: Uint8Array } {
  return {
    size: d.payload.length,
    pcapTimestamp: { sec: Math.floor(d.timestampMicros / 1e6), usec: d.timestampMicros % 1e6 },
    bytes: d.payload,
  };
}

/** What the formatter prints for one captured datagram: the clean path or the partial one. */
function render(d: UdpDatagram): SflowtoolObject {
  const meta = metaOf(d);
  const result = decodeDatagram(d.payload);
  if (result.datagram !== null && result.error === null) return formatSflowtoolJson(result.datagram, meta);
  return formatSflowtoolPartial(result, meta);
}

/** "1970-01-01T00:00:00+0000" → epoch seconds, whatever the zone. */
function instant(text: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-])(\d\d)(\d\d)$/.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, sign, oh, om] = m;
  const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) / 1000;
  return utc - (sign === '-' ? -1 : 1) * (+oh! * 3600 + +om! * 60);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function kind(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/**
 * First difference between sflowtool's value and ours, as "path: detail", or null. With `subset`,
 * only what sflowtool printed is compared (ours may go on); otherwise keys and their order must
 * match too.
 */
function firstDifference(want: unknown, got: unknown, path: string, subset: boolean): string | null {
  if (kind(want) !== kind(got)) return `${path}: sflowtool ${show(want)}, ours ${show(got)}`;
  if (typeof want === 'string') return want === got ? null : `${path}: sflowtool ${show(want)}, ours ${show(got)}`;
  if (Array.isArray(want)) {
    const g = got as unknown[];
    if (!subset && want.length !== g.length) return `${path}: sflowtool has ${want.length} items, ours ${g.length}`;
    if (want.length > g.length) return `${path}: sflowtool has ${want.length} items, ours ${g.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(want[i], g[i], `${path}[${i}]`, subset);
      if (d) return d;
    }
    return null;
  }
  const w = want as Record<string, unknown>;
  const g = got as Record<string, unknown>;
  const wk = Object.keys(w).filter((k) => k !== '_partial');
  const gk = Object.keys(g).filter((k) => k !== '_partial');
  for (let i = 0; i < wk.length; i++) {
    const k = wk[i]!;
    const at = path ? `${path}.${k}` : k;
    if (!(k in g)) return `${at}: sflowtool ${show(w[k])}, ours has no such field`;
    if (gk[i] !== k) return `${at}: field order differs (sflowtool ${show(wk.slice(i, i + 3))}, ours ${show(gk.slice(i, i + 3))})`;
    if (k === 'localtime') {
      if (instant(w[k] as string) !== instant(g[k] as string)) return `${at}: sflowtool ${show(w[k])}, ours ${show(g[k])}`;
      continue;
    }
    const d = firstDifference(w[k], g[k], at, subset);
    if (d) return d;
  }
  if (!subset && gk.length > wk.length) return `${path || '(datagram)'}: ours has extra fields ${show(gk.slice(wk.length))}`;
  return null;
}

describe('sflowtool -J oracle', () => {
  it('covers every capture of the corpus', () => {
    expect(captures.length).toBe(listCaptures().length);
    expect(captures.length).toBeGreaterThan(0);
  });

  for (const capture of captures) {
    it(`${capture.group}/${capture.name}`, () => {
      const { datagrams } = readCapture(readFileSync(capture.path));
      const oracle = readSflowtoolOracle(capture.name);
      const failures: string[] = [];
      if (datagrams.length !== oracle.length) {
        failures.push(`${capture.name}: ${datagrams.length} UDP datagrams, sflowtool printed ${oracle.length}`);
      }
      const n = Math.min(datagrams.length, oracle.length);
      for (let i = 0; i < n && failures.length < 10; i++) {
        const want = oracle[i]! as OracleObject;
        const got = render(datagrams[i]!);
        const partial = isPartial(want);
        const diff = firstDifference(want, got, '', partial);
        if (diff) failures.push(`${capture.name} #${i}${partial ? ' (sflowtool gave up)' : ''} ${diff}`);
        else if (partial && got['_partial'] !== 'true') failures.push(`${capture.name} #${i}: sflowtool gave up, we did not`);
        else if (!partial && got['_partial'] !== undefined) failures.push(`${capture.name} #${i}: we gave up, sflowtool did not`);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('sflowtool formatter', () => {
  it('renders a decoded datagram the same without its bytes (re-encoded) as with them', () => {
    let checked = 0;
    for (const capture of captures) {
      const { datagrams } = readCapture(readFileSync(capture.path));
      for (const d of datagrams) {
        const result = decodeDatagram(d.payload);
        if (result.datagram === null || result.error !== null) continue;
        // The re-encoded bytes must be the datagram's for the comparison to mean anything.
        const reencoded = encodeDatagram(result.datagram);
        if (reencoded.length !== d.payload.length) continue;
        const { bytes: _bytes, ...rest } = metaOf(d);
        expect(formatSflowtoolJson(result.datagram, rest)).toEqual(formatSflowtoolJson(result.datagram, metaOf(d)));
        checked++;
        if (checked >= 400) return;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('never throws, whatever the bytes (mutated and truncated captures)', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let runs = 0;
    for (const capture of captures) {
      const { datagrams } = readCapture(readFileSync(capture.path));
      for (let k = 0; k < Math.min(datagrams.length, 25); k++) {
        const original = datagrams[rand(datagrams.length)]!.payload;
        for (let m = 0; m < 12; m++) {
          const b = Uint8Array.from(original);
          const flips = 1 + rand(4);
          for (let f = 0; f < flips; f++) b[rand(b.length)] = rand(256);
          const cut = rand(3) === 0 ? b.subarray(0, rand(b.length + 1)) : b;
          const out = formatSflowtool(cut, { size: cut.length });
          expect(typeof out['datagramSize']).toBe('string');
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThan(1000);
  });

  it('gives up where sflowtool does on versions and agent addresses', () => {
    const version9 = Uint8Array.of(0, 0, 0, 9, 0, 0, 0, 1);
    expect(formatSflowtool(version9)).toMatchObject({ datagramVersion: '9', _partial: 'true' });
    expect(formatSflowtool(version9)).not.toHaveProperty('agent');
    // Agent address type 0 ("unknown") stops sflowtool right after the version.
    const unknownAgent = Uint8Array.of(0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0);
    const out = formatSflowtool(unknownAgent);
    expect(out['_partial']).toBe('true');
    expect(out).not.toHaveProperty('agentSubId');
    // Too short for the version word: nothing but the preamble.
    expect(formatSflowtool(Uint8Array.of(0, 0))).not.toHaveProperty('datagramVersion');
  });

  it('decodes sFlow version 4 datagrams as sflowtool does', () => {
    // v4: version, agent (IPv4), sequence, uptime, 1 sample: flow sample with a sampled IPv4 struct.
    const words = [4, 1, 0x0a000001, 7, 1000, 1, /* FLOWSAMPLE */ 1, 42, 0x00000005, 128, 1280, 0, 3, 0x80000002, /* IPV4 */ 2];
    const ipv4 = [100, 6, 0xc0a80001, 0xc0a80002, 1234, 80, 0x12, 0];
    const ext = [1, /* switch */ 1, 10, 0, 20, 0];
    const bytes = new Uint8Array((words.length + ipv4.length + ext.length) * 4);
    const dv = new DataView(bytes.buffer);
    [...words, ...ipv4, ...ext].forEach((w, i) => dv.setUint32(i * 4, w >>> 0));
    const out = formatSflowtool(bytes);
    expect(out['_partial']).toBeUndefined();
    expect(out).toMatchObject({ datagramVersion: '4', agent: '10.0.0.1', samplesInPacket: '1' });
    expect(out['samples']).toEqual([
      {
        sampleType_tag: '0:1',
        sampleType: 'FLOWSAMPLE',
        sampleSequenceNo: '42',
        sourceId: '0:5',
        meanSkipCount: '128',
        samplePool: '1280',
        dropEvents: '0',
        inputPort: '3',
        outputPort: 'multiple 2',
        elements: [
          {
            flowSampleType: 'IPV4',
            sampledPacketSize: '100',
            IPSize: '100',
            srcIP: '192.168.0.1',
            dstIP: '192.168.0.2',
            IPProtocol: '6',
            IPTOS: '0',
            TCPSrcPort: '1234',
            TCPDstPort: '80',
            TCPFlags: '18',
          },
          { extendedType: 'SWITCH', in_vlan: '10', in_priority: '0', out_vlan: '20', out_priority: '0' },
        ],
      },
    ] satisfies SflowtoolValue[]);
  });

  it('formats numbers as printf does', () => {
    expect(printfFixed(0.0625, 3)).toBe('0.062'); // exact tie: to even
    expect(printfFixed(0.0675, 3)).toBe('0.068'); // not a tie in binary
    expect(printfFixed(-0, 2)).toBe('-0.00');
    expect(printfFixed(1e22, 1)).toBe('10000000000000000000000.0');
    expect(printfFixed(Math.fround(0.1), 3)).toBe('0.100');
    expect(printfFixed(2.5, 0)).toBe('2');
  });
});

describe('drop reasons', () => {
  it('names codes as sflowtool does, typos and all', () => {
    expect(dropReasonName(289)).toBe('unknown_l4');
    expect(dropReasonName(12)).toBe('dst_host_tos_unreacheable');
    expect(sflowtoolDropReasonName(33)).toBe('dev_hdr');
    expect(sflowtoolDropReasonName(332)).toBeUndefined();
    expect(dropReasonName(332)).toBe('dev_hdr');
    expect(dropReasonName(366)).toBe('tc_egress');
    expect(dropReasonName(372)).toBe('bgp_flowspec');
    expect(dropReasonName(16)).toBeUndefined();
    expect(dropReasonCode('dev_hdr')).toBe(332);
    expect(dropReasonCode('acl')).toBe(258);
  });
});

// Structures no capture holds: sflowtool's printing as its source reads (src/sflowtool.c), quirks included.
describe('sflowtool formatter on structures the corpus lacks', () => {
  const datagramOf = (samples: unknown[]): Datagram => ({
    version: 5,
    agentAddress: '192.0.2.9',
    agentAddressType: 1,
    subAgentId: 1,
    sequence: 1,
    uptime: 1,
    sampleCount: samples.length,
    samples: samples as Datagram['samples'],
  });
  const flowSample = (records: unknown[]) => ({
    kind: 'flow_sample',
    tag: 3,
    sequence: 1,
    sourceIdClass: 0,
    sourceIdIndex: 4,
    samplingRate: 100,
    samplePool: 1000,
    drops: 0,
    inputFormat: 0,
    input: 4,
    outputFormat: 9,
    output: 5,
    records,
  });
  const counterSample = (records: unknown[]) => ({ kind: 'counter_sample', tag: 4, sequence: 1, sourceIdClass: 0, sourceIdIndex: 4, records });
  const elementsOf = (out: SflowtoolObject, sample = 0) => ((out['samples'] as SflowtoolObject[])[sample]!['elements'] as SflowtoolObject[]);

  it('prints MPLS label stacks, VLAN tunnel stacks, AS paths and memcache keys the sflowtool way', () => {
    const out = formatSflowtoolJson(
      datagramOf([
        flowSample([
          { kind: 'extended_mpls', tag: 1006, nextHop: '10.0.0.1', inStack: [(100 << 12) | (1 << 8) | 64], outStack: [] },
          { kind: 'extended_vlantunnel', tag: 1012, stack: [0x81000064, 0x88a8e00a] },
          {
            kind: 'extended_gateway',
            tag: 1003,
            nextHop: '2001:db8::1',
            as: 65000,
            srcAs: 1,
            srcPeerAs: 2,
            dstAsPath: [
              { type: 2, asns: [10, 20] },
              { type: 1, asns: [30, 40] },
            ],
            communities: [],
            localPref: 100,
          },
          { kind: 'memcache_operation', tag: 2200, protocol: 1, cmd: 2, key: 'a b/c', nkeys: 1, valueBytes: 2, durationUs: 3, status: 4 },
        ]),
      ]),
    );
    expect(out['_partial']).toBeUndefined();
    const sample = (out['samples'] as SflowtoolObject[])[0]!;
    expect(sample['outputPort']).toBe(''); // interface format 9 prints nothing
    const [mpls, vlan, gateway, memcache] = elementsOf(out);
    expect(mpls).toEqual({ flowBlock_tag: '0:1006', extendedType: 'MPLS', mpls_nexthop: '10.0.0.1', mpls_input_stack: '100.0.1.64' });
    expect(vlan).toEqual({ flowBlock_tag: '0:1012', vlan_tunnel: '0x81000.0.100-0x88a87.0.10' });
    expect(gateway).toEqual({
      flowBlock_tag: '0:1003',
      extendedType: 'GATEWAY',
      bgp_nexthop: '2001:0db8:0000:0000:0000:0000:0000:0001',
      my_as: '65000',
      src_as: '1',
      src_peer_as: '2',
      dst_as_path: '10-20(30-40)',
      dst_as: '40',
      dst_peer_as: '10',
      BGP_localpref: '100',
    });
    expect(memcache!['memcache_op_key']).toBe('a+b%F2c');
  });

  it('prints SFP lanes twice over, percentages, and stops where record lengths disagree', () => {
    const lane = { laneIndex: 1, txBiasCurrent: 2, txPower: 3, txPowerMin: 4, txPowerMax: 5, txWavelength: 6, rxPower: 7, rxPowerMin: 8, rxPowerMax: 9, rxWavelength: 10 };
    const out = formatSflowtoolJson(
      datagramOf([
        counterSample([
          { kind: 'sfp', tag: 10, moduleId: 1, moduleTotalLanes: 1, moduleSupplyVoltage: 3300, moduleTemperature: -5, lanes: [lane] },
          { kind: 'processor', tag: 1001, cpu5s: -1, cpu1m: 1234, cpu5m: 5, totalMemory: 10n, freeMemory: 5n },
          { kind: 'pfc', tag: 11, requests: 1, indications: 2, pauseDuration: 3, stormDetected: 4, stormRestored: 5 },
        ]),
        counterSample([
          {
            kind: 'vdi_counters',
            tag: 2205,
            ...Object.fromEntries(Object.keys(counterRecordDefs.vdi_counters.struct.fields).map((name, i) => [name, i])),
          },
        ]),
      ]),
    );
    const [sfp, processor, pfc] = elementsOf(out);
    expect(sfp!['sfp_module_temperature']).toBe('4294967291');
    expect((sfp!['sfp_lanes'] as SflowtoolObject[])[0]).toMatchObject({
      index: '1',
      'sfp_lane_index.0': '1',
      'tx_power_uW.%u': '3',
      'sfp_lane_tx_power_uW.%u.0': '3',
      'rx_wavelength_nM.%u': '10',
      'sfp_lane_rx_wavelength_nM.%u.0': '10',
    });
    expect(processor).toMatchObject({ '5s_cpu': 'unknown', '1m_cpu': '12.34', '5m_cpu': '0.05' });
    expect(pfc).toEqual({ counterBlock_tag: '0:11' }); // sflowtool does not decode PFC
    // sflowtool reads 23 VDI counters from a 108-byte record, then gives up on the length.
    const vdi = elementsOf(out, 1)[0]!;
    expect(vdi['vdi_usb_tx_bytes']).toBe('22');
    expect(out['_partial']).toBe('true');
  });

  it('dissects 802.11 headers and swaps the IPv4 id bytes as sflowtool does', () => {
    const wifi = new Uint8Array(24);
    wifi[0] = 0x08; // data frame
    wifi[1] = 0x01; // toDS
    wifi.set([1, 1, 1, 1, 1, 1], 4);
    wifi.set([2, 2, 2, 2, 2, 2], 10);
    wifi.set([3, 3, 3, 3, 3, 3], 16);
    const ip = Uint8Array.from([0x45, 0, 0, 28, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 8, 0, 0, 0, 0, 0, 0, 0]);
    const out = formatSflowtoolJson(
      datagramOf([
        flowSample([
          { kind: 'sampled_header', tag: 1, headerProtocol: 15, frameLength: 100, stripped: 0, header: wifi },
          { kind: 'sampled_header', tag: 1, headerProtocol: 11, frameLength: 32, stripped: 4, header: ip },
        ]),
      ]),
    );
    const [w, v4] = elementsOf(out);
    expect(w).toMatchObject({ srcMAC: '020202020202', dstMAC: '030303030303', txMAC: '020202020202', rxMAC: '010101010101' });
    expect(v4).toMatchObject({ IPSize: '28', IPID: String(0x3412), IPProtocol: '1', ICMPType: '8', ICMPCode: '0' });
  });
});
