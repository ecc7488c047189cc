import { describe, expect, it } from 'vitest';
import type { AppFlowSpec, TopFlowsSource } from './flows.js';
import { BadSpecError, BROWSE_DROPS_CONFIG, BROWSE_FLOWS_CONFIG, TopTrends } from './top.js';

class Source implements TopFlowsSource {
  specs = new Map<string, AppFlowSpec>();
  flows: { key: string; value: number }[] = [];
  define(name: string, spec: AppFlowSpec) {
    if (spec.keys === 'bad') throw new Error('unknown key bad');
    this.specs.set(name, spec);
  }
  clear(name: string) {
    this.specs.delete(name);
  }
  activeFlows() {
    return this.flows;
  }
  flowKeys() {
    return ['ipsource', 'ipdestination', 'IPProtocol', 'stack'];
  }
}

const T0 = 1_800_000_000_000;

describe('Flow Browser trends (reference §6.2)', () => {
  it('a spec defines a flow; the trend starts with 300 empty points 1 s apart', () => {
    const s = new Source();
    const t = new TopTrends(s, BROWSE_FLOWS_CONFIG);
    const a = t.query('ipsource,ipdestination', 'bps', '', null, T0);
    expect(a.trend.maxPoints).toBe(300);
    expect(a.trend.times).toHaveLength(300);
    expect(a.trend.times[299]! - a.trend.times[298]!).toBe(1000);
    expect(a.trend.trends.topn.every((p) => Object.keys(p).length === 0)).toBe(true);
    expect([...s.specs]).toEqual([['browse_flows0', { keys: 'ipsource,ipdestination', value: 'bytes', filter: '', t: 2, n: 10, fs: '_SEP_', dropped: false }]]);
  });

  it('each tick samples the top flows; after= returns only newer points; 300 points kept', () => {
    const s = new Source();
    const t = new TopTrends(s);
    t.query('ipsource', 'fps', '', null, T0);
    s.flows = [{ key: '10.0.0.1', value: 5 }];
    t.tick(T0 + 1000);
    s.flows = [{ key: '10.0.0.2', value: 7 }];
    t.tick(T0 + 2000);
    const a = t.query('ipsource', 'fps', '', T0 + 1000, T0 + 2000);
    expect(a.trend.times).toEqual([T0 + 2000]);
    expect(a.trend.trends.topn).toEqual([{ '10.0.0.2': 7 }]);
    for (let i = 3; i < 400; i++) t.tick(T0 + i * 1000);
    expect(t.query('ipsource', 'fps', '', null, T0 + 400_000).trend.times).toHaveLength(300);
  });

  it('flows not queried for 10 s are cleared', () => {
    const s = new Source();
    const t = new TopTrends(s);
    t.query('ipsource', 'fps', '', null, T0);
    t.tick(T0 + 10_000);
    expect(t.size).toBe(1);
    t.tick(T0 + 10_001);
    expect(t.size).toBe(0);
    expect(s.specs.size).toBe(0);
  });

  it('missing or invalid specs are bad requests', () => {
    const t = new TopTrends(new Source());
    expect(() => t.query('', 'bps', '', null, T0)).toThrow(BadSpecError);
    expect(() => t.query('ipsource', '', '', null, T0)).toThrow(BadSpecError);
    expect(() => t.query('bad', 'bps', '', null, T0)).toThrow(BadSpecError);
  });

  it('flow keys: case-insensitive prefix, sorted', () => {
    const t = new TopTrends(new Source());
    expect(t.flowKeys('ip')).toEqual(['IPProtocol', 'ipdestination', 'ipsource']);
    expect(t.flowKeys('')).toHaveLength(4);
  });

  it('the Discard Browser defines dropped flows', () => {
    const s = new Source();
    new TopTrends(s, BROWSE_DROPS_CONFIG).query('reason', 'fps', '', null, T0);
    expect(s.specs.get('browse_drops0')!.dropped).toBe(true);
  });

  it('without a flow engine: empty trends', () => {
    const t = new TopTrends(null);
    t.query('ipsource', 'fps', '', null, T0);
    t.tick(T0 + 1000);
    expect(t.query('ipsource', 'fps', '', T0, T0 + 1000).trend.trends.topn).toEqual([{}]);
  });
});
