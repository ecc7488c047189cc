// How the HTTP(S) server itself is built from the config: body, header and time limits, TLS
// from certificate files, and the connection cap. Node's http server enforces these before any
// route runs, so a slow or oversized client costs a socket and a timer, not a handler.

import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config.js';
import { ConfigError } from '../config.js';
import type { HttpStats } from './context.js';

/** Certificate and key read from the configured files, or null for plain HTTP. Throws ConfigError. */
export function loadTls(config: Pick<ServerConfig, 'tlsCert' | 'tlsKey'>): { cert: Buffer; key: Buffer } | null {
  if (config.tlsCert === null && config.tlsKey === null) return null;
  if (config.tlsCert === null || config.tlsKey === null) throw new ConfigError('--tls-cert and --tls-key go together');
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ConfigError(`${flag}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', config.tlsCert), key: read('--tls-key', config.tlsKey) };
}

type Limits = Pick<ServerConfig, 'httpBodyLimit' | 'httpMaxHeaderBytes' | 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs'>;

/** Node checks header/request timeouts on this period; a quarter of the shortest keeps them near their value. */
function checkingInterval(c: Limits): number {
  return Math.max(100, Math.min(30_000, Math.floor(Math.min(c.httpHeadersTimeoutMs, c.httpRequestTimeoutMs) / 4)));
}

/** The Fastify factory options that carry the limits (and TLS when configured). */
export function fastifyServerOptions(c: Limits, tls: { cert: Buffer; key: Buffer } | null): Record<string, unknown> {
  // Node requires headersTimeout <= requestTimeout.
  const headersTimeout = Math.min(c.httpHeadersTimeoutMs, c.httpRequestTimeoutMs);
  const serverOpts = { maxHeaderSize: c.httpMaxHeaderBytes, headersTimeout, requestTimeout: c.httpRequestTimeoutMs, connectionsCheckingInterval: checkingInterval(c) };
  return {
    bodyLimit: c.httpBodyLimit,
    requestTimeout: c.httpRequestTimeoutMs,
    keepAliveTimeout: c.httpKeepAliveTimeoutMs,
    // No idle-socket timeout beyond the above: a long-poll waits silently for up to a minute.
    connectionTimeout: 0,
    ...(tls !== null ? { https: { ...tls, ...serverOpts } } : { http: serverOpts }),
  };
}

/** Apply what the factory options cannot carry (https ignores `http`), and cap connections. */
export function applyServerLimits(server: Server, c: Limits & Pick<ServerConfig, 'httpMaxConnections'>, stats: HttpStats): void {
  server.headersTimeout = Math.min(c.httpHeadersTimeoutMs, c.httpRequestTimeoutMs);
  server.requestTimeout = c.httpRequestTimeoutMs;
  // Node closes connections beyond maxConnections as they arrive and emits 'drop' for each.
  server.maxConnections = c.httpMaxConnections;
  server.on('drop', () => {
    stats.connectionsRefused++;
  });
  // Fastify answers these (its own clientError listener); this one only counts them. A client
  // that resets its connection is not an error of its request.
  server.on('clientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
    if (err.code === 'HPE_HEADER_OVERFLOW') stats.requestsHeadersTooLarge++;
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') stats.requestsTimedOut++;
    else stats.requestsMalformed++;
  });
  // Node answers `Expect: 100-continue` by itself, inviting a body we are about to refuse; with
  // a listener it is ours to decide: no invitation past the cap, the route's 413 follows at once.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > c.httpBodyLimit)) res.writeContinue();
    server.emit('request', req, res);
  });
}

/** How long a connection whose body we refused may stay open after the answer (see lingerThenClose). */
export const LINGER_MS = 2_000;

/**
 * Close the connection after answering a request whose body was not read (a body sent to a
 * route that takes none, or refused with 413): Node would otherwise drain it after the answer,
 * for as long as the client keeps sending (up to --http-request-timeout), before the next request.
 */
export function closeAfterUnreadBody(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete) {
      reply.header('connection', 'close');
      lingerThenClose(req.raw.socket);
    }
    return payload;
  });
}

/**
 * Node ends a `Connection: close` answer with socket.destroySoon(): the socket is closed as soon
 * as the answer is handed to the kernel. With the client's body still arriving, that close sends
 * a TCP reset, which can discard the answer (our 413) before the client has read it — the client
 * sees "connection reset" instead of the reason. Half-close instead, and close when the client
 * does, or after LINGER_MS at most.
 */
function lingerThenClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('end', () => this.destroy());
    this.once('close', () => clearTimeout(timer));
  };
}
