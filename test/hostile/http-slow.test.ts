// Hostile HTTP, time and connections: slowloris headers, trickled bodies, idle and idle keep-alive
// connections are closed within the configured timeouts (1 s headers, 2 s request, 1 s keep-alive
// here; waits are bounded generously, nothing asserts how fast); long-polls outlive the request
// timeout; a connection flood beyond --http-max-connections is closed and counted, and /status
// answers again once it is over.

import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, hostileServer, rawRequest, sleep, trickle, type HostileServer } from './http-client.js';

const HEADERS_MS = 1_000;
const REQUEST_MS = 2_000;
const KEEPALIVE_MS = 1_000;
const MAX_CONNECTIONS = 64;
/** Liveness bound for "closed by a 1-2 s timeout": generous for a loaded 2-core machine. */
const CLOSED_WITHIN_MS = 15_000;

/** Wait until `cond` holds, polling; false if it never did within `ms`. */
async function eventually(cond: () => boolean | Promise<boolean>, ms = CLOSED_WITHIN_MS): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(100);
  }
  return cond();
}

describe('slow clients and connection floods', () => {
  let h: HostileServer;
  const rss0 = process.memoryUsage().rss;

  beforeAll(async () => {
    h = await hostileServer({
      httpHeadersTimeoutMs: HEADERS_MS,
      httpRequestTimeoutMs: REQUEST_MS,
      httpKeepAliveTimeoutMs: KEEPALIVE_MS,
      httpMaxConnections: MAX_CONNECTIONS,
    });
  });

  afterAll(async () => {
    const poller = await h.close();
    expect(poller.failures).toEqual([]);
    expect(poller.ok).toBeGreaterThan(10);
    expect(poller.maxRssBytes - rss0).toBeLessThan(512 * 1024 * 1024);
  });

  it('slowloris: clients trickling headers a byte at a time get 408 and are disconnected, while /status keeps answering', async () => {
    const ok0 = h.poller.ok;
    const head = `GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-Padding: ${'s'.repeat(100)}\r\n\r\n`;
    const clients = Array.from({ length: 20 }, () => rawRequest(h.port, null, { untilClose: true, waitMs: CLOSED_WITHIN_MS, send: (sock: net.Socket) => trickle(sock, head, 200) }));
    const answers = await Promise.all(clients);
    for (const a of answers) {
      expect(a.closed).toBe(true);
      expect(a.status).toBe(408);
      expect(JSON.parse(a.body)).toMatchObject({ statusCode: 408 });
    }
    // The poller got through while 20 sockets were trickling.
    expect(h.poller.ok).toBeGreaterThan(ok0);
  });

  it('a connection that sends nothing is closed (408) after the headers timeout, and counted', async () => {
    const before = h.server.ctx.http.requestsTimedOut;
    const a = await rawRequest(h.port, null, { untilClose: true, waitMs: CLOSED_WITHIN_MS });
    expect(a.closed).toBe(true);
    expect(a.status).toBe(408);
    expect(h.server.ctx.http.requestsTimedOut - before).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${h.port}/metrics`)).text();
    expect(metrics).toMatch(/^sflowscope_http_refused_total\{reason="timeout"\} [1-9]\d*$/m);
  });

  it('a body trickled a byte at a time is cut off (408) at the request timeout, on a write route', async () => {
    const body = `{"lan":["${'10.0.0.0/8","'.repeat(200)}10.0.0.0/8"]}`;
    const a = await rawRequest(h.port, null, {
      untilClose: true,
      waitMs: CLOSED_WITHIN_MS,
      send: async (sock) => {
        sock.write(`PUT /group/slow/json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
        await trickle(sock, body, 100);
      },
    });
    expect(a.closed).toBe(true);
    expect(a.status).toBe(408);
    // A body that stops short of its Content-Length ends the same way.
    const short = await rawRequest(h.port, `PUT /group/slow/json HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{"lan":`, { untilClose: true, waitMs: CLOSED_WITHIN_MS });
    expect(short.status).toBe(408);
    expect(short.closed).toBe(true);
    // So does a chunked body that never sends its last chunk.
    const chunked = await rawRequest(h.port, `PUT /group/slow/json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"lan`, { untilClose: true, waitMs: CLOSED_WITHIN_MS });
    expect(chunked.status).toBe(408);
    expect(chunked.closed).toBe(true);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout (no second answer)', async () => {
    const a = await rawRequest(h.port, `GET /status HTTP/1.1\r\nHost: a\r\n\r\n`, { untilClose: true, waitMs: CLOSED_WITHIN_MS });
    expect(a.status).toBe(200);
    expect(a.headers.connection).toBe('keep-alive');
    expect(a.closed).toBe(true);
    expect(a.raw.split('HTTP/1.1').length - 1).toBe(1);
    // A keep-alive connection that starts a second request and stalls gets 408 like any other.
    const b = await rawRequest(h.port, `GET /status HTTP/1.1\r\nHost: a\r\n\r\nGET /stat`, { untilClose: true, waitMs: CLOSED_WITHIN_MS });
    expect(b.closed).toBe(true);
    expect(b.raw).toContain('HTTP/1.1 408');
  });

  it('long-polls longer than the request timeout still get their answer (the timeout covers receiving the request only)', async () => {
    const waitS = 4; // > REQUEST_MS and > KEEPALIVE_MS
    const polls = await Promise.all([
      rawRequest(h.port, get(`/events/json?eventID=-1&timeout=${waitS}`), { waitMs: 30_000 }),
      rawRequest(h.port, get(`/flows/json?timeout=${waitS}`), { waitMs: 30_000 }),
      // Keep-alive (no Connection: close) too: the idle timer must not run while the answer is pending.
      rawRequest(h.port, `GET /events/json?eventID=-1&timeout=${waitS} HTTP/1.1\r\nHost: a\r\n\r\n`, { waitMs: 30_000 }),
    ]);
    for (const a of polls) {
      expect(a.status, a.raw.slice(0, 200)).toBe(200);
      expect(a.body).toBe('[]');
      // It really waited (the server's own timer), i.e. beyond the request timeout.
      expect(a.ms).toBeGreaterThan(REQUEST_MS + 500);
    }
  });

  it('a connection flood beyond --http-max-connections: extra connections are closed and counted, /status answers once it is over', async () => {
    h.poller.pause();
    await sleep(200);
    const refused0 = h.server.ctx.http.connectionsRefused;
    const FLOOD = 300;
    const flood = Array.from({ length: FLOOD }, () => rawRequest(h.port, null, { untilClose: true, waitMs: CLOSED_WITHIN_MS }));
    const answers = await Promise.all(flood);
    // Every flood connection ended: refused at once (no answer), or accepted and then timed out (408).
    for (const a of answers) {
      expect(a.closed).toBe(true);
      expect([null, 408]).toContain(a.status);
    }
    const refused = h.server.ctx.http.connectionsRefused - refused0;
    const closedUnanswered = answers.filter((a) => a.status === null).length;
    expect(refused).toBeGreaterThanOrEqual(FLOOD - MAX_CONNECTIONS);
    expect(refused).toBeLessThanOrEqual(FLOOD);
    expect(closedUnanswered).toBe(refused);
    // Once the flood is gone the server answers again, and says how many it refused.
    expect(await eventually(async () => (await rawRequest(h.port, get('/status'), { waitMs: 2_000 })).status === 200)).toBe(true);
    h.poller.resume();
    const analyzer = await rawRequest(h.port, get('/analyzer/json'));
    expect((JSON.parse(analyzer.body) as { httpConnectionsRefused: number }).httpConnectionsRefused).toBe(h.server.ctx.http.connectionsRefused);
  });

  it('a held flood (sockets kept open, trickling) blocks new connections only while it lasts', async () => {
    h.poller.pause();
    await sleep(200);
    const refused0 = h.server.ctx.http.connectionsRefused;
    // Fill every slot with slowloris sockets; they are cut at the headers timeout.
    const holders = Array.from({ length: MAX_CONNECTIONS }, () =>
      rawRequest(h.port, null, { untilClose: true, waitMs: CLOSED_WITHIN_MS, send: (sock: net.Socket) => trickle(sock, 'GET /status HTTP/1.1\r\nX: ' + 'x'.repeat(200), 50) }),
    );
    await sleep(300);
    const during = await rawRequest(h.port, get('/status'), { waitMs: 2_000 });
    // Refused while full (or, if a holder was already cut, answered): never hung.
    expect(during.closed || during.status === 200).toBe(true);
    await Promise.all(holders);
    expect(await eventually(async () => (await rawRequest(h.port, get('/status'), { waitMs: 2_000 })).status === 200)).toBe(true);
    h.poller.resume();
    expect(h.server.ctx.http.connectionsRefused).toBeGreaterThanOrEqual(refused0 + (during.status === null ? 1 : 0));
  });

  it('no connection is left behind and nothing failed inside', async () => {
    // The poller's own connection may be open at any moment.
    expect(await eventually(() => h.server.ctx.http.connectionsCurrent <= 1)).toBe(true);
    expect(h.log.errors()).toEqual([]);
  });
});
