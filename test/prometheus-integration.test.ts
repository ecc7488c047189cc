// A real Prometheus (Debian's, on loopback, a temporary data directory) scrapes a real sflowscope
// server with the scrape config we document (deploy/prometheus/prometheus.yml, target port and
// intervals substituted). sflowscope is fed a capture (hsflowd-docker, through the server's `pcap`
// option) and the cluster simulator (over UDP). The test asks Prometheus' HTTP API for the series
// and their values, then runs every PromQL query of every Grafana dashboard in deploy/grafana.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import type { FlowEngine } from '../src/engine/flows/engine.js';
import { ClusterSimulator, UdpSender } from '../src/sim/index.js';
import { capturePath } from './helpers/engine.js';
import { PROMETHEUS } from './helpers/promtool.js';
import { freeTcpPort } from './helpers/ports.js';

const ROOT = new URL('..', import.meta.url).pathname;
/**
 * startServer runs the flow engine (src/engine/flows) and wires the flow export to it. Set false
 * to run without it (`flows: false`): the flow jobs are then down and the dashboard queries that
 * need flows are skipped (loudly).
 */
const FLOWS_WIRED = true;

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every `expr` of every panel (rows' nested panels too) of a Grafana dashboard. */
function dashboardQueries(file: string): { panel: string; expr: string }[] {
  const d = JSON.parse(readFileSync(file, 'utf8')) as { panels: unknown[] };
  const out: { panel: string; expr: string }[] = [];
  const walk = (ps: unknown[]) => {
    for (const p of ps as { title?: string; panels?: unknown[]; targets?: { expr?: string }[] }[]) {
      if (p.panels) walk(p.panels);
      for (const t of p.targets ?? []) if (typeof t.expr === 'string') out.push({ panel: p.title ?? '?', expr: t.expr });
    }
  };
  walk(d.panels);
  return out;
}

const DASHBOARD_DIR = join(ROOT, 'deploy/grafana/dashboards');
const DASHBOARDS = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => join(DASHBOARD_DIR, f));
const needsFlows = (expr: string) => /sflow_flow_/.test(expr);
const ALL_QUERIES = DASHBOARDS.flatMap((f) => dashboardQueries(f).map((q) => ({ ...q, file: f.slice(DASHBOARD_DIR.length + 1) })));

