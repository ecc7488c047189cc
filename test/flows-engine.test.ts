// The flow engine as a script: at a time, feed these samples; at a later time, expect these
// active flows, metrics and records. Samples are real sFlow datagrams (encoded with the
// project's encoder, decoded by the pipeline), time comes from a hand-driven clock.

import { describe, expect, it } from 'vitest';
import { EventLog } from '../src/engine/events.js';
import { GroupRegistry } from '../src/engine/groups.js';
import { MapRegistry } from '../src/engine/maps.js';
import { ThresholdEngine } from '../src/engine/thresholds.js';
import type { PersistentSection, StateStoreLike } from '../src/engine/labels.js';
import { flowRecordDefs } from '../src/sflow/index.js';
import type { FlowRecord } from '../src/sflow/types.js';
import { FlowSpecError } from '../src/engine/flows/syntax.js';
import { FlowScript, packet } from './helpers/flows.js';

const A = '192.0.2.1';
const B = '192.0.2.2';

function rec<K extends keyof typeof flowRecordDefs>(kind: K, fields: Record<string, unknown>): FlowRecord {
  return { kind, tag: flowRecordDefs[kind].tag, ...fields } as unknown as FlowRecord;
}

describe('decaying values (sFlow-RT estimator: Σ x/t · exp(−age/t))', () => {
  it('one sample of 1000 bytes at sampling rate 10, t = 10: 1000, then 904.8 after 1 s, 49.8 after 30 s', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource,ipdestination', value: 'bytes', t: 10 });
    s.at(0).feed(A, { rate: 10, header: packet({ src: '10.0.0.1', dst: '10.0.0.2' }), frameLength: 1000 });
    expect(s.values('f')).toEqual({ '10.0.0.1,10.0.0.2': 1000 });
    s.at(1);
    expect(s.values('f')).toEqual({ '10.0.0.1,10.0.0.2': 904.837 });
    s.at(30);
    expect(s.values('f')).toEqual({ '10.0.0.1,10.0.0.2': 49.787 });
    // the key stays (sFlow-RT keeps idle keys) and its value never reaches 0, until the data
    // source is silent for --data-source-timeout (600 s)
    s.at(590);
    expect(s.active('f')[0]!.value).toBeGreaterThan(0);
    expect(s.active('f')[0]!.value).toBeLessThan(1e-20);
    s.at(601);
    expect(s.active('f')).toEqual([]);
  });

  it('frames with t = 2: one sample at rate 10 reads 5 frames/s', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames', t: 2 });
    s.at(0).feed(A, { rate: 10 });
    expect(s.values('f')).toEqual({ '10.0.0.1': 5 });
    s.at(0.05);
    expect(s.values('f')).toEqual({ '10.0.0.1': 4.877 });
  });

  it('a steady stream reads as its rate: 10 samples/s of 1500 bytes at rate 100 = 1.5 MB/s', () => {
    const s = new FlowScript().define('f', { keys: 'ipprotocol', value: 'bytes', t: 2 });
    for (let i = 0; i < 600; i++) s.at(i / 10).feed(A, { rate: 100, frameLength: 1500 });
    const v = s.active('f')[0]!.value;
    expect(Math.abs(v - 1_500_000) / 1_500_000).toBeLessThan(0.03);
  });

  it('keeps values exact across decay-epoch renormalizations (t = 0.1 s, an hour of samples)', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames', t: 0.1 });
    for (let i = 0; i <= 3600; i += 10) s.at(i).feed(A, { rate: 1 });
    expect(s.flows.getStats().renormalizations).toBeGreaterThan(0);
    expect(s.values('f')).toEqual({ '10.0.0.1': 10 });
    s.at(3600.1);
    expect(s.values('f')).toEqual({ '10.0.0.1': 3.679 });
  });

  it('scales by the effective sampling rate (an EWMA of the sample pool growth, as sFlow-RT)', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames', t: 10, log: true, activeTimeout: 1000 }, );
    s.at(0).feed(A, { rate: 10, pool: 10 });
    s.at(1).feed(A, { rate: 10, pool: 510 }); // the pool jumped by 500: R = 10 + 0.02 × (500 − 10) = 19.8
    s.flows.deleteFlow('f');
    expect(s.records('f').map((r) => r.value)).toEqual([10 + 19.8]);
  });
});

