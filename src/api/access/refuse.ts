// Refusals share the API's JSON error shape through sendError (which also closes the connection
// when the refused request's body is still unread, so a refused 16 MiB PUT is not drained).
// errors.ts names no 401, the one status only access control answers: that one is built here.

import type { FastifyReply } from 'fastify';
import { sendError, type ErrorBody } from '../errors.js';

export function refuse(reply: FastifyReply, statusCode: 401 | 403 | 429, message: string): FastifyReply {
  if (statusCode !== 401) return sendError(reply, statusCode, message);
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  const body: ErrorBody = { error: 'Unauthorized', message, statusCode };
  return reply.code(401).type('application/json').send(JSON.stringify(body));
}
