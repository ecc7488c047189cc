// deploy/prometheus and deploy/grafana: the scrape config is valid for promtool and scrapes the
// paths sflowscope serves; the dashboards are well-formed Grafana JSON covering what issue 7 asks.

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMTOOL } from './helpers/promtool.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CONFIG = join(ROOT, 'deploy/prometheus/prometheus.yml');
const DASHBOARDS = join(ROOT, 'deploy/grafana/dashboards');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

describe('deploy/prometheus/prometheus.yml', () => {
  it.skipIf(PROMTOOL === null)('passes promtool check config', () => {
    const r = spawnSync(PROMTOOL!, ['check', 'config', CONFIG], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it('scrapes our paths at the documented target', () => {
    const text = readFileSync(CONFIG, 'utf8');
    for (const p of ['/metrics', '/prometheus/analyzer/txt', '/prometheus/metrics/ALL/ALL/txt', '/app/prometheus/scripts/export.js/flows/ALL/txt']) {
      expect(text).toContain(`metrics_path: ${p}`);
    }
    expect(text.match(/targets: \['sflowscope:8008'\]/g)?.length).toBe(5);
  });
});

describe('deploy/grafana dashboards', () => {
  const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));

  it('exist', () => {
    expect(files).toContain('cluster-overview.json');
  });

  it.each(files)('%s is importable Grafana JSON: unique uid and panel ids, a Prometheus data source input, every target has an expr', (f) => {
    const d = JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as { uid: string; title: string; panels: Panel[]; __inputs: { name: string; pluginId: string }[] };
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus' })]);
    const all: Panel[] = [];
    const walk = (ps: Panel[]) => {
      for (const p of ps) {
        all.push(p);
        if (p.panels) walk(p.panels);
      }
    };
    walk(d.panels);
    const ids = all.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of all) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refs = p.targets!.map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
      for (const t of p.targets!) {
        expect(t.expr.trim(), p.title).not.toBe('');
        // sflow_* are already rates: never rate() them (sflow_analyzer_* totals excepted).
        expect(/rate\(sflow_(?!analyzer_)/.test(t.expr), `${p.title}: ${t.expr}`).toBe(false);
      }
    }
  });

  it('the cluster overview covers GPU and CPU share by namespace, power per GPU, traffic by namespace and protocol, drops by reason, agent health', () => {
    const d = JSON.parse(readFileSync(join(DASHBOARDS, 'cluster-overview.json'), 'utf8')) as { panels: Panel[] };
    const titles = d.panels.map((p) => p.title);
    for (const t of ['GPU share by namespace', 'CPU share by namespace', 'Average power per GPU', 'Pod traffic by namespace', 'Traffic by protocol', 'Drops by reason', 'Agent health']) {
      expect(titles).toContain(t);
    }
  });
});
