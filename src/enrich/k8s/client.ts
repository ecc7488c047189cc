// A minimal Kubernetes API client over node:http/https: JSON GETs (list pages) and watch streams
// (newline-delimited JSON watch events over a chunked response — what the API server writes),
// bearer token / client certificate / basic auth, a custom CA, gzip'd list responses.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { KubeConnection } from './connection.js';

export interface KubeClientOptions {
  /** Socket inactivity limit for list requests. */
  requestTimeoutMs: number;
  /** Largest list page or error body read. */
  maxBodyBytes: number;
  /** Largest single watch event (one JSON line). */
  maxEventBytes: number;
  userAgent: string;
}

/** A non-2xx answer; `reason` and `message` from the API's Status object when it sent one. */
export class KubeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
    /** Seconds, from Retry-After (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A watch ended because the resource version is too old (HTTP 410 or an ERROR event with code 410): list again. */
export class GoneError extends Error {}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR' | string;
  object: Record<string, unknown>;
}

export class KubeClient {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly active = new Set<ClientRequest>();
  private closed = false;

  constructor(
    private readonly conn: KubeConnection,
    private readonly opts: KubeClientOptions,
  ) {
    this.url = new URL(conn.server);
    if (this.url.protocol === 'https:') {
      this.agent = new HttpsAgent({
        keepAlive: true,
        keepAliveMsecs: 30_000,
        maxSockets: 16,
        ...(conn.ca ? { ca: conn.ca } : {}),
        ...(conn.cert && conn.key ? { cert: conn.cert, key: conn.key } : {}),
        rejectUnauthorized: !conn.insecureSkipTlsVerify,
        ...(conn.tlsServerName ? { servername: conn.tlsServerName } : {}),
      });
    } else {
      this.agent = new HttpAgent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 16 });
    }
  }

  private async headers(gzip: boolean): Promise<Record<string, string>> {
    const h: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.opts.userAgent };
    if (gzip) h['Accept-Encoding'] = 'gzip';
    let token = this.conn.token;
    if (this.conn.tokenFile) {
      try {
        token = (await readFile(this.conn.tokenFile, 'utf8')).trim();
      } catch {
        // keep the static token, if any; the server will say 401
      }
    }
    if (token) h.Authorization = `Bearer ${token}`;
    else if (this.conn.username && this.conn.password) {
      h.Authorization = `Basic ${Buffer.from(`${this.conn.username}:${this.conn.password}`).toString('base64')}`;
    }
    return h;
  }

  /** Send a GET; resolves with the response once its headers arrived (any status). */
  async open(path: string, query: Record<string, string>, idleTimeoutMs: number, gzip: boolean): Promise<IncomingMessage> {
    if (this.closed) throw new Error('client closed');
    const headers = await this.headers(gzip);
    const u = new URL(this.url.pathname.replace(/\/$/, '') + path, this.url);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(u, { method: 'GET', agent: this.agent, headers });
      this.active.add(req);
      req.on('close', () => this.active.delete(req));
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data for ${Math.round(idleTimeoutMs / 1000)} s`)));
      req.on('error', reject);
      req.on('response', resolve);
      req.end();
    });
  }

  private static body(res: IncomingMessage): Readable {
    return res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
  }

  private async readAll(res: IncomingMessage): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of KubeClient.body(res)) {
      n += (chunk as Buffer).length;
      if (n > this.opts.maxBodyBytes) {
        res.destroy();
        throw new Error(`response larger than ${this.opts.maxBodyBytes} bytes`);
      }
      parts.push(chunk as Buffer);
    }
    return Buffer.concat(parts);
  }

  /** Throws KubeHttpError (GoneError for 410) unless the status is 2xx. */
  private async check(res: IncomingMessage): Promise<void> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    let reason: string | undefined;
    let message = `HTTP ${status}`;
    try {
      const b = await this.readAll(res);
      const s = JSON.parse(b.toString('utf8')) as { reason?: string; message?: string };
      reason = s.reason;
      if (s.message) message = `HTTP ${status} ${s.reason ?? ''}: ${s.message}`.replace(' :', ':');
    } catch {
      res.destroy();
    }
    if (status === 410) throw new GoneError(message);
    const ra = Number(res.headers['retry-after']);
    throw new KubeHttpError(status, reason, message, Number.isFinite(ra) && ra > 0 ? ra : undefined);
  }

  /** GET a JSON document (a list page). */
  async getJson(path: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    const res = await this.open(path, query, this.opts.requestTimeoutMs, true);
    await this.check(res);
    const b = await this.readAll(res);
    const v = JSON.parse(b.toString('utf8')) as unknown;
    if (!v || typeof v !== 'object') throw new Error(`${path}: not a JSON object`);
    return v as Record<string, unknown>;
  }

  /**
   * Open a watch and yield its events as they arrive. Returns when the server ends the stream
   * (timeoutSeconds); throws on HTTP errors (GoneError for 410), broken JSON, oversized events,
   * or when the connection drops.
   */
  async *watch(path: string, query: Record<string, string>, idleTimeoutMs: number, onOpen?: () => void): AsyncGenerator<WatchEvent> {
    const res = await this.open(path, { ...query, watch: '1' }, idleTimeoutMs, false);
    await this.check(res);
    onOpen?.();
    const max = this.opts.maxEventBytes;
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const parse = (line: Buffer): WatchEvent | null => {
      let i = 0;
      while (i < line.length && (line[i] === 0x20 || line[i] === 0x0d || line[i] === 0x09)) i++;
      if (i === line.length) return null;
      const ev = JSON.parse(line.toString('utf8')) as WatchEvent;
      if (!ev || typeof ev.type !== 'string' || !ev.object || typeof ev.object !== 'object') throw new Error('malformed watch event');
      return ev;
    };
    try {
      for await (const c of KubeClient.body(res)) {
        const chunk = c as Buffer;
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf(10, start);
          if (nl < 0) {
            if (start < chunk.length) {
              pending.push(chunk.subarray(start));
              pendingLen += chunk.length - start;
              if (pendingLen > max) throw new Error(`watch event larger than ${max} bytes`);
            }
            break;
          }
          const part = chunk.subarray(start, nl);
          start = nl + 1;
          let line = part;
          if (pendingLen > 0) {
            pending.push(part);
            line = Buffer.concat(pending);
            pending = [];
            pendingLen = 0;
          }
          if (line.length > max) throw new Error(`watch event larger than ${max} bytes`);
          const ev = parse(line);
          if (ev) yield ev;
        }
      }
      if (pendingLen > 0) {
        const ev = parse(Buffer.concat(pending));
        if (ev) yield ev;
      }
    } finally {
      if (!res.complete) res.destroy();
    }
  }

  /** Abort every request in flight and close idle connections. */
  close(): void {
    this.closed = true;
    for (const r of this.active) r.destroy(new Error('client closed'));
    this.active.clear();
    this.agent.destroy();
  }
}
