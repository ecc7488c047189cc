// The flow engine against the real sFlow-RT 3.1 (../shared/testdata/sflow-rt): each recorded
// capture is replayed into a server (`--pcap`, engine clock = capture time) with the flows
// `pair`, `stack`, `drops`, `dropsx` defined as in the recording, and the flow answers read over
// HTTP on loopback are compared with the recorded ones at the recorded times: /flow/json,
// /activeflows, /flows/json (records, totals, when they end), flow metrics (sum:pair, pair with
// topKeys, /dump, /table, /metric/<agent>), /flowkeys, stack tokens, error answers.
//
// Record timing: the server runs with `--flow-timeout 0` (sFlow-RT 3.1 timing) and its sweep
// ticks on the phase sFlow-RT's timer had in that run (read from the recorded records); a second
// server with the defaults shows the deliberate difference (records end 5 s after a key's last
// sample) with the same totals per key.
//
// Deliberate differences asserted below (docs/flows.md):
//  F1 error answers carry a JSON body with a message; unknown keys and values are refused (400)
//     where sFlow-RT accepts a flow that never matches (204);
//  F2 IPv6-in-IPv6 (ip6tnl) is decoded deeper: `eth.ip6.ip6.<l4>` where sFlow-RT stops at `eth.ip6`;
//  F3 /flowkeys lacks `tcpopts` (not decoded) and lists the keys of every layer decoded.

import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import type { CaptureClock } from '../src/engine/clock.js';
import { capturePath, loadDatagrams } from './helpers/engine.js';
import { TESTDATA_DIR } from './oracle.js';

const RT = join(TESTDATA_DIR, 'sflow-rt');

const FLOWS: Record<string, Record<string, unknown>> = {
  pair: { keys: 'ipsource,ipdestination,ipprotocol', value: 'bytes', log: true, t: 10 },
  stack: { keys: 'stack', value: 'frames', t: 10 },
  drops: { keys: 'reason', value: 'frames', dropped: true, log: true, t: 10 },
  dropsx: { keys: 'agent,inputifindex,reason,linux_drop_reason,function,ipsource,ipdestination', value: 'frames', dropped: true, log: true, t: 10 },
};

interface IndexEntry {
  phase: string;
  wall_ms: number;
  method: string;
  path: string;
  request_body: string | null;
  request_content_type: string | null;
  status: number;
  content_type: string;
  file: string;
}

interface Rec {
  flowID: number;
  name: string;
  agent: string;
  dataSource: string;
  flowKeys: string;
  value: number;
  start: number;
  end: number;
  values?: number[];
}

