// The cached formatters must always give the same text as a plain, uncached formatting —
// including when two addresses share a cache slot.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, formatIp6, ip4, ip6, mac } from './format.js';

function refIp6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  // longest run of >= 2 zero groups, first one on a tie
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  const h = g.map((x) => x.toString(16));
  if (best < 0) return h.join(':');
  return `${h.slice(0, best).join(':')}::${h.slice(best + bestLen).join(':')}`;
}

describe('formatters', () => {
  it('dec', () => {
    for (const n of [0, 1, 9, 10, 255, 65535, 65536, 4294967295]) expect(dec(n)).toBe(String(n));
    expect(dec(80)).toBe(dec(80));
  });

  it('ip4, mac and ip6 agree with uncached formatting on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(ip4(b, 0)).toBe(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
        expect(mac(b, 2)).toBe(Array.from(b.subarray(2, 8), (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase());
        expect(ip6(b, 0)).toBe(refIp6(b));
        expect(formatIp6(b, 0)).toBe(refIp6(b));
      }),
      { numRuns: 20000 },
    );
  });

  it('ip6 with many zero runs (the random test rarely makes them)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8), { minLength: 8, maxLength: 8 }), (groups) => {
        const b = new Uint8Array(16);
        groups.forEach((x, i) => {
          b[2 * i] = x >>> 8;
          b[2 * i + 1] = x & 0xff;
        });
        expect(ip6(b, 0)).toBe(refIp6(b));
        // the result is what URL parsing (an independent RFC 5952 implementation) gives, except
        // for IPv4-mapped addresses, which RFC 5952 §5 writes in mixed notation
        if (!refIp6(b).includes('.')) expect(new URL(`http://[${ip6(b, 0)}]/`).hostname).toBe(`[${ip6(b, 0)}]`);
      }),
      { numRuns: 5000 },
    );
  });

  it('repeated lookups of colliding addresses stay correct', () => {
    const seen: [Uint8Array, string][] = [];
    for (let i = 0; i < 50000; i++) {
      const b = new Uint8Array([10, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]);
      seen.push([b, ip4(b, 0)]);
    }
    for (const [b, s] of seen) expect(ip4(b, 0)).toBe(s);
  });
});
