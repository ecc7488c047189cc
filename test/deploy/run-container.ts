// Running a manifest's container command on the test machine (see entrypoint.test.ts for what is
// mapped and why): free loopback ports, the built entry file or its source, HTTP(S) probes.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { REPO } from './k8s.js';

export { freeTcpPort, freeUdpPort } from '../helpers/ports.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How to run the manifest's command on this machine: the built file, or its source with tsx. */
export function resolveCommand(argv: readonly string[]): { args: string[]; mode: string } {
  const [exe, script, ...rest] = argv;
  if (exe !== 'node' || script === undefined) throw new Error(`the container command must be \`node <script> ...\`, got ${JSON.stringify(argv)}`);
  if (existsSync(join(REPO, script))) return { args: [script, ...rest], mode: `node ${script}` };
  const source = script.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
  if (existsSync(join(REPO, source))) return { args: ['--import', 'tsx', source, ...rest], mode: `node --import tsx ${source} (no build: ${script} is missing)` };
  throw new Error(`the container's entry command cannot run: neither ${script} (npm run build) nor its source ${source} exists`);
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request over HTTP or HTTPS (trusting `ca` for HTTPS); rejects on a network error or after `timeoutMs`. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer; timeoutMs?: number } = {}): Promise<Answer> {
  const tls = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(url, { method: opts.method ?? 'GET', headers: opts.headers, timeout: opts.timeoutMs ?? 5000, ...(tls && opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface ContainerProcess {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last output of the process, for failure messages. */
  log(): string;
}

/** Spawn the command (resolved by resolveCommand) with exactly `env`. */
export function spawnContainer(command: readonly string[], env: NodeJS.ProcessEnv): ContainerProcess & { mode: string } {
  const { args, mode } = resolveCommand(command);
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, mode, log: () => `\n--- server output ---\n${output.slice(-4000)}` };
}

/** Poll `url` until it answers 200, the process exits (throws) or `timeoutMs` passes (throws). */
export async function waitHealthy(p: ContainerProcess, url: string, timeoutMs: number, ca?: Buffer): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void p.exit.then((e) => (exited = e));
  for (;;) {
    if (exited) throw new Error(`the server exited before becoming healthy (${JSON.stringify(exited)})${p.log()}`);
    try {
      const r = await request(url, { ca, timeoutMs: 2000 });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no healthy ${url} within ${timeoutMs} ms${p.log()}`);
    await sleep(200);
  }
}
