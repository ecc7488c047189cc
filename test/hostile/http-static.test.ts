// Hostile HTTP, static files: path traversal in every spelling against the UI's static routes.
// The UI root is a temp directory with a secret file beside it (and one more level up), so a
// traversal that worked would show the secret; no answer may carry it, none may be a 500.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWebRoot, staticRoutes } from '../../src/api/static.js';
import { get, hostileServer, rawRequest, type HostileServer } from './http-client.js';

const SECRET = 'SECRET-7f3a9c-do-not-serve';
const INDEX = '<!doctype html><title>ui</title>the index';

/** Spellings of "one level up, then secret.txt" and friends, as they would appear in a request line. */
function traversals(name: string): string[] {
  const up = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '..%00', '%c0%ae%c0%ae', '..%c0%af', '....', '.../.', '..;'];
  const sep = ['/', '%2f', '%2F', '\\', '%5c', '%255c', '%252f', '//', '/./'];
  const out: string[] = [];
  for (const u of up) for (const s of sep) out.push(`/${u}${s}${name}`, `/${u}${s}${u}${s}${name}`, `/app${s}${u}${s}${u}${s}${name}`);
  out.push(
    `/../../../../../../../../etc/passwd`,
    `/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
    `/app/../../${name}`,
    `/assets/../../${name}`,
    `/index.html/../../${name}`,
    `/index.html%00`,
    `/index.html%00.png`,
    `/${name}`,
    `//${name}`,
    `/./${name}`,
    `/%2e/${name}`,
    `/..`,
    `/%2e%2e`,
    `/.%2e/`,
    `/etc/passwd`,
    `/%2fetc%2fpasswd`,
    `/..%5c..%5c${name}`,
    `/%u002e%u002e/${name}`,
    `/${'../'.repeat(200)}${name}`,
    `/${'a/'.repeat(3000)}${name}`,
    `/${'x'.repeat(8000)}`,
  );
  return out;
}

