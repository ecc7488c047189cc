// sFlow-RT's native Prometheus export (`/prometheus/metrics/{agent}/{metric}/txt`), as the real
// sFlow-RT 3.1 writes it (../shared/testdata/sflow-rt/README.md §3, reference §7.1):
//   sflow_<metric>{agent,datasource,host,machine_type,os_name,os_release[,interface labels][,svc_*]} value
// - numeric counter metrics only: strings become labels, flow metrics are not exported;
// - host labels come from the agent's host data source (2.N with host_name; containers use their
//   parent's via host_parent);
// - interfaces add ifindex, ifname, ifspeed ("1G", "10G", "100M"), iftype, ifadminstatus, ifoperstatus;
// - containers add svc_type="k8s", svc_name (k8s_container, or the pod's workload name for hsflowd's
//   k8s module, which has no container part), svc_namespace; or svc_type="vm";
// - the k8s pause container (`POD`) is left out;
// - values: integer gauges as integers (`0`), rates and other doubles as Java doubles (`0.0`).
// Lines are grouped by metric name (sorted); within a metric, by agent then data source.

import { FieldKind, describeConverters } from '../metrics/converters.js';
import type { AgentSelector, Filter, MetricQuery } from '../query.js';
import { PrometheusTextWriter, formatLabels, sanitizeMetricName } from './text.js';

/** Metric names stored as integer gauges (sFlow-RT prints them without `.0`). */
const INTEGER_GAUGES: ReadonlySet<string> = (() => {
  const s = new Set<string>();
  const other = new Set<string>();
  for (const c of describeConverters()) {
    for (const f of c.fields) {
      if (f.hidden) continue;
      if (f.kind === FieldKind.Gauge) s.add(f.name);
      else other.add(f.name);
    }
  }
  for (const n of other) s.delete(n);
  // As sFlow-RT 3.1 prints them (recorded answers): byte counts derived from gauges are integers,
  // ip_reasmtimeout (a gauge in the MIB) is a double.
  for (const n of ['mem_used', 'vir_mem_free', 'vir_mem_used', 'nvml_mem_used', 'vir_nvml_mem_used']) s.add(n);
  // float32 gauges are doubles there (`0.0`).
  for (const n of ['ip_reasmtimeout', 'load_one', 'load_five', 'load_fifteen']) {
    s.delete(n);
    s.delete(`vir_${n}`);
  }
  return s;
})();

export function isIntegerGauge(name: string): boolean {
  return INTEGER_GAUGES.has(name);
}

/** `ifspeed` the way sFlow-RT labels it: 0, 100M, 1G, 10G, 25G, 100G (else bits/s as digits). */
export function formatIfSpeed(bps: number): string {
  if (!Number.isFinite(bps) || bps <= 0) return '0';
  for (const [div, unit] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ] as const) {
    if (bps >= div && bps % div === 0) return `${bps / div}${unit}`;
  }
  return String(bps);
}

export interface NativeExportOptions {
  /** Metric name prefix. Default `sflow_`. */
  prefix?: string;
}

/** Metric names selected by the `{metric}` path segment: null = ALL. */
export interface NativeMetricSelection {
  names: ReadonlySet<string> | null;
  /** Restrict to one data source per name (`2.1.load_one`), or none. */
  dsByName?: ReadonlyMap<string, ReadonlySet<string>>;
}

type Labels = [string, string][];

/**
 * Write the selected agents' metrics into `w`, as steps: one per agent, then one per metric
 * name. Drive it with runSliced (src/engine/sliced.ts): a cluster of a few hundred nodes is
 * ~100,000 series, and writing them in one go would stall the engine (and the UDP ring drain)
 * for longer than the ring lasts under load. Every value is read at the same engine time `now`;
 * datagrams that arrive between slices update later rows of the answer.
 */
