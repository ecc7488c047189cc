// `npm run soak` (issue #10): the compiled server under simulator traffic for a long run while a
// client polls the API the way the web UI does; reports RSS over time (it must level off),
// event-loop lag, HTTP answer times and loss. Not part of `npm test`: it takes ten minutes and
// both cores. How to read the output: docs/performance.md, "Soak test".
//
//   tsx scripts/soak.ts [--rate 50000] [--duration 600] [--nodes 180] [--senders 1]
//                       [--poll on|off] [--sample 10] [--json PATH]

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist/cli/main.js');

const USAGE = `Usage: tsx scripts/soak.ts [options]   (npm run soak builds first)

Runs the compiled server (dist/) and the cluster simulator as child processes, polls the API
like the web UI, and reports RSS over time, event-loop lag, HTTP answer times and loss.

Options:
  --rate N          datagrams per second asked of the simulator, all senders together (default 50000)
  --duration S      seconds of traffic (default 600)
  --nodes N         simulated nodes (agents) per sender (default 180)
  --senders N       simulator processes sharing the rate, each as different agents (default 1)
  --poll on|off     poll the API like the UI (default on)
  --sample S        seconds between samples of the server's figures (default 10)
  --json PATH       where to write the report (default soak-results/soak-<time>.json)
  -h, --help        this help
`;

/** Extra node flags for the server only (SOAK_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"): NODE_OPTIONS refuses profiler flags. */
function splitNodeArgs(raw: string | undefined): string[] {
  return (raw ?? '').split(/\s+/).filter((x) => x !== '');
}

// ---- options --------------------------------------------------------------------------------

