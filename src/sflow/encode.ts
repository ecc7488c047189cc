// sFlow v5 encoder: the inverse of decode.ts, used by the simulator and the round-trip tests.
// decode(encode(d)) deep-equals d, and encode(decode(bytes)) reproduces well-formed bytes.

import { COUNTER_RECORDS, FLOW_RECORDS, SAMPLE_TAGS, setRecordListEncoder } from './decode.js';
import type { RecordDef } from './flow-records.js';
import type { CounterRecord, Datagram, FlowRecord, RtValue, Sample } from './types.js';
import { RT_FLOW_TYPES, RT_METRIC_TYPES } from './types.js';
import { XdrWriter } from './xdr.js';

function encodeRecords(w: XdrWriter, records: (FlowRecord | CounterRecord)[], defs: ReadonlyMap<number, RecordDef>): void {
  w.u32(records.length);
  for (const rec of records) {
    w.u32(rec.tag);
    const done = w.lengthPrefix();
    if (rec.kind === 'unknown') {
      w.raw(rec.body);
    } else {
      const def = defs.get(rec.tag);
      if (!def) throw new Error(`no encoder for record ${rec.kind} tag ${rec.tag}`);
      def.struct.encode(w, rec as never);
      if (rec.trailing) w.raw(rec.trailing);
    }
    w.pad();
    done();
  }
}
setRecordListEncoder(encodeRecords);

function writeRtValue(w: XdrWriter, form: string, v: RtValue['value']): void {
  switch (form) {
    case 'string':
      return w.string(String(v));
    case 'mac':
      return w.mac(String(v));
    case 'ip':
      return w.ipv4(String(v));
    case 'ip6':
      return w.ipv6(String(v));
    case 'counter32':
    case 'gauge32':
      return w.u32(Number(v));
    case 'int32':
      return w.i32(Number(v));
    case 'counter64':
    case 'gauge64':
    case 'int64':
      return w.u64(BigInt(v));
    case 'float':
      return w.f32(Number(v));
    case 'double':
      return w.f64(Number(v));
  }
  throw new Error(`unknown rt value form ${form}`);
}

function writeRtValues(w: XdrWriter, forms: readonly string[], values: RtValue[]): void {
  w.u32(values.length);
  for (const v of values) {
    w.string(v.name);
    w.u32(v.type);
    writeRtValue(w, forms[v.type] ?? '', v.value);
  }
}

function encodeSample(w: XdrWriter, s: Sample): void {
  w.u32(s.tag);
  const done = w.lengthPrefix();
  switch (s.kind) {
    case 'flow_sample': {
      const expanded = s.tag === SAMPLE_TAGS.flowSampleExpanded;
      w.u32(s.sequence);
      if (expanded) {
        w.u32(s.sourceIdClass);
        w.u32(s.sourceIdIndex);
      } else w.u32((s.sourceIdClass << 24) | (s.sourceIdIndex & 0xffffff));
      w.u32(s.samplingRate);
      w.u32(s.samplePool);
      w.u32(s.drops);
      if (expanded) {
        w.u32(s.inputFormat);
        w.u32(s.input);
        w.u32(s.outputFormat);
        w.u32(s.output);
      } else {
        w.u32((s.inputFormat << 30) | (s.input & 0x3fffffff));
        w.u32((s.outputFormat << 30) | (s.output & 0x3fffffff));
      }
      encodeRecords(w, s.records, FLOW_RECORDS);
      break;
    }
    case 'counter_sample': {
      w.u32(s.sequence);
      if (s.tag === SAMPLE_TAGS.counterSampleExpanded) {
        w.u32(s.sourceIdClass);
        w.u32(s.sourceIdIndex);
      } else w.u32((s.sourceIdClass << 24) | (s.sourceIdIndex & 0xffffff));
      encodeRecords(w, s.records, COUNTER_RECORDS);
      break;
    }
    case 'discard_sample':
      w.u32(s.sequence);
      w.u32(s.sourceIdClass);
      w.u32(s.sourceIdIndex);
      w.u32(s.drops);
      w.u32(s.input);
      w.u32(s.output);
      w.u32(s.reason);
      encodeRecords(w, s.records, FLOW_RECORDS);
      break;
    case 'rtmetric':
      w.string(s.datasource);
      writeRtValues(w, RT_METRIC_TYPES, s.metrics);
      break;
    case 'rtflow':
      w.string(s.datasource);
      w.u32(s.samplingRate);
      w.u32(s.samplePool);
      writeRtValues(w, RT_FLOW_TYPES, s.fields);
      break;
    case 'unknown_sample':
      w.raw(s.body);
      break;
  }
  w.pad();
  done();
}

/** Encode a datagram. `sampleCount` is taken from `samples.length`. */
export function encodeDatagram(d: Omit<Datagram, 'sampleCount'> & { sampleCount?: number }, w = new XdrWriter()): Uint8Array {
  w.u32(d.version ?? 5);
  w.address(d.agentAddress);
  w.u32(d.subAgentId);
  w.u32(d.sequence);
  w.u32(d.uptime);
  w.u32(d.samples.length);
  for (const s of d.samples) encodeSample(w, s);
  if (d.trailing) w.raw(d.trailing);
  return w.finish();
}
