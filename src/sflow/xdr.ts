// XDR (RFC 4506) reading and writing for sFlow v5: big-endian words, 4-byte padding.
// The reader never reads past `end`; it throws a DecodeFault that the datagram decoder
// catches and turns into a typed error, so callers of the public API never see a throw.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './addresses.js';

export type DecodeErrorReason =
  | 'truncated' // fewer bytes than a header or field needs
  | 'bad_version' // not an sFlow datagram (or a version we cannot frame)
  | 'unsupported_version' // sFlow v2/v4: recognised, counted, not decoded
  | 'bad_address_type' // agent/next-hop address type not 0, 1 or 2
  | 'bad_length' // a length field larger than the bytes that enclose it
  | 'too_many_samples' // the sample count claims more samples than the bytes hold
  | 'too_many_records' // likewise for records in a sample
  | 'too_deep'; // nested structures beyond the depth we follow

/** Thrown inside the decoder only; never escapes `decodeDatagram`. Not an Error: no stack capture cost. */
export class DecodeFault {
  constructor(
    readonly reason: DecodeErrorReason,
    readonly offset: number,
    readonly detail: string,
  ) {}
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const textDecoder = new TextDecoder('utf-8', { fatal: false });
const textEncoder = new TextEncoder();
// 64-bit and float fields are copied into this scratch word and read from its one DataView:
// cheaper than creating a DataView over every datagram that has such a field.
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

export function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

export class XdrReader {
  bytes: Uint8Array;
  pos: number;
  /** Reads stop here: the end of the datagram, or of the structure being decoded. */
  end: number;
  /**
   * When set, the offsets of XDR padding bytes are collected here. hsflowd leaves padding
   * uninitialised (RFC 4506 says zero), so byte-exact round-trip checks must know where it is.
   */
  padding: number[] | null = null;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    // A Node Buffer's subarray() is a Buffer: view it as a plain Uint8Array so every decoded
    // opaque is of one class (monomorphic consumers, equal results whatever the caller passed).
    this.bytes = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
    this.end = Math.min(end, bytes.length);
  }

  /** Point the reader at another datagram: the hot path reuses one reader instead of allocating. */
  reset(bytes: Uint8Array): this {
    this.bytes = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.end = bytes.length;
    this.padding = null;
    return this;
  }