describe('static files: path traversal', () => {
  let dir: string;
  let root: string;
  let h: HostileServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sflowscope-static-'));
    root = join(dir, 'site', 'web');
    mkdirSync(join(root, 'app', 'demo', 'html'), { recursive: true });
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'app', 'demo', 'html', 'index.html'), '<!doctype html>demo app');
    writeFileSync(join(root, 'assets', 'app.js'), 'console.log("ui")');
    writeFileSync(join(dir, 'site', 'secret.txt'), SECRET);
    writeFileSync(join(dir, 'secret.txt'), SECRET);
    writeFileSync(join(dir, 'site', 'package.json'), `{"secret":"${SECRET}"}`);
    h = await hostileServer({ apiPlugins: [staticRoutes(root)] });
  });

  afterAll(async () => {
    const poller = await h.close();
    rmSync(dir, { recursive: true, force: true });
    expect(poller.failures).toEqual([]);
    expect(poller.ok).toBeGreaterThan(0);
  });

  it('serves the UI itself: / is the index, files under the root are served', async () => {
    for (const [path, text] of [
      ['/', INDEX],
      ['/index.html', INDEX],
      ['/app/demo/html/index.html', 'demo app'],
      ['/app/demo/html/', 'demo app'],
      ['/assets/app.js', 'console.log'],
    ] as const) {
      const a = await rawRequest(h.port, get(path));
      expect(a.status, path).toBe(200);
      expect(a.body, path).toContain(text);
    }
  });

  it('no spelling of ../ reaches a file outside the root: 400 or 404 JSON, never the file, never 500', async () => {
    const seen = new Map<number, number>();
    const paths = [...traversals('secret.txt'), ...traversals('package.json'), ...traversals('site/secret.txt')];
    for (const path of paths) {
      const a = await rawRequest(h.port, get(path));
      seen.set(a.status ?? 0, (seen.get(a.status ?? 0) ?? 0) + 1);
      expect(a.raw, path).not.toContain(SECRET);
      expect([400, 404, 414, 431], `${path} → ${a.status}`).toContain(a.status);
      if (a.status === 400 || a.status === 404 || a.status === 414) {
        expect(a.headers['content-type'], path).toMatch(/^application\/json/);
        expect(JSON.parse(a.body), path).toMatchObject({ statusCode: a.status });
      }
    }
    // Most are plain misses; undecodable ones (%c0%ae, %u002e) are 400.
    expect(seen.get(404)).toBeGreaterThan(paths.length / 2);
    expect(h.log.errors()).toEqual([]);
  });

  it('absolute URLs, CONNECT, OPTIONS * and odd methods in the request line do not escape the root either', async () => {
    const lines = [
      `GET http://127.0.0.1:${h.port}/../secret.txt HTTP/1.1`,
      `GET http://127.0.0.1:${h.port}/%2e%2e/secret.txt HTTP/1.1`,
      `GET http://evil.example/../../secret.txt HTTP/1.1`,
      `GET file:///etc/passwd HTTP/1.1`,
      `GET ../secret.txt HTTP/1.1`,
      `GET secret.txt HTTP/1.1`,
      `GET * HTTP/1.1`,
      `OPTIONS * HTTP/1.1`,
      `CONNECT 127.0.0.1:22 HTTP/1.1`,
      `TRACE / HTTP/1.1`,
      `PROPFIND /../ HTTP/1.1`,
      `GET /../secret.txt HTTP/1.0`,
      `GET /../secret.txt HTTP/0.9`,
      `GET /../secret.txt HTTP/2.0`,
      `GET /../secret.txt`,
    ];
    for (const line of lines) {
      const a = await rawRequest(h.port, `${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, { waitMs: 5_000 });
      expect(a.raw, line).not.toContain(SECRET);
      // An answer, or a closed connection (CONNECT has no handler): never a 5xx.
      expect(a.status === null ? a.closed : a.status < 500, `${line} → ${a.status}`).toBe(true);
    }
    expect(h.log.errors()).toEqual([]);
  });

  it('the static files of the API docs (a wildcard route, /api/static/*) do not escape their directory either', async () => {
    // That directory is node_modules/@fastify/swagger-ui/static: one level up is its package.json.
    const markers = ['"@fastify/swagger-ui"', '"name": "sflowscope"', SECRET, 'startServer'];
    const ok = await rawRequest(h.port, get('/api/static/swagger-ui.css'));
    expect(ok.status).toBe(200);
    const paths = [...traversals('package.json'), ...traversals('../package.json'), ...traversals('../../../package.json'), ...traversals('src/app.ts')].map((p) => `/api/static${p}`);
    for (const path of paths) {
      const a = await rawRequest(h.port, get(path));
      for (const m of markers) expect(a.raw, path).not.toContain(m);
      // @fastify/send refuses a `..` it sees with 403.
      expect([400, 403, 404, 414, 431], `${path} → ${a.status}`).toContain(a.status);
    }
    expect(h.log.errors()).toEqual([]);
  });

  it('a request line longer than --http-max-header-bytes is refused (431) and the connection closed', async () => {
    const a = await rawRequest(h.port, get(`/${'../'.repeat(8000)}secret.txt`), { untilClose: true });
    expect(a.status).toBe(431);
    expect(a.closed).toBe(true);
  });
});

// The real build, when there is one (npm run build): the same checks against dist/web.
const built = defaultWebRoot();
describe.skipIf(built === null)('static files of the built UI', () => {
  let h: HostileServer;
  beforeAll(async () => {
    h = await hostileServer({ apiPlugins: [staticRoutes(built)] });
  });
  afterAll(async () => {
    const poller = await h.close();
    expect(poller.failures).toEqual([]);
  });

  it('serves its index and nothing from the repository around it', async () => {
    const index = await rawRequest(h.port, get('/'));
    expect(index.status).toBe(200);
    expect(index.body).toBe(readFileSync(join(built!, 'index.html'), 'utf8'));
    const pkg = readFileSync('package.json', 'utf8');
    const marker = /"name":\s*"[^"]+"/.exec(pkg)![0];
    for (const path of [...traversals('package.json'), ...traversals('src/app.ts'), ...traversals('../package.json')]) {
      const a = await rawRequest(h.port, get(path));
      expect(a.raw, path).not.toContain(marker);
      expect(a.raw, path).not.toContain('startServer');
      expect([400, 404, 414, 431], `${path} → ${a.status}`).toContain(a.status);
    }
    expect(h.log.errors()).toEqual([]);
  });
});
