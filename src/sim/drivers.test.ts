// The drivers: `sflowscope sim` (CLI), the paced UDP sender and the in-process demo.
// Loopback only, and every run is bounded (a few seconds of simulated time, sped up).

import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../cli/sim.js';
import { readCapture } from '../ingest/pcap.js';
import { decodeDatagram } from '../sflow/decode.js';
import { startDemoTraffic } from './demo.js';
import { ClusterSimulator } from './simulator.js';
import { UdpSender } from './udp-sender.js';

const dir = mkdtempSync(join(tmpdir(), 'sflowscope-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let printed = '';
beforeEach(() => {
  printed = '';
  const capture = (chunk: unknown) => {
    printed += String(chunk);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function collector(): Promise<{ sock: Socket; port: number; got: Buffer[] }> {
  const sock = createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    sock.setRecvBufferSize(4 << 20);
  } catch {
    // capped by the system: fine
  }
  return { sock, port: sock.address().port, got };
}

describe('sflowscope sim (CLI)', () => {
  it('prints usage for --help, and refuses bad flags with exit code 2', async () => {
    expect(await run(['--help'])).toBe(0);
    expect(printed).toContain('--collector HOST:PORT');
    expect(await run(['--nodes', 'many'])).toBe(2);
    expect(await run(['--collector', 'nowhere'])).toBe(2);
    expect(await run(['--duration', '-3'])).toBe(2);
    expect(await run(['--bogus'])).toBe(2);
  });

  it('writes the same pcap twice for the same --seed and --start (and another for another seed)', async () => {
    const args = (seed: string, file: string) => ['--pcap', join(dir, file), '--nodes', '6', '--rate', '150', '--duration', '4', '--seed', seed, '--start', '2026-04-01T10:00:00Z'];
    expect(await run(args('17', 'a.pcap'))).toBe(0);
    expect(await run(args('17', 'b.pcap'))).toBe(0);
    expect(await run(args('18', 'c.pcap'))).toBe(0);
    const a = readFileSync(join(dir, 'a.pcap'));
    expect(a.length).toBeGreaterThan(50000);
    expect(a.equals(readFileSync(join(dir, 'b.pcap')))).toBe(true);
    expect(a.equals(readFileSync(join(dir, 'c.pcap')))).toBe(false);
    const cap = readCapture(a);
    expect(cap.datagrams[0]!.timestampMicros).toBeGreaterThanOrEqual(Date.parse('2026-04-01T10:00:00Z') * 1000);
    expect(cap.datagrams.every((d) => decodeDatagram(d.payload).error === null)).toBe(true);
    expect(printed).toMatch(/wrote \d+ packets/);
  });

  it('sends to the collector over UDP, paced, and answers reverse DNS while it runs', async () => {
    const c = await collector();
    try {
      const done = run(['--collector', `127.0.0.1:${c.port}`, '--nodes', '5', '--rate', '200', '--duration', '3', '--speed', '6', '--dns-port', '0', '--seed', '3']);
      // the DNS responder's port is printed once it listens
      let port = 0;
      for (let i = 0; i < 100 && port === 0; i++) {
        const m = /reverse DNS for the cluster on 127\.0\.0\.1:(\d+)/.exec(printed);
        if (m) port = Number(m[1]);
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(port).toBeGreaterThan(0);
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      expect(await resolver.reverse('10.96.0.10')).toEqual(['kube-dns.kube-system.svc.cluster.local']);
      expect(await done).toBe(0);
      await new Promise((r) => setTimeout(r, 50));
      expect(c.got.length).toBeGreaterThan(200);
      for (const m of c.got) expect(decodeDatagram(m).error).toBeNull();
      expect(printed).toMatch(/send errors: 0/);
    } finally {
      c.sock.close();
    }
  });
});

describe('UdpSender', () => {
  it('paces simulated time against the wall clock (speed) and stops at the duration', async () => {
    const c = await collector();
    try {
      const sim = new ClusterSimulator({ nodes: 4, rate: 300, seed: 6, startTimeMs: Date.now() });
      const sender = new UdpSender(sim, { port: c.port, speed: 4, durationMs: 2000, tickMs: 10 });
      const t0 = performance.now();
      await sender.start();
      await sender.done;
      const wall = performance.now() - t0;
      expect(wall).toBeGreaterThan(400);
      expect(wall).toBeLessThan(10000);
      await new Promise((r) => setTimeout(r, 50));
      expect(sender.stats.sent).toBe(sim.stats().datagrams);
      expect(sender.stats.sent).toBeGreaterThan(500);
      // loopback UDP: all of them, unless the receive buffer overflowed while this process was busy
      expect(c.got.length).toBeLessThanOrEqual(sender.stats.sent);
      expect(c.got.length).toBeGreaterThan(sender.stats.sent * 0.9);
      expect(sender.stats.errors).toBe(0);
    } finally {
      c.sock.close();
    }
  });
});

describe('startDemoTraffic (serve --demo)', () => {
  it('starts the simulator and the DNS responder in-process and stops them', async () => {
    const c = await collector();
    try {
      const demo = await startDemoTraffic({ nodes: 8, rate: 400, collectorPort: c.port, speed: 4, seed: 2 });
      expect(demo.dnsServer).toMatch(/^127\.0\.0\.1:\d+$/);
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([demo.dnsServer!]);
      const node = demo.simulator.cluster.nodes[0]!;
      expect(await resolver.reverse(node.ip)).toEqual([node.name]);
      await new Promise((r) => setTimeout(r, 600));
      await demo.stop();
      const sent = demo.stats().sender.sent;
      expect(sent).toBeGreaterThan(100);
      await new Promise((r) => setTimeout(r, 50));
      expect(c.got.length).toBeLessThanOrEqual(sent);
      expect(c.got.length).toBeGreaterThan(sent * 0.9);
      const agents = new Set(c.got.map((m) => decodeDatagram(m).datagram!.agentAddress));
      expect(agents.size).toBeGreaterThan(4);
      await expect(resolver.reverse(node.ip)).rejects.toBeTruthy();
    } finally {
      c.sock.close();
    }
  });
});
