// sflowscope against the real sFlow-RT 3.1: each recorded capture is replayed into a server
// (`--pcap`, engine clock = capture time, so the recorded real-time replay and ours see the same
// intervals) and its REST answers, read over HTTP on loopback, are compared with the recorded
// ones (../shared/testdata/sflow-rt/<capture>/): shapes, metric names per data source, status
// codes, values within a tolerance.
//
// Deliberate differences (docs/sflow-rt-compatibility.md), each asserted as such below:
//  D1 a stopped container (virt_cpu state shutoff) disappears `--stopped-retention` (10 s) after
//     its last sample; sFlow-RT keeps it until the whole agent expires;
//  D2 plain (non-Kubernetes) containers get `docker_name` (and Swarm tasks / systemd units their
//     own names); sFlow-RT has no derived name for them;
//  D3 sample counters count every sample received; sFlow-RT skips the first sample of each data
//     source and forgets the count when a data source restarts;
//  D4 an unknown route answers a JSON 404 body, not Jetty's HTML page;
//  D5 /agents/json and /analyzer/json carry extra fields (sflowscope extensions);
//  D6 replayed with --pcap, sFlowDatagramSource is the capture's UDP source (sFlow-RT's harness
//     sent from 127.0.0.1).
// Flow answers (/flow*, /activeflows, flow-metric names pair/stack/drops/dropsx) and
// /prometheus/* belong to later issues and are not compared here.

import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import type { CaptureClock } from '../src/engine/clock.js';
import { capturePath, oracleCounterSamples, loadDatagrams } from './helpers/engine.js';
import { TESTDATA_DIR, isPartial, readSflowtoolOracle } from './oracle.js';

const RT = join(TESTDATA_DIR, 'sflow-rt');
const FLOW_METRICS = new Set(['pair', 'stack', 'drops', 'dropsx']);
/** D2: names we add for non-Kubernetes virtual entities. */
const EXTRA_VIRTUAL_NAMES = new Set(['docker_name', 'swarm_name', 'systemd_service']);

interface IndexEntry {
  phase: string;
  wall_ms: number;
  method: string;
  path: string;
  status: number;
  content_type: string;
  file: string;
}

