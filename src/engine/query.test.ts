import { describe, expect, it } from 'vitest';
import { counterSample, datagram, ifCounters, rec } from '../../test/helpers/datagrams.js';
import { ManualClock } from './clock.js';
import { Engine } from './engine.js';
import { QueryError, parseAgents, parseColumn, parseFilter, parseMetricSpec } from './query.js';

const T0 = 1_800_000_000_000;

/** Three hosts with load, host_name; interfaces with speeds. */
function cluster() {
  const clock = new ManualClock(T0);
  const e = new Engine(clock);
  const hosts: [string, string, number, bigint][] = [
    ['10.0.0.1', 'web-1', 1, 10n],
    ['10.0.0.2', 'web-2', 2, 100n],
    ['10.0.0.3', 'db-1', 4, 1000n],
  ];
  hosts.forEach(([agent, name, load, speed], i) => {
    clock.set(T0 + i * 1000);
    e.ingest(
      datagram(agent, 1, 1000, [
        counterSample(2, 1, 1, [rec('host_descr', { hostname: name }), rec('host_cpu', { loadOne: load, cpuNum: 2 })]),
        counterSample(0, 7, 1, [ifCounters(7, { ifSpeed: speed })]),
      ]),
      '127.0.0.1',
    );
  });
  clock.set(T0 + 5000);
  return { e, now: clock.now() };
}
const none = parseFilter({});

describe('statistics', () => {
  const { e, now } = cluster();
  const stat = (spec: string, filter = none) => e.query.statistics({ all: true }, [parseMetricSpec(spec)], filter, now)[0]!;

  it('max (default) names the winning instance', () => {
    expect(stat('load_one')).toEqual({ metricName: 'load_one', agent: '10.0.0.3', dataSource: '2.1', metricValue: 4, metricN: 3, lastUpdate: 3000, lastUpdateMin: 3000, lastUpdateMax: 5000 });
    expect(stat('min:load_one').agent).toBe('10.0.0.1');
    expect(stat('any:load_one').agent).toBe('10.0.0.3'); // the freshest
  });

  it('sum, avg, var, sdev without agent/dataSource', () => {
    expect(stat('sum:load_one')).toEqual({ metricName: 'sum:load_one', metricValue: 7, metricN: 3, lastUpdateMin: 3000, lastUpdateMax: 5000 });
    expect(stat('avg:load_one').metricValue).toBeCloseTo(7 / 3, 12);
    const v = (1 + 4 + 16) / 3 - (7 / 3) ** 2;
    expect(stat('var:load_one').metricValue).toBeCloseTo(v, 12);
    expect(stat('sdev:load_one').metricValue).toBeCloseTo(Math.sqrt(v), 12);
  });

  it('quartiles with midpoint interpolation', () => {
    const med = stat('med:load_one');
    expect(med.metricValue).toBe(2);
    expect(med.quartiles).toEqual({ min: 1, q1: 1.5, med: 2, q3: 3, max: 4 });
    expect(stat('q1:load_one').metricValue).toBe(1.5);
    expect(stat('q2:load_one').metricValue).toBe(2);
    expect(stat('q3:load_one').metricValue).toBe(3);
    expect(stat('iqr:load_one').metricValue).toBe(1.5);
  });

  it('ds. prefix, filters (glob, OR within a key, AND across keys), missing metrics', () => {
    expect(stat('sum:7.ifspeed').metricValue).toBe(1110);
    expect(stat('sum:2.1.ifspeed')).toEqual({ metricName: 'sum:2.1.ifspeed' });
    expect(stat('sum:load_one', parseFilter({ host_name: 'web-*' })).metricValue).toBe(3);
    expect(stat('sum:load_one', parseFilter({ host_name: ['web-1', 'db-1'] })).metricValue).toBe(5);
    expect(stat('sum:load_one', parseFilter({ host_name: 'web-*', cpu_num: '2' })).metricValue).toBe(3);
    expect(stat('sum:load_one', parseFilter({ host_name: '*', ds: '2.*' })).metricN).toBe(3);
    expect(stat('sum:ifspeed', parseFilter({ ds: '2.*' }))).toEqual({ metricName: 'sum:ifspeed' });
    expect(stat('nosuch')).toEqual({ metricName: 'nosuch' });
    expect(stat('max:host_name').metricValue).toBe('web-2'); // strings compare as text
  });

  it('agents by address list or host name', () => {
    const q = (sel: string) => e.query.statistics(parseAgents(sel), [parseMetricSpec('sum:load_one')], none, now)[0]!.metricValue;
    expect(q('10.0.0.1,10.0.0.2')).toBe(3);
    expect(q('10.0.0.1;db-1')).toBe(5);
    expect(q('10.9.9.9')).toBeUndefined();
  });
});

describe('tables and dumps', () => {
  const { e, now } = cluster();

  it('table rows need every plain column; null: columns are optional; sort:', () => {
    const t = e.query.table({ all: true }, ['sort:load_one:-2', 'host_name', 'null:ifspeed'].map(parseColumn), none, now);
    expect(t.map((r) => r[1]!.metricValue)).toEqual(['db-1', 'web-2']);
    expect(t[0]![2]).toBeNull();
    const asc = e.query.table({ all: true }, ['sort:ifspeed:5'].map(parseColumn), none, now);
    expect(asc.map((r) => r[0]!.metricValue)).toEqual([10, 100, 1000]);
    expect(e.query.table({ all: true }, [parseColumn('nosuch')], none, now)).toEqual([]);
  });

  it('dump of names, of ALL, with filters', () => {
    expect(e.query.dump({ all: true }, [parseMetricSpec('host_name')], none, now).map((m) => m.metricValue)).toEqual(['web-1', 'web-2', 'db-1']);
    const all = e.query.dump(parseAgents('10.0.0.1'), null, parseFilter({ ds: '7' }), now);
    expect(all.every((m) => m.dataSource === '7' && m.agent === '10.0.0.1')).toBe(true);
    expect(all.map((m) => m.metricName)).toContain('ifspeed');
  });

  it('/metric/{agent}/json map, {} for ALL', () => {
    const m = e.query.agentMetrics(parseAgents('10.0.0.2'), none, now);
    expect(m['2.1.host_name']).toBe('web-2');
    expect(m['7.ifspeed']).toBe(100);
    expect(e.query.agentMetrics(parseAgents('ALL'), none, now)).toEqual({});
  });
});

describe('parsing', () => {
  it('rejects malformed specs with QueryError', () => {
    for (const bad of ['foo:load_one', 'max:', 'max:a:b', 'bad name', '', 'x'.repeat(300), 'load_one.']) {
      expect(() => parseMetricSpec(bad), bad).toThrow(QueryError);
    }
    for (const bad of ['sort:x', 'sort:x:abc', 'null:', 'foo:bar', 'sort::1']) expect(() => parseColumn(bad), bad).toThrow(QueryError);
    expect(() => parseAgents(',;')).toThrow(QueryError);
  });

  it('reads stat, data source and name', () => {
    expect(parseMetricSpec('avg:3.14.vir_cpu_utilization')).toMatchObject({ stat: 'avg', ds: '3.14', name: 'vir_cpu_utilization' });
    expect(parseMetricSpec('load_one')).toMatchObject({ stat: 'max', ds: null, name: 'load_one', explicitStat: false });
    expect(parseColumn('sort:x:-10')).toMatchObject({ name: 'x', sort: -10 });
  });
});
