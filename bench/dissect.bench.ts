// Dissector micro-benchmark: ns per sampled header for a few typical headers.
// Run: npx tsx bench/dissect.bench.ts          (not part of `npm run bench`)
// Three modes, each in its own process (so one mode's type feedback does not slow another):
//   parse  parsePacket() + the `stack` key             (what every sample costs)
//   keys   parsePacket() + 8 typical flow keys read through compiled key readers
//   eager  dissect(): every attribute formatted into an object (tests and tools; not the hot path)
// `npx tsx bench/dissect.bench.ts parse|keys|eager` runs one.
//
// Each case dissects the same header(s) in a loop after a warm-up and prints the median of
// several timed rounds. "varied" cases rewrite addresses, ports and sequence numbers in 4096
// copies so that the address-string caches miss as they would on a busy link.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dissect, keyReader, parsePacket, type KeyReader } from '../src/packet/index.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.split(/[-\s]+/).filter(Boolean).map((h) => parseInt(h, 16)));
}

// Headers taken from testdata/oracle (hsflowd-tunnels-sample, hsflowd-flows), cut to 128 bytes
// where longer (the usual sFlow header size).
const ETH_IP_TCP = hex(
  '02-00-00-00-00-02-02-00-00-00-00-01-08-00-45-00-1C-7C-B6-60-40-00-40-06-E4-17-C0-00-02-01-C0-00-02-02-98-24-14-51-77-FA-E3-61-84-18-59-2D-80-18-00-3F-A0-72-00-00-01-01-08-0A-07-24-6A-83-42-66-79-77-8B-0D-77-4F-B9-EA-B0-22-82-DB-4B-4D-F4-1B-FE-67-9F-EB-3C-D7-DA-F3-E1-2E-D2-FB-40-5F-AC-42-CE-D9-B5-52-DF-64-4E-33-8F-DA-07-25-69-76-7B-94-B7-6B-A3-14-EA-7D-68-B1-7E-00-C8-5D-C5-AB-AD-30-95-1F-7F-3B-85',
);
const ETH_IP6_TCP = hex(
  '02-00-00-00-00-02-02-00-00-00-00-01-86-DD-60-08-2F-39-15-40-06-40-20-01-0D-B8-FF-FF-00-00-00-00-00-00-00-00-00-01-20-01-0D-B8-FF-FF-00-00-00-00-00-00-00-00-00-02-CF-92-14-51-19-63-14-0D-06-5F-8A-1A-80-18-00-40-70-BB-00-00-01-01-08-0A-DD-1B-A4-E4-29-88-6D-3E-56-46-BF-E7-AA-0B-1E-8F-8F-C9-46-E7-D4-35-3A-A7-F0-9F-0E-80-4C-3F-CF-95-18-F7-AA-85-C5-2D-AA-47-9C-60-DB-FD-99-78-F5-88-F7-F4-B2-0B-8E-F5-2B',
);
const ETH_Q_IP_TCP = hex(
  '02-00-00-00-06-02-02-00-00-00-06-01-81-00-00-64-08-00-45-00-00-C3-76-6F-40-00-40-06-4B-C1-CB-00-71-01-CB-00-71-02-AF-08-14-51-84-51-E4-76-58-39-A8-10-80-18-00-40-C0-68-00-00-01-01-08-0A-08-DF-EB-F8-24-8E-AE-09-7B-22-74-63-70-22-3A-74-72-75-65-2C-22-6F-6D-69-74-22-3A-30-2C-22-74-69-6D-65-22-3A-31-2C-22-6E-75-6D-22-3A-30-2C-22-62-6C-6F-63-6B-63-6F-75-6E-74-22-3A-30-2C-22-70-61-72-61-6C-6C-65-6C',
);
const VXLAN = hex(
  '02-00-00-00-00-02-02-00-00-00-00-01-08-00-45-00-00-F5-5C-0D-00-00-40-11-99-E7-C0-00-02-01-C0-00-02-02-CE-A9-12-B5-00-E1-73-E6-08-00-00-00-00-00-64-00-02-00-00-00-01-02-02-00-00-00-01-01-08-00-45-00-00-C3-59-EE-40-00-40-06-8B-DC-C6-33-64-01-C6-33-64-02-E4-F4-14-51-07-33-A8-91-82-BF-B0-7B-80-18-00-40-55-20-00-00-01-01-08-0A-C6-CD-14-5F-78-C9-BB-61-7B-22-74-63-70-22-3A-74-72-75-65-2C-22-6F-6D-69-74-22-3A-30-2C-22-74-69',
);
const GENEVE6 = hex(
  '02-00-00-00-00-02-02-00-00-00-00-01-08-00-45-00-00-86-83-DD-40-00-40-11-32-86-C0-00-02-01-C0-00-02-02-17-C1-17-C1-00-72-84-87-02-00-65-58-00-13-89-00-01-02-80-01-00-01-00-02-02-00-00-00-04-02-02-00-00-00-04-01-86-DD-60-0F-2D-4B-00-24-06-40-20-01-0D-B8-01-07-00-00-00-00-00-00-00-00-00-01-20-01-0D-B8-01-07-00-00-00-00-00-00-00-00-00-02-89-50-14-51-6E-29-33-BF-D9-70-7E-37-80-18-00-3F-7A-08-00-00-01-01-08-0A-11-73-C5-45',
);
const RAW_IP_UDP_DNS = hex(
  '45-00-00-4D-3A-D3-00-00-40-11-41-CB-7F-00-00-01-7F-00-00-01-89-79-00-35-00-39-FE-4C-F8-B5-01-20-00-01-00-00-00-00-00-01-04-74-65-73-74-03-6C-61-6E-00-00-01-00-01-00-00-29-04-D0-00-00-00-00-00-0C-00-0A-00-08-B4-6A-B8-C0-4D-F0-E9-7E',
);

