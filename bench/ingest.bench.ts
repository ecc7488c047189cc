// End-to-end ingest benchmark (`npx tsx bench/ingest.bench.ts`).
//
// A separate sender process replays a generated workload (bench/ingest-workload.ts: ~6.5 flow
// samples per datagram, 200 agents, consistent sequence numbers) over UDP loopback at rising
// rates into
//   - sflowscope (`sflowscope serve`, a separate process, fully decoding and updating metrics),
//   - a bare Node dgram socket that only counts (the ceiling of Node's UDP path),
//   - nfdump's sfcapd (C) when it is installed (`apt-get install nfdump-sflow` on Debian 12;
//     older releases ship it in `nfdump`),
// and reports for each the highest rate with ≤ 0.1 % loss, CPU time per datagram and peak RSS.
// Loss = datagrams sent − datagrams received; for sflowscope it is cross-checked with its own
// sequence accounting (sFlowDatagramsLost) and the kernel's drop counter for the socket.
// Then the 1,000-node memory scenario: 1,000 hosts × (host + 30 pods) polled, RSS after 6 polls.
//
// Environment: BENCH_RATES (comma list, datagrams/s), BENCH_SECONDS (per step, default 5),
// BENCH_SKIP (comma list of: sflowscope, bare, sfcapd, cluster), BENCH_OUT (JSON results file).
// Ratios matter, not absolute numbers: the machine is shared.

import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { udpPortDrops } from '../src/ingest/udp.js';
import { rateTemplates, Sequencer } from './ingest-workload.js';

