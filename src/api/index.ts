// The REST API: one fastify plugin per area, each given the ApiContext. Later issues add their
// plugins to the list passed to registerApi (flows: /flow, /activeflows...; Prometheus export).

import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import agentRoutes from './agents.js';
import type { ApiContext } from './context.js';
import { installErrorHandlers } from './errors.js';
import metricRoutes from './metrics.js';
import { registerApiDocsRoute, registerOpenApi } from './openapi.js';
import serverRoutes from './server.js';

export type ApiPlugin = FastifyPluginAsync<{ ctx: ApiContext }>;

/** The built-in route plugins, in registration order. */
export const CORE_API_PLUGINS: readonly ApiPlugin[] = [serverRoutes, agentRoutes, metricRoutes];

/** Hook, headers, error answers, OpenAPI, then every plugin (core first, then `extra`). */
export async function registerApi(app: FastifyInstance, ctx: ApiContext, extra: readonly ApiPlugin[] = []): Promise<void> {
  installErrorHandlers(app);
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Cache-Control', 'no-cache, no-store, must-revalidate');
    reply.header('Pragma', 'no-cache');
    // sFlow-RT answers `application/json` without a charset parameter.
    const ct = reply.getHeader('content-type');
    if (typeof ct === 'string' && ct.startsWith('application/json;')) reply.header('content-type', 'application/json');
    return payload;
  });
  await registerOpenApi(app, ctx.version);
  for (const p of [...CORE_API_PLUGINS, ...extra]) await app.register(p, { ctx });
  registerApiDocsRoute(app);
}

export type { ApiContext } from './context.js';
