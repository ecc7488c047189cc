// The engine: the state behind the API, with no I/O. The UDP receiver and capture feeder push
// datagrams into `pipeline.onDatagram`; the REST layer reads through `query`, `registry` and
// `pipeline.stats`; a timer calls `sweep`. Later components (flow engine, enrichment) plug in
// with `addSink` and `addMetricProvider`.

import { AgentRegistry, type AgentRegistryConfig } from './agents.js';
import type { Clock } from './clock.js';
import { MetricsStore } from './metrics/store.js';
import { IngestPipeline, type PipelineConfig } from './pipeline.js';
import { MetricQuery, type MetricProvider } from './query.js';
import type { SampleSink } from './sink.js';

export interface EngineConfig {
  agents: Partial<AgentRegistryConfig>;
  pipeline: Partial<PipelineConfig>;
  /** Custom (rtmetric) names kept per data source (--max-metrics-per-data-source). */
  maxMetricsPerDataSource: number;
}

export class Engine {
  readonly registry: AgentRegistry;
  readonly pipeline: IngestPipeline;
  readonly metrics: MetricsStore;
  readonly query: MetricQuery;
  /** Engine time when it was created (for uptime). */
  readonly startedAt: number;

  constructor(
    readonly clock: Clock,
    config: Partial<EngineConfig> = {},
  ) {
    this.startedAt = clock.now();
    this.registry = new AgentRegistry(config.agents);
    this.pipeline = new IngestPipeline(this.registry, config.pipeline);
    this.metrics = new MetricsStore({
      isHidden: (ds, now) => this.registry.isHidden(ds, now),
      ...(config.maxMetricsPerDataSource !== undefined ? { maxRtMetrics: config.maxMetricsPerDataSource } : {}),
    });
    this.pipeline.addSink(this.metrics);
    this.query = new MetricQuery(this.registry);
    this.query.addProvider(this.metrics);
  }

  /** Feed one datagram at the clock's current time (or at `nowMs`). */
  ingest(bytes: Uint8Array, source: string, nowMs: number = this.clock.now()): void {
    this.pipeline.onDatagram(bytes, source, nowMs);
  }

  addSink(sink: SampleSink): void {
    this.pipeline.addSink(sink);
  }

  addMetricProvider(p: MetricProvider): void {
    this.query.addProvider(p);
  }

  /** /analyzer/json fields of the engine's bounds that src/api/server.ts does not show itself. */
  analyzerFields(): Record<string, number> {
    const f = this.pipeline.sourceFilter;
    return {
      sFlowRtMetricsRefused: this.metrics.stats.rtMetricsRefused,
      maxMetricsPerDataSource: this.metrics.maxRtMetrics,
      ...(f !== null ? { sFlowSourceCacheEvictions: f.stats.cacheEvictions } : {}),
    };
  }

  /** Expire silent agents and data sources (and let sinks sweep) at the clock's time. */
  sweep(nowMs: number = this.clock.now()): void {
    this.pipeline.sweep(nowMs);
  }
}
