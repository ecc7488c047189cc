// The sFlow UDP receiver: one socket (dual-stack when bound to `::`), each datagram handed
// synchronously to the pipeline. The `message` handler is the hot path: no await, no logging.

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';

export interface UdpReceiverOptions {
  port: number;
  /** `::` = every IPv4 and IPv6 address. */
  bind: string;
  /** Requested SO_RCVBUF (bytes). */
  recvBufferSize: number;
}

/** Receives each datagram: `bytes` is only valid during the call (it may be reused). */
export type DatagramHandler = (bytes: Uint8Array, source: string) => void;

/** `::ffff:a.b.c.d` → `a.b.c.d` (what a dual-stack socket reports for IPv4 senders). */
export function normalizeAddress(a: string): string {
  return a.length > 7 && a.charCodeAt(0) === 58 /* : */ && a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class UdpReceiver {
  private socket: dgram.Socket | null = null;
  private boundPort = 0;

  constructor(
    private readonly opts: UdpReceiverOptions,
    private readonly onDatagram: DatagramHandler,
  ) {}

  /** Bind; resolves with the bound address and port. Falls back to IPv4 when IPv6 is unavailable. */
  async start(): Promise<{ address: string; port: number }> {
    const v4 = isIPv4(this.opts.bind);
    try {
      return await this.bind(v4 ? 'udp4' : 'udp6', this.opts.bind);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!v4 && this.opts.bind === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) return this.bind('udp4', '0.0.0.0');
      throw e;
    }
  }

  private bind(type: 'udp4' | 'udp6', address: string): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type, ipv6Only: false, recvBufferSize: this.opts.recvBufferSize });
      const onError = (err: Error) => {
        s.close();
        reject(err);
      };
      s.once('error', onError);
      const handler = this.onDatagram;
      s.on('message', (msg, rinfo) => handler(msg, normalizeAddress(rinfo.address)));
      s.bind(this.opts.port, address, () => {
        s.off('error', onError);
        // A receive error must not take the process down (e.g. ICMP noise); nothing to do with it.
        s.on('error', () => {});
        try {
          s.setRecvBufferSize(this.opts.recvBufferSize);
        } catch {
          // capped by the kernel; the effective size is reported in /analyzer/json
        }
        this.socket = s;
        const a = s.address();
        this.boundPort = a.port;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  receiveBufferSize(): number | null {
    try {
      return this.socket?.getRecvBufferSize() ?? null;
    } catch {
      return null;
    }
  }

  /** Datagrams the kernel dropped for this port (Linux /proc/net/udp{,6} `drops`), or null. */
  kernelDrops(): number | null {
    return this.socket === null ? null : udpPortDrops(this.boundPort);
  }

  stop(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s === null) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}

/** Sum of the kernel's `drops` column for UDP sockets bound to `port` (Linux), or null if unreadable. */
export function udpPortDrops(port: number): number | null {
  let found = false;
  let drops = 0;
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13 || !cols[1]!.endsWith(hexPort)) continue;
      found = true;
      drops += Number(cols[cols.length - 1]) || 0;
    }
  }
  return found ? drops : null;
}
