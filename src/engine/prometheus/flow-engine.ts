// FlowExportSource over the flow engine (src/engine/flows/engine.ts): the Prometheus flow export's
// flows are owned by `prometheus` (not persisted; the exporter re-creates them on scrape).

import type { FlowEngine } from '../flows/engine.js';
import type { ActiveFlow, ActiveFlowOptions, FlowExportSource, FlowExportSpec } from './flows.js';

export const FLOW_EXPORT_OWNER = 'prometheus';

export function flowEngineExportSource(fe: FlowEngine): FlowExportSource {
  return {
    ensureFlow(name: string, spec: FlowExportSpec): void {
      const body: Record<string, unknown> = { keys: spec.keys, value: spec.value, n: spec.n, t: spec.t, dropped: spec.dropped, fs: spec.fs };
      if (spec.filter !== undefined) body.filter = spec.filter;
      const owner = fe.hasFlow(name) ? fe.flowOwner(name) : FLOW_EXPORT_OWNER;
      if (owner !== FLOW_EXPORT_OWNER) throw new Error(`flow ${name} exists and is not the exporter's`);
      fe.setFlow(name, body, { owner: FLOW_EXPORT_OWNER });
    },
    removeFlow(name: string): void {
      if (fe.flowOwner(name) === FLOW_EXPORT_OWNER) fe.deleteFlow(name);
    },
    activeFlows(agents: string, name: string, opts: ActiveFlowOptions): ActiveFlow[] {
      return fe.activeFlows(agents, name, { maxFlows: opts.maxFlows, minValue: opts.minValue, aggMode: opts.aggMode }).map((f) => ({ key: f.key, value: f.value }));
    },
  };
}
