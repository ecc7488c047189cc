// Classic pcap (libpcap 2.4, microsecond timestamps, little-endian) for simulated sFlow:
// each datagram as an IPv4/UDP packet from its agent to the collector, on an Ethernet
// (LINKTYPE_ETHERNET 1, default) or raw-IP (LINKTYPE_RAW 101) link.
// https://www.tcpdump.org/manpages/pcap-savefile.5.html, https://www.tcpdump.org/linktypes.html

import { open, type FileHandle } from 'node:fs/promises';
import { ipv4ToNumber } from './packets.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

export interface PcapWriterOptions {
  /** 'ethernet' (default) or 'raw' (IPv4 packets without a link header). */
  link?: 'ethernet' | 'raw';
  /** Compute UDP checksums (default true; 0 = "no checksum" is legal for IPv4 but looks odd). */
  udpChecksum?: boolean;
}

export interface UdpEndpoint {
  /** IPv4 address, dotted quad. */
  ip: string;
  port: number;
}

/** Builds pcap bytes: the file header, then one record per datagram. No I/O. */
export class PcapWriter {
  readonly linkType: number;
  private readonly udpChecksum: boolean;
  private readonly ipIds = new Map<number, number>();

  constructor(options: PcapWriterOptions = {}) {
    this.linkType = options.link === 'raw' ? LINKTYPE_RAW : LINKTYPE_ETHERNET;
    this.udpChecksum = options.udpChecksum ?? true;
  }

  /** The 24-byte global header. */
  header(): Uint8Array {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true); // thiszone
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, 65535, true); // snaplen
    v.setUint32(20, this.linkType, true);
    return b;
  }

  /** Size of the record `udpRecord` makes for a payload of `len` bytes. */
  recordSize(len: number): number {
    return 16 + (this.linkType === LINKTYPE_ETHERNET ? 14 : 0) + 28 + len;
  }

  /**
   * One record: `payload` as a UDP datagram from `src` to `dst`, captured at `timeMs` (ms since
   * the Unix epoch). Written into `out` at `at` when given (returns the bytes written), else
   * into a new array (returned).
   */
  udpRecord(timeMs: number, src: UdpEndpoint, dst: UdpEndpoint, payload: Uint8Array): Uint8Array;
  udpRecord(timeMs: number, src: UdpEndpoint, dst: UdpEndpoint, payload: Uint8Array, out: Uint8Array, at: number): number;
  udpRecord(timeMs: number, src: UdpEndpoint, dst: UdpEndpoint, payload: Uint8Array, out?: Uint8Array, at = 0): Uint8Array | number {
    const size = this.recordSize(payload.length);
    const b = out ?? new Uint8Array(size);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const us = Math.round(timeMs * 1000);
    const sec = Math.floor(us / 1e6);
    const frameLen = size - 16;
    v.setUint32(at, sec, true);
    v.setUint32(at + 4, us - sec * 1e6, true);
    v.setUint32(at + 8, frameLen, true);
    v.setUint32(at + 12, frameLen, true);
    let p = at + 16;
    const srcNum = ipv4ToNumber(src.ip);
    const dstNum = ipv4ToNumber(dst.ip);
    if (this.linkType === LINKTYPE_ETHERNET) {
      // locally administered MACs derived from the addresses
      b[p] = 0x02;
      b[p + 1] = 0x00;
      v.setUint32(p + 2, dstNum);
      b[p + 6] = 0x02;
      b[p + 7] = 0x00;
      v.setUint32(p + 8, srcNum);
      v.setUint16(p + 12, 0x0800);
      p += 14;
    }
    const ip = p;
    const id = ((this.ipIds.get(srcNum) ?? srcNum * 7) + 1) & 0xffff;
    this.ipIds.set(srcNum, id);
    v.setUint8(ip, 0x45);
    v.setUint8(ip + 1, 0);
    v.setUint16(ip + 2, 28 + payload.length);
    v.setUint16(ip + 4, id);
    v.setUint16(ip + 6, 0x4000);
    v.setUint8(ip + 8, 64);
    v.setUint8(ip + 9, 17);
    v.setUint16(ip + 10, 0);
    v.setUint32(ip + 12, srcNum);
    v.setUint32(ip + 16, dstNum);
    v.setUint16(ip + 10, finish(sum(b, ip, 20, 0)));
    const udp = ip + 20;
    v.setUint16(udp, src.port);
    v.setUint16(udp + 2, dst.port);
    v.setUint16(udp + 4, 8 + payload.length);
    v.setUint16(udp + 6, 0);
    b.set(payload, udp + 8);
    if (this.udpChecksum) {
      let acc = sum(b, ip + 12, 8, 0) + 17 + 8 + payload.length;
      acc = sum(b, udp, 8 + payload.length, acc);
      v.setUint16(udp + 6, finish(acc) || 0xffff);
    }
    return out ? size : b;
  }
}

function sum(b: Uint8Array, off: number, len: number, acc: number): number {
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i < end) acc += b[i]! << 8;
  return acc;
}

function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return ~acc & 0xffff;
}

/** A pcap file being written, with buffered appends. */
export class PcapFileWriter {
  readonly writer: PcapWriter;
  private readonly fh: FileHandle;
  private buf = new Uint8Array(1 << 22);
  private pos = 0;
  packets = 0;
  bytes = 0;

  private constructor(fh: FileHandle, writer: PcapWriter) {
    this.fh = fh;
    this.writer = writer;
    this.buf.set(writer.header(), 0);
    this.pos = 24;
  }

  static async create(path: string, options: PcapWriterOptions = {}): Promise<PcapFileWriter> {
    const fh = await open(path, 'w');
    return new PcapFileWriter(fh, new PcapWriter(options));
  }

  /** Append one datagram; resolves at once unless the buffer had to be written out. */
  async writeUdp(timeMs: number, src: UdpEndpoint, dst: UdpEndpoint, payload: Uint8Array): Promise<void> {
    const size = this.writer.recordSize(payload.length);
    if (this.pos + size > this.buf.length) await this.drain();
    if (size > this.buf.length) this.buf = new Uint8Array(size * 2);
    this.writer.udpRecord(timeMs, src, dst, payload, this.buf, this.pos);
    this.pos += size;
    this.packets++;
    this.bytes += size;
  }

  /** True when the in-memory buffer should be written out before more records are added. */
  get needsDrain(): boolean {
    return this.pos > this.buf.length - 70000;
  }

  async drain(): Promise<void> {
    if (this.pos === 0) return;
    await this.fh.write(this.buf, 0, this.pos);
    this.pos = 0;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.fh.close();
  }
}
