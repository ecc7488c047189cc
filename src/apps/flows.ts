// What the flow-based apps (Protocols/DNS sunbursts, Flow and Discard Browsers) need from a flow
// engine: the sFlow-RT script API subset `setFlow`, `clearFlow`, `activeFlows`, `flowKeys`.
// The flow engine (src/engine/flows) provides it; without one the apps answer empty results.

export interface AppFlowSpec {
  keys: string;
  value: string;
  filter: string;
  /** Smoothing time constant, seconds. */
  t: number;
  /** Top-N kept per data source. */
  n: number;
  /** Key field separator. */
  fs: string;
  dropped?: boolean;
}

export interface TopFlowsSource {
  /** Define (or keep, when identical) a flow; throws on an invalid spec. */
  define(name: string, spec: AppFlowSpec): void;
  clear(name: string): void;
  /** Top flows across agents, largest first. */
  activeFlows(name: string, maxFlows: number, minValue: number, aggMode: 'sum' | 'max'): { key: string; value: number }[];
  /** Flow key names seen recently. */
  flowKeys(): string[];
}
