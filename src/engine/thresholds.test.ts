// Thresholds, as scripts on a hand-driven clock: "at t=0 set a threshold; feed counters; at t=5
// expect an event". Counters go through the real ingest pipeline and metric query; flow values
// come from small stand-ins for the flow engine (a MetricProvider and a FlowValuesSource).

import { describe, expect, it } from 'vitest';
import { counterSample, datagram, rec } from '../../test/helpers/datagrams.js';
import { ManualClock } from './clock.js';
import { Engine } from './engine.js';
import { EventLog, type ThresholdEvent } from './events.js';
import type { MetricEntry, MetricProvider } from './query.js';
import { ThresholdEngine, type FlowValuesSource } from './thresholds.js';

const T0 = 1_800_000_000_000;
const s = (sec: number) => T0 + sec * 1000;

/** An engine on a manual clock, with a threshold engine over it and a helper to feed host counters. */
function rig() {
  const clock = new ManualClock(T0);
  const engine = new Engine(clock);
  const events = new EventLog(clock);
  const th = new ThresholdEngine(engine.query, events, clock);
  const seq = new Map<string, number>();
  /** Host counters of `agent` (data source 2.1) at engine time `t`. */
  const host = (agent: string, t: number, loadOne: number, hostname = `host-${agent}`) => {
    const n = (seq.get(agent) ?? 0) + 1;
    seq.set(agent, n);
    clock.set(t);
    engine.ingest(datagram(agent, n, n * 1000, [counterSample(2, 1, n, [rec('host_descr', { hostname }), rec('host_cpu', { loadOne, cpuNum: 4 })])]), agent, t);
  };
  /** Evaluate at `t`; the events raised by that evaluation, oldest first. */
  const at = (t: number): ThresholdEvent[] => {
    const before = events.lastId;
    clock.set(t);
    th.evaluate();
    return events.query({ after: before }).reverse();
  };
  return { clock, engine, events, th, host, at };
}

