// Decoder speed: datagrams/s, samples/s and ns per sample for (walk) tags only, (a) full decode,
// (b) decode + sampled-header dissection, measured in one run on one core. Ratios matter, not
// absolute numbers: the machine is shared.

import { decodeDatagram } from '../src/sflow/decode.js';
import { dissect } from '../src/packet/index.js';
import { generateWorkload } from './workload.js';
import { walkDatagram } from './walk.js';

const COUNT = Number(process.env.BENCH_DATAGRAMS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const w = generateWorkload(COUNT);
const views = w.datagrams.map((d) => new DataView(d.buffer, d.byteOffset, d.byteLength));

function time(fn: () => number): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    sink ^= fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns < best) best = ns;
  }
  if (sink === 0.5) console.log(sink); // keep the work observable
  return best;
}

const walkNs = time(() => {
  let x = 0;
  for (let i = 0; i < w.datagrams.length; i++) x ^= walkDatagram(w.datagrams[i]!, views[i]!);
  return x;
});

const decodeNs = time(() => {
  let x = 0;
  for (const d of w.datagrams) {
    const r = decodeDatagram(d);
    x += r.datagram!.samples.length;
  }
  return x;
});

const dissectNs = time(() => {
  let x = 0;
  for (const d of w.datagrams) {
    const r = decodeDatagram(d);
    for (const s of r.datagram!.samples) {
      if (s.kind !== 'flow_sample') continue;
      for (const rec of s.records) {
        if (rec.kind === 'sampled_header') x += dissect(rec.headerProtocol, rec.header).stack.length;
      }
    }
  }
  return x;
});

function row(name: string, ns: number) {
  const s = ns / 1e9;
  return {
    stage: name,
    'datagrams/s': Math.round(w.datagrams.length / s),
    'samples/s': Math.round(w.samples / s),
    'ns/sample': +(ns / w.samples).toFixed(1),
    'x walk': +(ns / walkNs).toFixed(2),
  };
}

console.log(
  `decode bench: ${w.datagrams.length} datagrams, avg ${Math.round(w.bytes / w.datagrams.length)} bytes, ` +
    `${w.samples} samples (${w.flowSamples} flow), best of ${ROUNDS} rounds`,
);
console.table([row('walk (tags only)', walkNs), row('decode', decodeNs), row('decode + dissect', dissectNs)]);
