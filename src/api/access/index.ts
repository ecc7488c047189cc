// Access control of the HTTP API (docs/security.md). Registered by src/app.ts before any route,
// so every hook below also runs for unknown paths (a write to a 404 path is still refused).
//
// onRequest order: security headers (on every answer, refusals included) → CORS (answers
// allowed preflights itself) → write rate limit → bearer token → read-only. Authentication
// comes before read-only so that an anonymous client learns nothing beyond "401".

import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../../config.js';
import type { ApiContext } from '../context.js';
import { registerAuth } from './auth.js';
import { parseCorsOrigins, registerCors } from './cors.js';
import { registerSecurityHeaders } from './headers.js';
import { registerWriteRateLimit } from './rate-limit.js';
import { registerReadonly } from './readonly.js';
import { newAccessStats } from './stats.js';
import { SHORT_TOKEN_CHARS, TokenSet } from './tokens.js';

export type { AccessStats } from './stats.js';

type AccessConfig = Pick<ServerConfig, 'readonly' | 'authTokenFile' | 'authScope' | 'tlsCert' | 'tlsKey' | 'corsOrigin' | 'writeRateLimit'>;

/** Hooks and plugins that decide who may do what: read-only mode, tokens, CORS, headers, write rate limits. Throws ConfigError. */
export async function registerAccess(app: FastifyInstance, config: AccessConfig, ctx: Pick<ApiContext, 'analyzerExtras' | 'access'>): Promise<void> {
  // Everything that can refuse the configuration is read before anything is registered.
  const tokens = config.authTokenFile !== null ? TokenSet.load(config.authTokenFile) : null;
  const origins = parseCorsOrigins(config.corsOrigin);
  const tls = config.tlsCert !== null && config.tlsKey !== null;

  const stats = newAccessStats();
  ctx.access = stats;
  ctx.analyzerExtras.push(() => ({ ...stats }));

  await registerSecurityHeaders(app, tls);
  await registerCors(app, origins, config.readonly, stats);
  await registerWriteRateLimit(app, config.writeRateLimit, stats);
  if (tokens !== null) registerAuth(app, tokens, config.authScope, stats);
  if (config.readonly) registerReadonly(app, stats);

  app.log.info(
    {
      readonly: config.readonly,
      auth: tokens === null ? 'off' : { scope: config.authScope, tokens: tokens.size },
      cors: origins === null ? 'off' : origins === '*' ? '*' : [...origins],
      writeRateLimit: config.writeRateLimit,
      tls,
    },
    'HTTP access control',
  );
  if (tokens !== null && tokens.shortTokens > 0) app.log.warn({ shortTokens: tokens.shortTokens }, `--auth-token-file: tokens shorter than ${SHORT_TOKEN_CHARS} characters can be guessed (use e.g. openssl rand -hex 32)`);
}
