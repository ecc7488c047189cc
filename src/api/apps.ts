// App endpoints (reference §6): sunburst trees, Flow/Discard Browser trends and flow keys, and
// the list of apps with their health for the Status page's Apps tab.
//
//   GET /app/sunburst/scripts/metrics.js/{protocols|dns|process|gpu}/json   tree JSON (§6.1)
//   GET /app/browse-flows/scripts/top.js/flowkeys/json?search=              sorted key names
//   GET /app/browse-flows/scripts/top.js/flows/json?keys=&value=&filter=[&after=]   trend (§6.2)
//   GET /app/browse-drops/scripts/top.js/...                               same, dropped flows
//   GET /app/{app}/status                                                   "OK" when usable
//   GET /apps/json                                                          {name: {entry, status, detail}}

import type { FastifyInstance } from 'fastify';
import type { TopFlowsSource } from '../apps/flows.js';
import { DEFAULT_SUNBURST_CONFIG, SUNBURST_CHARTS, sunburstTree, type SunburstChart, type SunburstConfig } from '../apps/sunburst.js';
import { BadSpecError, BROWSE_DROPS_CONFIG, BROWSE_FLOWS_CONFIG, TopTrends } from '../apps/top.js';
import type { ApiContext } from './context.js';
import type { ApiPlugin } from './index.js';
import { HttpError } from './errors.js';
import { sendJson } from './json.js';

export interface AppRoutesOptions {
  /**
   * The flow source, looked up at each request (it may arrive later). Default: the server's flow
   * engine (`ctx.flows.appSource('apps')`), none without one.
   */
  flows?: (ctx: ApiContext) => TopFlowsSource | null;
  sunburst?: Partial<SunburstConfig>;
}

export interface AppInfo {
  entry: string;
  title: string;
  status: 'OK' | 'DEGRADED';
  detail: string;
}

const engineSources = new WeakMap<object, TopFlowsSource>();

/** The server's flow engine as a TopFlowsSource (one adapter per engine). */
function engineFlows(ctx: ApiContext): TopFlowsSource | null {
  const fe = ctx.flows;
  if (!fe) return null;
  let s = engineSources.get(fe);
  if (s === undefined) {
    s = fe.appSource('apps');
    engineSources.set(fe, s);
  }
  return s;
}

const first = (v: unknown): string => (Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : String(v));

