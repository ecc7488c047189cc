// Robustness: mutate every test capture's datagrams (truncations, bit flips, length and count
// fields set to 0 / odd / huge values, inflated sample and record counts, random bytes) and
// check that decoding never throws, terminates, and builds output proportional to the input.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listCaptures } from '../../test/oracle.js';
import { readCapture } from '../ingest/pcap.js';
import { decodeDatagram } from './decode.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 120_000);

const corpus: Uint8Array[] = [];
for (const c of listCaptures()) {
  for (const d of readCapture(readFileSync(c.path)).datagrams) corpus.push(Uint8Array.from(d.payload));
}

/** Values that break naive decoders when written into a length or count field. */
const NASTY = [0, 1, 2, 3, 4, 5, 7, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff, 0x10000, 1 << 20, 1_000_000];

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number; count: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'sampleCount'; value: number }
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'splice'; at: number; other: number; from: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('word' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...NASTY), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({ kind: fc.constant('sampleCount' as const), value: fc.oneof(fc.constantFrom(...NASTY), fc.nat({ max: 0xffffffff })) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 256 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), other: fc.nat(), from: fc.nat(), len: fc.nat(64) }),
);

function apply(base: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'truncate':
      return base.slice(0, m.at % (base.length + 1));
    case 'flip': {
      const b = Uint8Array.from(base);
      if (b.length === 0) return b;
      for (let i = 0; i < m.count; i++) b[(m.at + i * 7919) % b.length]! ^= 1 << ((m.bit + i) & 7);
      return b;
    }
    case 'word': {
      const b = Uint8Array.from(base);
      if (b.length < 4) return b;
      // Lengths and counts sit on 4-byte boundaries: hit those.
      const at = ((m.at % (b.length >>> 2)) << 2) >>> 0;
      new DataView(b.buffer).setUint32(at, m.value >>> 0);
      return b;
    }
    case 'sampleCount': {
      const b = Uint8Array.from(base);
      const v = new DataView(b.buffer);
      if (b.length < 28) return b;
      const at = v.getUint32(4) === 2 ? 36 : 24;
      if (at + 4 <= b.length) v.setUint32(at, m.value >>> 0);
      return b;
    }
    case 'random': {
      // A plausible header followed by noise reaches deeper than noise alone.
      const b = new Uint8Array(28 + m.bytes.length);
      b.set(base.subarray(0, 28));
      b.set(m.bytes, 28);
      return b;
    }
    case 'splice': {
      const other = corpus[m.other % corpus.length]!;
      const from = other.length ? m.from % other.length : 0;
      const piece = other.subarray(from, from + m.len);
      const at = m.at % (base.length + 1);
      const b = new Uint8Array(base.length + piece.length);
      b.set(base.subarray(0, at));
      b.set(piece, at);
      b.set(base.subarray(at), at + piece.length);
      return b;
    }
  }
}

/** Nodes in the decoded tree (objects, array slots); views and strings count by their length / 4. */
function weight(v: unknown, depth = 0): number {
  if (depth > 12) return 1;
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? 1 + (v.length >>> 2) : 1;
  if (v instanceof Uint8Array) return 1;
  let n = 1;
  for (const x of Object.values(v as Record<string, unknown>)) n += weight(x, depth + 1);
  return n;
}

describe('decoder robustness', () => {
  it(`survives ${RUNS} mutated datagrams from ${corpus.length} captured ones`, () => {
    expect(corpus.length).toBeGreaterThan(1000);
    const outcomes = new Map<string, number>();
    let maxRatio = 0;
    fc.assert(
      fc.property(fc.nat(), mutation, (pick, m) => {
        const bytes = apply(corpus[pick % corpus.length]!, m);
        const r = decodeDatagram(bytes); // must not throw
        const key = r.error ? r.error.reason : 'decoded';
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (r.error) {
          expect(r.error.offset).toBeLessThanOrEqual(bytes.length);
          expect(typeof r.error.detail).toBe('string');
        }
        // Output is bounded by input: every sample and record consumes at least 8 bytes.
        const w = weight(r.datagram);
        const ratio = w / Math.max(bytes.length, 28);
        if (ratio > maxRatio) maxRatio = ratio;
        expect(w).toBeLessThanOrEqual(64 + bytes.length * 2);
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261127) },
    );
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(RUNS);
    const summary = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`);
    console.log(`fuzz: ${RUNS} mutated datagrams: ${summary.join(' ')}; max output nodes per input byte ${maxRatio.toFixed(3)}`);
    // Both sides must be exercised, or the mutations are not doing their job.
    expect(outcomes.get('decoded') ?? 0).toBeGreaterThan(RUNS / 20);
    expect(total - (outcomes.get('decoded') ?? 0)).toBeGreaterThan(RUNS / 20);
  }, 300_000);

  it('survives pure random bytes of every small length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = decodeDatagram(bytes);
        expect(r.datagram !== null || r.error !== null).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});
