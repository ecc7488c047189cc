// Prometheus text exposition format (version 0.0.4) writer, shared by every /prometheus... and
// /app/prometheus... endpoint. What it guarantees, whatever the input:
//   - metric and label names are sanitised to [a-zA-Z_:][a-zA-Z0-9_:]* ([a-zA-Z_][a-zA-Z0-9_]* for labels);
//   - label values are escaped (\ " and newline), and invalid UTF-16 is replaced;
//   - the samples of one metric family are written together, after its optional HELP/TYPE lines;
//   - a series (name + label set) appears once: later duplicates are dropped and counted;
//   - at most `maxSeries` series per scrape: the rest are dropped and counted.
// Values are written the way sFlow-RT writes them (Java Double.toString for doubles, plain
// integers for integer gauges) — both are valid Prometheus floats.

/** Characters allowed in a metric name (the colon is reserved for recording rules, but valid). */
const METRIC_BAD = /[^a-zA-Z0-9_:]/g;
const LABEL_BAD = /[^a-zA-Z0-9_]/g;

/** `sflow_` + name with every character outside [a-zA-Z0-9_:] replaced by `_`; a leading digit gets a `_` prefix. */
export function sanitizeMetricName(name: string): string {
  let s = name.replace(METRIC_BAD, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

/** A label name: [a-zA-Z_][a-zA-Z0-9_]*, and never starting with the reserved `__` (sFlow-RT's `null:[country:ipsource]:unknown` becomes `null__country_ipsource__unknown`). */
export function sanitizeLabelName(name: string): string {
  let s = name.replace(LABEL_BAD, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `_${s}`;
  if (s.startsWith('__')) s = `x${s}`;
  return s;
}

/** Escape a label value: backslash, double quote and line feed (the exposition format's rules). */
export function escapeLabelValue(v: string): string {
  // toWellFormed: a lone surrogate would make the body invalid UTF-8.
  const w = typeof (v as { toWellFormed?: () => string }).toWellFormed === 'function' ? (v as unknown as { toWellFormed(): string }).toWellFormed() : v;
  return w.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** Escape HELP text: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** Java's Double.toString: `0.0`, `1.76`, `2.5148438E7`, `1.28E-4`, `NaN`, `Infinity`. */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(x);
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  }
  const [m, e] = x.toExponential().split('e') as [string, string];
  const mant = m.includes('.') ? m : `${m}.0`;
  return `${mant}E${Number(e)}`;
}

/** A Prometheus sample value: integers (integral, |x| < 2^53) plainly when `integer`, else as a Java double. */
export function formatValue(x: number, integer: boolean): string {
  if (integer && Number.isSafeInteger(x)) return String(x);
  return javaDouble(x);
}

export type MetricType = 'gauge' | 'counter' | 'untyped';

export interface TextWriterOptions {
  /** Most series written; the rest are dropped and counted. Default unlimited. */
  maxSeries?: number;
  /**
   * Write `# HELP` and `# TYPE` lines before each family. Default true (what `promtool check
   * metrics` asks for); false writes sample lines only, exactly as sFlow-RT does.
   */
  comments?: boolean;
}

interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  /** Label bodies written (`{...}` or ''), for duplicate detection; their values, in order. */
  seen: Set<string>;
  bodies: string[];
  values: string[];
}

function newFamily(name: string, type: MetricType, help: string | null): Family {
  return { name, type, help, seen: new Set(), bodies: [], values: [] };
}

/**
 * Collects samples, then renders them family by family (in first-seen order). Label order is
 * kept as given; duplicates are detected on the rendered series text.
 */
export class PrometheusTextWriter {
  private readonly families = new Map<string, Family>();
  private readonly maxSeries: number;
  private readonly comments: boolean;
  series = 0;
  /** Series dropped because the cap was reached. */
  droppedOverCap = 0;
  /** Series dropped because the same name and labels were written before. */
  droppedDuplicates = 0;

  constructor(opts: TextWriterOptions = {}) {
    this.maxSeries = opts.maxSeries ?? Infinity;
    this.comments = opts.comments ?? true;
  }

  /** Declare a family's type/help (optional; a family seen first in `add` is a gauge). */
  family(rawName: string, type: MetricType, help: string | null = null): string {
    const name = sanitizeMetricName(rawName);
    const f = this.families.get(name);
    if (f === undefined) this.families.set(name, newFamily(name, type, help));
    else {
      f.type = type;
      if (help !== null) f.help = help;
    }
    return name;
  }

  /**
   * Add one sample. `labels` as [name, value] pairs (names sanitised here; a repeated label name
   * keeps its first value; empty values are left out, as Prometheus treats them as absent).
   * Returns false when the sample was dropped (duplicate or over the cap).
   */
  add(rawName: string, labels: readonly (readonly [string, string])[], value: number, integer = false): boolean {
    return this.addFormatted(sanitizeMetricName(rawName), formatLabels(labels), value, integer);
  }

  /**
   * Add one sample whose name is already sanitised and whose label set comes from formatLabels
   * (callers writing many metrics with the same labels format them once).
   */
  addFormatted(name: string, labelBody: string, value: number, integer = false): boolean {
    let f = this.families.get(name);
    if (f === undefined) {
      f = newFamily(name, 'gauge', null);
      this.families.set(name, f);
    }
    // Label bodies are usually one string shared by every metric of a data source: its hash is computed once.
    if (f.seen.has(labelBody)) {
      this.droppedDuplicates++;
      return false;
    }
    if (this.series >= this.maxSeries) {
      this.droppedOverCap++;
      return false;
    }
    f.seen.add(labelBody);
    this.series++;
    f.bodies.push(labelBody);
    f.values.push(formatValue(value, integer));
    return true;
  }

  /** Whether the cap has been reached (callers may stop producing). */
  get full(): boolean {
    return this.series >= this.maxSeries;
  }

  /** The exposition text (every line ends with `\n`; empty string when there is nothing). */
  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      if (f.bodies.length === 0) continue;
      if (this.comments) {
        out.push(`# HELP ${f.name} ${escapeHelp(f.help ?? f.name)}`);
        out.push(`# TYPE ${f.name} ${f.type}`);
      }
      for (let i = 0; i < f.bodies.length; i++) out.push(`${f.name}${f.bodies[i]} ${f.values[i]}`);
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}

const labelNameCache = new Map<string, string>();

/**
 * `{name="value",...}` for a label set ('' when empty): names sanitised, values escaped; a repeated
 * label name keeps its first value; empty values are left out (Prometheus treats them as absent).
 */
export function formatLabels(labels: readonly (readonly [string, string])[]): string {
  if (labels.length === 0) return '';
  const names: string[] = [];
  let body = '';
  for (const [ln, lv] of labels) {
    if (lv === '') continue;
    let n = labelNameCache.get(ln);
    if (n === undefined) {
      n = sanitizeLabelName(ln);
      if (labelNameCache.size < 10_000) labelNameCache.set(ln, n);
    }
    if (names.includes(n)) continue;
    names.push(n);
    body += `${body === '' ? '' : ','}${n}="${escapeLabelValue(lv)}"`;
  }
  return body === '' ? '' : `{${body}}`;
}

/** Content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
