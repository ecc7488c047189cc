/**
 * Capture-file reader: classic pcap and pcapng → UDP datagrams.
 *
 * Reads a capture held in memory (a `Uint8Array` or `Buffer`) and yields every UDP datagram in it,
 * to any port, over IPv4 or IPv6, rebuilding IP fragments. It knows nothing about sFlow: callers
 * filter by port or decode the payload themselves.
 *
 * Formats:
 * - classic pcap, both byte orders, microsecond (`a1b2c3d4`) and nanosecond (`a1b23c4d`) magic, and
 *   Kuznetzov's "modified" pcap (`a1b2cd34`, 24-byte record headers);
 * - pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html): Section Header
 *   Blocks in either byte order (a file may hold several sections), Interface Description Blocks
 *   with `if_tsresol` and `if_tsoffset`, Enhanced, Simple and (obsolete) Packet Blocks; every other
 *   block is skipped and counted.
 *
 * Link types (http://www.tcpdump.org/linktypes.html): Ethernet (1) with any number of 802.1Q /
 * 802.1ad / QinQ tags and 802.3 LLC/SNAP; raw IP (101, and 12/14 as some BSDs wrote it), raw IPv4
 * (228), raw IPv6 (229); Linux cooked v1 (113) and v2 (276); BSD null (0) and OpenBSD loop (108),
 * whose AF word may be in either byte order.
 *
 * Robustness: a file whose header is not pcap or pcapng raises {@link CaptureFormatError} when the
 * reader is created; after that nothing throws. Frames that yield no datagram are counted by
 * reason in {@link CaptureSummary.skipped}; a record cut short by the end of the file (or with
 * corrupt framing) is counted and ends the iteration.
 *
 * Speed: the hot path allocates only the result object and the payload view (`subarray`), and
 * formats each distinct address once (a bounded cache).
 */
import { formatIPv4, formatIPv6 } from '../sflow/addresses.js';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Public types

/** Container format of a capture file. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** Link-layer header types this reader decodes (LINKTYPE_* values). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** One UDP datagram found in a capture. */
export interface UdpDatagram {
  /**
   * 1-based number of the packet record in the file (Wireshark's frame number). For a datagram
   * rebuilt from fragments, the number of the fragment that completed it.
   */
  index: number;
  /**
   * Capture time in microseconds since the Unix epoch (finer resolutions are truncated). pcapng
   * Simple Packet Blocks carry no time: they get the time of the previous packet (0 if none).
   * For a reassembled datagram, the time of the fragment that completed it.
   */
  timestampMicros: number;
  ipVersion: 4 | 6;
  /** Dotted quad, or RFC 5952 text for IPv6 (`::ffff:a.b.c.d` for IPv4-mapped). */
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
  /**
   * The UDP payload, exactly as long as the UDP length field says (Ethernet padding and trailers
   * are not included). A view into the capture buffer — no copy — unless `reassembled`.
   */
  payload: Uint8Array;
  /** True when the datagram was rebuilt from IP fragments; `payload` is then a fresh buffer. */
  reassembled: boolean;
}

/** Why a packet record yielded no datagram (keys of {@link CaptureSummary.skipped}). */
export type SkipReason =
  /** Link layer decoded, but the frame does not carry IPv4 or IPv6 (ARP, LLDP, unknown AF...). */
  | 'nonIp'
  /** IP, but not UDP (TCP, ICMP, ESP, tunnels...). */
  | 'nonUdp'
  /** The frame was captured shorter (snap length) than the headers or the UDP datagram. */
  | 'truncated'
  /** Inconsistent link, IP or UDP header (version, header length, lengths that do not fit). */
  | 'badHeader'
  /** The interface's link type is not one this reader decodes. */
  | 'unsupportedLinkType'
  /** pcapng packet block referring to an interface no IDB of its section described. */
  | 'unknownInterface'
  /** A record whose own framing is corrupt (bad block length, captured length past its block). */
  | 'badRecord'
  /** A record cut short by the end of the file (iteration stops there). */
  | 'truncatedRecord';

export type SkipCounts = Record<SkipReason, number>;

/**
 * IP fragment accounting. `received`, `duplicates` and `invalid` count fragments; the others
 * count datagrams (reassemblies).
 */
export interface FragmentCounts {
  /** Fragment frames held for reassembly (they are not in `skipped`). */
  received: number;
  /** Datagrams rebuilt from fragments (included in {@link CaptureSummary.datagrams}). */
  reassembled: number;
  /** Fragments that repeated one already held (same offset and length); ignored. */
  duplicates: number;
  /**
   * Malformed fragments (bad length, beyond 64 KiB, contradicting the datagram's end; a
   * reassembly they contradict is dropped with them), and rebuilt datagrams holding no valid UDP.
   */
  invalid: number;
  /** Reassemblies dropped because a fragment partly overlapped another (RFC 5722). */
  overlapping: number;
  /** Reassemblies dropped because they stayed incomplete longer than the timeout. */
  timedOut: number;
  /** Reassemblies dropped to stay within the pending-count or pending-bytes bound. */
  evicted: number;
  /** Reassemblies still incomplete at the end of the capture. */
  incomplete: number;
}

