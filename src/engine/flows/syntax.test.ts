import { describe, expect, it } from 'vitest';
import { FlowSpecError, parseKeyExpr, parseKeyList, splitTop, unescape } from './syntax.js';

describe('key syntax', () => {
  it('splits key lists on unescaped commas outside brackets', () => {
    expect(parseKeyList('ipsource,ipdestination').map((k) => k.source)).toEqual(['ipsource', 'ipdestination']);
    expect(parseKeyList(['ipsource', 'dns:ipdestination']).map((k) => k.kind)).toEqual(['attr', 'fn']);
    expect(parseKeyList('concat:\\,:ipsource:ipdestination,stack').map((k) => k.source)).toEqual(['concat:\\,:ipsource:ipdestination', 'stack']);
    expect(parseKeyList('[if:ipprotocol:6:[concat:-:ipsource:tcpsourceport]:x],stack')).toHaveLength(2);
    expect(parseKeyList('')).toEqual([]);
    expect(splitTop("a='x,y',b", ',', 'f', true)).toEqual(["a='x,y'", 'b']);
  });

  it('parses functions, nested [ ] arguments and escapes', () => {
    const e = parseKeyExpr('if:[first:stack:.:ip:ip6]:ip:[dns:ipsource]:[dns:ip6source]');
    expect(e.kind).toBe('fn');
    if (e.kind !== 'fn') return;
    expect(e.name).toBe('if');
    expect(e.args.map((a) => a.text)).toEqual(['first:stack:.:ip:ip6', 'ip', 'dns:ipsource', 'dns:ip6source']);
    expect(e.args[0]!.nested).toMatchObject({ kind: 'fn', name: 'first' });
    expect(e.args[1]!.nested).toBeNull();
    const c = parseKeyExpr('concat:\\::a:b');
    expect(c.kind === 'fn' && c.args.map((a) => a.text)).toEqual([':', 'a', 'b']);
    expect(parseKeyExpr('[[ipsource]]')).toMatchObject({ kind: 'attr', name: 'ipsource' });
    expect(unescape('a\\,b\\\\c')).toBe('a,b\\c');
  });

  it('reports faults with the text', () => {
    expect(() => parseKeyExpr('nosuchfn:ipsource')).toThrow(FlowSpecError);
    expect(() => parseKeyExpr('nosuchfn:ipsource')).toThrow(/unknown key function "nosuchfn"/);
    expect(() => parseKeyList('dns:[ipsource')).toThrow(/missing '\]'/);
    expect(() => parseKeyList('ipsource]')).toThrow(/unbalanced '\]' at position 9/);
    expect(() => parseKeyExpr('dns:ip[source]')).toThrow(/bracketed argument must be a whole argument/);
    expect(() => parseKeyList(42)).toThrow(/keys: expected/);
    expect(() => parseKeyExpr('dns:['.repeat(20) + 'ipsource' + ']'.repeat(20))).toThrow(/nested deeper/);
    expect(() => parseKeyList('x'.repeat(5000))).toThrow(/longer than/);
  });
});
