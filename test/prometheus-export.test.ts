// The Prometheus endpoints of a real server fed by captures, against the answers the real
// sFlow-RT 3.1 gave for the same captures (../shared/testdata/sflow-rt, README §3), and through
// `promtool check metrics`.

import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { ManualClock } from '../src/engine/clock.js';
import { FlowEngine } from '../src/engine/flows/engine.js';
import { FLOW_EXPORT_OWNER } from '../src/engine/prometheus/flow-engine.js';
import type { ActiveFlowOptions, FlowExportSource, FlowExportSpec } from '../src/engine/prometheus/flows.js';
import { capturePath, loadDatagrams } from './helpers/engine.js';
import { PROMTOOL, compatLintOnly, promtoolCheckMetrics } from './helpers/promtool.js';

const dataDir = join(tmpdir(), 'sflowscope-test');
const RECORDED = new URL('../../shared/testdata/sflow-rt/', import.meta.url).pathname;
const common = { sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent' as const, dataDir };

async function text(s: RunningServer, path: string, status = 200): Promise<string> {
  const r = await fetch(s.url + path);
  const body = await r.text();
  expect(r.status, `${path}: ${body.slice(0, 200)}`).toBe(status);
  return body;
}

/** series → value text, comments left out. */
function parse(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of body.split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const i = l.lastIndexOf(' ');
    out.set(l.slice(0, i), l.slice(i + 1));
  }
  return out;
}

function recorded(capture: string, pattern: RegExp): string {
  const dir = join(RECORDED, capture, '4_end_plus150');
  const f = readdirSync(dir).find((n) => pattern.test(n));
  if (f === undefined) throw new Error(`no ${pattern} in ${dir}`);
  return readFileSync(join(dir, f), 'utf8');
}

const CAPTURES: [string, string][] = [
  ['hsflowd-counters', 'hsflowd-counters.pcap'],
  ['hsflowd-docker', 'hsflowd-docker.pcap'],
  ['hsflowd-flows', 'hsflowd-flows.pcap'],
  ['hsflowd-tunnels-sample', 'hsflowd-tunnels-sample.pcap'],
  ['tcpdump__sflow_multiple_counter_30_pdus', 'tcpdump__sflow_multiple_counter_30_pdus.pcap'],
];