describe('thresholds on counter metrics', () => {
  it('fires when the value goes above, once, and re-arms after `timeout` seconds at or below', () => {
    const { th, host, at } = rig();
    // t=0: threshold load_one > 1, re-arm after 5 s below.
    th.set('load', { metric: 'load_one', value: 1, timeout: 5 });
    host('10.0.0.1', s(0), 0.5);
    expect(at(s(0))).toEqual([]);
    // t=1: load 2 → one event, named by agent and data source.
    host('10.0.0.1', s(1), 2);
    expect(at(s(1))).toEqual([{ eventID: 1, timestamp: s(1), thresholdID: 'load', metric: 'load_one', agent: '10.0.0.1', dataSource: '2.1', value: 2, threshold: 1 }]);
    // t=2: still above → nothing new.
    host('10.0.0.1', s(2), 3);
    expect(at(s(2))).toEqual([]);
    // t=3: below; t=7: above again before 5 s below → no event, and the hysteresis restarts.
    host('10.0.0.1', s(3), 0.5);
    expect(at(s(3))).toEqual([]);
    host('10.0.0.1', s(7), 2);
    expect(at(s(7))).toEqual([]);
    // t=8: below (exactly at the threshold counts as below) ... t=12: 4 s below, not re-armed yet.
    host('10.0.0.1', s(8), 1);
    expect(at(s(8))).toEqual([]);
    expect(at(s(12))).toEqual([]);
    expect(th.isTriggered('load', '10.0.0.1', '2.1.load_one')).toBe(true);
    // t=13: 5 s below → re-armed; t=14: above → a new event.
    expect(at(s(13))).toEqual([]);
    expect(th.isTriggered('load', '10.0.0.1', '2.1.load_one')).toBe(false);
    host('10.0.0.1', s(14), 1.5);
    expect(at(s(14))).toMatchObject([{ eventID: 2, value: 1.5, timestamp: s(14) }]);
  });

  it('timeout 0 (the default) re-arms at the first evaluation below', () => {
    const { th, host, at } = rig();
    th.set('load', { metric: 'load_one', value: 1 });
    expect(th.get('load')).toEqual({ metric: 'load_one', value: 1, byFlow: false, timeout: 0 });
    host('10.0.0.1', s(0), 2);
    expect(at(s(0))).toHaveLength(1);
    host('10.0.0.1', s(1), 0.5);
    expect(at(s(1))).toEqual([]);
    host('10.0.0.1', s(2), 2);
    expect(at(s(2))).toHaveLength(1);
  });

  it('each agent and data source is its own instance; the filter selects data sources', () => {
    const { th, host, at } = rig();
    th.set('all', { metric: 'load_one', value: 1 });
    th.set('web', { metric: 'load_one', value: 1, filter: { host_name: ['web-*'] } });
    host('10.0.0.1', s(0), 2, 'web-1');
    host('10.0.0.2', s(0), 3, 'db-1');
    const evs = at(s(0));
    expect(evs.map((e) => `${e.thresholdID} ${e.agent} ${e.value}`).sort()).toEqual(['all 10.0.0.1 2', 'all 10.0.0.2 3', 'web 10.0.0.1 2']);
    expect(th.triggeredCount('all')).toBe(2);
  });

  it('a data-source prefix restricts the metric to that data source', () => {
    const { th, host, at } = rig();
    th.set('x', { metric: '2.1.load_one', value: 1 });
    th.set('y', { metric: '3.1.load_one', value: 1 });
    host('10.0.0.1', s(0), 2);
    expect(at(s(0)).map((e) => [e.thresholdID, e.metric, e.dataSource])).toEqual([['x', 'load_one', '2.1']]);
  });

  it('a statistic is one instance over all agents: max names the winner, sum names ALL', () => {
    const { th, host, at } = rig();
    th.set('sum', { metric: 'sum:load_one', value: 3 });
    th.set('max', { metric: 'max:load_one', value: 1.5 });
    host('10.0.0.1', s(0), 1);
    host('10.0.0.2', s(0), 1);
    expect(at(s(0))).toEqual([]);
    host('10.0.0.2', s(1), 2.5);
    const evs = at(s(1));
    expect(evs).toEqual([
      { eventID: 1, timestamp: s(1), thresholdID: 'sum', metric: 'sum:load_one', agent: 'ALL', dataSource: 'ALL', value: 3.5, threshold: 3 },
      { eventID: 2, timestamp: s(1), thresholdID: 'max', metric: 'max:load_one', agent: '10.0.0.2', dataSource: '2.1', value: 2.5, threshold: 1.5 },
    ]);
    // The winner changes, the instance stays triggered: no new event.
    host('10.0.0.1', s(2), 4);
    expect(at(s(2))).toEqual([]);
  });

  it('an instance that disappears (agent expired) counts as below and re-arms', () => {
    const clock = new ManualClock(T0);
    const engine = new Engine(clock, { agents: { agentTimeoutMs: 10_000 } });
    const events = new EventLog(clock);
    const th = new ThresholdEngine(engine.query, events, clock);
    th.set('load', { metric: 'load_one', value: 1, timeout: 2 });
    engine.ingest(datagram('10.0.0.9', 1, 1000, [counterSample(2, 1, 1, [rec('host_cpu', { loadOne: 5 })])]), '10.0.0.9', s(0));
    th.evaluate(s(0));
    expect(events.size).toBe(1);
    clock.set(s(20));
    engine.sweep(s(20));
    th.evaluate(s(20));
    th.evaluate(s(22));
    expect(th.triggeredCount('load')).toBe(0);
  });

  it('redefining a threshold re-arms it; deleting it stops it; events already raised stay', () => {
    const { th, host, at, events } = rig();
    th.set('load', { metric: 'load_one', value: 1, timeout: 60 });
    host('10.0.0.1', s(0), 2);
    expect(at(s(0))).toHaveLength(1);
    expect(at(s(1))).toHaveLength(0);
    th.set('load', { metric: 'load_one', value: 1.5, timeout: 60 });
    expect(at(s(2))).toMatchObject([{ threshold: 1.5 }]);
    th.delete('load');
    expect(at(s(3))).toEqual([]);
    expect(events.size).toBe(2);
  });

  it('string metrics never fire; strings for value and timeout are accepted as numbers', () => {
    const { th, host, at } = rig();
    th.set('name', { metric: 'host_name', value: 0 });
    th.set('str', { metric: 'load_one', value: '1', timeout: '60', byFlow: 'false' });
    expect(th.get('str')).toEqual({ metric: 'load_one', value: 1, byFlow: false, timeout: 60 });
    host('10.0.0.1', s(0), 2);
    expect(at(s(0)).map((e) => e.thresholdID)).toEqual(['str']);
  });
});