  /**
   * A view of `n` bytes at `p`, sharing the datagram's memory. Faster than subarray(), which
   * looks up the species constructor on every call.
   */
  slice(p: number, n: number): Uint8Array {
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + p, n);
  }

  fault(reason: DecodeErrorReason, detail: string): never {
    throw new DecodeFault(reason, this.pos, detail);
  }

  need(n: number): void {
    if (this.pos + n > this.end) this.fault('truncated', `needs ${n} bytes, ${this.end - this.pos} left`);
  }

  remaining(): number {
    return this.end - this.pos;
  }

  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fault('truncated', 'u32');
    this.pos = p + 4;
    const b = this.bytes;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  i32(): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fault('truncated', 'i32');
    this.pos = p + 4;
    const b = this.bytes;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  u64(): bigint {
    const p = this.pos;
    if (p + 8 > this.end) this.fault('truncated', 'u64');
    this.pos = p + 8;
    const b = this.bytes;
    scratch[0] = b[p]!;
    scratch[1] = b[p + 1]!;
    scratch[2] = b[p + 2]!;
    scratch[3] = b[p + 3]!;
    scratch[4] = b[p + 4]!;
    scratch[5] = b[p + 5]!;
    scratch[6] = b[p + 6]!;
    scratch[7] = b[p + 7]!;
    return scratchView.getBigUint64(0);
  }

  f32(): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fault('truncated', 'f32');
    this.pos = p + 4;
    const b = this.bytes;
    scratch[0] = b[p]!;
    scratch[1] = b[p + 1]!;
    scratch[2] = b[p + 2]!;
    scratch[3] = b[p + 3]!;
    return scratchView.getFloat32(0);
  }

  f64(): number {
    const p = this.pos;
    if (p + 8 > this.end) this.fault('truncated', 'f64');
    this.pos = p + 8;
    const b = this.bytes;
    for (let i = 0; i < 8; i++) scratch[i] = b[p + i]!;
    return scratchView.getFloat64(0);
  }

  /** A fixed-size opaque[n] (padded to 4), as a view into the datagram: no copy. */
  fixed(n: number): Uint8Array {
    const p = this.pos;
    const padded = (n + 3) & ~3;
    if (p + padded > this.end) this.fault('truncated', `opaque[${n}]`);
    this.pos = p + padded;
    if (this.padding !== null) for (let i = p + n; i < p + padded; i++) this.padding.push(i);
    return this.slice(p, n);
  }

  /** A variable-length opaque<> as a view into the datagram. */
  opaque(): Uint8Array {
    const n = this.u32();
    const p = this.pos;
    if (n > this.end - p) this.fault('bad_length', `opaque length ${n} exceeds ${this.end - p} bytes left`);
    // Tolerate a missing final pad at the very end of the enclosing structure (seen in public vectors).
    this.pos = Math.min(p + ((n + 3) & ~3), this.end);
    if (this.padding !== null) for (let i = p + n; i < this.pos; i++) this.padding.push(i);
    return this.slice(p, n);
  }

  string(): string {
    const b = this.opaque();
    return decodeText(b);
  }

  /** A count for an array whose elements take at least `minElementBytes` each: checked before anything is allocated. */
  count(minElementBytes: number): number {
    const n = this.u32();
    if (n * minElementBytes > this.end - this.pos) {
      this.fault('bad_length', `array count ${n} cannot fit in ${this.end - this.pos} bytes`);
    }
    return n;
  }

  ipv4(): string {
    const p = this.pos;
    if (p + 4 > this.end) this.fault('truncated', 'ipv4');
    this.pos = p + 4;
    return formatIPv4(this.bytes, p);
  }

  ipv6(): string {
    const p = this.pos;
    if (p + 16 > this.end) this.fault('truncated', 'ipv6');
    this.pos = p + 16;
    return formatIPv6(this.bytes, p);
  }

  /** MAC address (6 bytes padded to 8) as 12 lower-case hex digits, as sflowtool prints it. */
  mac(): string {
    const p = this.pos;
    if (p + 8 > this.end) this.fault('truncated', 'mac');
    this.pos = p + 8;
    if (this.padding !== null) this.padding.push(p + 6, p + 7);
    const b = this.bytes;
    return HEX[b[p]!]! + HEX[b[p + 1]!]! + HEX[b[p + 2]!]! + HEX[b[p + 3]!]! + HEX[b[p + 4]!]! + HEX[b[p + 5]!]!;
  }

  /** sFlow `address`: type 0 (unknown, returned as ''), 1 IPv4, 2 IPv6. */
  address(): string {
    const type = this.u32();
    if (type === 1) return this.ipv4();
    if (type === 2) return this.ipv6();
    if (type === 0) return '';
    this.pos -= 4;
    return this.fault('bad_address_type', `address type ${type}`);
  }
}

function decodeText(b: Uint8Array): string {
  // Short ASCII strings dominate (names, OS releases); skip TextDecoder for them.
  if (b.length <= 64) {
    let s = '';
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x80) return textDecoder.decode(b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return textDecoder.decode(b);
}

/** Growable big-endian XDR writer (the encoder is used by the simulator and tests, not the hot path). */
export class XdrWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initial = 1500) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }

  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v | 0);
    this.pos += 4;
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v));
    this.pos += 8;
  }

  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  pad(): void {
    const padded = (this.pos + 3) & ~3;
    this.ensure(padded - this.pos);
    while (this.pos < padded) this.buf[this.pos++] = 0;
  }

  fixed(bytes: Uint8Array, n: number): void {
    const b = new Uint8Array(n);
    b.set(bytes.subarray(0, n));
    this.raw(b);
    this.pad();
  }

  opaque(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.raw(bytes);
    this.pad();
  }

  string(s: string): void {
    this.opaque(textEncoder.encode(s));
  }

  ipv4(s: string): void {
    this.raw(parseIPv4(s));
  }

  ipv6(s: string): void {
    this.raw(parseIPv6(s));
  }

  mac(s: string): void {
    const b = new Uint8Array(8);
    b.set(unhex(s.padStart(12, '0')).subarray(0, 6));
    this.raw(b);
  }

  address(s: string): void {
    if (s === '') this.u32(0);
    else if (s.includes(':')) {
      this.u32(2);
      this.ipv6(s);
    } else {
      this.u32(1);
      this.ipv4(s);
    }
  }

  /** Reserve a length word; returns a function that fills it with the bytes written since. */
  lengthPrefix(): () => void {
    const at = this.pos;
    this.u32(0);
    return () => this.view.setUint32(at, this.pos - at - 4);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