describe('keys, values and filters', () => {
  it('joins keys with fs; all keys must be present', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource,tcpdestinationport', value: 'frames', fs: '_SEP_' });
    s.at(0).feed(A, { header: packet({ src: '10.1.1.1', dport: 443 }) }, { header: packet({ src: '10.1.1.2', proto: 17, dport: 53 }) });
    expect(Object.keys(s.values('f'))).toEqual(['10.1.1.1_SEP_443']);
  });

  it('a spec without keys is one aggregate flow', () => {
    const s = new FlowScript().define('total', { value: 'bytes', t: 2 });
    s.at(0).feed(A, { frameLength: 100 }, { frameLength: 300, header: packet({ src: '10.9.9.9' }) });
    expect(s.values('total')).toEqual({ '': 200 });
  });

  it('sample attributes: agent, ds, inputifindex, outputifindex, samplingrate, direction, bytes, stripped', () => {
    const s = new FlowScript().define('f', { keys: 'agent,ds,inputifindex,outputifindex,samplingrate,direction,bytes,stripped,frames', value: 'frames' });
    s.at(0).feed(A, { ds: 7, rate: 256, input: 3, output: 7, frameLength: 1514 });
    expect(Object.keys(s.values('f'))).toEqual([`${A},7,3,7,256,egress,1514,4,1`]);
  });

  it('key functions: null, or, eq, range, prefix, suffix, first, if, concat, mask, oui, uri', () => {
    const s = new FlowScript();
    const specs: [string, string, string][] = [
      ['null:vlan:none,null:ipprotocol:0', '', 'none,6'],
      ['or:ip6source:ipsource', '', '10.0.0.1'],
      ['eq:ipsource:ipdestination', '', 'false'],
      ['range:bytes:65:1500,range:tcpdestinationport:1024', '', 'true,false'],
      ['prefix:stack:.:2,suffix:stack:.:1', '', 'eth.ip,tcp'],
      ['first:stack:.:ip:ip6', '', 'ip'],
      ['if:[first:stack:.:ip:ip6]:ip:[mask:ipsource:24]:[ip6source]', '', '10.0.0.0'],
      ['concat:\\::ipsource:tcpdestinationport', '', '10.0.0.1:80'],
      ['mask:ipdestination:16', '', '10.0.0.0'],
      ['oui:macsource:number,oui:macdestination', '', '001C73,VMware'],
      ['[if:ipprotocol:6:tcp:other]', '', 'tcp'],
    ];
    specs.forEach(([keys], i) => s.define(`f${i}`, { keys, value: 'frames' }));
    s.at(0).feed(A, { header: packet({ srcMac: '001C73000001', dstMac: '005056000002' }), frameLength: 1000 });
    specs.forEach(([keys, , want], i) => expect(Object.keys(s.values(`f${i}`)), keys).toEqual([want]));
  });

  it('group:, map:, dns:, k8s:, host:, ifname: read the components handed to the engine; link:/node:/country:/asn: are null without them', () => {
    const groups = new GroupRegistry();
    groups.set('zones', { pods: ['10.244.0.0/16'], world: ['0.0.0.0/0'] });
    const maps = new MapRegistry();
    maps.set('ports', { web: ['80', '443'], dns: ['53'] });
    const k8s = { attribute: (a: string, attr: string) => (a === '10.244.1.5' && attr === 'namespace' ? 'shop' : undefined) };
    const s = new FlowScript({}, { groups, maps, dnsName: (a) => (a === '10.244.1.5' ? 'web-0.shop.svc.cluster.local.' : a), k8s });
    s.define('g', { keys: 'group:ipsource:zones,group:ipdestination:zones', value: 'frames' });
    s.define('m', { keys: 'map:tcpdestinationport:ports', value: 'frames' });
    s.define('d', { keys: 'dns:ipsource,dns:ipdestination', value: 'frames' });
    s.define('k', { keys: 'k8s:ipsource:namespace', value: 'frames' });
    s.define('geo', { keys: 'ipsource', value: 'frames', filter: 'country:ipsource=null&asn:ipsource=null&link:inputifindex=null&node:inputifindex=null' });
    s.define('h', { keys: 'host:agent:host_name', value: 'frames' });
    s.define('i', { keys: 'ifname:inputifindex', value: 'frames' });
    s.at(0).feed(A, { header: packet({ src: '10.244.1.5', dst: '8.8.8.8', dport: 443 }) });
    expect(Object.keys(s.values('g'))).toEqual(['pods,world']);
    expect(Object.keys(s.values('m'))).toEqual(['web']);
    expect(Object.keys(s.values('d'))).toEqual(['web-0.shop.svc.cluster.local.,8.8.8.8']);
    expect(Object.keys(s.values('k'))).toEqual(['shop']);
    expect(Object.keys(s.values('geo'))).toEqual(['10.244.1.5']);
    // no counters from that agent yet: no host_name, no ifname
    expect(s.values('h')).toEqual({});
    expect(s.values('i')).toEqual({});
  });

  it('values: frames, bytes, requests, a numeric attribute, avg:, min:, max:, count:, and extra values', () => {
    const s = new FlowScript();
    s.define('v', { keys: 'ipprotocol', value: 'bytes', values: ['frames', 'avg:ipbytes', 'max:ipbytes', 'min:ipbytes', 'count:ipsource', 'requests'], t: 10 });
    s.define('req', { keys: 'ipprotocol', value: 'requests', t: 10 });
    s.at(0).feed(
      A,
      { rate: 10, frameLength: 1000, header: packet({ src: '10.0.0.1', ipLength: 1000 }) },
      { rate: 10, frameLength: 500, header: packet({ src: '10.0.0.2', ipLength: 500, flags: 0x02 }) }, // a SYN: a request
    );
    const [f] = s.active('v');
    expect(f!.value).toBeCloseTo((1000 * 10 + 500 * 10) / 10, 6);
    expect(f!.values![0]).toBeCloseTo(2, 6); // frames/s
    expect(f!.values![1]).toBeCloseTo(750, 6); // average IP length
    expect(f!.values![2]).toBe(1000);
    expect(f!.values![3]).toBe(500);
    expect(f!.values![4]).toBeCloseTo(2, 6); // distinct sources
    expect(f!.values![5]).toBeCloseTo(1, 6); // requests/s: one SYN × rate 10 / t 10
    expect(s.values('req')).toEqual({ '6': 1 });
  });

  it('filters: =, !=, ~, !~, null, &, |, parentheses, quotes', () => {
    const s = new FlowScript();
    const cases: [string, string[]][] = [
      ['ipprotocol=6', ['10.0.0.1', '10.0.0.3']],
      ['ipprotocol!=6', ['10.0.0.2']],
      ['ipprotocol=17,1', ['10.0.0.2']],
      ['tcpflags~.......1.', ['10.0.0.3']],
      ['tcpflags!~.......1.', ['10.0.0.1']],
      ['tcpdestinationport=null', ['10.0.0.2']],
      ['udpdestinationport!=null', ['10.0.0.2']],
      ['ipprotocol=6&tcpdestinationport=443|udpdestinationport=53', ['10.0.0.2', '10.0.0.3']],
      ['ipprotocol=6&(tcpdestinationport=443|tcpdestinationport=80)', ['10.0.0.1', '10.0.0.3']],
      ["'ipsource'='10.0.0.1'", ['10.0.0.1']],
      ["'ipsource'='10.0.0.1' | 'ipsource' = '10.0.0.2'", ['10.0.0.1', '10.0.0.2']],
      ['dnsqname~.*\\.(com|net)\\.', ['10.0.0.2']],
      ['prefix:stack:.:3=eth.ip.udp', ['10.0.0.2']],
      ['[dns:ipsource]~10\\.0\\.0\\.[12]', ['10.0.0.1', '10.0.0.2']],
    ];
    cases.forEach(([filter], i) => s.define(`f${i}`, { keys: 'ipsource', value: 'frames', filter }));
    s.at(0).feed(
      A,
      { header: packet({ src: '10.0.0.1', dport: 80 }) },
      { header: packet({ src: '10.0.0.2', proto: 17, dport: 53, dnsQuery: 'example.com' }) },
      { header: packet({ src: '10.0.0.3', dport: 443, flags: 0x02 }) },
    );
    cases.forEach(([filter, want], i) => expect(Object.keys(s.values(`f${i}`)).sort(), filter).toEqual(want));
  });

  it('refuses bad specs with a message that points at the fault', () => {
    const s = new FlowScript();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ keys: 'ipsource' }, /value: required/],
      [{ keys: 'ipsorce', value: 'bytes' }, /unknown attribute "ipsorce" \(did you mean "ipsource"\?\)/],
      [{ keys: 'ipsource', value: 'bytez' }, /value "bytez": unknown attribute "bytez"/],
      [{ keys: 'ipsource', value: 'bytes', t: 'ten' }, /t: expected a number, not "ten"/],
      [{ keys: 'ipsource', value: 'bytes', filter: 'ipsource=((' }, /filter: unexpected '\(' in a value .* at position 10/],
      [{ keys: 'ipsource', value: 'bytes', filter: 'ipsource=1&' }, /filter: expected a comparison at position 12/],
      [{ keys: 'ipsource', value: 'bytes', filter: '(ipsource=1' }, /missing '\)' for the '\(' at position 1/],
      [{ keys: 'ipsource', value: 'bytes', filter: 'ipsource' }, /expected an operator/],
      [{ keys: 'ipsource', value: 'bytes', filter: 'ipsource~(a)\\1' }, /cannot be matched in linear time/],
      [{ keys: 'ipsource', value: 'bytes', filter: 'ipsource~[a-' }, /invalid regular expression/],
      [{ keys: 'frob:ipsource', value: 'bytes' }, /unknown key function "frob"/],
      [{ keys: 'prefix:stack:.', value: 'bytes' }, /prefix: needs at least 3 arguments/],
      [{ keys: 'mask:ipsource:33x', value: 'bytes' }, /bits\) must be an integer/],
      [{ keys: 'k8s:ipsource:colour', value: 'bytes' }, /attribute must be one of kind, namespace/],
      [{ keys: 'ipsource,[dns:ipsource', value: 'bytes' }, /missing '\]'/],
      [{ keys: 'ipsource', value: 'bytes', n: 0 }, /n: 0 is out of range/],
      [{ keys: 'ipsource', value: 'bytes', aggMode: 'median' }, /aggMode: expected one of/],
    ];
    for (const [spec, msg] of bad) {
      expect(() => s.define('bad', spec), JSON.stringify(spec)).toThrow(FlowSpecError);
      expect(() => s.define('bad', spec), JSON.stringify(spec)).toThrow(msg);
    }
    expect(() => s.define('bad name', { keys: 'ipsource', value: 'bytes' })).toThrow(/invalid flow name/);
    expect(s.flows.hasFlow('bad')).toBe(false);
  });
});

