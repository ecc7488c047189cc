// Which requests change something. Anything but the safe methods counts as a write, so a method
// we never route (PATCH, PROPFIND...) is refused by read-only mode rather than slipping past it.

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for PUT, POST, DELETE, PATCH and any other method that is not GET, HEAD or OPTIONS. */
export function isWrite(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}
