// Build and start the whole server from a config object: engine, UDP receiver, optional capture
// feed, HTTP API. Used by `sflowscope serve` and, in-process, by tests and later issues (ports 0
// give free ports; `stop()` releases everything).

import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import v8 from 'node:v8';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { CORE_API_PLUGINS, registerApi, type ApiPlugin } from './api/index.js';
import { newHttpStats, type ApiContext } from './api/context.js';
import { prometheusPlugin } from './api/prometheus.js';
import type { FlowExportSource } from './engine/prometheus/flows.js';
import { DEFAULT_CONFIG, splitList, type ServerConfig } from './config.js';
import { CaptureClock, wallClock, type Clock } from './engine/clock.js';
import { Engine } from './engine/engine.js';
import { Registries } from './engine/registries.js';
import { REGISTRY_API_PLUGINS } from './api/registries.js';
import { flowRoutes } from './api/flows.js';
import { FlowEngine } from './engine/flows/engine.js';
import type { KeyDeps } from './engine/flows/keys.js';
import type { FlowEngineConfig } from './engine/flows/engine.js';
import { flowEngineExportSource } from './engine/prometheus/flow-engine.js';
import { loadGeoIp } from './engine/flows/geo.js';
import { readFileSync } from 'node:fs';
import type { SampleSink } from './engine/sink.js';
import { CaptureFeed, captureMs, loadCaptureDatagrams } from './ingest/capture-feed.js';
import { UdpReceiver } from './ingest/udp.js';
import { THREADED_UDP_AVAILABLE, ThreadedUdpReceiver } from './ingest/udp-thread.js';
import { createLogger, type Logger } from './log.js';
import { VERSION } from './version.js';
import { applyServerLimits, closeAfterUnreadBody, fastifyServerOptions, loadTls } from './api/http-options.js';
import { registerAccess } from './api/access/index.js';
import { frameworkErrors } from './api/errors.js';
import { EventLoopLag } from './api/event-loop.js';

export interface ServerOptions extends Partial<ServerConfig> {
  /** Logger (default: pino at config.logLevel on stdout). */
  logger?: Logger;
  /** Engine clock (default: wall clock, or the capture's clock with `pcap`). Tests pass a ManualClock. */
  clock?: Clock;
  /** Route plugins added after the core ones (flow engine, Prometheus...). */
  apiPlugins?: readonly ApiPlugin[];
  /** Sample sinks added after the metrics store. */
  sinks?: readonly SampleSink[];
  /** Called with the engine before anything listens (to add sinks, providers...). */
  configure?: (engine: Engine, ctx: ApiContext) => void;
  /**
   * The flow engine as the Prometheus flow export sees it (src/engine/prometheus/flow-engine.ts
   * adapts a FlowEngine); a function is called after `configure`. Default none: that endpoint answers 503.
   */
  flowExport?: FlowExportSource | (() => FlowExportSource | null) | null;
  /** Run the flow engine (default true). */
  flows?: boolean;
  /** Lookups for the flow engine's key functions (dnsName, k8s, geo...); groups and maps come from the registries. */
  flowDeps?: Partial<KeyDeps>;
  /** Flow engine settings over those of the config (tests: sweepAnchorMs...). */
  flowConfig?: Partial<FlowEngineConfig>;
  /** Create the data directory if missing (default true). */
  createDataDir?: boolean;
}

export interface RunningServer {
  readonly config: ServerConfig;
  readonly engine: Engine;
  readonly clock: Clock;
  readonly http: FastifyInstance;
  readonly ctx: ApiContext;
  readonly logger: Logger;
  /** Bound HTTP port. */
  readonly httpPort: number;
  /** Bound sFlow UDP port, or null when not listening. */
  readonly sflowPort: number | null;
  /** HTTP base URL on the loopback address, e.g. http://127.0.0.1:8008 . */
  readonly url: string;
  /** The capture being fed (with `pcap`), else null. */
  readonly capture: CaptureFeed | null;
  /** Resolves when the capture has been fed completely (immediately without one). */
  readonly captureDone: Promise<void>;
  /** The flow engine (null with `flows: false`). */
  readonly flows: FlowEngine | null;
  /** Stop feeding, close the sockets, stop timers. Idempotent. */
  stop(): Promise<void>;
}