/** A stand-in for the flow engine's metrics: flow `pair` on data source 3 of each agent given. */
class FlowMetrics implements MetricProvider {
  keys = new Map<string, { key: string; value: number }[]>();
  constructor(private readonly now: () => number) {}
  forEachDataSource(agent: string, _now: number, visit: (ds: string) => void): void {
    if (this.keys.has(agent)) visit('3');
  }
  get(agent: string, ds: string, name: string): MetricEntry | undefined {
    const k = this.keys.get(agent);
    if (k === undefined || ds !== '3' || name !== 'pair' || k.length === 0) return undefined;
    const sorted = [...k].sort((a, b) => b.value - a.value);
    return { value: sorted[0]!.value, updatedAt: this.now(), topKeys: sorted.map((x) => ({ ...x, lastUpdate: 0 })) };
  }
  forEachMetric(agent: string, ds: string, now: number, visit: (name: string, e: MetricEntry) => void): void {
    const e = this.get(agent, ds, 'pair');
    if (e) visit('pair', e);
  }
}

describe('thresholds on flows', () => {
  function flowRig() {
    const r = rig();
    const fm = new FlowMetrics(() => r.clock.now());
    r.engine.addMetricProvider(fm);
    // The agents must be known to the engine (a counter sample each).
    r.host('10.0.0.1', s(0), 0);
    r.host('10.0.0.2', s(0), 0);
    const src: FlowValuesSource & { calls: number } = {
      calls: 0,
      topFlows(agents, flow, max) {
        this.calls++;
        expect(agents).toBe('ALL');
        if (flow !== 'pair') return [];
        const out = [];
        for (const [agent, ks] of fm.keys) for (const k of ks) out.push({ ...k, agent, dataSource: '3' });
        return out.sort((a, b) => b.value - a.value).slice(0, max);
      },
    };
    return { ...r, fm, src };
  }

  it('a flow metric fires per data source, once, with the top key as flowKey (only the first flow raises an event)', () => {
    const { th, fm, at } = flowRig();
    th.set('big', { metric: 'pair', value: 1000 });
    fm.keys.set('10.0.0.1', [{ key: '10.1.1.1,10.2.2.2,6', value: 5000 }]);
    expect(at(s(1))).toEqual([{ eventID: 1, timestamp: s(1), thresholdID: 'big', metric: 'pair', agent: '10.0.0.1', dataSource: '3', value: 5000, threshold: 1000, flowKey: '10.1.1.1,10.2.2.2,6' }]);
    fm.keys.get('10.0.0.1')!.push({ key: '10.3.3.3,10.4.4.4,17', value: 9000 });
    expect(at(s(2))).toEqual([]);
  });

  it('sum:<flow> works as any statistic', () => {
    const { th, fm, at } = flowRig();
    th.set('total', { metric: 'sum:pair', value: 1000 });
    fm.keys.set('10.0.0.1', [{ key: 'a', value: 600 }]);
    fm.keys.set('10.0.0.2', [{ key: 'b', value: 600 }]);
    expect(at(s(1))).toMatchObject([{ metric: 'sum:pair', value: 1200, agent: 'ALL', dataSource: 'ALL' }]);
  });

  it('byFlow: one event per new key above the threshold; each key re-arms on its own', () => {
    const { th, fm, src, at } = flowRig();
    // Before the flow engine is wired, byFlow thresholds stay silent.
    th.set('flood', { metric: 'pair', value: 1000, byFlow: true, timeout: 2 });
    fm.keys.set('10.0.0.1', [{ key: 'k1', value: 5000 }]);
    expect(at(s(1))).toEqual([]);
    th.setFlowValues(src);
    // t=2: k1 above → event with flowKey.
    expect(at(s(2))).toEqual([{ eventID: 1, timestamp: s(2), thresholdID: 'flood', metric: 'pair', agent: '10.0.0.1', dataSource: '3', value: 5000, threshold: 1000, flowKey: 'k1' }]);
    // t=3: k2 on another agent, k3 below → one event for k2.
    fm.keys.set('10.0.0.2', [{ key: 'k2', value: 2000 }, { key: 'k3', value: 10 }]);
    expect(at(s(3)).map((e) => `${e.agent} ${e.flowKey}`)).toEqual(['10.0.0.2 k2']);
    expect(th.isTriggered('flood', '10.0.0.2', '3.pair', 'k2')).toBe(true);
    expect(th.isTriggered('flood', '10.0.0.2', '3.pair', 'k3')).toBe(false);
    // t=4: k1 drops; t=6: 2 s below → re-armed (k2 still triggered); t=7: k1 up again → event.
    fm.keys.get('10.0.0.1')![0]!.value = 100;
    expect(at(s(4))).toEqual([]);
    expect(at(s(6))).toEqual([]);
    expect(th.isTriggered('flood', '10.0.0.1', '3.pair', 'k1')).toBe(false);
    expect(th.isTriggered('flood', '10.0.0.2', '3.pair', 'k2')).toBe(true);
    fm.keys.get('10.0.0.1')![0]!.value = 3000;
    expect(at(s(7))).toMatchObject([{ flowKey: 'k1', value: 3000, eventID: 3 }]);
  });

  it('byFlow honours the data-source filter and a data-source prefix', () => {
    const { th, fm, src, at } = flowRig();
    th.setFlowValues(src);
    th.set('only-web', { metric: 'pair', value: 1, byFlow: true, filter: { host_name: ['host-10.0.0.2'] } });
    th.set('ds4', { metric: '4.pair', value: 1, byFlow: true });
    fm.keys.set('10.0.0.1', [{ key: 'a', value: 50 }]);
    fm.keys.set('10.0.0.2', [{ key: 'b', value: 50 }]);
    // host_name lives on data source 2.1, not on 3: the filter selects nothing (as /metric's filter would).
    expect(at(s(1))).toEqual([]);
    th.set('only-web', { metric: 'pair', value: 1, byFlow: true, filter: { ds: ['3'] } });
    expect(at(s(2)).map((e) => e.flowKey).sort()).toEqual(['a', 'b']);
  });

  it('bounds: triggered instances per threshold are capped; crossings beyond are counted', () => {
    const clock = new ManualClock(T0);
    const engine = new Engine(clock);
    const events = new EventLog(clock);
    const th = new ThresholdEngine(engine.query, events, clock, { maxTriggeredPerThreshold: 3, maxFlowsPerEvaluation: 50 });
    let asked = 0;
    th.setFlowValues({
      topFlows: (_a, _f, max) => {
        asked = max;
        return Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 100, agent: '10.0.0.1', dataSource: '1' }));
      },
    });
    th.set('scan', { metric: 'pair', value: 1, byFlow: true });
    th.evaluate(s(1));
    expect(asked).toBe(50);
    expect(events.size).toBe(3);
    expect(th.stats.suppressed).toBe(7);
  });

  it('a failing evaluation is counted and reported, and does not stop the other thresholds', () => {
    const { th, host, at } = rig();
    const errors: string[] = [];
    th.onError = (_e, id) => errors.push(id);
    th.setFlowValues({
      topFlows: () => {
        throw new Error('boom');
      },
    });
    th.set('a-bad', { metric: 'pair', value: 1, byFlow: true });
    th.set('b-good', { metric: 'load_one', value: 1 });
    host('10.0.0.1', s(0), 2);
    expect(at(s(0)).map((e) => e.thresholdID)).toEqual(['b-good']);
    expect(errors).toEqual(['a-bad']);
    expect(th.stats.errors).toBe(1);
  });
});