describe.each(CAPTURES)('/prometheus/metrics/ALL/ALL/txt after %s, as sFlow-RT 3.1', (capture, pcap) => {
  let s: RunningServer;
  beforeAll(async () => {
    // sFlow-RT keeps a stopped container while its agent talks: so do we, for the comparison.
    s = await startServer({ ...common, pcap: capturePath(pcap), pcapPace: 'max', pcapHoldClock: true, stoppedRetentionMs: 3_600_000 });
    await s.captureDone;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('has exactly the series sFlow-RT wrote (names, label names, label values, label order)', async () => {
    const ours = parse(await text(s, '/prometheus/metrics/ALL/ALL/txt'));
    const theirs = parse(recorded(capture, /^10_GET__prometheus_metrics_ALL_ALL_txt/));
    expect(theirs.size).toBeGreaterThan(0);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
  });

  it('has the same values (integers as integers, doubles as doubles; rates within 5%)', async () => {
    const ours = parse(await text(s, '/prometheus/metrics/ALL/ALL/txt'));
    const theirs = parse(recorded(capture, /^10_GET__prometheus_metrics_ALL_ALL_txt/));
    const bad: string[] = [];
    for (const [k, v] of theirs) {
      const o = ours.get(k)!;
      const isDouble = (x: string) => /[.E]|NaN|Inf/.test(x);
      const a = Number(v);
      const b = Number(o);
      if (isDouble(v) !== isDouble(o) || Math.abs(a - b) > 0.05 * Math.max(Math.abs(a), Math.abs(b)) + 1e-9) bad.push(`${k} sFlow-RT ${v} ours ${o}`);
    }
    expect(bad).toEqual([]);
  });

  it('answers per agent as sFlow-RT (/prometheus/metrics/{agent}/ALL/txt)', async () => {
    const dir = join(RECORDED, capture, '4_end_plus150');
    const files = readdirSync(dir).filter((n) => /^\d+_GET__prometheus_metrics_[0-9.]+_ALL_txt/.test(n));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const agent = /prometheus_metrics_([0-9.]+)_ALL/.exec(f)![1]!;
      const ours = parse(await text(s, `/prometheus/metrics/${agent}/ALL/txt`));
      const theirs = parse(readFileSync(join(dir, f), 'utf8'));
      expect([...ours.keys()].sort(), agent).toEqual([...theirs.keys()].sort());
    }
  });

  it.skipIf(PROMTOOL === null)('passes promtool check metrics (only lints about sFlow-RT names we must keep)', async () => {
    for (const path of ['/prometheus/metrics/ALL/ALL/txt', '/prometheus/analyzer/txt', '/metrics']) {
      const r = promtoolCheckMetrics(await text(s, path));
      expect(compatLintOnly(r), `${path}\n${r.output}`).toBe(true);
    }
  });
});

describe('Prometheus endpoints of a server fed hsflowd-docker (flow engine off)', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ ...common, pcap: capturePath('hsflowd-docker.pcap'), pcapPace: 'max', pcapHoldClock: true, flows: false });
    await s.captureDone;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers text/plain with HELP and TYPE lines, every family together', async () => {
    const r = await fetch(`${s.url}/prometheus/metrics/ALL/ALL/txt`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
    const lines = (await r.text()).trimEnd().split('\n');
    const seen = new Set<string>();
    let current = '';
    for (const l of lines) {
      const name = l.startsWith('# ') ? l.split(' ')[2]! : l.split(/[{ ]/)[0]!;
      if (name !== current) {
        expect(seen.has(name), `${name} split`).toBe(false);
        seen.add(name);
        current = name;
      }
    }
    expect(lines).toContain('# TYPE sflow_vir_cpu_utilization gauge');
    expect(lines.some((l) => l.startsWith('# HELP sflow_load_one '))).toBe(true);
  });

  it('selects metrics by name list and data source, and filters as /metric', async () => {
    const two = parse(await text(s, '/prometheus/metrics/ALL/load_one,vir_mem_total/txt'));
    const names = new Set([...two.keys()].map((k) => k.split('{')[0]));
    expect([...names].sort()).toEqual(['sflow_load_one', 'sflow_vir_mem_total']);
    expect([...two.keys()].filter((k) => k.startsWith('sflow_vir_mem_total'))).toHaveLength(5); // 7 containers less the k8s pause one and the stopped `builder` (gone after --stopped-retention)
    const ml = parse(await text(s, '/prometheus/metrics/ALL/vir_mem_total/txt?k8s_namespace=ml-team'));
    expect([...ml.keys()].map((k) => /svc_name="([^"]+)"/.exec(k)![1]).sort()).toEqual(['sidecar', 'trainer']);
    const host = parse(await text(s, '/prometheus/metrics/ALL/ALL/txt?ds=2.1'));
    expect([...host.keys()].every((k) => k.includes('datasource="2.1"'))).toBe(true);
    const one = parse(await text(s, '/prometheus/metrics/127.0.0.1/2.1.load_one/txt'));
    expect(one.size).toBe(1);
    expect(parse(await text(s, '/prometheus/metrics/10.9.9.9/ALL/txt')).size).toBe(0);
    expect(parse(await text(s, '/prometheus/metrics/ALL/nosuchmetric/txt')).size).toBe(0);
    await text(s, '/prometheus/metrics/ALL/max:load_one/txt', 400);
    // The legacy app path is the same export.
    expect(await text(s, '/app/prometheus/scripts/export.js/dump/ALL/load_one/txt')).toBe(await text(s, '/prometheus/metrics/ALL/load_one/txt'));
  });

  it('never exports strings, flow metrics or the k8s pause container', async () => {
    const body = await text(s, '/prometheus/metrics/ALL/ALL/txt');
    expect(body).not.toMatch(/^sflow_(host_name|vir_host_name|k8s_namespace|ifname|os_name)\{/m);
    expect(body).not.toContain('svc_name="POD"');
  });

  it('/prometheus/analyzer/txt has the sFlow-RT names and consistent values', async () => {
    const ours = parse(await text(s, '/prometheus/analyzer/txt'));
    const theirs = parse(recorded('hsflowd-docker', /^11_GET__prometheus_analyzer_txt/));
    expect([...ours.keys()]).toEqual([...theirs.keys()]);
    expect(ours.get('sflow_analyzer_received_datagrams')).toBe(theirs.get('sflow_analyzer_received_datagrams'));
    expect(ours.get('sflow_analyzer_received_bytes')).toBe(theirs.get('sflow_analyzer_received_bytes'));
    expect(ours.get('sflow_analyzer_agent_count')).toBe('1');
  });

  it('/metrics: process and pipeline metrics, clean for promtool', async () => {
    const body = await text(s, '/metrics');
    const m = parse(body);
    expect(m.get('sflowscope_datagrams_received_total')).toBe('201');
    expect(m.get('sflowscope_agent_datagrams_total{agent="127.0.0.1"}')).toBe('201');
    expect(m.get('sflowscope_agents')).toBe('1');
    expect(Number(m.get('sflowscope_samples_total{kind="counter"}'))).toBeGreaterThan(400);
    expect(m.has('process_cpu_seconds_total')).toBe(true);
    expect(m.has('nodejs_heap_size_used_bytes')).toBe(true);
    if (PROMTOOL !== null) {
      const r = promtoolCheckMetrics(body);
      expect(r.status, r.output).toBe(0);
    }
  });

  it('the flow export answers 503 without a flow engine, 400 without metric/key/value', async () => {
    await text(s, '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=x&key=ipsource&value=bytes', 503);
    await text(s, '/app/prometheus/scripts/export.js/flows/ALL/txt?key=ipsource&value=bytes', 400);
    await text(s, '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=x&value=bytes', 400);
    await text(s, '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=x&key=ipsource', 400);
  });
});

