// Simulator throughput: datagrams generated and encoded per second on one core.
// Run: npx tsx bench/sim.bench.ts [--nodes 180] [--rate 100000] [--seconds 20]
// Target (issue 5): >= 100k datagrams/s. Nothing is sent or written; datagrams are counted
// and dropped, so this measures the model and the encoder only.

import { parseArgs } from 'node:util';
import { ClusterSimulator } from '../src/sim/simulator.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '180' },
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
  },
});
const nodes = Number(values.nodes);
const rate = Number(values.rate);
const seconds = Number(values.seconds);

const t0 = performance.now();
const sim = new ClusterSimulator({ nodes, rate, seed: Number(values.seed) });
const built = performance.now() - t0;

// warm up (JIT, first-second state), then measure
let n = 0;
let bytes = 0;
const count = (d: { bytes: Uint8Array }): void => {
  n++;
  bytes += d.bytes.length;
};
sim.advance(sim.now + 3000, count);
n = 0;
bytes = 0;
const before = sim.stats();
const t1 = performance.now();
sim.advance(sim.now + seconds * 1000, count);
const elapsed = (performance.now() - t1) / 1000;
const after = sim.stats();
const samples = after.flowSamples - before.flowSamples + after.counterSamples - before.counterSamples + after.discardSamples - before.discardSamples;

const rateOut = n / elapsed;
console.log(`sim: ${nodes} nodes, target ${rate} datagrams/s, seed ${values.seed}`);
console.log(`  build          ${built.toFixed(0)} ms (${sim.cluster.pods.length} pods, ${sim.traffic.streams.length} streams)`);
console.log(`  simulated      ${seconds} s -> ${n} datagrams (${(n / seconds).toFixed(0)}/s simulated), ${samples} samples, ${(bytes / n).toFixed(0)} B/datagram`);
console.log(`  wall           ${elapsed.toFixed(2)} s`);
console.log(`  throughput     ${rateOut.toFixed(0)} datagrams/s, ${(samples / elapsed).toFixed(0)} samples/s, ${((bytes / elapsed) * 8 / 1e9).toFixed(2)} Gbit/s of sFlow`);
console.log(`  target         >= 100000 datagrams/s: ${rateOut >= 100000 ? 'met' : 'NOT met'}`);
