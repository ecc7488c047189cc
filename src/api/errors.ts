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

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Messages quote user input (a name, a CIDR list entry...); a 16 MiB body must not come back in one. */
const MAX_MESSAGE_CHARS = 1024;

function errorBody(statusCode: number, message: string): string {
  const msg = message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
  const body: ErrorBody = { error: REASONS[statusCode] ?? 'Error', message: msg, statusCode };
  return JSON.stringify(body);
}

export function sendError(reply: FastifyReply, statusCode: number, message: string): FastifyReply {
  return reply.code(statusCode).type('application/json').send(errorBody(statusCode, message));
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Errors Fastify answers before routing (URL not decodable, parameter too long), in our JSON shape. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const code = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  // These come before routing, before any body is read, and no onSend hook runs for them (neither
  // closeAfterUnreadBody in http-options.ts nor the charset-stripping one): close here, and send
  // bytes, whose type Fastify leaves as given.
  reply.header('connection', 'close');
  void reply.code(code).type('application/json').send(Buffer.from(errorBody(code, err.message)));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return sendError(reply, err.statusCode, err.message);
    if (err instanceof QueryError) return sendError(reply, 400, err.message);
    const fe = err as FastifyError;
    if (fe.validation) return sendError(reply, 400, fe.message);
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = req.routeOptions.bodyLimit;
      return sendError(reply, 413, `request body too large: at most ${formatBytes(limit)} (${limit} bytes) on ${req.method} ${req.routeOptions.url ?? 'this route'} (--http-body-limit caps every route)`);
    }
    const code = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (code >= 400 && code < 500) return sendError(reply, code, fe.message);
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal error');
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => sendError(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`));
}
