// Thresholds on real flows: hsflowd-flows.pcap replayed on capture time into a server whose flow
// engine has the `pair` flow of the sFlow-RT recording, with a byFlow threshold, a statistic on
// the flow (`sum:pair`) and the bare flow metric — evaluated every second of capture time, as the
// server's timer does. Expectations come from /activeflows at each evaluation, not from the
// threshold code.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { ManualClock } from '../src/engine/clock.js';
import type { ThresholdEvent } from '../src/engine/events.js';
import { loadDatagrams } from './helpers/engine.js';

let s: RunningServer | undefined;
let dir = '';
afterAll(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('thresholds on the flows of hsflowd-flows.pcap', () => {
  it('byFlow raises one event per key the first time it goes above; sum:pair and pair fire once', async () => {
    const dgs = loadDatagrams('hsflowd-flows.pcap');
    const clock = new ManualClock(dgs[0]!.timestampMicros / 1000);
    dir = mkdtempSync(join(tmpdir(), 'sflowscope-thresholds-flows-'));
    s = await startServer({ sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent', dataDir: dir, clock, thresholdIntervalMs: 3_600_000 });
    const srv = s;
    const put = async (path: string, body: unknown) => (await fetch(srv.url + path, { method: 'PUT', body: JSON.stringify(body) })).status;
    expect(await put('/flow/pair/json', { keys: 'ipsource,ipdestination,ipprotocol', value: 'bytes', t: 10 })).toBe(204);
    const limit = 100;
    // timeout longer than the capture: a key fires at most once.
    expect(await put('/threshold/byflow/json', { metric: 'pair', value: limit, byFlow: true, timeout: 3600 })).toBe(204);
    expect(await put('/threshold/sum/json', { metric: 'sum:pair', value: limit, timeout: 3600 })).toBe(204);
    expect(await put('/threshold/top/json', { metric: 'pair', value: limit, timeout: 3600 })).toBe(204);

    const everAbove = new Set<string>();
    let firstAbove: number | null = null;
    let next = clock.now();
    for (const d of dgs) {
      const t = d.timestampMicros / 1000;
      clock.set(t);
      srv.engine.ingest(d.payload, d.srcAddress, t);
      if (t < next) continue;
      next = t + 1_000;
      srv.ctx.registries.thresholds.evaluate(t);
      const flows = (await (await fetch(`${srv.url}/activeflows/ALL/pair/json?maxFlows=1000`)).json()) as { key: string; value: number }[];
      for (const f of flows) if (f.value > limit) {
        everAbove.add(f.key);
        firstAbove ??= Math.round(t);
      }
    }
    const events = ((await (await fetch(`${srv.url}/events/json?maxEvents=1000`)).json()) as ThresholdEvent[]).reverse();
    const byFlow = events.filter((e) => e.thresholdID === 'byflow');
    expect(everAbove.size).toBeGreaterThan(1);
    expect(new Set(byFlow.map((e) => e.flowKey))).toEqual(everAbove);
    expect(byFlow).toHaveLength(everAbove.size);
    for (const e of byFlow) {
      expect(e).toMatchObject({ metric: 'pair', agent: '127.0.0.1', dataSource: '1', threshold: limit });
      expect(e.value).toBeGreaterThan(limit);
      expect(Number.isInteger(e.timestamp)).toBe(true);
    }
    const sum = events.filter((e) => e.thresholdID === 'sum');
    const top = events.filter((e) => e.thresholdID === 'top');
    expect(sum).toHaveLength(1);
    expect(sum[0]).toMatchObject({ metric: 'sum:pair', agent: 'ALL', dataSource: 'ALL', timestamp: firstAbove });
    expect(top).toHaveLength(1);
    expect(top[0]).toMatchObject({ metric: 'pair', agent: '127.0.0.1', dataSource: '1', timestamp: firstAbove });
    expect(everAbove.has(top[0]!.flowKey!)).toBe(true);
  });
});
