// Data source and interface naming as sFlow-RT presents them (reference/sflow-rt.md §1, §3.4).

/** ifIndex 0x3FFFFFFF: the packet came from or went to the device itself. */
export const IFINDEX_INTERNAL = 0x3fffffff;

/**
 * sFlow-RT's data source id: class 0 (ifIndex) is the bare index (`"15"`); other classes are
 * `class.index` — `2.1` for a host (physical entity), `3.<n>` for containers, pods, VMs.
 */
export function dataSourceName(sourceIdClass: number, sourceIdIndex: number): string {
  return sourceIdClass === 0 ? String(sourceIdIndex) : `${sourceIdClass}.${sourceIdIndex}`;
}

/** Inverse of {@link dataSourceName}; null for text that is not a data source id. */
export function parseDataSourceName(name: string): { sourceIdClass: number; sourceIdIndex: number } | null {
  const m = /^(?:(\d{1,3})\.)?(\d{1,10})$/.exec(name);
  if (!m) return null;
  const sourceIdClass = m[1] === undefined ? 0 : Number(m[1]);
  const sourceIdIndex = Number(m[2]);
  if (sourceIdClass > 255 || sourceIdIndex > 0xffffffff) return null;
  return { sourceIdClass, sourceIdIndex };
}

/** Interface formats (sflow_version_5.txt `interface`): top two bits of the compact word. */
export const INTERFACE_FORMAT = { ifIndex: 0, discarded: 1, multiple: 2 } as const;

/**
 * The text of an input/output interface as a flow key: the ifIndex (`0` when unknown, as
 * sFlow-RT shows it), `internal` for the device itself, `discard` for a dropped packet,
 * `multiple` for several outputs; null for a format the spec does not define.
 */
export function interfaceKey(format: number, value: number): string | null {
  if (format === INTERFACE_FORMAT.ifIndex) {
    if (value === IFINDEX_INTERNAL) return 'internal';
    return String(value);
  }
  if (format === INTERFACE_FORMAT.discarded) return 'discard';
  if (format === INTERFACE_FORMAT.multiple) return 'multiple';
  return null;
}
