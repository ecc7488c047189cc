// Prometheus endpoints (reference §2.9, §6.5, §7; recorded answers in
// ../shared/testdata/sflow-rt/README.md §3):
//   GET /prometheus/metrics/{agent}/{metric}/txt   sFlow-RT's native export (filters as /metric)
//   GET /prometheus/analyzer/txt                   engine health, sflow_analyzer_*
//   GET /app/prometheus/scripts/export.js/flows/{agents}/txt   the Prometheus app's flow export
//   GET /app/prometheus/scripts/export.js/dump/{agents}/{metrics}/txt  legacy alias of the native export
//   GET /metrics                                   our own process and pipeline metrics (prom-client)
// Every text answer goes through PrometheusTextWriter: sanitised names, escaped label values, no
// duplicate series, at most `maxSeries` series per scrape.

import os from 'node:os';
import v8 from 'node:v8';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BAD_INPUT_REASONS } from '../engine/pipeline.js';
import { FlowExportLimitError, FlowExportManager, FLOW_EXPORT_IDLE_MS, FLOW_EXPORT_SEPARATOR, type FlowExportSource, type FlowExportSpec } from '../engine/prometheus/flows.js';
import { nativeMetricSteps, type NativeMetricSelection } from '../engine/prometheus/native.js';
import { runSliced } from '../engine/sliced.js';
import { PrometheusTextWriter, sanitizeLabelName, sanitizeMetricName } from '../engine/prometheus/text.js';
import { QueryError, parseAgents, parseFilter, parseMetricSpec, splitList } from '../engine/query.js';
import type { ApiContext } from './context.js';
import type { ApiPlugin } from './index.js';
import { HttpError } from './errors.js';
import { CpuLoad } from './cpu-load.js';

export interface PrometheusOptions {
  /** Most series in one scrape answer (the rest are left out and counted). Default 100000. */
  maxSeries?: number;
  /** Write `# HELP`/`# TYPE` lines in the sFlow-RT compatible endpoints (false = sample lines only, as sFlow-RT). Default true. */
  comments?: boolean;
  /** Metric prefix of the native export (sFlow-RT `prometheus.metric.prefix`). Default `sflow_`. */
  prefix?: string;
  /** The flow engine, for the flow export; null/undefined = the flow export answers 503. */
  flows?: FlowExportSource | null;
  /** Exported flows not scraped this long are removed. Default 5 min. */
  flowIdleMs?: number;
  /** Register prom-client's default process metrics in /metrics. Default true. */
  defaultMetrics?: boolean;
}

export const DEFAULT_PROMETHEUS_MAX_SERIES = 100_000;
const TEXT = 'text/plain;charset=utf-8';
const MAX_LIST = 1000;

/** Counters of the exporter itself (shown in /metrics). */
export interface PrometheusExportStats {
  scrapes: Record<string, number>;
  seriesDroppedOverCap: number;
  seriesDroppedDuplicate: number;
}

/** HELP text of /prometheus/analyzer/txt (the names sFlow-RT 3.1 writes; values are totals since start, as there). */
const ANALYZER_HELP: Record<string, string> = {
  uptime_ms: 'Milliseconds since the engine started.',
  agent_count: 'sFlow agents currently held.',
  received_datagrams: 'sFlow datagrams received since start.',
  received_bytes: 'Bytes of sFlow datagrams received since start.',
  parse_errors: 'Datagrams that could not be decoded.',
  unsupported_version_datagrams: 'Datagrams that are not sFlow version 5.',
  discarded_datagrams: 'Datagrams received but not processed.',
  http_connections_current: 'Open HTTP connections.',
  http_connections_total: 'HTTP connections accepted since start.',
  http_sent_messages: 'HTTP responses sent.',
  http_received_messages: 'HTTP requests received.',
  http_sent_bytes: 'HTTP body bytes sent.',
  http_received_bytes: 'HTTP body bytes received.',
  heap_max_bytes: 'V8 heap size limit, bytes.',
  heap_used_bytes: 'V8 heap used, bytes.',
  gc_time_ms: 'Time spent in garbage collection, ms.',
  gc_count: 'Garbage collections.',
  mem_total_bytes: 'Physical memory of the machine, bytes.',
  mem_free_bytes: 'Free physical memory of the machine, bytes.',
  cpu_time_ms: 'CPU time used by the process, ms.',
  cpu_load_system: 'CPU load of the machine (0..1) since the previous scrape.',
  cpu_load_process: 'CPU load of the process (0..1 of all cores) since the previous scrape.',
  cpu_available_cores: 'CPU cores available to the process.',
};

