// A local HTTP(S) server speaking the Kubernetes list/watch protocol for pods, services, nodes
// and discovery.k8s.io/v1 EndpointSlices, for testing the client without a cluster:
//   - lists: `limit`/`continue` pagination, `metadata.resourceVersion`; a `continue` token older
//     than the compaction point answers HTTP 410 (reason Expired), as the real server does;
//   - watches: `watch=1&resourceVersion=N` replays the retained history after N then streams live
//     events as newline-delimited JSON over a chunked response; BOOKMARK events on demand when
//     `allowWatchBookmarks=true`; a resourceVersion older than the compaction point gets HTTP 200
//     and an ERROR event carrying a 410 Status (what kube-apiserver sends), or HTTP 410 with
//     `goneAsHttpStatus`; `timeoutSeconds` ends the stream; without resourceVersion the watch starts
//     with synthetic ADDED events for every object;
//   - bearer-token authentication (401 Status otherwise), injected failures, connection drops.
// What it does not do: field/label selectors, resourceVersionMatch, consistent snapshots across
// list pages (pages are cut from the current state), watch-cache semantics of resourceVersion=0,
// server-side apply, HTTP/2, API discovery, RBAC. Every resourceVersion is one global counter.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';

export type FakeKind = 'pods' | 'services' | 'endpointslices' | 'nodes';

const PATHS: Record<string, FakeKind> = {
  '/api/v1/pods': 'pods',
  '/api/v1/services': 'services',
  '/api/v1/nodes': 'nodes',
  '/apis/discovery.k8s.io/v1/endpointslices': 'endpointslices',
};

const TYPE: Record<FakeKind, { kind: string; apiVersion: string }> = {
  pods: { kind: 'Pod', apiVersion: 'v1' },
  services: { kind: 'Service', apiVersion: 'v1' },
  nodes: { kind: 'Node', apiVersion: 'v1' },
  endpointslices: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
};

type Obj = Record<string, any>;

interface HistoryEvent {
  rv: number;
  kind: FakeKind;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface OpenWatch {
  kind: FakeKind;
  res: ServerResponse;
  bookmarks: boolean;
  timer: NodeJS.Timeout | null;
  /** Split writes still going out (splitEvents). */
  chain: Promise<void> | null;
}

export interface RecordedRequest {
  kind: FakeKind | null;
  watch: boolean;
  query: Record<string, string>;
  authorization: string | undefined;
  status: number;
}

export interface FakeApiServerOptions {
  /** Require `Authorization: Bearer <token>` (changeable later through `token`). */
  token?: string;
  /** Serve HTTPS with this key and certificate (PEM); ask for client certificates signed by `clientCa`. */
  tls?: { key: string; cert: string; clientCa?: string };
  /** Answer too-old watches with HTTP 410 instead of a 200 + ERROR event. */
  goneAsHttpStatus?: boolean;
  /** Write each watch event in three pieces, a few ms apart, cut inside multi-byte characters. */
  splitEvents?: boolean;
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function keyOf(o: Obj): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : String(m.name);
}

export class FakeApiServer {
  token: string | undefined;
  /** Called for each request before it is served (tests change state at precise protocol points). */
  onRequest: ((r: RecordedRequest) => void) | null = null;
  readonly requests: RecordedRequest[] = [];
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly objects: Record<FakeKind, Map<string, Obj>> = { pods: new Map(), services: new Map(), endpointslices: new Map(), nodes: new Map() };
  private history: HistoryEvent[] = [];
  private rv = 1000;
  private compactedRv = 0;
  private readonly watches = new Set<OpenWatch>();
  private failures: { status: number; reason: string; kind?: FakeKind; watchOnly?: boolean }[] = [];
  private uidSeq = 0;

