// IPv4/IPv6 text forms, one implementation for the project. IPv6 follows RFC 5952:
// lower-case, no leading zeros, the longest (first if tied) run of two or more zero words
// compressed, and IPv4-mapped addresses (::ffff:a.b.c.d) with a dotted tail. (glibc's
// inet_ntop also dots the deprecated IPv4-compatible form ::a.b.c.d; RFC 5952 does not.)

export function formatIPv4(b: Uint8Array, p = 0): string {
  return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
}

export function formatIPv6(b: Uint8Array, p = 0): string {
  const w = [0, 0, 0, 0, 0, 0, 0, 0];
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    const v = (b[p + 2 * i]! << 8) | b[p + 2 * i + 1]!;
    w[i] = v;
    if (v === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && bestBase === 0 && bestLen === 5 && w[5] === 0xffff) {
      s += formatIPv4(b, p + 12);
      break;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) s += ':';
  return s;
}

export function parseIPv4(s: string): Uint8Array {
  const parts = s.split('.');
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${s}`);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`not an IPv4 address: ${s}`);
    out[i] = n;
  }
  return out;
}

export function parseIPv6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tail = parseIPv4(text.slice(lastColon + 1));
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${s}`);
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const words = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (words.length !== 8) throw new Error(`not an IPv6 address: ${s}`);
  for (let i = 0; i < 8; i++) {
    const v = parseInt(words[i]!, 16);
    if (!(v >= 0 && v <= 0xffff)) throw new Error(`not an IPv6 address: ${s}`);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}
