// Sunburst (sFlow-RT sunburst app, reference §6.1): tabs GPU / Process / DNS / Protocols, a live
// sunburst refreshed every second, drill-down (click a ring to zoom, breadcrumb back), tooltips
// with value and share, a caption with what is shown and its unit, and an accessible table of
// the segments at the current level. Flow charts link segments to the Flow Browser.

import '../../shared/styles.css';
import '../../shared/nav.js';
import { LitElement, html, nothing } from 'lit';
import { getJson, poll, query, type Poller } from '../../shared/api.js';
import { SunburstView, colorFor, type Segment, type TreeNode } from '../../shared/charts.js';
import { si } from '../../shared/format.js';
import { initTheme } from '../../shared/theme.js';

initTheme();

const CHARTS = [
  { id: 'gpu', label: 'GPU' },
  { id: 'process', label: 'Process' },
  { id: 'dns', label: 'DNS' },
  { id: 'protocols', label: 'Protocols' },
] as const;
type ChartId = (typeof CHARTS)[number]['id'];

interface Tree extends TreeNode {
  label: string;
  depth: number;
  flow: boolean;
  description: string;
  units?: string;
}

export function flowBrowserUrl(filter: string): string {
  return `/app/browse-flows/html/index.html${query({ keys: 'stack', value: 'fps', filter })}`;
}

function initialChart(): ChartId {
  const h = location.hash.slice(1);
  if (CHARTS.some((c) => c.id === h)) return h as ChartId;
  try {
    const s = sessionStorage.getItem('sunburst_nav');
    if (CHARTS.some((c) => c.id === s)) return s as ChartId;
  } catch {
    /* storage disabled */
  }
  return 'gpu';
}

class SunburstPage extends LitElement {
  static override properties = { chart: { state: true }, tree: { state: true }, path: { state: true }, error: { state: true } };
  chart: ChartId = initialChart();
  tree: Tree | null = null;
  path: string[] = [];
  error = '';
  private view: SunburstView | null = null;
  private poller: Poller | null = null;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override firstUpdated(): void {
    this.view = new SunburstView(this.querySelector('#sunburst')!, 'Sunburst chart; the table below lists the same segments');
    this.view.onSegment = (s) => this.onSegment(s);
    this.poller = poll(() => this.refresh(), 1000, 5000);
    addEventListener('hashchange', this.onHash);
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.poller?.stop();
    this.view?.dispose();
    removeEventListener('hashchange', this.onHash);
  }
  private onHash = () => {
    const h = location.hash.slice(1);
    if (CHARTS.some((c) => c.id === h) && h !== this.chart) this.select(h as ChartId);
  };

  private select(c: ChartId): void {
    this.chart = c;
    this.tree = null;
    this.path = [];
    this.view?.zoom([]);
    history.replaceState(null, '', `#${c}`);
    try {
      sessionStorage.setItem('sunburst_nav', c);
    } catch {
      /* storage disabled */
    }
    this.poller?.kick();
  }

  private async refresh(): Promise<void> {
    const c = this.chart;
    try {
      const t = await getJson<Tree>(`/app/sunburst/scripts/metrics.js/${c}/json`);
      if (c !== this.chart) return;
      this.tree = t;
      this.view?.draw(t, t.label, t.units ?? '');
      this.path = this.view?.zoomPath ?? [];
      this.error = '';
    } catch (e) {
      this.error = `Cannot load the ${c} chart: ${e instanceof Error ? e.message : String(e)}`;
      this.tree = null;
      this.view?.draw({ value: 0, children: {} }, '', '');
      throw e;
    }
  }

  private onSegment(s: Segment): void {
    if (s.hasChildren) this.zoom(s.path);
    else if (this.tree?.flow && s.filter) location.href = flowBrowserUrl(s.filter);
  }

  private zoom(path: string[]): void {
    this.view?.zoom(path);
    this.path = path;
  }

  override render() {
    const t = this.tree;
    const focus = this.view?.focus() ?? null;
    const segments = this.view && t ? this.view.segments() : [];
    const focusValue = focus?.value ?? 0;
    const focusFilter = this.path.length && focus ? (focus as TreeNode).filter : undefined;
    const units = t?.units ?? '';
    return html`<ss-nav active="sunburst"></ss-nav>
      <main id="main">
        <h1>Sunburst</h1>
        <div class="tabs" role="tablist" aria-label="Charts">
          ${CHARTS.map((c) => html`<button role="tab" type="button" id=${`tab-${c.id}`} aria-selected=${this.chart === c.id} @click=${() => this.select(c.id)}>${c.label}</button>`)}
        </div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <div class="panel" role="tabpanel" aria-labelledby=${`tab-${this.chart}`}>
          <p class="caption" id="caption" aria-live="polite">
            ${t ? html`${t.description}. Unit: ${units}. Total ${si(t.value)} ${units}; ${t.flow ? 'updated every second from flows' : 'updated every second from counter samples'}.` : 'Loading…'}
          </p>
          <nav class="breadcrumb" aria-label="Zoom path">
            <button type="button" @click=${() => this.zoom([])} ?disabled=${this.path.length === 0}>${t?.label ?? this.chart}</button>
            ${this.path.map((p, i) => html`<span aria-hidden="true">›</span><button type="button" @click=${() => this.zoom(this.path.slice(0, i + 1))} aria-current=${i === this.path.length - 1 ? 'location' : 'false'}>${p}</button>`)}
            ${t?.flow && focusFilter ? html`<a class="btn" href=${flowBrowserUrl(focusFilter)}>Open in Flow Browser</a>` : nothing}
          </nav>
          <div id="sunburst" class="chart tall"></div>
          ${t && t.value === 0 ? html`<p class="muted">${t.flow ? 'No flows yet (the flow engine feeds this chart).' : 'No data yet: waiting for counter samples.'}</p>` : nothing}
        </div>
        <h2 id="h-segments">Segments${this.path.length ? ` under ${this.path.join(' › ')}` : ''}</h2>
        <div class="panel scroll">
          <table class="data segments" aria-labelledby="h-segments">
            <thead><tr><th scope="col" class="text">Segment</th><th scope="col">Value (${units})</th><th scope="col">Share</th>${t?.flow ? html`<th scope="col" class="text">Flows</th>` : nothing}</tr></thead>
            <tbody>
              ${segments
                .slice()
                .sort((a, b) => b.value - a.value)
                .map(
                  (s) => html`<tr data-segment=${s.name} data-value=${s.value} data-share=${focusValue ? s.value / focusValue : 0}>
                    <td class="text"><span class="swatch" style="background:${colorFor(s.name)}" aria-hidden="true"></span>${s.hasChildren ? html`<button type="button" class="cellbtn" @click=${() => this.zoom(s.path)} aria-label=${`Zoom into ${s.name}`}>${s.name}</button>` : s.name}</td>
                    <td>${si(s.value)}</td>
                    <td>${focusValue ? ((100 * s.value) / focusValue).toFixed(1) : '0'}%</td>
                    ${t?.flow ? html`<td class="text">${s.filter ? html`<a href=${flowBrowserUrl(s.filter)}>open flows</a>` : nothing}</td>` : nothing}
                  </tr>`,
                )}
            </tbody>
          </table>
        </div>
      </main>`;
  }
}
customElements.define('ss-sunburst-page', SunburstPage);
document.body.append(document.createElement('ss-sunburst-page'));
