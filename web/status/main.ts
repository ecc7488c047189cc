// Status page (`/`): engine health cards and the agents table (tab "Status"), app tiles (tab
// "Apps"). Polls /analyzer/json, /agents/json and /apps/json every few seconds.

import '../shared/styles.css';
import '../shared/nav.js';
import { LitElement, html, nothing } from 'lit';
import { getJson, poll, type Poller } from '../shared/api.js';
import { bytes, duration, si } from '../shared/format.js';
import { initTheme } from '../shared/theme.js';

initTheme();

type Analyzer = Record<string, unknown>;
type AgentInfo = Record<string, unknown>;
interface AppInfo {
  entry: string;
  title: string;
  status: 'OK' | 'DEGRADED';
  detail: string;
}

const REFRESH_MS = 3000;
/** An agent silent for longer than this is stale. */
export const STALE_MS = 60_000;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface Row {
  agent: string;
  datagrams: number;
  rate: number | null;
  lost: number;
  outOfOrder: number;
  duplicates: number;
  flowSamples: number;
  counterSamples: number;
  drops: number;
  dataSources: number;
  lastSeen: number;
  restarts: number;
  samplingMismatch: boolean;
  badges: { cls: 'ok' | 'warn' | 'bad'; text: string }[];
}

const COLUMNS: { key: keyof Row; label: string; text?: boolean }[] = [
  { key: 'agent', label: 'Agent', text: true },
  { key: 'rate', label: 'Datagrams/s' },
  { key: 'datagrams', label: 'Datagrams' },
  { key: 'lost', label: 'Lost' },
  { key: 'outOfOrder', label: 'Out of order' },
  { key: 'duplicates', label: 'Duplicates' },
  { key: 'flowSamples', label: 'Flow samples' },
  { key: 'counterSamples', label: 'Counter samples' },
  { key: 'drops', label: 'Sample drops' },
  { key: 'dataSources', label: 'Data sources' },
  { key: 'lastSeen', label: 'Last seen' },
];

interface Health {
  samplingRates: number[];
  samplingRateMismatches: number;
}

function rowOf(agent: string, a: AgentInfo, prev: Map<string, { t: number; n: number }>, now: number, health: Health | undefined, commonRate: number | null): Row {
  const n = (k: string) => num(a[k]) ?? 0;
  const datagrams = n('sFlowDatagramsReceived');
  const p = prev.get(agent);
  const rate = p && now > p.t ? ((datagrams - p.n) * 1000) / (now - p.t) : null;
  const lost = n('sFlowDatagramsLost') + n('sFlowFlowLostSamples') + n('sFlowCounterLostSamples');
  const outOfOrder = n('sFlowDatagramsOutOfOrder') + n('sFlowFlowOutOfOrderSamples') + n('sFlowCounterOutOfOrderSamples');
  const duplicates = n('sFlowDatagramsDuplicates') + n('sFlowFlowDuplicateSamples') + n('sFlowCounterDuplicateSamples');
  const lastSeen = n('sFlowDatagramsReceived') > 0 ? n('lastSeen') : Infinity;
  // Mismatch: a data source's effective rate strays from its declared one, or the agent samples
  // at a rate other than the one most agents use.
  const samplingMismatch = !!health && (health.samplingRateMismatches > 0 || (commonRate !== null && health.samplingRates.some((r) => r !== commonRate)));
  const badges: Row['badges'] = [];
  if (lastSeen > STALE_MS) badges.push({ cls: 'bad', text: 'stale' });
  if (lost > 0) badges.push({ cls: 'warn', text: 'sequence gaps' });
  if (outOfOrder + duplicates > 0) badges.push({ cls: 'warn', text: 'reordered' });
  if (samplingMismatch) badges.push({ cls: 'warn', text: 'sampling-rate mismatch' });
  if (n('sFlowAgentRestarts') > 0) badges.push({ cls: 'warn', text: 'restarted' });
  if (badges.length === 0) badges.push({ cls: 'ok', text: 'healthy' });
  return {
    agent,
    datagrams,
    rate,
    lost,
    outOfOrder,
    duplicates,
    flowSamples: n('sFlowFlowSamples'),
    counterSamples: n('sFlowCounterSamples'),
    drops: n('sFlowFlowDrops'),
    dataSources: n('sFlowFlowDatasources') + n('sFlowCounterDatasources'),
    lastSeen,
    restarts: n('sFlowAgentRestarts'),
    samplingMismatch,
    badges,
  };
}

