// Flow specs (../shared/reference/sflow-rt.md §3.1): validation of a PUT body into a normalized
// spec (defaults filled in, echoed by GET /flow/{name}/json as sFlow-RT does), and compilation
// into the closures the engine runs per sample. Any fault is a FlowSpecError whose message names
// the field and, for keys, filters and patterns, the offending text and position.

import { compileSampleFilter, type Predicate } from './filter.js';
import { compileKey, type KeyDeps } from './keys.js';
import type { Reader } from './sample.js';
import { FlowSpecError, parseKeyList } from './syntax.js';
import { compileValue, valueList, type CompiledValue } from './values.js';

export type AggMode = 'max' | 'sum' | 'edge' | 'core' | 'agent';
export const AGG_MODES: readonly AggMode[] = ['max', 'sum', 'edge', 'core', 'agent'];

/** A flow spec as stored and echoed (sFlow-RT field names; defaults filled in). */
export interface FlowSpec {
  keys: string;
  value: string;
  values?: string[];
  filter?: string;
  /** Top keys reported per data source (flow metric `topKeys`). */
  n: number;
  /** Smoothing time constant, seconds. */
  t: number;
  fs: string;
  dropped: boolean;
  log: boolean;
  flowStart: boolean;
  /** Seconds after which a logged flow that is still active is flushed. */
  activeTimeout: number;
  aggMode?: AggMode;
  ipfixCollectors?: string[];
}

export const SPEC_DEFAULTS = { n: 5, t: 2, fs: ',', activeTimeout: 60 } as const;
export const SPEC_LIMITS = { nMin: 1, nMax: 10_000, tMin: 0.1, tMax: 3600, activeTimeoutMin: 1, activeTimeoutMax: 86_400 } as const;

/** Valid flow names: they are metric names too, so no `.` (data source separator) nor `:` (statistic). */
export const FLOW_NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;

export function checkFlowName(name: string): void {
  if (!FLOW_NAME_RE.test(name)) {
    throw new FlowSpecError(`invalid flow name ${JSON.stringify(name.slice(0, 140))}: use 1 to 128 letters, digits, '_' or '-' (flow names are metric names)`);
  }
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new FlowSpecError(`${field}: expected true or false, not ${JSON.stringify(v)}`);
}

function number(v: unknown, field: string, dflt: number, min: number, max: number, integer = false): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new FlowSpecError(`${field}: expected a number, not ${JSON.stringify(v)}`);
  if (integer && !Number.isInteger(n)) throw new FlowSpecError(`${field}: expected an integer, not ${n}`);
  if (n < min || n > max) throw new FlowSpecError(`${field}: ${n} is out of range (${min} to ${max})`);
  return n;
}

function keysText(keys: unknown): string {
  if (keys === undefined || keys === null) return '';
  if (typeof keys === 'string') return keys;
  if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) return keys.join(',');
  throw new FlowSpecError('keys: expected a comma-separated string or an array of strings');
}

/**
 * Validate a PUT body into a FlowSpec (nothing compiled yet). Throws FlowSpecError.
 * Unknown fields are ignored (sFlow-RT ignores them too).
 */
