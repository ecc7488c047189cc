// The flow export of sFlow-RT's Prometheus app (`/app/prometheus/scripts/export.js/flows/{agents}/txt`,
// reference §7.2): each distinct (keys, value, filter, n, t, dropped) asked for creates a flow
// `prometheus_<N>` on the first scrape; a flow not scraped for `idleMs` (5 minutes) is removed.
// The flow engine is reached through FlowExportSource, so this file does not depend on it.

/** The flow spec the exporter defines (sFlow-RT flow attributes, §3.1). */
export interface FlowExportSpec {
  keys: string;
  value: string;
  filter?: string;
  n: number;
  t: number;
  dropped: boolean;
  /** Key separator: `_SEP_` (keys may themselves hold commas). */
  fs: string;
}

export interface ActiveFlow {
  key: string;
  value: number;
}

export interface ActiveFlowOptions {
  maxFlows: number;
  minValue: number;
  /** How a key seen on several data sources is merged: `max` (sFlow-RT's default) or `sum`. */
  aggMode: 'max' | 'sum';
}

/** What the exporter needs from a flow engine. */
export interface FlowExportSource {
  /** Define (or redefine identically) a flow owned by the exporter. Throws on an invalid spec. */
  ensureFlow(name: string, spec: FlowExportSpec): void;
  removeFlow(name: string): void;
  /** Active flows of `name` on the agents selected (`ALL` or a list), largest first. */
  activeFlows(agents: string, name: string, opts: ActiveFlowOptions): ActiveFlow[];
}

export const FLOW_EXPORT_SEPARATOR = '_SEP_';
export const FLOW_EXPORT_IDLE_MS = 5 * 60_000;

interface Owned {
  name: string;
  lastScrape: number;
}

/** Creates, tracks and expires the exporter's flows. Time comes from the caller (engine clock). */
export class FlowExportManager {
  private readonly bySignature = new Map<string, Owned>();
  private seq = 0;
  created = 0;
  removed = 0;

  constructor(
    readonly source: FlowExportSource,
    private readonly idleMs: number = FLOW_EXPORT_IDLE_MS,
    private readonly maxFlows: number = 1000,
  ) {}

  /** The flow for this spec, created on first use. Throws when the spec is refused or too many flows exist. */
  flowFor(spec: FlowExportSpec, now: number): string {
    this.sweep(now);
    const sig = JSON.stringify([spec.keys, spec.value, spec.filter ?? '', spec.n, spec.t, spec.dropped]);
    let o = this.bySignature.get(sig);
    if (o === undefined) {
      if (this.bySignature.size >= this.maxFlows) throw new FlowExportLimitError(`too many exported flows (${this.maxFlows})`);
      const name = `prometheus_${this.seq++}`;
      this.source.ensureFlow(name, spec);
      o = { name, lastScrape: now };
      this.bySignature.set(sig, o);
      this.created++;
    }
    o.lastScrape = now;
    return o.name;
  }

  /** Remove flows not scraped for idleMs. */
  sweep(now: number): void {
    for (const [sig, o] of this.bySignature) {
      if (now - o.lastScrape >= this.idleMs) {
        this.bySignature.delete(sig);
        this.source.removeFlow(o.name);
        this.removed++;
      }
    }
  }

  /** Names of the flows currently owned. */
  names(): string[] {
    return [...this.bySignature.values()].map((o) => o.name);
  }

  /** Remove every owned flow. */
  clear(): void {
    for (const o of this.bySignature.values()) this.source.removeFlow(o.name);
    this.bySignature.clear();
  }
}

export class FlowExportLimitError extends Error {
  override readonly name = 'FlowExportLimitError';
}
