// `sflowscope sim`: run the cluster simulator, sending sFlow to a collector in real time or
// writing a pcap file as fast as it can be generated.

import { parseArgs } from 'node:util';
import { isIPv4 } from 'node:net';
import { writeSimulationPcap } from '../sim/capture.js';
import { clusterDnsResponder, type DnsResponder } from '../sim/dns-responder.js';
import { ClusterSimulator, type SimDatagram, type SimStats } from '../sim/simulator.js';
import { UdpSender } from '../sim/udp-sender.js';

const USAGE = `Usage: sflowscope sim [options]

Simulates a Kubernetes/GPU cluster of Host sFlow agents (hsflowd) and sends their sFlow
to a collector in real time, or writes it to a pcap file.

Options:
  --nodes N              nodes (agents) in the cluster (default 180)
  --seed N               seed: the same seed gives the same cluster and traffic (default 1)
  --rate N               target datagrams per second, whole cluster (default 1000)
  --duration SECONDS     simulated time to run (default: until interrupted; 60 with --pcap)
  --collector HOST:PORT  where to send sFlow (default 127.0.0.1:6343)
  --pcap FILE            write a pcap file instead of sending (no pacing)
  --polling SECONDS      counter polling interval (default 20)
  --sampling N           packet sampling rate, 1-in-N (default 10)
  --dns-port PORT        also answer reverse DNS for the cluster on 127.0.0.1:PORT
  --start TIME           simulated start time, ISO 8601 or ms since the epoch (default: now)
  --style STYLE          hsflowd (default) or switch (only structures switches send)
  --speed X              simulated seconds per wall second when sending (default 1)
  --agent-offset N       add N to every agent's IPv4 address as sent, so several sim processes
                         can feed one collector as distinct agents (default 0)
  -h, --help             show this help
`;

function fail(msg: string): number {
  process.stderr.write(`sflowscope sim: ${msg}\n${USAGE}`);
  return 2;
}

function int(v: string | undefined, name: string, min: number): number | string {
  if (v === undefined) return NaN;
  if (!/^\d+$/.test(v) || Number(v) < min) return `--${name} needs an integer >= ${min}, got '${v}'`;
  return Number(v);
}

function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

