// Raw HTTP/1.1 over loopback TCP for the hostile-input tests: fetch/undici normalise or refuse
// most of what a misbehaving client sends (bad bytes, conflicting lengths, trickled headers),
// so requests here are written byte for byte on a `net` socket and the answer is parsed by hand.

import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { startServer, type RunningServer, type ServerOptions } from '../../src/app.js';
import { createLogger } from '../../src/log.js';

export interface RawAnswer {
  /** Status of the first final (non-1xx) answer, or null if none arrived. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** The server closed (or reset) the connection before we gave up. */
  closed: boolean;
  /** Milliseconds from connect to the end of the exchange (answer complete, close, or giving up). */
  ms: number;
  /** Everything received, as latin1. */
  raw: string;
}

export interface RawOptions {
  /** Give up after this long (liveness bound, not a timing assertion). Default 10 s. */
  waitMs?: number;
  /** Keep the socket until the server closes it (or waitMs), not just until the answer is complete. */
  untilClose?: boolean;
  /** Called once connected, instead of writing `data` at once: a misbehaving client. */
  send?: (sock: net.Socket) => Promise<void> | void;
}

/** Parse the first final HTTP answer in `raw`; null while incomplete. */
export function parseAnswer(raw: Buffer): { status: number; headers: Record<string, string>; body: string; end: number } | null {
  let off = 0;
  for (;;) {
    const headEnd = raw.indexOf('\r\n\r\n', off);
    if (headEnd < 0) return null;
    const lines = raw.subarray(off, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`not an HTTP answer: ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      off = bodyStart;
      continue;
    }
    if (headers['transfer-encoding'] === 'chunked') {
      let p = bodyStart;
      const parts: Buffer[] = [];
      for (;;) {
        const le = raw.indexOf('\r\n', p);
        if (le < 0) return null;
        const size = parseInt(raw.subarray(p, le).toString('latin1'), 16);
        if (raw.length < le + 2 + size + 2) return null;
        parts.push(raw.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
        if (size === 0) return { status, headers, body: Buffer.concat(parts).toString('utf8'), end: p };
      }
    }
    const len = Number(headers['content-length'] ?? 0);
    if (raw.length < bodyStart + len) return null;
    return { status, headers, body: raw.subarray(bodyStart, bodyStart + len).toString('utf8'), end: bodyStart + len };
  }
}

/** Send `data` (or run `opts.send`) on a fresh loopback connection and read the first answer. */
export function rawRequest(port: number, data: string | Buffer | null, opts: RawOptions = {}): Promise<RawAnswer> {
  const waitMs = opts.waitMs ?? 10_000;
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks);
      let a: ReturnType<typeof parseAnswer> = null;
      try {
        a = parseAnswer(raw);
      } catch {
        a = null;
      }
      resolve({ status: a?.status ?? null, headers: a?.headers ?? {}, body: a?.body ?? '', closed, ms: Date.now() - t0, raw: raw.toString('latin1') });
    };
    const timer = setTimeout(finish, waitMs);
    sock.on('data', (c) => {
      chunks.push(c);
      if (!opts.untilClose) {
        try {
          if (parseAnswer(Buffer.concat(chunks)) !== null) finish();
        } catch {
          finish();
        }
      }
    });
    // A reset (the server closing while we still write) ends the exchange like a close.
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('connect', () => {
      if (opts.send) Promise.resolve(opts.send(sock)).catch(() => undefined);
      else if (data !== null) sock.write(data);
    });
  });
}

/** A GET with `Connection: close`. */
export function get(path: string, headers = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Write `bytes` one slice at a time, `everyMs` apart, until done or the socket closes. */
export async function trickle(sock: net.Socket, bytes: Buffer | string, everyMs: number, sliceBytes = 1): Promise<void> {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1');
  for (let i = 0; i < b.length && !sock.destroyed && sock.writable; i += sliceBytes) {
    sock.write(b.subarray(i, i + sliceBytes));
    await sleep(everyMs);
  }
}

/**
 * Asks GET /status on a fresh connection every `everyMs`, all along a test file, and remembers
 * every answer that was not 200 "OK". Paused while a test deliberately fills every connection.
 */
export class StatusPoller {
  ok = 0;
  readonly failures: string[] = [];
  private paused = false;
  private running = true;
  private loop: Promise<void> | null = null;
  maxRssBytes = 0;

  constructor(
    private readonly port: number,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.loop = (async () => {
      while (this.running) {
        this.maxRssBytes = Math.max(this.maxRssBytes, process.memoryUsage().rss);
        if (!this.paused) {
          const a = await rawRequest(this.port, get('/status'), { waitMs: 5_000 });
          if (a.status === 200 && a.body === 'OK') this.ok++;
          else if (!this.paused) this.failures.push(`${new Date().toISOString()} status=${a.status} closed=${a.closed} ${a.raw.slice(0, 120)}`);
        }
        await sleep(this.everyMs);
      }
    })();
    return this;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Log records at warn and above, so a test can say "nothing failed inside the server". */
export class LogSink implements DestinationStream {
  readonly records: { level: number; msg: string; err?: { message?: string; stack?: string } }[] = [];
  write(line: string): void {
    try {
      this.records.push(JSON.parse(line) as LogSink['records'][number]);
    } catch {
      this.records.push({ level: 60, msg: line });
    }
  }
  /** Error and fatal records (a 500 is logged as "request failed" at error). */
  errors(): string[] {
    return this.records.filter((r) => r.level >= 50).map((r) => `${r.msg}: ${r.err?.stack ?? r.err?.message ?? ''}`);
  }
}

export interface HostileServer {
  server: RunningServer;
  port: number;
  log: LogSink;
  poller: StatusPoller;
  /** Stop the poller and the server; returns the poller for its verdict. */
  close(): Promise<StatusPoller>;
}

/** A real server on a free loopback port, with a log sink and a /status poller. */
export async function hostileServer(options: ServerOptions = {}): Promise<HostileServer> {
  const log = new LogSink();
  const dataDir = mkdtempSync(join(tmpdir(), 'sflowscope-hostile-http-'));
  const server = await startServer({
    httpPort: 0,
    httpBind: '127.0.0.1',
    sflowPort: -1,
    dataDir,
    logLevel: 'warn',
    logger: createLogger('warn', log),
    // Hundreds of writes from one address are the point here, not a rate-limit test.
    writeRateLimit: 0,
    ...options,
  });
  const poller = new StatusPoller(server.httpPort).start();
  return {
    server,
    port: server.httpPort,
    log,
    poller,
    close: async () => {
      await poller.stop();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      return poller;
    },
  };
}