describe('top-N across data sources', () => {
  function threeSources(): FlowScript {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames', t: 10, n: 2 });
    // 10.0.0.1 is seen on two interfaces of A and on B; 10.0.0.2 only on A
    s.at(0)
      .feed(A, { ds: 1, rate: 100, header: packet({ src: '10.0.0.1' }) }, { ds: 2, rate: 50, header: packet({ src: '10.0.0.1' }) }, { ds: 2, rate: 30, header: packet({ src: '10.0.0.2' }) })
      .feed(B, { ds: 5, rate: 70, header: packet({ src: '10.0.0.1' }) }, { ds: 5, rate: 10, header: packet({ src: '10.0.0.3' }) });
    return s;
  }

  it('max (default): the largest data source, flowN = data sources merged', () => {
    const s = threeSources();
    expect(s.active('f')).toEqual([
      { key: '10.0.0.1', value: 10, agent: A, dataSource: '1', flowN: 3 },
      { key: '10.0.0.2', value: 3, agent: A, dataSource: '2', flowN: 1 },
      { key: '10.0.0.3', value: 1, agent: B, dataSource: '5', flowN: 1 },
    ]);
  });

  it('sum, agent, edge (= max without topology), core (empty without topology)', () => {
    const s = threeSources();
    expect(s.values('f', { aggMode: 'sum' })).toEqual({ '10.0.0.1': 22, '10.0.0.2': 3, '10.0.0.3': 1 });
    expect(s.values('f', { aggMode: 'agent' })).toEqual({ '10.0.0.1': 15, '10.0.0.2': 3, '10.0.0.3': 1 });
    expect(s.values('f', { aggMode: 'EDGE' })).toEqual(s.values('f', { aggMode: 'max' }));
    expect(s.active('f', { aggMode: 'core' })).toEqual([]);
    expect(() => s.active('f', { aggMode: 'median' })).toThrow(/aggMode/);
  });

  it('maxFlows, minValue, a filter over the keys, the agents selected', () => {
    const s = threeSources();
    expect(Object.keys(s.values('f', { maxFlows: 1 }))).toEqual(['10.0.0.1']);
    expect(Object.keys(s.values('f', { minValue: 2 }))).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(Object.keys(s.values('f', { filter: 'ipsource=10.0.0.2,10.0.0.3' }))).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(() => s.active('f', { filter: 'ipdestination=1' })).toThrow(/not a key of flow "f"/);
    expect(s.flows.activeFlows(B, 'f', {}, s.clock.now()).map((f) => f.key)).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(s.active('nosuchflow')).toEqual([]);
  });

  it('flow names are metrics: sum:<flow> adds the top key of every data source; <flow> has topKeys (n of them)', () => {
    const s = threeSources();
    const q = s.engine.query;
    const [sum, max] = q.statistics({ all: true }, [
      { label: 'sum:f', stat: 'sum', explicitStat: true, ds: null, name: 'f' },
      { label: 'f', stat: 'max', explicitStat: false, ds: null, name: 'f' },
    ], { empty: true, ds: null, terms: [] } as never, s.clock.now());
    expect(sum!.metricValue).toBeCloseTo(10 + 5 + 7, 9); // top keys of A/1, A/2, B/5
    expect(sum!.metricN).toBe(3);
    expect(max!.topKeys!.map((k) => k.key)).toEqual(['10.0.0.1']);
    const dump = q.dump({ all: true }, null, { empty: true, ds: null, terms: [] } as never, s.clock.now()).filter((m) => m.metricName === 'f');
    const a2 = dump.find((m) => m.agent === A && m.dataSource === '2')!;
    expect(a2.topKeys!.map((k) => [k.key, k.value])).toEqual([
      ['10.0.0.1', 5],
      ['10.0.0.2', 3],
    ]);
    expect(q.metricNames(s.clock.now())).toHaveProperty('f');
  });

  it('flowValue, flowLocations, topFlows (per data source, for byFlow thresholds)', () => {
    const s = threeSources();
    expect(s.flows.flowValue(A, '1', 'f', '10.0.0.1')).toBe(10);
    expect(s.flows.flowValue(A, '1', 'f', '10.9.9.9')).toBe(0);
    expect(s.flows.flowValue(A, '9', 'f', '10.0.0.1')).toBeUndefined();
    expect(s.flows.flowLocations('ALL', 'f', '10.0.0.1').map((l) => [l.agent, l.dataSource, l.value])).toEqual([
      [A, '1', 10],
      [B, '5', 7],
      [A, '2', 5],
    ]);
    expect(s.flows.topFlows('ALL', 'f', 3).map((l) => `${l.agent} ${l.dataSource} ${l.key}`)).toEqual([`${A} 1 10.0.0.1`, `${B} 5 10.0.0.1`, `${A} 2 10.0.0.1`]);
  });

  it('byFlow thresholds fire once per (agent, data source, key) above the value', () => {
    const s = threeSources();
    const events = new EventLog(s.clock);
    const th = new ThresholdEngine(s.engine.query, events, s.clock);
    th.setFlowValues(s.flows);
    th.set('big', { metric: 'f', value: 4, byFlow: true });
    th.evaluate(s.clock.now());
    const ev = events.query({}).map((e) => `${e.agent} ${e.dataSource} ${e.flowKey} ${e.value}`).sort();
    expect(ev).toEqual([`${A} 1 10.0.0.1 10`, `${A} 2 10.0.0.1 5`, `${B} 5 10.0.0.1 7`]);
  });
});