const textResponse = { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } };


function one(q: Record<string, unknown>, k: string): string | undefined {
  const v = q[k];
  if (v === undefined) return undefined;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return String(s);
}
function many(q: Record<string, unknown>, k: string): string[] {
  const v = q[k];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}
function num(q: Record<string, unknown>, k: string, dflt: number, check: (n: number) => boolean = Number.isFinite): number {
  const s = one(q, k);
  if (s === undefined || s === '') return dflt;
  const n = Number(s);
  if (!check(n)) throw new QueryError(`invalid ${k}: ${JSON.stringify(s.slice(0, 40))}`);
  return n;
}

/** `{metric}` of the native export: ALL or a list of `name` / `<ds>.name`. */
function parseSelection(segment: string): NativeMetricSelection {
  const items = splitList(segment);
  if (items.length === 0) throw new QueryError('empty metric list');
  if (items.length > MAX_LIST) throw new QueryError(`too many metrics (at most ${MAX_LIST})`);
  if (items.includes('ALL')) return { names: null };
  const names = new Set<string>();
  const dsByName = new Map<string, Set<string>>();
  const anyDs = new Set<string>();
  for (const it of items) {
    const spec = parseMetricSpec(it);
    if (spec.explicitStat) throw new QueryError('statistics prefixes are not valid here');
    names.add(spec.name);
    if (spec.ds === null) anyDs.add(spec.name);
    else {
      let s = dsByName.get(spec.name);
      if (s === undefined) dsByName.set(spec.name, (s = new Set()));
      s.add(spec.ds);
    }
  }
  for (const n of anyDs) dsByName.delete(n);
  return { names, dsByName };
}

