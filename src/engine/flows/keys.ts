// Key expressions (syntax.ts) compiled into readers of a SampleView: attribute names become the
// readers of sample.ts, key functions (§3.5) closures over their compiled arguments. Compiled
// once per flow spec; per sample only the closures run.
//
// Lookups that depend on other components (groups, maps, reverse DNS, Kubernetes, GeoIP, host
// metrics, topology) go through a KeyDeps object that the flow engine owns and may fill in later
// (the closures read it when they run): without a component, `dns:` answers the address and the
// others answer nothing (the sample then has no such key).

import type { GroupLookup, MapLookup } from '../labels.js';
import { attributeNames } from '../../packet/index.js';
import { attributeReader, memoized, SAMPLE_ATTRIBUTES, type Reader, type SampleView } from './sample.js';
import { FlowSpecError, type KeyArg, type KeyExpr } from './syntax.js';
import { ouiName } from './oui.js';

/** Reverse DNS: the cached PTR name (trailing dot kept) or the address while unknown. */
export type DnsNameFn = (address: string) => string;

/** Kubernetes identities (src/enrich KubernetesIndex). */
export interface K8sLookup {
  attribute(address: string, attr: string): string | undefined;
}

/** GeoIP / ASN lookups (a GeoLite2 database); undefined when unknown. */
export interface GeoLookup {
  country(address: string, attr: string): string | undefined;
  asn(address: string, attr: string): string | undefined;
}

/** Topology lookups for `link:` / `node:` (none in sflowscope yet). */
export interface TopologyLookup {
  link(agent: string, ifIndex: string): string | undefined;
  node(agent: string, ifIndex: string): string | undefined;
}

/** What key functions read besides the sample. Fields may be set or replaced at any time. */
export interface KeyDeps {
  groups: GroupLookup | null;
  maps: MapLookup | null;
  dnsName: DnsNameFn | null;
  k8s: K8sLookup | null;
  geo: GeoLookup | null;
  topology: TopologyLookup | null;
  /** `host:<key>:<attr>`: a metric of the Host sFlow agent whose address is the key's value. */
  hostAttribute: ((address: string, attr: string, now: number) => string | undefined) | null;
  /** `ifname:<key>`: the interface name of the sample's agent for that ifIndex. */
  ifName: ((agent: string, ifIndex: string, now: number) => string | undefined) | null;
}

export function emptyKeyDeps(): KeyDeps {
  return { groups: null, maps: null, dnsName: null, k8s: null, geo: null, topology: null, hostAttribute: null, ifName: null };
}

/** Kubernetes attributes of `k8s:<key>:<attr>` (src/enrich K8S_ATTRIBUTES). */
export const K8S_KEY_ATTRIBUTES: readonly string[] = ['kind', 'namespace', 'pod', 'service', 'node', 'workload', 'workloadkind'];
const HOST_ATTRIBUTES = ['host_name', 'machine_type', 'os_name', 'os_release', 'uuid'];
const URI_PARTS = ['scheme', 'protocol', 'host', 'port', 'path', 'file', 'extension', 'query', 'fragment', 'isabsolute', 'authority', 'user'];

const TRUE = 'true';
const FALSE = 'false';

/** Results remembered per pure string function (input → output); cleared when full. */
const PURE_CACHE = 4096;

/**
 * A pure function of one string, with its results remembered: inputs repeat (stack paths, DNS
 * names, addresses), and the functions split and slice strings.
 */
function cachedPure(f: (v: string) => string | undefined): (v: string) => string | undefined {
  const cache = new Map<string, string | null>();
  return (v) => {
    const c = cache.get(v);
    if (c !== undefined) return c === null ? undefined : c;
    const r = f(v);
    if (cache.size >= PURE_CACHE) cache.clear();
    cache.set(v, r === undefined ? null : r);
    return r;
  };
}

/** Every attribute name a flow can use (without `.N` suffixes). */
export function knownAttributes(): string[] {
  return [...new Set([...SAMPLE_ATTRIBUTES, ...attributeNames()])].sort();
}

function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n]!;
}