/** Build the app routes plugin. */
export function appRoutes(options: AppRoutesOptions = {}): ApiPlugin {
  return async (app: FastifyInstance, opts: { ctx: ApiContext }) => {
    const ctx = opts.ctx;
    const e = ctx.engine;
    // Resolved until there is one, then kept: a resolver may build a new adapter per call, and
    // the browsers' trends must outlive a request.
    let resolved: TopFlowsSource | null = null;
    const flowsOf = (): TopFlowsSource | null => (resolved ??= (options.flows ?? engineFlows)(ctx) ?? null);
    const config = { ...DEFAULT_SUNBURST_CONFIG, ...options.sunburst };
    let flowSource = flowsOf();
    const browsers = { 'browse-flows': new TopTrends(flowSource, BROWSE_FLOWS_CONFIG), 'browse-drops': new TopTrends(flowSource, BROWSE_DROPS_CONFIG) };
    const browserFor = (name: 'browse-flows' | 'browse-drops'): TopTrends => {
      const now = flowsOf();
      if (now !== flowSource) {
        flowSource = now;
        browsers['browse-flows'] = new TopTrends(now, BROWSE_FLOWS_CONFIG);
        browsers['browse-drops'] = new TopTrends(now, BROWSE_DROPS_CONFIG);
      }
      return browsers[name];
    };
    const timer = setInterval(() => {
      const now = e.clock.now();
      browsers['browse-flows'].tick(now);
      browsers['browse-drops'].tick(now);
    }, 1000);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
    });

    const apps = (): Record<string, AppInfo> => {
      const flows = flowsOf() !== null;
      const flowDetail = flows ? 'flow engine running' : 'no flow engine: flow charts are empty';
      return {
        'browse-drops': { entry: '/app/browse-drops/html/index.html', title: 'Discard Browser', status: flows ? 'OK' : 'DEGRADED', detail: flowDetail },
        'browse-flows': { entry: '/app/browse-flows/html/index.html', title: 'Flow Browser', status: flows ? 'OK' : 'DEGRADED', detail: flowDetail },
        'browse-metrics': { entry: '/app/browse-metrics/html/index.html', title: 'Metric Browser', status: 'OK', detail: 'metrics from counter samples' },
        sunburst: { entry: '/app/sunburst/html/index.html', title: 'Sunburst', status: 'OK', detail: flows ? 'all charts' : 'GPU and Process charts (Protocols and DNS need the flow engine)' },
      };
    };

    // Per-agent sampling health for the Status page (sflowscope extension): declared sampling
    // rates, and data sources whose effective rate (from sample_pool) strays > 25 % from them.
    app.get('/app/status/health/json', { schema: { summary: 'Per-agent sampling-rate health (Status page)', tags: ['apps'] } }, async (_req, reply) => {
      const now = e.clock.now();
      const reg = e.registry;
      const out: Record<string, { samplingRates: number[]; samplingRateMismatches: number }> = {};
      for (const a of reg.agents.values()) {
        if (reg.isAgentHidden(a, now)) continue;
        const rates = new Set<number>();
        let mismatches = 0;
        for (const ds of a.dataSources.values()) {
          if (reg.isHidden(ds, now) || !ds.flow || !(ds.samplingRate > 0)) continue;
          rates.add(ds.samplingRate);
          if (ds.effectiveSamplingRate > 0 && Math.abs(ds.effectiveSamplingRate - ds.samplingRate) / ds.samplingRate > 0.25) mismatches++;
        }
        out[a.address] = { samplingRates: [...rates].sort((x, y) => x - y), samplingRateMismatches: mismatches };
      }
      return sendJson(reply, out);
    });

    app.get('/apps/json', { schema: { summary: 'Installed apps and their health', tags: ['apps'] } }, async (_req, reply) => sendJson(reply, apps()));

    app.get('/app/:app/status', { schema: { summary: 'App status (text OK)', tags: ['apps'] } }, async (req, reply) => {
      const name = (req.params as { app: string }).app;
      const info = apps()[name];
      if (info === undefined || !Object.hasOwn(apps(), name)) throw new HttpError(404, 'unknown app');
      return reply.type('text/plain').send('OK');
    });

    app.get(
      '/app/sunburst/scripts/metrics.js/:chart/json',
      { schema: { summary: 'Sunburst tree (protocols, dns, process, gpu)', tags: ['apps'], params: { type: 'object', properties: { chart: { type: 'string', maxLength: 32 } }, required: ['chart'] } } },
      async (req, reply) => {
        const chart = (req.params as { chart: string }).chart;
        if (!(SUNBURST_CHARTS as readonly string[]).includes(chart)) throw new HttpError(404, 'not_found');
        return sendJson(reply, sunburstTree(chart as SunburstChart, e.query, flowsOf(), e.clock.now(), config));
      },
    );

    for (const name of ['browse-flows', 'browse-drops'] as const) {
      app.get(`/app/${name}/scripts/top.js/flowkeys/json`, { schema: { summary: 'Flow key names for type-ahead', tags: ['apps'] } }, async (req, reply) => {
        const search = first((req.query as Record<string, unknown>).search).slice(0, 256);
        return sendJson(reply, browserFor(name).flowKeys(search));
      });
      app.get(`/app/${name}/scripts/top.js/flows/json`, { schema: { summary: 'Top-N trend for keys/value/filter', tags: ['apps'] } }, async (req, reply) => {
        const q = req.query as Record<string, unknown>;
        const afterRaw = first(q.after);
        const after = afterRaw === '' ? null : Number(afterRaw);
        if (after !== null && !Number.isFinite(after)) throw new HttpError(400, 'bad_request');
        try {
          return sendJson(reply, browserFor(name).query(first(q.keys), first(q.value), first(q.filter), after, e.clock.now()));
        } catch (err) {
          if (err instanceof BadSpecError) throw new HttpError(400, `bad_request: ${err.message}`);
          throw err;
        }
      });
    }
  };
}

export default appRoutes();
