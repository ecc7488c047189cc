// Metrics checked against values computed here from the sflowtool oracle JSON (never from our
// decoder): the captures are fed into an engine on capture time, then queried.

import { describe, expect, it } from 'vitest';
import { parseFilter, parseMetricSpec, type MetricQuery } from '../src/engine/query.js';
import { n, oracleCounterSamples, rate, replay, samplesOf, type OracleCounterSample } from './helpers/engine.js';

const noFilter = parseFilter({});

function value(q: MetricQuery, agent: string, ds: string, name: string, now: number): number | string | undefined {
  return q.get(agent, ds, name, now)?.value;
}

/** sFlow-RT's cpu_utilization from two host_cpu blocks: 100 − idle share of the CPU-time deltas. */
function cpuUtilization(a: OracleCounterSample, b: OracleCounterSample): number {
  const fields = ['cpu_user', 'cpu_nice', 'cpu_system', 'cpu_idle', 'cpu_wio', 'cpuintr', 'cpu_sintr', 'cpu_steal'];
  const d = (f: string) => n(b.blocks.get('0:2003'), f) - n(a.blocks.get('0:2003'), f);
  const total = fields.reduce((s, f) => s + d(f), 0);
  return 100 - (100 * d('cpu_idle')) / total;
}

describe('hsflowd-counters.pcap', () => {
  const { engine, lastMs } = replay('hsflowd-counters.pcap');
  const oracle = oracleCounterSamples('hsflowd-counters.pcap');
  const agent = '192.0.2.2';
  const q = engine.query;
  const host = samplesOf(oracle, agent, '2.1');
  const last = host[host.length - 1]!;
  const prev = host[host.length - 2]!;

  it('reports the host strings and gauges of the last sample', () => {
    expect(value(q, agent, '2.1', 'host_name', lastMs)).toBe(last.blocks.get('0:2000')!['hostname']);
    expect(value(q, agent, '2.1', 'load_one', lastMs)).toBeCloseTo(n(last.blocks.get('0:2003'), 'cpu_load_one'), 6);
    expect(value(q, agent, '2.1', 'mem_total', lastMs)).toBe(n(last.blocks.get('0:2004'), 'mem_total'));
    expect(value(q, agent, '2.1', 'cpu_num', lastMs)).toBe(n(last.blocks.get('0:2003'), 'cpu_num'));
  });

  it('computes cpu_utilization from the CPU-time counters of the last two samples', () => {
    expect(value(q, agent, '2.1', 'cpu_utilization', lastMs)).toBeCloseTo(cpuUtilization(prev, last), 9);
  });

  it('computes the ifinoctets rate of eth0 (and lo) from the last two samples', () => {
    for (const ifName of ['eth0', 'lo']) {
      const samples = oracle.filter((s) => s.agent === agent && s.blocks.get('0:1005')?.['ifName'] === ifName);
      expect(samples.length).toBeGreaterThan(2);
      const [a, b] = samples.slice(-2) as [OracleCounterSample, OracleCounterSample];
      expect(value(q, agent, b.ds, 'ifname', lastMs)).toBe(ifName);
      expect(value(q, agent, b.ds, 'ifinoctets', lastMs)).toBeCloseTo(rate(a, b, '0:1', 'ifInOctets', 64), 6);
      expect(value(q, agent, b.ds, 'ifinucastpkts', lastMs)).toBeCloseTo(rate(a, b, '0:1', 'ifInUcastPkts'), 6);
    }
  });

  it('omits counters the agent marks unknown (0xFFFFFFFF)', () => {
    const eth0 = oracle.filter((s) => s.blocks.get('0:1005')?.['ifName'] === 'eth0').pop()!;
    expect(eth0.blocks.get('0:1')!['ifInMulticastPkts']).toBe('4294967295');
    expect(q.get(agent, eth0.ds, 'ifinmulticastpkts', lastMs)).toBeUndefined();
  });

  it('gives rates of every other host counter too (page_in, interrupts)', () => {
    expect(value(q, agent, '2.1', 'page_in', lastMs)).toBeCloseTo(rate(prev, last, '0:2004', 'page_in'), 6);
    expect(value(q, agent, '2.1', 'interrupts', lastMs)).toBeCloseTo(rate(prev, last, '0:2003', 'cpuinterrupts'), 6);
  });
});

