// Error answers: 400 for a bad request, 404 for an unknown route or resource, always JSON; a
// user's input never produces a 500 (anything unexpected is logged and answered 500 generically).

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueryError } from '../engine/query.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: string;
  message: string;
  statusCode: number;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export function sendError(reply: FastifyReply, statusCode: number, message: string): FastifyReply {
  const body: ErrorBody = { error: REASONS[statusCode] ?? 'Error', message, statusCode };
  return reply.code(statusCode).type('application/json').send(JSON.stringify(body));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return sendError(reply, err.statusCode, err.message);
    if (err instanceof QueryError) return sendError(reply, 400, err.message);
    const fe = err as FastifyError;
    if (fe.validation) return sendError(reply, 400, fe.message);
    const code = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (code >= 400 && code < 500) return sendError(reply, code, fe.message);
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal error');
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => sendError(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`));
}
