// One declarative description per sFlow structure gives its TypeScript type, its decoder and
// its encoder, so the three cannot drift apart. Decoders are compiled once, at module load,
// into straight-line functions that build each record as a single object literal: every
// record kind gets one stable hidden class, and the hot path runs no field-by-field loop.

import { XdrReader, XdrWriter } from './xdr.js';

/** How one field is read and written. `inline` is a JS expression over the reader `r`. */
export interface FieldType<T> {
  readonly kind: string;
  readonly inline?: string;
  decode(r: XdrReader): T;
  encode(w: XdrWriter, v: T): void;
  /** Bytes the field takes at least (for bounding array counts before allocating). */
  readonly minBytes: number;
}

export type Fields = Record<string, FieldType<any>>;
export type Infer<F extends Fields> = { -readonly [K in keyof F]: F[K] extends FieldType<infer T> ? T : never };

function prim<T>(kind: string, minBytes: number, read: (r: XdrReader) => T, write: (w: XdrWriter, v: T) => void): FieldType<T> {
  return { kind, inline: `r.${kind}()`, decode: read, encode: write, minBytes };
}

export const u32 = prim<number>('u32', 4, (r) => r.u32(), (w, v) => w.u32(v));
export const i32 = prim<number>('i32', 4, (r) => r.i32(), (w, v) => w.i32(v));
export const u64 = prim<bigint>('u64', 8, (r) => r.u64(), (w, v) => w.u64(v));
export const f32 = prim<number>('f32', 4, (r) => r.f32(), (w, v) => w.f32(v));
export const f64 = prim<number>('f64', 8, (r) => r.f64(), (w, v) => w.f64(v));
export const str = prim<string>('string', 4, (r) => r.string(), (w, v) => w.string(v));
export const opaque = prim<Uint8Array>('opaque', 4, (r) => r.opaque(), (w, v) => w.opaque(v));
export const ipv4 = prim<string>('ipv4', 4, (r) => r.ipv4(), (w, v) => w.ipv4(v));
export const ipv6 = prim<string>('ipv6', 16, (r) => r.ipv6(), (w, v) => w.ipv6(v));
export const mac = prim<string>('mac', 8, (r) => r.mac(), (w, v) => w.mac(v));
export const address = prim<string>('address', 4, (r) => r.address(), (w, v) => w.address(v));

/** Fixed-size opaque[n], padded to 4 bytes on the wire. */
export function fixed(n: number): FieldType<Uint8Array> {
  return {
    kind: `fixed${n}`,
    inline: `r.fixed(${n})`,
    decode: (r) => r.fixed(n),
    encode: (w, v) => w.fixed(v, n),
    minBytes: (n + 3) & ~3,
  };
}

/** Variable-length array `T x<>`: a count, then the elements. */
export function array<T>(of: FieldType<T>): FieldType<T[]> {
  return {
    kind: `array<${of.kind}>`,
    decode(r) {
      const n = r.count(of.minBytes);
      const out: T[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = of.decode(r);
      return out;
    },
    encode(w, v) {
      w.u32(v.length);
      for (const x of v) of.encode(w, x);
    },
    minBytes: 4,
  };
}

/**
 * A field added at the end of a structure by a later revision (host_cpu grew from 68 to 80
 * bytes): read only when the record still has bytes, otherwise undefined.
 */
export function optional<T>(of: FieldType<T>): FieldType<T | undefined> {
  return {
    kind: `optional<${of.kind}>`,
    inline: of.inline ? `(r.pos + ${of.minBytes} <= r.end ? ${of.inline} : undefined)` : undefined,
    decode: (r) => (r.pos + of.minBytes <= r.end ? of.decode(r) : undefined),
    encode(w, v) {
      if (v !== undefined) of.encode(w, v);
    },
    minBytes: 0,
  };
}

/** A structure nested as one field (e.g. the sampled_header body inside extended_80211_payload). */
export function nested<F extends Fields>(s: Struct<F>): FieldType<Infer<F>> {
  return { kind: `struct<${s.name}>`, decode: (r) => s.decode(r), encode: (w, v) => s.encode(w, v), minBytes: s.minBytes };
}

/** Resolved on first use: lets a structure contain records of its own context (flow 1016). */
export function lazy<T>(get: () => FieldType<T>): FieldType<T> {
  let t: FieldType<T> | undefined;
  const f = () => (t ??= get());
  return { kind: 'lazy', decode: (r) => f().decode(r), encode: (w, v) => f().encode(w, v), minBytes: 4 };
}

export interface Struct<F extends Fields> {
  readonly name: string;
  readonly fields: F;
  readonly minBytes: number;
  decode(r: XdrReader): Infer<F>;
  encode(w: XdrWriter, v: Infer<F>): void;
}

/**
 * Compile a structure. `constants` are emitted first in every decoded object (the record
 * discriminant `kind` and `tag`), so that all objects of one structure share a shape.
 */
export function struct<F extends Fields>(name: string, fields: F, constants: Record<string, string | number> = {}): Struct<F> {
  const names = Object.keys(fields);
  const deps = names.map((k) => fields[k]!);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(constants)) parts.push(`${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  names.forEach((k, i) => {
    const t = deps[i]!;
    parts.push(`${JSON.stringify(k)}: ${t.inline ?? `d[${i}].decode(r)`}`);
  });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code generated from our own schema only
  const decode = new Function('d', `return function decode_${name.replace(/\W/g, '_')}(r) { return { ${parts.join(', ')} }; };`)(
    deps,
  ) as (r: XdrReader) => Infer<F>;
  const minBytes = deps.reduce((n, t) => n + t.minBytes, 0);
  return {
    name,
    fields,
    minBytes,
    decode,
    encode(w, v) {
      for (let i = 0; i < names.length; i++) deps[i]!.encode(w, (v as Record<string, unknown>)[names[i]!]);
    },
  };
}
