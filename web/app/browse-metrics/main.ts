// Metric Browser (sFlow-RT browse-metrics, reference §6.4): agent / metric / data source /
// statistic pickers, the statistic's table (value, N, agent, data source), a 300-point trend,
// and presets. Our additions: a per-data-source breakdown table, and "per GPU" presets that
// divide power by the number of GPUs (sum:vir_nvml_power / sum:vir_nvml_device_count).

import '../../shared/styles.css';
import '../../shared/nav.js';
import { LitElement, html, nothing } from 'lit';
import { enc, getJson, poll, query, type Poller } from '../../shared/api.js';
import { TrendChart } from '../../shared/charts.js';
import { si } from '../../shared/format.js';
import { readState, writeState } from '../../shared/state.js';
import { initTheme } from '../../shared/theme.js';

initTheme();

const STATS = ['max', 'min', 'sum', 'avg', 'var', 'sdev', 'med', 'q1', 'q2', 'q3', 'iqr', 'any'];
const MAX_POINTS = 300;

interface Statistic {
  metricName: string;
  metricValue?: number | string;
  metricN?: number;
  agent?: string;
  dataSource?: string;
}
interface MetricCell {
  agent: string;
  dataSource: string;
  metricName: string;
  metricValue: number | string;
}

export interface Preset {
  id: string;
  label: string;
  metric: string;
  aggregation: string;
  /** Divide by this metric (both summed): per-unit presets. */
  per?: string;
  units: string;
}

export const PRESETS: Preset[] = [
  { id: 'gpu-power', label: 'Average power per GPU', metric: 'vir_nvml_power', aggregation: 'avg', per: 'vir_nvml_device_count', units: 'W per GPU' },
  { id: 'gpu-util', label: 'GPU utilisation', metric: 'nvml_gpu_utilization', aggregation: 'avg', units: '%' },
  { id: 'cpu-util', label: 'CPU utilisation', metric: 'cpu_utilization', aggregation: 'avg', units: '%' },
  { id: 'net-in', label: 'Network in', metric: 'bytes_in', aggregation: 'sum', units: 'bytes/s' },
  { id: 'net-out', label: 'Network out', metric: 'bytes_out', aggregation: 'sum', units: 'bytes/s' },
];

const DEFAULTS = { agent: 'ALL', metric: 'load_one', datasource: 'ALL', aggregation: 'max', preset: '' };

class MetricBrowser extends LitElement {
  static override properties = { st: { state: true }, agents: { state: true }, metrics: { state: true }, datasources: { state: true }, stat: { state: true }, perValue: { state: true }, breakdown: { state: true }, error: { state: true } };
  st = readState('mb_', DEFAULTS);
  agents: string[] = [];
  metrics: string[] = [];
  datasources: { id: string; label: string }[] = [];
  stat: Statistic | null = null;
  perValue: number | null = null;
  breakdown: { agent: string; ds: string; name: string; value: number; per: number | null }[] = [];
  error = '';
  private times: number[] = [];
  private values: (number | null)[] = [];
  private chart: TrendChart | null = null;
  private poller: Poller | null = null;
  private tick = 0;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  get preset(): Preset | undefined {
    return PRESETS.find((p) => p.id === this.st.preset && p.metric === this.st.metric && p.aggregation === this.st.aggregation);
  }

  override async firstUpdated(): Promise<void> {
    this.chart = new TrendChart(this.querySelector('#trend')!, 'Trend of the selected statistic over the last 300 seconds', { stacked: false, units: '' });
    this.poller = poll(() => this.refresh(), 1000, 5000);
    await this.loadLists();
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.poller?.stop();
    this.chart?.dispose();
  }

