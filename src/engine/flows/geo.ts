// `country:` and `asn:` key functions over GeoLite2-format databases (MaxMind DB format 2:
// https://maxmind.github.io/MaxMind-DB/): a binary search tree over address bits whose leaves
// point into a data section of typed values. Only read when a database is configured
// (`--geoip-country`, `--geoip-asn`); without one these keys are null, as in an sFlow-RT without
// its mmdb files. Lookups are synchronous reads of the file loaded in memory, cached per address.

import type { GeoLookup } from './keys.js';

const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);

export class MmdbError extends Error {
  override readonly name = 'MmdbError';
}

/** A MaxMind DB file held in memory. */
export class Mmdb {
  readonly metadata: Record<string, unknown>;
  private readonly nodeCount: number;
  private readonly recordSize: number;
  private readonly ipVersion: number;
  private readonly dataStart: number;
  private readonly nodeBytes: number;
  /** Node where IPv4 lookups start in an IPv6 tree (after 96 zero bits). */
  private readonly ipv4Start: number;

  constructor(private readonly buf: Buffer) {
    const at = buf.lastIndexOf(METADATA_MARKER);
    if (at < 0) throw new MmdbError('not a MaxMind DB file (no metadata marker)');
    const meta = this.decode(at + METADATA_MARKER.length, at + METADATA_MARKER.length).value;
    if (meta === null || typeof meta !== 'object') throw new MmdbError('bad metadata');
    this.metadata = meta as Record<string, unknown>;
    this.nodeCount = Number(this.metadata.node_count);
    this.recordSize = Number(this.metadata.record_size);
    this.ipVersion = Number(this.metadata.ip_version);
    if (![24, 28, 32].includes(this.recordSize) || !(this.nodeCount > 0) || ![4, 6].includes(this.ipVersion)) {
      throw new MmdbError(`unsupported tree (record_size ${this.recordSize}, node_count ${this.nodeCount}, ip_version ${this.ipVersion})`);
    }
    this.nodeBytes = this.recordSize / 4;
    const treeSize = this.nodeBytes * this.nodeCount;
    this.dataStart = treeSize + 16;
    if (this.dataStart > at) throw new MmdbError('search tree larger than the file');
    let node = 0;
    if (this.ipVersion === 6) for (let i = 0; i < 96 && node < this.nodeCount; i++) node = this.record(node, 0);
    this.ipv4Start = node;
  }

