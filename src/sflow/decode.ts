// sFlow v5 datagram decoder (sflow_version_5.txt; sflow_drops.txt for 0:5; sFlow-RT 4300:1002/1003).
//
// Contract: never throws, always terminates, allocates O(datagram size). Every length and
// count is checked against the bytes that enclose it before anything is allocated. A fault
// inside one sample is contained: the sample keeps what decoded, the error is reported, and
// decoding resumes at the next sample (its length is known). A fault in the datagram framing
// stops decoding; what decoded before it is returned.

import { counterRecordDefs } from './counter-records.js';
import { flowRecordDefs, setFlowRecordListType, type RecordDef } from './flow-records.js';
import type { FieldType } from './schema.js';
import { tagOf } from './tags.js';
import type {
  CounterRecord,
  CounterSample,
  Datagram,
  DecodeError,
  DecodeResult,
  DiscardSample,
  FlowRecord,
  FlowSample,
  RtFlowSample,
  RtMetricSample,
  RtValue,
  Sample,
  UnknownRecord,
} from './types.js';
import { RT_FLOW_TYPES, RT_METRIC_TYPES } from './types.js';
import { DecodeFault, XdrReader, type XdrWriter } from './xdr.js';

export const SAMPLE_TAGS = {
  flowSample: tagOf(0, 1),
  counterSample: tagOf(0, 2),
  flowSampleExpanded: tagOf(0, 3),
  counterSampleExpanded: tagOf(0, 4),
  discardedPacket: tagOf(0, 5),
  rtMetric: tagOf(4300, 1002),
  rtFlow: tagOf(4300, 1003),
} as const;

/** Records nested inside records (flow 1016) are followed this deep at most. */
const MAX_NESTING = 4;

function index(defs: Record<string, RecordDef>): Map<number, RecordDef> {
  const m = new Map<number, RecordDef>();
  for (const d of Object.values(defs)) m.set(d.tag, d);
  return m;
}

export const FLOW_RECORDS: ReadonlyMap<number, RecordDef> = index(flowRecordDefs as unknown as Record<string, RecordDef>);
export const COUNTER_RECORDS: ReadonlyMap<number, RecordDef> = index(counterRecordDefs as unknown as Record<string, RecordDef>);

let nesting = 0;
/** Decoding is synchronous and not re-entrant, so one reader serves every datagram. */
const reader = new XdrReader(new Uint8Array(0));

function decodeRecord(r: XdrReader, defs: ReadonlyMap<number, RecordDef>): FlowRecord | CounterRecord {
  const tag = r.u32();
  const len = r.u32();
  const start = r.pos;
  if (len > r.end - start) r.fault('bad_length', `record ${tag >>> 12}:${tag & 0xfff} length ${len} exceeds ${r.end - start} bytes left`);
  const end = start + len;
  const def = defs.get(tag);
  let rec: FlowRecord | CounterRecord;
  if (def === undefined) {
    rec = { kind: 'unknown', tag, body: r.slice(start, end - start) };
  } else {
    const outerEnd = r.end;
    r.end = end;
    try {
      const known = def.struct.decode(r) as unknown as { trailing?: Uint8Array };
      // Structures grow at the end (V5 note): keep bytes we do not know so the record re-encodes exactly.
      if (r.pos < end) known.trailing = r.slice(r.pos, end - r.pos);
      rec = known as FlowRecord;
    } catch (e) {
      if (!(e instanceof DecodeFault)) throw e;
      if (e.reason === 'too_deep') throw e;
      // A known structure that does not fit its own length: keep its bytes, go on with the next record.
      rec = { kind: 'unknown', tag, body: r.slice(start, end - start), error: e.reason } satisfies UnknownRecord;
    } finally {
      r.end = outerEnd;
    }
  }
  // Records are padded to 4 bytes; tolerate a missing final pad at the end of the enclosing sample.
  r.pos = Math.min(start + ((len + 3) & ~3), r.end);
  if (r.padding !== null) for (let i = end; i < r.pos; i++) r.padding.push(i);
  return rec;
}

function decodeRecordsInto(r: XdrReader, defs: ReadonlyMap<number, RecordDef>, out: (FlowRecord | CounterRecord)[]): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    if (r.end - r.pos < 8) r.fault('too_many_records', `claims ${n} records, bytes end after ${i}`);
    out.push(decodeRecord(r, defs));
  }
}

