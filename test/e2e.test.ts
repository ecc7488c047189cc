// End to end: a real server on loopback, sFlow over a real UDP socket (sent by `replay`), answers
// over real HTTP; the CLI as a process (SIGTERM shutdown, --pcap).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { sendPaced } from '../src/cli/replay.js';
import { capturePath, loadDatagrams, n, oracleCounterSamples, samplesOf } from './helpers/engine.js';

const dataDir = join(tmpdir(), 'sflowscope-test');

async function json<T>(s: RunningServer | string, path: string): Promise<T> {
  const base = typeof s === 'string' ? s : s.url;
  const r = await fetch(base + path);
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Agents = Record<string, Record<string, unknown>>;
type Metric = { agent: string; dataSource: string; metricName: string; metricValue: number | string };

describe.each([
  ['on its own thread', true],
  ['on the main thread', false],
])('hsflowd-docker replayed over UDP, received %s', (_label, udpThread) => {
  let s: RunningServer;
  const oracle = oracleCounterSamples('hsflowd-docker.pcap');
  beforeAll(async () => {
    s = await startServer({ sflowPort: 0, httpPort: 0, sflowBind: '127.0.0.1', httpBind: '127.0.0.1', logLevel: 'silent', dataDir, persistState: false, udpThread });
    const ds = loadDatagrams('hsflowd-docker.pcap');
    const r = await sendPaced(
      ds.map((d) => d.payload),
      ds.map((d) => d.timestampMicros / 1000),
      { host: '127.0.0.1', port: s.sflowPort! },
      { rate: 4000 },
    );
    expect(r.sent).toBe(201);
    await until(async () => (await json<Agents>(s, '/agents/json'))['127.0.0.1']?.['sFlowDatagramsReceived'] === 201);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('accounts for every datagram and sample, from 127.0.0.1', async () => {
    const a = (await json<Agents>(s, '/agents/json'))['127.0.0.1']!;
    expect(a['sFlowDatagramSource']).toEqual(['127.0.0.1']);
    expect(a['sFlowDatagramsLost']).toBe(0);
    expect(a['sFlowCounterSamples']).toBe(oracle.length);
    expect(a['sFlowSubAgents']).toEqual([100001]);
    expect(a['uptime']).toBe(162168);
  });

  it('serves the last strings and gauges of every data source', async () => {
    const dump = await json<Metric[]>(s, '/dump/ALL/host_name,vir_host_name,mem_total,load_one,vir_mem_total,k8s_namespace/json');
    const val = (ds: string, name: string) => dump.find((m) => m.dataSource === ds && m.metricName === name)?.metricValue;
    const host = samplesOf(oracle, '127.0.0.1', '2.1').pop()!;
    expect(val('2.1', 'host_name')).toBe(host.blocks.get('0:2000')!['hostname']);
    expect(val('2.1', 'mem_total')).toBe(n(host.blocks.get('0:2004'), 'mem_total'));
    expect(val('2.1', 'load_one')).toBeCloseTo(n(host.blocks.get('0:2003'), 'cpu_load_one'), 6);
    for (const ds of new Set(oracle.filter((o) => o.ds.startsWith('3.')).map((o) => o.ds))) {
      const last = samplesOf(oracle, '127.0.0.1', ds).pop()!;
      expect((val(ds, 'vir_host_name') as string).startsWith(last.blocks.get('0:2000')!['hostname'] as string)).toBe(true);
      expect(val(ds, 'vir_mem_total')).toBe(n(last.blocks.get('0:2102'), 'vmem_maxMemory'));
    }
    const k8s = await json<(Metric | null)[][]>(s, '/table/ALL/k8s_namespace,k8s_name/json?k8s_namespace=ml-team');
    expect(new Set(k8s.map((r) => r[1]!.metricValue))).toEqual(new Set(['trainer-0']));
  });
});

describe('counter rates over UDP use arrival time', () => {
  it('ifinoctets of lo = Δoctets / Δarrival', async () => {
    const s = await startServer({ sflowPort: 0, httpPort: 0, sflowBind: '127.0.0.1', httpBind: '127.0.0.1', logLevel: 'silent', dataDir, persistState: false });
    try {
      const ds = loadDatagrams('hsflowd-counters.pcap');
      const oracle = oracleCounterSamples('hsflowd-counters.pcap');
      const lo = samplesOf(oracle, '192.0.2.2', '1');
      const a = lo[1]!;
      const b = lo[9]!;
      const pick = (t: number) => ds.find((d) => Math.abs(d.timestampMicros / 1000 - t) < 0.001)!.payload;
      const t0 = performance.now();
      await sendPaced([pick(a.tMs)], [0], { host: '127.0.0.1', port: s.sflowPort! });
      await until(async () => (await json<Agents>(s, '/agents/json'))['192.0.2.2']?.['sFlowDatagramsReceived'] === 1);
      await new Promise((r) => setTimeout(r, 1000 - (performance.now() - t0)));
      const t1 = performance.now();
      await sendPaced([pick(b.tMs)], [0], { host: '127.0.0.1', port: s.sflowPort! });
      await until(async () => (await json<Agents>(s, '/agents/json'))['192.0.2.2']?.['sFlowDatagramsReceived'] === 2);
      const elapsed = t1 - t0;
      const delta = n(b.blocks.get('0:1'), 'ifInOctets') - n(a.blocks.get('0:1'), 'ifInOctets');
      const [m] = await json<Metric[]>(s, '/dump/192.0.2.2/1.ifinoctets/json');
      expect(delta).toBeGreaterThan(0);
      expect(Math.abs((m!.metricValue as number) - (delta * 1000) / elapsed)).toBeLessThan(((delta * 1000) / elapsed) * 0.15);
    } finally {
      await s.stop();
    }
  });
});

describe('dual stack', () => {
  const hasV6 = Object.values(networkInterfaces()).some((l) => l?.some((i) => i.family === 'IPv6' && i.internal));
  it.skipIf(!hasV6)('a socket bound to :: receives IPv4 and IPv6 senders', async () => {
    const s = await startServer({ sflowPort: 0, httpPort: 0, sflowBind: '::', httpBind: '127.0.0.1', logLevel: 'silent', dataDir, persistState: false });
    try {
      const d = loadDatagrams('hsflowd-counters.pcap')[0]!.payload;
      await sendPaced([d], [0], { host: '127.0.0.1', port: s.sflowPort! });
      await sendPaced([d], [0], { host: '::1', port: s.sflowPort! });
      await until(async () => (await json<Agents>(s, '/agents/json'))['192.0.2.2']?.['sFlowDatagramsReceived'] === 2);
      const a = (await json<Agents>(s, '/agents/json'))['192.0.2.2']!;
      expect(new Set(a['sFlowDatagramSource'] as string[])).toEqual(new Set(['127.0.0.1', '::1']));
      expect(a['sFlowDatagramsDuplicates']).toBe(1);
    } finally {
      await s.stop();
    }
  });
});

describe('the CLI as a process', () => {
  const script = join(import.meta.dirname, 'helpers', 'cli.ts');
  let child: ChildProcess | null = null;
  const lines: Record<string, unknown>[] = [];

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  function cli(args: string[]): ChildProcess {
    return spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SFLOWSCOPE_LOG_LEVEL: 'info' } });
  }

  it('serve --pcap: capture time, structured logs, graceful SIGTERM; replay sends to it', async () => {
    child = cli(['serve', '--pcap', capturePath('hsflowd-counters.pcap'), '--pcap-pace', 'max', '--sflow-port', '0', '--http-port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--persist-state=false']);
    let buf = '';
    const httpPort = new Promise<number>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const o = JSON.parse(line) as Record<string, unknown>;
          lines.push(o);
          const m = /^Listening, HTTP port (\d+)$/.exec(String(o['msg']));
          if (m) resolve(Number(m[1]));
        }
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const port = await httpPort;
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await json<Agents>(base, '/agents/json'))['192.0.2.2']?.['sFlowDatagramsReceived'] === 174);
    // The engine's clock is the capture's: ages are relative to its last datagram, not to now.
    const agent = (await json<Agents>(base, '/agents/json'))['192.0.2.2']!;
    expect(agent['firstSeen']).toBeGreaterThan(130_000);
    const cpu = await json<{ metricValue: number }[]>(base, '/metric/ALL/cpu_utilization/json');
    expect(cpu[0]!.metricValue).toBeGreaterThan(0);

    // Send the same capture over UDP with `sflowscope replay`.
    const sflowPort = Number((lines.find((l) => /^Listening, sFlow port/.test(String(l['msg']))) as { port: number }).port);
    const rep = cli(['replay', capturePath('hsflowd-docker.pcap'), '--to', `127.0.0.1:${sflowPort}`, '--rate', '5000']);
    let out = '';
    rep.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = (await once(rep, 'exit')) as [number];
    expect(code).toBe(0);
    expect(out).toMatch(/^sent 201 datagrams/);
    await until(async () => (await json<Agents>(base, '/agents/json'))['127.0.0.1']?.['sFlowDatagramsReceived'] === 201);

    child.kill('SIGTERM');
    const [exit] = (await once(child, 'exit')) as [number];
    expect(exit).toBe(0);
    const msgs = lines.map((l) => l['msg']);
    expect(msgs).toContain('shutting down');
    expect(msgs).toContain('stopped');
    expect(msgs[0]).toMatch(/^Starting sflowscope/);
    for (const l of lines) expect(typeof l['level']).toBe('number');
  });

  it('bad options exit 2 with a message', async () => {
    const p = cli(['serve', '--no-such-option']);
    let err = '';
    p.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(p, 'exit')) as [number];
    expect(code).toBe(2);
    expect(err).toMatch(/unknown option --no-such-option/);
  });
});
