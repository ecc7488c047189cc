// The floor a decoder is measured against: visit the datagram header and every sample and
// record tag/length, read no fields. Anything a real decoder does costs on top of this.

export function walkDatagram(b: Uint8Array, v: DataView): number {
  const len = b.length;
  if (len < 28 || v.getUint32(0) !== 5) return -1;
  let p = v.getUint32(4) === 2 ? 24 : 12;
  p += 12; // sub-agent, sequence, uptime
  const n = v.getUint32(p);
  p += 4;
  let tags = 0;
  for (let i = 0; i < n && p + 8 <= len; i++) {
    const tag = v.getUint32(p);
    const slen = v.getUint32(p + 4);
    const start = p + 8;
    const end = start + slen;
    if (end > len) return -1;
    tags ^= tag;
    // Position of the record count: flow 0:1 at +28, flow 0:3 at +40, counters 0:2 +8, 0:4 +12, discard 0:5 +28.
    const off = tag === 3 ? 40 : tag === 1 ? 28 : tag === 4 ? 12 : tag === 2 ? 8 : tag === 5 ? 28 : -1;
    if (off >= 0 && start + off + 4 <= end) {
      let q = start + off;
      const rn = v.getUint32(q);
      q += 4;
      for (let k = 0; k < rn && q + 8 <= end; k++) {
        tags ^= v.getUint32(q);
        q += 8 + ((v.getUint32(q + 4) + 3) & ~3);
      }
    }
    p = end;
  }
  return tags;
}
