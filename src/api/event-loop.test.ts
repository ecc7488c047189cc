import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../app.js';
import { EventLoopLag } from './event-loop.js';

const FIELDS = ['eventLoopLagP50Ms', 'eventLoopLagP99Ms', 'eventLoopLagMaxMs', 'eventLoopLagMeanMs', 'eventLoopLagP99MsSinceStart', 'eventLoopLagMaxMsSinceStart'];

function expectSane(f: Record<string, number>): void {
  for (const k of FIELDS) {
    expect(typeof f[k], k).toBe('number');
    expect(Number.isFinite(f[k]), k).toBe(true);
    expect(f[k], k).toBeGreaterThanOrEqual(0);
  }
  expect(f.eventLoopLagP50Ms).toBeLessThanOrEqual(f.eventLoopLagP99Ms!);
  expect(f.eventLoopLagP99Ms).toBeLessThanOrEqual(f.eventLoopLagMaxMs!);
  expect(f.eventLoopLagP99MsSinceStart).toBeLessThanOrEqual(f.eventLoopLagMaxMsSinceStart!);
}

describe('EventLoopLag', () => {
  it('reports zeros before start and after stop, and sane figures while running', async () => {
    const lag = new EventLoopLag({ resolutionMs: 5, windowMs: 60_000 });
    expect(lag.analyzerFields()).toMatchObject({ eventLoopLagP99Ms: 0, eventLoopLagMaxMs: 0, eventLoopLagWindowMs: 60_000 });
    lag.start();
    lag.start(); // idempotent: a second start must not leak a second pair of timers
    await new Promise((r) => setTimeout(r, 100));
    const f = lag.analyzerFields();
    expectSane(f);
    expect(lag.recent().samples).toBeGreaterThan(0);
    lag.stop();
    lag.stop();
    expect(lag.sinceStart().samples).toBe(0);
  });

  it('keeps the last complete window once one has ended', async () => {
    const lag = new EventLoopLag({ resolutionMs: 5, windowMs: 50 });
    lag.start();
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(lag.recent().samples).toBeGreaterThan(0);
      expectSane(lag.analyzerFields());
    } finally {
      lag.stop();
    }
  });
});

describe('/analyzer/json event-loop fields', () => {
  let s: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'sflowscope-eventloop-'));
  beforeAll(async () => {
    s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir: dir });
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are present and sane', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const an = (await (await fetch(`${s.url}/analyzer/json`)).json()) as Record<string, number>;
    expectSane(an);
    expect(an.eventLoopLagWindowMs).toBeGreaterThan(0);
  });
});
