// Page state kept in the URL query (shareable links) and sessionStorage (per tab).

export function readState<T extends Record<string, string>>(prefix: string, defaults: T): T {
  const q = new URLSearchParams(location.search);
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as (keyof T & string)[]) {
    let v = q.get(k);
    if (v === null) {
      try {
        v = sessionStorage.getItem(`${prefix}${k}`);
      } catch {
        v = null;
      }
    }
    if (v !== null) (out as Record<string, string>)[k] = v;
  }
  return out;
}

export function writeState(prefix: string, state: Record<string, string>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) {
    if (v !== '') q.set(k, v);
    try {
      sessionStorage.setItem(`${prefix}${k}`, v);
    } catch {
      /* storage disabled */
    }
  }
  const s = q.toString();
  history.replaceState(null, '', `${location.pathname}${s ? `?${s}` : ''}${location.hash}`);
}
