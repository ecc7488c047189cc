// The flow filter language (../shared/reference/sflow-rt.md §3.7), compiled once into a
// predicate over a sample:
//
//   expr       := term ('|' term)*
//   term       := factor ('&' factor)*
//   factor     := '(' expr ')' | comparison
//   comparison := key op values
//   op         := '=' | '!=' | '~' | '!~'
//   values     := value (',' value)*
//
// `key` is an attribute or key function (`[...]` nesting, `\` escapes), `value` a literal;
// either may be single-quoted ('key'='a,b&c' — quotes protect , & | ( ) and spaces; `\'` is a
// quote inside). The values of one comparison are alternatives (OR). `null` as a value stands
// for "the sample has no such key": `vxlanvni!=null` is true when the key is present.
// Comparisons on a key the sample lacks are false (except `=null`). `~` and `!~` match Java-style
// regular expressions against the whole value (regex.ts keeps them linear-time); inside an
// unquoted pattern, parentheses, brackets and braces nest, so `dnsqname~.*\.(com|net)\.` works.
// Space around operators, `&`, `|` and parentheses is ignored.

import { compileKey, type KeyDeps } from './keys.js';
import { compileSafeRegex, type SafeRegex } from './regex.js';
import type { Reader, SampleView } from './sample.js';
import { FlowSpecError, parseKeyExpr } from './syntax.js';

export type Predicate = (s: SampleView) => boolean;

/** Longest filter accepted (characters). */
export const MAX_FILTER_TEXT = 8192;

type Op = '=' | '!=' | '~' | '!~';

/** Parsed filter, before compilation (also used by /activeflows filters over flow keys). */
export type FilterAst =
  | { kind: 'and' | 'or'; items: FilterAst[] }
  | { kind: 'cmp'; key: string; keyQuoted: boolean; op: Op; values: { text: string; quoted: boolean }[]; at: number };

