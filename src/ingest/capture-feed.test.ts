import { describe, expect, it } from 'vitest';
import { CaptureClock, ManualClock } from '../engine/clock.js';
import { CaptureFeed } from './capture-feed.js';
import type { UdpDatagram } from './pcap.js';

const T0 = 1_800_000_000_000;

function fake(offsetsMs: number[]): UdpDatagram[] {
  return offsetsMs.map((o, i) => ({
    index: i + 1,
    timestampMicros: (T0 + o) * 1000,
    ipVersion: 4,
    srcAddress: '192.0.2.1',
    srcPort: 5000,
    dstAddress: '192.0.2.2',
    dstPort: 6343,
    payload: new Uint8Array([i]),
    reassembled: false,
  }));
}

describe('CaptureFeed', () => {
  it('max pace: each datagram at its capture time, the clock standing on the last, then running on', async () => {
    const wall = new ManualClock(5);
    const clock = new CaptureClock(T0, wall);
    const seen: [number, number][] = [];
    const feed = new CaptureFeed(fake([0, 1000, 1000, 5000, 4000]), clock, (_b, _s, t) => seen.push([t, clock.now()]), { pace: 'max', holdClock: false });
    await feed.run();
    // Time never goes backwards (the last datagram is stamped 5000, not 4000).
    expect(seen.map(([t]) => t - T0)).toEqual([0, 1000, 1000, 5000, 5000]);
    expect(seen.every(([t, now]) => t === now)).toBe(true);
    expect(feed.stats).toEqual({ total: 5, fed: 5, done: true });
    wall.advance(2000);
    expect(clock.now()).toBe(T0 + 7000);
  });

  it('hold: the clock stays at the last datagram', async () => {
    const wall = new ManualClock(5);
    const clock = new CaptureClock(T0, wall);
    await new CaptureFeed(fake([0, 300]), clock, () => {}, { pace: 'max', holdClock: true }).run();
    wall.advance(10_000);
    expect(clock.now()).toBe(T0 + 300);
  });

  it('realtime pace sleeps the capture gaps; stop() ends it early', async () => {
    const clock = new CaptureClock(T0);
    const times: number[] = [];
    const start = performance.now();
    await new CaptureFeed(fake([0, 60, 120]), clock, () => times.push(performance.now() - start), { pace: 'realtime', holdClock: true }).run();
    expect(times[2]!).toBeGreaterThanOrEqual(110);
    expect(clock.now()).toBe(T0 + 120);
    const feed = new CaptureFeed(fake([0, 60_000]), new CaptureClock(T0), () => {}, { pace: 'realtime', holdClock: false });
    const done = feed.run();
    setTimeout(() => feed.stop(), 20);
    await done;
    expect(feed.stats.fed).toBe(1);
  });
});