describe('series cap and sFlow-RT plain mode', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ ...common, pcap: capturePath('hsflowd-docker.pcap'), pcapPace: 'max', pcapHoldClock: true, prometheusMaxSeries: 50, prometheusComments: false });
    await s.captureDone;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('writes at most --prometheus-max-series series and counts the rest', async () => {
    const r = await fetch(`${s.url}/prometheus/metrics/ALL/ALL/txt`);
    const body = await r.text();
    expect(body.trimEnd().split('\n')).toHaveLength(50);
    expect(body).not.toContain('#');
    expect(Number(r.headers.get('x-sflowscope-series-dropped'))).toBeGreaterThan(100);
    const m = parse(await text(s, '/metrics'));
    expect(Number(m.get('sflowscope_prometheus_series_dropped_total{reason="cap"}'))).toBeGreaterThan(100);
  });
});

/** An in-test flow engine: fixed active flows per flow name, keyed by the spec's keys. */
class FakeFlows implements FlowExportSource {
  readonly specs = new Map<string, FlowExportSpec>();
  readonly calls: string[] = [];
  rows: Record<string, { key: string; value: number }[]> = {};
  ensureFlow(name: string, spec: FlowExportSpec): void {
    if (spec.keys.includes('bad')) throw new Error('unknown key');
    this.specs.set(name, spec);
    this.calls.push(`+${name}`);
  }
  removeFlow(name: string): void {
    this.specs.delete(name);
    this.calls.push(`-${name}`);
  }
  activeFlows(_agents: string, name: string, opts: ActiveFlowOptions): { key: string; value: number }[] {
    const spec = this.specs.get(name);
    if (spec === undefined) return [];
    this.calls.push(`?${name} ${opts.aggMode} ${opts.maxFlows} ${opts.minValue}`);
    return this.rows[spec.keys] ?? [];
  }
}

