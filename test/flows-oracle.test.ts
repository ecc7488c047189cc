// The flow engine against independent decoders, on real captures replayed on capture time:
//  - logged totals per (ipsource, ipdestination, ipprotocol) equal the totals computed from the
//    sflowtool oracle: Σ frame length × sampling rate, exactly;
//  - frames per 5-tuple equal pmacct sfacctd's aggregation (PACKETS × sampling rate);
//  - the `stack` of every sample agrees with the protocols sflowtool reports for it.
// Expectations come from the oracle files only, never from our decoder.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { FlowEngine, type FlowEngineConfig } from '../src/engine/flows/engine.js';
import { loadDatagrams } from './helpers/engine.js';
import { hasOracle, isPartial, listCaptures, oraclePath, readSflowtoolOracle, type SflowtoolObject } from './oracle.js';

/** Replay a capture into a fresh engine with these flows; returns the flow engine after the replay. */
function replayWith(capture: string, specs: Record<string, Record<string, unknown>>, config: Partial<FlowEngineConfig> = {}): FlowEngine {
  const dgs = loadDatagrams(capture);
  const clock = new ManualClock(dgs.length > 0 ? dgs[0]!.timestampMicros / 1000 : 0);
  const engine = new Engine(clock);
  const fe = new FlowEngine(engine, config);
  for (const [name, spec] of Object.entries(specs)) fe.setFlow(name, spec);
  for (const d of dgs) {
    const t = d.timestampMicros / 1000;
    clock.set(t);
    engine.ingest(d.payload, d.srcAddress, t);
  }
  return fe;
}

/** Totals per key of a logged flow: every open record is flushed (the flow is deleted) first. */
function totals(fe: FlowEngine, name: string): Map<string, number> {
  fe.deleteFlow(name);
  const out = new Map<string, number>();
  for (const r of fe.flows({ name, maxFlows: 1_000_000 })) out.set(r.flowKeys, (out.get(r.flowKeys) ?? 0) + r.value);
  return out;
}

const LOGGED = { log: true, activeTimeout: 86_400, t: 10 };

function headerBytes(e: SflowtoolObject): number[] {
  return String(e['headerBytes']).split('-').map((h) => parseInt(h, 16));
}

