// The sFlow UDP receiver on its own thread.
//
// Node's UDP path costs several microseconds per datagram (a JS callback, a Buffer, an rinfo
// object): on one thread it caps a collector near the rate a bare counting socket reaches. Here a
// worker thread owns the socket and only copies each datagram into a ring in a SharedArrayBuffer;
// the main thread drains the ring in batches and runs the (synchronous) pipeline on each datagram.
// The two run on separate cores. When the main thread falls behind and the ring is full, the
// worker drops the datagram and counts it (sFlow-RT's `sFlowDatagramsDiscarded`: its worker queue
// overflowing).
//
// Ring: a byte ring of records [u32 length + 1][u8 family][u8 0][u16 port][16-byte address][payload],
// 4-byte aligned; a length of 0 (or no room for one) at the end means "continue at 0". The writer
// owns `write`, the reader owns `read`; `used` is shared (Atomics). The reader sleeps on `wake`
// with Atomics.waitAsync when the ring is empty.

import { Worker } from 'node:worker_threads';
import { isIPv4 } from 'node:net';
import { formatIPv4, formatIPv6 } from '../sflow/addresses.js';
import { udpPortDrops, type DatagramHandler, type UdpReceiverOptions } from './udp.js';

const C_WRITE = 0;
const C_READ = 1;
const C_USED = 2;
const C_DROPPED = 3;
const C_WAKE = 4;
const C_SLEEPING = 5;
const C_RECEIVED = 6;
const HEADER = 24;

/** The worker: plain JavaScript (it runs under tsx, vitest and the compiled build alike). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { sab, capacity, port, bind, type, recvBufferSize } = workerData;
const ctrl = new Int32Array(sab, 0, 8);
const data = new Uint8Array(sab, 64, capacity);
const view = new DataView(sab, 64, capacity);
const sock = dgram.createSocket({ type, ipv6Only: false, recvBufferSize });
let write = 0;
let lastAddress = '';
let lastFamily = 4;
const lastBytes = new Uint8Array(16);
function put(msg, rinfo) {
  Atomics.add(ctrl, ${C_RECEIVED}, 1);
  const len = msg.length;
  const need = (${HEADER} + len + 3) & ~3;
  let skip = write + need > capacity ? capacity - write : 0;
  if (Atomics.load(ctrl, ${C_USED}) + skip + need > capacity) { Atomics.add(ctrl, ${C_DROPPED}, 1); return; }
  if (skip > 0) { if (skip >= 4) view.setUint32(write, 0); write = 0; }
  view.setUint32(write, len + 1);
  const a = rinfo.address;
  // Agents send from few addresses: parse an address once, then copy its 16 bytes.
  if (a !== lastAddress) {
    lastAddress = a;
    lastFamily = 4;
    if (a.indexOf(':') >= 0) {
      if (a.startsWith('::ffff:') && a.indexOf('.') > 0) writeV4(a.slice(7));
      else { lastFamily = 6; writeV6(a); }
    } else writeV4(a);
    lastBytes.set(data.subarray(write + 8, write + 24));
  } else data.set(lastBytes, write + 8);
  data[write + 4] = lastFamily;
  data[write + 5] = 0;
  view.setUint16(write + 6, rinfo.port);
  data.set(msg, write + ${HEADER});
  write += need;
  if (write >= capacity) write = 0;
  Atomics.store(ctrl, ${C_WRITE}, write);
  Atomics.add(ctrl, ${C_USED}, skip + need);
  if (Atomics.load(ctrl, ${C_SLEEPING}) === 1) {
    Atomics.store(ctrl, ${C_SLEEPING}, 0);
    Atomics.add(ctrl, ${C_WAKE}, 1);
    Atomics.notify(ctrl, ${C_WAKE});
  }
}
function writeV4(s) {
  let o = write + 8, n = 0, k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { data[o + k++] = n; n = 0; } else n = n * 10 + (c - 48);
  }
  data[o + k] = n;
}
function writeV6(s) {
  const o = write + 8;
  data.fill(0, o, o + 16);
  let head = s, tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) { head = s.slice(0, dbl); tail = s.slice(dbl + 2); }
  const hw = head === '' ? [] : head.split(':');
  const tw = tail === '' ? [] : tail.split(':');
  for (let i = 0; i < hw.length; i++) { const v = parseInt(hw[i], 16) || 0; data[o + 2 * i] = v >> 8; data[o + 2 * i + 1] = v & 255; }
  for (let i = 0; i < tw.length; i++) { const j = 8 - tw.length + i; const v = parseInt(tw[i], 16) || 0; data[o + 2 * j] = v >> 8; data[o + 2 * j + 1] = v & 255; }
}
sock.on('message', put);
sock.once('error', (err) => parentPort.postMessage({ type: 'error', message: err.message, code: err.code }));
sock.bind(port, bind, () => {
  sock.removeAllListeners('error');
  sock.on('error', () => {});
  try { sock.setRecvBufferSize(recvBufferSize); } catch {}
  const a = sock.address();
  let rcvbuf = null;
  try { rcvbuf = sock.getRecvBufferSize(); } catch {}
  parentPort.postMessage({ type: 'listening', address: a.address, port: a.port, rcvbuf });
});
parentPort.on('message', (m) => { if (m === 'stop') sock.close(() => { parentPort.postMessage({ type: 'closed' }); parentPort.close(); }); });
`;

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** Whether this Node.js can run the threaded receiver (Atomics.waitAsync). */
export const THREADED_UDP_AVAILABLE = typeof waitAsync === 'function';

