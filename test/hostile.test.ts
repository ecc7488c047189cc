// Hostile input: garbage, truncated, wrong version, non-sFlow UDP, floods of fake agents. Each is
// counted by reason, tables stay bounded, the server keeps answering.

import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/app.js';
import { ManualClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { counterSample, datagram, ifCounters } from './helpers/datagrams.js';
import { loadDatagrams } from './helpers/engine.js';

const T0 = 1_800_000_000_000;

describe('engine', () => {
  const real = [...loadDatagrams('hsflowd-docker.pcap').slice(0, 25), ...loadDatagrams('hsflowd-tunnels-sample.pcap').slice(0, 25), ...loadDatagrams('cistern-sflow__event_discarded_packet.pcap')].map((d) => d.payload);

  it('every truncation of real datagrams is counted, never thrown', () => {
    const e = new Engine(new ManualClock(T0));
    let n = 0;
    for (const d of real) {
      for (let len = 0; len < d.length; len += 3) {
        e.ingest(d.subarray(0, len), '192.0.2.1', T0);
        n++;
      }
    }
    const st = e.pipeline.stats;
    expect(st.datagrams).toBe(n);
    expect(st.badInput.internal_error).toBe(0);
    expect(st.badInput.empty).toBe(real.length);
    expect(st.parseErrors + st.unsupportedVersion).toBeGreaterThan(n * 0.9);
  });

  it('random bytes and bit flips of real datagrams never throw nor break a sink', () => {
    const e = new Engine(new ManualClock(T0));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
        e.ingest(bytes, '192.0.2.1', T0);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...real), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }), (d, flips) => {
        const b = Uint8Array.from(d);
        for (const [pos, bit] of flips) b[pos % b.length]! ^= 1 << bit;
        e.ingest(b, '192.0.2.1', T0);
      }),
      { numRuns: 3000 },
    );
    expect(e.pipeline.stats.badInput.internal_error).toBe(0);
    expect(e.registry.agents.size).toBeLessThanOrEqual(e.registry.config.maxAgents);
  });

  it('a flood of fake agents is bounded and counted', () => {
    const e = new Engine(new ManualClock(T0), { agents: { maxAgents: 1000, maxDataSources: 5000, maxDataSourcesPerAgent: 16 } });
    for (let i = 0; i < 20_000; i++) {
      const agent = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      e.ingest(datagram(agent, 1, 1, [counterSample(0, i % 50, 1, [ifCounters(i % 50, {})])]), '192.0.2.1', T0 + i);
    }
    expect(e.registry.agents.size).toBe(1000);
    expect(e.registry.stats.agentsEvicted).toBe(19_000);
    expect(e.metrics.size).toBeLessThanOrEqual(1000);
  });

  it('a flood of data sources from one agent is bounded per agent and in total', () => {
    const e = new Engine(new ManualClock(T0), { agents: { maxDataSources: 500, maxDataSourcesPerAgent: 100 } });
    for (let i = 0; i < 5000; i++) e.ingest(datagram('10.0.0.1', i + 1, i, [counterSample(3, i, 1, [ifCounters(i, {})])]), '192.0.2.1', T0 + i);
    expect(e.registry.agents.get('10.0.0.1')!.dataSources.size).toBe(100);
    expect(e.registry.stats.dataSourcesEvicted).toBe(4900);
    expect(e.metrics.size).toBe(100);
    for (let a = 0; a < 20; a++) for (let i = 0; i < 50; i++) e.ingest(datagram(`10.1.0.${a}`, i + 1, i, [counterSample(0, i, 1, [ifCounters(i, {})])]), '192.0.2.1', T0 + 10_000 + a * 100 + i);
    expect(e.registry.dataSourceCount).toBe(500);
    expect(e.metrics.size).toBe(500);
  });
});

describe('server over UDP', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ sflowPort: 0, httpPort: 0, sflowBind: '127.0.0.1', httpBind: '127.0.0.1', logLevel: 'silent', dataDir: join(tmpdir(), 'sflowscope-test'), persistState: false, maxDatagramBytes: 2048, maxAgents: 50 });
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function analyzer(): Promise<Record<string, unknown>> {
    return (await (await fetch(`${s.url}/analyzer/json`)).json()) as Record<string, unknown>;
  }

  it('counts each kind of bad datagram by reason and keeps answering', async () => {
    const sock = dgram.createSocket('udp4');
    const send = (b: Uint8Array) => new Promise<void>((r) => sock.send(b, s.sflowPort!, '127.0.0.1', () => r()));
    const good = datagram('10.0.0.1', 1, 1, [counterSample(0, 1, 1, [ifCounters(1, {})])]);
    const sent = { netflow: 20, v4: 10, garbage: 30, truncated: 25, empty: 5, large: 5, good: 1, flood: 200 };
    for (let i = 0; i < sent.netflow; i++) await send(Uint8Array.from([0, 5, 0, 1, ...new Array(44).fill(i)]));
    for (let i = 0; i < sent.v4; i++) await send(Uint8Array.from([0, 0, 0, 4, 0, 0, 0, 1, 10, 0, 0, 1, ...new Array(20).fill(0)]));
    for (let i = 0; i < sent.garbage; i++) await send(Uint8Array.from({ length: 64 + i }, (_, k) => (k * 31 + i) & 0xff).fill(0xff, 0, 4));
    for (let i = 0; i < sent.truncated; i++) await send(good.subarray(0, 8 + i));
    for (let i = 0; i < sent.empty; i++) await send(new Uint8Array(0));
    for (let i = 0; i < sent.large; i++) await send(new Uint8Array(3000));
    await send(good);
    for (let i = 0; i < sent.flood; i++) await send(datagram(`172.16.${i >> 8}.${i & 255}`, 1, 1, [counterSample(0, 1, 1, [ifCounters(1, {})])]));
    sock.close();
    const total = Object.values(sent).reduce((a, b) => a + b, 0);
    let a = await analyzer();
    for (let i = 0; i < 100 && a['sFlowDatagramsReceived'] !== total; i++) {
      await new Promise((r) => setTimeout(r, 50));
      a = await analyzer();
    }
    expect(a['sFlowDatagramsReceived']).toBe(total);
    const bad = a['sFlowBadInput'] as Record<string, number>;
    expect(bad['bad_version']).toBe(sent.netflow + sent.garbage);
    expect(bad['unsupported_version']).toBe(sent.v4);
    expect(bad['empty']).toBe(sent.empty);
    expect(bad['too_large']).toBe(sent.large);
    expect(a['sFlowDatagramsTooLarge']).toBe(sent.large);
    expect(a['sFlowUnsupportedVersion']).toBe(sent.netflow + sent.garbage + sent.v4 + sent.empty);
    expect(a['sFlowParseErrors']).toBe(sent.truncated);
    expect(bad['internal_error']).toBe(0);
    expect(a['sFlowAgents']).toBe(50);
    expect(a['sFlowAgentsEvicted']).toBe(1 + sent.flood - 50);
    expect((await fetch(`${s.url}/status`)).status).toBe(200);
  });
});
