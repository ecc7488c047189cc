// Test helpers: feed captures into an in-process engine on capture time, and read the sflowtool
// oracle's counter samples (values the tests compute expectations from — never our decoder).

import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/engine/clock.js';
import { Engine, type EngineConfig } from '../../src/engine/engine.js';
import { CaptureReader, type UdpDatagram } from '../../src/ingest/pcap.js';
import { isPartial, listCaptures, readSflowtoolOracle, sflowtoolPcapTimestampMicros, type SflowtoolObject } from '../oracle.js';

export function capturePath(name: string): string {
  const c = listCaptures().find((x) => x.name === name);
  if (!c) throw new Error(`no capture ${name}`);
  return c.path;
}

export function loadDatagrams(name: string): UdpDatagram[] {
  return [...new CaptureReader(readFileSync(capturePath(name)))];
}

export interface Replayed {
  engine: Engine;
  clock: ManualClock;
  datagrams: UdpDatagram[];
  /** Capture time (ms) of the last datagram fed. */
  lastMs: number;
}

/** Feed a capture (optionally only datagrams up to `untilMs`) into a fresh engine on capture time. */
export function replay(name: string, opts: { untilMs?: number; config?: Partial<EngineConfig> } = {}): Replayed {
  const datagrams = loadDatagrams(name);
  const clock = new ManualClock(datagrams.length > 0 ? datagrams[0]!.timestampMicros / 1000 : 0);
  const engine = new Engine(clock, opts.config);
  let lastMs = clock.now();
  for (const d of datagrams) {
    const t = d.timestampMicros / 1000;
    if (opts.untilMs !== undefined && t > opts.untilMs) break;
    clock.set(t);
    engine.ingest(d.payload, d.srcAddress, t);
    lastMs = t;
  }
  return { engine, clock, datagrams, lastMs };
}

/** One counter sample as sflowtool printed it. */
export interface OracleCounterSample {
  /** Capture time, ms. */
  tMs: number;
  agent: string;
  /** `class:index` as sflowtool prints it. */
  sourceId: string;
  /** sFlow-RT data-source id: `<index>` for class 0, `<class>.<index>` otherwise. */
  ds: string;
  seq: number;
  /** Counter blocks by tag (`0:2003`). */
  blocks: Map<string, SflowtoolObject>;
}

export function dsId(sourceId: string): string {
  const [cls, idx] = sourceId.split(':');
  return cls === '0' ? idx! : `${cls}.${idx}`;
}

export function oracleCounterSamples(name: string): OracleCounterSample[] {
  const out: OracleCounterSample[] = [];
  for (const d of readSflowtoolOracle(name)) {
    if (isPartial(d)) continue;
    const t = sflowtoolPcapTimestampMicros(d) / 1000;
    for (const s of (d['samples'] ?? []) as SflowtoolObject[]) {
      const tag = s['sampleType_tag'];
      if (tag !== '0:2' && tag !== '0:4') continue;
      const blocks = new Map<string, SflowtoolObject>();
      for (const e of (s['elements'] ?? []) as SflowtoolObject[]) blocks.set(e['counterBlock_tag'] as string, e);
      const sourceId = s['sourceId'] as string;
      out.push({ tMs: t, agent: d['agent'] as string, sourceId, ds: dsId(sourceId), seq: Number(s['sampleSequenceNo']), blocks });
    }
  }
  return out;
}

/** The counter samples of one (agent, ds), in order. */
export function samplesOf(all: OracleCounterSample[], agent: string, ds: string): OracleCounterSample[] {
  return all.filter((s) => s.agent === agent && s.ds === ds);
}

/** Number of a block field. */
export function n(o: SflowtoolObject | undefined, field: string): number {
  const v = o?.[field];
  if (typeof v !== 'string') throw new Error(`no field ${field}`);
  return Number(v);
}

/** Per-second rate of a counter field between two samples (32-bit wrap aware). */
export function rate(a: OracleCounterSample, b: OracleCounterSample, tag: string, field: string, bits: 32 | 64 = 32): number {
  let d = n(b.blocks.get(tag), field) - n(a.blocks.get(tag), field);
  if (d < 0 && bits === 32) d += 2 ** 32;
  return (d * 1000) / (b.tMs - a.tMs);
}