/** Counters of one pass over a capture. */
export interface CaptureSummary {
  format: CaptureFormat;
  /** Distinct link types of the file (classic pcap) or of its interfaces (pcapng), in order met. */
  linkTypes: number[];
  /**
   * Packet records read (including a damaged one counted in `skipped`). Each record either yields
   * a datagram, is a fragment (`fragments.received`), or is skipped for exactly one reason, so
   * `packets === datagrams - fragments.reassembled + fragments.received + Σ skipped`.
   */
  packets: number;
  /** UDP datagrams yielded, including reassembled ones. */
  datagrams: number;
  skipped: SkipCounts;
  fragments: FragmentCounts;
  /** pcapng blocks skipped because they carry no packets (NRB, ISB, DSB, custom, unknown...). */
  unknownBlocks: number;
  /** Why reading stopped before the end of the file, or null when every byte was read. */
  stoppedBy: 'truncatedRecord' | 'badRecord' | null;
  /** Offset of the first byte not consumed (the file length when read to the end). */
  bytesRead: number;
}

/** Bounds of IP reassembly. Defaults suit sFlow: datagrams of a few fragments, arriving together. */
export interface CaptureReaderOptions {
  /** Most datagrams being reassembled at once; the oldest is dropped beyond it. Default 256. */
  maxPendingReassemblies?: number;
  /** Most fragment bytes held awaiting reassembly; the oldest are dropped beyond it. Default 8 MiB. */
  maxPendingBytes?: number;
  /** Capture-time limit (µs) between a datagram's first fragment and its completion. Default 30 s. */
  reassemblyTimeoutMicros?: number;
}

export const DEFAULT_CAPTURE_READER_OPTIONS: Readonly<Required<CaptureReaderOptions>> = {
  maxPendingReassemblies: 256,
  maxPendingBytes: 8 * 1024 * 1024,
  reassemblyTimeoutMicros: 30_000_000,
};

export type CaptureFormatErrorCode =
  /** Fewer bytes than a file header. */
  | 'TRUNCATED_HEADER'
  /** The first four bytes are neither a pcap magic nor a pcapng Section Header Block. */
  | 'UNKNOWN_MAGIC'
  /** A pcapng Section Header Block with an unknown byte-order magic or an impossible length. */
  | 'BAD_HEADER';

