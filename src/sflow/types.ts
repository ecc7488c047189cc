// The decoded form of an sFlow v5 datagram (sflow_version_5.txt, sample_datagram_v5).
// Field names follow the spec and sflowtool; 64-bit counters are bigint, everything else number/string.

import type { DecodeErrorReason } from './xdr.js';
import type { KnownFlowRecord } from './flow-records.js';
import type { KnownCounterRecord } from './counter-records.js';

/** A record we have no decoder for (or whose fields overran its length): kept as raw bytes. */
export interface UnknownRecord {
  kind: 'unknown';
  tag: number;
  body: Uint8Array;
  /** Set when a known structure did not fit its declared length. */
  error?: DecodeErrorReason;
}

export type FlowRecord = KnownFlowRecord | UnknownRecord;
export type CounterRecord = KnownCounterRecord | UnknownRecord;

/**
 * interface / interface_expanded. format 0: ifIndex (0 unknown, 0x3FFFFFFF internal);
 * 1: discarded, value = reason; 2: multiple outputs, value = count (0 = unknown).
 */
export interface FlowSample {
  kind: 'flow_sample';
  /** 0:1 (compact) or 0:3 (expanded) */
  tag: number;
  sequence: number;
  sourceIdClass: number;
  sourceIdIndex: number;
  samplingRate: number;
  samplePool: number;
  drops: number;
  inputFormat: number;
  input: number;
  outputFormat: number;
  output: number;
  records: FlowRecord[];
}

export interface CounterSample {
  kind: 'counter_sample';
  /** 0:2 (compact) or 0:4 (expanded) */
  tag: number;
  sequence: number;
  sourceIdClass: number;
  sourceIdIndex: number;
  records: CounterRecord[];
}

/** sflow_drops.txt: discarded_packet (0:5). */
export interface DiscardSample {
  kind: 'discard_sample';
  tag: number;
  sequence: number;
  sourceIdClass: number;
  sourceIdIndex: number;
  drops: number;
  input: number;
  output: number;
  reason: number;
  records: FlowRecord[];
}

/** sFlow-RT custom metric types (4300:1002). */
export const RT_METRIC_TYPES = ['string', 'counter32', 'counter64', 'gauge32', 'gauge64', 'float', 'double'] as const;
/** sFlow-RT custom flow field types (4300:1003). */
export const RT_FLOW_TYPES = ['string', 'mac', 'ip', 'ip6', 'int32', 'int64', 'float', 'double'] as const;

export interface RtValue {
  name: string;
  /** index into RT_METRIC_TYPES / RT_FLOW_TYPES */
  type: number;
  value: string | number | bigint;
}

/** sFlow-RT custom metrics (4300:1002), sent by hsflowd's JSON module. */
export interface RtMetricSample {
  kind: 'rtmetric';
  tag: number;
  datasource: string;
  metrics: RtValue[];
}

/** sFlow-RT custom flow (4300:1003). */
export interface RtFlowSample {
  kind: 'rtflow';
  tag: number;
  datasource: string;
  samplingRate: number;
  samplePool: number;
  fields: RtValue[];
}

export interface UnknownSample {
  kind: 'unknown_sample';
  tag: number;
  body: Uint8Array;
}

export type Sample = FlowSample | CounterSample | DiscardSample | RtMetricSample | RtFlowSample | UnknownSample;

export interface Datagram {
  version: number;
  /** Agent address as text ('' when the agent sent type 0, unknown). */
  agentAddress: string;
  agentAddressType: number;
  subAgentId: number;
  sequence: number;
  uptime: number;
  /** The sample count the datagram claims (samples.length may be lower when it is broken). */
  sampleCount: number;
  samples: Sample[];
  /** Bytes after the last sample (some agents pad datagrams); kept so re-encoding is exact. */
  trailing?: Uint8Array;
}

export interface DecodeError {
  reason: DecodeErrorReason;
  /** Byte offset in the datagram where decoding stopped. */
  offset: number;
  detail: string;
}

/** What decoding a datagram yields: everything decoded before any fault, and the fault. */
export interface DecodeResult {
  /** null only when not even the header could be read. */
  datagram: Datagram | null;
  error: DecodeError | null;
}

export type { DecodeErrorReason };