/** The Prometheus plugin. Use `prometheusPlugin(options)` in ServerOptions.apiPlugins (src/app.ts registers it). */
export function prometheusPlugin(options: PrometheusOptions = {}): ApiPlugin {
  const maxSeries = options.maxSeries ?? DEFAULT_PROMETHEUS_MAX_SERIES;
  const comments = options.comments ?? true;
  const prefix = options.prefix ?? 'sflow_';
  const flowIdleMs = options.flowIdleMs ?? FLOW_EXPORT_IDLE_MS;

  return async function prometheusRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
    const ctx = opts.ctx;
    const e = ctx.engine;
    const cpu = new CpuLoad();
    const stats: PrometheusExportStats = { scrapes: {}, seriesDroppedOverCap: 0, seriesDroppedDuplicate: 0 };
    const flows = options.flows ? new FlowExportManager(options.flows, flowIdleMs) : null;
    if (flows !== null) {
      const timer = setInterval(() => flows.sweep(e.clock.now()), Math.min(60_000, Math.max(1000, flowIdleMs / 5)));
      timer.unref();
      app.addHook('onClose', async () => clearInterval(timer));
    }

    const writer = () => new PrometheusTextWriter({ maxSeries, comments });
    const send = (reply: FastifyReply, endpoint: string, w: PrometheusTextWriter): FastifyReply => {
      stats.scrapes[endpoint] = (stats.scrapes[endpoint] ?? 0) + 1;
      stats.seriesDroppedOverCap += w.droppedOverCap;
      stats.seriesDroppedDuplicate += w.droppedDuplicates;
      if (w.droppedOverCap > 0) reply.header('X-Sflowscope-Series-Dropped', String(w.droppedOverCap));
      return reply.type(TEXT).send(w.render());
    };

    const native = async (req: FastifyRequest, reply: FastifyReply, endpoint: string) => {
      const { agent, metric } = req.params as { agent: string; metric: string };
      const now = e.clock.now();
      const sel = parseAgents(agent);
      if (ctx.strictNotFound && !sel.all && e.query.selectAgents(sel, now).length === 0) throw new HttpError(404, `unknown agent ${JSON.stringify(agent.slice(0, 100))}`);
      const metrics = parseSelection(metric);
      const w = writer();
      await runSliced(nativeMetricSteps(w, e.query, sel, metrics, parseFilter(req.query as Record<string, unknown>), now, { prefix }));
      return send(reply, endpoint, w);
    };

    const nativeSchema = {
      summary: 'Metrics in Prometheus text format (sFlow-RT native export)',
      description: 'One `sflow_<metric>` series per agent, data source and numeric metric; string metrics become labels; flow metrics and k8s pause containers are left out. Values are current rates and gauges (do not rate() them). Query parameters filter as for /metric.',
      tags: ['prometheus'],
      params: { type: 'object', properties: { agent: { type: 'string' }, metric: { type: 'string' } }, required: ['agent', 'metric'] },
      response: textResponse,
    };
    app.get('/prometheus/metrics/:agent/:metric/txt', { schema: nativeSchema }, async (req, reply) => native(req, reply, 'metrics'));
    app.get('/app/prometheus/scripts/export.js/dump/:agent/:metric/txt', { schema: { ...nativeSchema, summary: 'Legacy Prometheus app dump (same as /prometheus/metrics)' } }, async (req, reply) =>
      native(req, reply, 'dump'),
    );

    app.get('/prometheus/analyzer/txt', { schema: { summary: 'Engine health in Prometheus text format (sflow_analyzer_*)', tags: ['prometheus'], response: textResponse } }, async (_req, reply) => {
      const now = e.clock.now();
      const st = e.pipeline.stats;
      const queueDrops = ctx.udp?.queueDrops?.() ?? 0;
      cpu.sample();
      const heap = v8.getHeapStatistics();
      const usage = process.cpuUsage();
      const w = writer();
      const put = (name: string, v: number, integer = true) => {
        w.family(`sflow_analyzer_${name}`, 'gauge', ANALYZER_HELP[name] ?? name);
        w.add(`sflow_analyzer_${name}`, [], v, integer);
      };
      put('uptime_ms', Math.max(0, Math.round(now - e.startedAt)));
      put('agent_count', e.registry.agents.size);
      put('received_datagrams', st.datagrams + queueDrops);
      put('received_bytes', st.bytes);
      put('parse_errors', st.parseErrors);
      put('unsupported_version_datagrams', st.unsupportedVersion);
      put('discarded_datagrams', st.discarded + queueDrops);
      put('http_connections_current', ctx.http.connectionsCurrent);
      put('http_connections_total', ctx.http.connectionsTotal);
      put('http_sent_messages', ctx.http.messagesSent);
      put('http_received_messages', ctx.http.messagesReceived);
      put('http_sent_bytes', ctx.http.bytesSent);
      put('http_received_bytes', ctx.http.bytesReceived);
      put('heap_max_bytes', heap.heap_size_limit);
      put('heap_used_bytes', heap.used_heap_size);
      put('gc_time_ms', Math.round(ctx.gc.timeMs));
      put('gc_count', ctx.gc.count);
      put('mem_total_bytes', os.totalmem());
      put('mem_free_bytes', os.freemem());
      put('cpu_time_ms', Math.round((usage.user + usage.system) / 1000));
      put('cpu_load_system', cpu.system, false);
      put('cpu_load_process', cpu.process, false);
      put('cpu_available_cores', os.availableParallelism());
      return send(reply, 'analyzer', w);
    });

    app.get(
      '/app/prometheus/scripts/export.js/flows/:agent/txt',
      {
        schema: {
          summary: 'Top flows in Prometheus text format (sFlow-RT Prometheus app)',
          description:
            'Query: metric, key (repeatable), value, label (repeatable), filter, n (10), t (15), dropped (false), aggMode (max, or sum when dropped), maxFlows (20), minValue (0.1), scale (1). The flow is defined on the first scrape and removed after 5 minutes without one. 503 when no flow engine is running.',
          tags: ['prometheus'],
          params: { type: 'object', properties: { agent: { type: 'string' } }, required: ['agent'] },
          response: textResponse,
        },
      },
      async (req, reply) => {
        const { agent } = req.params as { agent: string };
        parseAgents(agent);
        const q = (req.query ?? {}) as Record<string, unknown>;
        const metric = one(q, 'metric');
        const keys = many(q, 'key').flatMap((k) => (k === '' ? [] : [k]));
        const value = one(q, 'value');
        if (metric === undefined || metric === '' || keys.length === 0 || value === undefined || value === '') throw new QueryError('metric, key and value are required');
        if (keys.length > 32) throw new QueryError('too many keys (at most 32)');
        const labels = many(q, 'label');
        if (labels.length > 0 && labels.length !== keys.length) throw new QueryError('label must be given once per key');
        const dropped = (one(q, 'dropped') ?? 'false') === 'true';
        const aggText = one(q, 'aggMode') ?? (dropped ? 'sum' : 'max');
        if (aggText !== 'max' && aggText !== 'sum') throw new QueryError(`invalid aggMode: ${JSON.stringify(aggText.slice(0, 20))}`);
        const spec: FlowExportSpec = {
          keys: keys.join(','),
          value,
          n: num(q, 'n', 10, (x) => Number.isInteger(x) && x > 0 && x <= 10_000),
          t: num(q, 't', 15, (x) => Number.isFinite(x) && x > 0 && x <= 86_400),
          dropped,
          fs: FLOW_EXPORT_SEPARATOR,
        };
        const filter = one(q, 'filter');
        if (filter !== undefined && filter !== '') spec.filter = filter;
        const maxFlows = num(q, 'maxFlows', 20, (x) => Number.isInteger(x) && x > 0 && x <= 100_000);
        const minValue = num(q, 'minValue', 0.1);
        const scale = num(q, 'scale', 1);
        if (flows === null) throw new HttpError(503, 'flow export unavailable: no flow engine is running');
        let name: string;
        try {
          name = flows.flowFor(spec, e.clock.now());
        } catch (err) {
          if (err instanceof FlowExportLimitError) throw new HttpError(503, err.message);
          throw new QueryError(`flow refused: ${err instanceof Error ? err.message : String(err)}`);
        }
        const active = flows.source.activeFlows(agent, name, { maxFlows, minValue, aggMode: aggText });
        const metricName = sanitizeMetricName(metric);
        const labelNames = (labels.length > 0 ? labels : keys).map(sanitizeLabelName);
        const w = writer();
        w.family(metricName, 'gauge', `Top flows (keys ${spec.keys}, value ${value}${scale !== 1 ? ` x ${scale}` : ''}, decayed per-second rate over t=${spec.t}s).`);
        let n = 0;
        for (const f of active) {
          if (n >= maxFlows) break;
          if (!(f.value >= minValue)) continue;
          const parts = f.key.split(FLOW_EXPORT_SEPARATOR);
          if (parts.length !== labelNames.length) throw new Error(`flow key has ${parts.length} fields, expected ${labelNames.length}`);
          w.add(
            metricName,
            labelNames.map((l, i) => [l, parts[i]!] as const),
            f.value * scale,
          );
          n++;
        }
        return send(reply, 'flows', w);
      },
    );

    // ---- our own metrics --------------------------------------------------------------------
    const registry = new Registry();
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: registry });
      // Gauges named like counters (promtool lints them); the same facts are in nodejs_active_*.
      for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(n);
    }
    const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          fill(this);
        },
      });
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          fill(this);
        },
      });
    const st = e.pipeline.stats;
    const reg = e.registry;
    counter('sflowscope_datagrams_received_total', 'sFlow datagrams handed to the engine (sFlowDatagramsReceived).', [], (c) => c.inc(st.datagrams));
    counter('sflowscope_bytes_received_total', 'Bytes of sFlow datagrams handed to the engine.', [], (c) => c.inc(st.bytes));
    counter('sflowscope_parse_errors_total', 'Datagrams with a decode fault (sFlowParseErrors).', [], (c) => c.inc(st.parseErrors));
    counter('sflowscope_unsupported_version_datagrams_total', 'Datagrams that are not sFlow v5.', [], (c) => c.inc(st.unsupportedVersion));
    counter('sflowscope_discarded_datagrams_total', 'Datagrams received but not processed (too large, receive queue full).', [], (c) => c.inc(st.discarded + (ctx.udp?.queueDrops?.() ?? 0)));
    counter('sflowscope_bad_input_total', 'Decode faults by reason.', ['reason'], (c) => {
      for (const r of BAD_INPUT_REASONS) c.labels(r).inc(st.badInput[r]);
    });
    counter('sflowscope_samples_total', 'Samples decoded, by kind.', ['kind'], (c) => {
      c.labels('flow').inc(st.flowSamples);
      c.labels('counter').inc(st.counterSamples);
      c.labels('discard').inc(st.discardSamples);
      c.labels('rtmetric').inc(st.rtMetricSamples);
      c.labels('rtflow').inc(st.rtFlowSamples);
    });
    counter('sflowscope_samples_duplicate_total', 'Samples not dispatched: duplicate sequence number.', [], (c) => c.inc(st.duplicateSamples));
    counter('sflowscope_udp_queue_drops_total', "Datagrams dropped before the engine (the receive thread's queue was full).", [], (c) => c.inc(ctx.udp?.queueDrops?.() ?? 0));
    gauge('sflowscope_udp_kernel_drops', 'Datagrams the kernel dropped for the sFlow socket (receive buffer full); -1 when unknown.', [], (g) => g.set(ctx.udp?.kernelDrops() ?? -1));
    gauge('sflowscope_agents', 'Agents held.', [], (g) => g.set(reg.agents.size));
    gauge('sflowscope_data_sources', 'Data sources held.', [], (g) => g.set(reg.dataSourceCount));
    counter('sflowscope_agent_removals_total', 'Agents removed, by reason.', ['reason'], (c) => {
      c.labels('evicted').inc(reg.stats.agentsEvicted);
      c.labels('expired').inc(reg.stats.agentsExpired);
    });
    counter('sflowscope_data_source_removals_total', 'Data sources removed, by reason.', ['reason'], (c) => {
      c.labels('evicted').inc(reg.stats.dataSourcesEvicted);
      c.labels('expired').inc(reg.stats.dataSourcesExpired);
      c.labels('stopped').inc(reg.stats.dataSourcesStopped);
    });
    counter('sflowscope_agent_restarts_total', 'Agent restarts detected (sequence numbers started over).', [], (c) => c.inc(reg.stats.agentRestarts));
    counter('sflowscope_records_unmapped_total', 'Counter records decoded but not turned into metrics.', [], (c) => c.inc(e.metrics.stats.unmappedRecords));
    counter('sflowscope_records_unknown_total', 'Counter records the decoder could not read.', [], (c) => c.inc(e.metrics.stats.unknownRecords));
    // Per-agent health (bounded by --max-agents): datagrams, loss, silence.
    counter('sflowscope_agent_datagrams_total', 'Datagrams received from each agent.', ['agent'], (c) => {
      for (const a of reg.agents.values()) c.labels(a.address).inc(a.datagrams);
    });
    counter('sflowscope_agent_datagrams_lost_total', 'Datagrams lost from each agent (sequence gaps).', ['agent'], (c) => {
      for (const a of reg.agents.values()) c.labels(a.address).inc(a.datagramsLost);
    });
    counter('sflowscope_agent_samples_lost_total', 'Samples lost from each agent (data-source sequence gaps), by kind.', ['agent', 'kind'], (c) => {
      for (const a of reg.agents.values()) {
        c.labels(a.address, 'flow').inc(a.flow.lost);
        c.labels(a.address, 'counter').inc(a.counter.lost);
        c.labels(a.address, 'discard').inc(a.discard.lost);
      }
    });
    gauge('sflowscope_agent_last_seen_seconds', 'Seconds since each agent last sent a datagram.', ['agent'], (g) => {
      const now = e.clock.now();
      for (const a of reg.agents.values()) g.labels(a.address).set(Math.max(0, now - a.lastSeen) / 1000);
    });
    gauge('sflowscope_agent_data_sources', 'Data sources held for each agent.', ['agent'], (g) => {
      for (const a of reg.agents.values()) g.labels(a.address).set(a.dataSources.size);
    });
    counter('sflowscope_prometheus_scrapes_total', 'Answers of the Prometheus endpoints, by endpoint.', ['endpoint'], (c) => {
      for (const [k, v] of Object.entries(stats.scrapes)) c.labels(k).inc(v);
    });
    counter('sflowscope_prometheus_series_dropped_total', 'Series left out of Prometheus answers, by reason (cap = over --prometheus-max-series).', ['reason'], (c) => {
      c.labels('cap').inc(stats.seriesDroppedOverCap);
      c.labels('duplicate').inc(stats.seriesDroppedDuplicate);
    });
    gauge('sflowscope_prometheus_flows', 'Flows defined by the Prometheus flow export.', [], (g) => g.set(flows?.names().length ?? 0));
    gauge('sflowscope_http_connections', 'Open HTTP connections.', [], (g) => g.set(ctx.http.connectionsCurrent));
    counter('sflowscope_http_requests_total', 'HTTP requests received.', [], (c) => c.inc(ctx.http.messagesReceived));
    counter('sflowscope_http_refused_total', 'HTTP connections and requests refused, by reason (docs/security.md, docs/limits.md).', ['reason'], (c) => {
      c.labels('max_connections').inc(ctx.http.connectionsRefused);
      c.labels('malformed').inc(ctx.http.requestsMalformed);
      c.labels('headers_too_large').inc(ctx.http.requestsHeadersTooLarge);
      c.labels('timeout').inc(ctx.http.requestsTimedOut);
      const a = ctx.access;
      if (a === undefined) return;
      c.labels('readonly').inc(a.httpReadonlyRefused);
      c.labels('auth').inc(a.httpAuthFailures);
      c.labels('rate_limit').inc(a.httpWritesRateLimited);
      c.labels('cors').inc(a.httpCorsRefused);
    });
    counter('sflowscope_rtmetrics_refused_total', 'Custom (rtmetric) metric names refused: the data source holds --max-metrics-per-data-source.', [], (c) => c.inc(e.metrics.stats.rtMetricsRefused));
    const info = new Gauge({ name: 'sflowscope_build_info', help: 'Version of sflowscope (always 1).', labelNames: ['version', 'node'], registers: [registry] });
    info.labels(ctx.version, process.version).set(1);

    app.get('/metrics', { schema: { summary: 'sflowscope process and pipeline metrics (Prometheus text format)', tags: ['prometheus'], response: textResponse } }, async (_req, reply) => {
      stats.scrapes.self = (stats.scrapes.self ?? 0) + 1;
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    });
  };
}
