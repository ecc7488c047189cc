// The text syntax of flow keys (../shared/reference/sflow-rt.md §3.5, §3.8): a key list is split
// on unescaped `,`; a key is an attribute name or a key function `func:arg1:arg2...` whose
// arguments are split on unescaped `:`; an argument in square brackets is itself a key
// expression (`if:[first:stack:.:ip:ip6]:ip:[dns:ipsource]:[dns:ip6source]`); a backslash makes
// the next character literal (`concat:\::ipsource:ipdestination`).
//
// Parsing happens once, when a flow is defined; the result (KeyExpr) is compiled into closures
// by keys.ts. Errors are FlowSpecError with the offending text and position.

/** A spec field that fails validation: the REST layer answers 400 with `message`. */
export class FlowSpecError extends Error {
  override readonly name = 'FlowSpecError';
}

/** An argument of a key function: its literal text (escapes removed) and, when bracketed, its parsed expression. */
export interface KeyArg {
  /** Literal text with escapes removed (for a bracketed argument: the text inside the brackets). */
  text: string;
  /** The argument written in square brackets, parsed. */
  nested: KeyExpr | null;
}

export type KeyExpr =
  | { kind: 'attr'; name: string; source: string }
  | { kind: 'fn'; name: string; args: KeyArg[]; source: string };

/** Longest key list / key expression accepted (characters). */
export const MAX_KEY_TEXT = 4096;
/** Deepest nesting of `[ ]`. */
export const MAX_KEY_DEPTH = 16;

/**
 * Split `text` on `sep` where it is not escaped, not inside `[ ]` and not inside single quotes
 * (when `quotes`). Escapes and brackets are kept in the parts. Throws on unbalanced brackets.
 */
export function splitTop(text: string, sep: string, what: string, quotes = false): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (quotes && c === "'") {
      inQuote = !inQuote;
      continue;
    }
    if (inQuote) continue;
    if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth < 0) throw new FlowSpecError(`${what}: unbalanced ']' at position ${i + 1} in ${JSON.stringify(text)}`);
    } else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new FlowSpecError(`${what}: missing ']' in ${JSON.stringify(text)}`);
  if (inQuote) throw new FlowSpecError(`${what}: missing closing quote in ${JSON.stringify(text)}`);
  out.push(text.slice(start));
  return out;
}

/** Remove backslash escapes: `\x` → `x`. */
export function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      out += s[++i];
    } else out += c;
  }
  return out;
}

/** Whether `s` is wholly one bracketed group `[...]` (the `[` at 0 closes at the end). */
function wholeBracket(s: string): boolean {
  if (s.length < 2 || s[0] !== '[' || s[s.length - 1] !== ']') return false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth === 0 && i !== s.length - 1) return false;
    }
  }
  return depth === 0;
}

/** Names of the key functions (§3.5 and ours: `ifname`, `k8s`). */
export const KEY_FUNCTIONS: ReadonlySet<string> = new Set([
  'null',
  'or',
  'eq',
  'range',
  'prefix',
  'suffix',
  'first',
  'if',
  'concat',
  'mask',
  'group',
  'map',
  'country',
  'asn',
  'oui',
  'host',
  'dns',
  'link',
  'node',
  'ifname',
  'uri',
  'k8s',
]);

/** Parse one key expression (an element of a key list, a filter's left side, a value's argument). */
export function parseKeyExpr(text: string, what = 'key', depth = 0): KeyExpr {
  if (depth > MAX_KEY_DEPTH) throw new FlowSpecError(`${what}: nested deeper than ${MAX_KEY_DEPTH} levels`);
  let s = text.trim();
  if (s.length > MAX_KEY_TEXT) throw new FlowSpecError(`${what}: longer than ${MAX_KEY_TEXT} characters`);
  while (wholeBracket(s)) s = s.slice(1, -1).trim();
  if (s === '') throw new FlowSpecError(`${what}: empty key`);
  const parts = splitTop(s, ':', what);
  if (parts.length === 1) {
    const name = unescape(s);
    if (/[\s[\]]/.test(name)) throw new FlowSpecError(`${what}: invalid key ${JSON.stringify(text)}`);
    return { kind: 'attr', name, source: s };
  }
  const fname = unescape(parts[0]!).trim();
  if (!KEY_FUNCTIONS.has(fname)) {
    throw new FlowSpecError(`${what}: unknown key function ${JSON.stringify(fname)} in ${JSON.stringify(text)} (functions: ${[...KEY_FUNCTIONS].join(', ')})`);
  }
  const args: KeyArg[] = parts.slice(1).map((p) => {
    const t = p.trim();
    if (wholeBracket(t)) {
      const inner = t.slice(1, -1);
      return { text: unescape(inner), nested: parseKeyExpr(inner, what, depth + 1) };
    }
    if (/(^|[^\\])[[\]]/.test(t)) throw new FlowSpecError(`${what}: a bracketed argument must be a whole argument in ${JSON.stringify(text)}`);
    return { text: unescape(p), nested: null };
  });
  return { kind: 'fn', name: fname, args, source: s };
}

/** Parse a key list: a string (split on unescaped `,`) or an array of key expressions. */
export function parseKeyList(keys: unknown, what = 'keys'): KeyExpr[] {
  let items: string[];
  if (typeof keys === 'string') {
    if (keys.length > MAX_KEY_TEXT) throw new FlowSpecError(`${what}: longer than ${MAX_KEY_TEXT} characters`);
    if (keys.trim() === '') return [];
    items = splitTop(keys, ',', what);
  } else if (Array.isArray(keys)) {
    items = [];
    for (const [i, k] of keys.entries()) {
      if (typeof k !== 'string') throw new FlowSpecError(`${what}[${i}]: expected a string`);
      items.push(k);
    }
  } else throw new FlowSpecError(`${what}: expected a comma-separated string or an array of strings`);
  if (items.length > 64) throw new FlowSpecError(`${what}: more than 64 keys`);
  return items.map((k, i) => parseKeyExpr(k, items.length > 1 ? `${what}[${i}] ${JSON.stringify(k.trim())}` : `${what} ${JSON.stringify(k.trim())}`));
}
