// The ingest pipeline: bytes in, decoded once, accounted, dispatched to the sinks.
//
// `onDatagram` is the UDP hot path: synchronous, no await, no logging, no allocation beyond what
// decoding needs. It never throws: every fault is counted by reason (IngestStats.badInput).

import { decodeDatagram } from '../sflow/decode.js';
import type { DecodeErrorReason } from '../sflow/types.js';
import type { AgentRegistry, AgentState, DataSourceState, RemovalReason } from './agents.js';
import { SeqVerdict } from './sequence.js';
import { DEFAULT_SOURCE_CACHE_SIZE, SourceFilter } from './source-filter.js';
import type { DatagramContext, SampleSink } from './sink.js';

/** Why a datagram (or part of it) was not taken in full. */
export type BadInputReason =
  | DecodeErrorReason
  /** Larger than `maxDatagramBytes`: discarded without decoding. */
  | 'too_large'
  /** From a UDP source address outside `agentsAllow` (--agents-allow): discarded without decoding. */
  | 'source_not_allowed'
  /** A zero-length UDP payload. */
  | 'empty'
  /** A sample whose source class cannot name a data source. */
  | 'bad_source_id'
  /** A sample type we do not decode (counted, skipped). */
  | 'unknown_sample'
  /** A sink threw while handling the datagram (a bug; the datagram's remaining samples are skipped). */
  | 'internal_error';

export const BAD_INPUT_REASONS: readonly BadInputReason[] = [
  'truncated',
  'bad_version',
  'unsupported_version',
  'bad_address_type',
  'bad_length',
  'too_many_samples',
  'too_many_records',
  'too_deep',
  'too_large',
  'source_not_allowed',
  'empty',
  'bad_source_id',
  'unknown_sample',
  'internal_error',
];

export interface IngestStats {
  /** Every datagram handed to the pipeline (sFlow-RT `sFlowDatagramsReceived`). */
  datagrams: number;
  bytes: number;
  /** Datagrams with a decode fault other than the version (sFlow-RT `sFlowParseErrors`). */
  parseErrors: number;
  /** Datagrams that are not sFlow v5: other sFlow versions, NetFlow, anything (sFlow-RT `sFlowUnsupportedVersion`). */
  unsupportedVersion: number;
  /** Datagrams over `maxDatagramBytes` (sFlow-RT `sFlowDatagramsTooLarge`). */
  tooLarge: number;
  /** Datagrams received but not processed (too large, or from a source outside `agentsAllow`). */
  discarded: number;
  flowSamples: number;
  counterSamples: number;
  discardSamples: number;
  rtMetricSamples: number;
  rtFlowSamples: number;
  /** Samples not dispatched because their sequence number marked them duplicate. */
  duplicateSamples: number;
  /** Counter samples not dispatched because they arrived after a newer one. */
  lateCounterSamples: number;
  badInput: Record<BadInputReason, number>;
}

export interface PipelineConfig {
  /** Datagrams larger than this are counted and discarded. Default 65535 (no limit below UDP's). */
  maxDatagramBytes: number;
  /** Accept datagrams only from UDP sources inside these CIDRs; empty = from anywhere. */
  agentsAllow: readonly string[];
  /** Verdicts of `agentsAllow` cached per source address at most. */
  sourceCacheSize: number;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = { maxDatagramBytes: 65535, agentsAllow: [], sourceCacheSize: DEFAULT_SOURCE_CACHE_SIZE };

function newStats(): IngestStats {
  const badInput = {} as Record<BadInputReason, number>;
  for (const r of BAD_INPUT_REASONS) badInput[r] = 0;
  return {
    datagrams: 0,
    bytes: 0,
    parseErrors: 0,
    unsupportedVersion: 0,
    tooLarge: 0,
    discarded: 0,
    flowSamples: 0,
    counterSamples: 0,
    discardSamples: 0,
    rtMetricSamples: 0,
    rtFlowSamples: 0,
    duplicateSamples: 0,
    lateCounterSamples: 0,
    badInput,
  };
}

export class IngestPipeline {
  readonly stats: IngestStats = newStats();
  readonly config: PipelineConfig;
  /** The `agentsAllow` check, or null when every source is accepted. */
  readonly sourceFilter: SourceFilter | null;
  private readonly sinks: SampleSink[] = [];
  private flowSinks: SampleSink[] = [];
  private counterSinks: SampleSink[] = [];
  private discardSinks: SampleSink[] = [];
  private rtMetricSinks: SampleSink[] = [];
  private rtFlowSinks: SampleSink[] = [];
  private readonly ctx: DatagramContext = { agent: null as unknown as AgentState, source: '', nowMs: 0, datagram: null as never };

  constructor(
    readonly registry: AgentRegistry,
    config: Partial<PipelineConfig> = {},
  ) {
    this.config = { ...DEFAULT_PIPELINE_CONFIG, ...config };
    this.sourceFilter = this.config.agentsAllow.length > 0 ? new SourceFilter(this.config.agentsAllow, this.config.sourceCacheSize) : null;
    registry.addListener({
      agentRemoved: (a, reason) => this.agentRemoved(a, reason),
      dataSourceRemoved: (ds, reason) => this.dataSourceRemoved(ds, reason),
    });
  }

  /** Register a consumer of samples. Sinks are called in registration order. */
  addSink(sink: SampleSink): void {
    this.sinks.push(sink);
    if (sink.flowSample) this.flowSinks.push(sink);
    if (sink.counterSample) this.counterSinks.push(sink);
    if (sink.discardSample) this.discardSinks.push(sink);
    if (sink.rtMetric) this.rtMetricSinks.push(sink);
    if (sink.rtFlow) this.rtFlowSinks.push(sink);
  }