/** 4096 copies of an Ethernet/IPv4/TCP header with random addresses, ports and sequence numbers (checksum fixed up). */
function varied(template: Uint8Array): Uint8Array[] {
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const out: Uint8Array[] = [];
  for (let i = 0; i < 4096; i++) {
    const p = template.slice();
    for (const at of [26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45]) p[at] = rnd();
    p[24] = 0;
    p[25] = 0;
    let sum = 0;
    for (let j = 14; j < 34; j += 2) sum += (p[j]! << 8) | p[j + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const ck = ~sum & 0xffff;
    p[24] = ck >>> 8;
    p[25] = ck & 0xff;
    out.push(p);
  }
  return out;
}

interface Case {
  name: string;
  hp: number;
  packets: Uint8Array[];
}

const cases: Case[] = [
  { name: 'eth.ip.tcp (128 B)', hp: 1, packets: [ETH_IP_TCP] },
  { name: 'eth.ip.tcp (128 B), varied addresses', hp: 1, packets: varied(ETH_IP_TCP) },
  { name: 'eth.ip6.tcp (128 B)', hp: 1, packets: [ETH_IP6_TCP] },
  { name: 'eth.q.ip.tcp (128 B)', hp: 1, packets: [ETH_Q_IP_TCP] },
  { name: 'eth.ip.udp.vxlan.eth.ip.tcp (128 B)', hp: 1, packets: [VXLAN] },
  { name: 'eth.ip.udp.geneve.eth.ip6.tcp (128 B)', hp: 1, packets: [GENEVE6] },
  { name: 'ip.udp.dns (raw IPv4, 77 B)', hp: 11, packets: [RAW_IP_UDP_DNS] },
  {
    name: 'mix of the above',
    hp: 0,
    packets: [ETH_IP_TCP, ETH_IP6_TCP, ETH_Q_IP_TCP, VXLAN, GENEVE6, RAW_IP_UDP_DNS],
  },
];

let sink = 0;

const TYPICAL = ['stack', 'ipsource', 'ipdestination', 'ipprotocol', 'tcpsourceport', 'tcpdestinationport', 'udpsourceport', 'udpdestinationport'];
const stack = keyReader('stack')!;
const readers: KeyReader[] = TYPICAL.map((k) => keyReader(k)!);

type Dissection = (hp: number, p: Uint8Array) => number;
const MODES: Record<string, [string, Dissection]> = {
  parse: ['parsePacket + stack', (hp, p) => stack(parsePacket(hp, p))!.length],
  keys: [
    `parsePacket + ${TYPICAL.length} keys (${TYPICAL.join(', ')})`,
    (hp, p) => {
      const v = parsePacket(hp, p);
      let n = 0;
      for (let k = 0; k < readers.length; k++) {
        const x = readers[k]!(v);
        if (x !== undefined) n += x.length;
      }
      return n;
    },
  ],
  eager: ['dissect(): all keys (default options)', (hp, p) => dissect(hp, p).stack!.length],
};

/** ns of CPU time (user + system) per header: less disturbed by other processes than wall time. */
function run(c: Case, n: number, f: Dissection): number {
  const ps = c.packets;
  const mask = ps.length - 1;
  const pow2 = (ps.length & mask) === 0;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const p = ps[pow2 ? i & mask : i % ps.length]!;
    const hp = c.hp !== 0 ? c.hp : p[0] === 0x45 ? 11 : 1;
    sink += f(hp, p);
  }
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / n;
}

/** A fixed loop of byte additions, to compare machines: ns per iteration. */
function calibrate(): number {
  const a = new Uint8Array(1 << 20).fill(1);
  let s = 0;
  const t0 = process.cpuUsage();
  for (let r = 0; r < 50; r++) for (let i = 0; i < a.length; i++) s += a[i]!;
  const t = process.cpuUsage(t0);
  sink += s;
  return ((t.user + t.system) * 1000) / (50 * a.length);
}

const N = 1_000_000;

const mode = process.argv[2];
if (mode === undefined) {
  console.log(`node ${process.version}, ${N} headers per round, median of 7 rounds, CPU time`);
  for (const m of Object.keys(MODES)) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), m], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = 1;
  }
} else {
  const [label, f] = MODES[mode] ?? MODES.parse!;
  console.log(`\n${label}; calibration ${calibrate().toFixed(2)} ns per byte-add loop iteration (about 0.3 on a current desktop core)`);
  for (const c of cases) {
    run(c, 200_000, f); // warm-up
    const rounds: number[] = [];
    for (let r = 0; r < 7; r++) rounds.push(run(c, N, f));
    rounds.sort((a, b) => a - b);
    console.log(`  ${c.name.padEnd(42)} ${rounds[3]!.toFixed(1).padStart(7)} ns/packet`);
  }
  if (sink === 42) console.log('');
}
