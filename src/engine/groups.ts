// Named CIDR groups (sFlow-RT `/group/{name}/json`, ../shared/reference/sflow-rt.md §2.5) behind the
// `group:<key>:<g1>[:<g2>...]` key function: `{ "<label>": ["10.0.0.0/8", "fc00::/7", "192.0.2.1"] }`.
//
// A group is compiled on PUT into two binary tries over the numeric addresses (IPv4, IPv6), with
// the label index stored at the node of each prefix. A lookup parses the address once (a char
// loop, no allocation) and walks the trie from the most significant bit, remembering the last
// label met: the longest matching prefix. It never allocates and never looks at a string other
// than the address — it runs per sample on the hot path.
//
// Rules (docs/state.md has the user-facing version):
// - an entry is `addr/len` or a bare address (/32, /128); host bits beyond `len` are ignored;
// - within a group the longest prefix wins; the same prefix listed under two labels belongs to
//   the label listed first;
// - across groups (`group:ipsource:a:b`) the first group, in the order given, that matches wins;
// - an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is looked up as the IPv4 address.

import type { GroupLookup, PersistentSection } from './labels.js';
import { QueryError } from './query.js';

// ---------------------------------------------------------------------------------------------
// Addresses

/** IPv4 dotted quad → unsigned 32-bit number, or -1. Decimal octets of 1-3 digits. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 3) return -1;
      octet = octet * 10 + (c - 48);
      digits++;
    } else if (c === 46) {
      if (digits === 0 || octet > 255 || parts === 3) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else return -1;
  }
  if (digits === 0 || octet > 255 || parts !== 3) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * IPv6 text (RFC 4291 §2.2: `::` compression, an embedded IPv4 tail) → four big-endian 32-bit
 * words written into `out`. Returns false when `s` is not an IPv6 address (zone ids included).
 */
export function parseIPv6(s: string, out: Uint32Array, start = 0, end = s.length): boolean {
  // 16-bit groups before and after `::`.
  const groups = SCRATCH_GROUPS;
  let n = 0;
  let gap = -1;
  let i = start;
  if (end - start < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return true;
    }
  }
  while (i < end) {
    if (n === 8) return false;
    // One group: up to 4 hex digits, or an IPv4 tail.
    let v = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      if (digits === 4) {
        digits = 5;
        break;
      }
      v = v * 16 + h;
      digits++;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (n > 6) return false;
      const v4 = parseIPv4(s, groupStart, end);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[n++] = v;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i === end) break;
    } else if (i === end) return false;
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else if (n > 7) return false;
  const fill = 8 - n;
  let k = 0;
  let w = 0;
  for (let g = 0; g < 8; g++) {
    let v: number;
    if (gap >= 0 && g >= gap && g < gap + fill) v = 0;
    else v = groups[k++]!;
    if ((g & 1) === 0) w = v * 65536;
    else out[g >> 1] = w + v;
  }
  return true;
}
const SCRATCH_GROUPS = new Uint16Array(8);

/** Parsed CIDR: family, words (IPv4: one word) and prefix length. */
export interface Cidr {
  v6: boolean;
  words: Uint32Array;
  len: number;
}

/** `addr/len` or a bare address; throws QueryError with the reason. */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw new QueryError(`not a string: ${JSON.stringify(text)}`);
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  let len: number | null = null;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) throw new QueryError(`${JSON.stringify(text)}: bad prefix length`);
    len = Number(l);
  }
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    if (len !== null && len > 32) throw new QueryError(`${JSON.stringify(text)}: IPv4 prefix length must be 0..32`);
    return { v6: false, words: Uint32Array.of(v4), len: len ?? 32 };
  }
  const words = new Uint32Array(4);
  if (!parseIPv6(addr, words)) throw new QueryError(`${JSON.stringify(text)}: not an IPv4 or IPv6 address or prefix`);
  if (len !== null && len > 128) throw new QueryError(`${JSON.stringify(text)}: IPv6 prefix length must be 0..128`);
  return { v6: true, words, len: len ?? 128 };
}

// ---------------------------------------------------------------------------------------------
// Binary trie over address bits

/** A binary trie of prefixes → label index (+1; 0 = no label), in growable typed arrays. */
export class PrefixTrie {
  private left = new Int32Array(64);
  private right = new Int32Array(64);
  private label = new Int32Array(64);
  private size = 1; // node 0 is the root; 0 as a child index means "none"

  get nodes(): number {
    return this.size;
  }

  private grow(): void {
    const cap = this.left.length * 2;
    const l = new Int32Array(cap);
    l.set(this.left);
    const r = new Int32Array(cap);
    r.set(this.right);
    const v = new Int32Array(cap);
    v.set(this.label);
    this.left = l;
    this.right = r;
    this.label = v;
  }

  /** Add a prefix; an existing label at the same prefix is kept (the first listed wins). */
  insert(words: Uint32Array, len: number, labelIndex: number): void {
    let node = 0;
    for (let i = 0; i < len; i++) {
      const bit = (words[i >>> 5]! >>> (31 - (i & 31))) & 1;
      const arr = bit === 1 ? this.right : this.left;
      let next = arr[node]!;
      if (next === 0) {
        if (this.size === this.left.length) this.grow();
        next = this.size++;
        (bit === 1 ? this.right : this.left)[node] = next;
      }
      node = next;
    }
    if (this.label[node] === 0) this.label[node] = labelIndex + 1;
  }

