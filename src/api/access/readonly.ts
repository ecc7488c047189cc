// --readonly, as sFlow-RT's http.readonly: every write is refused with 403 before routing, so
// flows, groups, maps and thresholds cannot change through the REST API. The UI apps and the
// Prometheus flow export still work: they define their (owner-tagged, unpersisted, idle-expiring)
// flows inside the server while answering GET requests, not through REST writes.

import type { FastifyInstance } from 'fastify';
import { isWrite } from './methods.js';
import { sendError } from '../errors.js';
import type { AccessStats } from './stats.js';

export function registerReadonly(app: FastifyInstance, stats: AccessStats): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!isWrite(req.method)) return;
    stats.httpReadonlyRefused++;
    return sendError(reply, 403, `this server is read-only (--readonly): ${req.method} is refused; only GET and HEAD are served`);
  });
}
