// Shared by the access-control tests: temp dirs, servers on loopback, HTTPS requests trusting a
// test CA, and a throwaway certificate made by the openssl CLI.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../src/app.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sflowscope-access-'));
  dirs.push(d);
  return d;
}

export function writeTemp(name: string, content: string): string {
  const p = join(tempDir(), name);
  writeFileSync(p, content);
  return p;
}

/** A server on loopback (no sFlow socket), stopped by `cleanup()`. */
export async function serve(options: ServerOptions = {}): Promise<RunningServer> {
  const s = await startServer({ httpPort: 0, sflowPort: -1, httpBind: '127.0.0.1', dataDir: tempDir(), logLevel: 'silent', persistState: false, ...options });
  servers.push(s);
  return s;
}

export async function cleanup(): Promise<void> {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function analyzer(s: RunningServer): Promise<Record<string, number>> {
  return (await (await fetch(`${s.url}/analyzer/json`)).json()) as Record<string, number>;
}

/** Self-signed P-256 certificate for 127.0.0.1 and localhost, valid two days. */
export function makeCertificate(): { cert: string; key: string; pem: string } {
  const d = tempDir();
  const cert = join(d, 'cert.pem');
  const key = join(d, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request; `ca` is the only trusted root (undefined: the system's). */
export function httpsGet(url: string, ca: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
