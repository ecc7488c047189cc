// Fixed vocabularies used for attribute values: DNS RR type names, DSCP code point names and
// InfiniBand base transport opcodes (RoCEv2).

const DNS_TYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL',
  11: 'WKS', 12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB',
  19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP', 23: 'NSAP-PTR', 24: 'SIG', 25: 'KEY', 26: 'PX',
  27: 'GPOS', 28: 'AAAA', 29: 'LOC', 30: 'NXT', 31: 'EID', 32: 'NIMLOC', 33: 'SRV', 34: 'ATMA',
  35: 'NAPTR', 36: 'KX', 37: 'CERT', 38: 'A6', 39: 'DNAME', 40: 'SINK', 41: 'OPT', 42: 'APL',
  43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID',
  50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA', 55: 'HIP', 56: 'NINFO', 57: 'RKEY',
  58: 'TALINK', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD', 64: 'SVCB',
  65: 'HTTPS', 99: 'SPF', 100: 'UINFO', 101: 'UID', 102: 'GID', 103: 'UNSPEC', 104: 'NID',
  105: 'L32', 106: 'L64', 107: 'LP', 108: 'EUI48', 109: 'EUI64', 249: 'TKEY', 250: 'TSIG',
  251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: 'ANY', 256: 'URI', 257: 'CAA',
  258: 'AVC', 259: 'DOA', 260: 'AMTRELAY', 32768: 'TA', 32769: 'DLV',
};

const dnsTypeCache = new Map<number, string>();

/** Mnemonic of a DNS RR type; unassigned types are `TYPE<n>` (RFC 3597). */
export function dnsTypeName(t: number): string {
  const known = DNS_TYPES[t];
  if (known !== undefined) return known;
  let s = dnsTypeCache.get(t);
  if (s === undefined) {
    s = 'TYPE' + t;
    if (dnsTypeCache.size < 1024) dnsTypeCache.set(t, s);
  }
  return s;
}

/**
 * DSCP names (RFC 2474 class selectors, RFC 2597 AF, RFC 3246 EF, RFC 5865 VOICE-ADMIT, RFC 8622 LE),
 * lower case; code points without a standard name are given as their decimal value.
 */
export const DSCP_NAMES: readonly string[] = (() => {
  const names: string[] = Array.from({ length: 64 }, (_, i) => String(i));
  for (let c = 0; c < 8; c++) names[c * 8] = 'cs' + c;
  for (let c = 1; c <= 4; c++) for (let d = 1; d <= 3; d++) names[c * 8 + d * 2] = 'af' + c + d;
  names[46] = 'ef';
  names[44] = 'va';
  names[1] = 'le';
  return names;
})();

/** InfiniBand BTH transport names by opcode >> 5 (IBTA vol. 1 §9.2; 0x80-0x9f is RoCEv2 CNP). */
export const IB_TRANSPORTS: readonly string[] = ['RC', 'UC', 'RD', 'UD', 'CNP', 'XRC', 'RSVD6', 'MANUF'];

const IB_OPS: Record<number, string> = {
  0x00: 'SEND_FIRST', 0x01: 'SEND_MIDDLE', 0x02: 'SEND_LAST', 0x03: 'SEND_LAST_WITH_IMMEDIATE',
  0x04: 'SEND_ONLY', 0x05: 'SEND_ONLY_WITH_IMMEDIATE', 0x06: 'RDMA_WRITE_FIRST',
  0x07: 'RDMA_WRITE_MIDDLE', 0x08: 'RDMA_WRITE_LAST', 0x09: 'RDMA_WRITE_LAST_WITH_IMMEDIATE',
  0x0a: 'RDMA_WRITE_ONLY', 0x0b: 'RDMA_WRITE_ONLY_WITH_IMMEDIATE', 0x0c: 'RDMA_READ_REQUEST',
  0x0d: 'RDMA_READ_RESPONSE_FIRST', 0x0e: 'RDMA_READ_RESPONSE_MIDDLE',
  0x0f: 'RDMA_READ_RESPONSE_LAST', 0x10: 'RDMA_READ_RESPONSE_ONLY', 0x11: 'ACKNOWLEDGE',
  0x12: 'ATOMIC_ACKNOWLEDGE', 0x13: 'COMPARE_SWAP', 0x14: 'FETCH_ADD', 0x16: 'SEND_LAST_WITH_INVALIDATE',
  0x17: 'SEND_ONLY_WITH_INVALIDATE',
};

/** BTH operation name: the low 5 bits of the opcode within its transport (CNP for 0x81). */
export function ibOpName(opcode: number): string {
  if (opcode === 0x81) return 'CNP';
  return IB_OPS[opcode & 0x1f] ?? 'OP_' + (opcode & 0x1f);
}

/** Opcodes (low 5 bits) that carry an RDMA extended transport header (RETH) after the BTH. */
export function ibHasReth(op5: number): boolean {
  return op5 === 0x06 || op5 === 0x0a || op5 === 0x0b || op5 === 0x0c;
}

/** Opcodes (low 5 bits) that carry an ACK extended transport header (AETH) after the BTH. */
export function ibHasAeth(op5: number): boolean {
  return op5 === 0x0d || op5 === 0x0f || op5 === 0x10 || op5 === 0x11 || op5 === 0x12;
}