  /** Longest-prefix label index of a 32-bit address, or -1. */
  lookup32(addr: number): number {
    const left = this.left;
    const right = this.right;
    const label = this.label;
    let node = 0;
    let best = label[0]!;
    for (let i = 31; i >= 0; i--) {
      node = ((addr >>> i) & 1) === 1 ? right[node]! : left[node]!;
      if (node === 0) break;
      const v = label[node]!;
      if (v !== 0) best = v;
    }
    return best - 1;
  }

  /** Longest-prefix label index of a 128-bit address (four words), or -1. */
  lookup128(w: Uint32Array): number {
    const left = this.left;
    const right = this.right;
    const label = this.label;
    let node = 0;
    let best = label[0]!;
    outer: for (let k = 0; k < 4; k++) {
      const word = w[k]!;
      for (let i = 31; i >= 0; i--) {
        node = ((word >>> i) & 1) === 1 ? right[node]! : left[node]!;
        if (node === 0) break outer;
        const v = label[node]!;
        if (v !== 0) best = v;
      }
    }
    return best - 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Groups

/** A group definition as PUT and echoed: label → CIDRs / addresses, in the order given. */
export type GroupDefinition = Record<string, string[]>;

/** One compiled group. */
export class CompiledGroup {
  constructor(
    readonly labels: readonly string[],
    readonly v4: PrefixTrie,
    readonly v6: PrefixTrie,
    readonly entries: number,
  ) {}
}

export interface GroupRegistryConfig {
  /** Most groups (default 1,000). */
  maxGroups: number;
  /** Most CIDRs in one group (default 200,000). */
  maxEntriesPerGroup: number;
  /** Most CIDRs over all groups (default 1,000,000). */
  maxEntries: number;
}

export const DEFAULT_GROUP_CONFIG: GroupRegistryConfig = { maxGroups: 1_000, maxEntriesPerGroup: 200_000, maxEntries: 1_000_000 };

/** Names of groups, maps and thresholds: what fits in a key function argument and a URL segment. */
export const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$/;

export function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new QueryError(`invalid ${kind} name ${JSON.stringify(String(name).slice(0, 80))}: use letters, digits, _ . - (at most 128, not starting with . or -)`);
  }
}

const MAX_LABEL = 256;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Validate and compile a group body; throws QueryError naming the faulty label/entry. */
export function compileGroup(body: unknown, maxEntries: number = DEFAULT_GROUP_CONFIG.maxEntriesPerGroup): { def: GroupDefinition; group: CompiledGroup } {
  if (!isPlainObject(body)) throw new QueryError('a group is an object {"<label>": ["<cidr>", ...], ...}');
  const labels: string[] = [];
  const def: GroupDefinition = {};
  const v4 = new PrefixTrie();
  const v6 = new PrefixTrie();
  let entries = 0;
  for (const [label, list] of Object.entries(body)) {
    if (label === '' || label.length > MAX_LABEL) throw new QueryError(`label ${JSON.stringify(label.slice(0, 80))}: must be 1..${MAX_LABEL} characters`);
    const items = typeof list === 'string' ? [list] : list;
    if (!Array.isArray(items)) throw new QueryError(`label ${JSON.stringify(label)}: expected an array of CIDRs`);
    const index = labels.length;
    labels.push(label);
    const kept: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      if (typeof item !== 'string') throw new QueryError(`label ${JSON.stringify(label)}, entry ${i}: expected a string, got ${JSON.stringify(item)?.slice(0, 80)}`);
      if (++entries > maxEntries) throw new QueryError(`too many CIDRs in one group (at most ${maxEntries})`);
      let c: Cidr;
      try {
        c = parseCidr(item.trim());
      } catch (e) {
        throw new QueryError(`label ${JSON.stringify(label)}, entry ${i}: ${(e as Error).message}`);
      }
      (c.v6 ? v6 : v4).insert(c.words, c.len, index);
      kept.push(item);
    }
    def[label] = kept;
  }
  return { def, group: new CompiledGroup(labels, v4, v6, entries) };
}

export interface GroupStats {
  lookups: number;
  matches: number;
  /** PUTs (and state loads) that replaced or created a group. */
  updates: number;
}

/** The group registry: what `/group/...` edits and `group:` key functions read. */
export class GroupRegistry implements GroupLookup {
  readonly config: GroupRegistryConfig;
  private readonly defs = new Map<string, GroupDefinition>();
  private readonly compiled = new Map<string, CompiledGroup>();
  private readonly updated = new Map<string, number>();
  private totalEntries = 0;
  private readonly listeners: (() => void)[] = [];
  readonly stats: GroupStats = { lookups: 0, matches: 0, updates: 0 };
  // Parse memo: two slots of (address text, kind 4/6/-1, words; IPv4 in word 3).
  private readonly memoAddr: (string | undefined)[] = [undefined, undefined];
  private readonly memoKind = new Int8Array(2);
  private readonly memoW0 = new Uint32Array(4);
  private readonly memoW1 = new Uint32Array(4);
  private memoNext = 0;
  /** Bumped on every change (lets callers cache per-version results). */
  version = 0;

