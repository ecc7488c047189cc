// The web UI in a real browser (Debian's chromium driven by playwright-core) against the real
// server fed by the cluster simulator over UDP. The UI is built first (vite, into a temp dir).
// Flow-based views (Protocols/DNS sunbursts, Flow Browser) are fed by a stand-in flow source
// that answers the sFlow-RT script API with names of the simulated cluster, until the flow
// engine is wired in. Screenshots land in test-results/ui/.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { appRoutes } from '../src/api/apps.js';
import { staticRoutes } from '../src/api/static.js';
import type { AppFlowSpec, TopFlowsSource } from '../src/apps/flows.js';
import { ClusterSimulator, UdpSender } from '../src/sim/index.js';
import { collectPageProblems } from './helpers/page-problems.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-results', 'ui');
const XSS_POD = '<script>alert(1)</script>';
const XSS_DNS = '<img src=x onerror=alert(2)>';

type Tree = { label: string; value: number; flow: boolean; children: Record<string, { value: number; children: Record<string, { value: number }> }> };

/**
 * The server's flow engine for Protocols, the Flow and the Discard Browsers; DNS sunburst flows
 * answered with names of the simulated cluster (reverse DNS is not wired into the test server),
 * one of them markup. Records every spec the apps define.
 */
class ClusterFlows implements TopFlowsSource {
  readonly specs = new Map<string, AppFlowSpec>();
  constructor(
    private readonly real: TopFlowsSource,
    private readonly namespaces: string[],
  ) {}
  private static fake(name: string): boolean {
    return name.startsWith('sunburst-dns');
  }
  define(name: string, spec: AppFlowSpec): void {
    if (!ClusterFlows.fake(name)) this.real.define(name, spec);
    this.specs.set(name, spec);
  }
  clear(name: string): void {
    this.specs.delete(name);
    if (!ClusterFlows.fake(name)) this.real.clear(name);
  }
  flowKeys(): string[] {
    return this.real.flowKeys();
  }
  activeFlows(name: string, maxFlows: number, minValue: number, aggMode: 'sum' | 'max'): { key: string; value: number }[] {
    if (!ClusterFlows.fake(name)) return this.real.activeFlows(name, maxFlows, minValue, aggMode);
    const out = this.namespaces.map((ns, i) => ({ key: `pod-${i}.svc-${i}.${ns}.svc.cluster.local.`, value: 10 * (i + 1) }));
    out.push({ key: `${XSS_DNS}.${this.namespaces[0]}.svc.cluster.local.`, value: 5 });
    return out;
  }
}

let server: RunningServer;
let sender: UdpSender;
let browser: Browser;
let webRoot: string;
let sim: ClusterSimulator;
let flows: ClusterFlows;

async function json<T>(path: string): Promise<T> {
  const r = await fetch(server.url + path);
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

async function until<T>(what: string, get: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Opened {
  page: Page;
  problems: string[];
}

async function open(path: string, opts: { dark?: boolean } = {}): Promise<Opened> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: opts.dark ? 'dark' : 'light' });
  const page = await ctx.newPage();
  const problems = collectPageProblems(page);
  await page.addInitScript(() => {
    // Runs in the page: any script injected through a label would call alert().
    const w = globalThis as unknown as { __alerts: string[]; alert: (m?: unknown) => void };
    w.__alerts = [];
    w.alert = (m?: unknown) => void w.__alerts.push(String(m));
  });
  await page.goto(server.url + path, { waitUntil: 'load' });
  return { page, problems };
}