/** "did you mean" text for an unknown attribute. */
function suggestion(name: string): string {
  const base = name.replace(/\.\d+$/, '');
  let best = '';
  let bd = Infinity;
  for (const k of knownAttributes()) {
    const d = distance(base, k);
    if (d < bd) {
      bd = d;
      best = k;
    }
  }
  return bd <= Math.max(2, Math.floor(base.length / 3)) ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

/** A reader of the attribute, or a FlowSpecError naming it. */
export function attribute(name: string, what: string): Reader {
  const r = attributeReader(name);
  if (r === null) throw new FlowSpecError(`${what}: unknown attribute ${JSON.stringify(name)}${suggestion(name)}`);
  return r;
}

/**
 * Compile a parsed key expression. Key functions that do real work are memoised per sample by
 * their text, so a `dns:ipsource` read by several specs is computed once per sample.
 */
export function compileKey(e: KeyExpr, deps: KeyDeps, what: string): Reader {
  if (e.kind === 'attr') return attribute(e.name, what);
  const r = compileFunction(e.name, e.args, deps, `${what}: ${e.name}:`);
  // cheap compositions of (memoised) attributes are not worth a memo slot
  return CHEAP_FUNCTIONS.has(e.name) ? r : memoized(`fn:${e.source}`, r);
}

const CHEAP_FUNCTIONS: ReadonlySet<string> = new Set(['null', 'or', 'eq', 'range', 'if', 'link', 'node']);

function argKey(a: KeyArg | undefined, deps: KeyDeps, what: string, idx: number): Reader {
  if (a === undefined) throw new FlowSpecError(`${what} argument ${idx + 1} (a key) is missing`);
  if (a.nested !== null) return compileKey(a.nested, deps, what);
  const name = a.text.trim();
  if (name === '') throw new FlowSpecError(`${what} argument ${idx + 1} (a key) is empty`);
  return attribute(name, what);
}

/** A `then`/`else` argument of `if:`: a bracketed expression, a known attribute, or else literal text. */
function argKeyOrLiteral(a: KeyArg | undefined, deps: KeyDeps, what: string, idx: number): Reader {
  if (a === undefined) throw new FlowSpecError(`${what} argument ${idx + 1} is missing`);
  if (a.nested !== null) return compileKey(a.nested, deps, what);
  const r = attributeReader(a.text.trim());
  if (r !== null) return r;
  const lit = a.text;
  return () => lit;
}

function argText(a: KeyArg | undefined, what: string, idx: number, name: string): string {
  if (a === undefined) throw new FlowSpecError(`${what} argument ${idx + 1} (${name}) is missing`);
  return a.text;
}

function argInt(a: KeyArg | undefined, what: string, idx: number, name: string, min: number, max: number): number {
  const t = argText(a, what, idx, name).trim();
  const n = Number(t);
  if (!/^-?\d+$/.test(t) || n < min || n > max) throw new FlowSpecError(`${what} argument ${idx + 1} (${name}) must be an integer from ${min} to ${max}, not ${JSON.stringify(t)}`);
  return n;
}

function argNumber(a: KeyArg | undefined, what: string, idx: number, name: string): number {
  const t = argText(a, what, idx, name).trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new FlowSpecError(`${what} argument ${idx + 1} (${name}) must be a number, not ${JSON.stringify(t)}`);
  return n;
}

function argCount(args: KeyArg[], what: string, min: number, max: number): void {
  if (args.length < min) throw new FlowSpecError(`${what} needs at least ${min} argument${min === 1 ? '' : 's'} (got ${args.length})`);
  if (args.length > max) throw new FlowSpecError(`${what} takes at most ${max} argument${max === 1 ? '' : 's'} (got ${args.length})`);
}

function oneOf(v: string, allowed: readonly string[], what: string, name: string): string {
  if (!allowed.includes(v)) throw new FlowSpecError(`${what} ${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  return v;
}

function compileFunction(name: string, args: KeyArg[], deps: KeyDeps, what: string): Reader {
  switch (name) {
    case 'null': {
      argCount(args, what, 1, 2);
      const k = argKey(args[0], deps, what, 0);
      const dflt = args.length > 1 ? args[1]!.text : 'null';
      return (s) => k(s) ?? dflt;
    }
    case 'or': {
      argCount(args, what, 1, 32);
      const ks = args.map((a, i) => argKey(a, deps, what, i));
      if (ks.length === 2) {
        const [a, b] = ks as [Reader, Reader];
        return (s) => a(s) ?? b(s);
      }
      return (s) => {
        for (let i = 0; i < ks.length; i++) {
          const v = ks[i]!(s);
          if (v !== undefined) return v;
        }
        return undefined;
      };
    }
    case 'eq': {
      argCount(args, what, 2, 2);
      const a = argKey(args[0], deps, what, 0);
      const b = argKey(args[1], deps, what, 1);
      return (s) => {
        const x = a(s);
        if (x === undefined) return undefined;
        const y = b(s);
        if (y === undefined) return undefined;
        return x === y ? TRUE : FALSE;
      };
    }
    case 'range': {
      argCount(args, what, 2, 3);
      const k = argKey(args[0], deps, what, 0);
      const lo = argNumber(args[1], what, 1, 'low');
      const hi = args.length > 2 && args[2]!.text.trim() !== '' ? argNumber(args[2], what, 2, 'high') : Infinity;
      return (s) => {
        const v = k(s);
        if (v === undefined) return undefined;
        const n = Number(v);
        if (v === '' || Number.isNaN(n)) return undefined;
        return n >= lo && n <= hi ? TRUE : FALSE;
      };
    }
    case 'prefix':
    case 'suffix': {
      argCount(args, what, 3, 3);
      const k = argKey(args[0], deps, what, 0);
      const delim = argText(args[1], what, 1, 'delimiter');
      if (delim === '') throw new FlowSpecError(`${what} the delimiter is empty`);
      const n = argInt(args[2], what, 2, 'count', 0, 1000);
      const f = cachedPure(name === 'prefix' ? (v) => firstTokens(v, delim, n) : (v) => lastTokens(v, delim, n));
      return (s) => {
        const v = k(s);
        return v === undefined ? undefined : f(v);
      };
    }
    case 'first': {
      argCount(args, what, 3, 256);
      const k = argKey(args[0], deps, what, 0);
      const delim = argText(args[1], what, 1, 'delimiter');
      if (delim === '') throw new FlowSpecError(`${what} the delimiter is empty`);
      const wanted = new Set(args.slice(2).map((a) => a.text));
      const f = cachedPure((v) => {
        let start = 0;
        for (;;) {
          const i = v.indexOf(delim, start);
          const tok = i < 0 ? v.slice(start) : v.slice(start, i);
          if (wanted.has(tok)) return tok;
          if (i < 0) return undefined;
          start = i + delim.length;
        }
      });
      return (s) => {
        const v = k(s);
        return v === undefined ? undefined : f(v);
      };
    }
    case 'if': {
      argCount(args, what, 4, 4);
      const test = argKey(args[0], deps, what, 0);
      const value = args[1]!.text;
      const then = argKeyOrLiteral(args[2], deps, what, 2);
      const other = argKeyOrLiteral(args[3], deps, what, 3);
      return (s) => {
        const v = test(s);
        if (v === undefined) return undefined;
        return v === value ? then(s) : other(s);
      };
    }
    case 'concat': {
      argCount(args, what, 2, 33);
      const sep = args[0]!.text;
      const ks = args.slice(1).map((a, i) => argKey(a, deps, what, i + 1));
      return (s) => {
        let out = '';
        for (let i = 0; i < ks.length; i++) {
          const v = ks[i]!(s);
          if (v === undefined) return undefined;
          out = i === 0 ? v : out + sep + v;
        }
        return out;
      };
    }
    case 'mask': {
      argCount(args, what, 2, 2);
      const k = argKey(args[0], deps, what, 0);
      const bits = argInt(args[1], what, 1, 'bits', 0, 128);
      const f = cachedPure((v) => maskAddress(v, bits));
      return (s) => {
        const v = k(s);
        return v === undefined ? undefined : f(v);
      };
    }
    case 'group': {
      argCount(args, what, 2, 64);
      const k = argKey(args[0], deps, what, 0);
      const groups = args.slice(1).map((a) => a.text);
      return (s) => {
        const g = deps.groups;
        if (g === null) return undefined;
        const v = k(s);
        return v === undefined ? undefined : g.lookupGroup(groups, v);
      };
    }
    case 'map': {
      argCount(args, what, 2, 2);
      const k = argKey(args[0], deps, what, 0);
      const mapName = args[1]!.text;
      return (s) => {
        const m = deps.maps;
        if (m === null) return undefined;
        const v = k(s);
        return v === undefined ? undefined : m.lookupMap(mapName, v);
      };
    }
    case 'country':
    case 'asn': {
      argCount(args, what, 1, 2);
      const k = argKey(args[0], deps, what, 0);
      const allowed = name === 'country' ? ['code', 'name', 'both'] : ['number', 'descr', 'both'];
      const attr = args.length > 1 ? oneOf(args[1]!.text, allowed, what, 'attribute') : allowed[0]!;
      const isCountry = name === 'country';
      return (s) => {
        const g = deps.geo;
        if (g === null) return undefined;
        const v = k(s);
        if (v === undefined) return undefined;
        return isCountry ? g.country(v, attr) : g.asn(v, attr);
      };
    }
    case 'oui': {
      argCount(args, what, 1, 2);
      const k = argKey(args[0], deps, what, 0);
      const attr = args.length > 1 ? oneOf(args[1]!.text, ['name', 'number'], what, 'attribute') : 'name';
      const f = cachedPure((v) => {
        const hex = macOui(v);
        if (hex === undefined) return undefined;
        return attr === 'number' ? hex : ouiName(hex);
      });
      return (s) => {
        const v = k(s);
        return v === undefined ? undefined : f(v);
      };
    }
    case 'host': {
      argCount(args, what, 2, 2);
      const k = argKey(args[0], deps, what, 0);
      const attr = oneOf(args[1]!.text, HOST_ATTRIBUTES, what, 'attribute');
      return (s) => {
        const h = deps.hostAttribute;
        if (h === null) return undefined;
        const v = k(s);
        return v === undefined ? undefined : h(v, attr, s.now);
      };
    }
    case 'dns': {
      argCount(args, what, 1, 1);
      const k = argKey(args[0], deps, what, 0);
      return (s) => {
        const v = k(s);
        if (v === undefined) return undefined;
        const d = deps.dnsName;
        return d === null ? v : d(v);
      };
    }
    case 'link':
    case 'node': {
      argCount(args, what, 1, 1);
      const k = argKey(args[0], deps, what, 0);
      const isLink = name === 'link';
      return (s) => {
        const t = deps.topology;
        if (t === null) return undefined;
        const v = k(s);
        if (v === undefined) return undefined;
        return isLink ? t.link(s.agent, v) : t.node(s.agent, v);
      };
    }
    case 'ifname': {
      argCount(args, what, 1, 1);
      const k = argKey(args[0], deps, what, 0);
      return (s) => {
        const f = deps.ifName;
        if (f === null) return undefined;
        const v = k(s);
        return v === undefined ? undefined : f(s.agent, v, s.now);
      };
    }
    case 'uri': {
      argCount(args, what, 2, 2);
      const k = argKey(args[0], deps, what, 0);
      const part = oneOf(args[1]!.text, URI_PARTS, what, 'part');
      const f = cachedPure((v) => uriPart(v, part));
      return (s) => {
        const v = k(s);
        return v === undefined ? undefined : f(v);
      };
    }
    case 'k8s': {
      argCount(args, what, 2, 2);
      const k = argKey(args[0], deps, what, 0);
      const attr = oneOf(args[1]!.text, K8S_KEY_ATTRIBUTES, what, 'attribute');
      return (s) => {
        const idx = deps.k8s;
        if (idx === null) return undefined;
        const v = k(s);
        return v === undefined ? undefined : idx.attribute(v, attr);
      };
    }
    default:
      throw new FlowSpecError(`${what} unknown key function`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers of the key functions (exported for tests)

/** The first n tokens of v split on delim, joined with delim (all of v when it has fewer). */
export function firstTokens(v: string, delim: string, n: number): string {
  if (n <= 0) return '';
  let i = -delim.length;
  for (let k = 0; k < n; k++) {
    i = v.indexOf(delim, i + delim.length);
    if (i < 0) return v;
  }
  return v.slice(0, i);
}

/** The last n tokens of v split on delim, joined with delim. */
export function lastTokens(v: string, delim: string, n: number): string {
  if (n <= 0) return '';
  let i = v.length;
  for (let k = 0; k < n; k++) {
    i = v.lastIndexOf(delim, i - 1);
    if (i < 0) return v;
    if (k < n - 1 && i === 0) return v;
  }
  return v.slice(i + delim.length);
}

/** The network address of an IPv4/IPv6 address under a prefix length (`mask:ipsource:24` → `10.1.2.0`); undefined for other text. */
export function maskAddress(v: string, bits: number): string | undefined {
  if (v.includes(':')) {
    if (bits > 128) return undefined;
    const b = new Uint8Array(16);
    if (!/^[0-9a-fA-F:.]+$/.test(v)) return undefined;
    writeV6(b, v);
    for (let i = 0; i < 16; i++) {
      const keep = Math.max(0, Math.min(8, bits - i * 8));
      b[i] = b[i]! & ((0xff << (8 - keep)) & 0xff);
    }
    return formatV6(b);
  }
  const parts = v.split('.');
  if (parts.length !== 4 || bits > 32) return undefined;
  let x = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) return undefined;
    x = x * 256 + n;
  }
  const m = bits === 0 ? 0 : bits === 32 ? x : Math.floor(x / 2 ** (32 - bits)) * 2 ** (32 - bits);
  return `${Math.floor(m / 16777216) % 256}.${Math.floor(m / 65536) % 256}.${Math.floor(m / 256) % 256}.${m % 256}`;
}

function writeV6(b: Uint8Array, ip: string): void {
  let text = ip;
  // a trailing dotted IPv4 part
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const q = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i] ?? '0', 16) || 0;
    b[i * 2] = g >>> 8;
    b[i * 2 + 1] = g & 0xff;
  }
}

function formatV6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  // longest run of zero groups (length ≥ 2) becomes ::
  let bs = -1;
  let bl = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bl) {
      bs = i;
      bl = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bl < 2) return hex.join(':');
  return `${hex.slice(0, bs).join(':')}::${hex.slice(bs + bl).join(':')}`;
}

/** The OUI (6 upper-case hex digits) of a MAC address in any usual notation. */
export function macOui(v: string): string | undefined {
  const hex = v.replace(/[:.-]/g, '');
  if (hex.length !== 12 || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  return hex.slice(0, 6).toUpperCase();
}

/** A part of a URL or path (`uri:httpurl:path`). */
export function uriPart(v: string, part: string): string | undefined {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/(?:([^@/?#]*)@)?([^/?#:]*|\[[^\]]*\])(?::(\d*))?)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(v);
  if (m === null) return undefined;
  const [, scheme, user, host, port, path, query, fragment] = m;
  switch (part) {
    case 'scheme':
    case 'protocol':
      return scheme || undefined;
    case 'host':
      return host || undefined;
    case 'port':
      return port || undefined;
    case 'authority':
      return host ? (port ? `${host}:${port}` : host) : undefined;
    case 'user':
      return user || undefined;
    case 'path':
      return path === undefined ? undefined : path;
    case 'file': {
      if (!path) return undefined;
      const f = path.slice(path.lastIndexOf('/') + 1);
      return f || undefined;
    }
    case 'extension': {
      if (!path) return undefined;
      const f = path.slice(path.lastIndexOf('/') + 1);
      const dot = f.lastIndexOf('.');
      return dot > 0 ? f.slice(dot + 1) : undefined;
    }
    case 'query':
      return query === undefined ? undefined : query;
    case 'fragment':
      return fragment === undefined ? undefined : fragment;
    case 'isabsolute':
      return scheme ? TRUE : FALSE;
    default:
      return undefined;
  }
}

export type { Reader, SampleView };