describe.skipIf(PROMETHEUS === null)('Prometheus scraping sflowscope (capture + simulator), with the documented scrape config', () => {
  let s: RunningServer;
  let fe: FlowEngine | null = null;
  let sender: UdpSender;
  let sim: ClusterSimulator;
  let prom: ChildProcess | null = null;
  let promUrl = '';
  let promLog = '';
  let dir = '';

  async function query(q: string): Promise<PromSample[]> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
    if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
    return body.data.result as PromSample[];
  }
  /** Poll until `check` passes, at most `ms`. */
  async function eventually(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      let ok = false;
      try {
        ok = await check();
      } catch {
        ok = false;
      }
      if (ok) return;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\nprometheus log:\n${promLog.slice(-3000)}`);
      await sleep(250);
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sflowscope-prom-'));
    s = await startServer({
      sflowPort: 0,
      sflowBind: '127.0.0.1',
      httpPort: 0,
      httpBind: '127.0.0.1',
      logLevel: 'silent',
      dataDir: join(dir, 'data'),
      pcap: capturePath('hsflowd-docker.pcap'),
      pcapPace: 'max',
      flows: FLOWS_WIRED,
    });
    fe = s.flows;
    await s.captureDone;
    sim = new ClusterSimulator({ nodes: 12, seed: 7, rate: 300, pollingInterval: 1, podNetIo: 'traffic', startTimeMs: Date.now() });
    sender = new UdpSender(sim, { host: '127.0.0.1', port: s.sflowPort!, speed: 1 });
    await sender.start();

    const port = await freeTcpPort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')
      .replaceAll('sflowscope:8008', `127.0.0.1:${s.httpPort}`)
      .replace('scrape_interval: 15s', 'scrape_interval: 1s')
      .replace('scrape_timeout: 10s', 'scrape_timeout: 1s')
      .replace('evaluation_interval: 15s', 'evaluation_interval: 1s');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    prom = spawn(PROMETHEUS!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--web.enable-lifecycle'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prom.stdout!.on('data', (b: Buffer) => (promLog += b.toString()));
    prom.stderr!.on('data', (b: Buffer) => (promLog += b.toString()));
    await eventually('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok, 30_000);
    // Data from both feeds, with rates (a second counter sample per pod), over a few scrapes.
    await eventually('GPU time and capture series in Prometheus', async () => (await query('sum(sflow_vir_nvml_gputime)')).length === 1 && (await query('sflow_vir_mem_total{agent="127.0.0.1"}')).length > 0, 40_000);
    if (FLOWS_WIRED) {
      await eventually('flow series in Prometheus', async () => (await query('sflow_flow_protocol_bps')).length > 0 && (await query('sflow_flow_drops')).length > 0, 30_000);
    }
    await eventually('ten seconds of samples', async () => Number((await query('count_over_time(sflow_analyzer_agent_count[1m])'))[0]?.value[1] ?? 0) >= 10, 30_000);
  }, 120_000);

  afterAll(async () => {
    await sender?.stop();
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('scrapes every documented job (the flow jobs only when the flow export is wired)', async () => {
    const up = new Map((await query('up')).map((x) => [x.metric['job']!, x.value[1]]));
    expect(up.get('sflowscope')).toBe('1');
    expect(up.get('sflow-rt-analyzer')).toBe('1');
    expect(up.get('sflow-rt-metrics')).toBe('1');
    expect(up.get('sflow-flows-protocol')).toBe(FLOWS_WIRED ? '1' : '0');
    expect(up.get('sflow-flows-drops')).toBe(FLOWS_WIRED ? '1' : '0');
  });

  it('holds the capture\'s series with sFlow-RT\'s labels and exact gauges (hsflowd-docker)', async () => {
    const mem = await query('sflow_vir_mem_total{agent="127.0.0.1",svc_namespace="ml-team"}');
    expect(Object.fromEntries(mem.map((x) => [x.metric['svc_name'], Number(x.value[1])]))).toEqual({ trainer: 268435456, sidecar: 33554432 });
    const load = await query('sflow_load_one{agent="127.0.0.1"}');
    expect(load).toHaveLength(1);
    expect(load[0]!.metric).toMatchObject({ agent: '127.0.0.1', datasource: '2.1', host: 'vm', machine_type: 'x86_64', os_name: 'linux', job: 'sflow-rt-metrics', instance: '127.0.0.1:2.1' });
    expect(await query('sflow_vir_mem_total{svc_name="POD"}')).toEqual([]);
  });

  it('per-namespace GPU time matches the simulated cluster', async () => {
    const gpusByNs = new Map<string, number>();
    for (const n of sim.cluster.nodes) for (const g of n.gpus) if (g.owner) gpusByNs.set(g.owner.namespace, (gpusByNs.get(g.owner.namespace) ?? 0) + 1);
    expect(gpusByNs.size).toBeGreaterThan(0);
    const byNs = await query('sum by (svc_namespace) (sflow_vir_nvml_gputime)');
    const got = new Map(byNs.map((x) => [x.metric['svc_namespace']!, Number(x.value[1])]));
    expect([...got.keys()].sort()).toEqual([...gpusByNs.keys()].sort());
    // gputime: 1000 per fully busy GPU; a namespace keeps at most its GPUs busy.
    for (const [ns, v] of got) {
      expect(v, ns).toBeGreaterThanOrEqual(0);
      expect(v, ns).toBeLessThanOrEqual(1000 * gpusByNs.get(ns)! * 1.05);
    }
    expect([...got.values()].some((v) => v > 0)).toBe(true);
    const totalGpus = sim.cluster.nodes.reduce((n, x) => n + x.gpus.length, 0);
    expect(Number((await query('sum(sflow_nvml_device_count)'))[0]!.value[1])).toBe(totalGpus);
  });

  it('GPU power per GPU lies between the models\' idle and busy draw', async () => {
    const perNode = await query('sflow_nvml_power / sflow_nvml_device_count');
    const gpuNodes = sim.cluster.nodes.filter((n) => n.gpus.length > 0);
    expect(perNode.map((x) => x.metric['host']).sort()).toEqual(gpuNodes.map((n) => n.name).sort());
    for (const x of perNode) {
      const node = gpuNodes.find((n) => n.name === x.metric['host'])!;
      const m = node.gpus[0]!.model;
      const w = Number(x.value[1]);
      expect(w, node.name).toBeGreaterThanOrEqual(m.idleWatts * 0.9);
      expect(w, node.name).toBeLessThanOrEqual(m.busyWatts * 1.1);
    }
  });

  it('CPU by namespace covers the simulated namespaces and the capture\'s', async () => {
    // Containers outside Kubernetes (the capture's memhog and builder) have no svc_namespace.
    const byNs = await query('sum by (svc_namespace) (sflow_vir_cpu_utilization{svc_namespace!=""})');
    const got = new Set(byNs.map((x) => x.metric['svc_namespace']!));
    const expected = new Set([...sim.cluster.pods.map((p) => p.namespace), 'frontend', 'data', 'ml-team']);
    expect([...got].sort()).toEqual([...expected].sort());
    const share = await query('sum(100 * sum by (svc_namespace) (sflow_vir_cpu_utilization) / scalar(sum(sflow_vir_cpu_utilization)))');
    expect(Number(share[0]!.value[1])).toBeCloseTo(100, 3);
  });

  it('our own metrics count every agent\'s datagrams', async () => {
    const agents = Number((await query('sflow_analyzer_agent_count'))[0]!.value[1]);
    expect(agents).toBe(1 + sim.cluster.nodes.length);
    const perAgent = await query('sflowscope_agent_datagrams_total');
    expect(perAgent).toHaveLength(agents);
    expect(perAgent.every((x) => Number(x.value[1]) > 0)).toBe(true);
    expect(Number((await query('sflowscope_datagrams_received_total'))[0]!.value[1])).toBeGreaterThan(201);
  });

  it.skipIf(!FLOWS_WIRED)('flow bytes by protocol and drops by reason (flow export through the real flow engine)', async () => {
    const byProto = new Map((await query('sum by (protocol) (sflow_flow_protocol_bps)')).map((x) => [x.metric['protocol']!, Number(x.value[1])]));
    expect(byProto.size).toBeGreaterThan(0);
    // The simulated cluster speaks TCP over IPv4 on eth0 (NCCL, HTTPS...), sampled with their Ethernet headers.
    expect([...byProto.keys()].some((p) => p.startsWith('eth.') && p.includes('.tcp'))).toBe(true);
    expect([...byProto.values()].every((v) => v >= 1)).toBe(true);
    const total = [...byProto.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    const drops = await query('sum by (reason) (sflow_flow_drops)');
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.every((x) => x.metric['reason'] !== undefined && x.metric['reason'] !== '')).toBe(true);
    expect(fe!.flowNames('prometheus')).toHaveLength(2);
  });

  const dataQueries = ALL_QUERIES.filter((q) => FLOWS_WIRED || !needsFlows(q.expr));
  const flowQueries = ALL_QUERIES.filter((q) => !FLOWS_WIRED && needsFlows(q.expr));
  it('the dashboards have queries', () => {
    expect(DASHBOARDS.length).toBeGreaterThan(0);
    expect(dataQueries.length).toBeGreaterThan(10);
  });
  it.each(dataQueries.map((q) => [`${q.file} / ${q.panel}: ${q.expr}`, q.expr] as const))('dashboard query returns data: %s', async (_name, expr) => {
    const q = expr.replaceAll('$__rate_interval', '10s').replaceAll('$__interval', '1s').replaceAll('$__range', '1m');
    const r = await query(q);
    expect(r.length, q).toBeGreaterThan(0);
    expect(r.some((x) => Number.isFinite(Number(x.value[1]))), q).toBe(true);
  });
  if (flowQueries.length > 0) {
    // These queries need /app/prometheus/scripts/export.js/flows, i.e. a flow engine behind it.
    it.skip.each(flowQueries.map((q) => [`${q.file} / ${q.panel}: ${q.expr}`] as const))('SKIPPED — FLOW EXPORT NOT WIRED TO A FLOW ENGINE: dashboard query %s', () => {});
  }
});
