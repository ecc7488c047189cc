import { describe, expect, it } from 'vitest';
import { dataSourceName, interfaceKey, parseDataSourceName } from './datasource.js';

describe('data source and interface names', () => {
  it('names data sources the way sFlow-RT does', () => {
    expect(dataSourceName(0, 15)).toBe('15');
    expect(dataSourceName(2, 1)).toBe('2.1');
    expect(dataSourceName(3, 100042)).toBe('3.100042');
    for (const [c, i] of [[0, 1], [2, 1], [3, 149999], [0, 369098852]] as const) {
      expect(parseDataSourceName(dataSourceName(c, i))).toEqual({ sourceIdClass: c, sourceIdIndex: i });
    }
    for (const bad of ['', 'x', '3.', '.1', '256.1', '1.2.3', '3.99999999999']) expect(parseDataSourceName(bad)).toBeNull();
  });

  it('gives interface words their special meanings', () => {
    expect(interfaceKey(0, 7)).toBe('7');
    expect(interfaceKey(0, 0x3fffffff)).toBe('internal');
    expect(interfaceKey(0, 0)).toBe('0');
    expect(interfaceKey(3, 1)).toBeNull();
    expect(interfaceKey(1, 0x102)).toBe('discard');
    expect(interfaceKey(2, 3)).toBe('multiple');
    expect(interfaceKey(2, 0)).toBe('multiple');
  });
});