/** Flow 1016 nests flow records: a field type for a record list of the flow context. */
const flowRecordListType: FieldType<unknown[]> = {
  kind: 'flow_record<>',
  minBytes: 4,
  decode(r) {
    if (nesting >= MAX_NESTING) r.fault('too_deep', 'nested flow records');
    nesting++;
    try {
      const out: FlowRecord[] = [];
      decodeRecordsInto(r, FLOW_RECORDS, out);
      return out;
    } finally {
      nesting--;
    }
  },
  encode(w: XdrWriter, v: unknown[]) {
    encodeRecordsHook(w, v as FlowRecord[], FLOW_RECORDS);
  },
};
setFlowRecordListType(flowRecordListType);

let encodeRecordsHook: (w: XdrWriter, records: (FlowRecord | CounterRecord)[], defs: ReadonlyMap<number, RecordDef>) => void = () => {
  throw new Error('encoder not loaded');
};
/** The encoder module registers itself here, so decode.ts does not import it. */
export function setRecordListEncoder(fn: typeof encodeRecordsHook): void {
  encodeRecordsHook = fn;
}

function decodeFlowSample(r: XdrReader, tag: number, expanded: boolean): FlowSample {
  const sequence = r.u32();
  let sourceIdClass: number;
  let sourceIdIndex: number;
  if (expanded) {
    sourceIdClass = r.u32();
    sourceIdIndex = r.u32();
  } else {
    const id = r.u32();
    sourceIdClass = id >>> 24;
    sourceIdIndex = id & 0xffffff;
  }
  const samplingRate = r.u32();
  const samplePool = r.u32();
  const drops = r.u32();
  let inputFormat: number;
  let input: number;
  let outputFormat: number;
  let output: number;
  if (expanded) {
    inputFormat = r.u32();
    input = r.u32();
    outputFormat = r.u32();
    output = r.u32();
  } else {
    const i = r.u32();
    const o = r.u32();
    inputFormat = i >>> 30;
    input = i & 0x3fffffff;
    outputFormat = o >>> 30;
    output = o & 0x3fffffff;
  }
  return {
    kind: 'flow_sample',
    tag,
    sequence,
    sourceIdClass,
    sourceIdIndex,
    samplingRate,
    samplePool,
    drops,
    inputFormat,
    input,
    outputFormat,
    output,
    records: [],
  };
}

function decodeCounterSample(r: XdrReader, tag: number, expanded: boolean): CounterSample {
  const sequence = r.u32();
  let sourceIdClass: number;
  let sourceIdIndex: number;
  if (expanded) {
    sourceIdClass = r.u32();
    sourceIdIndex = r.u32();
  } else {
    const id = r.u32();
    sourceIdClass = id >>> 24;
    sourceIdIndex = id & 0xffffff;
  }
  return { kind: 'counter_sample', tag, sequence, sourceIdClass, sourceIdIndex, records: [] };
}

function decodeDiscardSample(r: XdrReader, tag: number): DiscardSample {
  return {
    kind: 'discard_sample',
    tag,
    sequence: r.u32(),
    sourceIdClass: r.u32(),
    sourceIdIndex: r.u32(),
    drops: r.u32(),
    input: r.u32(),
    output: r.u32(),
    reason: r.u32(),
    records: [],
  };
}

/** Value encodings shared by rtmetric and rtflow; `kinds` maps the type number to a wire form. */
function readRtValue(r: XdrReader, form: string): string | number | bigint {
  switch (form) {
    case 'string':
      return r.string();
    case 'mac':
      return r.mac();
    case 'ip':
      return r.ipv4();
    case 'ip6':
      return r.ipv6();
    case 'counter32':
    case 'gauge32':
      return r.u32();
    case 'int32':
      return r.i32();
    case 'counter64':
    case 'gauge64':
    case 'int64':
      return r.u64();
    case 'float':
      return r.f32();
    case 'double':
      return r.f64();
    default:
      return r.fault('bad_length', `unknown value type ${form}`);
  }
}

function readRtValues(r: XdrReader, forms: readonly string[], out: RtValue[]): void {
  const n = r.count(12);
  for (let i = 0; i < n; i++) {
    const name = r.string();
    const type = r.u32();
    const form = forms[type];
    if (form === undefined) r.fault('bad_length', `value type ${type} of ${name} unknown`);
    out.push({ name, type, value: readRtValue(r, form) });
  }
}

function decodeRtMetric(r: XdrReader, tag: number): RtMetricSample {
  return { kind: 'rtmetric', tag, datasource: r.string(), metrics: [] };
}

