// ECharts wrappers: a sunburst with our drill-down, and a time-series (line / stacked area) chart.
// Every label reaches ECharts as data: drawn on a canvas, and escaped in the HTML tooltips.

import * as echarts from 'echarts/core';
import { LineChart, SunburstChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { escapeHtml, si } from './format.js';
import { chartColors, currentTheme, onThemeChange } from './theme.js';

echarts.use([SunburstChart, LineChart, TooltipComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, AriaComponent, CanvasRenderer]);

export const PALETTE = [
  '#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00', '#b82e2e', '#316395', '#994499',
  '#22aa99', '#aaaa11', '#6633cc', '#e67300', '#8b0707', '#651067', '#329262', '#5574a6', '#3b3eac', '#b77322', '#16d620',
  '#b91383', '#f4359e', '#9c5935', '#a9c413', '#2a778d', '#668d1c', '#bea413', '#0c5922', '#743411',
];

export function colorFor(label: string): string {
  let h = 0;
  for (let i = 0; i < label.length; i++) h = (Math.imul(h, 31) + label.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(h) % PALETTE.length]!;
}

abstract class Chart {
  protected readonly chart: echarts.ECharts;
  private readonly ro: ResizeObserver;
  private readonly offTheme: () => void;
  constructor(protected readonly el: HTMLElement, ariaLabel: string) {
    el.setAttribute('role', 'img');
    el.setAttribute('aria-label', ariaLabel);
    this.chart = echarts.init(el, currentTheme() === 'dark' ? 'dark' : undefined, { renderer: 'canvas' });
    this.ro = new ResizeObserver(() => this.chart.resize());
    this.ro.observe(el);
    this.offTheme = onThemeChange(() => this.redraw());
  }
  protected abstract redraw(): void;
  dispose(): void {
    this.ro.disconnect();
    this.offTheme();
    this.chart.dispose();
  }
}

// --- Sunburst -----------------------------------------------------------------------------

export interface TreeNode {
  value: number;
  id?: string;
  filter?: string;
  children?: Record<string, TreeNode>;
}

export interface Segment {
  name: string;
  path: string[];
  value: number;
  id: string;
  filter: string | undefined;
  hasChildren: boolean;
}

interface EData {
  name: string;
  value: number;
  path: string[];
  itemStyle: { color: string };
  children: EData[];
  id_: string;
  filter_: string | undefined;
}

export class SunburstView extends Chart {
  private root: TreeNode = { value: 0, children: {} };
  private rootLabel = '';
  private units = '';
  private path: string[] = [];
  onSegment: ((s: Segment) => void) | null = null;

  constructor(el: HTMLElement, ariaLabel: string) {
    super(el, ariaLabel);
    this.chart.on('click', (p) => {
      const d = p.data as EData | undefined;
      if (!d || !d.path) return;
      this.onSegment?.({ name: d.name, path: d.path, value: d.value, id: d.id_, filter: d.filter_, hasChildren: d.children.length > 0 });
    });
  }

  /** Node at the current zoom path (or null when it has gone away). */
  focus(): TreeNode | null {
    let n: TreeNode = this.root;
    for (const k of this.path) {
      const c = n.children && Object.hasOwn(n.children, k) ? n.children[k] : undefined;
      if (c === undefined) return null;
      n = c;
    }
    return n;
  }

  get zoomPath(): string[] {
    return this.path.slice();
  }

  zoom(path: string[]): void {
    this.path = path.slice();
    this.redraw();
  }

  draw(root: TreeNode, label: string, units: string): void {
    this.root = root;
    this.rootLabel = label;
    this.units = units;
    if (this.focus() === null) this.path = [];
    this.redraw();
  }

  /** Children of the focused node, sorted by name, for the accessible table. */
  segments(): Segment[] {
    const f = this.focus();
    if (!f?.children) return [];
    return Object.keys(f.children)
      .sort()
      .map((k) => {
        const c = f.children![k]!;
        return { name: k, path: [...this.path, k], value: c.value, id: c.id ?? k, filter: c.filter, hasChildren: !!c.children && Object.keys(c.children).length > 0 };
      });
  }

  protected redraw(): void {
    const focus = this.focus() ?? this.root;
    const convert = (n: TreeNode, path: string[]): EData[] =>
      Object.keys(n.children ?? {})
        .sort()
        .map((k) => {
          const c = n.children![k]!;
          const p = [...path, k];
          return { name: k, value: c.value, path: p, itemStyle: { color: colorFor(k) }, children: convert(c, p), id_: c.id ?? k, filter_: c.filter };
        });
    const data = convert(focus, this.path);
    const total = focus.value || 1;
    const units = this.units;
    const colors = chartColors();
    const centre = this.path.length ? this.path[this.path.length - 1]! : this.rootLabel;
    this.chart.setOption(
      {
        backgroundColor: 'transparent',
        aria: { enabled: false },
        tooltip: {
          formatter: (p: { data?: EData }) => {
            const d = p.data;
            if (!d) return '';
            return `<b>${escapeHtml(d.path.join(' › '))}</b><br/>${escapeHtml(si(d.value))} ${escapeHtml(units)} · ${((100 * d.value) / total).toFixed(1)}%`;
          },
        },
        series: [
          {
            type: 'sunburst',
            data,
            radius: ['14%', '95%'],
            sort: null,
            nodeClick: false,
            animation: false,
            emphasis: { focus: 'ancestor' },
            label: { rotate: 'radial', minAngle: 8, overflow: 'truncate', width: 90, color: '#fff', textBorderColor: 'rgba(0,0,0,0.4)', textBorderWidth: 2 },
            itemStyle: { borderColor: colors.bg, borderWidth: 1 },
          },
        ],
        title: { text: centre, left: 'center', top: 'middle', textStyle: { color: colors.text, fontSize: 13, width: 90, overflow: 'truncate' } },
      },
      { notMerge: true },
    );
  }
}

// --- Time series ----------------------------------------------------------------------------

export interface Series {
  name: string;
  values: (number | null)[];
  color?: string;
}

export class TrendChart extends Chart {
  private times: number[] = [];
  private series: Series[] = [];
  private selected: number | null = null;
  onPick: ((index: number) => void) | null = null;

  constructor(el: HTMLElement, ariaLabel: string, private readonly opts: { stacked: boolean; units: string }) {
    super(el, ariaLabel);
    this.chart.getZr().on('click', (ev) => {
      const pt = [ev.offsetX, ev.offsetY];
      if (!this.chart.containPixel('grid', pt)) return;
      const x = this.chart.convertFromPixel('grid', pt)[0] as number;
      if (this.times.length === 0) return;
      let best = 0;
      for (let i = 1; i < this.times.length; i++) if (Math.abs(this.times[i]! - x) < Math.abs(this.times[best]! - x)) best = i;
      this.onPick?.(best);
    });
  }

  update(times: number[], series: Series[], selected: number | null = null, units = this.opts.units): void {
    this.times = times;
    this.series = series;
    this.selected = selected;
    this.opts.units = units;
    this.redraw();
  }

  protected redraw(): void {
    const colors = chartColors();
    const units = this.opts.units;
    const sel = this.selected !== null ? this.times[this.selected] : undefined;
    this.chart.setOption(
      {
        backgroundColor: 'transparent',
        animation: false,
        grid: { left: 60, right: 16, top: 32, bottom: 28 },
        tooltip: {
          trigger: 'axis',
          confine: true,
          formatter: (ps: { seriesName: string; value: [number, number | null]; color: string }[]) => {
            if (!ps.length) return '';
            const t = new Date(ps[0]!.value[0]).toLocaleTimeString();
            const rows = ps
              .filter((p) => p.value[1] !== null && p.value[1] !== 0)
              .slice(0, 12)
              .map((p) => `<span style="color:${escapeHtml(p.color)}">●</span> ${escapeHtml(p.seriesName)}: ${escapeHtml(si(p.value[1]))}`);
            return `${escapeHtml(t)}<br/>${rows.join('<br/>')}`;
          },
        },
        xAxis: { type: 'time', axisLabel: { color: colors.muted }, axisLine: { lineStyle: { color: colors.grid } }, splitLine: { show: false } },
        yAxis: { type: 'value', name: units, nameTextStyle: { color: colors.muted, align: 'left' }, axisLabel: { color: colors.muted, formatter: (v: number) => si(v) }, splitLine: { lineStyle: { color: colors.grid } } },
        series: this.series.map((s, i) => ({
          type: 'line',
          name: s.name,
          showSymbol: false,
          stack: this.opts.stacked ? 'all' : undefined,
          areaStyle: this.opts.stacked ? { opacity: 0.85 } : undefined,
          lineStyle: { width: this.opts.stacked ? 0.5 : 2 },
          color: s.color ?? PALETTE[i % PALETTE.length],
          data: s.values.map((v, j) => [this.times[j], v]),
          markLine: i === 0 && sel !== undefined ? { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: colors.text, type: 'dashed' }, data: [{ xAxis: sel }] } : undefined,
        })),
      },
      { notMerge: true },
    );
  }
}