export function* nativeMetricSteps(
  w: PrometheusTextWriter,
  query: MetricQuery,
  sel: AgentSelector,
  metrics: NativeMetricSelection,
  filter: Filter,
  now: number,
  opts: NativeExportOptions,
): Generator<void, void, void> {
  const prefix = opts.prefix ?? 'sflow_';
  // name -> lines (labels, value) in agent/ds order; written grouped by name.
  const byName = new Map<string, { labels: string; value: number }[]>();
  const str = (agent: string, ds: string, name: string): string | undefined => {
    const e = query.get(agent, ds, name, now);
    return e === undefined ? undefined : typeof e.value === 'string' ? e.value : String(e.value);
  };
  for (const a of query.selectAgents(sel, now)) {
    yield;
    const agent = a.address;
    const dss = query.dataSources(agent, now);
    // The agent's host data source: 2.1 first, else the first 2.N with a host_name.
    let hostDs: string | undefined;
    for (const ds of dss) {
      if (!ds.startsWith('2.')) continue;
      if (str(agent, ds, 'host_name') === undefined && str(agent, ds, 'machine_type') === undefined) continue;
      if (hostDs === undefined || ds === '2.1') hostDs = ds;
    }
    const hostLabels = (ds: string | undefined): Labels => {
      const out: Labels = [];
      if (ds === undefined) return out;
      const h = str(agent, ds, 'host_name');
      if (h !== undefined) out.push(['host', h]);
      for (const k of ['machine_type', 'os_name', 'os_release']) {
        const v = str(agent, ds, k);
        if (v !== undefined) out.push([k, v]);
      }
      return out;
    };
    const agentHost = hostLabels(hostDs);
    for (const ds of dss) {
      if (!filter.empty && !query.matches(agent, ds, filter, now)) continue;
      const virtual = ds.startsWith('3.');
      let labels: Labels;
      if (virtual) {
        const container = str(agent, ds, 'k8s_container');
        if (container === 'POD') continue;
        const parent = str(agent, ds, 'host_parent');
        labels = [['agent', agent], ['datasource', ds], ...(parent !== undefined && parent !== ds ? hostLabels(parent) : agentHost)];
        const ns = str(agent, ds, 'k8s_namespace');
        if (ns !== undefined) {
          labels.push(['svc_type', 'k8s']);
          const svc = container ?? str(agent, ds, 'k8s_name');
          if (svc !== undefined) labels.push(['svc_name', svc]);
          labels.push(['svc_namespace', ns]);
        } else labels.push(['svc_type', 'vm']);
      } else if (ds.startsWith('2.')) {
        labels = [['agent', agent], ['datasource', ds], ...hostLabels(ds)];
      } else {
        labels = [['agent', agent], ['datasource', ds], ...agentHost];
        const ifindex = str(agent, ds, 'ifindex');
        if (ifindex !== undefined) labels.push(['ifindex', ifindex]);
        const ifname = str(agent, ds, 'ifname');
        if (ifname !== undefined) labels.push(['ifname', ifname]);
        const sp = query.get(agent, ds, 'ifspeed', now);
        if (sp !== undefined && typeof sp.value === 'number') labels.push(['ifspeed', formatIfSpeed(sp.value)]);
        for (const k of ['iftype', 'ifadminstatus', 'ifoperstatus']) {
          const v = str(agent, ds, k);
          if (v !== undefined) labels.push([k, v]);
        }
      }
      const body = formatLabels(labels);
      const visit = (name: string, value: number) => {
        let list = byName.get(name);
        if (list === undefined) byName.set(name, (list = []));
        list.push({ labels: body, value });
      };
      if (metrics.names === null) {
        query.forEachMetric(agent, ds, now, (name, e) => {
          if (typeof e.value === 'number' && e.topKeys === undefined) visit(name, e.value);
        });
      } else {
        for (const name of metrics.names) {
          const only = metrics.dsByName?.get(name);
          if (only !== undefined && !only.has(ds)) continue;
          const e = query.get(agent, ds, name, now);
          if (e !== undefined && typeof e.value === 'number' && e.topKeys === undefined) visit(name, e.value);
        }
      }
    }
  }
  for (const name of [...byName.keys()].sort()) {
    yield;
    const help = INTEGER_GAUGES.has(name)
      ? `sFlow metric ${name}: a gauge as the agent reported it. See docs/metrics.md.`
      : `sFlow metric ${name}: a per-second rate or a value derived from counters (already a rate: do not apply rate()). See docs/metrics.md.`;
    const full = w.family(sanitizeMetricName(prefix + name), 'gauge', help);
    const integer = INTEGER_GAUGES.has(name);
    for (const s of byName.get(name)!) w.addFormatted(full, s.labels, s.value, integer);
  }
}