  removeSink(sink: SampleSink): void {
    const drop = (l: SampleSink[]) => l.filter((s) => s !== sink);
    const i = this.sinks.indexOf(sink);
    if (i >= 0) this.sinks.splice(i, 1);
    this.flowSinks = drop(this.flowSinks);
    this.counterSinks = drop(this.counterSinks);
    this.discardSinks = drop(this.discardSinks);
    this.rtMetricSinks = drop(this.rtMetricSinks);
    this.rtFlowSinks = drop(this.rtFlowSinks);
  }

  /**
   * Take one datagram: `bytes` is the UDP payload, `source` the UDP source address, `nowMs` the
   * engine time of arrival. Synchronous; never throws; keeps no reference to `bytes`.
   */
  onDatagram(bytes: Uint8Array, source: string, nowMs: number): void {
    const st = this.stats;
    const len = bytes.length;
    st.datagrams++;
    st.bytes += len;
    // Before anything else: whoever is not allowed to talk costs us no decoding at all.
    const filter = this.sourceFilter;
    if (filter !== null && !filter.allows(source)) {
      st.discarded++;
      st.badInput.source_not_allowed++;
      return;
    }
    if (len > this.config.maxDatagramBytes) {
      st.tooLarge++;
      st.discarded++;
      st.badInput.too_large++;
      return;
    }
    if (len === 0) {
      st.unsupportedVersion++;
      st.badInput.empty++;
      return;
    }
    const { datagram, error } = decodeDatagram(bytes);
    if (error !== null) {
      st.badInput[error.reason]++;
      if (error.reason === 'bad_version' || error.reason === 'unsupported_version') st.unsupportedVersion++;
      else st.parseErrors++;
    }
    if (datagram === null) return;
    try {
      this.dispatch(datagram, len, source, nowMs);
    } catch {
      st.badInput.internal_error++;
    }
  }

  private dispatch(d: NonNullable<ReturnType<typeof decodeDatagram>['datagram']>, len: number, source: string, now: number): void {
    const reg = this.registry;
    const st = this.stats;
    const agent = reg.datagram(d.agentAddress === '' ? source : d.agentAddress, d.subAgentId, d.sequence, d.uptime, source, len, now);
    const ctx = this.ctx;
    ctx.agent = agent;
    ctx.source = source;
    ctx.nowMs = now;
    ctx.datagram = d;
    const samples = d.samples;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      switch (s.kind) {
        case 'flow_sample': {
          st.flowSamples++;
          const ds = reg.dataSource(agent, s.sourceIdClass, s.sourceIdIndex, now);
          if (ds === null) {
            st.badInput.bad_source_id++;
            break;
          }
          const v = reg.flowSample(ds, s.sequence, s.samplingRate, s.samplePool, s.drops);
          if (v === SeqVerdict.Duplicate) {
            st.duplicateSamples++;
            break;
          }
          const sinks = this.flowSinks;
          for (let k = 0; k < sinks.length; k++) sinks[k]!.flowSample!(ctx, s, ds);
          break;
        }
        case 'counter_sample': {
          st.counterSamples++;
          const ds = reg.dataSource(agent, s.sourceIdClass, s.sourceIdIndex, now);
          if (ds === null) {
            st.badInput.bad_source_id++;
            break;
          }
          const v = reg.counterSample(ds, s.sequence, now);
          if (v === SeqVerdict.Duplicate) {
            st.duplicateSamples++;
            break;
          }
          if (v === SeqVerdict.Late) {
            st.lateCounterSamples++;
            break;
          }
          const sinks = this.counterSinks;
          for (let k = 0; k < sinks.length; k++) sinks[k]!.counterSample!(ctx, s, ds);
          break;
        }
        case 'discard_sample': {
          st.discardSamples++;
          const ds = reg.dataSource(agent, s.sourceIdClass, s.sourceIdIndex, now);
          if (ds === null) {
            st.badInput.bad_source_id++;
            break;
          }
          const v = reg.discardSample(ds, s.sequence, s.drops);
          if (v === SeqVerdict.Duplicate) {
            st.duplicateSamples++;
            break;
          }
          const sinks = this.discardSinks;
          for (let k = 0; k < sinks.length; k++) sinks[k]!.discardSample!(ctx, s, ds);
          break;
        }
        case 'rtmetric': {
          st.rtMetricSamples++;
          const ds = reg.namedDataSource(agent, s.datasource, now);
          const sinks = this.rtMetricSinks;
          for (let k = 0; k < sinks.length; k++) sinks[k]!.rtMetric!(ctx, s, ds);
          break;
        }
        case 'rtflow': {
          st.rtFlowSamples++;
          const ds = reg.namedDataSource(agent, s.datasource, now);
          const sinks = this.rtFlowSinks;
          for (let k = 0; k < sinks.length; k++) sinks[k]!.rtFlow!(ctx, s, ds);
          break;
        }
        default:
          st.badInput.unknown_sample++;
      }
    }
  }

  private agentRemoved(a: AgentState, reason: RemovalReason): void {
    for (const s of this.sinks) s.agentRemoved?.(a, reason);
  }

  private dataSourceRemoved(ds: DataSourceState, reason: RemovalReason): void {
    for (const s of this.sinks) s.dataSourceRemoved?.(ds, reason);
  }

  /** Housekeeping: expire silent agents and data sources, then let every sink sweep. */
  sweep(nowMs: number): void {
    this.registry.sweep(nowMs);
    for (const s of this.sinks) s.sweep?.(nowMs);
  }
}
