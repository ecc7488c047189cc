// Named value maps (sFlow-RT `/map/{name}/json`, ../shared/reference/sflow-rt.md §2.5) behind the
// `map:<key>:<map>` key function: `{ "<label>": ["value", ...] }`. Compiled on PUT into one
// Map value → label; a lookup is a single hash lookup (hot path). A value listed under two labels
// belongs to the label listed first. Values are strings; numbers in a body are taken as their
// decimal text (`"vlan": [10, 20]` ≡ `["10", "20"]`).

import { checkName, loadNamed } from './groups.js';
import type { MapLookup, PersistentSection } from './labels.js';
import { QueryError } from './query.js';

export type MapDefinition = Record<string, string[]>;

export interface MapRegistryConfig {
  /** Most maps (default 1,000). */
  maxMaps: number;
  /** Most values in one map (default 200,000). */
  maxValuesPerMap: number;
  /** Most values over all maps (default 1,000,000). */
  maxValues: number;
}

export const DEFAULT_MAP_CONFIG: MapRegistryConfig = { maxMaps: 1_000, maxValuesPerMap: 200_000, maxValues: 1_000_000 };

const MAX_LABEL = 256;
const MAX_VALUE = 1024;

/** Validate and compile a map body; throws QueryError naming the faulty label/value. */
export function compileMap(body: unknown, maxValues: number = DEFAULT_MAP_CONFIG.maxValuesPerMap): { def: MapDefinition; table: Map<string, string> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new QueryError('a map is an object {"<label>": ["<value>", ...], ...}');
  const def: MapDefinition = {};
  const table = new Map<string, string>();
  let n = 0;
  for (const [label, list] of Object.entries(body as Record<string, unknown>)) {
    if (label === '' || label.length > MAX_LABEL) throw new QueryError(`label ${JSON.stringify(label.slice(0, 80))}: must be 1..${MAX_LABEL} characters`);
    const items = typeof list === 'string' || typeof list === 'number' ? [list] : list;
    if (!Array.isArray(items)) throw new QueryError(`label ${JSON.stringify(label)}: expected an array of values`);
    const kept: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      let v: string;
      if (typeof item === 'string') v = item;
      else if (typeof item === 'number' && Number.isFinite(item)) v = String(item);
      else throw new QueryError(`label ${JSON.stringify(label)}, entry ${i}: expected a string or a number, got ${JSON.stringify(item)?.slice(0, 80)}`);
      if (v.length > MAX_VALUE) throw new QueryError(`label ${JSON.stringify(label)}, entry ${i}: longer than ${MAX_VALUE} characters`);
      if (++n > maxValues) throw new QueryError(`too many values in one map (at most ${maxValues})`);
      if (!table.has(v)) table.set(v, label);
      kept.push(v);
    }
    def[label] = kept;
  }
  return { def, table };
}

export class MapRegistry implements MapLookup {
  readonly config: MapRegistryConfig;
  private readonly defs = new Map<string, MapDefinition>();
  private readonly tables = new Map<string, Map<string, string>>();
  private readonly counts = new Map<string, number>();
  private readonly updated = new Map<string, number>();
  private totalValues = 0;
  private readonly listeners: (() => void)[] = [];
  readonly stats = { lookups: 0, matches: 0, updates: 0 };
  version = 0;

  constructor(config: Partial<MapRegistryConfig> = {}) {
    this.config = { ...DEFAULT_MAP_CONFIG, ...config };
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private emit(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Create or replace a map. Throws QueryError (nothing changes) when invalid or over a bound. */
  set(name: string, body: unknown, nowMs: number = Date.now()): void {
    checkName('map', name);
    const { def, table } = compileMap(body, this.config.maxValuesPerMap);
    const count = Object.values(def).reduce((s, l) => s + l.length, 0);
    const old = this.counts.get(name);
    if (old === undefined && this.defs.size >= this.config.maxMaps) throw new QueryError(`too many maps (at most ${this.config.maxMaps})`);
    const total = this.totalValues - (old ?? 0) + count;
    if (total > this.config.maxValues) throw new QueryError(`too many values over all maps (at most ${this.config.maxValues})`);
    this.totalValues = total;
    this.defs.set(name, def);
    this.tables.set(name, table);
    this.counts.set(name, count);
    this.updated.set(name, nowMs);
    this.stats.updates++;
    this.emit();
  }

  delete(name: string): boolean {
    if (!this.defs.has(name)) return false;
    this.totalValues -= this.counts.get(name) ?? 0;
    this.defs.delete(name);
    this.tables.delete(name);
    this.counts.delete(name);
    this.updated.delete(name);
    this.emit();
    return true;
  }

  get(name: string): MapDefinition | undefined {
    return this.defs.get(name);
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  names(): string[] {
    return [...this.defs.keys()].sort();
  }

  all(): Record<string, MapDefinition> {
    const out: Record<string, MapDefinition> = {};
    for (const n of this.names()) out[n] = this.defs.get(n)!;
    return out;
  }

  updateTimes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.names()) out[n] = this.updated.get(n)!;
    return out;
  }

  get size(): number {
    return this.defs.size;
  }

  get valueCount(): number {
    return this.totalValues;
  }

  /** MapLookup: the label whose list holds `value`, or undefined. */
  lookupMap(mapName: string, value: string): string | undefined {
    this.stats.lookups++;
    const label = this.tables.get(mapName)?.get(value);
    if (label !== undefined) this.stats.matches++;
    return label;
  }

  /** The state-store section ("maps"): `{ name: definition }`. */
  section(): PersistentSection {
    return {
      name: 'maps',
      save: () => this.all(),
      load: (snapshot: unknown) => loadNamed(snapshot, (name, body) => this.set(name, body)),
    };
  }
}
