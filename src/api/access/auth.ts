// Bearer tokens (RFC 6750) in front of the routes: `--auth-scope writes` guards every write,
// `all` every request but /status (liveness and readiness probes carry no credentials) and CORS
// preflights (browsers never send credentials on them).
//
// Status codes follow RFC 6750 §3.1: no credentials (or another scheme) → 401 with a bare
// `WWW-Authenticate: Bearer realm="sflowscope"`; a bearer token that is malformed or matches
// none → 401 with error="invalid_token". 403 (insufficient_scope) would mean a valid token that
// lacks a right, and every token has every right; 403 stays the answer of --readonly.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthScope } from '../../config.js';
import { isWrite } from './methods.js';
import { sendError } from '../errors.js';
import type { AccessStats } from './stats.js';
import { B64TOKEN, type TokenSet } from './tokens.js';

export const REALM = 'sflowscope';

/** Routes open with `--auth-scope all` (the route pattern, so `/status/` and `/status?x` match too). */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(['/status']);

export function needsToken(req: FastifyRequest, scope: AuthScope): boolean {
  if (req.method === 'OPTIONS') return false;
  if (scope === 'writes') return isWrite(req.method);
  return !OPEN_ROUTES.has(req.routeOptions.url ?? '');
}

/** The token of an `Authorization: Bearer ...` header; null without one, '' when malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  // Split by hand: a regex with a lazy group before trailing spaces is quadratic on a 16 KiB header.
  const h = header.trim();
  const sp = h.search(/\s/);
  if ((sp < 0 ? h : h.slice(0, sp)).toLowerCase() !== 'bearer') return null;
  const token = sp < 0 ? '' : h.slice(sp).trim();
  return B64TOKEN.test(token) ? token : '';
}

export function registerAuth(app: FastifyInstance, tokens: TokenSet, scope: AuthScope, stats: AccessStats): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!needsToken(req, scope)) return;
    const token = bearerToken(req.headers.authorization);
    if (token !== null && token !== '' && tokens.matches(token)) return;
    stats.httpAuthFailures++;
    if (token === null) {
      reply.header('WWW-Authenticate', `Bearer realm="${REALM}"`);
      return sendError(reply, 401, 'a bearer token is required: send "Authorization: Bearer <token>" (see docs/security.md)');
    }
    stats.httpAuthInvalidTokens++;
    req.log.debug({ ip: req.ip }, 'invalid bearer token');
    reply.header('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="the token is malformed or unknown"`);
    return sendError(reply, 401, 'invalid bearer token');
  });
}