  private async loadLists(): Promise<void> {
    try {
      const agents = await getJson<Record<string, unknown>>('/agents/json');
      this.agents = Object.keys(agents).sort();
      if (this.st.agent === 'ALL') {
        this.metrics = Object.keys(await getJson<Record<string, unknown>>('/metrics/json')).sort();
        this.datasources = [];
      } else {
        const m = await getJson<Record<string, unknown>>(`/metric/${enc(this.st.agent)}/json`);
        const names = new Set<string>();
        const ds = new Map<string, string>();
        for (const [k, v] of Object.entries(m)) {
          const i = k.lastIndexOf('.');
          if (i <= 0) continue;
          const d = k.slice(0, i);
          const n = k.slice(i + 1);
          names.add(n);
          if (!ds.has(d)) ds.set(d, d);
          if (n === 'vir_host_name' || n === 'host_name' || n === 'ifname') ds.set(d, `${d} (${String(v)})`);
        }
        this.metrics = [...names].sort();
        this.datasources = [...ds].map(([id, label]) => ({ id, label })).sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
      }
    } catch (e) {
      this.error = `Cannot load lists: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  private set(patch: Partial<typeof DEFAULTS>): void {
    const agentChanged = patch.agent !== undefined && patch.agent !== this.st.agent;
    this.st = { ...this.st, ...patch };
    if (agentChanged) this.st.datasource = 'ALL';
    writeState('mb_', this.st);
    this.times = [];
    this.values = [];
    this.stat = null;
    this.perValue = null;
    this.breakdown = [];
    if (agentChanged) void this.loadLists();
    this.poller?.kick();
  }

  private applyPreset(p: Preset): void {
    this.set({ agent: 'ALL', metric: p.metric, aggregation: p.aggregation, datasource: 'ALL', preset: p.id });
  }

  private async refresh(): Promise<void> {
    const { agent, metric, datasource, aggregation } = this.st;
    if (!metric) return;
    const p = this.preset;
    const spec = `${aggregation}:${datasource !== 'ALL' ? `${datasource}.` : ''}${metric}`;
    const specs = [spec];
    if (p?.per) specs.push(`sum:${metric}`, `sum:${p.per}`);
    const a = enc(agent);
    try {
      const res = await getJson<Statistic[]>(`/metric/${a}/${specs.map(enc).join(',')}/json`);
      this.stat = res[0] ?? null;
      let v: number | null = typeof this.stat?.metricValue === 'number' ? this.stat.metricValue : null;
      if (p?.per) {
        const s = res[1]?.metricValue;
        const n = res[2]?.metricValue;
        this.perValue = typeof s === 'number' && typeof n === 'number' && n > 0 ? s / n : null;
        v = this.perValue;
      } else this.perValue = null;
      this.times.push(Date.now());
      this.values.push(v);
      if (this.times.length > MAX_POINTS) {
        this.times.shift();
        this.values.shift();
      }
      this.chart?.update(this.times, [{ name: p ? p.label : spec, values: this.values }], null, p?.units ?? '');
      if (this.tick++ % 2 === 0) await this.refreshBreakdown();
      this.error = '';
    } catch (e) {
      this.error = `Query failed: ${e instanceof Error ? e.message : String(e)}`;
      throw e;
    }
  }

  private async refreshBreakdown(): Promise<void> {
    const { agent, metric, datasource } = this.st;
    const per = this.preset?.per;
    const cols = [`sort:${metric}:-25`, `null:${per ?? metric}`, 'null:vir_host_name', 'null:host_name', 'null:ifname'];
    const rows = await getJson<(MetricCell | null)[][]>(`/table/${enc(agent)}/${cols.map(enc).join(',')}/json${query({ ds: datasource === 'ALL' ? '' : datasource })}`);
    this.breakdown = rows
      .filter((r) => r[0] && typeof r[0].metricValue === 'number')
      .map((r) => {
        const c = r[0]!;
        const n = per && typeof r[1]?.metricValue === 'number' ? r[1].metricValue : null;
        const name = String(r[2]?.metricValue ?? r[3]?.metricValue ?? r[4]?.metricValue ?? '');
        return { agent: c.agent, ds: c.dataSource, name, value: c.metricValue as number, per: n !== null && n > 0 ? (c.metricValue as number) / n : null };
      });
  }

  override render() {
    const st = this.st;
    const p = this.preset;
    const stat = this.stat;
    const sel = (label: string, value: string, options: { v: string; l: string }[], on: (v: string) => void) =>
      html`<label>${label}<select aria-label=${label} @change=${(e: Event) => on((e.target as HTMLSelectElement).value)}>
        ${options.map((o) => html`<option value=${o.v} ?selected=${o.v === value}>${o.l}</option>`)}
      </select></label>`;
    const metricOptions = (this.metrics.includes(st.metric) ? this.metrics : [st.metric, ...this.metrics]).map((m) => ({ v: m, l: m }));
    return html`<ss-nav active="browse-metrics"></ss-nav>
      <main id="main">
        <h1>Metric Browser</h1>
        <div class="toolbar" role="group" aria-label="Presets">
          ${PRESETS.map((x) => html`<button type="button" class="btn ${p?.id === x.id ? 'primary' : ''}" data-preset=${x.id} aria-pressed=${p?.id === x.id} @click=${() => this.applyPreset(x)}>${x.label}</button>`)}
        </div>
        <form class="toolbar" @submit=${(e: Event) => e.preventDefault()} aria-label="Query">
          ${sel('Agent', st.agent, [{ v: 'ALL', l: 'ALL' }, ...this.agents.map((a) => ({ v: a, l: a }))], (v) => this.set({ agent: v, preset: '' }))}
          ${sel('Metric', st.metric, metricOptions, (v) => this.set({ metric: v, preset: '' }))}
          ${sel('Data source', st.datasource, [{ v: 'ALL', l: 'ALL' }, ...this.datasources.map((d) => ({ v: d.id, l: d.label }))], (v) => this.set({ datasource: v, preset: '' }))}
          ${sel('Statistic', st.aggregation, STATS.map((s) => ({ v: s, l: s })), (v) => this.set({ aggregation: v, preset: '' }))}
        </form>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <div class="panel">
          <table class="data" aria-label="Current value">
            <thead><tr><th scope="col" class="text">Metric</th><th scope="col">Value</th><th scope="col">N</th><th scope="col" class="text">Agent</th><th scope="col" class="text">Data source</th>${p?.per ? html`<th scope="col">${p.units}</th>` : nothing}</tr></thead>
            <tbody>
              <tr>
                <td class="text">${stat?.metricName ?? `${st.aggregation}:${st.metric}`}</td>
                <td class="stat-value">${si(typeof stat?.metricValue === 'number' ? stat.metricValue : null)}</td>
                <td>${stat?.metricN ?? '—'}</td>
                <td class="text">${stat?.agent ?? ''}</td>
                <td class="text">${stat?.dataSource ?? ''}</td>
                ${p?.per ? html`<td class="per-value" aria-label=${`${p.label}: ${si(this.perValue)} ${p.units}`}><b>${si(this.perValue)}</b></td>` : nothing}
              </tr>
            </tbody>
          </table>
          <p class="caption">${p ? `${p.label} (${p.units}) across all agents, ` : ''}last ${MAX_POINTS} s, one point per second.</p>
          <div id="trend" class="chart"></div>
        </div>
        <h2 id="h-breakdown">Top data sources</h2>
        <div class="panel scroll">
          <table class="data breakdown" aria-labelledby="h-breakdown">
            <thead><tr><th scope="col" class="text">Name</th><th scope="col" class="text">Agent</th><th scope="col" class="text">Data source</th><th scope="col">${st.metric}</th>${p?.per ? html`<th scope="col">${p.units}</th>` : nothing}</tr></thead>
            <tbody>
              ${this.breakdown.map(
                (r) => html`<tr>
                  <td class="text">${r.name}</td><td class="text">${r.agent}</td><td class="text">${r.ds}</td><td>${si(r.value)}</td>
                  ${p?.per ? html`<td class="per" data-value=${r.per ?? ''}>${si(r.per)}</td>` : nothing}
                </tr>`,
              )}
            </tbody>
          </table>
          ${this.breakdown.length === 0 ? html`<p class="muted">No data source reports ${st.metric} yet.</p>` : nothing}
        </div>
      </main>`;
  }
}
customElements.define('ss-metric-browser', MetricBrowser);
document.body.append(document.createElement('ss-metric-browser'));