/** The bytes are not a pcap or pcapng file. The only error the reader throws. */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  readonly code: CaptureFormatErrorCode;
  constructor(code: CaptureFormatErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Iterate the UDP datagrams of a capture held in memory. Throws {@link CaptureFormatError}
 * immediately (not at the first `next()`) when the header is not pcap or pcapng. The generator's
 * return value is the pass's {@link CaptureSummary}; with `for...of`, use a {@link CaptureReader}
 * to read it afterwards.
 */
export function udpDatagrams(
  buf: Uint8Array,
  options?: CaptureReaderOptions,
): Generator<UdpDatagram, CaptureSummary, undefined> {
  return new CaptureReader(buf, options).datagrams();
}

/** Parse a whole capture held in memory into an array of datagrams and its summary. */
export function readCapture(buf: Uint8Array, options?: CaptureReaderOptions): CaptureContents {
  const reader = new CaptureReader(buf, options);
  const datagrams: UdpDatagram[] = [];
  for (const d of reader) datagrams.push(d);
  return { format: reader.format, datagrams, summary: reader.summary };
}

/** A parsed capture. */
export interface CaptureContents {
  format: CaptureFormat;
  datagrams: UdpDatagram[];
  summary: CaptureSummary;
}

/** A parsed capture file. Payloads are views into the file's bytes, which they keep alive. */
export interface CaptureFileContents extends CaptureContents {
  path: string;
}

/** Read a capture file and parse it whole. Rejects with the fs error or a CaptureFormatError. */
export async function readCaptureFile(
  path: string | URL,
  options?: CaptureReaderOptions,
): Promise<CaptureFileContents> {
  const contents = readCapture(await readFile(path), options);
  return { path: typeof path === 'string' ? path : fileURLToPath(path), ...contents };
}

/**
 * Read a capture file into memory and return a reader over it, for iterating a large capture
 * without materialising every datagram.
 */
export async function openCaptureFile(
  path: string | URL,
  options?: CaptureReaderOptions,
): Promise<CaptureReader> {
  return new CaptureReader(await readFile(path), options);
}

/** The format of a capture from its first bytes, or null when it is neither pcap nor pcapng. */
export function detectCaptureFormat(buf: Uint8Array): CaptureFormat | null {
  if (buf.length < 4) return null;
  const be = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0;
  const le = ((buf[3]! << 24) | (buf[2]! << 16) | (buf[1]! << 8) | buf[0]!) >>> 0;
  if (be === PCAPNG_SHB) return 'pcapng';
  for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED]) {
    if (be === m || le === m) return 'pcap';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Reader

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

/** Per-interface state of a pcapng section (or the single "interface" of a classic pcap). */
interface Iface {
  linkType: number;
  snapLen: number;
  /** TS_* conversion of raw timestamps to microseconds, with its factor. */
  tsMode: number;
  tsFactor: number;
  /** if_tsoffset, in microseconds. */
  tsOffsetMicros: number;
}

const TS_MICROS = 0; // units are µs
const TS_DIV = 1; // units are 10^-r with r > 6: divide by tsFactor = 10^(r-6)
const TS_MUL = 2; // units are 10^-r with r < 6: multiply by tsFactor = 10^(6-r)
const TS_BIN = 3; // units are 2^-tsFactor
const TS_BIG = 4; // decimal divisor too large for exact double arithmetic: BigInt (rare)

/**
 * A reusable reader over one capture held in memory. The constructor only checks the file header
 * (throwing {@link CaptureFormatError}); each iteration is an independent pass with fresh
 * reassembly state and a fresh {@link summary}.
 */
export class CaptureReader implements Iterable<UdpDatagram> {
  readonly format: CaptureFormat;
  /** Counters of the current or most recent pass (updated live while iterating). */
  summary: CaptureSummary;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private readonly options: Required<CaptureReaderOptions>;

  constructor(buf: Uint8Array, options: CaptureReaderOptions = {}) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.options = { ...DEFAULT_CAPTURE_READER_OPTIONS, ...definedOnly(options) };
    this.format = checkHeader(buf, this.view);
    this.summary = newSummary(this.format);
  }

  [Symbol.iterator](): Generator<UdpDatagram, CaptureSummary, undefined> {
    return this.datagrams();
  }

  /** One pass over the capture; returns the pass's summary when done. */
  datagrams(): Generator<UdpDatagram, CaptureSummary, undefined> {
    const summary = newSummary(this.format);
    this.summary = summary;
    const decoder = new FrameDecoder(summary, this.options);
    return this.format === 'pcap' ? this.pcapPass(decoder) : this.pcapngPass(decoder);
  }

  private *pcapPass(dec: FrameDecoder): Generator<UdpDatagram, CaptureSummary, undefined> {
    const { buf, view } = this;
    const s = dec.summary;
    const magicLe = view.getUint32(0, true);
    const le = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS || magicLe === PCAP_MAGIC_MODIFIED;
    const magic = le ? magicLe : view.getUint32(0, false);
    const nanos = magic === PCAP_MAGIC_NS;
    const recHeader = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    // The low 16 bits are the link type; the upper bits may carry FCS length flags.
    const linkType = view.getUint32(20, le) & 0xffff;
    s.linkTypes.push(linkType);
    const n = buf.length;
    let off = 24;
    let index = 0;
    while (off < n) {
      if (off + recHeader > n) {
        dec.stop('truncatedRecord');
        break;
      }
      const sec = view.getUint32(off, le);
      const frac = view.getUint32(off + 4, le);
      const capLen = view.getUint32(off + 8, le);
      const start = off + recHeader;
      const end = start + capLen;
      if (end > n) {
        dec.stop('truncatedRecord');
        break;
      }
      index++;
      s.packets++;
      const ts = sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac);
      off = end;
      s.bytesRead = off;
      const d = dec.decode(buf, start, end, linkType, index, ts);
      if (d !== null) yield d;
    }
    dec.finish();
    return s;
  }

  private *pcapngPass(dec: FrameDecoder): Generator<UdpDatagram, CaptureSummary, undefined> {
    const { buf, view } = this;
    const s = dec.summary;
    const n = buf.length;
    let le = true;
    let ifaces: Iface[] = [];
    let off = 0;
    let index = 0;
    let lastTs = 0;
    while (off < n) {
      if (off + 12 > n) {
        dec.stop('truncatedRecord');
        break;
      }
      let type = view.getUint32(off, le);
      if (type === PCAPNG_SHB) {
        // A new section: its byte order is in its byte-order magic; interfaces start afresh.
        const bom = view.getUint32(off + 8, true);
        if (bom === PCAPNG_BOM) le = true;
        else if (view.getUint32(off + 8, false) === PCAPNG_BOM) le = false;
        else {
          dec.stop('badRecord');
          break;
        }
        ifaces = [];
        type = PCAPNG_SHB;
      }
      const len = view.getUint32(off + 4, le);
      if (len < 12 || (len & 3) !== 0) {
        dec.stop('badRecord');
        break;
      }
      if (off + len > n) {
        dec.stop('truncatedRecord');
        break;
      }
      if (view.getUint32(off + len - 4, le) !== len) {
        dec.stop('badRecord');
        break;
      }
      const blockEnd = off + len - 4; // end of body (before the trailing length)
      const body = off + 8;
      off += len;
      s.bytesRead = off;
      switch (type) {
        case PCAPNG_SHB:
          break;
        case BLOCK_IDB: {
          if (body + 8 > blockEnd) {
            // An IDB too short to describe anything: keep interface numbering aligned anyway.
            ifaces.push({ linkType: -1, snapLen: 0, tsMode: TS_MICROS, tsFactor: 1, tsOffsetMicros: 0 });
            break;
          }
          const iface = parseIdb(view, buf, body, blockEnd, le);
          ifaces.push(iface);
          if (!s.linkTypes.includes(iface.linkType)) s.linkTypes.push(iface.linkType);
          break;
        }
        case BLOCK_EPB:
        case BLOCK_OPB: {
          index++;
          s.packets++;
          if (body + 20 > blockEnd) {
            dec.skip('badRecord');
            break;
          }
          const ifId = type === BLOCK_EPB ? view.getUint32(body, le) : view.getUint16(body, le);
          const hi = view.getUint32(body + 4, le);
          const lo = view.getUint32(body + 8, le);
          const capLen = view.getUint32(body + 12, le);
          const start = body + 20;
          if (capLen > blockEnd - start) {
            dec.skip('badRecord');
            break;
          }
          const iface = ifaces[ifId];
          if (iface === undefined) {
            dec.skip('unknownInterface');
            break;
          }
          const ts = pcapngMicros(iface, hi, lo);
          lastTs = ts;
          const d = dec.decode(buf, start, start + capLen, iface.linkType, index, ts);
          if (d !== null) yield d;
          break;
        }
        case BLOCK_SPB: {
          index++;
          s.packets++;
          if (body + 4 > blockEnd) {
            dec.skip('badRecord');
            break;
          }
          const iface = ifaces[0];
          if (iface === undefined) {
            dec.skip('unknownInterface');
            break;
          }
          const origLen = view.getUint32(body, le);
          const start = body + 4;
          let capLen = Math.min(origLen, blockEnd - start);
          if (iface.snapLen > 0 && capLen > iface.snapLen) capLen = iface.snapLen;
          const d = dec.decode(buf, start, start + capLen, iface.linkType, index, lastTs);
          if (d !== null) yield d;
          break;
        }
        default:
          s.unknownBlocks++;
      }
    }
    dec.finish();
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Headers and timestamps

function checkHeader(buf: Uint8Array, view: DataView): CaptureFormat {
  if (buf.length === 0) throw new CaptureFormatError('TRUNCATED_HEADER', 'capture is empty (0 bytes)');
  const format = detectCaptureFormat(buf);
  if (format === null) {
    const head = Buffer.from(buf.subarray(0, 8)).toString('hex');
    const hint =
      buf[0] === 0x1f && buf[1] === 0x8b
        ? ' (it is gzip-compressed: decompress it first)'
        : '';
    throw new CaptureFormatError(
      buf.length < 4 ? 'TRUNCATED_HEADER' : 'UNKNOWN_MAGIC',
      `not a pcap or pcapng capture: first bytes ${head}${hint}`,
    );
  }
  if (format === 'pcap') {
    if (buf.length < 24) {
      throw new CaptureFormatError('TRUNCATED_HEADER', `pcap file header needs 24 bytes, got ${buf.length}`);
    }
    return format;
  }
  if (buf.length < 28) {
    throw new CaptureFormatError('TRUNCATED_HEADER', `pcapng section header needs 28 bytes, got ${buf.length}`);
  }
  let le: boolean;
  if (view.getUint32(8, true) === PCAPNG_BOM) le = true;
  else if (view.getUint32(8, false) === PCAPNG_BOM) le = false;
  else {
    const bom = Buffer.from(buf.subarray(8, 12)).toString('hex');
    throw new CaptureFormatError('BAD_HEADER', `pcapng section header has an unknown byte-order magic ${bom}`);
  }
  const len = view.getUint32(4, le);
  if (len < 28 || (len & 3) !== 0) {
    throw new CaptureFormatError('BAD_HEADER', `pcapng section header has an impossible length ${len}`);
  }
  return format;
}

function parseIdb(view: DataView, buf: Uint8Array, body: number, end: number, le: boolean): Iface {
  const iface: Iface = {
    linkType: view.getUint16(body, le),
    snapLen: view.getUint32(body + 4, le),
    tsMode: TS_MICROS,
    tsFactor: 1,
    tsOffsetMicros: 0,
  };
  let o = body + 8;
  while (o + 4 <= end) {
    const code = view.getUint16(o, le);
    const olen = view.getUint16(o + 2, le);
    if (code === 0 || o + 4 + olen > end) break;
    if (code === 9 && olen >= 1) setResolution(iface, buf[o + 4]!);
    else if (code === 14 && olen >= 8) {
      const hi = view.getInt32(le ? o + 8 : o + 4, le);
      const lo = view.getUint32(le ? o + 4 : o + 8, le);
      iface.tsOffsetMicros = (hi * 4294967296 + lo) * 1e6;
    }
    o += 4 + ((olen + 3) & ~3);
  }
  return iface;
}

/** if_tsresol: MSB clear = 10^-v seconds, set = 2^-(v & 0x7f) seconds. */
function setResolution(iface: Iface, v: number): void {
  if (v & 0x80) {
    iface.tsMode = TS_BIN;
    iface.tsFactor = v & 0x7f;
  } else if (v === 6) {
    iface.tsMode = TS_MICROS;
  } else if (v < 6) {
    iface.tsMode = TS_MUL;
    iface.tsFactor = 10 ** (6 - v);
  } else if (v - 6 <= 11) {
    iface.tsMode = TS_DIV;
    iface.tsFactor = 10 ** (v - 6);
  } else {
    iface.tsMode = TS_BIG;
    iface.tsFactor = v - 6;
  }
}

const TWO32 = 4294967296;

/** A pcapng 64-bit timestamp (hi, lo) in the interface's units → µs since the epoch. */
function pcapngMicros(iface: Iface, hi: number, lo: number): number {
  let us: number;
  switch (iface.tsMode) {
    case TS_MICROS:
      us = hi * TWO32 + lo;
      break;
    case TS_DIV:
      us = divide64(hi, lo, iface.tsFactor);
      break;
    case TS_MUL:
      us = (hi * TWO32 + lo) * iface.tsFactor;
      break;
    case TS_BIN: {
      const n = iface.tsFactor;
      if (n <= 32) {
        const unit = 2 ** n;
        const sec = hi * 2 ** (32 - n) + Math.floor(lo / unit);
        us = sec * 1e6 + Math.floor(((lo % unit) * 1e6) / unit);
      } else {
        const unitHi = 2 ** (n - 32);
        const sec = Math.floor(hi / unitHi);
        us = sec * 1e6 + Math.floor((((hi % unitHi) * TWO32 + lo) / 2 ** n) * 1e6);
      }
      break;
    }
    default: {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      us = Number(v / 10n ** BigInt(iface.tsFactor));
    }
  }
  return us + iface.tsOffsetMicros;
}

/**
 * floor((hi·2^32 + lo) / d) exactly, for integer d ≤ 10^11, by long division in 16-bit limbs
 * (every intermediate stays below 2^53).
 */
function divide64(hi: number, lo: number, d: number): number {
  let q = 0;
  let r = 0;
  for (let i = 0; i < 4; i++) {
    const limb = i === 0 ? hi >>> 16 : i === 1 ? hi & 0xffff : i === 2 ? lo >>> 16 : lo & 0xffff;
    const cur = r * 65536 + limb;
    let qd = Math.floor(cur / d);
    r = cur - qd * d;
    if (r < 0) {
      qd--;
      r += d;
    } else if (r >= d) {
      qd++;
      r -= d;
    }
    q = q * 65536 + qd;
  }
  return q;
}

function newSummary(format: CaptureFormat): CaptureSummary {
  return {
    format,
    linkTypes: [],
    packets: 0,
    datagrams: 0,
    skipped: {
      nonIp: 0,
      nonUdp: 0,
      truncated: 0,
      badHeader: 0,
      unsupportedLinkType: 0,
      unknownInterface: 0,
      badRecord: 0,
      truncatedRecord: 0,
    },
    fragments: {
      received: 0,
      reassembled: 0,
      duplicates: 0,
      invalid: 0,
      overlapping: 0,
      timedOut: 0,
      evicted: 0,
      incomplete: 0,
    },
    unknownBlocks: 0,
    stoppedBy: null,
    bytesRead: format === 'pcap' ? 24 : 0,
  };
}

function definedOnly(o: CaptureReaderOptions): CaptureReaderOptions {
  const out: CaptureReaderOptions = {};
  if (o.maxPendingReassemblies !== undefined) out.maxPendingReassemblies = o.maxPendingReassemblies;
  if (o.maxPendingBytes !== undefined) out.maxPendingBytes = o.maxPendingBytes;
  if (o.reassemblyTimeoutMicros !== undefined) out.reassemblyTimeoutMicros = o.reassemblyTimeoutMicros;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frame decoding: link layer → IP → UDP

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const MAX_VLAN_TAGS = 8;
const ADDRESS_CACHE_SIZE = 4096;

/** Decodes frames of one pass; owns the pass's counters, address cache and reassembly state. */
class FrameDecoder {
  readonly summary: CaptureSummary;
  private readonly skipped: SkipCounts;
  private readonly reassembler: Reassembler;
  private readonly v4Names = new Map<number, string>();
  private readonly v6Names = new Map<number, V6Name>();

  constructor(summary: CaptureSummary, options: Required<CaptureReaderOptions>) {
    this.summary = summary;
    this.skipped = summary.skipped;
    this.reassembler = new Reassembler(options, summary.fragments);
  }

  /** Count a skipped record; returns null for the caller's convenience. */
  skip(reason: SkipReason): null {
    this.skipped[reason]++;
    return null;
  }

  /** A damaged record ends the pass. */
  stop(reason: 'truncatedRecord' | 'badRecord'): void {
    this.summary.packets++;
    this.skipped[reason]++;
    this.summary.stoppedBy = reason;
  }

  finish(): void {
    this.reassembler.finish();
  }

  /** Decode the frame in b[p, end) of the given link type. */
  decode(b: Uint8Array, p: number, end: number, linkType: number, index: number, ts: number): UdpDatagram | null {
    let type: number;
    switch (linkType) {
      case LinkType.ETHERNET: {
        if (p + 14 > end) return this.skip('truncated');
        type = (b[p + 12]! << 8) | b[p + 13]!;
        p += 14;
        if (type <= 1500) {
          // 802.3 length field: only LLC/SNAP (AA-AA-03, OUI, EtherType) can carry IP.
          if (p + 8 > end) return this.skip('truncated');
          if (b[p] !== 0xaa || b[p + 1] !== 0xaa || b[p + 2] !== 0x03) return this.skip('nonIp');
          type = (b[p + 6]! << 8) | b[p + 7]!;
          p += 8;
        }
        break;
      }
      case LinkType.LINUX_SLL:
        if (p + 16 > end) return this.skip('truncated');
        type = (b[p + 14]! << 8) | b[p + 15]!;
        p += 16;
        break;
      case LinkType.LINUX_SLL2:
        if (p + 20 > end) return this.skip('truncated');
        type = (b[p]! << 8) | b[p + 1]!;
        p += 20;
        break;
      case LinkType.RAW:
      case 12: // DLT_RAW as OpenBSD numbers it
      case 14: // DLT_RAW as BSD/OS numbers it
        if (p >= end) return this.skip('truncated');
        type = b[p]! >> 4 === 4 ? ETH_IPV4 : b[p]! >> 4 === 6 ? ETH_IPV6 : -1;
        if (type < 0) return this.skip('badHeader');
        break;
      case LinkType.IPV4:
        type = ETH_IPV4;
        break;
      case LinkType.IPV6:
        type = ETH_IPV6;
        break;
      case LinkType.NULL:
      case LinkType.LOOP: {
        if (p + 4 > end) return this.skip('truncated');
        // The AF word is in the capturing host's byte order (NULL) or network order (LOOP); AF
        // values are small, so whichever reading fits in 16 bits is the right one.
        let af = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
        if (af > 0xffff) af = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
        p += 4;
        // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 23 (Windows), 24 (NetBSD, OpenBSD,
        // BSD/OS), 28 (FreeBSD, DragonFly), 30 (macOS).
        if (af === 2) type = ETH_IPV4;
        else if (af === 24 || af === 28 || af === 30 || af === 10 || af === 23) type = ETH_IPV6;
        else return this.skip('nonIp');
        break;
      }
      default:
        return this.skip('unsupportedLinkType');
    }
    // VLAN tags: 802.1Q, 802.1ad, and the pre-standard QinQ TPIDs.
    let tags = 0;
    while (type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200 || type === 0x9300) {
      if (++tags > MAX_VLAN_TAGS) return this.skip('badHeader');
      if (p + 4 > end) return this.skip('truncated');
      type = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
    }
    if (type === ETH_IPV4) return this.ipv4(b, p, end, index, ts);
    if (type === ETH_IPV6) return this.ipv6(b, p, end, index, ts);
    return this.skip('nonIp');
  }

  private ipv4(b: Uint8Array, p: number, capEnd: number, index: number, ts: number): UdpDatagram | null {
    if (p + 20 > capEnd) return this.skip('truncated');
    const vihl = b[p]!;
    if (vihl >> 4 !== 4) return this.skip('badHeader');
    const ihl = (vihl & 15) * 4;
    if (ihl < 20) return this.skip('badHeader');
    let total = (b[p + 2]! << 8) | b[p + 3]!;
    // A zero total length is what segmentation offload leaves in captures: trust the capture.
    if (total === 0) total = capEnd - p;
    if (total < ihl) return this.skip('badHeader');
    if (b[p + 9] !== 17) return this.skip('nonUdp');
    if (p + ihl > capEnd) return this.skip('truncated');
    const ipEnd = p + total;
    const frag = ((b[p + 6]! << 8) | b[p + 7]!) & 0x3fff;
    if (frag !== 0) {
      if (ipEnd > capEnd) return this.skip('truncated');
      const src = this.name4(b, p + 12);
      const dst = this.name4(b, p + 16);
      const key = `${src}>${dst}#${(b[p + 4]! << 8) | b[p + 5]!}`;
      const data = this.reassembler.add(
        key, (frag & 0x1fff) * 8, (frag & 0x2000) !== 0, b.subarray(p + ihl, ipEnd), 65535 - ihl, ts,
      );
      return data === null ? null : this.reassembledUdp(data, 0, 17, 4, src, dst, index, ts);
    }
    const u = p + ihl;
    if (u + 8 > ipEnd) return this.skip('badHeader');
    if (u + 8 > capEnd) return this.skip('truncated');
    const len = (b[u + 4]! << 8) | b[u + 5]!;
    if (len < 8 || u + len > ipEnd) return this.skip('badHeader');
    if (u + len > capEnd) return this.skip('truncated');
    return this.emit(4, this.name4(b, p + 12), this.name4(b, p + 16), b, u, len, index, ts, false);
  }

  private ipv6(b: Uint8Array, p: number, capEnd: number, index: number, ts: number): UdpDatagram | null {
    if (p + 40 > capEnd) return this.skip('truncated');
    if (b[p]! >> 4 !== 6) return this.skip('badHeader');
    const plen = (b[p + 4]! << 8) | b[p + 5]!;
    // Zero payload length: a jumbogram or segmentation offload; trust the capture.
    const ipEnd = plen === 0 ? capEnd : p + 40 + plen;
    let nh = b[p + 6]!;
    let q = p + 40;
    for (let hops = 0; ; hops++) {
      if (nh === 17) break;
      if (nh === 44) {
        if (q + 8 > ipEnd) return this.skip('badHeader');
        if (q + 8 > capEnd) return this.skip('truncated');
        const next = b[q]!;
        const fo = (b[q + 2]! << 8) | b[q + 3]!;
        const offset = fo & 0xfff8;
        const more = (fo & 1) !== 0;
        if (offset === 0 && !more) {
          // Atomic fragment (RFC 6946): a whole datagram with a fragment header.
          nh = next;
          q += 8;
          continue;
        }
        if (next !== 17 && ext6Kind(next) === 0) return this.skip('nonUdp');
        if (ipEnd > capEnd) return this.skip('truncated');
        const src = this.name6(b, p + 8);
        const dst = this.name6(b, p + 24);
        const id = ((b[q + 4]! << 24) | (b[q + 5]! << 16) | (b[q + 6]! << 8) | b[q + 7]!) >>> 0;
        const key = `${src}>${dst}#${id}`;
        const data = this.reassembler.add(key, offset, more, b.subarray(q + 8, ipEnd), 65535, ts);
        return data === null ? null : this.reassembledUdp(data, 0, next, 6, src, dst, index, ts);
      }
      const kind = ext6Kind(nh);
      if (kind === 0 || hops > 32) return this.skip('nonUdp');
      if (q + 8 > ipEnd) return this.skip('badHeader');
      if (q + 8 > capEnd) return this.skip('truncated');
      nh = b[q]!;
      q += kind === 2 ? (b[q + 1]! + 2) * 4 : (b[q + 1]! + 1) * 8;
    }
    if (q + 8 > ipEnd) return this.skip('badHeader');
    if (q + 8 > capEnd) return this.skip('truncated');
    let len = (b[q + 4]! << 8) | b[q + 5]!;
    if (len === 0) len = ipEnd - q; // UDP jumbogram (RFC 2675)
    if (len < 8 || q + len > ipEnd) return this.skip('badHeader');
    if (q + len > capEnd) return this.skip('truncated');
    return this.emit(6, this.name6(b, p + 8), this.name6(b, p + 24), b, q, len, index, ts, false);
  }

  /** The UDP datagram inside a rebuilt IP payload whose first header is `nh`. */
  private reassembledUdp(
    data: Uint8Array, q: number, nh: number, version: 4 | 6, src: string, dst: string, index: number, ts: number,
  ): UdpDatagram | null {
    const end = data.length;
    for (let hops = 0; nh !== 17; hops++) {
      const kind = ext6Kind(nh);
      if (version === 4 || kind === 0 || hops > 32 || q + 8 > end) return this.invalidReassembly();
      nh = data[q]!;
      q += kind === 2 ? (data[q + 1]! + 2) * 4 : (data[q + 1]! + 1) * 8;
    }
    if (q + 8 > end) return this.invalidReassembly();
    let len = (data[q + 4]! << 8) | data[q + 5]!;
    if (len === 0 && version === 6) len = end - q;
    if (len < 8 || q + len > end) return this.invalidReassembly();
    this.summary.fragments.reassembled++;
    return this.emit(version, src, dst, data, q, len, index, ts, true);
  }

  private invalidReassembly(): null {
    this.summary.fragments.invalid++;
    return null;
  }

  private emit(
    ipVersion: 4 | 6, srcAddress: string, dstAddress: string, b: Uint8Array, u: number, len: number,
    index: number, timestampMicros: number, reassembled: boolean,
  ): UdpDatagram {
    this.summary.datagrams++;
    return {
      index,
      timestampMicros,
      ipVersion,
      srcAddress,
      srcPort: (b[u]! << 8) | b[u + 1]!,
      dstAddress,
      dstPort: (b[u + 2]! << 8) | b[u + 3]!,
      payload: b.subarray(u + 8, u + len),
      reassembled,
    };
  }

  /** Text of the IPv4 address at b[o], formatted once per distinct address. */
  private name4(b: Uint8Array, o: number): string {
    const key = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    let name = this.v4Names.get(key);
    if (name === undefined) {
      if (this.v4Names.size >= ADDRESS_CACHE_SIZE) this.v4Names.clear();
      name = formatIPv4(b, o);
      this.v4Names.set(key, name);
    }
    return name;
  }

  /** Text of the IPv6 address at b[o], formatted once per distinct address. */
  private name6(b: Uint8Array, o: number): string {
    const w0 = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    const w1 = (b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
    const w2 = (b[o + 8]! << 24) | (b[o + 9]! << 16) | (b[o + 10]! << 8) | b[o + 11]!;
    const w3 = (b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!;
    const key = Math.imul(Math.imul(Math.imul(w0, 0x2c1b3c6d) ^ w1, 0x297a2d39) ^ w2, 0x45d9f3b) ^ w3;
    const hit = this.v6Names.get(key);
    if (hit !== undefined && hit.w0 === w0 && hit.w1 === w1 && hit.w2 === w2 && hit.w3 === w3) return hit.name;
    if (this.v6Names.size >= ADDRESS_CACHE_SIZE) this.v6Names.clear();
    const name = formatIPv6(b, o);
    this.v6Names.set(key, { w0, w1, w2, w3, name });
    return name;
  }
}

interface V6Name {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  name: string;
}

/**
 * IPv6 extension headers that may precede UDP: 1 = length in 8-octet units after the first 8
 * (hop-by-hop, routing, destination options, mobility, HIP, shim6, experimental), 2 = AH (length
 * in 4-octet units after the first 8), 0 = not an extension header we can walk (ESP, no next
 * header, upper layers). The fragment header (44) is handled by the caller.
 */
function ext6Kind(nh: number): number {
  switch (nh) {
    case 0:
    case 43:
    case 60:
    case 135:
    case 139:
    case 140:
    case 253:
    case 254:
      return 1;
    case 51:
      return 2;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// IP reassembly

interface Pending {
  firstMicros: number;
  starts: number[];
  pieces: Uint8Array[];
  /** Bytes held (no overlaps, so complete when it equals total). */
  received: number;
  /** Payload length, known once the last fragment arrived; -1 before. */
  total: number;
}

/**
 * Bounded IPv4/IPv6 reassembly. Fragments are held as views into the capture buffer; the payload
 * is copied once, when the datagram completes. Pending datagrams are kept in arrival order (a
 * Map's insertion order), so the oldest is the first to time out or be evicted.
 */
class Reassembler {
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;
  private readonly maxPending: number;
  private readonly maxBytes: number;
  private readonly timeout: number;
  private readonly counts: FragmentCounts;

  constructor(options: Required<CaptureReaderOptions>, counts: FragmentCounts) {
    this.maxPending = Math.max(1, options.maxPendingReassemblies);
    this.maxBytes = options.maxPendingBytes;
    this.timeout = options.reassemblyTimeoutMicros;
    this.counts = counts;
  }

  /**
   * Add the fragment holding bytes [offset, offset + data.length) of the IP payload identified by
   * `key`; `maxEnd` is the largest payload length the IP version allows. Returns the whole
   * payload when this fragment completes it, else null.
   */
  add(key: string, offset: number, more: boolean, data: Uint8Array, maxEnd: number, now: number): Uint8Array | null {
    const c = this.counts;
    c.received++;
    this.expire(now);
    const len = data.length;
    const end = offset + len;
    if (len === 0 || end > maxEnd || (more && (len & 7) !== 0)) {
      c.invalid++;
      return null;
    }
    let entry = this.pending.get(key);
    if (entry !== undefined) {
      const contradicts = more
        ? entry.total >= 0 && end > entry.total
        : (entry.total >= 0 && entry.total !== end) || entry.starts.some((s, i) => s + entry!.pieces[i]!.length > end);
      if (contradicts) {
        c.invalid++;
        this.drop(key, entry);
        return null;
      }
      for (let i = 0; i < entry.starts.length; i++) {
        const s = entry.starts[i]!;
        const e = s + entry.pieces[i]!.length;
        if (s < end && offset < e) {
          if (s === offset && e === end) c.duplicates++;
          else {
            c.overlapping++;
            this.drop(key, entry);
          }
          return null;
        }
      }
    }
    if (len > this.maxBytes) {
      c.evicted++;
      if (entry !== undefined) this.drop(key, entry);
      return null;
    }
    // Make room, oldest first (never the entry being added to).
    for (const [k, e] of this.pending) {
      if (this.bytes + len <= this.maxBytes && (entry !== undefined || this.pending.size < this.maxPending)) break;
      if (e === entry) continue;
      c.evicted++;
      this.drop(k, e);
    }
    if (this.bytes + len > this.maxBytes) {
      // Only the entry itself is left and it cannot grow further.
      c.evicted++;
      if (entry !== undefined) this.drop(key, entry);
      return null;
    }
    if (entry === undefined) {
      entry = { firstMicros: now, starts: [], pieces: [], received: 0, total: -1 };
      this.pending.set(key, entry);
    }
    entry.starts.push(offset);
    entry.pieces.push(data);
    entry.received += len;
    this.bytes += len;
    if (!more) entry.total = end;
    if (entry.total < 0 || entry.received !== entry.total) return null;
    this.drop(key, entry);
    const out = new Uint8Array(entry.total);
    for (let i = 0; i < entry.starts.length; i++) out.set(entry.pieces[i]!, entry.starts[i]!);
    return out;
  }

  /** Count what is still pending as incomplete and release it. */
  finish(): void {
    this.counts.incomplete += this.pending.size;
    this.pending.clear();
    this.bytes = 0;
  }

  private expire(now: number): void {
    for (const [k, e] of this.pending) {
      if (now - e.firstMicros <= this.timeout) break;
      this.counts.timedOut++;
      this.drop(k, e);
    }
  }

  private drop(key: string, entry: Pending): void {
    this.pending.delete(key);
    this.bytes -= entry.received;
  }
}

// ---------------------------------------------------------------------------------------------
// Address text: one implementation for the whole project (src/sflow/addresses.ts).

export { formatIPv4, formatIPv6 } from '../sflow/addresses.js';
