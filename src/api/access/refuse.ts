// Refusals share the API's JSON error shape through sendError (closeAfterUnreadBody, in
// http-options.ts, closes the connection when the refused request's body is still unread, so a
// refused 16 MiB PUT is not drained).

import type { FastifyReply } from 'fastify';
import { sendError } from '../errors.js';

export function refuse(reply: FastifyReply, statusCode: 401 | 403 | 429, message: string): FastifyReply {
  return sendError(reply, statusCode, message);
}