class Parser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly what: string,
  ) {}

  fail(message: string, at = this.i): never {
    const near = this.s.slice(Math.max(0, at - 10), at + 10);
    throw new FlowSpecError(`${this.what}: ${message} at position ${at + 1} (near ${JSON.stringify(near)}) in ${JSON.stringify(this.s)}`);
  }

  private ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t' || this.s[this.i] === '\n' || this.s[this.i] === '\r')) this.i++;
  }

  parse(): FilterAst {
    this.ws();
    if (this.i >= this.s.length) this.fail('empty filter');
    const e = this.expr(0);
    this.ws();
    if (this.i < this.s.length) this.fail(this.s[this.i] === ')' ? "unexpected ')'" : `unexpected ${JSON.stringify(this.s[this.i])}`);
    return e;
  }

  private expr(depth: number): FilterAst {
    if (depth > 64) this.fail('nested too deeply');
    const items = [this.term(depth)];
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '|') break;
      this.i++;
      items.push(this.term(depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private term(depth: number): FilterAst {
    const items = [this.factor(depth)];
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '&') break;
      this.i++;
      items.push(this.factor(depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private factor(depth: number): FilterAst {
    this.ws();
    if (this.i >= this.s.length) this.fail('expected a comparison');
    if (this.s[this.i] === '(') {
      const open = this.i;
      this.i++;
      const e = this.expr(depth + 1);
      this.ws();
      if (this.s[this.i] !== ')') this.fail(`missing ')' for the '(' at position ${open + 1}`);
      this.i++;
      return e;
    }
    return this.comparison();
  }

  private quoted(): string {
    const start = this.i;
    this.i++; // opening quote
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '\\' && this.i + 1 < this.s.length) {
        const n = this.s[this.i + 1]!;
        // keep other escapes for the layer below (key syntax, regex)
        out += n === "'" ? "'" : c + n;
        this.i += 2;
        continue;
      }
      if (c === "'") {
        this.i++;
        return out;
      }
      out += c;
      this.i++;
    }
    return this.fail('missing closing quote', start);
  }

  private comparison(): FilterAst {
    const at = this.i;
    const c0 = this.s[this.i];
    if (c0 === '&' || c0 === '|' || c0 === ')') this.fail(`expected a comparison, found ${JSON.stringify(c0)}`);
    let key: string;
    let keyQuoted = false;
    if (this.s[this.i] === "'") {
      key = this.quoted();
      keyQuoted = true;
    } else {
      let depth = 0;
      const start = this.i;
      while (this.i < this.s.length) {
        const c = this.s[this.i]!;
        if (c === '\\') {
          this.i += 2;
          continue;
        }
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (depth === 0 && (c === '=' || c === '~' || (c === '!' && (this.s[this.i + 1] === '=' || this.s[this.i + 1] === '~')))) break;
        else if (depth === 0 && (c === '&' || c === '|' || c === '(' || c === ')')) this.fail(`expected an operator (=, !=, ~, !~) after ${JSON.stringify(this.s.slice(start, this.i).trim())}`);
        this.i++;
      }
      key = this.s.slice(start, this.i).trim();
    }
    this.ws();
    if (key === '') this.fail('expected a key before the operator', at);
    let op: Op;
    const c = this.s[this.i];
    if (c === '=') {
      op = '=';
      this.i++;
    } else if (c === '~') {
      op = '~';
      this.i++;
    } else if (c === '!' && this.s[this.i + 1] === '=') {
      op = '!=';
      this.i += 2;
    } else if (c === '!' && this.s[this.i + 1] === '~') {
      op = '!~';
      this.i += 2;
    } else return this.fail(`expected an operator (=, !=, ~, !~) after ${JSON.stringify(key)}`);
    const values: { text: string; quoted: boolean }[] = [];
    const regex = op === '~' || op === '!~';
    for (;;) {
      this.ws();
      if (this.s[this.i] === "'") {
        values.push({ text: this.quoted(), quoted: true });
      } else {
        const start = this.i;
        let paren = 0;
        let brace = 0;
        let inClass = false;
        while (this.i < this.s.length) {
          const ch = this.s[this.i]!;
          if (ch === '\\') {
            this.i += 2;
            continue;
          }
          if (regex) {
            if (inClass) {
              if (ch === ']') inClass = false;
              this.i++;
              continue;
            }
            if (ch === '[') inClass = true;
            else if (ch === '(') paren++;
            else if (ch === ')' && paren > 0) {
              paren--;
              this.i++;
              continue;
            } else if (ch === '{') brace++;
            else if (ch === '}' && brace > 0) brace--;
            else if (ch === '|' && paren > 0) {
              this.i++;
              continue;
            }
          }
          if (paren === 0 && brace === 0 && (ch === ',' || ch === '&' || ch === '|' || ch === ')')) break;
          if (!regex && ch === '(') this.fail("unexpected '(' in a value (quote values that contain parentheses: 'a(b)')");
          this.i++;
        }
        if (this.i > this.s.length) this.i = this.s.length;
        const raw = this.s.slice(start, this.i).trim();
        values.push({ text: regex ? raw : unescapeValue(raw), quoted: false });
      }
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      break;
    }
    if (values.length === 1 && values[0]!.text === '' && !values[0]!.quoted) this.fail(`missing value after ${JSON.stringify(key + op)}`);
    return { kind: 'cmp', key, keyQuoted, op, values, at };
  }
}

function unescapeValue(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) out += s[++i];
    else out += s[i];
  }
  return out;
}

/** Parse a filter into its syntax tree (FlowSpecError on bad syntax). */
export function parseFilter(text: string, what = 'filter'): FilterAst {
  if (typeof text !== 'string') throw new FlowSpecError(`${what}: expected a string`);
  if (text.length > MAX_FILTER_TEXT) throw new FlowSpecError(`${what}: longer than ${MAX_FILTER_TEXT} characters`);
  return new Parser(text, what).parse();
}

