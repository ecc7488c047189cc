// Our own JSON form of a decoded datagram: stable, lossless, JSON-safe (documented in
// docs/decode-json.md). Unlike the sflowtool form (format-sflowtool.ts), it mirrors the decoder's
// types one to one: field names are the decoder's, numbers stay numbers, and nothing is dissected
// or renamed — so it is what `sflowscope decode` prints and what tests and tools can diff.
//
//   bigint (64-bit counters)   → decimal string ("18446744073709551615")
//   Uint8Array (opaque bytes)  → lower-case hex string ("45000054...")
//   non-finite float           → "NaN" / "Infinity" / "-Infinity" (JSON has no such numbers)
//   sample / record `tag`      → kept as a number, with `tagName` ("enterprise:format") after it
//   undefined (absent optional field) → left out
//
// Pure: no I/O, and the input is not modified.

import { tagName } from './tags.js';
import type { Datagram, DecodeError, DecodeResult } from './types.js';
import { RT_FLOW_TYPES, RT_METRIC_TYPES } from './types.js';
import { hex } from './xdr.js';

/** A JSON value as JSON.stringify would print it without loss. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The JSON form of a decoded datagram (see docs/decode-json.md). */
export function toJson(datagram: Datagram): JsonObject {
  return convertObject(datagram as unknown as Record<string, unknown>, null);
}

/** The JSON form of a whole decode result: `{ datagram, error }` (either may be null). */
export function decodeResultToJson(result: DecodeResult): JsonObject {
  return {
    datagram: result.datagram === null ? null : toJson(result.datagram),
    error: result.error === null ? null : errorToJson(result.error),
  };
}

function errorToJson(e: DecodeError): JsonObject {
  return { reason: e.reason, offset: e.offset, detail: e.detail };
}

/** Value-type names of sFlow-RT custom metrics and flow fields, keyed by the sample kind. */
const RT_TYPE_NAMES: Record<string, readonly string[]> = { rtmetric: RT_METRIC_TYPES, rtflow: RT_FLOW_TYPES };

function convert(v: unknown, rtTypes: readonly string[] | null): JsonValue | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'undefined':
      return undefined;
    case 'object': {
      if (v === null) return null;
      if (v instanceof Uint8Array) return hex(v);
      if (Array.isArray(v)) {
        const out: JsonValue[] = [];
        for (const x of v) {
          const c = convert(x, rtTypes);
          out.push(c === undefined ? null : c);
        }
        return out;
      }
      return convertObject(v as Record<string, unknown>, rtTypes);
    }
    default:
      return undefined;
  }
}

function convertObject(o: Record<string, unknown>, rtTypes: readonly string[] | null): JsonObject {
  const out: JsonObject = {};
  const isTagged = typeof o['tag'] === 'number' && typeof o['kind'] === 'string';
  const types = isTagged ? (RT_TYPE_NAMES[o['kind'] as string] ?? rtTypes) : rtTypes;
  for (const key of Object.keys(o)) {
    const c = convert(o[key], types);
    if (c === undefined) continue;
    out[key] = c;
    if (key === 'tag' && isTagged) out['tagName'] = tagName(o[key] as number);
    // An sFlow-RT value: name its type after the number ("counter32", "ip6", ...).
    if (key === 'type' && types !== null && typeof o['name'] === 'string' && 'value' in o) {
      const name = types[o[key] as number];
      if (name !== undefined) out['typeName'] = name;
    }
  }
  return out;
}
