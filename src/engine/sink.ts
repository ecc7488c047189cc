// What the ingest pipeline hands to the components that consume samples (metrics store, flow
// engine, ...). Everything here is called synchronously on the hot path: no await, no logging,
// no retaining of `ctx` (it is reused for the next datagram) or of views into the datagram bytes.

import type { AgentState, DataSourceState, RemovalReason } from './agents.js';
import type { CounterSample, Datagram, DiscardSample, FlowSample, RtFlowSample, RtMetricSample } from '../sflow/types.js';

/** The datagram being dispatched. One object, reused: read it during the call, never keep it. */
export interface DatagramContext {
  /** The agent (its address is `agent.address`). */
  agent: AgentState;
  /** UDP source address of the datagram (IPv4-mapped IPv6 addresses are given as IPv4). */
  source: string;
  /** Engine time of arrival (ms since the epoch; capture time when replaying a file). */
  nowMs: number;
  datagram: Datagram;
}

/**
 * A consumer of decoded samples. Every method is optional; the pipeline calls only those a sink
 * has. Samples a data source's sequence number marks as duplicates are not dispatched; late
 * (out-of-order) counter samples are not dispatched either (they would turn counters back).
 */
export interface SampleSink {
  /** A flow sample (0:1 / 0:3). `ds` carries the declared and effective sampling rates. */
  flowSample?(ctx: DatagramContext, sample: FlowSample, ds: DataSourceState): void;
  /** A counter sample (0:2 / 0:4). */
  counterSample?(ctx: DatagramContext, sample: CounterSample, ds: DataSourceState): void;
  /** A discarded-packet notification (0:5, sflow_drops.txt). */
  discardSample?(ctx: DatagramContext, sample: DiscardSample, ds: DataSourceState): void;
  /** sFlow-RT custom metrics (4300:1002); `ds` is the sender-named data source. */
  rtMetric?(ctx: DatagramContext, sample: RtMetricSample, ds: DataSourceState): void;
  /** sFlow-RT custom flow (4300:1003). */
  rtFlow?(ctx: DatagramContext, sample: RtFlowSample, ds: DataSourceState): void;
  /** The agent left the tables (silent too long, or evicted): drop everything kept for it. */
  agentRemoved?(agent: AgentState, reason: RemovalReason): void;
  /** One data source left the tables. */
  dataSourceRemoved?(ds: DataSourceState, reason: RemovalReason): void;
  /** Periodic housekeeping, off the hot path (every few seconds). */
  sweep?(nowMs: number): void;
}