function readIndex(capture: string): IndexEntry[] {
  return readFileSync(join(RT, capture, 'index.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as IndexEntry);
}

function recorded(capture: string, e: IndexEntry): unknown {
  const text = readFileSync(join(RT, capture, e.file), 'utf8');
  return e.content_type.startsWith('application/json') && text !== '' ? JSON.parse(text) : text;
}

/** Paths this issue answers (flows and Prometheus come later). */
function inScope(path: string): boolean {
  if (/^\/(flowkeys|flow|flows|activeflows|prometheus)\//.test(path)) return false;
  if (/\/(pair|stack|drops|dropsx|sum:pair|sum:stack|sum:drops)\/json/.test(path)) return false;
  return true;
}

function close(ours: unknown, theirs: unknown, what: string): void {
  if (typeof theirs === 'number' && typeof ours === 'number') {
    const tol = Math.max(0.05, Math.abs(theirs) * 0.03);
    if (Math.abs(ours - theirs) > tol) expect.fail(`${what}: ours ${ours}, sFlow-RT ${theirs}`);
  } else {
    expect(ours, what).toEqual(theirs);
  }
}

/** Metric name sets per `agent ds` of a dump, flow metrics left out. */
function namesByDs(dump: { agent: string; dataSource: string; metricName: string }[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const x of dump) {
    if (FLOW_METRICS.has(x.metricName)) continue;
    const k = `${x.agent} ${x.dataSource}`;
    if (!m.has(k)) m.set(k, new Set());
    m.get(k)!.add(x.metricName);
  }
  return m;
}

/** Data sources that reported shutoff (D1), from the oracle: `agent ds`. */
function stoppedDataSources(pcap: string): Set<string> {
  const out = new Set<string>();
  for (const s of oracleCounterSamples(pcap)) {
    const cpu = s.blocks.get('0:2101');
    if (cpu && cpu['vcpu_state'] === '5') out.add(`${s.agent} ${s.ds}`);
  }
  return out;
}

/** sFlow-RT's sample count per agent and kind (D3), predicted from the oracle's sequence numbers. */
function sflowRtSampleCounts(pcap: string): { ours: Map<string, number>; theirs: Map<string, number> } {
  const kinds: Record<string, string> = { '0:1': 'Flow', '0:3': 'Flow', '0:2': 'Counter', '0:4': 'Counter', '0:5': 'Notification' };
  const seqs = new Map<string, number[]>();
  for (const d of readSflowtoolOracle(pcap)) {
    if (isPartial(d)) continue;
    for (const s of (d['samples'] ?? []) as Record<string, string>[]) {
      const k = kinds[s['sampleType_tag']!];
      if (!k) continue;
      const key = `${d['agent']} ${k} ${s['sourceId']}`;
      if (!seqs.has(key)) seqs.set(key, []);
      seqs.get(key)!.push(Number(s['sampleSequenceNo']));
    }
  }
  const ours = new Map<string, number>();
  const theirs = new Map<string, number>();
  for (const [key, v] of seqs) {
    const [agent, kind] = key.split(' ');
    const k = `${agent} ${kind}`;
    ours.set(k, (ours.get(k) ?? 0) + v.length);
    let c = 0;
    let last: number | null = null;
    for (const x of v) {
      if (last !== null && x - last < -2) {
        c = 0; // a restart: sFlow-RT starts the data source's count again
        last = x;
        continue;
      }
      if (last === null) {
        last = x;
        continue;
      }
      c++;
      if (x > last) last = x;
    }
    theirs.set(k, (theirs.get(k) ?? 0) + c);
  }
  return { ours, theirs };
}

const CAPTURES: [string, string][] = [
  ['hsflowd-counters', 'hsflowd-counters.pcap'],
  ['hsflowd-docker', 'hsflowd-docker.pcap'],
  ['hsflowd-flows', 'hsflowd-flows.pcap'],
  ['hsflowd-tunnels-sample', 'hsflowd-tunnels-sample.pcap'],
  ['cistern-sflow__event_discarded_packet', 'cistern-sflow__event_discarded_packet.pcap'],
  ['tcpdump__sflow_multiple_counter_30_pdus', 'tcpdump__sflow_multiple_counter_30_pdus.pcap'],
];

describe.each(CAPTURES)('%s vs sFlow-RT 3.1', (dir, pcap) => {
  const index = readIndex(dir);
  const run = JSON.parse(readFileSync(join(RT, dir, 'run.json'), 'utf8')) as { replay_start_wall_ms: number };
  const datagrams = loadDatagrams(pcap);
  const firstMs = datagrams[0]!.timestampMicros / 1000;
  const lastMs = datagrams[datagrams.length - 1]!.timestampMicros / 1000;
  const stopped = stoppedDataSources(pcap);
  let server: RunningServer;
  let empty: RunningServer;

  beforeAll(async () => {
    const common = { sflowPort: -1, httpPort: 0, httpBind: '127.0.0.1', logLevel: 'silent' as const, dataDir: join(tmpdir(), 'sflowscope-test'), persistState: false };
    empty = await startServer(common);
    server = await startServer({ ...common, pcap: capturePath(pcap), pcapPace: 'max', pcapHoldClock: true });
    await server.captureDone;
  });
  afterAll(async () => {
    await server?.stop();
    await empty?.stop();
  });

  /** Put our clock where sFlow-RT's was when it answered `e` (its replay kept the capture's pace). */
  function atRecordedTime(e: IndexEntry): void {
    const t = firstMs + (e.wall_ms - run.replay_start_wall_ms);
    (server.clock as CaptureClock).hold(Math.max(t, lastMs));
  }

  async function get(s: RunningServer, path: string): Promise<{ status: number; body: unknown; type: string }> {
    const r = await fetch(s.url + path);
    const text = await r.text();
    const type = r.headers.get('content-type') ?? '';
    return { status: r.status, type, body: type.startsWith('application/json') && text !== '' ? JSON.parse(text) : text };
  }

  it('answers the empty-engine snapshot as sFlow-RT did', async () => {
    for (const e of index.filter((x) => x.phase === '0_empty' && inScope(x.path))) {
      const r = await get(empty, e.path);
      expect(r.status, e.path).toBe(e.status);
      const theirs = recorded(dir, e);
      if (e.path === '/version') expect(r.body).toMatch(/^\d+\.\d+\.\d+/);
      else if (e.path === '/analyzer/json') {
        // D5: every sFlow-RT field is there (ours has more).
        for (const k of Object.keys(theirs as object)) expect(r.body, k).toHaveProperty(k);
      } else expect(r.body, e.path).toEqual(theirs);
    }
  });

  it('gives the same status codes and bodies for the error probes', async () => {
    for (const e of index.filter((x) => x.phase === '0_errors' && x.method === 'GET' && inScope(x.path))) {
      const r = await get(empty, e.path);
      expect(r.status, e.path).toBe(e.status);
      if (e.path === '/nonexistent/json') {
        // D4: a JSON error body instead of Jetty's HTML page.
        expect(r.type).toBe('application/json');
        expect((r.body as { statusCode: number }).statusCode).toBe(404);
      } else expect(r.body, e.path).toEqual(recorded(dir, e));
    }
  });

  for (const phase of ['2_end', '4_end_plus150']) {
    describe(`snapshot ${phase}`, () => {
      const entries = index.filter((x) => x.phase === phase && x.method === 'GET' && inScope(x.path));

      it('/analyzer/json: same sFlow counters', async () => {
        const e = entries.find((x) => x.path === '/analyzer/json')!;
        atRecordedTime(e);
        const theirs = recorded(dir, e) as Record<string, number>;
        const ours = (await get(server, e.path)).body as Record<string, number>;
        for (const k of Object.keys(theirs)) expect(ours, k).toHaveProperty(k);
        for (const k of ['sFlowDatagramsReceived', 'sFlowBytesReceived', 'sFlowAgents', 'sFlowParseErrors', 'sFlowUnsupportedVersion', 'sFlowDatagramsDiscarded', 'sFlowDatagramsTooLarge']) {
          expect(ours[k], k).toBe(theirs[k]);
        }
      });

      it('/agents/json: same agents, sequence accounting and shapes', async () => {
        const { ours: oursCounts, theirs: theirCounts } = sflowRtSampleCounts(pcap);
        for (const e of entries.filter((x) => x.path.startsWith('/agents/json'))) {
          atRecordedTime(e);
          const theirs = recorded(dir, e) as Record<string, Record<string, unknown>>;
          const ours = (await get(server, e.path)).body as Record<string, Record<string, unknown>>;
          expect(Object.keys(ours).sort(), e.path).toEqual(Object.keys(theirs).sort());
          for (const [agent, t] of Object.entries(theirs)) {
            const o = ours[agent]!;
            for (const [k, v] of Object.entries(t)) {
              expect(o, `${agent} ${k}`).toHaveProperty(k);
              expect(typeof o[k], `${agent} ${k}`).toBe(typeof v);
            }
            for (const k of ['sFlowDatagramsReceived', 'sFlowDatagramsLost', 'sFlowDatagramsDuplicates', 'sFlowDatagramsOutOfOrder', 'uptime', 'sFlowFlowDrops', 'sFlowNotificationDrops']) {
              expect(o[k], `${agent} ${k}`).toBe(t[k]);
            }
            for (const kind of ['Flow', 'Counter', 'Notification']) {
              for (const k of [`sFlow${kind}LostSamples`, `sFlow${kind}OutOfOrderSamples`, `sFlow${kind}DuplicateSamples`]) expect(o[k], `${agent} ${k}`).toBe(t[k]);
              // D3: we count every sample; sFlow-RT's count is predicted from the sequence numbers.
              expect(t[`sFlow${kind}Samples`], `${agent} sFlow-RT ${kind}`).toBe(theirCounts.get(`${agent} ${kind}`) ?? 0);
              expect(o[`sFlow${kind}Samples`], `${agent} ${kind}`).toBe(oursCounts.get(`${agent} ${kind}`) ?? 0);
            }
            // D1: stopped containers are no longer counted as data sources.
            const gone = [...stopped].filter((s) => s.startsWith(`${agent} `)).length;
            expect(o['sFlowCounterDatasources'], agent).toBe((t['sFlowCounterDatasources'] as number) - gone);
            expect(o['sFlowFlowDatasources'], agent).toBe(t['sFlowFlowDatasources']);
            expect(o['sFlowNotificationDatasources'], agent).toBe(t['sFlowNotificationDatasources']);
            // D6: sources are the capture's.
            const sources = new Set(datagrams.map((d) => d.srcAddress));
            for (const s of o['sFlowDatagramSource'] as string[]) expect(sources.has(s)).toBe(true);
            // firstSeen / lastSeen are ages in ms: within a second of sFlow-RT's.
            expect(Math.abs((o['lastSeen'] as number) - (t['lastSeen'] as number)), `${agent} lastSeen`).toBeLessThan(1000);
            expect(Math.abs((o['firstSeen'] as number) - (t['firstSeen'] as number)), `${agent} firstSeen`).toBeLessThan(1000);
          }
        }
      });

      it('/dump/ALL/ALL/json: same metric names per data source, values within tolerance', async () => {
        const e = entries.find((x) => x.path === '/dump/ALL/ALL/json')!;
        atRecordedTime(e);
        type M = { agent: string; dataSource: string; metricName: string; metricValue: number | string; lastUpdate: number };
        const theirs = recorded(dir, e) as M[];
        const ours = (await get(server, e.path)).body as M[];
        const tn = namesByDs(theirs);
        const on = namesByDs(ours);
        for (const k of stopped) {
          expect(tn.has(k), `sFlow-RT keeps stopped ${k}`).toBe(true);
          expect(on.has(k), `D1: ${k} is gone`).toBe(false);
          tn.delete(k);
        }
        expect([...on.keys()].sort()).toEqual([...tn.keys()].sort());
        for (const [k, names] of tn) {
          const mine = new Set([...on.get(k)!].filter((n) => !EXTRA_VIRTUAL_NAMES.has(n)));
          expect([...mine].sort(), k).toEqual([...names].sort());
          // D2: a virtual entity without Kubernetes names has docker_name instead.
          if (k.includes(' 3.') && !names.has('k8s_name')) expect(on.get(k)!.has('docker_name'), k).toBe(true);
        }
        const byKey = new Map(ours.map((m) => [`${m.agent} ${m.dataSource} ${m.metricName}`, m]));
        for (const t of theirs) {
          if (FLOW_METRICS.has(t.metricName) || stopped.has(`${t.agent} ${t.dataSource}`)) continue;
          const o = byKey.get(`${t.agent} ${t.dataSource} ${t.metricName}`)!;
          close(o.metricValue, t.metricValue, `${t.agent} ${t.dataSource} ${t.metricName}`);
          expect(Math.abs(o.lastUpdate - t.lastUpdate), `${t.dataSource} ${t.metricName} lastUpdate`).toBeLessThan(1000);
        }
      });

      it('/metrics/json: the same metric names', async () => {
        const e = entries.find((x) => x.path === '/metrics/json')!;
        atRecordedTime(e);
        const theirs = Object.keys(recorded(dir, e) as object).filter((n) => !FLOW_METRICS.has(n));
        const ours = Object.keys((await get(server, e.path)).body as object).filter((n) => !EXTRA_VIRTUAL_NAMES.has(n));
        expect(ours.sort()).toEqual(theirs.sort());
      });

      it('/metric/<agent>/json and /metric/ALL/json', async () => {
        for (const e of entries.filter((x) => x.path.startsWith('/metric/') && /^\/metric\/[^/]+\/json$/.test(x.path))) {
          atRecordedTime(e);
          const theirs = recorded(dir, e) as Record<string, number | string>;
          const ours = (await get(server, e.path)).body as Record<string, number | string>;
          const keep = (k: string) => {
            const name = k.slice(k.lastIndexOf('.') + 1);
            const ds = k.slice(0, k.lastIndexOf('.'));
            const agent = e.path.split('/')[2];
            return !FLOW_METRICS.has(name) && !EXTRA_VIRTUAL_NAMES.has(name) && !stopped.has(`${agent} ${ds}`);
          };
          expect(Object.keys(ours).filter(keep).sort(), e.path).toEqual(Object.keys(theirs).filter(keep).sort());
          for (const k of Object.keys(theirs).filter(keep)) close(ours[k], theirs[k], `${e.path} ${k}`);
        }
      });

      it('/metric/ALL/<statistics>/json: same shapes and values', async () => {
        for (const e of entries.filter((x) => /^\/metric\/ALL\/[^/]+\/json$/.test(x.path))) {
          atRecordedTime(e);
          const theirs = recorded(dir, e) as Record<string, unknown>[];
          const ours = (await get(server, e.path)).body as Record<string, unknown>[];
          expect(ours.length).toBe(theirs.length);
          theirs.forEach((t, i) => {
            const o = ours[i]!;
            expect(Object.keys(o).sort(), `${e.path} #${i}`).toEqual(Object.keys(t).sort());
            for (const k of ['metricName', 'metricValue', 'metricN', 'agent', 'dataSource']) close(o[k], t[k], `${e.path} #${i} ${k}`);
            if (t['quartiles']) for (const q of ['min', 'q1', 'med', 'q3', 'max']) close((o['quartiles'] as Record<string, number>)[q], (t['quartiles'] as Record<string, number>)[q], q);
            for (const k of ['lastUpdate', 'lastUpdateMin', 'lastUpdateMax']) {
              if (k in t) expect(Math.abs((o[k] as number) - (t[k] as number)), k).toBeLessThan(1000);
            }
          });
        }
      });

      it('/table/...: same rows', async () => {
        type M = { agent: string; dataSource: string; metricName: string; metricValue: number | string } | null;
        for (const e of entries.filter((x) => x.path.startsWith('/table/'))) {
          atRecordedTime(e);
          const theirs = (recorded(dir, e) as M[][]).filter((row) => !row.some((c) => c !== null && stopped.has(`${c.agent} ${c.dataSource}`)));
          const ours = (await get(server, e.path)).body as M[][];
          expect(ours.length, e.path).toBe(theirs.length);
          const key = (row: M[]) => row.map((c) => (c === null ? 'null' : `${c.agent} ${c.dataSource} ${c.metricName}`)).join('|');
          const sorted = e.path.includes('sort:');
          const tm = new Map(theirs.map((r) => [key(r), r]));
          ours.forEach((row, i) => {
            const t = tm.get(key(row));
            expect(t, `${e.path} row ${key(row)}`).toBeDefined();
            row.forEach((c, j) => close(c?.metricValue ?? null, t![j]?.metricValue ?? null, `${e.path} ${key(row)} #${j}`));
            // Sorted tables: the same order except among equal values.
            if (sorted && i > 0) expect((ours[i - 1]![0]!.metricValue as number) >= (row[0]!.metricValue as number)).toBe(true);
          });
        }
      });
    });
  }
});
