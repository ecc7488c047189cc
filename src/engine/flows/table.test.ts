import { describe, expect, it } from 'vitest';
import { FlowTable, ValueLayout, type FlowEntry, type TableOwner } from './table.js';
import type { SampleView } from './sample.js';

function owner(evicted: { key: string; rank: number }[]): TableOwner {
  return {
    layout: new ValueLayout([{ source: 'frames', kind: 'sum', read: () => 1, distinct: null }]),
    factor: 1,
    tauMs: 1000,
    t0: 0,
    tSeconds: 1,
    // the entry object is reused for the next key: keep what it was
    evicted: (e: FlowEntry) => evicted.push({ key: e.key, rank: e.rank }),
  };
}

describe('FlowTable', () => {
  it('evicts the key with the smallest current value, although heap positions are updated lazily', () => {
    let seed = 1;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const evicted: { key: string; rank: number }[] = [];
    const t = new FlowTable(owner(evicted), null as never, 'a');
    const s = { scale: 1 } as SampleView;
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(rand() * rand() * 400)}`;
      const full = t.size >= 50 && !t.map.has(key);
      let min = Infinity;
      if (full) for (const e of t.map.values()) min = Math.min(min, e.rank);
      t.add(key, 1 + rand() * 10, s, i, !full);
      if (full) expect(evicted[evicted.length - 1]!.rank).toBe(min);
      expect(t.size).toBeLessThanOrEqual(50);
    }
    expect(evicted.length).toBeGreaterThan(100);
    // the largest key is tracked
    let max = -Infinity;
    for (const e of t.map.values()) max = Math.max(max, e.rank);
    expect(t.top!.rank).toBe(max);
    expect(t.topEntries(3).map((e) => e.rank)).toEqual([...t.map.values()].map((e) => e.rank).sort((a, b) => b - a).slice(0, 3));
  });
});