function readIndex(dir: string): IndexEntry[] {
  return readFileSync(join(RT, dir, 'index.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as IndexEntry);
}

function recorded(dir: string, e: IndexEntry): unknown {
  const text = readFileSync(join(RT, dir, e.file), 'utf8');
  return e.content_type.startsWith('application/json') && text !== '' ? JSON.parse(text) : text;
}

function rel(theirs: number, ours: number, tol: number, what: string): void {
  const d = Math.abs(ours - theirs);
  if (d > tol * Math.abs(theirs) && d > 1e-12) expect.fail(`${what}: ours ${ours}, sFlow-RT ${theirs}`);
}

/** Flow-related requests of a recording. */
function isFlowPath(path: string): boolean {
  return /^\/(flowkeys|flow|flows|activeflows|flowvalue)\//.test(path) || /\/(sum:)?(pair|stack|drops|dropsx)\/json/.test(path) || /^\/metric\/[0-9.]+\/json$/.test(path);
}

/** Distinct stacks sFlow-RT saw per capture (stacks.txt). */
function recordedStacks(capture: string): string[] {
  const text = readFileSync(join(RT, 'stacks.txt'), 'utf8');
  const m = new RegExp(`## ${capture} \\(\\d+\\)\\n([\\s\\S]*?)(\\n\\n|$)`).exec(text);
  return m === null ? [] : m[1]!.trim().split('\n');
}

const CAPTURES: [string, string, number | null, boolean][] = [
  // [recording folder, capture, phase of sFlow-RT's sweep timer (ms after the replay start, mod 10 s) read from its
  //  records, whether every record is reproduced exactly]
  ['hsflowd-flows', 'hsflowd-flows.pcap', 8669, true],
  // the active-timeout check ran 1.9 s later in sFlow-RT than our model (docs/flows.md: its exact trigger is unknown):
  // the same records by key and total, some split at another moment
  ['hsflowd-tunnels-sample', 'hsflowd-tunnels-sample.pcap', 8447, false],
  ['cistern-sflow__event_discarded_packet', 'cistern-sflow__event_discarded_packet.pcap', 7345, true],
  ['hsflowd-counters', 'hsflowd-counters.pcap', null, true],
];

describe.each(CAPTURES)('%s: flows vs sFlow-RT 3.1', (dir, pcap, phase, exactRecords) => {
  const index = readIndex(dir);
  const run = JSON.parse(readFileSync(join(RT, dir, 'run.json'), 'utf8')) as { replay_start_wall_ms: number };
  const datagrams = loadDatagrams(pcap);
  const firstMs = datagrams[0]!.timestampMicros / 1000;
  const lastMs = datagrams[datagrams.length - 1]!.timestampMicros / 1000;
  let server: RunningServer;
  let defaults: RunningServer;
  let empty: RunningServer;

  const common = { sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent' as const, dataDir: join(tmpdir(), 'sflowscope-flows-test'), persistState: false };
  const define = (_e: unknown, ctx: { flows?: { setFlow(n: string, b: unknown): unknown } | null }) => {
    for (const [name, spec] of Object.entries(FLOWS)) ctx.flows!.setFlow(name, spec);
  };

  beforeAll(async () => {
    empty = await startServer(common);
    server = await startServer({
      ...common,
      pcap: capturePath(pcap),
      pcapPace: 'max',
      pcapHoldClock: true,
      flowTimeoutMs: 0,
      flowConfig: phase !== null ? { sweepAnchorMs: firstMs + phase } : {},
      configure: define,
    });
    defaults = await startServer({ ...common, pcap: capturePath(pcap), pcapPace: 'max', pcapHoldClock: true, configure: define });
    await Promise.all([server.captureDone, defaults.captureDone]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), defaults?.stop(), empty?.stop()]);
  });

  /** Our clock where sFlow-RT's was when it answered `e` (its replay kept the capture's pace). */
  function atRecordedTime(s: RunningServer, e: IndexEntry): number {
    const t = Math.max(firstMs + (e.wall_ms - run.replay_start_wall_ms), lastMs);
    (s.clock as CaptureClock).hold(t);
    return t;
  }

  async function get(s: RunningServer, path: string): Promise<{ status: number; body: unknown; type: string }> {
    const r = await fetch(s.url + path);
    const text = await r.text();
    const type = r.headers.get('content-type') ?? '';
    return { status: r.status, type, body: type.startsWith('application/json') && text !== '' ? JSON.parse(text) : text };
  }

  it('defines the flows as sFlow-RT echoes them (/flow/json, /flow/pair/json)', async () => {
    for (const e of index.filter((x) => x.phase === '1_define' && x.method === 'GET' && /^\/flow\//.test(x.path))) {
      const r = await get(server, e.path);
      expect(r.status, e.path).toBe(e.status);
      expect(r.body, e.path).toEqual(recorded(dir, e));
    }
  });

  it('answers the error probes with the same status codes (F1: JSON bodies; unknown keys/values refused)', async () => {
    for (const e of index.filter((x) => x.phase === '0_errors' && isFlowPath(x.path))) {
      const init: RequestInit = { method: e.method };
      if (e.request_body !== null && e.method !== 'GET' && e.method !== 'DELETE') {
        init.body = e.request_body;
        if (e.request_content_type) init.headers = { 'content-type': e.request_content_type };
      }
      const r = await fetch(empty.url + e.path, init);
      const text = await r.text();
      const unknownName = /nosuchkey|nosuchvalue/.test(e.request_body ?? '');
      if (unknownName) {
        expect(e.status).toBe(204);
        expect(r.status, `${e.method} ${e.path} ${e.request_body}`).toBe(400);
        expect(JSON.parse(text).message).toMatch(/unknown attribute "nosuch(key|value)"/);
        continue;
      }
      expect(r.status, `${e.method} ${e.path} ${e.request_body}`).toBe(e.status);
      if (r.status >= 400) expect(JSON.parse(text).message, e.path).toMatch(/\w/);
      else if (e.method === 'GET') expect(JSON.parse(text), e.path).toEqual(recorded(dir, e));
    }
    await fetch(`${empty.url}/flow/bad/json`, { method: 'DELETE' });
  });

  for (const snapshot of ['2_end', '3_end_plus15', '4_end_plus150']) {
    describe(`snapshot ${snapshot}`, () => {
      const entries = index.filter((x) => x.phase === snapshot && x.method === 'GET' && isFlowPath(x.path));

      it('/activeflows: the same keys, agents, data sources and flowN; values within 1%', async () => {
        type F = { key: string; value: number; agent: string; dataSource: string; flowN: number };
        for (const e of entries.filter((x) => x.path.startsWith('/activeflows/'))) {
          atRecordedTime(server, e);
          const theirs = recorded(dir, e) as F[];
          const ours = (await get(server, e.path)).body as F[];
          const shapes = (fs: F[]) => [...new Set(fs.map((f) => Object.keys(f).sort().join()))];
          if (theirs.length > 0) expect(shapes(ours), e.path).toEqual(shapes(theirs));
          else expect(ours, e.path).toEqual([]);
          const stackFlow = e.path.includes('/stack/');
          // largest first; the same keys (F2 aside); the same order where values differ by more than the tolerance
          for (let i = 1; i < ours.length; i++) expect(ours[i - 1]!.value, e.path).toBeGreaterThanOrEqual(ours[i]!.value);
          if (!stackFlow) expect(ours.map((f) => f.key).sort(), e.path).toEqual(theirs.map((f) => f.key).sort());
          const rank = new Map(ours.map((f, i) => [f.key, i]));
          for (let i = 1; i < theirs.length; i++) {
            const a = theirs[i - 1]!;
            const b = theirs[i]!;
            if (a.value > b.value * 1.02 && rank.has(a.key) && rank.has(b.key)) expect(rank.get(a.key)!, `${e.path} ${a.key} before ${b.key}`).toBeLessThan(rank.get(b.key)!);
          }
          const byKey = new Map(ours.map((f) => [f.key, f]));
          for (const t of theirs) {
            const o = byKey.get(t.key);
            if (o === undefined && stackFlow && t.key === 'eth.ip6') continue; // F2: ours are eth.ip6.ip6.<l4>
            // F2 splits eth.ip6 into several keys: in a truncated answer they can push a small key out
            if (o === undefined && stackFlow && ours.length > 0 && t.value <= ours[ours.length - 1]!.value * 1.01) continue;
            expect(o, `${e.path} ${t.key}`).toBeDefined();
            expect([o!.agent, o!.dataSource, o!.flowN], `${e.path} ${t.key}`).toEqual([t.agent, t.dataSource, t.flowN]);
            rel(t.value, o!.value, 0.01, `${e.path} ${t.key}`);
          }
        }
      });

      it('/flows/json: the same records (start and end within 100 ms, totals within 1e-6)', async () => {
        for (const e of entries.filter((x) => x.path.startsWith('/flows/json'))) {
          atRecordedTime(server, e);
          const theirs = recorded(dir, e) as Rec[];
          const ours = (await get(server, e.path)).body as Rec[];
          for (let i = 1; i < ours.length; i++) expect(ours[i - 1]!.flowID).toBeGreaterThan(ours[i]!.flowID); // newest first
          for (const r of ours) expect(Object.keys(r).sort(), e.path).toEqual(['agent', 'dataSource', 'end', 'flowID', 'flowKeys', 'name', 'start', 'value']);
          if (!exactRecords) {
            // the same flows, each within its activeTimeout (+ a sweep period); totals compared at the end
            const keys = (rs: Rec[]) => [...new Set(rs.map((r) => `${r.name} ${r.flowKeys}`))].sort();
            if (snapshot === '4_end_plus150') expect(keys(ours), e.path).toEqual(keys(theirs));
            for (const r of ours) expect(r.end - r.start, `${r.flowKeys}`).toBeLessThanOrEqual(70_000);
            continue;
          }
          // times relative to the replay start / the first datagram
          const order = (r: Rec, base: number) => `${String(Math.round((r.end - base) / 1000)).padStart(6, '0')} ${r.name} ${r.flowKeys}`;
          const t = [...theirs].sort((a, b) => (order(a, run.replay_start_wall_ms) < order(b, run.replay_start_wall_ms) ? -1 : 1));
          const o = [...ours].sort((a, b) => (order(a, firstMs) < order(b, firstMs) ? -1 : 1));
          expect(o.map((r) => `${r.name} ${r.flowKeys} ${r.agent} ${r.dataSource}`), e.path).toEqual(t.map((r) => `${r.name} ${r.flowKeys} ${r.agent} ${r.dataSource}`));
          o.forEach((r, i) => {
            const x = t[i]!;
            expect(Math.abs(r.start - firstMs - (x.start - run.replay_start_wall_ms)), `${r.flowKeys} start`).toBeLessThan(100);
            expect(Math.abs(r.end - firstMs - (x.end - run.replay_start_wall_ms)), `${r.flowKeys} end`).toBeLessThan(100);
            rel(x.value, r.value, 1e-6, `${r.name} ${r.flowKeys} value`);
          });
        }
      });

      it('record totals per key at the end equal sFlow-RT’s', async () => {
        const e = entries.find((x) => x.path === '/flows/json?maxFlows=1000');
        if (e === undefined || snapshot !== '4_end_plus150') return;
        atRecordedTime(server, e);
        const sum = (recs: Rec[]) => {
          const m = new Map<string, number>();
          for (const r of recs) m.set(`${r.name} ${r.flowKeys}`, (m.get(`${r.name} ${r.flowKeys}`) ?? 0) + r.value);
          return m;
        };
        const theirs = sum(recorded(dir, e) as Rec[]);
        const ours = sum((await get(server, e.path)).body as Rec[]);
        expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
        for (const [k, v] of theirs) rel(v, ours.get(k)!, 1e-9, k);
      });

      it('flow metrics: /metric/ALL/sum:<flow>, /metric/ALL/pair (topKeys), /dump, /table, /metric/<agent>', async () => {
        for (const e of entries.filter((x) => x.path.startsWith('/metric/') || x.path.startsWith('/dump/') || x.path.startsWith('/table/'))) {
          atRecordedTime(server, e);
          const theirs = recorded(dir, e);
          const ours = (await get(server, e.path)).body;
          if (/^\/metric\/[0-9.]+\/json$/.test(e.path)) {
            // the flow names among the agent's metrics
            const flowKeys = (o: object) => Object.keys(o).filter((k) => /\.(pair|stack|drops|dropsx)$/.test(k)).sort();
            expect(flowKeys(ours as object), e.path).toEqual(flowKeys(theirs as object));
            for (const k of flowKeys(theirs as object)) rel((theirs as Record<string, number>)[k]!, (ours as Record<string, number>)[k]!, 0.01, `${e.path} ${k}`);
            continue;
          }
          const flat = (x: unknown): Record<string, unknown>[] => (Array.isArray(x) ? (x as unknown[]).flatMap((y) => (Array.isArray(y) ? (y as Record<string, unknown>[]) : [y as Record<string, unknown>])) : []);
          const t = flat(theirs);
          const o = flat(ours);
          expect(o.length, e.path).toBe(t.length);
          t.forEach((x, i) => {
            const y = o[i]!;
            expect(Object.keys(y).sort(), e.path).toEqual(Object.keys(x).sort());
            for (const k of ['metricName', 'agent', 'dataSource', 'metricN']) expect(y[k], `${e.path} ${k}`).toEqual(x[k]);
            if (typeof x.metricValue === 'number') rel(x.metricValue, y.metricValue as number, 0.01, `${e.path} metricValue`);
            for (const k of ['lastUpdate', 'lastUpdateMin', 'lastUpdateMax']) if (k in x) expect(Math.abs((y[k] as number) - (x[k] as number)), `${e.path} ${k}`).toBeLessThan(1000);
            if (x.topKeys !== undefined) {
              const tk = x.topKeys as { key: string; value: number; lastUpdate: number }[];
              const ok = y.topKeys as typeof tk;
              expect(ok.map((k) => k.key), e.path).toEqual(tk.map((k) => k.key));
              tk.forEach((k, j) => {
                rel(k.value, ok[j]!.value, 0.01, `${e.path} topKeys ${k.key}`);
                expect(Math.abs(ok[j]!.lastUpdate - k.lastUpdate), `${e.path} topKeys ${k.key} lastUpdate`).toBeLessThan(1000);
              });
            }
          });
        }
      });

      it('/flowkeys: every attribute sFlow-RT lists (F3: but tcpopts)', async () => {
        const e = entries.find((x) => x.path === '/flowkeys/json');
        if (e === undefined) return;
        atRecordedTime(server, e);
        const theirs = Object.keys(recorded(dir, e) as object);
        const ours = (await get(server, e.path)).body as Record<string, number>;
        for (const k of theirs) if (k !== 'tcpopts') expect(ours, k).toHaveProperty(k);
      });
    });
  }

  it('stack tokens follow stacks.txt (F2: IPv6-in-IPv6 decoded deeper)', async () => {
    const want = recordedStacks(dir);
    const r = (await get(server, '/activeflows/ALL/stack/json?maxFlows=1000')).body as { key: string }[];
    const ours = r.map((f) => f.key).sort();
    const deeper = ours.filter((k) => /^eth\.ip6\.ip6\./.test(k));
    expect(ours.filter((k) => !deeper.includes(k)), dir).toEqual(want.filter((k) => k !== 'eth.ip6').sort());
    if (want.includes('eth.ip6')) expect(deeper.length, 'F2: ip6tnl decoded').toBeGreaterThan(0);
  });

  it('default timing (F: --flow-timeout 5s): records end 5 s after a key’s last sample; totals per key are the same', async () => {
    const e = index.find((x) => x.phase === '4_end_plus150' && x.path === '/flows/json?maxFlows=1000');
    if (e === undefined) return;
    atRecordedTime(defaults, e);
    atRecordedTime(server, e);
    const sum = (recs: Rec[]) => {
      const m = new Map<string, number>();
      for (const r of recs) m.set(`${r.name} ${r.flowKeys}`, (m.get(`${r.name} ${r.flowKeys}`) ?? 0) + r.value);
      return m;
    };
    const theirs = sum(recorded(dir, e) as Rec[]);
    const dflt = (await get(defaults, e.path)).body as Rec[];
    const ours = sum(dflt);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [k, v] of theirs) rel(v, ours.get(k)!, 1e-6, k);
    for (const r of dflt) expect(r.end).toBeGreaterThanOrEqual(r.start);
  });
});
