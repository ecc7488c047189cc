// Hostile HTTP, request line and headers: invalid UTF-8 (percent-encoded and raw bytes) in paths
// and query strings of every GET route, header floods, one huge header, a huge request line,
// bad header bytes. Each is a 4xx (400, 404, 414 or 431) — never a 5xx — and the server answers
// /status all along.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, hostileServer, rawRequest, type HostileServer } from './http-client.js';

const BAD_UTF8 = ['%C3%28', '%FF', '%C0%AF', '%ED%A0%80', '%F4%90%80%80', '%E2%82', '%'];

describe('request line and headers', () => {
  let h: HostileServer;
  let getPaths: string[] = [];

  beforeAll(async () => {
    h = await hostileServer({ httpMaxHeaderBytes: 16 * 1024, httpHeadersTimeoutMs: 2_000, httpRequestTimeoutMs: 4_000 });
    const docs = await rawRequest(h.port, get('/api-docs'));
    const spec = JSON.parse(docs.body) as { paths: Record<string, Record<string, unknown>> };
    getPaths = Object.entries(spec.paths)
      .filter(([, ops]) => 'get' in ops)
      .map(([p]) => p);
    expect(getPaths.length).toBeGreaterThan(20);
  });

  afterAll(async () => {
    const poller = await h.close();
    expect(poller.failures).toEqual([]);
    expect(poller.ok).toBeGreaterThan(0);
  });

  it('invalid UTF-8 percent-encoded in a path is 400 JSON; in a query string never a 5xx — on every GET route', async () => {
    const statuses = new Map<number, number>();
    for (const p of getPaths) {
      for (const bad of BAD_UTF8) {
        const withParam = p.replace(/\{[^}]+\}/g, `x${bad}`);
        const variants = [
          withParam,
          `${p.replace(/\{[^}]+\}/g, 'ALL')}?${bad}=1&x=${bad}&filter=${bad}&timeout=${bad}&eventID=${bad}&maxFlows=${bad}&name=${bad}&thresholdID=${bad}`,
          `${p.replace(/\{[^}]+\}/g, 'ALL')}${bad}`,
        ];
        for (const path of variants) {
          const a = await rawRequest(h.port, get(path));
          statuses.set(a.status ?? 0, (statuses.get(a.status ?? 0) ?? 0) + 1);
          expect(a.status, `${path} → ${a.status} ${a.body.slice(0, 200)}`).not.toBeNull();
          expect(a.status!, `${path} → ${a.status} ${a.body.slice(0, 200)}`).toBeLessThan(500);
          if (a.status === 400) expect(JSON.parse(a.body), path).toMatchObject({ statusCode: 400 });
        }
      }
    }
    expect(statuses.get(400)).toBeGreaterThan(0);
    const bad = await rawRequest(h.port, get('/group/%C3%28/json'));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'Bad Request', statusCode: 400, message: expect.stringContaining('not a valid url component') as unknown });
    expect(h.log.errors()).toEqual([]);
  });

  it('raw non-ASCII bytes in the request line are refused by the HTTP parser (400, closed); in header values they are data', async () => {
    const line = (path: Buffer) => Buffer.concat([Buffer.from('GET '), path, Buffer.from(' HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')]);
    for (const path of [
      Buffer.from([0x2f, 0xff, 0xfe]),
      Buffer.concat([Buffer.from('/status?x='), Buffer.from([0xff])]),
      Buffer.concat([Buffer.from('/group/'), Buffer.from([0xc3, 0x28]), Buffer.from('/json')]),
      Buffer.concat([Buffer.from('/group/'), Buffer.from('é', 'utf8'), Buffer.from('/json')]),
      Buffer.from('/sta\x00tus', 'latin1'),
      Buffer.from('/sta\ttus', 'latin1'),
      Buffer.from('/status\x7f', 'latin1'),
    ]) {
      const a = await rawRequest(h.port, line(path), { untilClose: true });
      expect(a.status, path.toString('hex')).toBe(400);
      expect(a.closed).toBe(true);
    }
    // obs-text (0x80-0xff) in a header value is allowed by RFC 9110; the request is answered.
    const ok = await rawRequest(h.port, Buffer.concat([Buffer.from('GET /status HTTP/1.1\r\nHost: a\r\nX-Junk: '), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('\r\nConnection: close\r\n\r\n')]));
    expect(ok.status).toBe(200);
    // ...but not in a header name, nor control bytes in a value.
    for (const bad of [Buffer.from([0x58, 0xff]), Buffer.from('X\x00Y', 'latin1'), Buffer.from('X Y')]) {
      const a = await rawRequest(h.port, Buffer.concat([Buffer.from('GET /status HTTP/1.1\r\nHost: a\r\n'), bad, Buffer.from(': 1\r\nConnection: close\r\n\r\n')]), { untilClose: true });
      expect(a.status).toBe(400);
    }
    const nul = await rawRequest(h.port, 'GET /status HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n', { untilClose: true });
    expect(nul.status).toBe(400);
  });

  it('garbage instead of HTTP (TLS hello, binary, HTTP/2 preface) is 400 and closed', async () => {
    for (const junk of [
      Buffer.from('16030100a5010000a103035f', 'hex'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) & 255)),
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      Buffer.from('\r\n\r\n\r\n\r\n'),
      Buffer.from('GET\r\n\r\n'),
      Buffer.from('G E T / HTTP/1.1\r\n\r\n'),
    ]) {
      const a = await rawRequest(h.port, junk, { untilClose: true, waitMs: 10_000 });
      // Either an answer (400, or 408 for an unfinished line) or a plain close.
      expect(a.closed, junk.toString('hex').slice(0, 40)).toBe(true);
      if (a.status !== null) expect([400, 408], junk.toString('hex').slice(0, 40)).toContain(a.status);
    }
  });

  it('header floods: thousands of headers, one huge header, a huge request line → 431 and closed', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const cases = {
      'ten thousand headers': `GET /status HTTP/1.1\r\nHost: a\r\n${many}\r\n`,
      'one 64 KiB header': `GET /status HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      'a 1 MiB header': `GET /status HTTP/1.1\r\nHost: a\r\nCookie: ${'c=1; '.repeat(200_000)}\r\n\r\n`,
      'a 64 KiB request line': `GET /status?${'q'.repeat(64 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`,
      'a 64 KiB path': `GET /${'p'.repeat(64 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`,
      'a 64 KiB method': `${'G'.repeat(64 * 1024)} / HTTP/1.1\r\nHost: a\r\n\r\n`,
      'a header line without end': `GET /status HTTP/1.1\r\nX-A: ${'z'.repeat(100 * 1024)}`,
    };
    const before = { ...h.server.ctx.http };
    let n431 = 0;
    let n400 = 0;
    for (const [name, req] of Object.entries(cases)) {
      const a = await rawRequest(h.port, req, { untilClose: true });
      expect(a.closed, name).toBe(true);
      // The method one trips the parser's method check first.
      expect(name === 'a 64 KiB method' ? [400, 431] : [431], `${name} → ${a.status}`).toContain(a.status);
      if (a.status === 431) expect(JSON.parse(a.body)).toMatchObject({ statusCode: 431 });
      if (a.status === 431) n431++;
      else n400++;
    }
    // Each refusal is counted by kind (/analyzer/json httpRequestsHeadersTooLarge, httpRequestsMalformed).
    const after = h.server.ctx.http;
    expect(after.requestsHeadersTooLarge - before.requestsHeadersTooLarge).toBe(n431);
    expect(after.requestsMalformed - before.requestsMalformed).toBe(n400);
  });

  it('many headers under the size limit are accepted (Node keeps the first 2000); many such requests on one connection too', async () => {
    const headers = Array.from({ length: 1500 }, (_, i) => `X${i}: 1\r\n`).join('');
    expect(headers.length).toBeLessThan(15 * 1024);
    const a = await rawRequest(h.port, get('/status', headers));
    expect(a.status).toBe(200);
    // 100 pipelined near-limit requests on one connection: all answered, in order.
    const one = `GET /status HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(12 * 1024)}\r\n\r\n`;
    const b = await rawRequest(h.port, one.repeat(99) + get('/status'), { untilClose: true, waitMs: 30_000 });
    expect(b.raw.split('HTTP/1.1 200 OK').length - 1).toBe(100);
  });

  it('duplicate Host, missing Host, absolute-form and odd versions never produce a 5xx', async () => {
    for (const req of [
      'GET /status HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n',
      'GET /status HTTP/1.1\r\nConnection: close\r\n\r\n',
      'GET /status HTTP/1.0\r\n\r\n',
      `GET http://127.0.0.1:${h.port}/status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      'GET /status HTTP/1.1\r\nHost: a\r\n folded: continuation\r\nConnection: close\r\n\r\n',
      'GET /status HTTP/1.1\nHost: a\nConnection: close\n\n',
      'GET /status HTTP/9.9\r\nHost: a\r\nConnection: close\r\n\r\n',
    ]) {
      const a = await rawRequest(h.port, req, { untilClose: true });
      expect(a.status === null ? a.closed : a.status < 500, `${JSON.stringify(req)} → ${a.status}`).toBe(true);
    }
    expect(h.log.errors()).toEqual([]);
  });
});
