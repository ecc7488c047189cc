// The web UI (Vite build of web/, in dist/web) served from the API's HTTP port. URLs follow
// sFlow-RT: `/` is the Status page, apps live under `/app/<name>/html/index.html`.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import type { ApiPlugin } from './index.js';

/** Where the built UI is: dist/web next to dist/api (built), or <repo>/dist/web (from src). */
export function defaultWebRoot(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [resolve(here, '../web'), resolve(here, '../../dist/web')]) if (existsSync(join(c, 'index.html'))) return c;
  return null;
}

/** Serve the UI from `root` (default: `defaultWebRoot()`); without a build, `/` says how to make one. */
export function staticRoutes(root: string | null = defaultWebRoot()): ApiPlugin {
  return async (app: FastifyInstance, _opts: { ctx: ApiContext }) => {
    if (root === null || !existsSync(join(root, 'index.html'))) {
      app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('sflowscope: the web UI is not built (npm run build)\n'));
      return;
    }
    // One route per file (no wildcard), so unknown API paths keep their JSON 404 answers.
    await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'], cacheControl: false });
    app.get('/html/index.html', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/'));
  };
}

export default staticRoutes();
