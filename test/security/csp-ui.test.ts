// The web UI and the Swagger UI under the server's real security headers, in Debian's Chromium
// (playwright-core): every page must render with no Content-Security-Policy violation and no
// console error. The UI is built first (vite, into a temp dir, as test/ui-web.test.ts does), and
// the simulator feeds the server so that charts, tables and tooltips actually draw.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRoutes } from '../../src/api/apps.js';
import { staticRoutes } from '../../src/api/static.js';
import type { RunningServer } from '../../src/app.js';
import { ClusterSimulator, UdpSender } from '../../src/sim/index.js';
import { cleanup, serve } from './helpers.js';
import { collectPageProblems } from '../helpers/page-problems.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: RunningServer;
let sender: UdpSender;
let browser: Browser;
let webRoot: string;

interface Opened {
  page: Page;
  problems: string[];
  csp: string | null;
}

async function open(path: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Opened> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme });
  const page = await ctx.newPage();
  const problems = collectPageProblems(page);
  await page.addInitScript(() => {
    const w = globalThis as unknown as { __csp: string[]; document: { addEventListener(t: string, f: (e: Record<string, unknown>) => void): void } };
    w.__csp = [];
    w.document.addEventListener('securitypolicyviolation', (e) => {
      w.__csp.push(`${String(e.effectiveDirective)} blocked ${String(e.blockedURI)} at ${String(e.sourceFile)}:${String(e.lineNumber)} sample=${String(e.sample)}`);
    });
  });
  const res = await page.goto(server.url + path, { waitUntil: 'load' });
  return { page, problems, csp: res?.headers()['content-security-policy'] ?? null };
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __csp: string[] }).__csp);
}

async function close(o: Opened): Promise<void> {
  // Violations are reported asynchronously: give the last ones time to arrive.
  await o.page.waitForTimeout(300);
  expect(await violations(o.page), 'CSP violations').toEqual([]);
  expect(o.problems).toEqual([]);
  await o.page.context().close();
}

async function until(what: string, get: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await get())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Hover the newest points of a trend chart until ECharts shows a tooltip with series rows: HTML
 * with style attributes (the colour dots), the reason for style-src-attr 'unsafe-inline'.
 */
async function showTooltip(page: Page, selector: string): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  await until('a tooltip with series rows', async () => {
    for (const dx of [18, 22, 26, 30]) {
      await page.mouse.move(box.x + box.width - dx, box.y + box.height * 0.6);
      const shown = await page.locator(`${selector} div`).evaluateAll((els) => els.some((el) => el.innerHTML.includes('<span style="color:')));
      if (shown) return true;
    }
    return false;
  });
}

describe.skipIf(!existsSync(CHROMIUM))('UI pages under the Content-Security-Policy (Chromium)', () => {
  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'sflowscope-web-csp-'));
    await build({ configFile: join(process.cwd(), 'web/vite.config.ts'), logLevel: 'error', build: { outDir: webRoot, emptyOutDir: true } });
    const sim = new ClusterSimulator({ nodes: 12, seed: 5, rate: 200, pollingInterval: 2, samplingRate: 100, startTimeMs: Date.now() });
    server = await serve({
      sflowPort: 0,
      sflowBind: '127.0.0.1',
      apiPlugins: [appRoutes({ flows: (ctx) => ctx.flows?.appSource('apps') ?? null }), staticRoutes(webRoot)],
    });
    sender = new UdpSender(sim, { host: '127.0.0.1', port: server.sflowPort!, speed: 1, unref: true });
    await sender.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    await until('agents', async () => Object.keys((await (await fetch(`${server.url}/agents/json`)).json()) as object).length > 0);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sender?.stop();
    await cleanup();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  it('Status page (and its Apps tab), in the dark theme', async () => {
    const o = await open('/', 'dark');
    expect(o.csp).toMatch(/script-src 'self';/);
    await o.page.locator('table[aria-label="sFlow agents"] tbody tr').first().waitFor();
    // Set by /theme-init.js (the former inline script) from the system preference.
    expect(await o.page.evaluate(() => (globalThis as unknown as { document: { documentElement: { dataset: { theme?: string } } } }).document.documentElement.dataset.theme)).toBe('dark');
    await o.page.getByRole('tab', { name: 'Apps' }).click();
    await o.page.locator('.tile').first().waitFor();
    await close(o);
  });

  for (const chart of ['gpu', 'process', 'dns', 'protocols'] as const) {
    it(`Sunburst ${chart}`, async () => {
      const o = await open(`/app/sunburst/html/index.html#${chart}`);
      await o.page.locator('#caption').waitFor();
      // A chart canvas is drawn (ECharts), whether or not this chart has data yet.
      await o.page.locator('canvas').first().waitFor();
      if (chart === 'gpu' || chart === 'process') await o.page.locator('table.segments tbody tr').first().waitFor();
      await close(o);
    });
  }

  it('Flow Browser, with a chart tooltip', async () => {
    const o = await open('/app/browse-flows/html/index.html?keys=ipsource,ipdestination&value=bps');
    await until('legend', async () => (await o.page.locator('table.legend tbody tr').count()) > 0);
    await o.page.locator('#topn canvas').first().waitFor();
    await showTooltip(o.page, '#topn');
    await close(o);
  });

  it('Discard Browser', async () => {
    const o = await open('/app/browse-drops/html/index.html');
    expect(await o.page.locator('h1').textContent()).toBe('Discard Browser');
    await until('legend', async () => (await o.page.locator('table.legend tbody tr').count()) > 0);
    await o.page.locator('#topn canvas').first().waitFor();
    await close(o);
  });

  it('Metric Browser', async () => {
    const o = await open('/app/browse-metrics/html/index.html');
    await o.page.getByRole('button', { name: 'Average power per GPU' }).click();
    await until('breakdown', async () => (await o.page.locator('table.breakdown tbody tr').count()) > 0);
    await o.page.locator('canvas').first().waitFor();
    await close(o);
  });

  it('Swagger UI (/api/) and the OpenAPI document (/api-docs)', async () => {
    const o = await open('/api/');
    await o.page.locator('.opblock').first().waitFor();
    expect(await o.page.locator('.opblock').count()).toBeGreaterThan(10);
    // Expanding an operation renders its parameters (more React, more styles).
    await o.page.locator('.opblock-summary').first().click();
    await o.page.locator('.opblock-body').first().waitFor();
    await close(o);
    const doc = await fetch(`${server.url}/api-docs`);
    expect(doc.status).toBe(200);
    expect(doc.headers.get('x-content-type-options')).toBe('nosniff');
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.0.3');
  });
});
