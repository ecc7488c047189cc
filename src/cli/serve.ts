// `sflowscope serve`: receive sFlow, serve the REST API until SIGTERM/SIGINT.

import { startServer, type RunningServer } from '../app.js';
import { appRoutes } from '../api/apps.js';
import { staticRoutes } from '../api/static.js';
import { ConfigError, parseServeArgs, serveHelp } from '../config.js';
import { createEnrichment, ENRICHMENT_OPTIONS, enrichmentConfig, type Enrichment } from '../enrich/index.js';
import { startDemoTraffic, type DemoTraffic } from '../sim/index.js';
import { createLogger } from '../log.js';
import { VERSION } from '../version.js';

/** Run the server; resolves with the exit code once it has shut down (0 after SIGTERM/SIGINT). */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  let own: OwnOptions;
  try {
    own = takeOwnOptions(argv);
    parsed = parseServeArgs(own.rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`sflowscope serve: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(`${serveHelp()}\n${ownHelp()}\n`);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (parsed.positional.length > 0) {
    process.stderr.write(`sflowscope serve: unexpected argument ${JSON.stringify(parsed.positional[0])} (see --help)\n`);
    return 2;
  }
  const config = parsed.config;
  const logger = createLogger(config.logLevel);
  logger.info({ version: VERSION, node: process.version, pid: process.pid }, `Starting sflowscope ${VERSION}`);

  let server: RunningServer;
  let enrichment: Enrichment | null = null;
  let demo: DemoTraffic | null = null;
  try {
    server = await startServer({ ...config, logger, apiPlugins: [appRoutes({ flows: (ctx) => ctx.flows?.appSource('apps') ?? null }), staticRoutes()] });
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    return 1;
  }
  try {
    if (own.demo) {
      if (server.sflowPort === null) throw new Error('--demo needs the sFlow port (not --sflow-port -1)');
      // The simulated cluster sends to our own socket; its DNS responder names the simulated pods.
      demo = await startDemoTraffic({ collectorHost: '127.0.0.1', collectorPort: server.sflowPort });
      logger.info({ nodes: demo.simulator.cluster.nodes.length, dnsServer: demo.dnsServer }, 'demo traffic started');
    }
    const enrichConfig = enrichmentConfig((opt) => own.enrichment.get(opt.flag) ?? process.env[opt.env]);
    if (demo?.dnsServer && !own.enrichment.has('--dns-servers') && !process.env.SFLOWSCOPE_DNS_SERVERS) {
      enrichConfig.dns = { ...(enrichConfig.dns ?? {}), servers: [demo.dnsServer] };
    }
    enrichment = createEnrichment(enrichConfig, { log: logger });
    await enrichment.start();
    for (const w of enrichment.warnings) logger.warn(w);
    // Key functions read their lookups when they run, so setting them now reaches every spec.
    server.flows?.setDeps({ dnsName: enrichment.dnsName, k8s: enrichment.k8s });
    server.ctx.analyzerExtras.push(() => enrichmentFields(enrichment));
  } catch (err) {
    logger.error({ err }, 'enrichment or demo failed to start; carrying on without them');
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      Promise.all([demo?.stop(), enrichment?.stop()])
        .catch(() => undefined)
        .then(() => server.stop())
        .then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

interface OwnOptions {
  demo: boolean;
  /** Enrichment flags given on the command line, by flag name. */
  enrichment: Map<string, string>;
  /** Everything else, for the server's own option parser. */
  rest: string[];
}

/**
 * Take the options handled here (`--demo`, and the enrichment options of src/enrich, whose
 * table is the single source of their names) out of argv; the rest goes to parseServeArgs.
 */
function takeOwnOptions(argv: readonly string[]): OwnOptions {
  const flags = new Set(ENRICHMENT_OPTIONS.map((o) => o.flag));
  const out: OwnOptions = { demo: false, enrichment: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--demo') {
      out.demo = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!flags.has(name)) {
      out.rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    out.enrichment.set(name, value);
  }
  return out;
}

function ownHelp(): string {
  const lines = ['', 'Demo:', '  --demo                     also run a simulated 180-node GPU cluster (and its DNS) against this server', '', 'Names for addresses (docs/enrichment.md):'];
  for (const o of ENRICHMENT_OPTIONS) lines.push(`  ${o.flag.padEnd(26)} ${o.env}  (default ${o.defaultText})`);
  return lines.join('\n');
}

/** Enrichment counters as flat /analyzer/json fields (the Status page reads them). */
function enrichmentFields(e: Enrichment | null): Record<string, number> {
  if (e === null) return {};
  const st = e.status();
  const out: Record<string, number> = {};
  if (st.dns.enabled) {
    const c = st.dns.counters;
    Object.assign(out, {
      dnsHits: c.hits,
      dnsMisses: c.misses,
      dnsQueries: c.queries,
      dnsAnswered: c.answered,
      dnsNxdomain: c.nxdomain,
      dnsTimeouts: c.timeouts,
      dnsErrors: c.errors,
      dnsDropped: c.dropped,
      dnsInFlight: c.inFlight,
      dnsEntries: c.entries,
      dnsEvictions: c.evictions,
    });
  }
  if (st.k8s.enabled) {
    out.k8sConnected = st.k8s.connected ? 1 : 0;
    out.k8sAddresses = st.k8s.addresses;
    out.k8sObjects = Object.values(st.k8s.objects).reduce((a, b) => a + b, 0);
    out.k8sRelists = st.k8s.relists;
    out.k8sErrors = st.k8s.errors;
    out.k8sDropped = st.k8s.dropped;
  }
  return out;
}
