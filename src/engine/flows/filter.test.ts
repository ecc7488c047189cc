import { afterEach, describe, expect, it } from 'vitest';
import { compileFilterAst, parseFilter } from './filter.js';
import { compileSafeRegex, linearRegexEngine, setForceStaticRegexGuard, staticProblem } from './regex.js';
import { FlowSpecError } from './syntax.js';

/** Compile a filter over a plain record (key text → value). */
function over(text: string): (r: Record<string, string>) => boolean {
  return compileFilterAst<Record<string, string>>(parseFilter(text), (k) => (r) => r[k], 'filter');
}

describe('filter language', () => {
  const r = { ipprotocol: '6', ipsource: '10.0.0.1', tcpflags: '000010010', 'dns:ipsource': 'a.b.c.', path: 'a,b&c' };

  it('comparisons, alternatives, null', () => {
    expect(over('ipprotocol=6')(r)).toBe(true);
    expect(over('ipprotocol=17,6')(r)).toBe(true);
    expect(over('ipprotocol!=17,6')(r)).toBe(false);
    expect(over('vlan=null')(r)).toBe(true);
    expect(over('vlan!=null')(r)).toBe(false);
    expect(over('ipsource!=null')(r)).toBe(true);
    expect(over('vlan=null,5')(r)).toBe(true);
    expect(over('vlan!=5')(r)).toBe(false); // a missing key never compares
    expect(over('vlan~.*')(r)).toBe(false);
    expect(over("ipsource='null'")(r)).toBe(false);
  });

  it('& binds tighter than |; parentheses; spaces; quotes', () => {
    expect(over('ipprotocol=17 & ipsource=10.0.0.1 | ipprotocol=6')(r)).toBe(true);
    expect(over('ipprotocol=17&(ipsource=10.0.0.1|ipprotocol=6)')(r)).toBe(false);
    expect(over("'path'='a,b&c'")(r)).toBe(true);
    expect(over("'dns:ipsource'='a.b.c.'&ipprotocol=6")(r)).toBe(true);
    expect(over("path='a,b&c',x")(r)).toBe(true);
    expect(over("ipsource='10.0.0.1' | 'ipsource'='it\\'s'")(r)).toBe(true);
  });

  it('~ and !~ match whole values; unquoted patterns keep their parentheses and alternations', () => {
    expect(over('tcpflags~....1..1.')(r)).toBe(true);
    expect(over('tcpflags~....1')(r)).toBe(false);
    expect(over('tcpflags!~........1')(r)).toBe(true);
    expect(over('tcpflags!~.......1.')(r)).toBe(false);
    expect(over('dns:ipsource~.*\\.(b|x)\\.c\\.')(r)).toBe(true);
    expect(over('dns:ipsource~(a|z)\\..*&ipprotocol=6')(r)).toBe(true);
    expect(over('ipsource~10\\.0\\.0\\.[0-9]{1,3}')(r)).toBe(true);
    expect(over('ipsource~x.*,10.*')(r)).toBe(true);
  });

  it('syntax errors name the position', () => {
    const cases: [string, RegExp][] = [
      ['', /empty filter/],
      ['ipsource=((', /unexpected '\(' in a value .*position 10/],
      ['(ipsource=1', /missing '\)' for the '\(' at position 1/],
      ['ipsource=1)', /unexpected '\)'/],
      ['ipsource=1&&x=2', /expected a comparison|expected a key/],
      ['ipsource', /expected an operator/],
      ['=5', /expected a key before the operator/],
      ["ipsource='abc", /missing closing quote/],
      ['ipsource=', /missing value/],
    ];
    for (const [text, msg] of cases) {
      expect(() => parseFilter(text), text).toThrow(FlowSpecError);
      expect(() => parseFilter(text), text).toThrow(msg);
    }
  });
});

describe('regular expressions cannot stall the engine', () => {
  afterEach(() => setForceStaticRegexGuard(false));

  it('the linear-time engine is in use and refuses what it cannot run linearly', () => {
    expect(linearRegexEngine()).toBe(true);
    expect(() => compileSafeRegex('(a)\\1', 'f')).toThrow(/linear time/);
    expect(() => compileSafeRegex('a(?=b)', 'f')).toThrow(/linear time/);
    expect(() => compileSafeRegex('[a-', 'f')).toThrow(/invalid regular expression/);
  });

  it('catastrophic patterns run in linear time', () => {
    const re = compileSafeRegex('(a|aa)*b', 'f');
    const t = Date.now();
    expect(re.test('a'.repeat(4000))).toBe(false);
    expect(Date.now() - t).toBeLessThan(500);
    expect(compileSafeRegex('(x+x+)+y', 'f').test('x'.repeat(4096))).toBe(false);
    expect(compileSafeRegex('.*', 'f').test('y'.repeat(5000))).toBe(false); // longer than MAX_REGEX_INPUT
  });

  it('without the linear engine, a static guard refuses nested and ambiguous repetition', () => {
    setForceStaticRegexGuard(true);
    for (const p of ['(a+)+', '(a|aa)*b', '(x*)*', '(a)\\1', 'a(?!b)', 'a{1,1000}', 'a*b*c*d*e*f*']) {
      expect(() => compileSafeRegex(p, 'f'), p).toThrow(/refused/);
    }
    for (const p of ['.......1.', '.*\\.example\\.com\\.', '[0-9]+\\.[0-9]+', '(com|net)', 'a?b?']) {
      expect(staticProblem(p), p).toBeNull();
      expect(compileSafeRegex(p, 'f').test('x')).toBe(false);
    }
  });
});
