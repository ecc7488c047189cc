// Feeding a capture file into the engine (`serve --pcap FILE --pcap-pace realtime|max`).
//
// The engine's clock is a CaptureClock: each datagram is ingested at its capture timestamp, so
// every rate and age is computed in capture time and results do not depend on how fast the
// machine replays. `max` feeds in batches, yielding to the event loop between batches so the
// HTTP API stays responsive; `realtime` sleeps the capture's own gaps.

import { readFile } from 'node:fs/promises';
import type { CaptureClock } from '../engine/clock.js';
import { CaptureReader, type UdpDatagram } from './pcap.js';

export type Pace = 'realtime' | 'max';

export interface CaptureFeedOptions {
  pace: Pace;
  /** After the last datagram: keep the clock there (true) or let it run on at wall speed. */
  holdClock: boolean;
  /** Only datagrams to this UDP port (default: every UDP datagram of the capture). */
  dstPort?: number;
  /** Datagrams per batch when pace is `max`. */
  batch?: number;
}

export interface CaptureFeedStats {
  total: number;
  fed: number;
  done: boolean;
}

/** The UDP datagrams of a capture file, in file order. */
export async function loadCaptureDatagrams(path: string, dstPort?: number): Promise<UdpDatagram[]> {
  const reader = new CaptureReader(await readFile(path));
  const out: UdpDatagram[] = [];
  for (const d of reader) if (dstPort === undefined || d.dstPort === dstPort) out.push(d);
  return out;
}

/** Capture time of a datagram in ms. */
export function captureMs(d: UdpDatagram): number {
  return d.timestampMicros / 1000;
}

export type IngestFn = (bytes: Uint8Array, source: string, nowMs: number) => void;

export class CaptureFeed {
  readonly stats: CaptureFeedStats;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly datagrams: readonly UdpDatagram[],
    private readonly clock: CaptureClock,
    private readonly ingest: IngestFn,
    private readonly opts: CaptureFeedOptions,
  ) {
    this.stats = { total: datagrams.length, fed: 0, done: false };
  }

  /** Feed the whole capture; resolves when done or stopped. */
  async run(): Promise<void> {
    const ds = this.datagrams;
    if (ds.length === 0) {
      this.stats.done = true;
      return;
    }
    const first = captureMs(ds[0]!);
    if (this.opts.pace === 'realtime') this.clock.run(first);
    const batch = this.opts.batch ?? 2000;
    const wallStart = performance.now();
    let last = first;
    for (let i = 0; i < ds.length && !this.stopped; i++) {
      const d = ds[i]!;
      const t = Math.max(captureMs(d), last); // captures are not always in time order
      if (this.opts.pace === 'realtime') {
        const due = t - first - (performance.now() - wallStart);
        if (due > 1) await this.sleep(due);
        if (this.stopped) break;
      } else {
        this.clock.hold(t);
        if (i > 0 && i % batch === 0) await new Promise<void>((r) => setImmediate(r));
        if (this.stopped) break;
      }
      this.ingest(d.payload, d.srcAddress, t);
      this.stats.fed++;
      last = t;
    }
    if (this.opts.holdClock) this.clock.hold(last);
    else if (this.opts.pace === 'max') this.clock.run(last);
    this.stats.done = true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wake?.();
    this.wake = null;
  }
}
