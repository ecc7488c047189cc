// `sflowscope replay FILE --to HOST:PORT [--rate N | --speed X]`: send a capture's UDP payloads
// (its sFlow datagrams) to a collector — at the capture's own pace (speed 1), X times faster, or
// at N datagrams per second.

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { captureMs, loadCaptureDatagrams } from '../ingest/capture-feed.js';

export interface ReplayTarget {
  host: string;
  port: number;
}

export interface ReplayPacing {
  /** Datagrams per second (ignores the capture's timing). */
  rate?: number;
  /** Multiple of the capture's own pace (1 = as captured). Default 1. */
  speed?: number;
}

export interface ReplayResult {
  sent: number;
  bytes: number;
  seconds: number;
}

/** Parse `host:port`, `[v6]:port`. */
export function parseTarget(s: string): ReplayTarget {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`--to expects HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(s)}`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in ${JSON.stringify(s)}`);
  return { host: m[1]!, port };
}

/**
 * Send `payloads` (with capture times `timesMs`, used with `speed`) to the target, paced.
 * Resolves when everything was handed to the kernel.
 */
export async function sendPaced(payloads: readonly Uint8Array[], timesMs: readonly number[], to: ReplayTarget, pacing: ReplayPacing = {}): Promise<ReplayResult> {
  const family = isIP(to.host) || (await lookup(to.host)).family;
  const address = isIP(to.host) ? to.host : (await lookup(to.host, { family })).address;
  const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(to.port, address, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.on('error', () => {}); // e.g. ECONNREFUSED from an ICMP port unreachable: keep sending
  const speed = pacing.speed ?? 1;
  const t0 = timesMs[0] ?? 0;
  const due = (i: number): number => (pacing.rate !== undefined ? (i * 1000) / pacing.rate : (timesMs[i]! - t0) / speed);
  const start = performance.now();
  let bytes = 0;
  let i = 0;
  while (i < payloads.length) {
    const elapsed = performance.now() - start;
    let sentNow = 0;
    while (i < payloads.length && due(i) <= elapsed && sentNow < 512) {
      const p = payloads[i]!;
      sock.send(p);
      bytes += p.length;
      i++;
      sentNow++;
    }
    if (i >= payloads.length) break;
    if (sock.getSendQueueCount() > 2048) {
      await new Promise<void>((r) => setImmediate(r));
      continue;
    }
    const wait = due(i) - (performance.now() - start);
    if (wait >= 1) await new Promise<void>((r) => setTimeout(r, Math.min(wait, 1000)));
    else await new Promise<void>((r) => setImmediate(r));
  }
  // Let the send queue drain before closing.
  while (sock.getSendQueueCount() > 0) await new Promise<void>((r) => setTimeout(r, 1));
  await new Promise<void>((r) => sock.close(() => r()));
  return { sent: i, bytes, seconds: (performance.now() - start) / 1000 };
}

const HELP = `Usage: sflowscope replay FILE --to HOST:PORT [--rate N | --speed X] [--dst-port P]

Send the UDP payloads of a pcap/pcapng capture (its sFlow datagrams) to a collector.
  --to HOST:PORT   destination ([IPv6]:PORT for IPv6)
  --speed X        X times the capture's own pace (default 1: as captured)
  --rate N         N datagrams per second instead, ignoring the capture's timing
  --dst-port P     only datagrams the capture sent to UDP port P (default: every UDP datagram)
  --quiet          no summary line`;

export async function run(argv: string[]): Promise<number> {
  let file: string | undefined;
  let to: ReplayTarget | undefined;
  const pacing: ReplayPacing = {};
  let dstPort: number | undefined;
  let quiet = false;
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const value = () => {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${a} needs a value`);
        return v;
      };
      const positive = (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} expects a positive number, got ${JSON.stringify(v)}`);
        return n;
      };
      if (a === '--help' || a === '-h') {
        process.stdout.write(`${HELP}\n`);
        return 0;
      } else if (a === '--to') to = parseTarget(value());
      else if (a === '--rate') pacing.rate = positive(value());
      else if (a === '--speed') pacing.speed = positive(value());
      else if (a === '--dst-port') dstPort = positive(value());
      else if (a === '--quiet') quiet = true;
      else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
      else if (file === undefined) file = a;
      else throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    }
    if (file === undefined) throw new Error('missing capture FILE');
    if (to === undefined) throw new Error('missing --to HOST:PORT');
    if (pacing.rate !== undefined && pacing.speed !== undefined) throw new Error('give --rate or --speed, not both');
  } catch (e) {
    process.stderr.write(`sflowscope replay: ${(e as Error).message}\n${HELP}\n`);
    return 2;
  }
  let datagrams;
  try {
    datagrams = await loadCaptureDatagrams(file, dstPort);
  } catch (e) {
    process.stderr.write(`sflowscope replay: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const r = await sendPaced(
      datagrams.map((d) => d.payload),
      datagrams.map(captureMs),
      to,
      pacing,
    );
    if (!quiet) process.stdout.write(`sent ${r.sent} datagrams (${r.bytes} bytes) to ${to.host}:${to.port} in ${r.seconds.toFixed(3)} s\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`sflowscope replay: ${(e as Error).message}\n`);
    return 1;
  }
}