function loopbackFor(bind: string): string {
  if (bind === '::' || bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  return bind.includes(':') ? `[${bind}]` : bind;
}

/** Start a server. Rejects (after releasing what it opened) when a port cannot be bound or the capture cannot be read. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  for (const [k, v] of Object.entries(options)) if (k in DEFAULT_CONFIG && v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  const logger = options.logger ?? createLogger(config.logLevel);

  if (options.createDataDir !== false) {
    mkdirSync(config.dataDir, { recursive: true });
    accessSync(config.dataDir, fsConstants.W_OK);
  }

  // The capture is read before anything starts: its first timestamp is the engine's clock origin.
  let captureDatagrams: Awaited<ReturnType<typeof loadCaptureDatagrams>> | null = null;
  let captureClock: CaptureClock | null = null;
  if (config.pcap !== null) {
    captureDatagrams = await loadCaptureDatagrams(config.pcap);
    captureClock = new CaptureClock(captureDatagrams.length > 0 ? captureMs(captureDatagrams[0]!) : Date.now());
    logger.info({ pcap: config.pcap, datagrams: captureDatagrams.length, pace: config.pcapPace }, 'capture loaded');
  }
  const clock: Clock = options.clock ?? captureClock ?? wallClock;

  const engine = new Engine(clock, {
    agents: {
      maxAgents: config.maxAgents,
      maxDataSources: config.maxDataSources,
      maxDataSourcesPerAgent: config.maxDataSourcesPerAgent,
      agentTimeoutMs: config.agentTimeoutMs,
      dataSourceTimeoutMs: config.dataSourceTimeoutMs,
      stoppedRetentionMs: config.stoppedRetentionMs,
      sequence: { maxDelta: config.seqnoMaxDelta, maxOutOfOrder: config.seqnoMaxOutOfOrder },
    },
    pipeline: { maxDatagramBytes: config.maxDatagramBytes, agentsAllow: splitList(config.agentsAllow) },
    maxMetricsPerDataSource: config.maxMetricsPerDataSource,
  });
  for (const s of options.sinks ?? []) engine.addSink(s);

  // Groups, maps, thresholds, events; the state file is read now, so every section (the flow
  // engine's too, when `configure` registers it) loads before anything listens.
  const registries = new Registries(
    engine.query,
    clock,
    {
      dataDir: config.dataDir,
      persist: config.persistState,
      stateDebounceMs: config.stateDebounceMs,
      events: { maxEvents: config.maxEvents, maxAgeMs: config.eventMaxAgeMs, maxWaiters: config.longPollMaxWaiters, maxWaitMs: config.longPollMaxTimeoutMs },
      thresholds: { intervalMs: config.thresholdIntervalMs, maxThresholds: config.maxThresholds },
      groups: { maxGroups: config.maxGroups },
      maps: { maxMaps: config.maxMaps },
    },
    logger.child({ component: 'state' }),
  );
  registries.load();

  const ctx: ApiContext = {
    engine,
    version: VERSION,
    http: newHttpStats(),
    udp: null,
    analyzerExtras: [],
    gc: { count: 0, timeMs: 0, heapAfterMajorBytes: null },
    strictNotFound: config.strictNotFound,
    registries,
  };
  ctx.analyzerExtras.push(() => engine.analyzerFields(), () => registries.analyzer());
  // The flow engine: a sink of samples, a metric provider (flow names are metrics), the `flows`
  // section of the state file, the flow values of byFlow thresholds.
  const flows =
    options.flows === false
      ? null
      : new FlowEngine(
          engine,
          { maxKeysPerTable: config.flowMaxKeys, maxEntries: config.flowMaxEntries, maxFlows: config.maxFlowSpecs, flowTimeoutMs: config.flowTimeoutMs, flowLogMax: config.flowLogMax, ...options.flowConfig },
          { groups: registries.groups, maps: registries.maps, ...options.flowDeps },
        );
  ctx.flows = flows;
  if (flows !== null && (config.geoipCountry !== null || config.geoipAsn !== null)) {
    try {
      flows.setDeps({ geo: loadGeoIp((p) => readFileSync(p), config.geoipCountry, config.geoipAsn) });
    } catch (err) {
      logger.error({ err }, 'GeoIP database unusable: country: and asn: flow keys are null');
    }
  }
  if (flows !== null) {
    flows.attachStateStore(registries.state);
    registries.thresholds.setFlowValues(flows);
    ctx.analyzerExtras.push(() => flows.analyzerFields());
  }
  options.configure?.(engine, ctx);

  const gcObserver = new PerformanceObserver((list) => {
    let major = false;
    for (const e of list.getEntries()) {
      ctx.gc.count++;
      ctx.gc.timeMs += e.duration;
      if ((((e as { detail?: { kind?: number } }).detail?.kind ?? 0) & perfConstants.NODE_PERFORMANCE_GC_MAJOR) !== 0) major = true;
    }
    // What survives a full collection is the live data: a leak shows here first, whereas heapUsed
    // is a saw-tooth between collections (the soak test's memory verdict reads this).
    if (major) ctx.gc.heapAfterMajorBytes = v8.getHeapStatistics().used_heap_size;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const eventLoop = new EventLoopLag();
  ctx.analyzerExtras.push(() => eventLoop.analyzerFields());

  let udp: UdpReceiver | ThreadedUdpReceiver | null = null;
  let feed: CaptureFeed | null = null;
  let sweepTimer: NodeJS.Timeout | null = null;
  let stopped = false;
  let httpServer: FastifyInstance | null = null;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    feed?.stop();
    if (sweepTimer) clearInterval(sweepTimer);
    gcObserver.disconnect();
    eventLoop.stop();
    await udp?.stop();
    flows?.stop();
    await registries.stop();
    await httpServer?.close();
  };

  // Anything refused from here on (a TLS file, a token file, a CORS origin) releases what is open.
  try {
    return await listen();
  } catch (e) {
    await stop();
    throw e;
  }

  async function listen(): Promise<RunningServer> {
    const tls = loadTls(config);
    // Typed as the plain-HTTP instance: with TLS only the server class differs, no route sees it.
    const http = Fastify({
      loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: !config.httpLog }),
      routerOptions: { maxParamLength: 16_384, ignoreTrailingSlash: true },
      frameworkErrors,
      forceCloseConnections: true,
      ...fastifyServerOptions(config, tls),
    }) as unknown as FastifyInstance;
    httpServer = http;
    const hs = ctx.http;
    applyServerLimits(http.server, config, hs);
    closeAfterUnreadBody(http);
    http.server.on('connection', (sock) => {
      hs.connectionsCurrent++;
      hs.connectionsTotal++;
      sock.once('close', () => hs.connectionsCurrent--);
    });
    http.addHook('onRequest', async (req) => {
      hs.messagesReceived++;
      hs.bytesReceived += Number(req.headers['content-length'] ?? 0) || 0;
    });
    http.addHook('onSend', async (_req, _reply, payload) => {
      hs.messagesSent++;
      if (typeof payload === 'string') hs.bytesSent += Buffer.byteLength(payload);
      else if (Buffer.isBuffer(payload)) hs.bytesSent += payload.length;
      return payload;
    });
    await registerAccess(http, config, ctx);
    const prometheus = prometheusPlugin({ maxSeries: config.prometheusMaxSeries, comments: config.prometheusComments, flows: typeof options.flowExport === 'function' ? options.flowExport() : (options.flowExport ?? (flows !== null ? flowEngineExportSource(flows) : null)) });
    await registerApi(http, ctx, [...REGISTRY_API_PLUGINS, ...(flows !== null ? [flowRoutes(flows)] : []), prometheus, ...(options.apiPlugins ?? [])]);

    if (config.sflowPort >= 0) {
      const udpOpts = { port: config.sflowPort, bind: config.sflowBind, recvBufferSize: config.udpRecvBuffer, ringBytes: config.udpRingBytes };
      const handler = (bytes: Uint8Array, source: string) => engine.pipeline.onDatagram(bytes, source, clock.now());
      const threaded = config.udpThread && THREADED_UDP_AVAILABLE;
      udp = threaded ? new ThreadedUdpReceiver(udpOpts, handler) : new UdpReceiver(udpOpts, handler);
      const a = await udp.start();
      ctx.udp = udp;
      logger.info({ port: a.port, address: a.address, recvBuffer: udp.receiveBufferSize(), thread: threaded }, `Listening, sFlow port ${a.port}`);
    }
    await http.listen({ port: config.httpPort, host: config.httpBind });
    const addr = http.server.address();
    const httpPort = typeof addr === 'object' && addr !== null ? addr.port : config.httpPort;
    logger.info({ port: httpPort, address: config.httpBind }, `Listening, HTTP port ${httpPort}`);

    sweepTimer = setInterval(() => {
      try {
        engine.sweep();
      } catch (err) {
        logger.error({ err }, 'sweep failed');
      }
    }, config.sweepIntervalMs);
    sweepTimer.unref();
    registries.start();
    eventLoop.start();

    let captureDone: Promise<void> = Promise.resolve();
    if (captureDatagrams !== null && captureClock !== null) {
      // With a hand-driven clock (tests) the capture still brings its own time to each datagram.
      const c = captureClock;
      feed = new CaptureFeed(captureDatagrams, c, (bytes, source, t) => engine.pipeline.onDatagram(bytes, source, t), {
        pace: config.pcapPace,
        holdClock: config.pcapHoldClock,
      });
      const f = feed;
      captureDone = f.run().then(
        () => logger.info({ fed: f.stats.fed, datagrams: f.stats.total }, 'capture fed'),
        (err: unknown) => logger.error({ err }, 'capture feed failed'),
      );
    }

    return {
      config,
      engine,
      clock,
      http,
      ctx,
      logger,
      httpPort,
      sflowPort: udp?.port ?? null,
      url: `${tls !== null ? 'https' : 'http'}://${loopbackFor(config.httpBind)}:${httpPort}`,
      capture: feed,
      captureDone,
      flows,
      stop,
    };
  }
}

export { CORE_API_PLUGINS };