  constructor(config: Partial<GroupRegistryConfig> = {}) {
    this.config = { ...DEFAULT_GROUP_CONFIG, ...config };
  }

  /** Called after every change (the state store's `changed`). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private emit(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Create or replace a group. Throws QueryError (nothing changes) when invalid or over a bound. */
  set(name: string, body: unknown, nowMs: number = Date.now()): void {
    checkName('group', name);
    const { def, group } = compileGroup(body, this.config.maxEntriesPerGroup);
    const old = this.compiled.get(name);
    if (old === undefined && this.compiled.size >= this.config.maxGroups) throw new QueryError(`too many groups (at most ${this.config.maxGroups})`);
    const total = this.totalEntries - (old?.entries ?? 0) + group.entries;
    if (total > this.config.maxEntries) throw new QueryError(`too many CIDRs over all groups (at most ${this.config.maxEntries})`);
    this.totalEntries = total;
    this.defs.set(name, def);
    this.compiled.set(name, group);
    this.updated.set(name, nowMs);
    this.stats.updates++;
    this.emit();
  }

  delete(name: string): boolean {
    const old = this.compiled.get(name);
    if (old === undefined) return false;
    this.totalEntries -= old.entries;
    this.defs.delete(name);
    this.compiled.delete(name);
    this.updated.delete(name);
    this.emit();
    return true;
  }

  get(name: string): GroupDefinition | undefined {
    return this.defs.get(name);
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  names(): string[] {
    return [...this.defs.keys()].sort();
  }

  /** Every group, by name. */
  all(): Record<string, GroupDefinition> {
    const out: Record<string, GroupDefinition> = {};
    for (const n of this.names()) out[n] = this.defs.get(n)!;
    return out;
  }

  /** Engine time (ms) each group was last set. */
  updateTimes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.names()) out[n] = this.updated.get(n)!;
    return out;
  }

  get size(): number {
    return this.defs.size;
  }

  get entryCount(): number {
    return this.totalEntries;
  }

  /**
   * Parse `address` into a memo slot (two slots: a sample's source and destination, looked up by
   * several specs in a row, are parsed once). Returns the slot, or -1 if not an address.
   */
  private parsed(address: string): number {
    if (address === this.memoAddr[0]) return this.memoKind[0]! < 0 ? -1 : 0;
    if (address === this.memoAddr[1]) return this.memoKind[1]! < 0 ? -1 : 1;
    const slot = this.memoNext;
    this.memoNext ^= 1;
    this.memoAddr[slot] = address;
    const w = slot === 0 ? this.memoW0 : this.memoW1;
    const v4 = parseIPv4(address);
    if (v4 >= 0) {
      this.memoKind[slot] = 4;
      w[3] = v4;
    } else if (!parseIPv6(address, w)) {
      this.memoKind[slot] = -1;
      return -1;
    } else if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) {
      // IPv4-mapped (::ffff:a.b.c.d) → IPv4.
      this.memoKind[slot] = 4;
    } else this.memoKind[slot] = 6;
    return slot;
  }

  /** GroupLookup: the label of the first group (in order) whose prefixes contain `address`. */
  lookupGroup(groupNames: readonly string[], address: string): string | undefined {
    this.stats.lookups++;
    const slot = this.parsed(address);
    if (slot < 0) return undefined;
    const w = slot === 0 ? this.memoW0 : this.memoW1;
    const v6 = this.memoKind[slot] === 6;
    const v4 = w[3]!;
    for (let i = 0; i < groupNames.length; i++) {
      const g = this.compiled.get(groupNames[i]!);
      if (g === undefined) continue;
      const idx = v6 ? g.v6.lookup128(w) : g.v4.lookup32(v4);
      if (idx >= 0) {
        this.stats.matches++;
        return g.labels[idx];
      }
    }
    return undefined;
  }

  /** The state-store section ("groups"): `{ name: definition }`. */
  section(): PersistentSection {
    return {
      name: 'groups',
      save: () => this.all(),
      load: (snapshot: unknown) => loadNamed(snapshot, (name, body) => this.set(name, body)),
    };
  }
}

/** Shared `load` of the name → definition sections: each entry validated alone; bad ones reported. */
export function loadNamed(snapshot: unknown, set: (name: string, body: unknown) => void): { loaded: number; rejected: { key: string; reason: string }[] } {
  const rejected: { key: string; reason: string }[] = [];
  let loaded = 0;
  if (!isPlainObject(snapshot)) return { loaded, rejected: [{ key: '*', reason: 'not an object' }] };
  for (const [name, body] of Object.entries(snapshot)) {
    try {
      set(name, body);
      loaded++;
    } catch (e) {
      rejected.push({ key: name, reason: (e as Error).message });
    }
  }
  return { loaded, rejected };
}