async function close(o: Opened): Promise<void> {
  const alerts = await o.page.evaluate(() => (globalThis as unknown as { __alerts: string[] }).__alerts);
  expect(alerts, 'no injected script ran').toEqual([]);
  expect(o.problems).toEqual([]);
  await o.page.context().close();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const haveChromium = existsSync(CHROMIUM);

it('web/ typechecks (strict TypeScript, DOM)', async () => {
  const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
  await expect(promisify(execFile)(tsc, ['-p', join(process.cwd(), 'web', 'tsconfig.json')])).resolves.toBeDefined();
});

describe.skipIf(!haveChromium)('web UI in chromium, server fed by the simulator', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    webRoot = mkdtempSync(join(tmpdir(), 'sflowscope-web-'));
    await build({ configFile: join(process.cwd(), 'web/vite.config.ts'), logLevel: 'error', build: { outDir: webRoot, emptyOutDir: true } });

    sim = new ClusterSimulator({ nodes: 40, seed: 3, rate: 300, pollingInterval: 2, samplingRate: 100, startTimeMs: Date.now() });
    // A pod whose name is markup: every page must show it as text.
    const gpuPod = sim.cluster.pods.find((p) => p.gpus.length > 0 && p.namespace !== 'kube-system')!;
    gpuPod.hostname = `k8s__${XSS_POD}_${gpuPod.namespace}_u_a`;
    server = await startServer({
      sflowPort: 0,
      httpPort: 0,
      sflowBind: '127.0.0.1',
      httpBind: '127.0.0.1',
      logLevel: 'silent',
      dataDir: join(tmpdir(), 'sflowscope-test'),
      apiPlugins: [appRoutes({ flows: () => flows }), staticRoutes(webRoot)],
    });
    expect(server.ctx.flows, 'the server runs a flow engine').toBeTruthy();
    flows = new ClusterFlows(server.ctx.flows!.appSource('ui-test'), [...new Set(sim.cluster.pods.map((p) => p.namespace))]);
    sender = new UdpSender(sim, { host: '127.0.0.1', port: server.sflowPort!, speed: 1, unref: true });
    await sender.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    // Counters every 2 s: wait until pods report GPU time and power.
    await until('GPU metrics', async () => {
      const t = await json<Tree>('/app/sunburst/scripts/metrics.js/gpu/json');
      return Object.keys(t.children.k8s?.children ?? {}).length >= 2 && t;
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await sender?.stop();
    await server?.stop();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  it('serves the UI from the API port: / is the Status page, apps at /app/<name>/html/', async () => {
    const root = await fetch(`${server.url}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('Status');
    for (const app of ['sunburst', 'browse-flows', 'browse-drops', 'browse-metrics']) {
      const r = await fetch(`${server.url}/app/${app}/html/index.html`);
      expect(r.status, app).toBe(200);
    }
    // Unknown API paths keep their JSON 404.
    expect((await fetch(`${server.url}/no/such/json`)).status).toBe(404);
    expect((await fetch(`${server.url}/app/sunburst/scripts/metrics.js/nope/json`)).status).toBe(404);
    expect((await fetch(`${server.url}/app/browse-flows/scripts/top.js/flows/json?keys=&value=fps`)).status).toBe(400);
    // Sampling health for the Status page: every simulated agent samples 1-in-100.
    const health = await json<Record<string, { samplingRates: number[]; samplingRateMismatches: number }>>('/app/status/health/json');
    const sampling = Object.values(health).filter((h) => h.samplingRates.length > 0);
    expect(sampling.length).toBeGreaterThan(0);
    for (const h of sampling) expect(h.samplingRates).toEqual([100]);
  });

  it('Status page: collector cards, agents table with sort, search and health badges', async () => {
    const o = await open('/');
    const { page } = o;
    const agents = Object.keys(await json<Record<string, unknown>>('/agents/json'));
    await page.locator('table[aria-label="sFlow agents"] tbody tr').first().waitFor();
    await until('all agent rows', async () => (await page.locator('table[aria-label="sFlow agents"] tbody tr').count()) === agents.length);
    await expect.poll(async () => page.locator('[aria-label="sFlow agents"]').locator('.badge').count()).toBeGreaterThan(0);
    const agentsCard = page.getByRole('group', { name: 'sFlow agents' });
    expect(await agentsCard.locator('.value').textContent()).toBe(String(agents.length));
    // Rates need two polls.
    await until('datagram rate', async () => (await page.getByRole('group', { name: 'Datagrams/s' }).locator('.value').textContent()) !== '—');
    // Sort by address descending, then search.
    await page.getByRole('button', { name: /^Agent/ }).click();
    const sorted = [...agents].sort((a, b) => b.split('.').map(Number).reduce((s, v, i) => s || v - Number(a.split('.')[i]), 0));
    expect(await page.locator('table[aria-label="sFlow agents"] tbody tr td:first-child').first().textContent()).toBe(sorted[0]);
    await page.getByLabel('Search agents').fill(agents[0]!);
    await until('search', async () => (await page.locator('table[aria-label="sFlow agents"] tbody tr').count()) >= 1 && (await page.locator('table[aria-label="sFlow agents"] tbody tr').count()) < agents.length);
    await page.getByLabel('Search agents').fill('');
    await shot(page, 'status');
    // Apps tab: one tile per app, with health.
    await page.getByRole('tab', { name: 'Apps' }).click();
    await page.locator('.tile').first().waitFor();
    expect(await page.locator('.tile h3').allTextContents()).toEqual(['Discard Browser', 'Flow Browser', 'Metric Browser', 'Sunburst']);
    await shot(page, 'apps');
    await close(o);
  });

  it('Status page in the dark theme', async () => {
    const o = await open('/', { dark: true });
    await o.page.locator('table[aria-label="sFlow agents"] tbody tr').first().waitFor();
    expect(await o.page.evaluate(() => (globalThis as unknown as { document: { documentElement: { dataset: { theme?: string } } } }).document.documentElement.dataset.theme)).toBe('dark');
    await shot(o.page, 'status-dark');
    await o.page.getByRole('button', { name: 'Switch to light theme' }).click();
    expect(await o.page.evaluate(() => (globalThis as unknown as { document: { documentElement: { dataset: { theme?: string } } } }).document.documentElement.dataset.theme)).toBe('light');
    await close(o);
  });

  it("Metric Browser: the GPU power preset shows ≈250 W per busy GPU", async () => {
    const o = await open('/app/browse-metrics/html/index.html');
    const { page } = o;
    await page.getByRole('button', { name: 'Average power per GPU' }).click();
    expect(page.url()).toContain('metric=vir_nvml_power');
    // Breakdown: pods by power, largest first; the busy ones draw ≈250 W per GPU.
    // Busy GPUs (the pods drawing ≥ 200 W per GPU): their median is ≈ 250 W. Rates settle after
    // a few counter intervals (and later under a loaded CI machine): read until they have.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const busyUi = await until('≈250 W per busy GPU in the breakdown', async () => {
      const v = (await page.locator('table.breakdown td.per').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))))).filter((x) => x >= 200);
      return v.length > 0 && Math.abs(median(v) - 250) < 20 && v;
    });
    expect(busyUi.length).toBeGreaterThan(0);
    // Cross-check with the API: busy pods (GPU utilisation ≥ 90 %) from /table.
    type Cell = { metricValue: number; dataSource: string; agent: string } | null;
    const rows = await json<Cell[][]>('/table/ALL/vir_nvml_power,vir_nvml_device_count,vir_nvml_gpu_utilization/json');
    const busy = rows.filter((r) => r[2]!.metricValue >= 90).map((r) => r[0]!.metricValue / r[1]!.metricValue);
    expect(busy.length).toBeGreaterThan(0);
    expect(Math.abs(median(busy) - 250)).toBeLessThan(25);
    // The headline: power per GPU across the cluster, as the API computes it.
    const headline = await until('headline', async () => {
      const t = await page.locator('td.per-value').textContent();
      return t && t.trim() !== '—' && t;
    });
    const [s, n] = await json<{ metricValue: number }[]>('/metric/ALL/sum:vir_nvml_power,sum:vir_nvml_device_count/json');
    expect(Math.abs(Number(headline) - s!.metricValue / n!.metricValue) / (s!.metricValue / n!.metricValue)).toBeLessThan(0.1);
    // The pod named with markup is listed as text.
    await until('markup pod', async () => (await page.locator('table.breakdown td', { hasText: XSS_POD }).count()) > 0);
    await page.waitForTimeout(1500);
    await shot(page, 'browse-metrics-gpu-power');
    // Manual selection: agent, metric, statistic.
    const agent = Object.keys(await json<Record<string, unknown>>('/agents/json')).sort()[0]!;
    await page.getByLabel('Agent', { exact: true }).selectOption(agent);
    await until('agent metrics', async () => (await page.getByLabel('Metric', { exact: true }).locator('option').count()) > 10);
    await page.getByLabel('Metric', { exact: true }).selectOption('load_one');
    await page.getByLabel('Statistic', { exact: true }).selectOption('avg');
    await until('value', async () => (await page.locator('td.stat-value').textContent())?.trim() !== '—');
    expect(page.url()).toContain(`agent=${agent}`);
    await shot(page, 'browse-metrics');
    await close(o);
  });

  for (const chart of ['gpu', 'process'] as const) {
    it(`Sunburst ${chart}: namespace › pod, shares match the API within 5 %`, async () => {
      const o = await open(`/app/sunburst/html/index.html#${chart}`);
      const { page } = o;
      await page.locator('table.segments tbody tr').first().waitFor();
      expect(await page.locator('#caption').textContent()).toMatch(chart === 'gpu' ? /GPU time.*Unit: GPU ms\/s/ : /CPU time.*Unit: % CPU/);
      await page.getByRole('button', { name: 'Zoom into k8s' }).click();
      await until('namespaces', async () => (await page.locator('.breadcrumb button', { hasText: 'k8s' }).count()) > 0);
      const api = await json<Tree>(`/app/sunburst/scripts/metrics.js/${chart}/json`);
      const k8s = api.children.k8s!;
      const apiShares = Object.fromEntries(Object.entries(k8s.children).map(([ns, n]) => [ns, n.value / k8s.value]));
      const ui = await page.locator('table.segments tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-segment')!, Number(tr.getAttribute('data-share'))] as const));
      expect(ui.map(([ns]) => ns).sort()).toEqual(Object.keys(apiShares).sort());
      const simNamespaces = new Set(sim.cluster.pods.map((p) => p.namespace));
      for (const [ns, share] of ui) {
        expect(simNamespaces.has(ns), ns).toBe(true);
        expect(Math.abs(share - apiShares[ns]!), ns).toBeLessThan(0.05);
      }
      if (chart === 'gpu') expect(ui.some(([ns]) => ns === 'kube-system')).toBe(false);
      await page.waitForTimeout(1200);
      await shot(page, `sunburst-${chart}-namespaces`);
      // Drill into the namespace holding the pod named with markup: shown as text.
      const xssNs = sim.cluster.pods.find((p) => p.hostname.includes(XSS_POD))!.namespace;
      await page.getByRole('button', { name: `Zoom into ${xssNs}` }).click();
      await until('pods', async () => (await page.locator('table.segments tbody tr', { hasText: XSS_POD }).count()) > 0);
      await shot(page, `sunburst-${chart}-pods`);
      await page.locator('.breadcrumb button').first().click();
      await until('back at the root', async () => (await page.locator('table.segments tbody tr[data-segment="k8s"]').count()) === 1);
      await close(o);
    });
  }

  it('Sunburst DNS: namespaces from names, a markup DNS label renders as text', async () => {
    const o = await open('/app/sunburst/html/index.html#dns');
    const { page } = o;
    await page.locator('table.segments tbody tr[data-segment="local"]').waitFor();
    for (const label of ['local', 'cluster', 'svc']) await page.getByRole('button', { name: `Zoom into ${label}` }).click();
    await until('namespaces', async () => (await page.locator('table.segments tbody tr').count()) >= 3);
    const ns = await page.locator('table.segments tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-segment')));
    const simNamespaces = new Set(sim.cluster.pods.map((p) => p.namespace));
    expect(ns.every((n) => simNamespaces.has(n!))).toBe(true);
    const first = [...simNamespaces][0]!;
    await page.getByRole('button', { name: `Zoom into ${first}` }).click();
    await until('markup label', async () => (await page.locator('table.segments td', { hasText: XSS_DNS }).count()) > 0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.waitForTimeout(1200);
    await shot(page, 'sunburst-dns');
    await close(o);
  });

  it('Sunburst Protocols: a segment opens the Flow Browser with its filter, showing flows', async () => {
    const o = await open('/app/sunburst/html/index.html#protocols');
    const { page } = o;
    await page.locator('table.segments tbody tr[data-segment="eth"]').waitFor();
    await page.getByRole('button', { name: 'Zoom into eth' }).click();
    await page.locator('table.segments tbody tr[data-segment="ip"]').waitFor();
    await page.waitForTimeout(1200);
    await shot(page, 'sunburst-protocols');
    // The shares match the API's tree.
    const api = await json<Tree>('/app/sunburst/scripts/metrics.js/protocols/json');
    const eth = api.children.eth!;
    const ui = await page.locator('table.segments tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-segment')!, Number(tr.getAttribute('data-share'))] as const));
    for (const [seg, share] of ui) if (eth.children[seg]) expect(Math.abs(share - eth.children[seg]!.value / eth.value), seg).toBeLessThan(0.05);
    await page.locator('table.segments tbody tr[data-segment="ip"] a', { hasText: 'open flows' }).click();
    await page.waitForURL(/browse-flows/);
    const url = new URL(page.url());
    expect(url.searchParams.get('keys')).toBe('stack');
    expect(url.searchParams.get('value')).toBe('fps');
    expect(url.searchParams.get('filter')).toBe('prefix:stack:.:2=eth.ip');
    await until('flows', async () => (await page.locator('table.legend tbody tr').count()) > 0);
    const stacks = await page.locator('table.legend tbody tr td:nth-child(2)').allTextContents();
    for (const st of stacks) expect(st.startsWith('eth.ip'), st).toBe(true);
    expect([...flows.specs.values()].some((s) => s.keys === 'stack' && s.value === 'frames' && s.filter === 'prefix:stack:.:2=eth.ip')).toBe(true);
    await page.waitForTimeout(1200);
    await shot(page, 'browse-flows-from-protocols');
    await close(o);
  });

  it('Flow Browser: live top-N (bps = bytes × 8), legend click adds to the filter, state in the URL', async () => {
    const o = await open('/app/browse-flows/html/index.html?keys=ipsource,ipdestination&value=bps');
    const { page } = o;
    await until('legend', async () => (await page.locator('table.legend tbody tr').count()) > 1);
    expect(await page.locator('table.legend thead th').allTextContents()).toEqual(['Add row', 'ipsource', 'ipdestination', 'Bits per Second']);
    // Bits: the API's bytes ×8, at the time the legend shows (the page and the API share the trend).
    const legend = page.locator('table.legend');
    const time = Number(await legend.getAttribute('data-time'));
    const cell = legend.locator('tbody tr').first().locator('td').last();
    const [key, shown] = [(await cell.getAttribute('data-key'))!, Number(await cell.getAttribute('data-value'))];
    const t = await json<{ trend: { times: number[]; trends: { topn: Record<string, number>[] } } }>('/app/browse-flows/scripts/top.js/flows/json?keys=ipsource,ipdestination&value=bps');
    const i = t.trend.times.indexOf(time);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(shown).toBeCloseTo(t.trend.trends.topn[i]![key]! * 8, 6);
    expect(shown).toBeGreaterThan(0);
    await page.waitForTimeout(1500);
    await shot(page, 'browse-flows');
    // Click the chart: the legend shows that time.
    const box = (await page.locator('#topn').boundingBox())!;
    await page.mouse.click(box.x + box.width - 18, box.y + box.height / 2);
    await until('legend at the clicked time', async () => (await page.locator('table.legend tbody tr').count()) > 0);
    await page.getByRole('button', { name: 'Follow latest' }).waitFor();
    // A legend cell adds 'key'='value' to the filter.
    const src = (await page.locator('table.legend tbody tr').first().locator('td').nth(1).textContent())!.trim();
    await page.locator('table.legend tbody tr').first().getByRole('button', { name: src, exact: true }).click();
    await until('filtered', async () => new URL(page.url()).searchParams.get('filter') === `'ipsource'='${src}'`);
    expect(await page.locator('input[name="filter"]').inputValue()).toBe(`'ipsource'='${src}'`);
    await until('filtered legend', async () => {
      const srcs = await page.locator('table.legend tbody tr td:nth-child(2)').allTextContents();
      return srcs.length > 0 && srcs.every((x) => x.trim() === src);
    });
    // Type-ahead: flow keys seen.
    await until('suggestions', async () => (await page.locator('#keys-list option').count()) > 0);
    const options = await page.locator('#keys-list option').evaluateAll((os) => os.map((o) => o.getAttribute('value')!));
    // Completing the last key of "ipsource,ipdestination".
    expect(options.every((v) => v.startsWith('ipsource,'))).toBe(true);
    expect(options).toContain('ipsource,ipdestination');
    await close(o);
  });

  it('Discard Browser loads with its defaults', async () => {
    const o = await open('/app/browse-drops/html/index.html');
    const { page } = o;
    await until('legend', async () => (await page.locator('table.legend tbody tr').count()) > 0);
    expect(await page.locator('h1').textContent()).toBe('Discard Browser');
    expect(await page.locator('table.legend thead th').allTextContents()).toEqual(['Add row', 'reason', 'null:[k8s:ipsource:namespace]:-', 'null:[k8s:ipdestination:namespace]:-', 'Frames per Second']);
    expect([...flows.specs.values()].some((s) => s.dropped === true)).toBe(true);
    await page.waitForTimeout(1500);
    await shot(page, 'browse-drops');
    await close(o);
  });
});