/** Whether the sampled header's outer IPv4 header has a valid checksum (sFlow-RT leaves it undecoded otherwise). */
function ipv4ChecksumOk(e: SflowtoolObject): boolean {
  const b = headerBytes(e);
  let off = 0;
  if (e['headerProtocol'] === '1') {
    off = 14;
    while (off >= 2 && ((b[off - 2] === 0x81 && b[off - 1] === 0x00) || (b[off - 2] === 0x88 && b[off - 1] === 0xa8))) off += 4;
  }
  const ihl = ((b[off] ?? 0) & 15) * 4;
  if (ihl < 20 || off + ihl > b.length) return false;
  let sum = 0;
  for (let i = off; i < off + ihl; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

interface OracleSample {
  sample: SflowtoolObject;
  /** sFlow-RT's effective sampling rate for this sample (EWMA of the sample-pool growth). */
  rate: number;
}

/**
 * The flow samples of a capture as sflowtool printed them, each with the effective sampling rate
 * sFlow-RT would scale it by: per (agent, source id), the declared rate for the first sample,
 * after a rate change or a sequence restart, else R ← R + 0.02 · (Δpool − R). A sample that
 * arrives late (its sequence number up to 2 behind: seqno.maxoutoforder) keeps the current R;
 * further behind is a restart. A jump of 20 or more (seqno.maxdelta) restarts the estimate and
 * the sample is not counted, as sFlow-RT does. Duplicates (same sequence number) are not counted.
 */
function oracleFlowSamples(capture: string): OracleSample[] {
  const out: OracleSample[] = [];
  const state = new Map<string, { seq: number; pool: number; declared: number; r: number }>();
  for (const d of readSflowtoolOracle(capture)) {
    if (isPartial(d)) continue;
    for (const s of (d['samples'] ?? []) as SflowtoolObject[]) {
      const tag = s['sampleType_tag'];
      if (tag !== '0:1' && tag !== '0:3') continue;
      const key = `${d['agent']} ${s['sourceId']}`;
      const seq = Number(s['sampleSequenceNo']);
      const pool = Number(s['samplePool']);
      const declared = Number(s['meanSkipCount']);
      const st = state.get(key);
      if (st === undefined || seq < st.seq - 2) {
        state.set(key, { seq, pool, declared, r: declared });
        out.push({ sample: s, rate: declared });
        continue;
      }
      if (seq === st.seq) continue; // duplicate
      if (seq < st.seq) {
        out.push({ sample: s, rate: st.r }); // late: counted at the current rate
        continue;
      }
      if (seq - st.seq >= 20) {
        // a resync (seqno.maxdelta): the estimate starts again and the sample is not counted
        state.set(key, { seq, pool, declared, r: declared });
        continue;
      }
      const r = declared !== st.declared || pool === 0 ? declared : st.r + 0.02 * (((pool - st.pool) >>> 0) - st.r);
      state.set(key, { seq, pool, declared, r });
      out.push({ sample: s, rate: r });
    }
  }
  return out;
}

/**
 * The element a sample's packet attributes come from: the sampled header when there is one (a
 * sampled_ipv4 record next to it is not used), else the sampled_ipv4 record.
 */
function packetElement(s: SflowtoolObject): SflowtoolObject | undefined {
  const els = (s['elements'] ?? []) as SflowtoolObject[];
  return els.find((e) => e['flowBlock_tag'] === '0:1') ?? els.find((e) => e['flowBlock_tag'] === '0:3');
}

function elements(s: SflowtoolObject): SflowtoolObject[] {
  return (s['elements'] ?? []) as SflowtoolObject[];
}

const FLOW_CAPTURES = listCaptures()
  .filter((c) => hasOracle(c.name) && c.name !== 'hsflowd-tunnels-sample.pcap')
  .filter((c) => oracleFlowSamples(c.name).some((o) => elements(o.sample).some((e) => e['srcIP'] !== undefined)));

describe('logged totals per key equal the sflowtool oracle', () => {
  it('covers hsflowd-flows and the public captures with IPv4 flow samples', () => {
    expect(FLOW_CAPTURES.map((c) => c.name)).toContain('hsflowd-flows.pcap');
    expect(FLOW_CAPTURES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(FLOW_CAPTURES.map((c) => [c.name]))('%s', (capture) => {
    const expected = new Map<string, number>();
    let integral = true;
    for (const { sample, rate } of oracleFlowSamples(capture)) {
      const e = packetElement(sample);
      if (e === undefined || e['srcIP'] === undefined) continue;
      if (e['flowBlock_tag'] === '0:1' && !ipv4ChecksumOk(e)) continue; // sFlow-RT (and we) do not decode such headers
      const key = `${e['srcIP']},${e['dstIP']},${e['IPProtocol']}`;
      expected.set(key, (expected.get(key) ?? 0) + Number(e['sampledPacketSize']) * rate);
      if (!Number.isInteger(rate)) integral = false;
    }
    const ours = totals(replayWith(capture, { pair: { keys: 'ipsource,ipdestination,ipprotocol', value: 'bytes', ...LOGGED } }), 'pair');
    expect([...ours.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, v] of expected) {
      if (integral) expect(ours.get(k), k).toBe(v);
      else expect(Math.abs(ours.get(k)! - v) / v, k).toBeLessThan(1e-12);
    }
  });

  it('hsflowd-flows with the sFlow-RT record timing too (records end at active timeouts and sweeps; totals are unchanged)', () => {
    const fe = replayWith('hsflowd-flows.pcap', { pair: { keys: 'ipsource,ipdestination,ipprotocol', value: 'bytes', log: true, t: 10 } }, { flowTimeoutMs: 0 });
    expect(fe.flows({ name: 'pair', maxFlows: 1_000_000 }).length).toBeGreaterThan(5);
    const sum = [...totals(fe, 'pair').values()].reduce((a, v) => a + v, 0);
    const expected = oracleFlowSamples('hsflowd-flows.pcap').reduce((a, { sample, rate }) => a + elements(sample).filter((e) => e['srcIP'] !== undefined).reduce((b, e) => b + Number(e['sampledPacketSize']) * rate, 0), 0);
    expect(sum).toBe(expected);
  });
});

describe('frames per 5-tuple equal sfacctd (PACKETS × sampling rate)', () => {
  it('hsflowd-flows', () => {
    const csv = readFileSync(oraclePath('hsflowd-flows.pcap', 'sfacctd.flows.csv'), 'utf8').trim().split('\n');
    const head = csv[0]!.split(',');
    const col = (row: string[], name: string) => row[head.indexOf(name)]!;
    const protoNumber: Record<string, string> = { icmp: '1', tcp: '6', udp: '17', 'ipv6-icmp': '58' };
    const rates = new Set(oracleFlowSamples('hsflowd-flows.pcap').map((o) => o.rate));
    expect([...rates]).toEqual([2]); // one consistent sampling rate: frames = PACKETS × 2
    const expected = new Map<string, number>();
    for (const line of csv.slice(1)) {
      const row = line.split(',');
      const key = [col(row, 'SRC_IP'), col(row, 'DST_IP'), col(row, 'SRC_PORT'), col(row, 'DST_PORT'), protoNumber[col(row, 'PROTOCOL')]].join(',');
      expected.set(key, (expected.get(key) ?? 0) + Number(col(row, 'PACKETS')) * 2);
    }
    const keys = 'or:ipsource:ip6source,or:ipdestination:ip6destination,null:[or:tcpsourceport:udpsourceport]:0,null:[or:tcpdestinationport:udpdestinationport]:0,or:ipprotocol:ip6nexthdr';
    const ours = totals(replayWith('hsflowd-flows.pcap', { tuple: { keys, value: 'frames', ...LOGGED } }), 'tuple');
    expect(ours.size).toBe(expected.size);
    for (const [k, v] of expected) expect(ours.get(k), k).toBe(v);
  });
});

describe('the stack of each sample agrees with the protocols sflowtool reports', () => {
  const NEXT: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmp6', '47': 'gre', '4': 'ip', '41': 'ip6' };
  /** The stack up to the protocol after the outer network header, from sflowtool's fields. */
  function expectedPrefix(e: SflowtoolObject): string | null {
    const hp = e['headerProtocol'];
    const net = e['srcIP'] !== undefined ? 'ip' : e['srcIP6'] !== undefined ? 'ip6' : null;
    if (net === null || (net === 'ip' && !ipv4ChecksumOk(e))) return null;
    const next = NEXT[String(e['IPProtocol'])];
    if (next === undefined) return null;
    const l2 = hp === '1' ? (e['decodedVLAN'] !== undefined ? 'eth.q.' : 'eth.') : hp === '11' || hp === '12' ? '' : null;
    return l2 === null ? null : `${l2}${net}.${next}`;
  }
  /** Our stack cut the same way: up to the token after the first ip/ip6 token. */
  function cut(stack: string): string {
    const t = stack.split('.');
    const i = t.findIndex((x) => x === 'ip' || x === 'ip6');
    return i < 0 || i + 1 >= t.length ? stack : t.slice(0, i + 2).join('.');
  }

  const captures = listCaptures().filter((c) => hasOracle(c.name) && oracleFlowSamples(c.name).some((o) => elements(o.sample).some((e) => e['flowBlock_tag'] === '0:1' && expectedPrefix(e) !== null)));

  it.each(captures.map((c) => [c.name]))('%s', (capture) => {
    // frames per class: each sample's sampling rate (as sFlow-RT scales it), by the class its
    // sflowtool fields give, against our stacks cut the same way
    const expected = new Map<string, number>();
    for (const { sample, rate } of oracleFlowSamples(capture)) {
      for (const e of elements(sample)) {
        if (e['flowBlock_tag'] !== '0:1') continue;
        const p = expectedPrefix(e);
        if (p !== null) expected.set(p, (expected.get(p) ?? 0) + rate);
      }
    }
    const ours = new Map<string, number>();
    for (const [stack, frames] of totals(replayWith(capture, { stacks: { keys: 'stack', value: 'frames', ...LOGGED } }), 'stacks')) {
      const p = cut(stack);
      ours.set(p, (ours.get(p) ?? 0) + frames);
    }
    expect(expected.size, capture).toBeGreaterThan(0);
    for (const [p, v] of expected) expect(Math.abs((ours.get(p) ?? 0) - v) / v, `${capture} ${p}: ours ${ours.get(p)}, sflowtool ${v}`).toBeLessThan(1e-9);
  });
});