describe('hsflowd-docker.pcap', () => {
  const name = 'hsflowd-docker.pcap';
  const oracle = oracleCounterSamples(name);
  const agent = '127.0.0.1';
  const containers = [...new Set(oracle.filter((s) => s.ds.startsWith('3.')).map((s) => s.ds))];
  const stateOf = (s: OracleCounterSample) => n(s.blocks.get('0:2101'), 'vcpu_state');
  const stopped = containers.filter((ds) => samplesOf(oracle, agent, ds).some((s) => stateOf(s) === 5));
  const paused = containers.filter((ds) => samplesOf(oracle, agent, ds).some((s) => stateOf(s) === 3));

  it('has the stopped and paused containers the README describes', () => {
    expect(containers.length).toBe(7);
    expect(stopped.length).toBe(1);
    expect(paused.length).toBe(1);
  });

  describe('at the end of the capture', () => {
    const { engine, lastMs } = replay(name);
    const q = engine.query;
    const live = containers.filter((ds) => !stopped.includes(ds));

    it.each(live)('container %s: vir_host_name, k8s names, vir_cpu_utilization', (ds) => {
      const ss = samplesOf(oracle, agent, ds);
      const [a, b] = ss.slice(-2) as [OracleCounterSample, OracleCounterSample];
      const hostname = b.blocks.get('0:2000')!['hostname'] as string;
      // sflowtool prints at most 63 characters of the name; the datagram holds all of it.
      const ours = value(q, agent, ds, 'vir_host_name', lastMs) as string;
      expect(ours.startsWith(hostname)).toBe(true);
      if (hostname.length < 63) expect(ours).toBe(hostname);
      const cpu = ((n(b.blocks.get('0:2101'), 'vcpu_cpu_mS') - n(a.blocks.get('0:2101'), 'vcpu_cpu_mS')) * 100) / (b.tMs - a.tMs);
      expect(value(q, agent, ds, 'vir_cpu_utilization', lastMs)).toBeCloseTo(cpu, 6);
      const parts = hostname.split('_');
      if (parts[0] === 'k8s') {
        const pod = parts[2]!;
        expect(value(q, agent, ds, 'k8s_namespace', lastMs)).toBe(parts[3]);
        // The workload: the pod name without generated suffixes (hash and/or random 5 characters).
        const workload = pod.replace(/-[a-z0-9]{6,10}-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{5}$/, '');
        expect(value(q, agent, ds, 'k8s_name', lastMs)).toBe(workload);
        expect(value(q, agent, ds, 'k8s_container', lastMs)).toBe(parts[1]);
      } else {
        expect(q.get(agent, ds, 'k8s_namespace', lastMs)).toBeUndefined();
        expect(value(q, agent, ds, 'docker_name', lastMs)).toBe(hostname);
      }
    });

    it('names pods as sFlow-RT does (observed pairs)', () => {
      const names = new Set(live.map((ds) => value(q, agent, ds, 'k8s_name', lastMs)));
      expect(names).toEqual(new Set(['web', 'ingest', 'trainer-0', undefined]));
    });

    it('the stopped container has disappeared', () => {
      for (const ds of stopped) {
        expect(q.dataSources(agent, lastMs)).not.toContain(ds);
        expect(q.dump({ all: true }, null, parseFilter({ ds }), lastMs)).toEqual([]);
      }
      expect(engine.registry.agents.get(agent)!.dataSources.size).toBe(containers.length + 1);
      engine.sweep(lastMs);
      expect(engine.registry.stats.dataSourcesStopped).toBe(1);
      expect(engine.registry.agents.get(agent)!.dataSources.size).toBe(containers.length);
    });

    it('host gauges and node_* metrics of virt_node', () => {
      const host = samplesOf(oracle, agent, '2.1').pop()!;
      expect(value(q, agent, '2.1', 'node_domains', lastMs)).toBe(n(host.blocks.get('0:2100'), 'vnode_num_domains'));
      expect(value(q, agent, '2.1', 'host_name', lastMs)).toBe(host.blocks.get('0:2000')!['hostname']);
    });
  });

  it('the stopped container reports shutoff right after its last sample, then goes', () => {
    const ds = stopped[0]!;
    const lastSample = samplesOf(oracle, agent, ds).pop()!;
    const { engine, clock } = replay(name, { untilMs: lastSample.tMs });
    expect(engine.query.get(agent, ds, 'vir_cpu_state', clock.now())?.value).toBe('shutoff');
    clock.advance(engine.registry.config.stoppedRetentionMs);
    expect(engine.query.get(agent, ds, 'vir_cpu_state', clock.now())).toBeUndefined();
  });

  it('the paused container goes stale, then is fresh again after unpause', () => {
    const ds = paused[0]!;
    const ss = samplesOf(oracle, agent, ds);
    const restart = ss.findIndex((s, i) => i > 0 && s.seq < ss[i - 1]!.seq);
    expect(restart).toBeGreaterThan(0);
    const lastBefore = ss[restart - 1]!;
    const firstAfter = ss[restart]!;
    expect(firstAfter.tMs - lastBefore.tMs).toBeGreaterThan(20_000);
    const { engine, clock } = replay(name, { untilMs: firstAfter.tMs - 1 });
    clock.set(firstAfter.tMs - 1);
    const stale = engine.query.dump({ all: true }, [parseMetricSpec('vir_cpu_state')], parseFilter({ ds }), clock.now());
    expect(stale).toHaveLength(1);
    expect(stale[0]!.metricValue).toBe('paused');
    expect(stale[0]!.lastUpdate).toBeGreaterThan(firstAfter.tMs - lastBefore.tMs - 2);
    const { engine: e2 } = replay(name, { untilMs: firstAfter.tMs });
    const fresh = e2.query.dump({ all: true }, [parseMetricSpec('vir_cpu_state')], parseFilter({ ds }), firstAfter.tMs);
    expect(fresh[0]!.lastUpdate).toBe(0);
    expect(fresh[0]!.metricValue).toBe('running');
  });
});