/** How a comparison reads its key: compiled from the key text by the caller. */
export type KeyResolver<T> = (key: string, at: number) => (x: T) => string | undefined;

/** Compile a parsed filter into a predicate over T, reading keys through `resolve`. */
export function compileFilterAst<T>(ast: FilterAst, resolve: KeyResolver<T>, what: string): (x: T) => boolean {
  switch (ast.kind) {
    case 'and': {
      const ps = ast.items.map((a) => compileFilterAst(a, resolve, what));
      if (ps.length === 2) {
        const [a, b] = ps as [(x: T) => boolean, (x: T) => boolean];
        return (x) => a(x) && b(x);
      }
      return (x) => {
        for (let i = 0; i < ps.length; i++) if (!ps[i]!(x)) return false;
        return true;
      };
    }
    case 'or': {
      const ps = ast.items.map((a) => compileFilterAst(a, resolve, what));
      if (ps.length === 2) {
        const [a, b] = ps as [(x: T) => boolean, (x: T) => boolean];
        return (x) => a(x) || b(x);
      }
      return (x) => {
        for (let i = 0; i < ps.length; i++) if (ps[i]!(x)) return true;
        return false;
      };
    }
    case 'cmp':
      return compileComparison(ast, resolve(ast.key, ast.at), what);
  }
}

function compileComparison<T>(c: Extract<FilterAst, { kind: 'cmp' }>, read: (x: T) => string | undefined, what: string): (x: T) => boolean {
  const isNull = (v: { text: string; quoted: boolean }) => !v.quoted && v.text === 'null';
  const hasNull = c.values.some(isNull);
  const literals = c.values.filter((v) => !isNull(v)).map((v) => v.text);
  switch (c.op) {
    case '=': {
      if (literals.length === 0) return (x) => read(x) === undefined;
      if (literals.length === 1) {
        const a = literals[0]!;
        return hasNull ? (x) => {
          const v = read(x);
          return v === undefined || v === a;
        } : (x) => read(x) === a;
      }
      const set = new Set(literals);
      return (x) => {
        const v = read(x);
        return v === undefined ? hasNull : set.has(v);
      };
    }
    case '!=': {
      if (literals.length === 0) return (x) => read(x) !== undefined;
      if (literals.length === 1 && !hasNull) {
        const a = literals[0]!;
        return (x) => {
          const v = read(x);
          return v !== undefined && v !== a;
        };
      }
      const set = new Set(literals);
      return (x) => {
        const v = read(x);
        return v !== undefined && !set.has(v);
      };
    }
    case '~':
    case '!~': {
      const res: SafeRegex[] = c.values.map((v, i) => compileSafeRegex(v.text, `${what} pattern ${c.values.length > 1 ? `${i + 1} ` : ''}of ${JSON.stringify(c.key)}`));
      const neg = c.op === '!~';
      if (res.length === 1) {
        const r = res[0]!;
        return neg ? (x) => {
          const v = read(x);
          return v !== undefined && !r.test(v);
        } : (x) => {
          const v = read(x);
          return v !== undefined && r.test(v);
        };
      }
      return (x) => {
        const v = read(x);
        if (v === undefined) return false;
        let any = false;
        for (let i = 0; i < res.length; i++) {
          if (res[i]!.test(v)) {
            any = true;
            break;
          }
        }
        return neg ? !any : any;
      };
    }
  }
}

/** Compile a flow filter over samples: keys are attributes or key functions. */
export function compileSampleFilter(text: string, deps: KeyDeps, what = 'filter'): Predicate {
  const ast = parseFilter(text, what);
  return compileFilterAst<SampleView>(ast, (key) => compileKey(parseKeyExpr(key, `${what} key ${JSON.stringify(key)}`), deps, `${what} key ${JSON.stringify(key)}`) as Reader, what);
}
