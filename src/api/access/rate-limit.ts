// --write-rate-limit: writes (PUT, POST, DELETE, PATCH...) per client address per minute, reads
// never counted. Checked before tokens and read-only mode, so refused writes (token guessing
// included) spend the budget too. Per socket address: behind a reverse proxy every client shares
// the proxy's budget (no X-Forwarded-For is trusted). IPv6 clients are grouped by /64, as one
// host usually owns a whole /64.

import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { isWrite } from './methods.js';
import { sendError } from '../errors.js';
import type { AccessStats } from './stats.js';

/** Client addresses tracked at once (LRU): bounds the memory a flood of source addresses can take. */
export const RATE_LIMIT_CLIENTS = 10_000;
export const RATE_LIMIT_WINDOW_MS = 60_000;

export async function registerWriteRateLimit(app: FastifyInstance, perMinute: number, stats: AccessStats): Promise<void> {
  if (!(perMinute > 0)) return;
  // global: false — the plugin would otherwise hook every route, reads included; we call it for writes only.
  await app.register(rateLimit, { global: false, max: perMinute, timeWindow: RATE_LIMIT_WINDOW_MS, cache: RATE_LIMIT_CLIENTS });
  const check = app.createRateLimit();
  app.addHook('onRequest', async (req, reply) => {
    if (!isWrite(req.method)) return;
    const r = await check(req);
    if (r.isAllowed) return;
    reply.header('x-ratelimit-limit', r.max);
    reply.header('x-ratelimit-remaining', r.remaining);
    reply.header('x-ratelimit-reset', r.ttlInSeconds);
    if (!r.isExceeded) return;
    stats.httpWritesRateLimited++;
    reply.header('retry-after', Math.max(1, r.ttlInSeconds));
    const client = r.key.includes(':') ? `${r.key}/64` : r.key;
    return sendError(reply, 429, `too many changes from ${client}: at most ${r.max} writes per minute (--write-rate-limit); retry in ${Math.max(1, r.ttlInSeconds)} s`);
  });
}
