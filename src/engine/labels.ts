// Contracts between the flow engine's key functions and the registries that label values:
// `group:<key>:<group>...` (address → CIDR group label) and `map:<key>:<map>` (value → label).
// Lookups are synchronous and read in-memory tables only (they run per sample).

/** Named CIDR groups (sFlow-RT `/group/{name}/json`): `{ label: [cidr, ...] }` per group name. */
export interface GroupLookup {
  /**
   * The label of the first group (in the order given) whose CIDRs contain `address`, by longest
   * prefix within a group; undefined when none matches or `address` is not an IP address.
   */
  lookupGroup(groupNames: readonly string[], address: string): string | undefined;
}

/** Named value maps (sFlow-RT `/map/{name}/json`): `{ label: [value, ...] }` per map name. */
export interface MapLookup {
  /** The label whose list holds `value`, or undefined. */
  lookupMap(mapName: string, value: string): string | undefined;
}

/**
 * Parts of the engine whose configuration survives a restart (flow specs, groups, maps,
 * thresholds) register a section with the state store: `save()` gives a JSON-safe snapshot,
 * `load()` restores one (validated; a bad entry is reported and skipped, never fatal), and
 * `changed()` is called by the owner after every change so the store writes the file.
 */
export interface PersistentSection {
  readonly name: string;
  save(): unknown;
  load(snapshot: unknown): { loaded: number; rejected: { key: string; reason: string }[] };
}

export interface StateStoreLike {
  register(section: PersistentSection): void;
  /** Schedule a write (debounced, atomic temp file + rename). */
  changed(sectionName: string): void;
}