const RATES = (process.env.BENCH_RATES ?? '20000,40000,60000,80000,90000,100000,110000,120000,140000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const LOSS_LIMIT = 0.001;
const PROC = join(import.meta.dirname, 'ingest-proc.ts');
const CLK_TCK = 100;

interface Step {
  target: number;
  sent: number;
  sendRate: number;
  received: number;
  lossPct: number;
  kernelDrops: number;
  engineLost?: number;
  cpuUsPerDatagram: number;
  /** CPU of the main (JavaScript) thread alone, µs per datagram. */
  mainThreadUsPerDatagram: number;
  cpuLoad: number;
  ok: boolean;
}

interface Collector {
  name: string;
  port: number;
  pid: number;
  received(): Promise<number | null>;
  engineLost?(): Promise<number>;
  stop(): Promise<void>;
}

function cpuMs(pid: number, tid?: number): number {
  const f = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function memKb(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function proc(role: string, args: string[] = []): ChildProcess {
  return fork(PROC, [role, ...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
}

function message<T>(p: ChildProcess): Promise<T> {
  return new Promise((resolve) => p.once('message', (m) => resolve(m as T)));
}

/**
 * The server as users run it: compiled JavaScript (`npm start` runs the build). Compiled once into
 * node_modules/.cache (where node_modules resolve); falls back to tsx if the build emits nothing.
 */
function compiledServer(): string | null {
  const out = join(import.meta.dirname, '..', 'node_modules', '.cache', 'sflowscope-bench');
  rmSync(out, { recursive: true, force: true });
  spawnSync(process.execPath, [join(import.meta.dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(import.meta.dirname, '..', 'tsconfig.json'), '--outDir', out], { stdio: 'ignore' });
  if (!existsSync(join(out, 'cli', 'serve.js'))) return null;
  const entry = join(out, 'bench-serve.mjs');
  writeFileSync(entry, "import { run } from './cli/serve.js';\nprocess.exitCode = await run(process.argv.slice(2));\n");
  return entry;
}
let serverEntry: string | null | undefined;

async function startSflowscope(): Promise<Collector & { http: string }> {
  serverEntry ??= compiledServer();
  const args = ['--sflow-port', '0', '--http-port', '0', '--bind', '127.0.0.1', '--log-level', 'info', '--data-dir', mkdtempSync(join(tmpdir(), 'sfs-bench-'))];
  const p = serverEntry ? spawn(process.execPath, [serverEntry, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : proc('serve', args);
  let buf = '';
  const ports = await new Promise<{ sflow: number; http: number }>((resolve, reject) => {
    const got: { sflow?: number; http?: number } = {};
    p.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        const msg = String((JSON.parse(line) as { msg: string }).msg);
        const m = /^Listening, (sFlow|HTTP) port (\d+)/.exec(msg);
        if (m) got[m[1] === 'sFlow' ? 'sflow' : 'http'] = Number(m[2]);
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
      if (got.sflow && got.http) resolve(got as { sflow: number; http: number });
    });
    p.once('exit', (code) => reject(new Error(`sflowscope exited ${code}`)));
  });
  const http = `http://127.0.0.1:${ports.http}`;
  const agents = async () => (await (await fetch(`${http}/agents/json`)).json()) as Record<string, { sFlowDatagramsReceived: number; sFlowDatagramsLost: number }>;
  return {
    name: 'sflowscope',
    port: ports.sflow,
    pid: p.pid!,
    http,
    received: async () => ((await (await fetch(`${http}/analyzer/json`)).json()) as { sFlowDatagramsReceived: number }).sFlowDatagramsReceived,
    engineLost: async () => Object.values(await agents()).reduce((s, a) => s + a.sFlowDatagramsLost, 0),
    stop: async () => {
      p.kill('SIGTERM');
      await once(p, 'exit');
    },
  };
}

async function startBare(): Promise<Collector> {
  const p = proc('bare');
  const { port } = await message<{ port: number }>(p);
  return {
    name: 'bare Node dgram (count only)',
    port,
    pid: p.pid!,
    received: async () => {
      p.send({ cmd: 'count' });
      return (await message<{ count: number }>(p)).count;
    },
    stop: async () => {
      p.send({ cmd: 'exit' });
      await once(p, 'exit');
    },
  };
}

async function startSfcapd(): Promise<Collector | null> {
  if (spawnSync('sh', ['-c', 'command -v sfcapd']).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'sfcapd-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = spawn('sfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-B', String(8 * 1024 * 1024)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  if (p.exitCode !== null) return null;
  return {
    name: 'sfcapd (nfdump, C)',
    port,
    pid: p.pid!,
    received: async () => null, // no counter of its own: loss comes from the kernel's drop counter
    stop: async () => {
      p.kill('SIGTERM');
      await once(p, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One step: `rate` datagrams/s for SECONDS into collector `c`. */
async function step(c: Collector, sender: ChildProcess, rate: number): Promise<Step> {
  const rx0 = await c.received();
  const drops0 = udpPortDrops(c.port) ?? 0;
  const lost0 = (await c.engineLost?.()) ?? 0;
  const cpu0 = cpuMs(c.pid);
  const main0 = cpuMs(c.pid, c.pid);
  const t0 = performance.now();
  sender.send({ cmd: 'rate', port: c.port, rate, seconds: SECONDS });
  const r = await message<{ sent: number; seconds: number }>(sender);
  await new Promise((res) => setTimeout(res, 500));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMs(c.pid) - cpu0;
  const mainCpu = cpuMs(c.pid, c.pid) - main0;
  const drops = (udpPortDrops(c.port) ?? 0) - drops0;
  const rx1 = await c.received();
  const received = rx1 === null || rx0 === null ? r.sent - drops : rx1 - rx0;
  const lossPct = (100 * Math.max(0, r.sent - received)) / r.sent;
  const s: Step = {
    target: rate,
    sent: r.sent,
    sendRate: Math.round(r.sent / r.seconds),
    received,
    lossPct: Number(lossPct.toFixed(3)),
    kernelDrops: drops,
    cpuUsPerDatagram: Number(((cpu * 1000) / Math.max(1, received)).toFixed(2)),
    mainThreadUsPerDatagram: Number(((mainCpu * 1000) / Math.max(1, received)).toFixed(2)),
    cpuLoad: Number((cpu / 1000 / wall).toFixed(2)),
    ok: lossPct <= LOSS_LIMIT * 100 && r.sent / r.seconds >= rate * 0.95,
  };
  if (c.engineLost) s.engineLost = (await c.engineLost()) - lost0;
  console.log(
    `  ${c.name.padEnd(30)} target ${String(rate).padStart(7)}/s sent ${String(s.sendRate).padStart(7)}/s loss ${s.lossPct.toFixed(3).padStart(7)} % (kernel drops ${drops}${s.engineLost !== undefined ? `, engine lost ${s.engineLost}` : ''}) cpu ${s.cpuUsPerDatagram} µs/datagram (main thread ${s.mainThreadUsPerDatagram})${s.ok ? '' : r.sent / r.seconds < rate * 0.95 ? '  ✗ sender-bound' : '  ✗'}`,
  );
  return s;
}

/**
 * Rising rates; at each rate every collector gets its step in turn, so they share the same
 * background load (the machine is shared). A collector stops after two failed steps in a row.
 */
async function measureAll(collectors: Collector[], sender: ChildProcess): Promise<Map<Collector, { steps: Step[]; best: Step | null; peakRssMb: number }>> {
  const out = new Map(collectors.map((c) => [c, { steps: [] as Step[], best: null as Step | null, peakRssMb: 0 }]));
  const failures = new Map(collectors.map((c) => [c, 0]));
  for (const rate of RATES) {
    const active = collectors.filter((c) => failures.get(c)! < 2);
    if (active.length === 0) break;
    for (const c of active) {
      const s = await step(c, sender, rate);
      const o = out.get(c)!;
      o.steps.push(s);
      if (s.ok) {
        failures.set(c, 0);
        if (o.best === null || s.sendRate > o.best.sendRate) o.best = s;
      } else failures.set(c, failures.get(c)! + 1);
    }
  }
  for (const c of collectors) out.get(c)!.peakRssMb = Math.round(memKb(c.pid, 'VmHWM') / 1024);
  return out;
}

async function cluster(sender: ChildProcess): Promise<Record<string, number>> {
  const s = await startSflowscope();
  try {
    sender.send({ cmd: 'cluster', port: s.port, nodes: 1000, pods: 30, polls: 6, rate: 20000 });
    const r = await message<{ sent: number; seconds: number }>(sender);
    await new Promise((res) => setTimeout(res, 1000));
    const a = (await (await fetch(`${s.http}/analyzer/json`)).json()) as Record<string, number>;
    const t0 = performance.now();
    const top = (await (await fetch(`${s.http}/table/ALL/sort:vir_cpu_utilization:-10,k8s_namespace,k8s_name/json`)).json()) as unknown[];
    const tableMs = performance.now() - t0;
    const t1 = performance.now();
    await (await fetch(`${s.http}/metric/ALL/sum:vir_cpu_utilization,avg:load_one,max:mem_utilization/json`)).json();
    const statMs = performance.now() - t1;
    return {
      datagrams: r.sent,
      received: a['sFlowDatagramsReceived']!,
      agents: a['sFlowAgents']!,
      dataSources: a['sFlowDataSources']!,
      rssMb: Math.round(memKb(s.pid, 'VmRSS') / 1024),
      peakRssMb: Math.round(memKb(s.pid, 'VmHWM') / 1024),
      heapUsedMb: Math.round(a['heapUsed']! / 1024 / 1024),
      tableQueryMs: Math.round(tableMs),
      statisticsQueryMs: Math.round(statMs),
      tableRows: top.length,
    };
  } finally {
    await s.stop();
  }
}

/** The engine alone, in this process: decode + accounting + metrics per datagram, no UDP. Best of 3. */
function engineAlone(): { datagramsPerSecond: number; samplesPerSecond: number; usPerDatagram: number } {
  const set = rateTemplates(200, 10);
  const avgSamples = set.templates.reduce((s, t) => s + t.samples, 0) / set.templates.length;
  const clock = new ManualClock(Date.now());
  const engine = new Engine(clock);
  const seq = new Sequencer(set);
  const N = 300_000;
  let best = Infinity;
  let i = 0;
  for (let round = 0; round < 4; round++) {
    const t0 = performance.now();
    for (let k = 0; k < N; k++, i++) {
      clock.advance(0.01);
      engine.pipeline.onDatagram(seq.next(set.templates[i % set.templates.length]!, i), '127.0.0.1', clock.now());
    }
    const ms = performance.now() - t0;
    if (round > 0 && ms < best) best = ms; // round 0 warms the JIT
  }
  const dps = (N * 1000) / best;
  return { datagramsPerSecond: Math.round(dps), samplesPerSecond: Math.round(dps * avgSamples), usPerDatagram: Number(((best * 1000) / N).toFixed(2)) };
}

async function main(): Promise<void> {
  const alone = engineAlone();
  console.log(`engine alone (decode + sequence accounting + metrics, one thread, no UDP): ${alone.datagramsPerSecond} datagrams/s = ${alone.samplesPerSecond} samples/s, ${alone.usPerDatagram} µs/datagram`);
  const sender = proc('sender');
  const ready = await message<{ ready: boolean; templates: number }>(sender);
  serverEntry ??= compiledServer();
  console.log(`ingest benchmark: ${ready.templates} datagram templates, ${SECONDS} s per step, rates ${RATES.join(', ')}; server ${serverEntry ? 'compiled (node)' : 'via tsx'}`);
  const results: Record<string, unknown> = { seconds: SECONDS, engineAlone: alone };
  const summary: Record<string, { best: Step | null; peakRssMb: number }> = {};
  const starters: [string, () => Promise<Collector | null>][] = [
    ['sflowscope', startSflowscope],
    ['bare', startBare],
    ['sfcapd', startSfcapd],
  ];
  const collectors: Collector[] = [];
  const keys = new Map<Collector, string>();
  for (const [key, start] of starters) {
    if (SKIP.has(key)) continue;
    const c = await start();
    if (c === null) {
      console.log(`  ${key}: not installed, skipped`);
      continue;
    }
    collectors.push(c);
    keys.set(c, key);
  }
  try {
    const m = await measureAll(collectors, sender);
    for (const [c, r] of m) {
      summary[keys.get(c)!] = { best: r.best, peakRssMb: r.peakRssMb };
      results[keys.get(c)!] = r;
    }
  } finally {
    for (const c of collectors) await c.stop();
  }
  if (!SKIP.has('cluster')) {
    const cl = await cluster(sender);
    results['cluster1000'] = cl;
    console.log(`\n1,000-node cluster (host + 30 pods each, 6 polls): ${cl.dataSources} data sources, RSS ${cl.rssMb} MB (peak ${cl.peakRssMb} MB, target < 300 MB), heap ${cl.heapUsedMb} MB; top-10 table ${cl.tableQueryMs} ms, statistics ${cl.statisticsQueryMs} ms`);
  }
  sender.send({ cmd: 'exit' });

  const best = (k: string) => summary[k]?.best?.sendRate ?? 0;
  console.log('\nhighest rate with ≤ 0.1 % loss (datagrams/s; ×6.5 ≈ samples/s):');
  for (const [k, v] of Object.entries(summary)) {
    console.log(`  ${k.padEnd(12)} ${String(best(k)).padStart(8)}  cpu ${v.best?.cpuUsPerDatagram ?? '-'} µs/datagram (main thread ${v.best?.mainThreadUsPerDatagram ?? '-'})  peak RSS ${v.peakRssMb} MB`);
  }
  if (best('sflowscope') && best('bare')) console.log(`  ratio sflowscope / bare Node dgram: ${(best('sflowscope') / best('bare')).toFixed(2)}`);
  if (best('sflowscope') && best('sfcapd')) console.log(`  ratio sflowscope / sfcapd:          ${(best('sflowscope') / best('sfcapd')).toFixed(2)}`);
  if (summary['sflowscope']?.best && summary['sfcapd']?.best) {
    console.log(`  CPU per datagram sflowscope / sfcapd: ${(summary['sflowscope'].best.cpuUsPerDatagram / summary['sfcapd'].best.cpuUsPerDatagram).toFixed(2)}`);
  }
  results['summary'] = summary;
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(results, null, 2));
}

await main();
