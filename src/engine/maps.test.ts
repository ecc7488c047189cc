// Maps: value → label, first label wins, bounds, validation messages, state section.

import { describe, expect, it } from 'vitest';
import { MapRegistry } from './maps.js';
import { QueryError } from './query.js';

describe('MapRegistry', () => {
  it('labels values; numbers are their decimal text; the first label listing a value wins', () => {
    const m = new MapRegistry();
    m.set('ports', { web: ['80', 443, '8080'], dns: [53], alt: ['8080'] });
    expect(m.get('ports')).toEqual({ web: ['80', '443', '8080'], dns: ['53'], alt: ['8080'] });
    expect(m.lookupMap('ports', '443')).toBe('web');
    expect(m.lookupMap('ports', '53')).toBe('dns');
    expect(m.lookupMap('ports', '8080')).toBe('web');
    expect(m.lookupMap('ports', '22')).toBeUndefined();
    expect(m.lookupMap('nosuch', '80')).toBeUndefined();
    expect(m.stats).toMatchObject({ lookups: 5, matches: 3 });
  });

  it('replacing a map replaces every value; delete removes it', () => {
    const m = new MapRegistry();
    m.set('macs', { router: ['00:11:22:33:44:55'] });
    m.set('macs', { switch: ['66:77:88:99:aa:bb'] });
    expect(m.lookupMap('macs', '00:11:22:33:44:55')).toBeUndefined();
    expect(m.lookupMap('macs', '66:77:88:99:aa:bb')).toBe('switch');
    expect(m.delete('macs')).toBe(true);
    expect(m.delete('macs')).toBe(false);
    expect(m.lookupMap('macs', '66:77:88:99:aa:bb')).toBeUndefined();
    expect(m.all()).toEqual({});
  });

  it('rejects bad bodies with a message naming the fault', () => {
    const m = new MapRegistry();
    const cases: [unknown, RegExp][] = [
      [[], /a map is an object/],
      [{ a: { x: 1 } }, /label "a": expected an array/],
      [{ a: ['x', null] }, /label "a", entry 1: expected a string or a number/],
      [{ a: [true] }, /label "a", entry 0/],
      [{ a: ['x'.repeat(2000)] }, /longer than 1024/],
    ];
    for (const [body, re] of cases) expect(() => m.set('x', body)).toThrow(re);
    expect(() => m.set('x y', {})).toThrow(QueryError);
    expect(m.size).toBe(0);
  });

  it('bounds on maps and values', () => {
    const m = new MapRegistry({ maxMaps: 1, maxValuesPerMap: 2, maxValues: 2 });
    m.set('a', { x: ['1', '2'] });
    expect(() => m.set('b', { x: [] })).toThrow(/too many maps/);
    expect(() => m.set('a', { x: ['1', '2', '3'] })).toThrow(/too many values in one map/);
    m.set('a', { x: ['1'] });
    expect(m.valueCount).toBe(1);
  });

  it('state section round trip; bad entries reported, good ones kept', () => {
    const m = new MapRegistry();
    m.set('vlan', { prod: [10, 20], dev: ['30'] });
    const n = new MapRegistry();
    const r = n.section().load({ ...(m.section().save() as object), bad: [1, 2] });
    expect(r).toEqual({ loaded: 1, rejected: [{ key: 'bad', reason: 'a map is an object {"<label>": ["<value>", ...], ...}' }] });
    expect(n.lookupMap('vlan', '20')).toBe('prod');
  });
});