function decodeRtFlow(r: XdrReader, tag: number): RtFlowSample {
  return { kind: 'rtflow', tag, datasource: r.string(), samplingRate: r.u32(), samplePool: r.u32(), fields: [] };
}

function decodeSampleInto(r: XdrReader, tag: number, out: Sample[]): void {
  switch (tag) {
    case SAMPLE_TAGS.flowSampleExpanded:
    case SAMPLE_TAGS.flowSample: {
      const s = decodeFlowSample(r, tag, tag === SAMPLE_TAGS.flowSampleExpanded);
      out.push(s);
      decodeRecordsInto(r, FLOW_RECORDS, s.records);
      return;
    }
    case SAMPLE_TAGS.counterSampleExpanded:
    case SAMPLE_TAGS.counterSample: {
      const s = decodeCounterSample(r, tag, tag === SAMPLE_TAGS.counterSampleExpanded);
      out.push(s);
      decodeRecordsInto(r, COUNTER_RECORDS, s.records);
      return;
    }
    case SAMPLE_TAGS.discardedPacket: {
      const s = decodeDiscardSample(r, tag);
      out.push(s);
      decodeRecordsInto(r, FLOW_RECORDS, s.records);
      return;
    }
    case SAMPLE_TAGS.rtMetric: {
      const s = decodeRtMetric(r, tag);
      out.push(s);
      readRtValues(r, RT_METRIC_TYPES, s.metrics);
      return;
    }
    case SAMPLE_TAGS.rtFlow: {
      const s = decodeRtFlow(r, tag);
      out.push(s);
      readRtValues(r, RT_FLOW_TYPES, s.fields);
      return;
    }
    default:
      out.push({ kind: 'unknown_sample', tag, body: r.slice(r.pos, r.end - r.pos) });
      r.pos = r.end;
  }
}

function asError(e: unknown): DecodeError {
  if (e instanceof DecodeFault) return { reason: e.reason, offset: e.offset, detail: e.detail };
  // A bug in a record decoder must not take the collector down; report it as a decode fault.
  return { reason: 'bad_length', offset: -1, detail: `internal: ${String(e)}` };
}

/**
 * Decode one sFlow datagram (the UDP payload). Never throws.
 * `padding`, when given, collects the offsets of XDR padding bytes (for round-trip checks).
 */
export function decodeDatagram(bytes: Uint8Array, padding: number[] | null = null): DecodeResult {
  const r = reader.reset(bytes);
  r.padding = padding;
  let datagram: Datagram | null = null;
  let error: DecodeError | null = null;
  nesting = 0;
  try {
    const version = r.u32();
    if (version !== 5) {
      r.pos = 0;
      if (version === 2 || version === 4) r.fault('unsupported_version', `sFlow version ${version}`);
      r.fault('bad_version', `version word 0x${version.toString(16)}`);
    }
    const agentAddressType = r.u32();
    let agentAddress: string;
    if (agentAddressType === 1) agentAddress = r.ipv4();
    else if (agentAddressType === 2) agentAddress = r.ipv6();
    else if (agentAddressType === 0) agentAddress = '';
    else {
      r.pos -= 4;
      return r.fault('bad_address_type', `agent address type ${agentAddressType}`);
    }
    const subAgentId = r.u32();
    const sequence = r.u32();
    const uptime = r.u32();
    const sampleCount = r.u32();
    datagram = { version, agentAddress, agentAddressType, subAgentId, sequence, uptime, sampleCount, samples: [] };
    const samples = datagram.samples;
    const datagramEnd = r.end;
    for (let i = 0; i < sampleCount; i++) {
      if (datagramEnd - r.pos < 8) {
        r.fault(r.pos === datagramEnd ? 'too_many_samples' : 'truncated', `claims ${sampleCount} samples, bytes end after ${i}`);
      }
      const tag = r.u32();
      const len = r.u32();
      const start = r.pos;
      if (len > datagramEnd - start) r.fault('bad_length', `sample ${tag >>> 12}:${tag & 0xfff} length ${len} exceeds ${datagramEnd - start} bytes left`);
      const end = start + len;
      r.end = end;
      try {
        decodeSampleInto(r, tag, samples);
      } catch (e) {
        error ??= asError(e);
      }
      r.end = datagramEnd;
      r.pos = Math.min(start + ((len + 3) & ~3), datagramEnd);
    }
    if (r.pos < datagramEnd) datagram.trailing = r.slice(r.pos, datagramEnd - r.pos);
  } catch (e) {
    error ??= asError(e);
  }
  return { datagram, error };
}
