// Cross-origin access, off unless --cors-origin lists origins (or `*`). Off, a browser page of
// another origin may send simple requests but cannot read the answers, and its preflights get 404
// (no OPTIONS route), so it cannot send a JSON PUT at all. On, only the listed origins get CORS
// headers; a preflight from any other origin gets the same 404.
//
// Credentials are bearer tokens, never cookies, so Access-Control-Allow-Credentials is not sent
// and `*` cannot be used to ride on a user's browser session.

import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConfigError, splitList } from '../../config.js';
import type { AccessStats } from './stats.js';

export type CorsOrigins = '*' | ReadonlySet<string>;

/** `--cors-origin`: '' → null (off); `*`; or a comma list of origins such as https://grafana.example.com:3000. Throws ConfigError. */
export function parseCorsOrigins(raw: string): CorsOrigins | null {
  const items = splitList(raw);
  if (items.length === 0) return null;
  if (items.includes('*')) {
    if (items.length > 1) throw new ConfigError('--cors-origin: `*` stands alone (it already allows every origin)');
    return '*';
  }
  const out = new Set<string>();
  for (const item of items) {
    let url: URL | null = null;
    try {
      url = new URL(item);
    } catch {
      url = null;
    }
    if (url === null || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw new ConfigError(`--cors-origin: not an origin: ${JSON.stringify(item)} (scheme://host[:port], e.g. https://grafana.example.com)`);
    }
    // Browsers send the serialized origin (lower-case host, no default port): compare with that form.
    out.add(url.origin);
  }
  return out;
}

function allowed(origins: CorsOrigins | null, origin: string): boolean {
  return origins === '*' || (origins !== null && origins.has(origin));
}

/** The server's own origin as the browser sees it (a same-origin POST carries an Origin header too). */
function ownOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`.toLowerCase();
}

export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Accept'];
export const CORS_EXPOSED_HEADERS = ['Retry-After', 'WWW-Authenticate', 'X-Sflowscope-Series-Dropped'];

export async function registerCors(app: FastifyInstance, origins: CorsOrigins | null, readonly: boolean, stats: AccessStats): Promise<void> {
  // Counted whether CORS is on or off: a page of a foreign origin calling the API is worth seeing.
  app.addHook('onRequest', async (req) => {
    const origin = req.headers.origin;
    if (origin === undefined || allowed(origins, origin) || origin.toLowerCase() === ownOrigin(req)) return;
    stats.httpCorsRefused++;
  });
  if (origins === null) return;
  await app.register(cors, {
    // A function, not the list itself: for an unlisted origin it turns CORS off for the request,
    // so the preflight finds no OPTIONS answer (404) instead of a 204 without Allow-Origin.
    origin: origins === '*' ? '*' : (origin, cb) => cb(null, origin !== undefined && origins.has(origin) ? origin : false),
    methods: readonly ? ['GET', 'HEAD'] : ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
  });
}