describe('bounded state', () => {
  it('a port scan stays within the key budget per flow and data source; the heavy hitter survives', () => {
    const s = new FlowScript({ maxKeysPerTable: 100 }).define('ports', { keys: 'ipsource,tcpdestinationport', value: 'frames', t: 10 });
    for (let i = 0; i < 2000; i++) {
      s.at(i / 100);
      s.feed(A, { header: packet({ src: '10.0.0.9', dport: 443 }) }, { header: packet({ src: '10.6.6.6', dport: 1 + i }) });
    }
    const st = s.flows.getStats();
    expect(st.entries).toBe(100);
    expect(st.evictions).toBe(2000 + 1 - 100);
    expect(s.active('ports')[0]!.key).toBe('10.0.0.9,443');
  });

  it('a global key budget across flows and data sources', () => {
    const s = new FlowScript({ maxEntries: 50 }).define('a', { keys: 'ipsource', value: 'frames' }).define('b', { keys: 'ipdestination', value: 'frames' });
    for (let i = 0; i < 100; i++) s.at(i).feed(A, { ds: 1 + (i % 3), header: packet({ src: `10.1.0.${i}`, dst: `10.2.0.${i}` }) });
    expect(s.flows.getStats().entries).toBeLessThanOrEqual(50);
  });

  it('dropping an agent or a data source drops its tables', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames' });
    s.at(0).feed(A, { ds: 1 }).feed(B, { ds: 1 });
    s.engine.registry.removeAgent(s.engine.registry.agents.get(A)!, 'expired');
    expect(s.active('f').map((f) => f.agent)).toEqual([B]);
    expect(s.flows.getStats().tables).toBe(1);
  });
});

