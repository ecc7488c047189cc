// Sends a simulator's datagrams to a collector over UDP, paced in real time: every tick it
// advances the model to "now" (scaled by `speed`) and sends what the agents sent meanwhile.
// One socket for all agents (collectors key agents by the datagram's agent address).

import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ClusterSimulator, SimDatagram } from './simulator.js';

export interface UdpSenderOptions {
  /** Collector address. Default 127.0.0.1. */
  host?: string;
  /** Collector port. Default 6343. */
  port?: number;
  /** Simulated seconds per wall-clock second. Default 1. */
  speed?: number;
  /** Pacing period, ms. Default 20. */
  tickMs?: number;
  /** Stop after this much simulated time, ms (default: run until stop()). */
  durationMs?: number;
  /** Let the process exit while sending (for in-process demo use). Default false. */
  unref?: boolean;
  /** Called with every datagram sent (counting, logging). */
  onDatagram?: (d: SimDatagram) => void;
}

export interface UdpSenderStats {
  sent: number;
  bytes: number;
  /** Send errors (e.g. ECONNREFUSED while nothing listens on the collector port). */
  errors: number;
  /** How far the model ran behind the wall clock at the last tick, ms. */
  lagMs: number;
}

export class UdpSender {
  readonly stats: UdpSenderStats = { sent: 0, bytes: 0, errors: 0, lagMs: 0 };
  /** Resolves when the duration is reached or stop() was called. */
  readonly done: Promise<void>;
  private readonly sim: ClusterSimulator;
  private readonly host: string;
  private readonly port: number;
  private readonly speed: number;
  private readonly tickMs: number;
  private readonly endMs: number;
  private readonly opts: UdpSenderOptions;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wallStart = 0;
  private simStart = 0;
  private resolveDone!: () => void;
  private stopped = false;

  constructor(sim: ClusterSimulator, options: UdpSenderOptions = {}) {
    this.sim = sim;
    this.opts = options;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 6343;
    this.speed = options.speed ?? 1;
    this.tickMs = options.tickMs ?? 20;
    this.endMs = options.durationMs !== undefined ? sim.now + options.durationMs : Infinity;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  async start(): Promise<void> {
    if (this.socket) return;
    const sock = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    sock.on('error', () => {
      this.stats.errors++;
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(this.port, this.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    try {
      sock.setSendBufferSize(8 << 20);
    } catch {
      // not allowed to grow it: keep the default
    }
    this.socket = sock;
    if (this.opts.unref) sock.unref();
    this.wallStart = performance.now();
    this.simStart = this.sim.now;
    this.tick();
  }

  private send = (d: SimDatagram): void => {
    this.socket!.send(d.bytes, this.onSent);
    this.stats.sent++;
    this.stats.bytes += d.bytes.length;
    this.opts.onDatagram?.(d);
  };

  private onSent = (err: Error | null): void => {
    if (err) this.stats.errors++;
  };

  private tick = (): void => {
    this.timer = null;
    if (this.stopped || !this.socket) return;
    const target = Math.min(this.endMs, this.simStart + (performance.now() - this.wallStart) * this.speed);
    this.sim.advance(target, this.send);
    const now = this.simStart + (performance.now() - this.wallStart) * this.speed;
    this.stats.lagMs = Math.max(0, (now - this.sim.now) / this.speed);
    if (target >= this.endMs) {
      void this.stop();
      return;
    }
    this.timer = setTimeout(this.tick, this.tickMs);
    if (this.opts.unref) this.timer.unref();
  };

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const sock = this.socket;
    this.socket = null;
    if (sock) await new Promise<void>((resolve) => sock.close(() => resolve()));
    this.resolveDone();
  }
}
