// data_format words: enterprise in the top 20 bits, format in the low 12 (sFlow v5 §data_format).

export function tagOf(enterprise: number, format: number): number {
  return ((enterprise << 12) | format) >>> 0;
}

export function enterpriseOf(tag: number): number {
  return tag >>> 12;
}

export function formatOf(tag: number): number {
  return tag & 0xfff;
}

/** `enterprise:format`, the way sflowtool and the sFlow registry write a tag. */
export function tagName(tag: number): string {
  return `${tag >>> 12}:${tag & 0xfff}`;
}
