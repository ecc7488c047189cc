// Regular expressions of the filter language (`~`, `!~`): Java-style patterns matched against the
// whole attribute value. They run per sample, on values an attacker controls (DNS names, URLs),
// so a pattern must never be able to stall the engine.
//
// Guard, in order:
//  1. V8's linear-time regexp engine (an automaton: matching time is linear in the input, no
//     backtracking). It is switched on at module load with the V8 flag
//     --enable-experimental-regexp-engine and used with the `l` flag. Patterns it cannot run in
//     linear time (backreferences, lookaround, large counted repetitions such as `a{2,1000}`)
//     are rejected when the flow is defined, with a message saying so.
//  2. Where that engine is not available (a Node.js without the flag), patterns are checked
//     statically instead and rejected when they contain what makes a backtracking engine
//     explode: backreferences, lookaround, a quantified group that itself contains a quantifier
//     or an alternation (`(a+)+`, `(a|aa)*`), more than 4 unbounded quantifiers, or counted
//     repetitions above 100.
//  3. In both cases values longer than MAX_REGEX_INPUT (4096) characters do not match, and the
//     result for each distinct value is memoised (values repeat: tcpflags, DNS names), so the
//     matcher runs once per distinct value while the memo holds it.

import v8 from 'node:v8';
import { FlowSpecError } from './syntax.js';

/** Longest value a pattern is tested against; longer values never match. */
export const MAX_REGEX_INPUT = 4096;
/** Longest pattern accepted. */
export const MAX_REGEX_PATTERN = 1024;
/** Distinct values remembered per pattern. */
const MEMO_SIZE = 4096;

let linearAvailable = false;
try {
  v8.setFlagsFromString('--enable-experimental-regexp-engine');
  linearAvailable = new RegExp('^(?:(a+)+)$', 'l').test('aa');
} catch {
  linearAvailable = false;
}

/** Whether V8's linear-time engine is in use (else the static guard). */
export function linearRegexEngine(): boolean {
  return linearAvailable;
}

/** A compiled pattern: `test(value)` answers whether the whole value matches. */
export interface SafeRegex {
  readonly source: string;
  test(value: string): boolean;
}

/** Test hook: compile with the static guard even when the linear engine exists. */
let forceStatic = false;
export function setForceStaticRegexGuard(on: boolean): void {
  forceStatic = on;
}

/**
 * Compile a filter pattern. Throws FlowSpecError (the flow is refused) when the pattern is not a
 * valid regular expression or could run in more than linear time.
 */
export function compileSafeRegex(pattern: string, what: string): SafeRegex {
  if (pattern.length > MAX_REGEX_PATTERN) throw new FlowSpecError(`${what}: pattern longer than ${MAX_REGEX_PATTERN} characters`);
  const src = `^(?:${pattern})$`;
  let re: RegExp;
  if (linearAvailable && !forceStatic) {
    try {
      new RegExp(src); // syntax first, for a clearer message
    } catch (e) {
      throw new FlowSpecError(`${what}: invalid regular expression ${JSON.stringify(pattern)}: ${msg(e)}`);
    }
    try {
      re = new RegExp(src, 'l');
    } catch {
      throw new FlowSpecError(
        `${what}: regular expression ${JSON.stringify(pattern)} cannot be matched in linear time (backreferences, lookaround and large counted repetitions are not allowed)`,
      );
    }
  } else {
    const problem = staticProblem(pattern);
    if (problem !== null) throw new FlowSpecError(`${what}: regular expression ${JSON.stringify(pattern)} refused: ${problem}`);
    try {
      re = new RegExp(src);
    } catch (e) {
      throw new FlowSpecError(`${what}: invalid regular expression ${JSON.stringify(pattern)}: ${msg(e)}`);
    }
  }
  return new MemoRegex(pattern, re);
}

function msg(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  return m.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
}

class MemoRegex implements SafeRegex {
  private readonly memo = new Map<string, boolean>();
  constructor(
    readonly source: string,
    private readonly re: RegExp,
  ) {}

  test(value: string): boolean {
    if (value.length > MAX_REGEX_INPUT) return false;
    const m = this.memo.get(value);
    if (m !== undefined) return m;
    const r = this.re.test(value);
    if (this.memo.size >= MEMO_SIZE) this.memo.clear();
    this.memo.set(value, r);
    return r;
  }
}

/**
 * Why a pattern is unsafe for a backtracking engine, or null. Conservative: it may refuse some
 * harmless patterns, never accepts one with nested or ambiguous repetition.
 */
export function staticProblem(p: string): string | null {
  interface Group {
    hasQuant: boolean;
    hasAlt: boolean;
  }
  const stack: Group[] = [{ hasQuant: false, hasAlt: false }];
  let unbounded = 0;
  let lastWasGroup: Group | null = null;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n !== undefined && /[1-9k]/.test(n)) return 'backreferences are not allowed';
      i++;
      lastWasGroup = null;
      continue;
    }
    if (c === '[') {
      // skip a character class
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') {
        if (p[j] === '\\') j++;
        j++;
      }
      i = j;
      lastWasGroup = null;
      continue;
    }
    if (c === '(') {
      if (p[i + 1] === '?') {
        const k = p[i + 2];
        if (k === '=' || k === '!' || (k === '<' && (p[i + 3] === '=' || p[i + 3] === '!'))) return 'lookaround is not allowed';
      }
      stack.push({ hasQuant: false, hasAlt: false });
      lastWasGroup = null;
      continue;
    }
    if (c === ')') {
      const g = stack.pop();
      if (g === undefined || stack.length === 0) return 'unbalanced parenthesis';
      const parent = stack[stack.length - 1]!;
      if (g.hasQuant) parent.hasQuant = true;
      lastWasGroup = g;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1]!.hasAlt = true;
      lastWasGroup = null;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let max = Infinity;
      let isQuant = true;
      if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
        if (m === null) isQuant = false;
        else {
          max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
          if (Number(m[1]) > 100 || (Number.isFinite(max) && max > 100)) return 'counted repetitions above 100 are not allowed';
          i += m[0].length - 1;
        }
      } else if (c === '?') max = 1;
      if (!isQuant) continue;
      if (p[i + 1] === '?' || p[i + 1] === '+') i++; // lazy / possessive marker
      if (lastWasGroup !== null && max > 1 && (lastWasGroup.hasQuant || lastWasGroup.hasAlt)) {
        return 'a repeated group may not contain a repetition or an alternation (nested quantifiers can take exponential time)';
      }
      if (max === Infinity) {
        unbounded++;
        if (unbounded > 4) return 'more than 4 unbounded repetitions';
      }
      stack[stack.length - 1]!.hasQuant = true;
      lastWasGroup = null;
      continue;
    }
    lastWasGroup = null;
  }
  if (stack.length !== 1) return 'unbalanced parenthesis';
  return null;
}
