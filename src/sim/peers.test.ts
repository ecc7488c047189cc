// Independent decoders on simulated captures: pmacct's sfacctd (Debian pmacct 1.7.7) and
// tshark (Debian 4.0). Both are installed by .ci/run; when a binary is missing the test is
// skipped and its name says so.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../ingest/pcap.js';
import { decodeDatagram } from '../sflow/decode.js';
import { writeSimulationPcap } from './capture.js';
import { ClusterSimulator } from './simulator.js';

const has = (bin: string, arg: string) => {
  const r = spawnSync(bin, [arg], { encoding: 'utf8', timeout: 20000 });
  return !r.error;
};
const hasSfacctd = has('sfacctd', '-V');
const hasTshark = has('tshark', '-v');

const dir = mkdtempSync(join(tmpdir(), 'sflowscope-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = Date.UTC(2026, 1, 1, 8);

interface SfacctdResult {
  rows: { peer: string; packets: number; bytes: number }[];
  counters: Record<string, unknown>[];
  log: string;
}

/** Run sfacctd over a capture: print plugin aggregating flows per peer and 5-tuple, counter log as JSON. */
function sfacctd(pcap: string, tag: string): SfacctdResult {
  const csv = join(dir, `${tag}.csv`);
  const counters = join(dir, `${tag}.counters.json`);
  const log = join(dir, `${tag}.log`);
  const conf = join(dir, `${tag}.conf`);
  writeFileSync(
    conf,
    [
      'daemonize: false',
      `pcap_savefile: ${pcap}`,
      'plugins: print[p]',
      'aggregate[p]: peer_src_ip, src_host, dst_host, src_port, dst_port, proto',
      'print_output[p]: csv',
      `print_output_file[p]: ${csv}`,
      'print_refresh_time[p]: 3600',
      `sfacctd_counter_file: ${counters}`,
      'sfacctd_counter_output: json',
      `logfile: ${log}`,
      '',
    ].join('\n'),
  );
  const r = spawnSync('sfacctd', ['-f', conf], { encoding: 'utf8', timeout: 60000 });
  expect(r.status, `sfacctd exited: ${r.stderr}`).toBe(0);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  const head = lines[0]!.split(',');
  const col = (n: string) => head.indexOf(n);
  const rows = lines.slice(1).map((l) => {
    const f = l.split(',');
    return { peer: f[col('PEER_SRC_IP')]!, packets: Number(f[col('PACKETS')]), bytes: Number(f[col('BYTES')]) };
  });
  const cnt = readFileSync(counters, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { rows, counters: cnt, log: readFileSync(log, 'utf8') };
}

describe('pmacct sfacctd on a simulated capture', () => {
  it.skipIf(!hasSfacctd)(
    hasSfacctd
      ? 'decodes it without complaint; flow totals (per agent and overall, samples and frame bytes) match what the simulator sent'
      : '!!! SKIPPED: sfacctd NOT INSTALLED (apt-get install pmacct) — sfacctd cross-check of the simulator did not run !!!',
    async () => {
      // hsflowd's drop monitor off: sfacctd 1.7.7 stops at discard samples (next test)
      const sim = new ClusterSimulator({ nodes: 30, rate: 300, seed: 21, startTimeMs: START, dropLimit: 0 });
      const pcap = join(dir, 'flows.pcap');
      await writeSimulationPcap(sim, pcap, { durationMs: 20000 });
      const st = sim.stats();
      expect(st.discardSamples).toBe(0);
      expect(st.flowSamples).toBeGreaterThan(20000);

      const res = sfacctd(pcap, 'flows');
      expect(res.log).not.toMatch(/ERROR|WARN/);
      const packets = res.rows.reduce((n, r) => n + r.packets, 0);
      const bytes = res.rows.reduce((n, r) => n + r.bytes, 0);
      // without renormalisation sfacctd counts one packet per flow sample, and the frame length as bytes
      expect(packets).toBe(st.flowSamples);
      expect(bytes).toBe(st.flowSampleFrameBytes);

      // per agent, from our own decode of the same file
      const perAgent = new Map<string, number>();
      let ifCounterSamples = 0;
      for (const d of readCapture(readFileSync(pcap)).datagrams) {
        const dg = decodeDatagram(d.payload).datagram!;
        for (const s of dg.samples) {
          if (s.kind === 'flow_sample') perAgent.set(dg.agentAddress, (perAgent.get(dg.agentAddress) ?? 0) + 1);
          if (s.kind === 'counter_sample' && s.records.some((r) => r.kind === 'if_counters')) ifCounterSamples++;
        }
      }
      const sfPerAgent = new Map<string, number>();
      for (const r of res.rows) sfPerAgent.set(r.peer, (sfPerAgent.get(r.peer) ?? 0) + r.packets);
      expect(Object.fromEntries(sfPerAgent)).toEqual(Object.fromEntries(perAgent));
      // sfacctd logs the generic interface counters (0:1) it decoded: all of them
      expect(res.counters.filter((c) => c.sf_cnt_type === 'sflow_cnt_generic').length).toBe(ifCounterSamples);
    },
    90000,
  );

  it.skipIf(!hasSfacctd)(
    hasSfacctd
      ? 'with discard samples (0:5) mixed in as hsflowd sends them, sfacctd 1.7.7 counts exactly the flow samples that precede the first 0:5 of each datagram'
      : '!!! SKIPPED: sfacctd NOT INSTALLED (apt-get install pmacct) !!!',
    async () => {
      const sim = new ClusterSimulator({ nodes: 12, rate: 200, seed: 22, startTimeMs: START });
      const pcap = join(dir, 'drops.pcap');
      await writeSimulationPcap(sim, pcap, { durationMs: 10000 });
      expect(sim.stats().discardSamples).toBeGreaterThan(100);
      let before = 0;
      for (const d of readCapture(readFileSync(pcap)).datagrams) {
        for (const s of decodeDatagram(d.payload).datagram!.samples) {
          if (s.kind === 'discard_sample') break;
          if (s.kind === 'flow_sample') before++;
        }
      }
      const res = sfacctd(pcap, 'drops');
      expect(res.rows.reduce((n, r) => n + r.packets, 0)).toBe(before);
      expect(before).toBeLessThan(sim.stats().flowSamples);
    },
    90000,
  );
});

describe('tshark on a simulated capture of switch-style structures', () => {
  it.skipIf(!hasTshark)(
    hasTshark
      ? 'finds no malformed packet and no warning, dissects every sample and the IP-in-IP headers inside them'
      : '!!! SKIPPED: tshark NOT INSTALLED (apt-get install tshark) — tshark cross-check of the simulator did not run !!!',
    async () => {
      // tshark 4.0 knows flow samples with sampled headers and extended_switch, if_counters and
      // ethernet_counters; it does not skip hsflowd's host/pod/drop structures, so those stay out
      const sim = new ClusterSimulator({ nodes: 16, rate: 250, seed: 23, startTimeMs: START, style: 'switch', pollingInterval: 5 });
      const pcap = join(dir, 'switch.pcap');
      await writeSimulationPcap(sim, pcap, { durationMs: 10000 });
      const st = sim.stats();
      const tshark = (...args: string[]) => {
        const r = spawnSync('tshark', ['-r', pcap, ...args], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout;
      };
      expect(tshark('-Y', '_ws.malformed').trim()).toBe('');
      expect(tshark('-q', '-z', 'expert,warn').replace(/=+|Errors \(0\)|Warnings \(0\)/g, '').trim()).toBe('');
      const counts = tshark('-T', 'fields', '-e', 'sflow_245.numsamples')
        .trim()
        .split('\n')
        .map(Number);
      expect(counts.length).toBe(st.datagrams);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(st.flowSamples + st.counterSamples);
      expect(Number(tshark('-Y', 'ip.proto == 4', '-T', 'fields', '-e', 'frame.number').trim().split('\n').length)).toBeGreaterThan(st.datagrams / 4);
      expect(tshark('-Y', 'dns', '-T', 'fields', '-e', 'frame.number').trim().length).toBeGreaterThan(0);
    },
    90000,
  );
});