describe('dropped packets (dropped: true)', () => {
  it('counts discard notifications (1 frame each) with reason names and the discarded packet’s keys', () => {
    const s = new FlowScript();
    s.define('drops', { keys: 'reason', value: 'frames', dropped: true, t: 10 });
    s.define('dropsx', { keys: 'agent,inputifindex,reason,linux_drop_reason,function,ipsource,ipdestination', value: 'frames', dropped: true, t: 10 });
    s.define('pkts', { keys: 'ipsource', value: 'frames', t: 10 });
    s.at(0).feed(A, {
      discard: true,
      ds: 2,
      input: 2,
      reason: 289,
      header: packet({ src: '192.168.1.31', dst: '255.255.255.255', proto: 17, dport: 3289 }),
      records: [rec('extended_linux_drop_reason', { reason: 'NOT_SPECIFIED' }), rec('extended_function', { symbol: '__udp4_lib_rcv+0xbed/0xd90' })],
    });
    expect(s.values('drops')).toEqual({ unknown_l4: 0.1 });
    expect(Object.keys(s.values('dropsx'))).toEqual([`${A},2,unknown_l4,NOT_SPECIFIED,__udp4_lib_rcv,192.168.1.31,255.255.255.255`]);
    expect(s.active('pkts')).toEqual([]);
    expect(s.flows.flowKeys()).toHaveProperty('reason');
    expect(s.flows.flowKeys()).toHaveProperty('function_full');
  });
});

