// Enumerations rendered as the strings sFlow-RT shows (iftype "ethernetCsmacd", os_name "linux"...).

/** IANA ifType names (https://www.iana.org/assignments/ianaiftype-mib), the common ones. */
const IF_TYPES: Record<number, string> = {
  1: 'other',
  6: 'ethernetCsmacd',
  7: 'iso88023Csmacd',
  9: 'iso88025TokenRing',
  15: 'fddi',
  23: 'ppp',
  24: 'softwareLoopback',
  37: 'atm',
  53: 'propVirtual',
  62: 'fastEther',
  69: 'fastEtherFX',
  71: 'ieee80211',
  117: 'gigabitEthernet',
  131: 'tunnel',
  135: 'l2vlan',
  136: 'l3ipvlan',
  142: 'ipForward',
  150: 'mplsTunnel',
  161: 'ieee8023adLag',
  166: 'mpls',
  188: 'radioMAC',
  209: 'bridge',
  244: 'wwanPP2',
  247: 'ilan',
  249: 'aluELP',
  259: 'vxlan',
};

export function ifTypeName(t: number): string {
  return IF_TYPES[t] ?? String(t);
}

const IF_DIRECTIONS = ['unknown', 'full-duplex', 'half-duplex', 'in', 'out'];
export function ifDirectionName(d: number): string {
  return IF_DIRECTIONS[d] ?? 'unknown';
}

const MACHINE_TYPES = ['unknown', 'other', 'x86', 'x86_64', 'ia64', 'sparc', 'alpha', 'powerpc', 'm68k', 'mips', 'arm', 'hppa', 's390'];
export function machineTypeName(t: number): string {
  return MACHINE_TYPES[t] ?? String(t);
}

const OS_NAMES = ['unknown', 'other', 'linux', 'windows', 'darwin', 'hpux', 'aix', 'dragonfly', 'freebsd', 'netbsd', 'openbsd', 'osf', 'solaris'];
export function osName(t: number): string {
  return OS_NAMES[t] ?? String(t);
}

/** libvirt virDomainState. */
const VIRT_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];
export function virtStateName(s: number): string {
  return VIRT_STATES[s] ?? String(s);
}
/** virt_cpu states meaning the entity is gone. */
export const VIRT_STATE_SHUTOFF = 5;
export const VIRT_STATE_CRASHED = 6;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A 16-byte UUID in the 8-4-4-4-12 form sflowtool prints; undefined when all zero (unknown). */
export function formatUuid(b: Uint8Array): string | undefined {
  if (b.length < 16) return undefined;
  let zero = true;
  for (let i = 0; i < 16; i++) if (b[i] !== 0) zero = false;
  if (zero) return undefined;
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i]!];
  }
  return s;
}

/** The shortest decimal that reads back as the same float32 (load averages print as 1.76, not 1.7599999904632568). */
export function float32Decimal(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

/** Hex of a 64-bit id (OpenFlow datapath id), 16 digits. */
export function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}