  private record(node: number, bit: number): number {
    const b = this.buf;
    const o = node * this.nodeBytes;
    switch (this.recordSize) {
      case 24:
        return bit === 0 ? (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]! : (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!;
      case 28:
        return bit === 0
          ? ((b[o + 3]! & 0xf0) << 20) | (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!
          : ((b[o + 3]! & 0x0f) << 24) | (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!;
      default:
        return bit === 0 ? b.readUInt32BE(o) : b.readUInt32BE(o + 4);
    }
  }

  /** The record for an address (text), or undefined. */
  lookup(address: string): unknown {
    const bytes = parseIp(address);
    if (bytes === null) return undefined;
    let node: number;
    if (bytes.length === 4) {
      node = this.ipv4Start;
    } else {
      if (this.ipVersion === 4) return undefined;
      node = 0;
    }
    const bits = bytes.length * 8;
    for (let i = 0; i < bits && node < this.nodeCount; i++) {
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      node = this.record(node, bit);
    }
    if (node === this.nodeCount || node < this.nodeCount) return undefined;
    const off = node - this.nodeCount - 16;
    return this.decode(this.dataStart + off, this.dataStart).value;
  }

  /** Decode the value at `p`; `base` is where pointers count from. */
  private decode(p: number, base: number, depth = 0): { value: unknown; next: number } {
    if (depth > 64) throw new MmdbError('data nested too deeply');
    const b = this.buf;
    const ctrl = b[p++]!;
    let type = ctrl >> 5;
    if (type === 1) {
      // pointer
      const ss = (ctrl >> 3) & 3;
      const v = ctrl & 7;
      let ptr: number;
      if (ss === 0) ptr = (v << 8) | b[p++]!;
      else if (ss === 1) {
        ptr = ((v << 16) | (b[p]! << 8) | b[p + 1]!) + 2048;
        p += 2;
      } else if (ss === 2) {
        ptr = ((v << 24) | (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!) + 526336;
        p += 3;
      } else {
        ptr = b.readUInt32BE(p);
        p += 4;
      }
      return { value: this.decode(base + ptr, base, depth + 1).value, next: p };
    }
    if (type === 0) type = 7 + b[p++]!;
    let size = ctrl & 0x1f;
    if (size === 29) size = 29 + b[p++]!;
    else if (size === 30) {
      size = 285 + b.readUInt16BE(p);
      p += 2;
    } else if (size === 31) {
      size = 65821 + ((b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!);
      p += 3;
    }
    switch (type) {
      case 2:
        return { value: b.toString('utf8', p, p + size), next: p + size };
      case 3:
        return { value: b.readDoubleBE(p), next: p + 8 };
      case 4:
        return { value: b.subarray(p, p + size), next: p + size };
      case 5:
      case 6:
      case 9:
      case 10: {
        let n = 0;
        for (let i = 0; i < size; i++) n = n * 256 + b[p + i]!;
        return { value: n, next: p + size };
      }
      case 8: {
        let n = 0;
        for (let i = 0; i < size; i++) n = n * 256 + b[p + i]!;
        if (size === 4) n = n | 0;
        return { value: n, next: p + size };
      }
      case 7: {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < size; i++) {
          const k = this.decode(p, base, depth + 1);
          const v = this.decode(k.next, base, depth + 1);
          out[String(k.value)] = v.value;
          p = v.next;
        }
        return { value: out, next: p };
      }
      case 11: {
        const out: unknown[] = [];
        for (let i = 0; i < size; i++) {
          const v = this.decode(p, base, depth + 1);
          out.push(v.value);
          p = v.next;
        }
        return { value: out, next: p };
      }
      case 14:
        return { value: size !== 0, next: p };
      case 15:
        return { value: b.readFloatBE(p), next: p + 4 };
      default:
        throw new MmdbError(`unknown data type ${type}`);
    }
  }
}

/** IPv4/IPv6 text to bytes (IPv4-mapped IPv6 addresses as IPv4); null for other text. */
export function parseIp(a: string): number[] | null {
  if (!a.includes(':')) {
    const p = a.split('.');
    if (p.length !== 4) return null;
    const out: number[] = [];
    for (const x of p) {
      if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return null;
      out.push(Number(x));
    }
    return out;
  }
  let text = a;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) return parseIp(mapped[1]!);
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const last = text.slice(text.lastIndexOf(':') + 1);
  if (last.includes('.')) {
    const v4 = parseIp(last);
    if (v4 === null) return null;
    text = `${text.slice(0, text.lastIndexOf(':') + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const h = halves[0] ? halves[0].split(':') : [];
  const t = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 1 && h.length !== 8) return null;
  const groups = halves.length === 2 ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  if (groups.length !== 8) return null;
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 255);
  }
  return out;
}

/** Results remembered per database (address → answer). */
const CACHE = 65536;

/** GeoLookup over GeoLite2 Country / ASN databases (either may be absent). */
export class GeoIp implements GeoLookup {
  private readonly countryCache = new Map<string, Record<string, unknown> | null>();
  private readonly asnCache = new Map<string, Record<string, unknown> | null>();

  constructor(
    readonly countryDb: Mmdb | null,
    readonly asnDb: Mmdb | null,
  ) {}

  private rec(db: Mmdb | null, cache: Map<string, Record<string, unknown> | null>, address: string): Record<string, unknown> | null {
    if (db === null) return null;
    const c = cache.get(address);
    if (c !== undefined) return c;
    let r: Record<string, unknown> | null = null;
    try {
      const v = db.lookup(address);
      r = v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
    } catch {
      r = null;
    }
    if (cache.size >= CACHE) cache.clear();
    cache.set(address, r);
    return r;
  }

  /** `code` (ISO 3166 alpha-2, default), `name` (English), `both` ("US United States"). */
  country(address: string, attr: string): string | undefined {
    const r = this.rec(this.countryDb, this.countryCache, address);
    const c = (r?.country ?? r?.registered_country) as { iso_code?: string; names?: Record<string, string> } | undefined;
    if (c === undefined) return undefined;
    const code = c.iso_code;
    const name = c.names?.en;
    if (attr === 'name') return name;
    if (attr === 'both') return code !== undefined && name !== undefined ? `${code} ${name}` : (code ?? name);
    return code;
  }

  /** `number` (default), `descr` (organisation), `both` ("15169 GOOGLE"). */
  asn(address: string, attr: string): string | undefined {
    const r = this.rec(this.asnDb, this.asnCache, address);
    if (r === null) return undefined;
    const n = r.autonomous_system_number;
    const d = r.autonomous_system_organization;
    const num = typeof n === 'number' ? String(n) : undefined;
    const descr = typeof d === 'string' ? d : undefined;
    if (attr === 'descr') return descr;
    if (attr === 'both') return num !== undefined && descr !== undefined ? `${num} ${descr}` : (num ?? descr);
    return num;
  }
}

/** Load the configured databases (a path null or '' = none). Throws MmdbError naming the file when one is unusable. */
export function loadGeoIp(read: (path: string) => Buffer, countryPath: string | null, asnPath: string | null): GeoIp | null {
  if (!countryPath && !asnPath) return null;
  const open = (p: string | null) => {
    if (!p) return null;
    try {
      return new Mmdb(read(p));
    } catch (e) {
      throw new MmdbError(`${p}: ${(e as Error).message}`);
    }
  };
  return new GeoIp(open(countryPath), open(asnPath));
}