  constructor(private readonly opts: FakeApiServerOptions = {}) {
    this.token = opts.token;
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server = opts.tls
      ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert, ...(opts.tls.clientCa ? { ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
      : createHttpServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // ---- state ------------------------------------------------------------------------------

  /** Create or replace an object (ADDED / MODIFIED); returns its new resourceVersion. */
  set(kind: FakeKind, obj: Obj): number {
    const o = structuredClone(obj);
    o.kind ??= TYPE[kind].kind;
    o.apiVersion ??= TYPE[kind].apiVersion;
    o.metadata ??= {};
    const key = keyOf(o);
    const existed = this.objects[kind].get(key);
    o.metadata.uid ??= existed?.metadata?.uid ?? `00000000-0000-4000-8000-${String(++this.uidSeq).padStart(12, '0')}`;
    o.metadata.resourceVersion = String(++this.rv);
    this.objects[kind].set(key, o);
    this.emit({ rv: this.rv, kind, type: existed ? 'MODIFIED' : 'ADDED', object: o });
    return this.rv;
  }

  /** Delete an object (DELETED, carrying the object at its final resourceVersion). */
  delete(kind: FakeKind, namespace: string | undefined, name: string): number {
    const key = namespace ? `${namespace}/${name}` : name;
    const existed = this.objects[kind].get(key);
    if (!existed) throw new Error(`no ${kind} ${key}`);
    this.objects[kind].delete(key);
    const o = structuredClone(existed);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, kind, type: 'DELETED', object: o });
    return this.rv;
  }

  get(kind: FakeKind, key: string): Obj | undefined {
    return this.objects[kind].get(key);
  }

  count(kind: FakeKind): number {
    return this.objects[kind].size;
  }

  /** Advance the resourceVersion without an event of the given kinds (other resources changing). */
  bump(n = 1): number {
    this.rv += n;
    return this.rv;
  }

  /** Send a BOOKMARK with the current resourceVersion to every watch that allows them. */
  bookmark(): number {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      this.write(w, { type: 'BOOKMARK', object: { kind: TYPE[w.kind].kind, apiVersion: TYPE[w.kind].apiVersion, metadata: { resourceVersion: String(this.rv) } } });
    }
    return this.rv;
  }

