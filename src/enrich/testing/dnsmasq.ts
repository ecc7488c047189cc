// Test helpers: a real DNS server (Debian's dnsmasq) on a free loopback port, answering PTR
// queries from a generated hosts file, and a "black hole" UDP server that swallows queries.
// Used by the enrichment tests and available to end-to-end tests.

import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where dnsmasq is: $DNSMASQ, else PATH, else /usr/sbin (Debian's dnsmasq-base). */
export function findDnsmasq(): string | null {
  const candidates = [
    process.env.DNSMASQ,
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'dnsmasq')),
    '/usr/sbin/dnsmasq',
    '/sbin/dnsmasq',
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

/** A loopback port free for both UDP and TCP (dnsmasq listens on both) at the time of asking. */
export async function freeLoopbackPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (tcpFree) return port;
  }
  throw new Error('no free loopback port');
}

export type HostsEntries = ReadonlyArray<readonly [address: string, name: string]>;

export interface DnsmasqOptions {
  hosts: HostsEntries;
  /** TTL of the answers (`--local-ttl`), seconds. */
  localTtl?: number;
}

export interface Dnsmasq {
  readonly port: number;
  /** `127.0.0.1:<port>`, for DnsNames `servers`. */
  readonly server: string;
  /** Rewrite the hosts file and make dnsmasq re-read it (SIGHUP, which also clears its cache). */
  setHosts(hosts: HostsEntries): Promise<void>;
  /** PTR queries dnsmasq has received so far (from its --log-queries output). */
  ptrQueries(): number;
  /** Everything dnsmasq wrote. */
  output(): string;
  stop(): Promise<void>;
}

function hostsText(hosts: HostsEntries): string {
  return hosts.map(([a, n]) => `${a} ${n}\n`).join('');
}

/**
 * Start dnsmasq answering only from `hosts`: NXDOMAIN for every other reverse name
 * (`--local=/in-addr.arpa/`, `--local=/ip6.arpa/`), no upstream, no /etc/hosts, no config file.
 */
export async function startDnsmasq(opts: DnsmasqOptions): Promise<Dnsmasq> {
  const bin = findDnsmasq();
  if (bin === null) throw new Error('dnsmasq not found (Debian: apt-get install dnsmasq-base); set $DNSMASQ to its path');
  const dir = await mkdtemp(join(tmpdir(), 'sflowscope-dnsmasq-'));
  await chmod(dir, 0o755); // dnsmasq may drop privileges before re-reading the file on SIGHUP
  const hostsFile = join(dir, 'hosts');
  await writeFile(hostsFile, hostsText(opts.hosts), { mode: 0o644 });

  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeLoopbackPort();
    const args = [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--pid-file',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hostsFile}`,
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--local-ttl=${opts.localTtl ?? 0}`,
      '--local=/in-addr.arpa/',
      '--local=/ip6.arpa/',
      '--cache-size=0',
      '--log-queries',
      '--log-facility=-',
    ];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters: (() => void)[] = [];
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      for (const w of waiters.splice(0)) w();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = async (pred: () => boolean, ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (child.exitCode !== null || child.signalCode !== null) return false;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, 50));
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
      return true;
    };
    const readCount = (): number => (out.match(/\bread .* - \d+ names?/g) ?? []).length;
    if (!(await waitFor(() => readCount() >= 1, 5000))) {
      lastError = out;
      child.kill('SIGKILL');
      await exited;
      continue; // port taken meanwhile, most likely
    }
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    };
    return {
      port,
      server: `127.0.0.1:${port}`,
      async setHosts(hosts) {
        const before = readCount();
        await writeFile(hostsFile, hostsText(hosts), { mode: 0o644 });
        child.kill('SIGHUP');
        if (!(await waitFor(() => readCount() > before, 5000))) throw new Error(`dnsmasq did not re-read its hosts file:\n${out}`);
      },
      ptrQueries: () => (out.match(/query\[PTR\]/g) ?? []).length,
      output: () => out,
      stop,
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`dnsmasq did not start:\n${lastError}`);
}

/** A UDP server on loopback that receives queries and never answers. */
export interface BlackHole {
  readonly server: string;
  received(): number;
  stop(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sock: Socket = createSocket('udp4');
  let n = 0;
  sock.on('message', () => {
    n++;
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    server: `127.0.0.1:${sock.address().port}`,
    received: () => n,
    stop: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
