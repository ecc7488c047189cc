// The Flow Browser and the Discard Browser (reference §6.2/§6.3): keys / value / filter with
// type-ahead from the flow keys seen, a live stacked top-N chart of the last 300 s fed by
// incremental `after=` polls, a legend table with values at a clicked time (click a cell to add
// `'key'='value'` to the filter, a swatch to add the whole row), state in the URL, a clone button.

import { LitElement, html, nothing } from 'lit';
import { getJson, HttpStatusError, poll, query, type Poller } from './api.js';
import { PALETTE, TrendChart } from './charts.js';
import { si } from './format.js';
import { readState, writeState } from './state.js';

export interface TopBrowserConfig {
  app: 'browse-flows' | 'browse-drops';
  title: string;
  statePrefix: string;
  defaults: { keys: string; value: string; filter: string };
  examples: { keys: string; value: string; filter: string };
}

const SEP = '_SEP_';
const MAX_POINTS = 300;
const TOP = 10;
const OTHER = '-other-';

interface TrendAnswer {
  trend: { maxPoints: number; times: number[]; trends: { topn: Record<string, number>[] } };
}

/** Split a keys list on commas, honouring `\,` escapes and brackets of key functions. */
export function splitKeys(keys: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < keys.length; i++) {
    const c = keys[i]!;
    if (c === '\\' && keys[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === '[') {
      depth++;
      cur += c;
    } else if (c === ']') {
      depth = Math.max(0, depth - 1);
      cur += c;
    } else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

export function unitsOf(value: string): string {
  const v = value.trim().toLowerCase();
  if (v === 'bps' && value.trim() === 'bps') return 'Bits per Second';
  if (v === 'bps' || v === 'bytes') return 'Bytes per Second';
  if (v === 'fps' || v === 'frames') return 'Frames per Second';
  if (v === 'requests') return 'Requests per Second';
  return `${value} per Second`;
}

/** Quote a filter value as the filter language wants it. */
function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function defineTopBrowser(config: TopBrowserConfig): void {
  class TopBrowser extends LitElement {
    static override properties = { st: { state: true }, form: { state: true }, keySuggestions: { state: true }, selected: { state: true }, error: { state: true }, version: { state: true } };
    st = readState(config.statePrefix, config.defaults);
    form = { ...this.st };
    keySuggestions: string[] = [];
    selected: number | null = null;
    error = '';
    version = 0;
    private times: number[] = [];
    private topn: Record<string, number>[] = [];
    private chart: TrendChart | null = null;
    private poller: Poller | null = null;

    protected override createRenderRoot(): HTMLElement {
      return this;
    }

    override firstUpdated(): void {
      this.chart = new TrendChart(this.querySelector('#topn')!, `${config.title}: stacked top flows over the last 300 seconds; the legend table lists the values`, { stacked: true, units: unitsOf(this.st.value) });
      this.chart.onPick = (i) => {
        this.selected = i;
        this.draw();
      };
      this.restart();
      void this.suggest('');
    }
    override disconnectedCallback(): void {
      super.disconnectedCallback();
      this.poller?.stop();
      this.chart?.dispose();
    }

    private base(): string {
      return `/app/${config.app}/scripts/top.js`;
    }

    private restart(): void {
      this.poller?.stop();
      this.times = [];
      this.topn = [];
      this.selected = null;
      this.draw();
      if (this.st.keys.trim() === '' || this.st.value.trim() === '') return;
      this.poller = poll(() => this.refresh(), 1000, 5000);
    }

    private async refresh(): Promise<void> {
      const { keys, value, filter } = this.st;
      const after = this.times.length ? this.times[this.times.length - 1] : null;
      try {
        const a = await getJson<TrendAnswer>(`${this.base()}/flows/json${query({ keys, value, filter, after })}`);
        if (keys !== this.st.keys || value !== this.st.value || filter !== this.st.filter) return;
        const { times, trends } = a.trend;
        for (let i = 0; i < times.length; i++) {
          if (this.times.length && times[i]! <= this.times[this.times.length - 1]!) continue;
          this.times.push(times[i]!);
          this.topn.push(trends.topn[i] ?? {});
        }
        const extra = this.times.length - MAX_POINTS;
        if (extra > 0) {
          this.times.splice(0, extra);
          this.topn.splice(0, extra);
          if (this.selected !== null) this.selected = this.selected - extra >= 0 ? this.selected - extra : null;
        }
        this.error = '';
        this.draw();
      } catch (e) {
        this.error = e instanceof HttpStatusError && e.status === 400 ? 'The server rejected these keys, value or filter.' : `Query failed: ${e instanceof Error ? e.message : String(e)}`;
        throw e;
      }
    }

    private scale(): number {
      return this.st.value.trim() === 'bps' ? 8 : 1;
    }

    /** Top keys at the selected (or latest) time, largest first. */
    legendKeys(): { key: string; value: number }[] {
      const i = this.selected ?? this.topn.length - 1;
      const point = this.topn[i] ?? {};
      return Object.keys(point)
        .map((key) => ({ key, value: point[key]! * this.scale() }))
        .sort((a, b) => b.value - a.value)
        .slice(0, TOP);
    }

    private draw(): void {
      const k = this.scale();
      // Series: the keys that were top at the chosen time, plus everything else as "other".
      const keys = this.legendKeys().map((x) => x.key);
      const set = new Set(keys);
      const series = keys.map((key, i) => ({ name: key.split(SEP).join(', '), values: this.topn.map((p) => (p[key] ?? 0) * k), color: PALETTE[i % PALETTE.length] }));
      const other = this.topn.map((p) => Object.keys(p).reduce((s, key) => (set.has(key) ? s : s + p[key]! * k), 0));
      if (other.some((v) => v > 0)) series.push({ name: OTHER, values: other, color: '#999' });
      this.chart?.update(this.times, series, this.selected, unitsOf(this.st.value));
      this.version++;
    }

    private async suggest(text: string): Promise<void> {
      const last = splitKeys(text).pop() ?? '';
      const prefix = text.endsWith(',') ? '' : last.replace(/^.*[:\[]/, '');
      try {
        this.keySuggestions = (await getJson<string[]>(`${this.base()}/flowkeys/json${query({ search: prefix })}`)).slice(0, 200);
      } catch {
        this.keySuggestions = [];
      }
    }

    private submit(e?: Event): void {
      e?.preventDefault();
      this.st = { keys: this.form.keys.trim(), value: this.form.value.trim(), filter: this.form.filter.trim() };
      writeState(config.statePrefix, this.st);
      this.restart();
    }

    private reset(): void {
      this.form = { ...config.defaults };
      this.submit();
    }

    private addFilter(pairs: [string, string][]): void {
      const clause = pairs.map(([k, v]) => `${quote(k)}=${quote(v)}`).join('&');
      this.form = { ...this.form, filter: this.st.filter ? `${this.st.filter}&${clause}` : clause };
      this.submit();
    }

    override render() {
      const headings = splitKeys(this.st.keys);
      const legend = this.legendKeys();
      const t = this.selected !== null ? this.times[this.selected] : this.times[this.times.length - 1];
      const units = unitsOf(this.st.value);
      const typed = splitKeys(this.form.keys);
      const keyPrefix = this.form.keys.endsWith(',') || typed.length === 0 ? this.form.keys : `${this.form.keys.slice(0, this.form.keys.lastIndexOf(typed[typed.length - 1]!))}`;
      return html`<ss-nav active=${config.app}></ss-nav>
        <main id="main">
          <div class="toolbar" style="justify-content:space-between">
            <h1>${config.title}</h1>
            <button type="button" class="btn" @click=${() => window.open(location.href, '_blank', 'noopener')} aria-label="Clone this view in a new window">Clone</button>
          </div>
          <form class="toolbar" @submit=${(e: Event) => this.submit(e)} aria-label="Flow definition">
            <label>Keys
              <input class="wide" name="keys" list="keys-list" autocomplete="off" .value=${this.form.keys} placeholder=${config.examples.keys}
                @input=${(e: Event) => {
                  this.form = { ...this.form, keys: (e.target as HTMLInputElement).value };
                  void this.suggest(this.form.keys);
                }} />
            </label>
            <datalist id="keys-list">${this.keySuggestions.map((k) => html`<option value=${keyPrefix + k}></option>`)}</datalist>
            <label>Value
              <input name="value" list="value-list" autocomplete="off" .value=${this.form.value} placeholder=${config.examples.value} @input=${(e: Event) => (this.form = { ...this.form, value: (e.target as HTMLInputElement).value })} />
            </label>
            <datalist id="value-list"><option value="bps"></option><option value="Bps"></option><option value="fps"></option><option value="requests"></option></datalist>
            <label>Filter
              <input class="wide" name="filter" list="filter-list" autocomplete="off" .value=${this.form.filter} placeholder=${config.examples.filter} @input=${(e: Event) => (this.form = { ...this.form, filter: (e.target as HTMLInputElement).value })} />
            </label>
            <datalist id="filter-list">${this.keySuggestions.map((k) => html`<option value=${`${this.form.filter && !/[&|(]$/.test(this.form.filter) ? `${this.form.filter}&` : this.form.filter}${k}=`}></option>`)}</datalist>
            <button type="button" class="btn" @click=${() => this.reset()}>Reset</button>
            <button type="submit" class="btn primary">Submit</button>
          </form>
          <details class="muted"><summary>Help</summary>
            <p>Keys: flow attributes separated by commas, e.g. <code>${config.examples.keys}</code>. Value: <code>bps</code>, <code>Bps</code>, <code>fps</code> or a custom value such as <code>requests</code>. Filter: e.g. <code>${config.examples.filter}</code>; clauses joined with <code>&amp;</code> (and) or <code>|</code> (or). Click the chart to see the values at that time; click a legend cell to add it to the filter.</p>
          </details>
          ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
          <div class="panel">
            <p class="caption">${units}, top ${TOP} by ${this.st.keys || '…'}${this.st.filter ? ` where ${this.st.filter}` : ''}; last ${MAX_POINTS} s.</p>
            <div id="topn" class="chart"></div>
          </div>
          <h2 id="h-legend">Values at ${t ? new Date(t).toLocaleTimeString() : '—'}${this.selected !== null ? html` <button type="button" class="btn" @click=${() => { this.selected = null; this.draw(); }}>Follow latest</button>` : nothing}</h2>
          <div class="panel scroll">
            <table class="data legend" aria-labelledby="h-legend" data-time=${t ?? ''}>
              <thead><tr><th scope="col" class="text"><span class="muted">Add row</span></th>${headings.map((h) => html`<th scope="col" class="text">${h}</th>`)}<th scope="col">${units}</th></tr></thead>
              <tbody>
                ${legend.map((row, i) => {
                  const fields = row.key.split(SEP);
                  return html`<tr>
                    <td class="text"><button type="button" class="swatch" style="background:${PALETTE[i % PALETTE.length]}" aria-label=${`Filter on this row: ${fields.join(', ')}`} @click=${() => this.addFilter(headings.map((h, j) => [h, fields[j] ?? '']))}></button></td>
                    ${headings.map((h, j) => html`<td class="text"><button type="button" class="cellbtn" title=${`Add ${h}=${fields[j] ?? ''} to the filter`} @click=${() => this.addFilter([[h, fields[j] ?? '']])}>${fields[j] ?? ''}</button></td>`)}
                    <td data-key=${row.key} data-value=${row.value}>${si(row.value)}</td>
                  </tr>`;
                })}
              </tbody>
            </table>
            ${legend.length === 0 ? html`<p class="muted">No flows match yet.</p>` : nothing}
          </div>
        </main>`;
    }
  }
  customElements.define('ss-top-browser', TopBrowser);
  document.body.append(document.createElement('ss-top-browser'));
}