describe('public counter captures', () => {
  const captures = [
    'cistern-sflow__counter_sample.pcap',
    'cistern-sflow__host_sample.pcap',
    'logstash-codec-sflow__sflow_1_counters_sample.pcap',
    'logstash-codec-sflow__sflow_counters_sample.pcap',
    'tcpdump__sflow_multiple_counter_30_pdus.pcap',
    'telegraf__inputs_sflow_decoder_test.pcap',
  ];

  it.each(captures)('%s: gauges of every data source, rates where two samples exist', (name) => {
    const oracle = oracleCounterSamples(name);
    expect(oracle.length).toBeGreaterThan(0);
    const { engine, lastMs } = replay(name);
    const q = engine.query;
    const keys = [...new Set(oracle.map((s) => `${s.agent} ${s.ds}`))];
    let rates = 0;
    for (const k of keys) {
      const [agent, ds] = k.split(' ') as [string, string];
      const ss = samplesOf(oracle, agent, ds);
      const b = ss[ss.length - 1]!;
      const ifc = b.blocks.get('0:1');
      if (ifc) {
        expect(value(q, agent, ds, 'ifspeed', lastMs)).toBe(n(ifc, 'ifSpeed'));
        expect(value(q, agent, ds, 'ifindex', lastMs)).toBe(ifc['ifIndex']);
        expect(value(q, agent, ds, 'ifoperstatus', lastMs)).toBe((n(ifc, 'ifStatus') & 2) !== 0 ? 'up' : 'down');
        if (ss.length >= 2) {
          const a = ss[ss.length - 2]!;
          if (b.tMs > a.tMs && n(b.blocks.get('0:1'), 'ifInOctets') >= n(a.blocks.get('0:1'), 'ifInOctets')) {
            expect(value(q, agent, ds, 'ifinoctets', lastMs)).toBeCloseTo(rate(a, b, '0:1', 'ifInOctets', 64), 6);
            rates++;
          }
        } else {
          expect(q.get(agent, ds, 'ifinoctets', lastMs)).toBeUndefined();
        }
      }
      const hd = b.blocks.get('0:2000');
      if (hd) expect(value(q, agent, ds, 'host_name', lastMs)).toBe(hd['hostname']);
      const mem = b.blocks.get('0:2004');
      if (mem) expect(value(q, agent, ds, 'mem_total', lastMs)).toBe(n(mem, 'mem_total'));
      const cpu = b.blocks.get('0:2003');
      if (cpu) expect(value(q, agent, ds, 'load_one', lastMs)).toBeCloseTo(n(cpu, 'cpu_load_one'), 6);
    }
    if (name.startsWith('tcpdump')) expect(rates).toBeGreaterThan(10);
  });

  it('sum: and avg: across agents (tcpdump 30 PDUs: two hosts, many switches)', () => {
    const name = 'tcpdump__sflow_multiple_counter_30_pdus.pcap';
    const oracle = oracleCounterSamples(name);
    const { engine, lastMs } = replay(name);
    const lastOf = new Map<string, OracleCounterSample>();
    for (const s of oracle) lastOf.set(`${s.agent} ${s.ds}`, s);
    const hosts = [...lastOf.values()].filter((s) => s.blocks.has('0:2004'));
    expect(new Set(hosts.map((h) => h.agent)).size).toBe(2);
    const memSum = hosts.reduce((t, h) => t + n(h.blocks.get('0:2004'), 'mem_total'), 0);
    const loads = hosts.map((h) => n(h.blocks.get('0:2003'), 'cpu_load_one'));
    const ifs = [...lastOf.values()].filter((s) => s.blocks.has('0:1'));
    const speedSum = ifs.reduce((t, s) => t + n(s.blocks.get('0:1'), 'ifSpeed'), 0);
    const [mem, load, med, speed, maxSpeed] = engine.query.statistics(
      { all: true },
      ['sum:mem_total', 'avg:load_one', 'med:load_one', 'sum:ifspeed', 'max:ifspeed'].map(parseMetricSpec),
      noFilter,
      lastMs,
    );
    expect(mem!.metricValue).toBe(memSum);
    expect(mem!.metricN).toBe(2);
    expect(mem!.agent).toBeUndefined();
    expect(load!.metricValue).toBeCloseTo((loads[0]! + loads[1]!) / 2, 9);
    // Two values: sFlow-RT gives q1 = med = q3 = their mean.
    expect(med!.quartiles!.q1).toBeCloseTo(med!.metricValue as number, 12);
    expect(med!.quartiles!.q3).toBeCloseTo(med!.metricValue as number, 12);
    expect(speed!.metricValue).toBe(speedSum);
    expect(speed!.metricN).toBe(ifs.length);
    expect(maxSpeed!.metricValue).toBe(Math.max(...ifs.map((s) => n(s.blocks.get('0:1'), 'ifSpeed'))));
    expect(typeof maxSpeed!.agent).toBe('string');
  });
});