interface Options {
  rate: number;
  duration: number;
  nodes: number;
  senders: number;
  poll: boolean;
  sample: number;
  json: string;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      nodes: { type: 'string' },
      senders: { type: 'string' },
      poll: { type: 'string' },
      sample: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const num = (name: keyof typeof values, def: number, ok: (x: number) => boolean): number => {
    const v = values[name];
    if (v === undefined) return def;
    const x = Number(v);
    if (!ok(x)) throw new Error(`--${name}: bad value '${String(v)}'`);
    return x;
  };
  const poll = (values.poll ?? 'on') as string;
  if (poll !== 'on' && poll !== 'off') throw new Error(`--poll is on or off, got '${poll}'`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  return {
    rate: num('rate', 50_000, (x) => Number.isInteger(x) && x > 0),
    duration: num('duration', 600, (x) => x > 0),
    nodes: num('nodes', 180, (x) => Number.isInteger(x) && x >= 1 && x <= 2048),
    senders: num('senders', 1, (x) => Number.isInteger(x) && x >= 1 && x <= 16),
    poll: poll === 'on',
    sample: num('sample', 10, (x) => x >= 1),
    json: resolve((values.json as string | undefined) ?? join(ROOT, 'soak-results', `soak-${stamp}.json`)),
  };
}

// ---- child processes ------------------------------------------------------------------------

interface Child {
  name: string;
  proc: ChildProcess;
  /** Everything the process wrote to stdout (simulators: a few lines). */
  stdout: string;
  /** Last lines of stderr and stdout, for error reports. */
  tail: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const children = new Set<Child>();

function startChild(name: string, args: string[], keepStdout: boolean, nodeArgs: readonly string[] = []): Child {
  // Own process group: Ctrl-C in the terminal reaches only us, and we end the run in order
  // (senders first, then a final sample, then the server) instead of everyone at once.
  const proc = spawn(process.execPath, [...nodeArgs, MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const c: Child = { name, proc, stdout: '', tail: [], exited: false, exit: null as never };
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') c.tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (c.tail.length > 40) c.tail.splice(0, c.tail.length - 40);
  };
  proc.stdout!.on('data', (b: Buffer) => {
    if (keepStdout && c.stdout.length < 1 << 20) c.stdout += b.toString('utf8');
    keep(b);
  });
  proc.stderr!.on('data', keep);
  c.exit = new Promise((res) => {
    proc.once('exit', (code, signal) => {
      c.exited = true;
      children.delete(c);
      res({ code, signal });
    });
    proc.once('error', (err) => {
      c.tail.push(String(err));
      c.exited = true;
      children.delete(c);
      res({ code: -1, signal: null });
    });
  });
  children.add(c);
  return c;
}

/** Signal, wait up to `ms`, then SIGKILL. */
async function stopChild(c: Child, signal: NodeJS.Signals, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
  if (!c.exited) c.proc.kill(signal);
  const r = await withTimeout(c.exit, ms);
  if (r !== TIMEOUT) return { ...r, killed: false };
  c.proc.kill('SIGKILL');
  const k = await withTimeout(c.exit, 5000);
  return { code: k === TIMEOUT ? null : k.code, signal: 'SIGKILL', killed: true };
}

/** Temporary directories to remove however we exit. */
const tempDirs = new Set<string>();

// Whatever happens to this process, the children must not outlive it, nor their data.
process.on('exit', () => {
  for (const c of children) c.proc.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

// ---- small helpers --------------------------------------------------------------------------

const TIMEOUT = Symbol('timeout');

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`, or as soon as `until` settles. */
function sleep(ms: number, until?: Promise<unknown>): Promise<void> {
  return new Promise((r) => {
    const timer = setTimeout(r, ms);
    void until?.then(() => {
      clearTimeout(timer);
      r();
    });
  });
}

async function freeTcpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => res(port));
    });
  });
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (x: number | null, digits = 1): number | null => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const MB = 1 << 20;

/** RSS and CPU ticks of a process from /proc (Linux); null elsewhere. */
function procStats(pid: number): { rssBytes: number; cpuTicks: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssBytes: m ? Number(m[1]) * 1024 : NaN, cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}
// /proc/<pid>/stat counts CPU time in USER_HZ ticks, 100 a second on every Linux architecture.
const TICKS_PER_S = 100;

// ---- HTTP client that records answer times --------------------------------------------------

interface Answer {
  ok: boolean;
  status: number;
  text: string;
}

class Client {
  /** Answer times (ms) since the last drain, and over the whole run. */
  window: number[] = [];
  all: number[] = [];
  windowErrors = 0;
  /** Failures by request label: "GET /analyzer/json -> 500", "... -> timeout". */
  errors = new Map<string, number>();
  /** Answer times (ms) by request label, for the slowest-endpoint list. */
  byLabel = new Map<string, number[]>();
  requests = 0;

  constructor(readonly base: string) {}

  async request(label: string, path: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<Answer | null> {
    const t0 = performance.now();
    let status = 0;
    let text = '';
    let failure: string | null = null;
    try {
      const r = await fetch(this.base + path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      status = r.status;
      // The answer is complete when its last byte has arrived, as for a browser.
      text = await r.text();
      if (!r.ok) failure = String(r.status);
    } catch (e) {
      failure = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? 'timeout' : `failed (${e instanceof Error ? e.message : String(e)})`;
    }
    const ms = performance.now() - t0;
    this.requests++;
    this.window.push(ms);
    this.all.push(ms);
    const times = this.byLabel.get(label);
    if (times) times.push(ms);
    else this.byLabel.set(label, [ms]);
    if (failure !== null) {
      this.windowErrors++;
      const k = `${init.method ?? 'GET'} ${label} -> ${failure}`;
      this.errors.set(k, (this.errors.get(k) ?? 0) + 1);
      return status === 0 ? null : { ok: false, status, text };
    }
    return { ok: true, status, text };
  }

  /** Endpoints by p99 answer time, slowest first. */
  slowest(count: number): { endpoint: string; n: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null }[] {
    return [...this.byLabel]
      .map(([endpoint, t]) => {
        const v = [...t].sort((a, b) => a - b);
        return { endpoint, n: v.length, p50Ms: round(quantile(v, 0.5)), p99Ms: round(quantile(v, 0.99)), maxMs: round(v[v.length - 1] ?? null) };
      })
      .sort((a, b) => (b.p99Ms ?? 0) - (a.p99Ms ?? 0))
      .slice(0, count);
  }

  drain(): { n: number; p50: number | null; p99: number | null; max: number | null; errors: number } {
    const w = this.window.sort((a, b) => a - b);
    const out = { n: w.length, p50: quantile(w, 0.5), p99: quantile(w, 0.99), max: w.length ? w[w.length - 1]! : null, errors: this.windowErrors };
    this.window = [];
    this.windowErrors = 0;
    return out;
  }
}

// ---- the UI's polling, page by page (web/: status/main.ts, app/*/main.ts, shared/top-browser.ts)

const enc = encodeURIComponent;

/**
 * One loop per page, each waiting for its answers before sleeping its interval, as the UI's
 * poll() does; every page is "open" at once, as on a wall screen with one tab per page.
 */
function startPolling(c: Client, stop: Promise<void>): Promise<void>[] {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const loop = async (everyMs: number, step: (tick: number) => Promise<void>) => {
    for (let tick = 0; !stopped; tick++) {
      await step(tick);
      if (!stopped) await sleep(everyMs, stop);
    }
  };
  const get = (label: string, path: string, timeoutMs?: number) => c.request(label, path, {}, timeoutMs);

  // Status page: four requests at once every 3 s.
  const status = loop(3000, async () => {
    await Promise.all([get('/analyzer/json', '/analyzer/json'), get('/agents/json', '/agents/json'), get('/apps/json', '/apps/json'), get('/app/status/health/json', '/app/status/health/json')]);
  });

  // Sunburst: one chart a second; we go round all four so every tree is built.
  const charts = ['gpu', 'process', 'dns', 'protocols'];
  const sunburst = loop(1000, async (tick) => {
    const chart = charts[tick % charts.length]!;
    await get(`/app/sunburst/scripts/metrics.js/${chart}/json`, `/app/sunburst/scripts/metrics.js/${chart}/json`);
  });

  // Flow and Discard Browsers with their default keys: incremental trend polls (`after=`).
  const browser = (app: string, keys: string, value: string) => {
    let after: number | null = null;
    return loop(1000, async (tick) => {
      if (tick === 0) await get(`/app/${app}/scripts/top.js/flowkeys/json`, `/app/${app}/scripts/top.js/flowkeys/json?search=`);
      const q = `keys=${enc(keys)}&value=${enc(value)}${after !== null ? `&after=${after}` : ''}`;
      const a = await get(`/app/${app}/scripts/top.js/flows/json`, `/app/${app}/scripts/top.js/flows/json?${q}`);
      if (a?.ok) {
        try {
          const times = (JSON.parse(a.text) as { trend?: { times?: number[] } }).trend?.times ?? [];
          if (times.length > 0) after = times[times.length - 1]!;
        } catch {
          /* not JSON: the next poll asks for the whole trend again */
        }
      }
    });
  };
  const flows = browser('browse-flows', 'ipsource,ipdestination', 'bps');
  const drops = browser('browse-drops', 'reason,null:[k8s:ipsource:namespace]:-,null:[k8s:ipdestination:namespace]:-', 'fps');

  // Metric Browser, default selection (max of load_one over ALL): the statistic every second,
  // the breakdown table every other second, the pick lists once.
  const tableCols = ['sort:load_one:-25', 'null:load_one', 'null:vir_host_name', 'null:host_name', 'null:ifname'].map(enc).join(',');
  const metrics = loop(1000, async (tick) => {
    if (tick === 0) await Promise.all([get('/agents/json', '/agents/json'), get('/metrics/json', '/metrics/json')]);
    await get('/metric/ALL/{spec}/json', `/metric/ALL/${enc('max:load_one')}/json`);
    if (tick % 2 === 0) await get('/table/ALL/{cols}/json', `/table/ALL/${tableCols}/json`);
  });

  // Not the UI: a script using sFlow-RT's flow API, as dashboards and controllers do.
  const api = loop(2000, async (tick) => {
    if (tick === 0) {
      await c.request('/flow/soak/json', '/flow/soak/json', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: 'ipsource,ipdestination,ipprotocol', value: 'bytes' }) });
    }
    await get('/activeflows/ALL/soak/json', '/activeflows/ALL/soak/json?maxFlows=20');
  });

  // Prometheus with deploy/prometheus/prometheus.yml: five jobs every 15 s.
  const flowJob = (params: Record<string, string>) => `/app/prometheus/scripts/export.js/flows/ALL/txt?${Object.entries(params).map(([k, v]) => `${k}=${enc(v)}`).join('&')}`;
  // Prometheus gives up on a scrape after its scrape_timeout (10 s there): so do we, as a failure.
  const scrape = (label: string, path: string) => get(label, path, 10_000);
  const prometheus = loop(15_000, async () => {
    await Promise.all([
      scrape('/metrics', '/metrics'),
      scrape('/prometheus/analyzer/txt', '/prometheus/analyzer/txt'),
      scrape('/prometheus/metrics/ALL/ALL/txt', '/prometheus/metrics/ALL/ALL/txt'),
      scrape('/app/prometheus/.../flows (protocol)', flowJob({ metric: 'sflow_flow_protocol_bps', key: 'stack', label: 'protocol', value: 'bytes', scale: '8', aggMode: 'sum', maxFlows: '50', minValue: '1' })),
      scrape('/app/prometheus/.../flows (drops)', flowJob({ metric: 'sflow_flow_drops', key: 'reason', label: 'reason', value: 'frames', dropped: 'true', aggMode: 'sum', maxFlows: '50', minValue: '0.01' })),
    ]);
  });

  return [status, sunburst, flows, drops, metrics, api, prometheus];
}

// ---- samples of the server's figures --------------------------------------------------------

interface Sample {
  /** Seconds since traffic started. */
  t: number;
  rssMB: number | null;
  heapUsedMB: number | null;
  /** V8 heap in use right after the server's last full collection (`heapUsedAfterGc`): its live data. */
  heapAfterGcMB: number | null;
  /** Server CPU over the interval, % of one core (all threads). */
  cpuPct: number | null;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** Datagrams per second received over the interval. */
  rxPerS: number | null;
  received: number | null;
  discarded: number | null;
  kernelDrops: number | null;
  queueDrops: number | null;
  /** Sum over agents of datagrams missing by sequence number. */
  seqLost: number | null;
  agents: number | null;
  dataSources: number | null;
  flowKeys: number | null;
  httpRequests: number;
  httpP99Ms: number | null;
  httpMaxMs: number | null;
  httpErrors: number;
  /** 1-minute load average of the machine. */
  load1: number;
}

type Analyzer = Record<string, unknown>;
const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

class Sampler {
  samples: Sample[] = [];
  last: Analyzer | null = null;
  lastSinceStart: { p99: number | null; max: number | null } = { p99: null, max: null };
  private prev: { t: number; received: number | null; ticks: number | null } | null = null;
  /** Our own requests, not counted with the UI's. */
  private readonly own: Client;

  constructor(private readonly pid: number, private readonly t0: number, private readonly ui: Client | null, base: string) {
    this.own = new Client(base);
    // Traffic starts after this: the fresh server has received nothing yet.
    this.prev = { t: (performance.now() - t0) / 1000, received: 0, ticks: procStats(pid)?.cpuTicks ?? null };
  }

  async take(): Promise<Sample> {
    const t = (performance.now() - this.t0) / 1000;
    const [aAns, agAns] = await Promise.all([this.own.request('/analyzer/json', '/analyzer/json', {}, 20_000), this.own.request('/agents/json', '/agents/json', {}, 20_000)]);
    const proc = procStats(this.pid);
    let a: Analyzer | null = null;
    let seqLost: number | null = null;
    try {
      if (aAns?.ok) a = JSON.parse(aAns.text) as Analyzer;
      if (agAns?.ok) seqLost = Object.values(JSON.parse(agAns.text) as Record<string, Analyzer>).reduce((s, x) => s + (n(x.sFlowDatagramsLost) ?? 0), 0);
    } catch {
      /* counted below as missing figures */
    }
    if (a) {
      this.last = a;
      this.lastSinceStart = { p99: n(a.eventLoopLagP99MsSinceStart), max: n(a.eventLoopLagMaxMsSinceStart) };
    }
    const received = a ? n(a.sFlowDatagramsReceived) : null;
    const ticks = proc?.cpuTicks ?? null;
    const p = this.prev;
    const dt = p ? t - p.t : 0;
    const http = this.ui?.drain() ?? { n: 0, p99: null, max: null, errors: 0 };
    const rss = proc && Number.isFinite(proc.rssBytes) ? proc.rssBytes : a ? n(a.rssBytes) : null;
    const s: Sample = {
      t: round(t, 1)!,
      rssMB: rss === null ? null : round(rss / MB),
      heapUsedMB: a && n(a.heapUsed) !== null ? round(n(a.heapUsed)! / MB) : null,
      heapAfterGcMB: a && n(a.heapUsedAfterGc) !== null ? round(n(a.heapUsedAfterGc)! / MB) : null,
      cpuPct: p && dt > 0 && ticks !== null && p.ticks !== null ? round(((ticks - p.ticks) / TICKS_PER_S / dt) * 100, 0) : null,
      lagP50Ms: a ? n(a.eventLoopLagP50Ms) : null,
      lagP99Ms: a ? n(a.eventLoopLagP99Ms) : null,
      lagMaxMs: a ? n(a.eventLoopLagMaxMs) : null,
      rxPerS: p && dt > 0 && received !== null && p.received !== null ? round((received - p.received) / dt, 0) : null,
      received,
      discarded: a ? n(a.sFlowDatagramsDiscarded) : null,
      kernelDrops: a ? n(a.sFlowKernelDrops) : null,
      queueDrops: a ? n(a.sFlowQueueDrops) : null,
      seqLost,
      agents: a ? n(a.sFlowAgents) : null,
      dataSources: a ? n(a.sFlowDataSources) : null,
      flowKeys: a ? n(a.flowKeys) : null,
      httpRequests: http.n,
      httpP99Ms: round(http.p99),
      httpMaxMs: round(http.max),
      httpErrors: http.errors,
      load1: round(loadavg()[0]!, 2)!,
    };
    this.prev = { t, received, ticks };
    this.samples.push(s);
    return s;
  }

  get failures(): Map<string, number> {
    return this.own.errors;
  }
}

const COLUMNS: [keyof Sample, string, number][] = [
  ['t', 't s', 6],
  ['rssMB', 'RSS MB', 7],
  ['heapUsedMB', 'heap MB', 8],
  ['heapAfterGcMB', 'live MB', 8],
  ['cpuPct', 'cpu %', 6],
  ['lagP99Ms', 'lag p99', 8],
  ['lagMaxMs', 'lag max', 8],
  ['rxPerS', 'rx/s', 7],
  ['kernelDrops', 'kdrops', 8],
  ['queueDrops', 'qdrops', 8],
  ['seqLost', 'seqlost', 8],
  ['agents', 'agents', 7],
  ['dataSources', 'dsrcs', 6],
  ['flowKeys', 'flowkeys', 9],
  ['httpRequests', 'http n', 7],
  ['httpP99Ms', 'http p99', 9],
  ['httpErrors', 'errs', 5],
  ['load1', 'load', 6],
];

const header = (): string => COLUMNS.map(([, h, w]) => h.padStart(w)).join(' ');
const row = (s: Sample): string => COLUMNS.map(([k, , w]) => (s[k] === null ? '-' : String(s[k])).padStart(w)).join(' ');

// ---- the verdicts ---------------------------------------------------------------------------

/**
 * Memory levels off when what survives garbage collection stops growing. V8 lets the heap fill
 * to a few hundred MB before a full collection brings it back, so RSS and heap in use are
 * saw-tooths whose peaks depend on when V8 chose to collect (bounded by --max-old-space-size),
 * and where a sample falls on a tooth decides any line fitted through them. A leak lifts the live
 * data, which the server reports as the heap in use right after its last full collection
 * (`heapUsedAfterGc`): its mean over the last quarter of the run must not exceed the third
 * quarter's by more than LIVE_GROWTH_PCT (or LIVE_GROWTH_MB, for small heaps). The change of the
 * RSS peaks is reported beside it.
 */
const LIVE_GROWTH_PCT = 5;
const LIVE_GROWTH_MB = 5;

const fmtPct = (x: number | null): string => (x === null ? '?' : `${x > 0 ? '+' : ''}${x} %`);

function rssVerdict(samples: readonly Sample[]): { liveGrowthPct: number | null; rssPeakGrowthPct: number | null; verdict: string } {
  const end = samples.length ? samples[samples.length - 1]!.t : 0;
  const usable = samples.filter((s) => s.rssMB !== null && s.heapAfterGcMB !== null);
  const q3 = usable.filter((s) => s.t >= end / 2 && s.t < (end * 3) / 4);
  const q4 = usable.filter((s) => s.t >= (end * 3) / 4);
  if (q3.length < 3 || q4.length < 3) return { liveGrowthPct: null, rssPeakGrowthPct: null, verdict: 'too few samples in the last half to tell' };
  const mean = (xs: Sample[]) => xs.reduce((acc, x) => acc + x.heapAfterGcMB!, 0) / xs.length;
  const peak = (xs: Sample[]) => Math.max(...xs.map((x) => x.rssMB!));
  const l3 = mean(q3);
  const l4 = mean(q4);
  const p3 = peak(q3);
  const p4 = peak(q4);
  const liveOk = l4 - l3 <= Math.max(LIVE_GROWTH_MB, (l3 * LIVE_GROWTH_PCT) / 100);
  return { liveGrowthPct: round(((l4 - l3) * 100) / l3, 2), rssPeakGrowthPct: round(((p4 - p3) * 100) / p3, 2), verdict: liveOk ? 'levels off' : 'still growing' };
}

// ---- main -----------------------------------------------------------------------------------

interface SenderResult {
  sent: number | null;
  bytes: number | null;
  wallSeconds: number | null;
  errors: number | null;
  exit: string;
}

function senderResult(c: Child, exit: { code: number | null; signal: NodeJS.Signals | null; killed: boolean }): SenderResult {
  const m = /^sent (\d+) datagrams, (\d+) bytes in ([\d.]+) s wall \([\d.]+\/s\); send errors (\d+)$/m.exec(c.stdout);
  return {
    sent: m ? Number(m[1]) : null,
    bytes: m ? Number(m[2]) : null,
    wallSeconds: m ? Number(m[3]) : null,
    errors: m ? Number(m[4]) : null,
    exit: exit.killed ? 'killed' : exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`,
  };
}

async function main(): Promise<number> {
  let opt: Options | null;
  try {
    opt = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`soak: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opt === null) return 0;
  if (!existsSync(MAIN)) {
    process.stderr.write(`soak: ${MAIN} is missing: run \`npm run build\` first (\`npm run soak\` does)\n`);
    return 2;
  }

  // First SIGINT/SIGTERM: end the run early and report; second: leave now (children are killed on exit).
  let interrupt!: () => void;
  const interrupted = new Promise<void>((r) => (interrupt = r));
  let signals = 0;
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // Ctrl-C reaches us twice: from the terminal and relayed by tsx. One second apart is a second press.
    if (signals > 0 && performance.now() - firstSignalAt < 1000) return;
    signals++;
    if (signals === 1) {
      firstSignalAt = performance.now();
      process.stderr.write(`\nsoak: ${sig}: ending the run early (again to abort)\n`);
      interrupt();
    } else {
      process.stderr.write(`soak: ${sig} again: aborting without a report\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const dataDir = mkdtempSync(join(tmpdir(), 'sflowscope-soak-'));
  tempDirs.add(dataDir);
  const [httpPort, sflowPort] = [await freeTcpPort(), await freeUdpPort()];
  const base = `http://127.0.0.1:${httpPort}`;
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  process.stdout.write(
    `soak: ${opt.rate} datagrams/s asked for ${opt.duration} s, ${opt.senders} sender(s) x ${opt.nodes} nodes, polling ${opt.poll ? 'on' : 'off'}; ` +
      `server HTTP ${httpPort}, sFlow UDP ${sflowPort}; ${availableParallelism()} CPUs, load ${loadStart.map((x) => x.toFixed(2)).join(' ')}\n`,
  );

  const server = startChild('server', ['serve', '--bind', '127.0.0.1', '--http-port', String(httpPort), '--sflow-port', String(sflowPort), '--data-dir', dataDir, '--log-level', 'warn'], false, splitNodeArgs(process.env.SOAK_SERVER_NODE_ARGS));
  let serverDied = false;
  let diedDuringRun = false;
  void server.exit.then((r) => {
    serverDied = true;
    diedDuringRun = !stoppingServer;
    if (diedDuringRun) process.stderr.write(`soak: the server exited during the run (${r.signal ?? `code ${r.code}`}); its last output:\n${server.tail.join('\n')}\n`);
  });
  let stoppingServer = false;

  const cleanup = async (): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean } | null> => {
    stoppingServer = true;
    const r = server.exited ? null : await stopChild(server, 'SIGTERM', 15_000);
    rmSync(dataDir, { recursive: true, force: true });
    return r;
  };

  // Ready when /status answers; bounded, and given up at once if the server exits.
  const probe = new Client(base);
  const readyBy = performance.now() + 30_000;
  let ready = false;
  while (!ready && !serverDied && performance.now() < readyBy) {
    const a = await probe.request('/status', '/status', {}, 2000);
    if (a?.ok) ready = true;
    else await sleep(200, server.exit);
  }
  if (!ready) {
    process.stderr.write(`soak: the server did not answer /status within 30 s; its last output:\n${server.tail.join('\n')}\n`);
    await cleanup();
    return 1;
  }

  const t0 = performance.now();
  const ui = opt.poll ? new Client(base) : null;
  let stopPolling!: () => void;
  const pollStop = new Promise<void>((r) => (stopPolling = r));
  const loops = ui ? startPolling(ui, pollStop) : [];

  const sampler = new Sampler(server.proc.pid!, t0, ui, base);
  const senders: Child[] = [];
  const per = Math.floor(opt.rate / opt.senders);
  for (let i = 0; i < opt.senders; i++) {
    const rate = i === 0 ? opt.rate - per * (opt.senders - 1) : per;
    // Each sender's agents sit 4096 addresses above the previous one's (a cluster holds at most 2048).
    const args = ['sim', '--rate', String(rate), '--duration', String(opt.duration), '--nodes', String(opt.nodes), '--seed', String(i + 1), '--collector', `127.0.0.1:${sflowPort}`, '--agent-offset', String(i * 4096)];
    senders.push(startChild(`sender ${i + 1}`, args, true));
  }
  const sendersDone = Promise.all(senders.map((s) => s.exit));

  process.stdout.write(`\n${header()}\n`);
  // A sender short of CPU falls behind and runs on past --duration; it gets half the run more.
  const hardEnd = t0 + (opt.duration + Math.max(30, opt.duration / 2)) * 1000;
  let next = t0 + opt.sample * 1000;
  const stopEarly = Promise.race([interrupted, server.exit.then(() => undefined)]);
  let stoppedEarly = false;
  let sendersFinished = false;
  void sendersDone.then(() => (sendersFinished = true));
  while (!sendersFinished && !serverDied && performance.now() < hardEnd) {
    await sleep(Math.max(0, next - performance.now()), Promise.race([stopEarly, sendersDone]));
    if (signals > 0) {
      stoppedEarly = true;
      break;
    }
    if (serverDied || sendersFinished) break;
    next += opt.sample * 1000;
    process.stdout.write(`${row(await sampler.take())}\n`);
  }

  const senderResults: SenderResult[] = [];
  for (const s of senders) senderResults.push(senderResult(s, await stopChild(s, 'SIGINT', 15_000)));
  const trafficSeconds = (performance.now() - t0) / 1000;

  // Let the server drain its receive ring and socket before the final figures.
  if (!serverDied) {
    await sleep(3000, server.exit);
    if (!serverDied) process.stdout.write(`${row(await sampler.take())}   (after the senders stopped)\n`);
  }
  stopPolling();
  const pollersStopped = await withTimeout(Promise.all(loops), 40_000);
  const serverExit = await cleanup();

  // ---- report -------------------------------------------------------------------------------
  const samples = sampler.samples;
  const a = sampler.last;
  const sent = senderResults.every((s) => s.sent !== null) ? senderResults.reduce((x, s) => x + s.sent!, 0) : null;
  const sendWall = Math.max(0, ...senderResults.map((s) => s.wallSeconds ?? 0));
  const received = a ? n(a.sFlowDatagramsReceived) : null;
  const discarded = a ? n(a.sFlowDatagramsDiscarded) : null;
  const rssValues = samples.filter((s) => s.rssMB !== null).map((s) => s.rssMB!);
  const lagWindows = samples.filter((s) => s.lagP99Ms !== null).map((s) => s.lagP99Ms!);
  const allHttp = (ui?.all ?? []).sort((x, y) => x - y);
  const loss = sent !== null && sent > 0 && received !== null ? 1 - received / sent : null;
  const lossProcessed = sent !== null && sent > 0 && received !== null && discarded !== null ? 1 - (received - discarded) / sent : null;
  const rss = rssVerdict(samples);
  const pct = (x: number | null) => (x === null ? null : round(x * 100, 3));
  const summary = {
    stoppedEarly,
    serverDied: diedDuringRun,
    trafficSeconds: round(trafficSeconds, 1),
    askedRate: opt.rate,
    sent,
    sendWallSeconds: round(sendWall, 1),
    achievedRate: sent !== null && sendWall > 0 ? Math.round(sent / sendWall) : null,
    sendErrors: senderResults.reduce((x, s) => x + (s.errors ?? 0), 0),
    received,
    discarded,
    kernelDrops: a ? n(a.sFlowKernelDrops) : null,
    queueDrops: a ? n(a.sFlowQueueDrops) : null,
    seqLost: samples.length ? samples[samples.length - 1]!.seqLost : null,
    lossPct: pct(loss),
    lossNotProcessedPct: pct(lossProcessed),
    rssMB: { first: rssValues[0] ?? null, min: rssValues.length ? Math.min(...rssValues) : null, max: rssValues.length ? Math.max(...rssValues) : null, last: rssValues[rssValues.length - 1] ?? null },
    liveHeapGrowthPct: rss.liveGrowthPct,
    rssPeakGrowthPct: rss.rssPeakGrowthPct,
    rssVerdict: rss.verdict,
    levelRule: { liveGrowthPct: LIVE_GROWTH_PCT, liveGrowthMB: LIVE_GROWTH_MB },
    eventLoopLagP99Ms: {
      maxOfWindows: lagWindows.length ? Math.max(...lagWindows) : null,
      medianOfWindows: quantile([...lagWindows].sort((x, y) => x - y), 0.5),
      sinceStart: sampler.lastSinceStart.p99,
      windowMs: a ? n(a.eventLoopLagWindowMs) : null,
    },
    eventLoopLagMaxMsSinceStart: sampler.lastSinceStart.max,
    http: ui
      ? { requests: ui.requests, p50Ms: round(quantile(allHttp, 0.5)), p99Ms: round(quantile(allHttp, 0.99)), maxMs: round(allHttp.length ? allHttp[allHttp.length - 1]! : null), failures: Object.fromEntries(ui.errors), byEndpoint: ui.slowest(100), pollersStopped: pollersStopped !== TIMEOUT }
      : null,
    samplerFailures: Object.fromEntries(sampler.failures),
    serverExit: serverExit === null ? 'exited during the run' : serverExit.killed ? 'killed after 15 s' : serverExit.signal ? `signal ${serverExit.signal}` : `code ${serverExit.code}`,
    loadAverage: { start: loadStart.map((x) => round(x, 2)), end: loadavg().map((x) => round(x, 2)) },
  };

  const lines = [
    '',
    `run: ${summary.trafficSeconds} s of traffic${stoppedEarly ? ' (stopped early)' : ''}; load average ${summary.loadAverage.start.join(' ')} -> ${summary.loadAverage.end.join(' ')} on ${availableParallelism()} CPUs`,
    `send: asked ${opt.rate}/s, achieved ${summary.achievedRate ?? '?'}/s (${sent ?? '?'} datagrams in ${summary.sendWallSeconds} s${summary.sendErrors ? `, ${summary.sendErrors} send errors` : ''})`,
    `loss: ${summary.lossPct ?? '?'} % not received (1 - received/sent), ${summary.lossNotProcessedPct ?? '?'} % not processed (1 - (received - discarded)/sent); ` +
      `received ${received ?? '?'}, kernel drops ${summary.kernelDrops ?? '?'}, queue drops ${summary.queueDrops ?? '?'}, discarded ${discarded ?? '?'}, missing by sequence number ${summary.seqLost ?? '?'}`,
    `RSS: first ${summary.rssMB.first ?? '?'} MB, min ${summary.rssMB.min ?? '?'}, max ${summary.rssMB.max ?? '?'}, last ${summary.rssMB.last ?? '?'}; 3rd → 4th quarter: live heap after GC ${fmtPct(rss.liveGrowthPct)} (levels off at ≤ ${LIVE_GROWTH_PCT} % or ${LIVE_GROWTH_MB} MB): ${rss.verdict}; RSS peaks ${fmtPct(rss.rssPeakGrowthPct)}`,
    `event-loop lag p99: max over ${lagWindows.length} windows ${summary.eventLoopLagP99Ms.maxOfWindows ?? '?'} ms, median ${summary.eventLoopLagP99Ms.medianOfWindows ?? '?'} ms, since start ${summary.eventLoopLagP99Ms.sinceStart ?? '?'} ms (max ${summary.eventLoopLagMaxMsSinceStart ?? '?'} ms)`,
    summary.http
      ? `HTTP: ${summary.http.requests} requests, p50 ${summary.http.p50Ms} ms, p99 ${summary.http.p99Ms} ms, max ${summary.http.maxMs} ms; failures: ${Object.keys(summary.http.failures).length ? JSON.stringify(summary.http.failures) : 'none'}`
      : 'HTTP: polling off',
    ...(summary.http ? [`slowest endpoints (p99 / max ms): ${summary.http.byEndpoint.slice(0, 5).map((e) => `${e.endpoint} ${e.p99Ms} / ${e.maxMs}`).join('; ')}`] : []),
    `server: ${summary.serverExit}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const report = {
    startedAt,
    options: opt,
    machine: { cpus: availableParallelism(), node: process.version, platform: process.platform },
    ports: { http: httpPort, sflow: sflowPort },
    senders: senderResults,
    samples,
    summary,
    serverTail: summary.serverDied ? server.tail : undefined,
  };
  mkdirSync(dirname(opt.json), { recursive: true });
  writeFileSync(opt.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`report: ${opt.json}\n`);
  return summary.serverDied ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
