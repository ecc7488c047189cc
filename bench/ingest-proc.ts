// The processes of the ingest benchmark (started by bench/ingest.bench.ts with `fork`):
//   serve ARGS...   `sflowscope serve` (the real server)
//   bare            a bare Node dgram socket that only counts datagrams (the baseline)
//   sender          replays the generated workload over UDP on command (IPC)

import dgram from 'node:dgram';
import { clusterPoll, rateTemplates, Sequencer } from './ingest-workload.js';

const [role, ...args] = process.argv.slice(2);

interface RunCommand {
  cmd: 'rate';
  port: number;
  rate: number;
  seconds: number;
}
interface ClusterCommand {
  cmd: 'cluster';
  port: number;
  nodes: number;
  pods: number;
  polls: number;
  rate: number;
}
type Command = RunCommand | ClusterCommand | { cmd: 'exit' };

function sleep(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

async function connect(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()));
  s.on('error', () => {});
  return s;
}

/** Send `next()` datagrams at `rate` per second for `seconds` (or until `next` returns null). */
async function paced(sock: dgram.Socket, rate: number, seconds: number, next: () => Uint8Array | null): Promise<{ sent: number; seconds: number }> {
  const start = performance.now();
  const end = seconds * 1000;
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= end) break;
    const due = Math.floor((elapsed * rate) / 1000) - sent;
    let k = 0;
    // libuv may hold a send request until its next loop iteration: a template is rewritten only
    // after thousands of others were sent, so keep the queue well below the number of templates.
    while (k < due && k < 512 && sock.getSendQueueCount() < 1024) {
      const b = next();
      if (b === null) return { sent, seconds: (performance.now() - start) / 1000 };
      sock.send(b);
      sent++;
      k++;
    }
    // Caught up: sleep a millisecond instead of spinning, leaving the CPU to the collector.
    if (k >= due) await new Promise<void>((r) => setTimeout(r, 1));
    else await sleep();
  }
  while (sock.getSendQueueCount() > 0) await sleep();
  return { sent, seconds: (performance.now() - start) / 1000 };
}

if (role === 'serve') {
  const { run } = await import('../src/cli/serve.js');
  process.exitCode = await run(args);
} else if (role === 'bare') {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  let count = 0;
  s.on('message', () => count++);
  s.bind(0, '127.0.0.1', () => process.send!({ port: s.address().port }));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'count') process.send!({ count });
    if (m.cmd === 'exit') s.close(() => process.exit(0));
  });
} else if (role === 'sender') {
  const set = rateTemplates(200, 10);
  const seq = new Sequencer(set);
  let i = 0;
  const t0 = Date.now();
  const clusterSeq = new Uint32Array(100_000);
  process.on('message', async (m: Command) => {
    if (m.cmd === 'exit') process.exit(0);
    const sock = await connect(m.port);
    if (m.cmd === 'rate') {
      const r = await paced(sock, m.rate, m.seconds, () => seq.next(set.templates[i++ % set.templates.length]!, Date.now() - t0));
      sock.close();
      process.send!({ ...r, samples: r.sent * (set.templates.reduce((s, t) => s + t.samples, 0) / set.templates.length) });
    } else {
      let sent = 0;
      let seconds = 0;
      for (let p = 0; p < m.polls; p++) {
        const batch = clusterPoll(m.nodes, m.pods, p, clusterSeq);
        let k = 0;
        const r = await paced(sock, m.rate, 3600, () => (k < batch.length ? batch[k++]! : null));
        sent += r.sent;
        seconds += r.seconds;
      }
      sock.close();
      process.send!({ sent, seconds });
    }
  });
  process.send!({ ready: true, templates: set.templates.length });
} else {
  process.stderr.write(`unknown role ${role}\n`);
  process.exitCode = 2;
}
