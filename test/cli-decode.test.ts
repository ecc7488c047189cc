// `sflowscope decode` end to end: the real CLI in a child process, against sflowtool's output.

import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listCaptures, parseConcatenatedJson, readSflowtoolOracle, type SflowtoolObject } from './oracle.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function sflowscope(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    timeout: 60_000,
    env: { ...process.env, TZ: 'UTC' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const capture = (name: string) => listCaptures().find((c) => c.name === name)!;

describe('sflowscope decode', () => {
  for (const name of ['hsflowd-counters.pcap', 'cistern-sflow__event_discarded_packet.pcap', 'tcpdump__sflow_multiple_counter_30_pdus.pcap']) {
    it(`--format sflowtool-json prints what sflowtool -J printed for ${name}`, () => {
      const r = sflowscope('decode', capture(name).path, '--format', 'sflowtool-json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const ours = parseConcatenatedJson(r.stdout) as SflowtoolObject[];
      const oracle = readSflowtoolOracle(name);
      expect(ours).toHaveLength(oracle.length);
      for (let i = 0; i < oracle.length; i++) {
        const want = oracle[i]!;
        if (want._partial === 'true') {
          // sflowtool stopped mid-datagram: hold ourselves to what it printed.
          for (const [k, v] of Object.entries(want)) if (k !== 'samples') expect(ours[i]![k], `${name} #${i + 1} ${k}`).toEqual(v);
        } else expect(ours[i], `${name} datagram #${i + 1}`).toEqual(want);
      }
    });
  }

  it('--stats counts datagrams and samples the way sflowtool saw them', () => {
    const name = 'hsflowd-json.pcap';
    const r = sflowscope('decode', capture(name).path, '--stats-json');
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout);
    const oracle = readSflowtoolOracle(name);
    expect(stats.datagrams).toBe(oracle.length);
    const want: Record<string, number> = {};
    for (const d of oracle) for (const s of d.samples as SflowtoolObject[]) want[s.sampleType_tag as string] = (want[s.sampleType_tag as string] ?? 0) + 1;
    const got: Record<string, number> = {};
    for (const [k, n] of Object.entries(stats.samples as Record<string, number>)) got[k.split(' ')[0]!] = (got[k.split(' ')[0]!] ?? 0) + n;
    expect(got).toEqual(want);
    expect(stats.errors).toEqual({});
    expect(stats.unknown).toEqual({});

    const text = sflowscope('decode', capture(name).path, '--stats');
    expect(text.stdout).toMatch(/datagrams 241 \(\d+ bytes\), 241 without error/);
    expect(text.stdout).toMatch(/\n\s+119\s+4300:1002 rtmetric\n/);
  });

  it('--stats reports errors by reason for broken datagrams', () => {
    const r = sflowscope('decode', capture('tcpdump__sflow_multiple_counter_30_pdus.pcap').path, '--stats-json');
    const stats = JSON.parse(r.stdout);
    expect(stats.datagrams).toBe(30);
    expect(stats.errors).toEqual({ bad_version: 5 }); // the NetFlow v5 frames in that capture
  });

  it('ndjson prints one datagram per line; json one array', () => {
    const path = capture('goflow2__sflow_test.pcap').path;
    const nd = sflowscope('decode', path).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const arr = JSON.parse(sflowscope('decode', path, '--format', 'json').stdout);
    expect(nd).toHaveLength(5);
    expect(arr).toEqual(nd);
    expect(nd[0].datagram.samples[0].kind).toMatch(/_sample$/);
    // Its last datagram ends in an unpadded string, where sflowtool gives up; we decode it whole.
    expect(nd[4].error).toBeNull();
    expect(nd[4].datagram.samples[0].records[0]).toEqual({ kind: 'extended_function', tag: 1038, tagName: '0:1038', symbol: 'foobar' });
  });

  it('answers bad invocations with a clear message and a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sflowscope-decode-'));
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture');
    const cases: [string[], number, RegExp][] = [
      [['decode'], 2, /expected one capture file/],
      [['decode', junk, '--format', 'xml'], 2, /unknown format 'xml'/],
      [['decode', join(dir, 'missing.pcap')], 1, /no such file/],
      [['decode', junk], 1, /junk\.pcap: /],
      [['frobnicate'], 2, /unknown command/],
    ];
    for (const [args, code, msg] of cases) {
      const r = sflowscope(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    expect(sflowscope('decode', '--help').stdout).toMatch(/usage: sflowscope decode FILE/);
  });
});