function summary(s: SimStats, seconds: number): string {
  const apps = Object.entries(s.flowSamplesByApp)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `${s.datagrams} datagrams (${(s.datagrams / Math.max(seconds, 1e-9)).toFixed(0)}/s), ${s.bytes} bytes; ` +
    `${s.flowSamples} flow samples, ${s.counterSamples} counter samples, ${s.discardSamples} discard samples` +
    (apps ? `\nflow samples by application: ${apps}` : '')
  );
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        collector: { type: 'string' },
        pcap: { type: 'string' },
        polling: { type: 'string' },
        sampling: { type: 'string' },
        'dns-port': { type: 'string' },
        start: { type: 'string' },
        style: { type: 'string' },
        speed: { type: 'string' },
        'agent-offset': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const num: Record<string, number> = {};
  for (const [name, min] of [
    ['nodes', 1],
    ['seed', 0],
    ['rate', 0],
    ['polling', 1],
    ['sampling', 1],
    ['dns-port', 0],
    ['agent-offset', 0],
  ] as const) {
    const r = int(values[name] as string | undefined, name, min);
    if (typeof r === 'string') return fail(r);
    num[name] = r;
  }
  let duration = NaN;
  if (values.duration !== undefined) {
    duration = Number(values.duration);
    if (!(duration > 0)) return fail(`--duration needs a positive number of seconds, got '${values.duration}'`);
  }
  let speed = 1;
  if (values.speed !== undefined) {
    speed = Number(values.speed);
    if (!(speed > 0)) return fail(`--speed needs a positive number, got '${values.speed}'`);
  }
  let start = Date.now();
  if (values.start !== undefined) {
    const s = values.start as string;
    start = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(start)) return fail(`--start needs an ISO 8601 time or ms since the epoch, got '${s}'`);
  }
  const style = (values.style as string | undefined) ?? 'hsflowd';
  if (style !== 'hsflowd' && style !== 'switch') return fail(`--style is hsflowd or switch, got '${style}'`);
  const collector = parseHostPort((values.collector as string | undefined) ?? '127.0.0.1:6343');
  if (!collector) return fail(`--collector needs HOST:PORT, got '${values.collector}'`);
  if (num.nodes! > 2048) return fail('--nodes is at most 2048');

  const sim = new ClusterSimulator({
    nodes: Number.isNaN(num.nodes!) ? undefined : num.nodes,
    seed: Number.isNaN(num.seed!) ? undefined : num.seed,
    rate: Number.isNaN(num.rate!) ? undefined : num.rate,
    pollingInterval: Number.isNaN(num.polling!) ? undefined : num.polling,
    samplingRate: Number.isNaN(num.sampling!) ? undefined : num.sampling,
    startTimeMs: start,
    style,
  });
  const o = sim.options;
  const out = process.stdout;
  out.write(
    `sflowscope sim: ${o.nodes} nodes (${sim.cluster.pods.length} pods, ${sim.cluster.nodes.reduce((n, x) => n + x.gpus.length, 0)} GPUs), seed ${o.seed}, ` +
      `~${Math.round(sim.plannedRate)} datagrams/s, sampling 1-in-${o.samplingRate}, polling ${o.pollingInterval}s\n`,
  );

  if (values.pcap !== undefined) {
    const seconds = Number.isNaN(duration) ? 60 : duration;
    const dst = isIPv4(collector.host) ? collector.host : '127.0.0.1';
    if (!Number.isNaN(num['dns-port']!)) process.stderr.write('sflowscope sim: --dns-port is ignored with --pcap\n');
    const t0 = performance.now();
    const r = await writeSimulationPcap(sim, values.pcap as string, { durationMs: seconds * 1000, collector: { ip: dst, port: collector.port } });
    const wall = (performance.now() - t0) / 1000;
    out.write(`wrote ${r.packets} packets to ${values.pcap} (${seconds} s simulated in ${wall.toFixed(1)} s)\n${summary(sim.stats(), seconds)}\n`);
    return 0;
  }

  let dns: DnsResponder | null = null;
  if (!Number.isNaN(num['dns-port']!)) {
    dns = clusterDnsResponder(sim.cluster, { host: '127.0.0.1', port: num['dns-port'] });
    try {
      await dns.start();
    } catch (e) {
      return fail(`cannot listen for DNS on 127.0.0.1:${num['dns-port']}: ${(e as Error).message}`);
    }
    out.write(`answering reverse DNS for the cluster on 127.0.0.1:${dns.port}\n`);
  }
  const offset = Number.isNaN(num['agent-offset']!) ? 0 : num['agent-offset']!;
  const sender = new UdpSender(offset > 0 ? shiftAgents(sim, offset) : sim, { host: collector.host, port: collector.port, speed, durationMs: Number.isNaN(duration) ? undefined : duration * 1000 });
  const t0 = performance.now();
  const startSim = sim.now;
  const onSignal = (): void => {
    void sender.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await sender.start();
    out.write(`sending to ${collector.host}:${collector.port}${Number.isNaN(duration) ? ' until interrupted' : ` for ${duration} s`}\n`);
    await sender.done;
  } catch (e) {
    await dns?.stop();
    return fail(`cannot send to ${collector.host}:${collector.port}: ${(e as Error).message}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await dns?.stop();
  const wall = (performance.now() - t0) / 1000;
  const simSeconds = (sim.now - startSim) / 1000;
  out.write(`${summary(sim.stats(), Math.min(simSeconds, wall * speed))}\nsend errors: ${sender.stats.errors}\n`);
  // The model's own figure above is per simulated second; a sender short of CPU falls behind the
  // wall clock, so this line (read by scripts/soak.ts) is what actually left, per wall second.
  const st = sender.stats;
  out.write(`sent ${st.sent} datagrams, ${st.bytes} bytes in ${wall.toFixed(3)} s wall (${(st.sent / Math.max(wall, 1e-9)).toFixed(0)}/s); send errors ${st.errors}\n`);
  return 0;
}

/**
 * The simulator as UdpSender sees it, with each datagram's IPv4 agent_address (after version
 * and address type) raised by `offset`: several processes with the same cluster model then
 * reach the collector as different agents instead of interleaving one agent's sequence numbers.
 */
function shiftAgents(sim: ClusterSimulator, offset: number): ClusterSimulator {
  const shift = (d: SimDatagram): SimDatagram => {
    const b = d.bytes;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b.byteLength >= 12 && v.getUint32(4) === 1) v.setUint32(8, (v.getUint32(8) + offset) >>> 0);
    return d;
  };
  const view = {
    get now() {
      return sim.now;
    },
    advance: (untilMs: number, sink: (d: SimDatagram) => void) => sim.advance(untilMs, (d) => sink(shift(d))),
  };
  return view as unknown as ClusterSimulator;
}
