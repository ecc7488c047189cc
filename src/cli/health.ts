// `sflowscope health`: exit 0 when the server configured by the same flags and environment as
// `serve` answers /status with 200, else 1. The image's HEALTHCHECK runs it, so the probe follows
// the configuration (port, bind address, TLS) instead of guessing http://127.0.0.1:8008.

import http from 'node:http';
import https from 'node:https';
import { ConfigError, parseServeArgs } from '../config.js';

const TIMEOUT_MS = 4000;

/** Where the local server answers: its bind address, or loopback when it binds every address. */
export function statusUrl(bind: string, port: number, tls: boolean): string {
  const host = bind === '::' || bind === '0.0.0.0' || bind === '' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  return `${tls ? 'https' : 'http'}://${host}:${port}/status`;
}

export function probe(url: string, timeoutMs = TIMEOUT_MS): Promise<number | null> {
  const tls = url.startsWith('https:');
  return new Promise((resolve) => {
    // The certificate names the Service, not the loopback address, and only our own process is
    // asked: the probe checks liveness, not identity.
    const req = (tls ? https : http).get(url, { timeout: timeoutMs, ...(tls ? { rejectUnauthorized: false } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    const parsed = parseServeArgs(argv);
    if (parsed.help) {
      process.stdout.write('Usage: sflowscope health [serve options]\n\nExit 0 when the local server answers /status with 200 (it reads the same flags and\nSFLOWSCOPE_* environment as `serve`: port, bind address, TLS).\n');
      return 0;
    }
    config = parsed.config;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`sflowscope health: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const url = statusUrl(config.httpBind, config.httpPort, config.tlsCert !== null);
  const status = await probe(url);
  if (status === 200) return 0;
  process.stderr.write(`sflowscope health: ${url} answered ${status ?? 'nothing'}\n`);
  return 1;
}
