import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ThreadedUdpReceiver } from './udp-thread.js';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function datagram(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, i);
  for (let k = 4; k < size; k++) b[k] = (i + k) & 0xff;
  return b;
}

describe('ThreadedUdpReceiver', () => {
  it('hands every datagram over, intact and in order, across many wraps of the ring', async () => {
    const got: number[] = [];
    let bad = 0;
    const rx = new ThreadedUdpReceiver({ port: 0, bind: '127.0.0.1', recvBufferSize: 4 << 20, ringBytes: 1 << 20 }, (bytes, source) => {
      const i = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      for (let k = 4; k < bytes.length; k++) if (bytes[k] !== ((i + k) & 0xff)) bad++;
      if (source !== '127.0.0.1') bad++;
      got.push(i);
    });
    const { port } = await rx.start();
    const tx = dgram.createSocket('udp4');
    const N = 3000;
    for (let i = 0; i < N; i++) {
      await new Promise<void>((r) => tx.send(datagram(i, 700 + (i % 600)), port, '127.0.0.1', () => r()));
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 2));
    }
    tx.close();
    await until(() => got.length + rx.queueDrops() + (rx.kernelDrops() ?? 0) >= N);
    await rx.stop();
    expect(bad).toBe(0);
    expect(rx.queueDrops()).toBe(0);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('counts what it drops when the main thread falls behind, and recovers', async () => {
    let got = 0;
    const rx = new ThreadedUdpReceiver({ port: 0, bind: '127.0.0.1', recvBufferSize: 4 << 20, ringBytes: 1 << 20 }, () => got++);
    const { port } = await rx.start();
    // Another process sends 4,000 datagrams of 1,000 bytes while this thread is busy for 1.5 s.
    const N = 4000;
    const sender = spawn(process.execPath, [
      '-e',
      `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(1000,7);let i=0;function go(){for(let k=0;k<200&&i<${N};k++,i++)s.send(b,${port},'127.0.0.1');if(i<${N})setTimeout(go,1);else setTimeout(()=>s.close(),100)};setTimeout(go,200);`,
    ]);
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      // busy: the ring (1 MiB ≈ 1,000 datagrams) fills up
    }
    await new Promise((r) => sender.once('exit', r));
    await until(() => got + rx.queueDrops() + (rx.kernelDrops() ?? 0) >= N);
    expect(rx.queueDrops()).toBeGreaterThan(0);
    expect(got).toBeGreaterThan(500);
    expect(got + rx.queueDrops() + (rx.kernelDrops() ?? 0)).toBe(N);
    expect(rx.received).toBe(got + rx.queueDrops());
    await rx.stop();
  });

  const hasV6 = Object.values(networkInterfaces()).some((l) => l?.some((i) => i.family === 'IPv6' && i.internal));
  it.skipIf(!hasV6)('reports IPv6 and IPv4-mapped sources as text', async () => {
    const sources: string[] = [];
    const rx = new ThreadedUdpReceiver({ port: 0, bind: '::', recvBufferSize: 1 << 20 }, (_b, s) => sources.push(s));
    const { port } = await rx.start();
    for (const [type, host] of [['udp6', '::1'], ['udp4', '127.0.0.1']] as const) {
      const tx = dgram.createSocket(type);
      await new Promise<void>((r) => tx.send(new Uint8Array(0), port, host, () => r()));
      tx.close();
    }
    await until(() => sources.length === 2);
    await rx.stop();
    expect(sources.sort()).toEqual(['127.0.0.1', '::1']);
  });
});
