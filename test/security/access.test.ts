// Access control of the HTTP API (docs/security.md) against real servers on loopback: read-only
// mode, bearer tokens, CORS, security headers, the write rate limit and TLS.

import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { appRoutes } from '../../src/api/apps.js';
import { bearerToken } from '../../src/api/access/auth.js';
import { parseCorsOrigins } from '../../src/api/access/cors.js';
import { TokenSet } from '../../src/api/access/tokens.js';
import { analyzer, cleanup, httpsGet, makeCertificate, serve, tempDir, writeTemp } from './helpers.js';

afterAll(cleanup);

const TOKEN_A = 'k3J9xQ2mV8pL4nR7tW1yZ5bC6dF0gH2j';
const TOKEN_B = 'Zm9vYmFyYmF6cXV4LXNmbG93c2NvcGU=';
const TOKEN_FILE = `# sflowscope API tokens\n\n${TOKEN_A}\r\n   # indented comment\n  ${TOKEN_B}  \n\n`;
const SPEC = JSON.stringify({ keys: 'ipsource,ipdestination', value: 'bytes' });
const JSON_HEADERS = { 'content-type': 'application/json' };

type ErrorBody = { error: string; message: string; statusCode: number };

/** Names in /flow/json. */
async function flowNames(url: string): Promise<string[]> {
  return Object.keys((await (await fetch(`${url}/flow/json`)).json()) as Record<string, unknown>);
}

async function errorBody(r: Response): Promise<ErrorBody> {
  expect(r.headers.get('content-type')).toBe('application/json');
  return (await r.json()) as ErrorBody;
}