  /** Forget history up to now (etcd compaction): older resourceVersions and continue tokens are Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Send every open watch an ERROR event with a 410 Status and end it. */
  expireWatches(): void {
    for (const w of [...this.watches]) {
      this.write(w, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${this.compactedRv - 1} (${this.compactedRv})`) });
      this.endWatch(w);
    }
  }

  /** End every open watch normally (as timeoutSeconds would). */
  endWatches(): void {
    for (const w of [...this.watches]) this.endWatch(w);
  }

  /** Cut every connection (a network failure, an API server restart). */
  dropConnections(): void {
    for (const w of this.watches) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
    for (const s of this.sockets) s.destroy();
  }

  /** Answer the next `times` matching requests with an error Status. */
  failNext(times: number, statusCode: number, reason: string, filter: { kind?: FakeKind; watchOnly?: boolean } = {}): void {
    for (let i = 0; i < times; i++) this.failures.push({ status: statusCode, reason, ...filter });
  }

  openWatches(kind?: FakeKind): number {
    let n = 0;
    for (const w of this.watches) if (kind === undefined || w.kind === kind) n++;
    return n;
  }

  // ---- protocol ---------------------------------------------------------------------------

  private emit(ev: HistoryEvent): void {
    this.history.push(ev);
    if (this.history.length > 10_000) this.history.splice(0, this.history.length - 10_000);
    for (const w of this.watches) if (w.kind === ev.kind) this.write(w, { type: ev.type, object: ev.object });
  }

  private write(w: OpenWatch, ev: Obj): void {
    const bytes = Buffer.from(`${JSON.stringify(ev)}\n`, 'utf8');
    if (!this.opts.splitEvents || bytes.length < 8) {
      w.res.write(bytes);
      return;
    }
    // Three pieces, cut one byte after a multi-byte character starts when there is one.
    let cut = bytes.findIndex((b) => b >= 0xc0) + 1;
    if (cut <= 0 || cut >= bytes.length - 2) cut = Math.floor(bytes.length / 3);
    const cut2 = Math.max(cut + 1, Math.floor((bytes.length * 2) / 3));
    const pieces = [bytes.subarray(0, cut), bytes.subarray(cut, cut2), bytes.subarray(cut2)];
    // Queue behind earlier pieces so events stay in order: the next event starts only after the
    // last piece of this one was written.
    w.chain = (w.chain ?? Promise.resolve()).then(
      () =>
        new Promise<void>((done) => {
          const send = (i: number): void => {
            if (i >= pieces.length || w.res.destroyed) return done();
            w.res.write(pieces[i]);
            setTimeout(() => send(i + 1), 3);
          };
          send(0);
        }),
    );
  }

  private endWatch(w: OpenWatch): void {
    if (w.timer) clearTimeout(w.timer);
    this.watches.delete(w);
    if (w.chain) void w.chain.then(() => w.res.end());
    else w.res.end();
  }

  private reply(res: ServerResponse, code: number, body: Obj): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const kind = PATHS[u.pathname] ?? null;
    const query = Object.fromEntries(u.searchParams);
    const watch = query.watch === '1' || query.watch === 'true';
    const rec: RecordedRequest = { kind, watch, query, authorization: req.headers.authorization, status: 200 };
    this.requests.push(rec);
    this.onRequest?.(rec);
    const fail = (code: number, reason: string, message: string): void => {
      rec.status = code;
      this.reply(res, code, status(code, reason, message));
    };
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) return fail(401, 'Unauthorized', 'Unauthorized');
    if (req.method !== 'GET') return fail(405, 'MethodNotAllowed', 'only GET');
    if (kind === null) return fail(404, 'NotFound', `the server could not find the requested resource (${u.pathname})`);
    const fi = this.failures.findIndex((f) => (f.kind === undefined || f.kind === kind) && (!f.watchOnly || watch));
    if (fi >= 0) {
      const f = this.failures.splice(fi, 1)[0]!;
      return fail(f.status, f.reason, `injected ${f.status}`);
    }
    if (watch) this.serveWatch(kind, query, res, rec);
    else this.serveList(kind, query, res, rec);
  }

  private serveList(kind: FakeKind, q: Record<string, string>, res: ServerResponse, rec: RecordedRequest): void {
    const all = [...this.objects[kind].values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    let offset = 0;
    let listRv = this.rv;
    if (q.continue) {
      let tok: { rv: number; offset: number };
      try {
        tok = JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8')) as { rv: number; offset: number };
      } catch {
        rec.status = 400;
        return this.reply(res, 400, status(400, 'BadRequest', 'invalid continue token'));
      }
      if (tok.rv < this.compactedRv) {
        rec.status = 410;
        return this.reply(
          res,
          410,
          status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'),
        );
      }
      offset = tok.offset;
      listRv = tok.rv;
    }
    const limit = q.limit ? Number(q.limit) : Infinity;
    const page = all.slice(offset, offset + limit);
    const next = offset + page.length;
    const metadata: Obj = { resourceVersion: String(listRv) };
    if (next < all.length) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, offset: next })).toString('base64url');
      metadata.remainingItemCount = all.length - next;
    }
    // Items of a list carry no kind/apiVersion, like the real API.
    const items = page.map((o) => {
      const { kind: _k, apiVersion: _a, ...rest } = o;
      return rest;
    });
    this.reply(res, 200, { kind: `${TYPE[kind].kind}List`, apiVersion: TYPE[kind].apiVersion, metadata, items });
  }

  private serveWatch(kind: FakeKind, q: Record<string, string>, res: ServerResponse, rec: RecordedRequest): void {
    const from = q.resourceVersion === undefined || q.resourceVersion === '' ? null : Number(q.resourceVersion);
    const gone = from !== null && from !== 0 && from < this.compactedRv;
    if (gone && this.opts.goneAsHttpStatus) {
      rec.status = 410;
      return this.reply(res, 410, status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: OpenWatch = { kind, res, bookmarks: q.allowWatchBookmarks === 'true', timer: null, chain: null };
    if (gone) {
      this.write(w, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`) });
      this.endWatch(w);
      return;
    }
    if (from === null || from === 0) {
      for (const o of this.objects[kind].values()) this.write(w, { type: 'ADDED', object: o });
    } else {
      for (const ev of this.history) if (ev.kind === kind && ev.rv > from) this.write(w, { type: ev.type, object: ev.object });
    }
    this.watches.add(w);
    res.on('close', () => {
      if (w.timer) clearTimeout(w.timer);
      this.watches.delete(w);
    });
    const t = Number(q.timeoutSeconds);
    if (t > 0) w.timer = setTimeout(() => this.endWatch(w), t * 1000);
  }
}