describe('flow records (log: true)', () => {
  it('active flows end every activeTimeout (checked at most every 10 s on sample arrival); records are contiguous; totals add up', () => {
    const s = new FlowScript({ flowTimeoutMs: 0 }).define('f', { keys: 'ipsource', value: 'bytes', log: true, activeTimeout: 20, t: 10 });
    for (let i = 0; i <= 100; i++) s.at(1 + i).feed(A, { rate: 10, frameLength: 1000 });
    const recs = s.records('f');
    expect(recs.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.start).toBe(recs[i - 1]!.end);
    for (const r of recs) expect(r.end - r.start).toBeGreaterThanOrEqual(20_000);
    for (const r of recs) expect(r.end - r.start).toBeLessThanOrEqual(30_000);
    // still open: the samples since the last record; nothing is lost when the spec goes
    s.flows.deleteFlow('f');
    const total = s.records('f').reduce((a, r) => a + r.value, 0);
    expect(total).toBe(101 * 10_000);
  });

  it('default timing: a key idle for the flow timeout (5 s) ends at its last sample', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames', log: true });
    s.at(0).feed(A, { rate: 4 });
    s.at(2).feed(A, { rate: 4 });
    s.at(6.9);
    expect(s.records('f')).toEqual([]);
    s.at(7);
    expect(s.records('f')).toEqual([{ flowID: 0, name: 'f', agent: A, dataSource: '1', flowKeys: '10.0.0.1', value: 8, start: s.ms(0), end: s.ms(2) }]);
    // a new sample starts a new record
    s.at(30).feed(A, { rate: 4 });
    s.at(40);
    expect(s.records('f').map((r) => [r.start, r.end, r.value])).toEqual([
      [s.ms(0), s.ms(2), 8],
      [s.ms(30), s.ms(30), 4],
    ]);
  });

  it('sFlow-RT timing (flowTimeout 0): an idle flow ends at the first 10 s sweep tick once activeTimeout old', () => {
    const s = new FlowScript({ flowTimeoutMs: 0, sweepAnchorMs: 1_800_000_000_000 + 9_346 }).define('f', { keys: 'ipsource', value: 'bytes', log: true, activeTimeout: 20, t: 10 });
    s.at(1).feed(A, { rate: 10, frameLength: 1000 });
    s.at(29);
    expect(s.records('f')).toEqual([]);
    s.at(29.346);
    expect(s.records('f').map((r) => [r.start - s.t0, r.end - s.t0, r.value])).toEqual([[1000, 29_346, 10_000]]);
    // the key's next record starts where that one ended
    s.at(31).feed(A, { rate: 10, frameLength: 1000 });
    s.at(50);
    expect(s.records('f').map((r) => [r.start - s.t0, r.end - s.t0])).toEqual([
      [1000, 29_346],
      [29_346, 49_346],
    ]);
  });

  it('flowStart: one record per key at its first sample', () => {
    const s = new FlowScript({ flowTimeoutMs: 0 }).define('f', { keys: 'ipsource', value: 'bytes', log: true, flowStart: true, t: 10 });
    for (let i = 0; i < 100; i++) s.at(1 + i).feed(A, { rate: 10, frameLength: 1000 });
    expect(s.records('f').map((r) => [r.start, r.end, r.value])).toEqual([[s.ms(1), s.ms(1), 10_000]]);
  });

  it('extra values are totals too; an evicted key ends its record', () => {
    const s = new FlowScript({ maxKeysPerTable: 1 }).define('f', { keys: 'ipsource', value: 'bytes', values: ['frames'], log: true });
    s.at(0).feed(A, { rate: 3, frameLength: 100, header: packet({ src: '10.0.0.1' }) });
    s.at(1).feed(A, { rate: 3, frameLength: 100, header: packet({ src: '10.0.0.2' }) });
    expect(s.records('f')).toEqual([{ flowID: 0, name: 'f', agent: A, dataSource: '1', flowKeys: '10.0.0.1', value: 300, values: [3], start: s.ms(0), end: s.ms(0) }]);
  });

  it('long poll: a waiting reader gets the next record', async () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames', log: true });
    const waiting = s.flows.pollFlows({ maxFlows: 10, after: -1 }, 5000);
    s.at(0).feed(A, {});
    s.at(10).feed(A, { header: packet({ src: '10.0.0.7' }) });
    const got = await waiting;
    expect(got.map((r) => r.flowKeys)).toEqual(['10.0.0.1']);
    expect(await s.flows.pollFlows({ maxFlows: 10, after: 0 }, 10)).toEqual([]);
  });
});

