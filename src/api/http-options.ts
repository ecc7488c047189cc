// How the HTTP(S) server itself is built from the config: body, header and time limits, TLS
// from certificate files, and the connection cap. Node's http server enforces these before any
// route runs, so a slow or oversized client costs a socket and a timer, not a handler.

import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
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
}