describe('the flow export (/app/prometheus/scripts/export.js/flows/{agents}/txt) against an in-test flow source', () => {
  let s: RunningServer;
  const flows = new FakeFlows();
  const clock = new ManualClock(1_000_000);
  const base = '/app/prometheus/scripts/export.js/flows/ALL/txt';
  beforeAll(async () => {
    s = await startServer({ ...common, sflowPort: 0, sflowBind: '127.0.0.1', clock, flowExport: flows });
    flows.rows = {
      'ipsource,ipdestination': [
        { key: '10.0.0.1_SEP_10.0.0.2', value: 1543.25 },
        { key: '10.0.0.3_SEP_10.0.0.4', value: 200 },
        { key: '10.0.0.5_SEP_10.0.0.6', value: 0.05 },
      ],
      stack: [{ key: 'eth.ip.tcp', value: 10 }],
      'null:[country:ipsource]:unknown': [{ key: 'a"b\\c', value: 1 }],
      'ipsource,reason': [{ key: 'only-one-field', value: 5 }],
    };
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('defines the flow on the first scrape and writes one line per flow (labels, scale, minValue, maxFlows)', async () => {
    const body = await text(s, `${base}?metric=ip_src_dst_bps&key=ipsource&key=ipdestination&label=src&label=dst&value=bytes&scale=8&minValue=1000&maxFlows=100`);
    const m = parse(body);
    expect([...m]).toEqual([['ip_src_dst_bps{src="10.0.0.1",dst="10.0.0.2"}', '12346.0']]);
    expect(body).toContain('# TYPE ip_src_dst_bps gauge');
    const spec = flows.specs.get('prometheus_0')!;
    expect(spec).toEqual({ keys: 'ipsource,ipdestination', value: 'bytes', n: 10, t: 15, dropped: false, fs: '_SEP_' });
    expect(flows.calls.at(-1)).toBe('?prometheus_0 max 100 1000');
    // Defaults: minValue 0.1, maxFlows 20, label names = key names.
    const all = parse(await text(s, `${base}?metric=pairs&key=ipsource&key=ipdestination&value=bytes`));
    expect([...all.keys()]).toEqual(['pairs{ipsource="10.0.0.1",ipdestination="10.0.0.2"}', 'pairs{ipsource="10.0.0.3",ipdestination="10.0.0.4"}']);
    expect(flows.specs.size).toBe(1); // same keys/value/filter/n/t/dropped: same flow
    const one = parse(await text(s, `${base}?metric=pairs&key=ipsource&key=ipdestination&value=bytes&maxFlows=1`));
    expect(one.size).toBe(1);
  });

  it('sanitises names, escapes values, passes dropped/aggMode/filter/n/t through', async () => {
    const body = await text(s, `${base}?metric=${encodeURIComponent('ip countries-bps')}&key=${encodeURIComponent('null:[country:ipsource]:unknown')}&value=bytes&dropped=true&n=5&t=2&filter=${encodeURIComponent('ipprotocol=6')}`);
    expect(parse(body).get('ip_countries_bps{null__country_ipsource__unknown="a\\"b\\\\c"}')).toBe('1.0');
    const name = [...flows.specs].find(([, v]) => v.dropped)![0];
    expect(flows.specs.get(name)).toMatchObject({ dropped: true, n: 5, t: 2, filter: 'ipprotocol=6' });
    expect(flows.calls.at(-1)).toMatch(/ sum 20 0\.1$/); // aggMode defaults to sum for dropped flows
    if (PROMTOOL !== null) {
      const r = promtoolCheckMetrics(body);
      expect(r.status, r.output).toBe(0);
    }
  });

  it('answers 500 when a key does not split into one field per label, 400 for a refused spec or bad numbers', async () => {
    await text(s, `${base}?metric=x&key=ipsource&key=reason&value=frames`, 500);
    await text(s, `${base}?metric=x&key=bad&value=frames`, 400);
    await text(s, `${base}?metric=x&key=stack&value=frames&n=zero`, 400);
    await text(s, `${base}?metric=x&key=stack&value=frames&aggMode=avg`, 400);
    await text(s, `${base}?metric=x&key=stack&key=ipsource&label=only&value=frames`, 400);
  });

  it('removes a flow 5 minutes after its last scrape (engine clock)', async () => {
    await text(s, `${base}?metric=stacks&key=stack&value=frames`);
    const name = [...flows.specs].find(([, v]) => v.keys === 'stack')![0];
    clock.advance(4 * 60_000);
    await text(s, `${base}?metric=stacks&key=stack&value=frames`);
    clock.advance(4 * 60_000);
    await text(s, `${base}?metric=x&key=ipsource&key=ipdestination&value=bytes`); // any scrape sweeps
    expect(flows.specs.has(name)).toBe(true);
    clock.advance(60_000);
    await text(s, `${base}?metric=x&key=ipsource&key=ipdestination&value=bytes`);
    expect(flows.specs.has(name)).toBe(false);
    expect(flows.calls).toContain(`-${name}`);
    const m = parse(await text(s, '/metrics'));
    expect(Number(m.get('sflowscope_prometheus_flows'))).toBeGreaterThan(0);
  });
});

describe('the flow export through the server\'s flow engine (hsflowd-flows, fed on capture time)', () => {
  let s: RunningServer;
  let fe: FlowEngine;
  const datagrams = loadDatagrams('hsflowd-flows.pcap');
  const clock = new ManualClock(datagrams[0]!.timestampMicros / 1000);
  const path = '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=sflow_flow_protocol_bps&key=stack&label=protocol&value=bytes&scale=8&aggMode=sum&maxFlows=50&minValue=1';
  beforeAll(async () => {
    s = await startServer({
      ...common,
      clock,
    });
    // startServer runs the flow engine and hands it to the export (flowEngineExportSource).
    fe = s.flows!;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('defines an owned flow on the first scrape, then exports its top keys (x scale) as the engine has them', async () => {
    expect(parse(await text(s, path)).size).toBe(0); // defined now: nothing counted yet
    const name = fe.flowNames(FLOW_EXPORT_OWNER);
    expect(name).toHaveLength(1);
    expect(fe.getFlow(name[0]!)).toMatchObject({ keys: 'stack', value: 'bytes', fs: '_SEP_', n: 10, t: 15 });
    const half = datagrams.slice(0, 600);
    for (const d of half) {
      const t = d.timestampMicros / 1000;
      clock.set(t);
      s.engine.ingest(d.payload, d.srcAddress, t);
    }
    const body = await text(s, path);
    const ours = parse(body);
    const engine = fe.activeFlows('ALL', name[0]!, { maxFlows: 50, minValue: 1, aggMode: 'sum' });
    expect(ours.size).toBeGreaterThan(0);
    expect(ours.size).toBe(engine.length);
    for (const f of engine) expect(Number(ours.get(`sflow_flow_protocol_bps{protocol="${f.key}"}`))).toBeCloseTo(f.value * 8, 6);
    expect([...ours.keys()].some((k) => k.includes('protocol="ip.tcp') || k.includes('protocol="ip6.'))).toBe(true);
    if (PROMTOOL !== null) {
      const r = promtoolCheckMetrics(body);
      expect(r.status, r.output).toBe(0);
    }
  });

  it('multi-key flows split on _SEP_ into one label per key', async () => {
    const p = '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=pair_bps&key=ipsource&key=ipdestination&key=ipprotocol&label=src&label=dst&label=proto&value=bytes&minValue=0';
    await text(s, p);
    for (const d of datagrams.slice(600)) {
      const t = d.timestampMicros / 1000;
      clock.set(t);
      s.engine.ingest(d.payload, d.srcAddress, t);
    }
    const m = parse(await text(s, p));
    expect(m.size).toBeGreaterThan(0);
    for (const k of m.keys()) expect(k).toMatch(/^pair_bps\{src="[0-9.]+",dst="[0-9.]+",proto="\d+"\}$/);
  });

  it('removes its flows from the engine 5 minutes after the last scrape, and leaves users\' flows alone', async () => {
    fe.setFlow('prometheus_99', { keys: 'ipsource', value: 'bytes' });
    clock.advance(5 * 60_000 + 1000);
    await text(s, '/app/prometheus/scripts/export.js/flows/ALL/txt?metric=x&key=ipdestination&value=frames');
    expect(fe.flowNames(FLOW_EXPORT_OWNER)).toHaveLength(1); // only the one just defined
    expect(fe.hasFlow('prometheus_99')).toBe(true);
  });
});