describe('specs owned by apps, persistence', () => {
  function store(): StateStoreLike & { sections: PersistentSection[]; changes: string[] } {
    const sections: PersistentSection[] = [];
    const changes: string[] = [];
    return { sections, changes, register: (s) => sections.push(s), changed: (n) => changes.push(n) };
  }

  it('user-defined flows go to the state file; app-owned ones do not', () => {
    const s = new FlowScript();
    const st = store();
    s.flows.attachStateStore(st);
    s.flows.setFlow('pair', { keys: 'ipsource,ipdestination', value: 'bytes' });
    s.flows.setFlow('sunburst-stack', { keys: 'stack', value: 'frames', t: 5, n: 20 }, { owner: 'sunburst' });
    expect(st.changes).toEqual(['flows']);
    expect(s.flows.flowOwner('sunburst-stack')).toBe('sunburst');
    expect(st.sections[0]!.save()).toEqual({ pair: { keys: 'ipsource,ipdestination', value: 'bytes', t: 2, n: 5, fs: ',', activeTimeout: 60 } });
    expect(s.flows.flowNames('sunburst')).toEqual(['sunburst-stack']);
    expect(s.flows.flowNames(null)).toEqual(['pair']);
    s.flows.deleteFlow('sunburst-stack');
    expect(st.changes).toEqual(['flows']);
  });

  it('loads saved specs, rejecting bad entries with their reason', () => {
    const s = new FlowScript();
    const st = store();
    s.flows.attachStateStore(st);
    const r = st.sections[0]!.load({ pair: { keys: 'ipsource', value: 'bytes', log: true }, bad: { keys: 'nosuchkey', value: 'bytes' } });
    expect(r.loaded).toBe(1);
    expect(r.rejected).toEqual([{ key: 'bad', reason: expect.stringMatching(/unknown attribute "nosuchkey"/) }]);
    expect(s.flows.getFlow('pair')!.log).toBe(true);
    expect(st.changes).toEqual([]);
  });

  it('redefining a flow identically keeps its state; changing it starts afresh', () => {
    const s = new FlowScript().define('f', { keys: 'ipsource', value: 'frames' });
    s.at(0).feed(A, {});
    s.define('f', { keys: 'ipsource', value: 'frames' });
    expect(s.active('f')).toHaveLength(1);
    s.define('f', { keys: 'ipsource', value: 'bytes' });
    expect(s.active('f')).toHaveLength(0);
  });
});

describe('other sample forms', () => {
  it('sampled_ipv4 records (no header) give the same keys', () => {
    const s = new FlowScript().define('f', { keys: 'stack,ipsource,ipdestination,tcpdestinationport,tcpflags', value: 'bytes' });
    s.at(0).feed(A, {
      records: [rec('sampled_ipv4', { length: 1500, protocol: 6, srcIP: '10.1.2.3', dstIP: '10.3.2.1', srcPort: 5000, dstPort: 443, tcpFlags: 2, tos: 0 })],
    });
    expect(s.values('f')).toEqual({ 'ip.tcp,10.1.2.3,10.3.2.1,443,000000010': 750 });
  });

  it('/flowkeys lists the attributes of recent samples with their age', () => {
    const s = new FlowScript();
    s.at(0).feed(A, { header: packet({ proto: 17, dport: 53, dnsQuery: 'a.example' }) });
    s.at(3).feed(A, { header: packet({ vlan: 100 }) });
    const k = s.flows.flowKeys();
    expect(k.dnsqname).toBe(3000);
    expect(k.vlan).toBe(0);
    expect(k.ipsource).toBe(0);
    expect(k.agent).toBe(0);
  });
});