/** Compare agent addresses numerically where they are IPv4. */
function compareAddr(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

class StatusPage extends LitElement {
  static override properties = { tab: { state: true }, analyzer: { state: true }, rows: { state: true }, apps: { state: true }, error: { state: true }, search: { state: true }, sortKey: { state: true }, sortDir: { state: true } };
  tab: 'status' | 'apps' = location.hash === '#apps' ? 'apps' : 'status';
  analyzer: Analyzer | null = null;
  rows: Row[] = [];
  apps: Record<string, AppInfo> | null = null;
  error = '';
  search = '';
  sortKey: keyof Row = 'agent';
  sortDir: 1 | -1 = 1;
  private prevAnalyzer: { t: number; a: Analyzer } | null = null;
  private rates: Record<string, number | null> = {};
  private prevAgents = new Map<string, { t: number; n: number }>();
  private poller: Poller | null = null;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('hashchange', this.onHash);
    this.poller = poll(() => this.refresh(), REFRESH_MS);
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.onHash);
    this.poller?.stop();
  }
  private onHash = () => {
    this.tab = location.hash === '#apps' ? 'apps' : 'status';
  };

  private async refresh(): Promise<void> {
    try {
      const [a, agents, apps, health] = await Promise.all([
        getJson<Analyzer>('/analyzer/json'),
        getJson<Record<string, AgentInfo>>('/agents/json'),
        getJson<Record<string, AppInfo>>('/apps/json'),
        getJson<Record<string, Health>>('/app/status/health/json').catch(() => ({}) as Record<string, Health>),
      ]);
      const votes = new Map<number, number>();
      for (const h of Object.values(health)) for (const r of h.samplingRates) votes.set(r, (votes.get(r) ?? 0) + 1);
      let commonRate: number | null = null;
      for (const [r, v] of votes) if (commonRate === null || v > votes.get(commonRate)!) commonRate = r;
      const now = Date.now();
      const p = this.prevAnalyzer;
      const rate = (k: string): number | null => {
        const cur = num(a[k]);
        const old = p ? num(p.a[k]) : null;
        if (cur !== null && old !== null && p && now > p.t) return Math.max(0, ((cur - old) * 1000) / (now - p.t));
        // First poll: the average since the collector started.
        const up = num(a.uptime);
        return cur !== null && up !== null && up > 0 ? (cur * 1000) / up : null;
      };
      this.rates = {
        datagrams: rate('sFlowDatagramsReceived'),
        bytes: rate('sFlowBytesReceived'),
        samples: ['sFlowFlowSamples', 'sFlowCounterSamples', 'sFlowDiscardSamples'].map(rate).reduce<number | null>((s, v) => (s === null || v === null ? null : s + v), 0),
        parseErrors: rate('sFlowParseErrors'),
        discarded: rate('sFlowDatagramsDiscarded'),
        events: rate('eventsGenerated'),
        flows: rate('flowsGenerated'),
      };
      this.prevAnalyzer = { t: now, a };
      const rows: Row[] = [];
      const next = new Map<string, { t: number; n: number }>();
      for (const agent of Object.keys(agents)) {
        const r = rowOf(agent, agents[agent]!, this.prevAgents, now, Object.hasOwn(health, agent) ? health[agent] : undefined, commonRate);
        rows.push(r);
        next.set(agent, { t: now, n: r.datagrams });
      }
      this.prevAgents = next;
      this.rows = rows;
      this.analyzer = a;
      this.apps = apps;
      this.error = '';
    } catch (e) {
      this.error = `Cannot reach the server: ${e instanceof Error ? e.message : String(e)}`;
      throw e;
    }
  }

  private setTab(t: 'status' | 'apps'): void {
    history.replaceState(null, '', `#${t}`);
    this.tab = t;
  }

  private sortBy(k: keyof Row): void {
    if (this.sortKey === k) this.sortDir = this.sortDir === 1 ? -1 : 1;
    else {
      this.sortKey = k;
      this.sortDir = k === 'agent' ? 1 : -1;
    }
  }

  private card(label: string, value: string, sub: string | typeof nothing = nothing, cls = '') {
    return html`<div class="card ${cls}" role="group" aria-label=${label}>
      <div class="label">${label}</div>
      <div class="value">${value}</div>
      ${sub === nothing ? nothing : html`<div class="sub">${sub}</div>`}
    </div>`;
  }

  private renderStatus() {
    const a = this.analyzer;
    if (!a) return html`<p class="muted">Loading…</p>`;
    const r = this.rates;
    const n = (k: string) => num(a[k]);
    const heapPct = n('heapUsed') !== null && n('heapMax') ? (100 * n('heapUsed')!) / n('heapMax')! : null;
    const lag = n('eventLoopLagP99Ms');
    const parseErrors = n('sFlowParseErrors') ?? 0;
    const discards = n('sFlowDatagramsDiscarded') ?? 0;
    const q = this.search.trim().toLowerCase();
    const rows = this.rows
      .filter((x) => q === '' || x.agent.toLowerCase().includes(q) || x.badges.some((b) => b.text.includes(q)))
      .sort((x, y) => {
        const k = this.sortKey;
        const c = k === 'agent' ? compareAddr(x.agent, y.agent) : ((x[k] as number) ?? -1) - ((y[k] as number) ?? -1);
        return c * this.sortDir || compareAddr(x.agent, y.agent);
      });
    const unhealthy = this.rows.filter((x) => x.badges[0]!.cls !== 'ok').length;
    return html`
      <section aria-labelledby="h-health">
        <h2 id="h-health">Collector</h2>
        <div class="cards">
          ${this.card('sFlow agents', si(n('sFlowAgents')), `${unhealthy} need attention`, unhealthy > 0 ? 'warn' : '')}
          ${this.card('Datagrams/s', si(r.datagrams), `${si(n('sFlowDatagramsReceived'))} total`)}
          ${this.card('Bits/s', si(r.bytes === null || r.bytes === undefined ? null : r.bytes * 8), `${bytes(n('sFlowBytesReceived'))} received`)}
          ${this.card('Samples/s', si(r.samples), `${si(n('sFlowFlowSamples'))} flow · ${si(n('sFlowCounterSamples'))} counter`)}
          ${this.card('Parse errors', si(parseErrors), r.parseErrors ? `${si(r.parseErrors)}/s` : 'none recently', parseErrors > 0 ? 'warn' : '')}
          ${this.card('Discarded datagrams', si(discards), `kernel drops ${si(n('sFlowKernelDrops'))}`, discards > 0 ? 'warn' : '')}
          ${this.card('Active flows', n('flowKeys') !== null ? si(n('flowKeys')) : '—', `${si(n('flowSpecs'))} specs · ${si(n('flowsGenerated'))} logged`)}
          ${this.card('Reverse DNS', n('dnsEntries') !== null ? `${si(n('dnsEntries'))} names` : 'off', n('dnsEntries') !== null ? `${si(n('dnsHits'))} hits · ${si(n('dnsMisses'))} misses · ${si(n('dnsTimeouts'))} timeouts` : nothing, (n('dnsTimeouts') ?? 0) > 0 ? 'warn' : '')}
          ${this.card('Kubernetes', n('k8sConnected') === null ? 'off' : n('k8sConnected') === 1 ? 'connected' : 'not connected', n('k8sConnected') === null ? nothing : `${si(n('k8sObjects'))} objects · ${si(n('k8sAddresses'))} addresses`, n('k8sConnected') === 0 ? 'warn' : '')}
          ${this.card('Events', si(n('eventsGenerated')), r.events ? `${si(r.events)}/s` : nothing)}
          ${this.card('Memory', heapPct === null ? '—' : `${heapPct.toFixed(1)}%`, `heap ${bytes(n('heapUsed'))} · rss ${bytes(n('rssBytes'))}`, heapPct !== null && heapPct > 90 ? 'bad' : '')}
          ${this.card('Event-loop lag p99', lag === null ? '—' : `${lag.toFixed(1)} ms`, n('eventLoopLagMaxMs') !== null ? `max ${n('eventLoopLagMaxMs')!.toFixed(1)} ms (last 10 s)` : nothing, lag !== null && lag > 100 ? 'warn' : '')}
          ${this.card('CPU (process)', n('cpuLoadProcess') === null ? '—' : `${(100 * n('cpuLoadProcess')!).toFixed(1)}%`, `${n('availableProcessors') ?? '?'} processors`)}
          ${this.card('Uptime', duration(n('uptime')), `version ${String(a.version ?? '?')}`)}
        </div>
      </section>
      <section aria-labelledby="h-agents">
        <h2 id="h-agents">Agents <span class="muted">(${rows.length} of ${this.rows.length})</span></h2>
        <div class="toolbar">
          <label>Search agents<input type="search" class="wide" placeholder="address or badge (e.g. stale)" .value=${this.search} @input=${(e: Event) => (this.search = (e.target as HTMLInputElement).value)} /></label>
        </div>
        <div class="panel scroll">
          <table class="data" aria-label="sFlow agents">
            <thead>
              <tr>
                ${COLUMNS.slice(0, 1).map(
                  (c) => html`<th scope="col" class="text" aria-sort=${this.sortKey === c.key ? (this.sortDir === 1 ? 'ascending' : 'descending') : 'none'}>
                    <button type="button" @click=${() => this.sortBy(c.key)}>${c.label}${this.sortKey === c.key ? (this.sortDir === 1 ? ' ▲' : ' ▼') : ''}</button>
                  </th>`,
                )}
                <th scope="col" class="text">Health</th>
                ${COLUMNS.slice(1).map(
                  (c) => html`<th scope="col" class=${c.text ? 'text' : ''} aria-sort=${this.sortKey === c.key ? (this.sortDir === 1 ? 'ascending' : 'descending') : 'none'}>
                    <button type="button" @click=${() => this.sortBy(c.key)}>${c.label}${this.sortKey === c.key ? (this.sortDir === 1 ? ' ▲' : ' ▼') : ''}</button>
                  </th>`,
                )}
              </tr>
            </thead>
            <tbody>
              ${rows.map(
                (x) => html`<tr>
                  <td class="text">${x.agent}</td>
                  <td class="text">${x.badges.map((b) => html`<span class="badge ${b.cls}">${b.text}</span>`)}</td>
                  <td>${si(x.rate)}</td>
                  <td>${si(x.datagrams)}</td>
                  <td>${si(x.lost)}</td>
                  <td>${si(x.outOfOrder)}</td>
                  <td>${si(x.duplicates)}</td>
                  <td>${si(x.flowSamples)}</td>
                  <td>${si(x.counterSamples)}</td>
                  <td>${si(x.drops)}</td>
                  <td>${x.dataSources}</td>
                  <td>${Number.isFinite(x.lastSeen) ? duration(x.lastSeen) : 'never'}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          ${rows.length === 0 ? html`<p class="muted">${this.rows.length === 0 ? 'No sFlow agents yet: point agents at UDP port 6343.' : 'No agent matches.'}</p>` : nothing}
        </div>
      </section>
    `;
  }

  private renderApps() {
    const apps = this.apps;
    if (!apps) return html`<p class="muted">Loading…</p>`;
    const names = Object.keys(apps).sort();
    return html`<h2 id="h-apps">Installed applications</h2>
      ${names.length === 0
        ? html`<p>No applications installed</p>`
        : html`<div class="tiles" role="list" aria-labelledby="h-apps">
            ${names.map((k) => {
              const a = apps[k]!;
              const ok = a.status === 'OK';
              return html`<a role="listitem" class="tile ${ok ? 'ok' : 'degraded'}" href=${a.entry} aria-label=${`${a.title}: ${ok ? 'healthy' : 'degraded'}`}>
                <h3>${a.title}</h3>
                <span class="badge ${ok ? 'ok' : 'warn'}">${ok ? 'OK' : 'degraded'}</span>
                <p class="muted">${a.detail}</p>
              </a>`;
            })}
          </div>`}`;
  }

  override render() {
    return html`<ss-nav active=${this.tab}></ss-nav>
      <main id="main">
        <h1>${this.tab === 'apps' ? 'Apps' : 'Status'}</h1>
        <div class="tabs" role="tablist" aria-label="Status sections">
          <button role="tab" type="button" aria-selected=${this.tab === 'status'} @click=${() => this.setTab('status')}>Status</button>
          <button role="tab" type="button" aria-selected=${this.tab === 'apps'} @click=${() => this.setTab('apps')}>Apps</button>
        </div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <div role="tabpanel">${this.tab === 'apps' ? this.renderApps() : this.renderStatus()}</div>
      </main>`;
  }
}
customElements.define('ss-status-page', StatusPage);
document.body.append(document.createElement('ss-status-page'));
