// Flow values (../shared/reference/sflow-rt.md §3.2): what a sample adds to its flow key.
//
//   bytes              frame length × sampling rate      (discards: × 1)
//   frames             sampling rate                     (discards: 1 per event)
//   requests           sampling rate, for samples that are requests (sample.ts isRequest)
//   duration           transaction duration in µs × sampling rate (HTTP/application samples)
//   <numeric key>      the attribute's number × sampling rate (ipbytes, udpbytes, tcppayloadbytes...)
//   rate:<key>         the same as <key> (a per-second rate, like every summed value)
//   avg:<key>          average of the attribute per sampled packet (weighted by sampling rate)
//   min:<key>, max:<key>  smallest / largest value seen in the last t seconds
//   count:<key>        number of distinct values of the attribute seen recently
//                      (each distinct value weighs exp(-age/t))
//
// A sample whose spec value is missing (no such attribute, not a number) is not counted for that
// spec; a missing extra value (`values`) counts as 0.

import { attribute, compileKey, type KeyDeps } from './keys.js';
import type { Reader, SampleView } from './sample.js';
import { isRequest } from './sample.js';
import { FlowSpecError, parseKeyExpr } from './syntax.js';

export type ValueKind = 'sum' | 'avg' | 'min' | 'max' | 'count';

export interface CompiledValue {
  /** The value text as given. */
  readonly source: string;
  readonly kind: ValueKind;
  /** The number a sample contributes, already scaled; NaN when the sample has none. */
  readonly read: (s: SampleView) => number;
  /** count: the attribute whose distinct values are counted. */
  readonly distinct: Reader | null;
}

function numeric(r: Reader): (s: SampleView) => number {
  return (s) => {
    const v = r(s);
    if (v === undefined || v === '') return NaN;
    return +v;
  };
}

/** Compile one value spec. */
export function compileValue(text: unknown, deps: KeyDeps, what: string): CompiledValue {
  if (typeof text !== 'string') throw new FlowSpecError(`${what}: expected a string such as "bytes" or "frames"`);
  const source = text.trim();
  if (source === '') throw new FlowSpecError(`${what}: empty value`);
  const colon = source.indexOf(':');
  const prefix = colon > 0 ? source.slice(0, colon) : '';
  if (prefix === 'rate' || prefix === 'avg' || prefix === 'min' || prefix === 'max' || prefix === 'count') {
    const inner = source.slice(colon + 1);
    if (inner.trim() === '') throw new FlowSpecError(`${what}: missing attribute after ${JSON.stringify(prefix + ':')}`);
    if (prefix === 'count') {
      const r = compileKey(parseKeyExpr(inner, what), deps, what);
      return { source, kind: 'count', read: () => 1, distinct: r };
    }
    const base = baseValue(inner, deps, what);
    if (prefix === 'rate') return { source, kind: 'sum', read: base.scaled, distinct: null };
    return { source, kind: prefix, read: base.raw, distinct: null };
  }
  const base = baseValue(source, deps, what);
  return { source, kind: 'sum', read: base.scaled, distinct: null };
}

/** A numeric attribute: raw (per sampled packet) and scaled by the sampling rate. */
function baseValue(name: string, deps: KeyDeps, what: string): { raw: (s: SampleView) => number; scaled: (s: SampleView) => number } {
  switch (name.trim()) {
    case 'bytes':
      return {
        raw: (s) => {
          const n = s.frameLength();
          return n >= 0 ? n : NaN;
        },
        scaled: (s) => {
          const n = s.frameLength();
          return n >= 0 ? n * s.scale : NaN;
        },
      };
    case 'frames':
      return { raw: () => 1, scaled: (s) => s.scale };
    case 'requests':
      return { raw: (s) => (isRequest(s) ? 1 : NaN), scaled: (s) => (isRequest(s) ? s.scale : NaN) };
    case 'duration':
      return {
        raw: (s) => {
          const d = s.durationUs();
          return d >= 0 ? d : NaN;
        },
        scaled: (s) => {
          const d = s.durationUs();
          return d >= 0 ? d * s.scale : NaN;
        },
      };
    default: {
      const ex = parseKeyExpr(name, what);
      const r = ex.kind === 'attr' ? attribute(ex.name, what) : compileKey(ex, deps, what);
      const raw = numeric(r);
      return { raw, scaled: (s) => raw(s) * s.scale };
    }
  }
}

/** Parse `values`: an array of value texts or a comma-separated string. */
export function valueList(values: unknown, what = 'values'): string[] {
  if (values === undefined || values === null) return [];
  let items: string[];
  if (typeof values === 'string') items = values.trim() === '' ? [] : values.split(',').map((v) => v.trim());
  else if (Array.isArray(values)) {
    items = values.map((v, i) => {
      if (typeof v !== 'string') throw new FlowSpecError(`${what}[${i}]: expected a string`);
      return v.trim();
    });
  } else throw new FlowSpecError(`${what}: expected a comma-separated string or an array of strings`);
  if (items.length > 16) throw new FlowSpecError(`${what}: at most 16 values`);
  return items;
}