describe('--readonly', () => {
  it('refuses every write with 403 JSON, before routing; reads and HEAD are served', async () => {
    const s = await serve({ readonly: true });
    const writes: [string, string][] = [
      ['PUT', '/flow/tcp/json'],
      ['POST', '/flow/tcp/json'],
      ['DELETE', '/flow/tcp/json'],
      ['PATCH', '/flow/tcp/json'],
      ['PUT', '/group/g/json'],
      ['DELETE', '/threshold/t/json'],
      ['POST', '/map/m/json'],
      // An unknown path: 403, not 404 — nothing is written anywhere.
      ['PUT', '/no/such/path'],
    ];
    for (const [method, path] of writes) {
      const r = await fetch(s.url + path, { method, headers: JSON_HEADERS, body: method === 'DELETE' ? undefined : SPEC });
      expect(r.status, `${method} ${path}`).toBe(403);
      const b = await errorBody(r);
      expect(b).toMatchObject({ error: 'Forbidden', statusCode: 403 });
      expect(b.message).toContain('read-only');
    }
    expect((await fetch(`${s.url}/flow/json`)).status).toBe(200);
    expect(await (await fetch(`${s.url}/flow/json`)).json()).toEqual({});
    expect((await fetch(`${s.url}/status`, { method: 'HEAD' })).status).toBe(200);
    expect((await analyzer(s)).httpReadonlyRefused).toBe(writes.length);
  });

  it('keeps the UI apps and the Prometheus flow export working: their flows are app-owned, defined on GET', async () => {
    const s = await serve({ readonly: true, apiPlugins: [appRoutes({ flows: (ctx) => ctx.flows?.appSource('apps') ?? null })] });
    const flows = s.flows!;
    // Flow Browser trend: the app defines its flow inside the server.
    const trend = await fetch(`${s.url}/app/browse-flows/scripts/top.js/flows/json?keys=ipsource,ipdestination&value=bps`);
    expect(trend.status).toBe(200);
    expect(flows.flowNames('apps').length).toBe(1);
    // Sunburst Protocols defines its own flow too.
    expect((await fetch(`${s.url}/app/sunburst/scripts/metrics.js/protocols/json`)).status).toBe(200);
    // Prometheus scraping the flow export (sFlow-RT's Prometheus app) defines a flow on first scrape.
    const prom = await fetch(`${s.url}/app/prometheus/scripts/export.js/flows/ALL/txt?metric=top_talkers&key=ipsource&key=ipdestination&value=bytes`);
    expect(prom.status).toBe(200);
    expect(prom.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(flows.flowNames('prometheus').length).toBe(1);
    // /flow/json lists them (as sFlow-RT lists its apps' flows), but none is user configuration
    // (owner-tagged, never in the state file), and the user cannot remove them either.
    expect((await flowNames(s.url)).length).toBe(3);
    expect(flows.flowNames(null)).toEqual([]);
    const name = flows.flowNames('prometheus')[0]!;
    expect((await fetch(`${s.url}/flow/${encodeURIComponent(name)}/json`, { method: 'DELETE' })).status).toBe(403);
    expect(flows.flowNames('prometheus')).toEqual([name]);
  });

  it('without --readonly the same writes succeed', async () => {
    const s = await serve();
    expect((await fetch(`${s.url}/flow/tcp/json`, { method: 'PUT', headers: JSON_HEADERS, body: SPEC })).status).toBe(204);
    expect(await flowNames(s.url)).toEqual(['tcp']);
    expect((await analyzer(s)).httpReadonlyRefused).toBe(0);
  });
});

describe('bearer tokens', () => {
  it('token file: one per line, blank lines and # comments ignored, CRLF and surrounding spaces tolerated', () => {
    const set = TokenSet.parse(TOKEN_FILE, 'tokens');
    expect(set.size).toBe(2);
    expect(set.matches(TOKEN_A)).toBe(true);
    expect(set.matches(TOKEN_B)).toBe(true);
    expect(set.matches(TOKEN_A.slice(0, -1))).toBe(false);
    expect(set.matches(`${TOKEN_A}x`)).toBe(false);
    expect(set.matches('')).toBe(false);
    expect(set.shortTokens).toBe(0);
    expect(TokenSet.parse('short\n', 'f').shortTokens).toBe(1);
    expect(TokenSet.parse(`\uFEFF${TOKEN_A}\r\n`, 'f').matches(TOKEN_A)).toBe(true);
  });

  it('refuses a file that is empty, holds only comments, is unreadable or has a malformed line (naming the line, not the token)', async () => {
    for (const content of ['', '\n\n', '# only a comment\n   \n#another\n']) {
      const err = await serve({ authTokenFile: writeTemp('tokens', content) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/holds no token/);
    }
    const missing = await serve({ authTokenFile: '/nonexistent/sflowscope/tokens' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toMatch(/cannot read \/nonexistent\/sflowscope\/tokens/);
    const secret = 'supersecretvalue123456';
    const bad = await serve({ authTokenFile: writeTemp('tokens', `# ok\n${TOKEN_A}\n${secret} # prod\n`) }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toMatch(/line 3: not a bearer token/);
    expect((bad as Error).message).not.toContain(secret);
  });

  it('`sflowscope serve` exits with the reason when the token file is unusable', () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'serve', '--http-port', '0', '--sflow-port', '-1', '--data-dir', tempDir(), '--auth-token-file', writeTemp('tokens', '# nothing yet\n')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(/--auth-token-file: .*holds no token/);
  });

  it('parses the Authorization header as RFC 6750 (case-insensitive scheme, b64token syntax)', () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeNull();
    expect(bearerToken('Bearerabc')).toBeNull();
    expect(bearerToken(`Bearer ${TOKEN_B}`)).toBe(TOKEN_B);
    expect(bearerToken(`bearer   ${TOKEN_A}  `)).toBe(TOKEN_A);
    expect(bearerToken('Bearer')).toBe('');
    expect(bearerToken('Bearer two words')).toBe('');
    expect(bearerToken('Bearer "quoted"')).toBe('');
    // Linear on a long header of spaces (a backtracking regex would take seconds here).
    expect(bearerToken(`Bearer x${' '.repeat(16_000)}y`)).toBe('');
  });

  it('scope writes: reads open; writes need a token — 401 without (bare challenge), 401 invalid_token with a wrong one', async () => {
    const s = await serve({ authTokenFile: writeTemp('tokens', TOKEN_FILE) });
    expect((await fetch(`${s.url}/agents/json`)).status).toBe(200);
    expect((await fetch(`${s.url}/flow/json`)).status).toBe(200);

    const put = (headers: Record<string, string>) => fetch(`${s.url}/flow/tcp/json`, { method: 'PUT', headers: { ...JSON_HEADERS, ...headers }, body: SPEC });
    const none = await put({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="sflowscope"');
    expect(await errorBody(none)).toMatchObject({ error: 'Unauthorized', statusCode: 401 });

    const basic = await put({ authorization: 'Basic dXNlcjpwYXNz' });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="sflowscope"');

    for (const wrong of [`Bearer ${TOKEN_A.slice(0, -1)}`, 'Bearer not-a-token', 'Bearer two words', 'Bearer']) {
      const r = await put({ authorization: wrong });
      expect(r.status, wrong).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="sflowscope", error="invalid_token"/);
      expect(await errorBody(r)).toMatchObject({ error: 'Unauthorized', message: 'invalid bearer token' });
    }
    expect(await flowNames(s.url)).toEqual([]);

    expect((await put({ authorization: `Bearer ${TOKEN_A}` })).status).toBe(204);
    expect((await put({ authorization: `bearer ${TOKEN_B}` })).status).toBe(204);
    expect((await fetch(`${s.url}/flow/tcp/json`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN_B}` } })).status).toBe(204);
    expect((await fetch(`${s.url}/flow/tcp/json`, { method: 'DELETE' })).status).toBe(401);
    const a = await analyzer(s);
    expect(a.httpAuthFailures).toBe(7);
    expect(a.httpAuthInvalidTokens).toBe(4);
  });

  it('scope all: every request needs a token except /status (probes) and CORS preflights', async () => {
    const s = await serve({ authTokenFile: writeTemp('tokens', TOKEN_FILE), authScope: 'all', corsOrigin: 'https://grafana.example.com' });
    const auth = { authorization: `Bearer ${TOKEN_A}` };
    for (const path of ['/agents/json', '/analyzer/json', '/version', '/metrics', '/prometheus/analyzer/txt', '/api-docs', '/no/such/path']) {
      const r = await fetch(s.url + path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="sflowscope"');
      expect((await fetch(s.url + path, { headers: auth })).status, path).not.toBe(401);
    }
    expect((await fetch(`${s.url}/agents/json`, { headers: { authorization: `Bearer ${TOKEN_B}` } })).status).toBe(200);
    expect((await fetch(`${s.url}/agents/json`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    // Probes: /status with any spelling the router accepts, GET and HEAD.
    for (const path of ['/status', '/status/', '/status?probe=1']) expect((await fetch(s.url + path)).status, path).toBe(200);
    expect((await fetch(`${s.url}/status`, { method: 'HEAD' })).status).toBe(200);
    // Writes still need one.
    expect((await fetch(`${s.url}/flow/tcp/json`, { method: 'PUT', headers: JSON_HEADERS, body: SPEC })).status).toBe(401);
    expect((await fetch(`${s.url}/flow/tcp/json`, { method: 'PUT', headers: { ...JSON_HEADERS, ...auth }, body: SPEC })).status).toBe(204);
    // A browser sends no credentials on a preflight: it must not be refused for that.
    const pre = await fetch(`${s.url}/agents/json`, { method: 'OPTIONS', headers: { origin: 'https://grafana.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    // Prometheus scrapes with `authorization: credentials_file`, i.e. this header.
    const prom = await fetch(`${s.url}/app/prometheus/scripts/export.js/flows/ALL/txt?metric=top&key=ipsource&value=bytes`, { headers: auth });
    expect(prom.status).toBe(200);
    expect(prom.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('with --readonly: 401 without a token (authentication first), 403 with a valid one', async () => {
    const s = await serve({ readonly: true, authTokenFile: writeTemp('tokens', TOKEN_FILE) });
    const put = (headers: Record<string, string>) => fetch(`${s.url}/group/g/json`, { method: 'PUT', headers: { ...JSON_HEADERS, ...headers }, body: '{"a":["10.0.0.0/8"]}' });
    expect((await put({})).status).toBe(401);
    expect((await put({ authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await put({ authorization: `Bearer ${TOKEN_A}` });
    expect(ok.status).toBe(403);
    expect(await errorBody(ok)).toMatchObject({ error: 'Forbidden', statusCode: 403 });
    const a = await analyzer(s);
    expect([a.httpAuthFailures, a.httpReadonlyRefused]).toEqual([2, 1]);
    // The same counts in the self metrics Prometheus scrapes (reads need no token with scope writes).
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^sflowscope_http_refused_total\{reason="auth"\} 2$/m);
    expect(metrics).toMatch(/^sflowscope_http_refused_total\{reason="readonly"\} 1$/m);
    expect(metrics).toMatch(/^sflowscope_http_refused_total\{reason="rate_limit"\} 0$/m);
  });
});

describe('refusals before the body', () => {
  /** Send only the head of a write announcing a 10 MB body; resolve with what the server answers. */
  function headOnly(port: number, headers: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (b: Buffer) => (got += b.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
      sock.write(`PUT /flow/big/json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n${headers}\r\n`);
    });
  }

  it('answer without waiting for an announced body, and close the connection instead of draining it', async () => {
    const s = await serve({ readonly: true, writeRateLimit: 2, authTokenFile: writeTemp('tokens', TOKEN_FILE) });
    const anon = await headOnly(s.httpPort, '');
    expect(anon).toMatch(/^HTTP\/1\.1 401 /);
    expect(anon).toMatch(/\r\nconnection: close\r\n/i);
    const ro = await headOnly(s.httpPort, `Authorization: Bearer ${TOKEN_A}\r\n`);
    expect(ro).toMatch(/^HTTP\/1\.1 403 /);
    expect(ro).toMatch(/\r\nconnection: close\r\n/i);
    const limited = await headOnly(s.httpPort, `Authorization: Bearer ${TOKEN_A}\r\n`);
    expect(limited).toMatch(/^HTTP\/1\.1 429 /);
    expect(limited).toMatch(/\r\nconnection: close\r\n/i);
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string, method = 'PUT') =>
    fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });

  it('off by default: preflights find no route (404) and no answer carries CORS headers', async () => {
    const s = await serve();
    const pre = await preflight(`${s.url}/flow/tcp/json`, 'https://evil.example');
    expect(pre.status).toBe(404);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
    const get = await fetch(`${s.url}/agents/json`, { headers: { origin: 'https://evil.example' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    // A same-origin request with an Origin header (browsers send one on POST) is not counted.
    await fetch(`${s.url}/agents/json`, { headers: { origin: s.url } });
    expect((await analyzer(s)).httpCorsRefused).toBe(2);
  });

  it('a list allows those origins only: preflight 204 with methods and headers; others get 404 and no headers', async () => {
    const s = await serve({ corsOrigin: 'https://grafana.example.com, http://10.0.0.5:3000/' });
    for (const origin of ['https://grafana.example.com', 'http://10.0.0.5:3000']) {
      const pre = await preflight(`${s.url}/flow/tcp/json`, origin);
      expect(pre.status, origin).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-methods')).toBe('GET, HEAD, PUT, POST, DELETE');
      expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, Accept');
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
      expect(pre.headers.get('vary')).toMatch(/Origin/);
      const get = await fetch(`${s.url}/agents/json`, { headers: { origin } });
      expect(get.headers.get('access-control-allow-origin')).toBe(origin);
      expect(get.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    }
    for (const origin of ['https://evil.example', 'https://grafana.example.com:8443', 'http://grafana.example.com', 'null']) {
      const pre = await preflight(`${s.url}/flow/tcp/json`, origin);
      expect(pre.status, origin).toBe(404);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const get = await fetch(`${s.url}/agents/json`, { headers: { origin } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect((await analyzer(s)).httpCorsRefused).toBe(8);
  });

  it('`*` allows any origin (without credentials); read-only servers advertise GET and HEAD only', async () => {
    const s = await serve({ corsOrigin: '*', readonly: true });
    const pre = await preflight(`${s.url}/agents/json`, 'https://anywhere.example', 'GET');
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    expect((await fetch(`${s.url}/agents/json`, { headers: { origin: 'https://x.example' } })).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('parses --cors-origin strictly', async () => {
    expect(parseCorsOrigins('')).toBeNull();
    expect(parseCorsOrigins(' , ')).toBeNull();
    expect(parseCorsOrigins('*')).toBe('*');
    expect([...(parseCorsOrigins('HTTPS://Grafana.Example.com:443/,http://a.example:8080') as Set<string>)]).toEqual(['https://grafana.example.com', 'http://a.example:8080']);
    for (const bad of ['grafana.example.com', 'https://a.example/path', 'ftp://a.example', 'https://a.example?x=1', '*,https://a.example', 'https://user@a.example']) {
      expect(() => parseCorsOrigins(bad), bad).toThrow(ConfigError);
    }
    await expect(serve({ corsOrigin: 'grafana.example.com' })).rejects.toThrow(/--cors-origin: not an origin/);
  });
});

describe('security headers', () => {
  const CSP_HTTP = "default-src 'self';script-src 'self';script-src-attr 'none';style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w=';style-src-attr 'unsafe-inline';img-src 'self' data:;font-src 'self' data:;connect-src 'self';object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'self'";

  it('plain HTTP: CSP without upgrade-insecure-requests, no HSTS, nosniff and friends on every kind of answer', async () => {
    const s = await serve({ readonly: true });
    const answers = [
      await fetch(`${s.url}/agents/json`),
      await fetch(`${s.url}/version`),
      await fetch(`${s.url}/no/such/path`),
      await fetch(`${s.url}/flow/x/json`, { method: 'DELETE' }),
      await fetch(`${s.url}/metric/ALL/load_one/json?filter=(`),
    ];
    for (const r of answers) {
      const h = r.headers;
      expect(h.get('content-security-policy'), r.url).toBe(CSP_HTTP);
      expect(h.get('strict-transport-security')).toBeNull();
      expect(h.get('cross-origin-opener-policy')).toBeNull();
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(h.get('referrer-policy')).toBe('no-referrer');
      expect(h.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(h.get('x-powered-by')).toBeNull();
    }
  });
});

describe('--write-rate-limit', () => {
  it('counts writes per client only: beyond N a minute 429 JSON with Retry-After; reads never limited', async () => {
    const s = await serve({ writeRateLimit: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await fetch(`${s.url}/flow/f${i}/json`, { method: 'PUT', headers: JSON_HEADERS, body: SPEC })).status);
      // Reads between writes do not spend the budget and carry no rate-limit headers.
      for (let j = 0; j < 5; j++) {
        const r = await fetch(`${s.url}/flow/json`);
        expect(r.status).toBe(200);
        expect(r.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
    expect(statuses).toEqual([204, 204, 204]);
    for (const method of ['PUT', 'DELETE', 'POST']) {
      const r = await fetch(`${s.url}/flow/over/json`, { method, headers: JSON_HEADERS, body: method === 'DELETE' ? undefined : SPEC });
      expect(r.status, method).toBe(429);
      const retry = r.headers.get('retry-after');
      expect(retry).toMatch(/^\d+$/);
      expect(Number(retry)).toBeGreaterThanOrEqual(1);
      expect(Number(retry)).toBeLessThanOrEqual(60);
      const b = await errorBody(r);
      expect(b).toMatchObject({ error: 'Too Many Requests', statusCode: 429 });
      expect(b.message).toContain('--write-rate-limit');
    }
    expect((await flowNames(s.url)).sort()).toEqual(['f0', 'f1', 'f2']);
    expect((await fetch(`${s.url}/agents/json`)).status).toBe(200);
    expect((await analyzer(s)).httpWritesRateLimited).toBe(3);
  });

  it('0 turns it off', async () => {
    const s = await serve({ writeRateLimit: 0 });
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${s.url}/flow/f/json`, { method: 'PUT', headers: JSON_HEADERS, body: SPEC });
      expect(r.status).toBe(204);
      expect(r.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });

  it('refused writes (no token) spend the budget too, so tokens cannot be guessed at full speed', async () => {
    const s = await serve({ writeRateLimit: 2, authTokenFile: writeTemp('tokens', TOKEN_FILE) });
    const put = (token: string) => fetch(`${s.url}/flow/f/json`, { method: 'PUT', headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` }, body: SPEC });
    expect((await put('guess1')).status).toBe(401);
    expect((await put('guess2')).status).toBe(401);
    expect((await put('guess3')).status).toBe(429);
    expect((await put(TOKEN_A)).status).toBe(429);
  });
});

describe('TLS (--tls-cert, --tls-key)', () => {
  it('serves HTTPS with the given certificate, with HSTS and upgrade-insecure-requests; plain HTTP on that port fails', async () => {
    const { cert, key, pem } = makeCertificate();
    const s = await serve({ tlsCert: cert, tlsKey: key });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsGet(`${s.url}/status`, pem);
    expect(r.status).toBe(200);
    expect(r.body).toBe('OK');
    expect(r.headers['strict-transport-security']).toBe('max-age=15552000');
    expect(r.headers['content-security-policy']).toMatch(/;upgrade-insecure-requests$/);
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect((await httpsGet(`https://localhost:${s.httpPort}/version`, pem)).status).toBe(200);
    // Not trusted without that CA.
    await expect(httpsGet(`${s.url}/status`, undefined)).rejects.toThrow(/self[- ]signed|certificate/i);
    // Plain HTTP to the HTTPS port: the TLS handshake fails and the socket is closed, no HTTP answer.
    await expect(fetch(`http://127.0.0.1:${s.httpPort}/status`)).rejects.toThrow(/fetch failed/);
  });

  it('refuses half or unreadable TLS settings with a ConfigError', async () => {
    const { cert } = makeCertificate();
    await expect(serve({ tlsCert: cert })).rejects.toThrow(ConfigError);
    await expect(serve({ tlsCert: cert, tlsKey: '/nonexistent/key.pem' })).rejects.toThrow(/--tls-key: cannot read/);
  });
});
