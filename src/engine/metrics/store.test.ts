import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { counterSample, datagram, ifCounters, rec } from '../../../test/helpers/datagrams.js';
import { TESTDATA_DIR } from '../../../test/oracle.js';
import { ManualClock } from '../clock.js';
import { Engine } from '../engine.js';
import { parseFilter, parseMetricSpec } from '../query.js';

const T0 = 1_800_000_000_000;

function setup() {
  const clock = new ManualClock(T0);
  const engine = new Engine(clock);
  const feed = (bytes: Uint8Array, atMs: number) => {
    clock.set(atMs);
    engine.ingest(bytes, '127.0.0.1', atMs);
  };
  const get = (agent: string, ds: string, name: string) => engine.query.get(agent, ds, name, clock.now())?.value;
  return { clock, engine, feed, get };
}

describe('sFlow-RT counter-rate probe (_probes/counter-rates)', () => {
  // Two agents send if_counters every 5 s. 10.200.0.2 (ds 11): its uptime runs at twice the wall
  // speed; 10.200.0.3: ds 12 whose octets counter is reset at t=15, ds 13 whose 32-bit packet
  // counter wraps at t=10. Columns of "sent": [t, A, B, C].
  const lines = readFileSync(join(TESTDATA_DIR, 'sflow-rt', '_probes', 'counter-rates', 'poll.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { t: number; sent?: number[]; path?: string; body?: unknown });

  it('gives the rates sFlow-RT gave (rate over arrival time, reset → 0, wrap → correct)', () => {
    const { engine, feed, clock } = setup();
    let seq = 0;
    let checked = 0;
    let sendT = 0;
    for (const l of lines) {
      if (l.sent) {
        const [t, a, b, c] = l.sent as [number, number, number, number];
        sendT = t;
        seq++;
        const at = T0 + t * 1000;
        feed(datagram('10.200.0.2', seq, 1_000_000 + t * 2000, [counterSample(0, 11, seq, [ifCounters(11, { ifInOctets: BigInt(a), ifInUcastPkts: a / 1000, ifOutOctets: BigInt(a), ifOutUcastPkts: a / 1000 })])]), at);
        feed(
          datagram('10.200.0.3', seq, 1_000_000 + t * 1000, [
            counterSample(0, 12, seq, [ifCounters(12, { ifInOctets: BigInt(b), ifInUcastPkts: b / 1000, ifOutOctets: BigInt(b), ifOutUcastPkts: b / 1000 })]),
            counterSample(0, 13, seq, [ifCounters(13, { ifInOctets: BigInt(a), ifInUcastPkts: c, ifOutOctets: BigInt(a), ifOutUcastPkts: c })]),
          ]),
          at,
        );
        continue;
      }
      if (!l.path?.startsWith('/dump/')) continue;
      clock.set(T0 + l.t * 1000);
      const body = l.body as { agent: string; dataSource: string; metricName: string; metricValue: number }[];
      const ours = engine.query.dump({ all: true }, ['ifinoctets', 'ifinucastpkts', 'ifinpkts', 'ifinutilization'].map(parseMetricSpec), parseFilter({}), clock.now());
      expect(ours.length, `t=${sendT}`).toBe(body.length);
      for (const t of body) {
        const o = ours.find((m) => m.agent === t.agent && m.dataSource === t.dataSource && m.metricName === t.metricName);
        expect(o, `${t.agent} ${t.dataSource} ${t.metricName}`).toBeDefined();
        // sFlow-RT timed the arrivals to the millisecond (200040 for 200000): 0.1 %.
        expect(Math.abs((o!.metricValue as number) - t.metricValue)).toBeLessThanOrEqual(Math.abs(t.metricValue) * 1e-3 + 1e-9);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('counter rules', () => {
  it('first sample: gauges and strings only; /metrics/json already lists the counters', () => {
    const { engine, feed, get, clock } = setup();
    feed(datagram('10.0.0.1', 1, 1000, [counterSample(0, 5, 1, [ifCounters(5, { ifInOctets: 1000n, ifInMulticastPkts: 0xffffffff })])]), T0);
    expect(get('10.0.0.1', '5', 'ifspeed')).toBe(1e9);
    expect(get('10.0.0.1', '5', 'ifoperstatus')).toBe('up');
    expect(get('10.0.0.1', '5', 'iftype')).toBe('ethernetCsmacd');
    expect(get('10.0.0.1', '5', 'ifdirection')).toBe('full-duplex');
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBeUndefined();
    const names = engine.query.metricNames(clock.now());
    expect(names).toHaveProperty('ifinoctets');
    expect(names).toHaveProperty('ifinutilization');
    expect(names).not.toHaveProperty('ifinmulticastpkts'); // unknown (all ones): never a metric
  });

  it('64-bit counter going down is a reset (0); 32-bit wrap is read as a wrap; an implausible 32-bit drop is a reset', () => {
    const { feed, get } = setup();
    const s = (seq: number, octets: bigint, pkts: number) => datagram('10.0.0.1', seq, seq * 1000, [counterSample(0, 5, seq, [ifCounters(5, { ifInOctets: octets, ifInUcastPkts: pkts })])]);
    feed(s(1, 10_000_000n, 4_294_967_000), T0);
    feed(s(2, 20_000_000n, 704), T0 + 10_000);
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBe(1_000_000);
    expect(get('10.0.0.1', '5', 'ifinucastpkts')).toBe(100);
    expect(get('10.0.0.1', '5', 'ifinutilization')).toBeCloseTo(0.8, 12);
    feed(s(3, 5n, 100), T0 + 20_000);
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBe(0);
    expect(get('10.0.0.1', '5', 'ifinucastpkts')).toBe(0);
    feed(s(4, 1005n, 1_000_000_100), T0 + 30_000);
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBe(100);
    expect(get('10.0.0.1', '5', 'ifinucastpkts')).toBe(100_000_000);
    feed(s(5, 2005n, 100), T0 + 40_000);
    expect(get('10.0.0.1', '5', 'ifinucastpkts')).toBe(0); // wrapped delta ≥ 2^31: a reset
  });

  it('an agent restart makes every rate of that interval 0, then rates resume', () => {
    const { feed, get, engine } = setup();
    const s = (dseq: number, uptime: number, sseq: number, octets: bigint) =>
      datagram('10.0.0.1', dseq, uptime, [counterSample(0, 5, sseq, [ifCounters(5, { ifInOctets: octets, ifInUcastPkts: Number(octets / 100n) })])]);
    feed(s(1000, 9_000_000, 500, 9_000_000n), T0);
    feed(s(1001, 9_010_000, 501, 9_100_000n), T0 + 10_000);
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBe(10_000);
    // Restarted: sequence numbers and uptime begin again; counters happen to be higher.
    feed(s(1, 1000, 1, 9_500_000n), T0 + 20_000);
    expect(engine.registry.agents.get('10.0.0.1')!.restarts).toBe(1);
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBe(0);
    feed(s(2, 11_000, 2, 9_600_000n), T0 + 30_000);
    expect(get('10.0.0.1', '5', 'ifinoctets')).toBe(10_000);
  });

  it('two samples of one data source at the same instant: the second keeps the rates', () => {
    const { feed, get } = setup();
    const smp = (seq: number, cpu: number) => counterSample(3, 7, seq, [rec('virt_cpu', { state: 1, cpuTime: cpu, nrVirtCpu: 1 })]);
    feed(datagram('10.0.0.1', 1, 1000, [smp(1, 1000)]), T0);
    feed(datagram('10.0.0.1', 2, 3000, [smp(2, 1500)]), T0 + 2000);
    expect(get('10.0.0.1', '3.7', 'vir_cpu_utilization')).toBe(25);
    feed(datagram('10.0.0.1', 3, 3000, [smp(3, 1500), smp(4, 1500)]), T0 + 4000);
    expect(get('10.0.0.1', '3.7', 'vir_cpu_utilization')).toBe(0);
    feed(datagram('10.0.0.1', 4, 5000, [smp(5, 2500)]), T0 + 6000);
    expect(get('10.0.0.1', '3.7', 'vir_cpu_utilization')).toBe(50);
  });

  it('NVIDIA GPU: utilisation, memory utilisation and power across the 32-bit energy wrap; vir_ prefix on pods', () => {
    const { feed, get } = setup();
    const gpu = (energy: number, gpuTime: number, memTime: number) =>
      rec('nvidia_gpu', { deviceCount: 4, processes: 3, gpuTime, memTime, memTotal: 80n << 30n, memFree: 60n << 30n, energy, temperature: 70, fanSpeed: 40 });
    // 4 GPUs at 250 W each for 10 s = 10,000,000 mJ; the counter wraps in between.
    const e0 = 2 ** 32 - 4_000_000;
    feed(datagram('10.0.0.1', 1, 1000, [counterSample(2, 1, 1, [gpu(e0, 1_000_000, 5_000)]), counterSample(3, 9, 1, [gpu(e0, 0, 0)])]), T0);
    const e1 = (e0 + 10_000_000) % 2 ** 32;
    // gpu_time grows 1000 ms/s per fully busy GPU: 3 of 4 busy → 30,000 over 10 s.
    feed(datagram('10.0.0.1', 2, 11_000, [counterSample(2, 1, 2, [gpu(e1, 1_030_000, 25_000)]), counterSample(3, 9, 2, [gpu(e1, 10_000, 0)])]), T0 + 10_000);
    expect(get('10.0.0.1', '2.1', 'nvml_power')).toBeCloseTo(1000, 9);
    expect(get('10.0.0.1', '2.1', 'nvml_gpu_utilization')).toBeCloseTo(75, 9);
    expect(get('10.0.0.1', '2.1', 'nvml_mem_utilization')).toBeCloseTo(50, 9);
    expect(get('10.0.0.1', '2.1', 'nvml_gputime')).toBeCloseTo(3000, 9);
    expect(get('10.0.0.1', '2.1', 'nvml_mem_used')).toBe(20 * 2 ** 30);
    expect(get('10.0.0.1', '2.1', 'nvml_temperature')).toBe(70);
    expect(get('10.0.0.1', '3.9', 'vir_nvml_gputime')).toBeCloseTo(1000, 9);
    expect(get('10.0.0.1', '3.9', 'vir_nvml_power')).toBeCloseTo(1000, 9);
    expect(get('10.0.0.1', '3.9', 'nvml_gputime')).toBeUndefined();
  });

  it('host structures: cpu percentages, memory, disk time per operation, per-cpu loads', () => {
    const { feed, get } = setup();
    const cpu = (user: number, idle: number) =>
      rec('host_cpu', { loadOne: Math.fround(1.76), loadFive: 1, loadFifteen: 0.5, cpuNum: 2, cpuUser: user, cpuIdle: idle, cpuSteal: 0, cpuGuest: 0, cpuGuestNice: 0 });
    const mem = rec('host_memory', { memTotal: 1000n, memFree: 500n, memBuffers: 100n, memCached: 150n });
    const disk = (ops: number, time: number) => rec('host_disk_io', { diskTotal: 100n, diskFree: 25n, partMaxUsed: 7512, writes: ops, writeTime: time, reads: 0, readTime: 0 });
    feed(datagram('10.0.0.1', 1, 1000, [counterSample(2, 1, 1, [cpu(1000, 1000), mem, disk(10, 10)])]), T0);
    feed(datagram('10.0.0.1', 2, 11000, [counterSample(2, 1, 2, [cpu(1300, 1700), mem, disk(30, 50)])]), T0 + 10_000);
    expect(get('10.0.0.1', '2.1', 'cpu_utilization')).toBeCloseTo(30, 9);
    expect(get('10.0.0.1', '2.1', 'cpu_user')).toBeCloseTo(30, 9);
    expect(get('10.0.0.1', '2.1', 'cpu_idle')).toBeCloseTo(70, 9);
    expect(get('10.0.0.1', '2.1', 'load_one')).toBe(1.76);
    expect(get('10.0.0.1', '2.1', 'load_one_per_cpu')).toBe(0.88);
    expect(get('10.0.0.1', '2.1', 'mem_used')).toBe(250);
    expect(get('10.0.0.1', '2.1', 'mem_utilization')).toBe(25);
    expect(get('10.0.0.1', '2.1', 'disk_utilization')).toBe(75);
    expect(get('10.0.0.1', '2.1', 'part_max_used')).toBe(75.12);
    expect(get('10.0.0.1', '2.1', 'writes')).toBe(2);
    expect(get('10.0.0.1', '2.1', 'write_time')).toBe(2); // ms per write
    expect(get('10.0.0.1', '2.1', 'read_time')).toBe(0);
  });

  it('virtual entities: names from vir_host_name, memory, host_parent; a stopped one ends', () => {
    const { feed, get, engine, clock } = setup();
    const descr = (hostname: string) => rec('host_descr', { hostname, machineType: 3, osName: 2, osRelease: '6.1' });
    const s = (seq: number, hostname: string, state: number) =>
      counterSample(3, 42, seq, [descr(hostname), rec('host_parent', { containerType: 2, containerIndex: 1 }), rec('virt_cpu', { state, cpuTime: 0, nrVirtCpu: 2 }), rec('virt_memory', { memory: 256n, maxMemory: 1024n })]);
    feed(datagram('10.0.0.1', 1, 1000, [s(1, 'k8s__api-6d4cf56db6-9xk2p_shop_0b5e_0', 1)]), T0);
    expect(get('10.0.0.1', '3.42', 'k8s_namespace')).toBe('shop');
    expect(get('10.0.0.1', '3.42', 'k8s_name')).toBe('api');
    expect(get('10.0.0.1', '3.42', 'k8s_container')).toBeUndefined();
    expect(get('10.0.0.1', '3.42', 'vir_machine_type')).toBe('x86_64');
    expect(get('10.0.0.1', '3.42', 'vir_os_name')).toBe('linux');
    expect(get('10.0.0.1', '3.42', 'host_parent')).toBe('2.1');
    expect(get('10.0.0.1', '3.42', 'vir_mem_free')).toBe(768);
    expect(get('10.0.0.1', '3.42', 'vir_mem_utilization')).toBe(25);
    expect(get('10.0.0.1', '3.42', 'vir_cpu_num')).toBe(2);
    feed(datagram('10.0.0.1', 2, 3000, [s(2, 'web.1.abcdefghijklmnopqrstuvwxy', 5)]), T0 + 2000);
    expect(get('10.0.0.1', '3.42', 'swarm_name')).toBe('web');
    expect(get('10.0.0.1', '3.42', 'k8s_name')).toBeUndefined();
    expect(get('10.0.0.1', '3.42', 'vir_cpu_state')).toBe('shutoff');
    clock.advance(engine.registry.config.stoppedRetentionMs);
    expect(get('10.0.0.1', '3.42', 'vir_cpu_state')).toBeUndefined();
  });

  it('sFlow-RT custom metrics (4300:1002): counters as rates, gauges and strings as they are', () => {
    const { feed, get } = setup();
    const rt = (seq: number, requests: number) =>
      datagram('10.0.0.1', seq, seq * 1000, [
        { kind: 'rtmetric', tag: (4300 << 12) | 1002, datasource: 'web1', metrics: [
          { name: 'requests', type: 1, value: requests },
          { name: 'threads', type: 3, value: 8 },
          { name: 'version', type: 0, value: 'v1' },
        ] },
      ]);
    feed(rt(1, 100), T0);
    feed(rt(2, 600), T0 + 5000);
    expect(get('10.0.0.1', 'web1', 'requests')).toBe(100);
    expect(get('10.0.0.1', 'web1', 'threads')).toBe(8);
    expect(get('10.0.0.1', 'web1', 'version')).toBe('v1');
  });
});