describe('threshold specs', () => {
  it('rejects bad specs with a message that points at the fault', () => {
    const { th } = rig();
    const cases: [unknown, RegExp][] = [
      [[], /a threshold is an object/],
      [{ value: 1 }, /metric: required/],
      [{ metric: 'load one', value: 1 }, /invalid metric name/],
      [{ metric: 'bogus:load_one', value: 1 }, /unknown statistic "bogus"/],
      [{ metric: 'load_one' }, /value: required/],
      [{ metric: 'load_one', value: 'high' }, /value: expected a number, got "high"/],
      [{ metric: 'load_one', value: 1, timeout: -1 }, /timeout: seconds/],
      [{ metric: 'load_one', value: 1, byFlow: 'yes' }, /byFlow: expected true or false/],
      [{ metric: 'sum:pair', value: 1, byFlow: true }, /byFlow: the metric must be a flow name/],
      [{ metric: 'load_one', value: 1, filter: 7 }, /filter: expected an object/],
      [{ metric: 'load_one', value: 1, filter: { os_name: [{}] } }, /filter "os_name", entry 0/],
      [{ metric: 'load_one', value: 1, filter: { os_name: [] } }, /filter "os_name": no values/],
    ];
    for (const [body, re] of cases) expect(() => th.set('t', body), JSON.stringify(body)).toThrow(re);
    expect(() => th.set('bad name', { metric: 'load_one', value: 1 })).toThrow(/invalid threshold name/);
    expect(th.size).toBe(0);
  });

  it('filters: the object form, single values, and the legacy query-string form', () => {
    const { th } = rig();
    expect(th.set('a', { metric: 'load_one', value: 1, filter: { os_name: 'linux', cpu_num: [2, 4] } }).filter).toEqual({ os_name: ['linux'], cpu_num: ['2', '4'] });
    expect(th.set('b', { metric: 'load_one', value: 1, filter: 'os_name=linux&os_name=windows&cpu_num=2' }).filter).toEqual({ os_name: ['linux', 'windows'], cpu_num: ['2'] });
    expect(th.set('c', { metric: 'load_one', value: 1, filter: {} }).filter).toBeUndefined();
  });

  it('bounded count; the state section round-trips and reports bad entries', () => {
    const clock = new ManualClock(T0);
    const engine = new Engine(clock);
    const th = new ThresholdEngine(engine.query, new EventLog(clock), clock, { maxThresholds: 1 });
    th.set('a', { metric: 'load_one', value: 1, timeout: 10, filter: { ds: ['2.*'] } });
    expect(() => th.set('b', { metric: 'load_one', value: 1 })).toThrow(/too many thresholds/);
    const other = new ThresholdEngine(engine.query, new EventLog(clock), clock);
    const r = other.section().load({ ...(JSON.parse(JSON.stringify(th.section().save())) as object), broken: { metric: 'x' } });
    expect(r.loaded).toBe(1);
    expect(r.rejected).toEqual([{ key: 'broken', reason: 'value: required, the threshold' }]);
    expect(other.all()).toEqual(th.all());
  });

  it('the timer evaluates at the clock\'s time until stopped', async () => {
    const { th, host, clock, events } = rig();
    const timed = new ThresholdEngine((th as unknown as { query: Engine['query'] }).query, events, clock, { intervalMs: 20 });
    timed.set('load', { metric: 'load_one', value: 1 });
    host('10.0.0.1', s(5), 2);
    timed.start();
    timed.start();
    await new Promise((r) => setTimeout(r, 120));
    timed.stop();
    expect(timed.stats.evaluations).toBeGreaterThanOrEqual(2);
    expect(events.query()).toMatchObject([{ timestamp: s(5), thresholdID: 'load' }]);
    const n = timed.stats.evaluations;
    await new Promise((r) => setTimeout(r, 60));
    expect(timed.stats.evaluations).toBe(n);
  });
});
