// Free loopback ports for servers a test starts as separate processes (Prometheus, the container
// command): bind port 0, read it, release it. Another process could take it in between; on a test
// machine that race is rare enough, and the server then fails to start visibly.

import dgram from 'node:dgram';
import net from 'node:net';

export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.once('error', reject).bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
