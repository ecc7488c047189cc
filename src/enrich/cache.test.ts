import { describe, expect, it } from 'vitest';
import { SecondChanceCache, type CacheEntry } from './cache.js';

interface E extends CacheEntry {
  v: string;
}
const e = (v: string): E => ({ v, referenced: false, slot: -1 });

describe('SecondChanceCache', () => {
  it('evicts entries not read since the hand last passed, first in first out among them', () => {
    const evicted: string[] = [];
    const c = new SecondChanceCache<E>(3, (k) => evicted.push(k));
    c.set('a', e('1'));
    c.set('b', e('2'));
    c.set('c', e('3'));
    expect(c.get('a')?.v).toBe('1'); // a gets a second chance
    c.set('d', e('4'));
    expect(evicted).toEqual(['b']);
    c.set('e', e('5'));
    expect(evicted).toEqual(['b', 'c']);
    c.set('f', e('6')); // a's chance was used up when the hand passed it
    expect(evicted).toEqual(['b', 'c', 'a']);
    expect(c.size).toBe(3);
    expect(['d', 'e', 'f'].map((k) => c.peek(k)?.v)).toEqual(['4', '5', '6']);
  });

  it('peek does not mark; replacing keeps the slot and the mark', () => {
    const evicted: string[] = [];
    const c = new SecondChanceCache<E>(2, (k) => evicted.push(k));
    c.set('a', e('1'));
    c.set('b', e('2'));
    c.peek('a');
    c.get('b');
    c.set('b', e('2b')); // still marked
    c.set('c', e('3'));
    expect(evicted).toEqual(['a']);
    expect(c.peek('b')?.v).toBe('2b');
  });

  it('terminates when every entry is marked, and does amortised O(1) work per eviction', () => {
    const c = new SecondChanceCache<E>(100_000);
    for (let i = 0; i < 100_000; i++) c.set(`k${i}`, e(String(i)));
    let marks = 0;
    for (let i = 0; i < 100_000; i++) if (c.get(`k${i}`)) marks++;
    for (let i = 0; i < 200_000; i++) {
      c.set(`n${i}`, e(String(i)));
      if (i % 3 === 0 && c.get(`n${i}`)) marks++;
    }
    expect(c.size).toBe(100_000);
    expect(c.evictions).toBe(200_000);
    // Each slot the hand passes without evicting consumes one mark, and only get() sets marks:
    // total work is at most evictions + reads, whatever the order.
    expect(c.secondChances).toBeLessThanOrEqual(marks);
    expect(c.secondChances).toBeGreaterThanOrEqual(100_000); // the fully marked first round
  });

  it('rejects a size below one', () => {
    expect(() => new SecondChanceCache<E>(0)).toThrow(RangeError);
  });
});