export function normalizeSpec(body: unknown): FlowSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new FlowSpecError('the flow spec must be a JSON object such as {"keys":"ipsource,ipdestination","value":"bytes"}');
  const b = body as Record<string, unknown>;
  if (b.value === undefined || b.value === null || b.value === '') throw new FlowSpecError('value: required (e.g. "bytes", "frames", "requests", "avg:duration")');
  if (typeof b.value !== 'string') throw new FlowSpecError(`value: expected a string, not ${JSON.stringify(b.value)}`);
  const spec: FlowSpec = {
    keys: keysText(b.keys),
    value: b.value.trim(),
    n: number(b.n, 'n', SPEC_DEFAULTS.n, SPEC_LIMITS.nMin, SPEC_LIMITS.nMax, true),
    t: number(b.t, 't', SPEC_DEFAULTS.t, SPEC_LIMITS.tMin, SPEC_LIMITS.tMax),
    fs: SPEC_DEFAULTS.fs,
    dropped: bool(b.dropped, 'dropped'),
    log: bool(b.log, 'log'),
    flowStart: bool(b.flowStart, 'flowStart'),
    activeTimeout: number(b.activeTimeout, 'activeTimeout', SPEC_DEFAULTS.activeTimeout, SPEC_LIMITS.activeTimeoutMin, SPEC_LIMITS.activeTimeoutMax),
  };
  if (b.fs !== undefined && b.fs !== null) {
    if (typeof b.fs !== 'string' || b.fs === '' || b.fs.length > 32) throw new FlowSpecError('fs: expected a non-empty string of at most 32 characters (e.g. "," or "_SEP_")');
    spec.fs = b.fs;
  }
  const values = valueList(b.values);
  if (values.length > 0) spec.values = values;
  if (b.filter !== undefined && b.filter !== null && b.filter !== '') {
    if (typeof b.filter !== 'string') throw new FlowSpecError(`filter: expected a string, not ${JSON.stringify(b.filter)}`);
    spec.filter = b.filter;
  }
  if (b.aggMode !== undefined && b.aggMode !== null && b.aggMode !== '') {
    const m = String(b.aggMode).toLowerCase() as AggMode;
    if (!AGG_MODES.includes(m)) throw new FlowSpecError(`aggMode: expected one of ${AGG_MODES.join(', ')}, not ${JSON.stringify(b.aggMode)}`);
    spec.aggMode = m;
  }
  if (b.ipfixCollectors !== undefined && b.ipfixCollectors !== null) {
    const c = b.ipfixCollectors;
    const list = typeof c === 'string' ? c.split(',').map((x) => x.trim()).filter((x) => x !== '') : Array.isArray(c) ? c.map(String) : null;
    if (list === null) throw new FlowSpecError('ipfixCollectors: expected a list of addresses');
    spec.ipfixCollectors = list;
  }
  return spec;
}

/** The spec as GET /flow/{name}/json shows it (sFlow-RT: false booleans are left out). */
export function echoSpec(s: FlowSpec): Record<string, unknown> {
  const o: Record<string, unknown> = { keys: s.keys, value: s.value };
  if (s.values !== undefined) o.values = s.values;
  if (s.filter !== undefined) o.filter = s.filter;
  o.t = s.t;
  o.n = s.n;
  o.fs = s.fs;
  o.activeTimeout = s.activeTimeout;
  if (s.log) o.log = true;
  if (s.flowStart) o.flowStart = true;
  if (s.dropped) o.dropped = true;
  if (s.aggMode !== undefined) o.aggMode = s.aggMode;
  if (s.ipfixCollectors !== undefined) o.ipfixCollectors = s.ipfixCollectors;
  return o;
}

/** Whether two specs define the same flow (ensureFlow keeps the running one). */
export function sameSpec(a: FlowSpec, b: FlowSpec): boolean {
  return JSON.stringify(echoSpec(a)) === JSON.stringify(echoSpec(b));
}

/** The closures of a spec. */
export interface CompiledSpec {
  readonly spec: FlowSpec;
  /** Key readers, in order (empty: one aggregate flow, key ""). */
  readonly keys: readonly Reader[];
  readonly filter: Predicate | null;
  readonly value: CompiledValue;
  readonly extra: readonly CompiledValue[];
  /** Key names as written (for /activeflows filters over keys). */
  readonly keyNames: readonly string[];
}

/** Compile a normalized spec. Throws FlowSpecError (unknown attribute, bad filter, unsafe pattern...). */
export function compileSpec(spec: FlowSpec, deps: KeyDeps): CompiledSpec {
  const exprs = parseKeyList(spec.keys);
  const keys = exprs.map((e, i) => compileKey(e, deps, exprs.length > 1 ? `keys[${i}] ${JSON.stringify(e.source)}` : `keys ${JSON.stringify(e.source)}`));
  const filter = spec.filter !== undefined ? compileSampleFilter(spec.filter, deps) : null;
  const value = compileValue(spec.value, deps, `value ${JSON.stringify(spec.value)}`);
  const extra = (spec.values ?? []).map((v, i) => compileValue(v, deps, `values[${i}] ${JSON.stringify(v)}`));
  return { spec, keys, filter, value, extra, keyNames: exprs.map((e) => e.source) };
}

/** Validate a spec body completely (normalize + compile) without keeping it. */
export function validateSpec(body: unknown, deps: KeyDeps): FlowSpec {
  const spec = normalizeSpec(body);
  compileSpec(spec, deps);
  return spec;
}