export interface ThreadedUdpReceiverOptions extends UdpReceiverOptions {
  /** Ring size in bytes (default 16 MiB: ~11,000 datagrams of 1,400 bytes, 0.1 s at 100k/s). */
  ringBytes?: number;
  /** Datagrams handled per batch before yielding to the event loop (default 2,000). */
  batch?: number;
}

export class ThreadedUdpReceiver {
  private worker: Worker | null = null;
  private readonly sab: SharedArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly capacity: number;
  /** Non-shared copy of the datagram being handled (TextDecoder refuses shared memory). */
  private readonly scratch = new Uint8Array(65536 + 8);
  private readonly v4Names = new Map<number, string>();
  private read = 0;
  private stopped = false;
  private boundPort = 0;
  private rcvbuf: number | null = null;
  private pumping = false;

  constructor(
    private readonly opts: ThreadedUdpReceiverOptions,
    private readonly onDatagram: DatagramHandler,
  ) {
    this.capacity = Math.max(1 << 20, (opts.ringBytes ?? 16 << 20) & ~3);
    this.sab = new SharedArrayBuffer(64 + this.capacity);
    this.ctrl = new Int32Array(this.sab, 0, 8);
    this.data = new Uint8Array(this.sab, 64, this.capacity);
    this.view = new DataView(this.sab, 64, this.capacity);
  }

  async start(): Promise<{ address: string; port: number }> {
    const v4 = isIPv4(this.opts.bind);
    try {
      return await this.spawn(v4 ? 'udp4' : 'udp6', this.opts.bind);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!v4 && this.opts.bind === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) return this.spawn('udp4', '0.0.0.0');
      throw e;
    }
  }

  private spawn(type: 'udp4' | 'udp6', bind: string): Promise<{ address: string; port: number }> {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { sab: this.sab, capacity: this.capacity, port: this.opts.port, bind, type, recvBufferSize: this.opts.recvBufferSize },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (m: { type: string; address?: string; port?: number; rcvbuf?: number | null; message?: string; code?: string }) => {
        if (m.type === 'listening') {
          this.worker = w;
          this.boundPort = m.port!;
          this.rcvbuf = m.rcvbuf ?? null;
          w.unref();
          this.sleep();
          resolve({ address: m.address!, port: m.port! });
        } else if (m.type === 'error' && this.worker === null) {
          void w.terminate();
          reject(Object.assign(new Error(m.message), { code: m.code }));
        }
      };
      w.on('message', onMessage);
      w.once('error', (err) => {
        if (this.worker === null) reject(err);
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Datagrams the worker received (before any ring drop). */
  get received(): number {
    return Atomics.load(this.ctrl, C_RECEIVED);
  }

  /** Datagrams dropped because the ring was full (the main thread fell behind). */
  queueDrops(): number {
    return Atomics.load(this.ctrl, C_DROPPED);
  }

  receiveBufferSize(): number | null {
    return this.rcvbuf;
  }

  kernelDrops(): number | null {
    return this.worker === null ? null : udpPortDrops(this.boundPort);
  }

  /** Wait for the worker to write, then pump. */
  private sleep(): void {
    if (this.stopped) return;
    const ctrl = this.ctrl;
    const wake = Atomics.load(ctrl, C_WAKE);
    Atomics.store(ctrl, C_SLEEPING, 1);
    if (Atomics.load(ctrl, C_USED) > 0) {
      Atomics.store(ctrl, C_SLEEPING, 0);
      setImmediate(this.pump);
      return;
    }
    const w = waitAsync!(ctrl, C_WAKE, wake);
    if (w.async) (w.value as Promise<string>).then(this.pump, this.pump);
    else setImmediate(this.pump);
  }

  private readonly pump = (): void => {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    let n = 0;
    try {
      n = this.drain(this.opts.batch ?? 2000);
    } finally {
      this.pumping = false;
    }
    if (n > 0) setImmediate(this.pump);
    else this.sleep();
  };

  /** Hand up to `max` datagrams to the handler; returns how many. */
  drain(max: number): number {
    const ctrl = this.ctrl;
    const data = this.data;
    const view = this.view;
    const cap = this.capacity;
    const used = Atomics.load(ctrl, C_USED);
    let pos = this.read;
    let consumed = 0;
    let n = 0;
    while (consumed < used && n < max) {
      if (pos + 4 > cap || view.getUint32(pos) === 0) {
        consumed += cap - pos;
        pos = 0;
        continue;
      }
      const len = view.getUint32(pos) - 1;
      const source = data[pos + 4] === 4 ? this.v4(pos + 8) : formatIPv6(data, pos + 8);
      const bytes = this.scratch.subarray(0, len);
      bytes.set(data.subarray(pos + HEADER, pos + HEADER + len));
      const need = (HEADER + len + 3) & ~3;
      pos += need;
      if (pos >= cap) pos = 0;
      consumed += need;
      n++;
      this.onDatagram(bytes, source);
    }
    this.read = pos;
    if (consumed > 0) {
      Atomics.store(ctrl, C_READ, pos);
      Atomics.sub(ctrl, C_USED, consumed);
    }
    return n;
  }

  private v4(o: number): string {
    const d = this.data;
    const key = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
    let s = this.v4Names.get(key);
    if (s === undefined) {
      if (this.v4Names.size >= 4096) this.v4Names.clear();
      s = formatIPv4(d, o);
      this.v4Names.set(key, s);
    }
    return s;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.add(this.ctrl, C_WAKE, 1);
    Atomics.notify(this.ctrl, C_WAKE);
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => void w.terminate().then(() => resolve()), 2000);
      w.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      w.postMessage('stop');
    });
  }
}
