// A small built-in table of IEEE OUIs (MAC address prefixes) for the `oui:<mac>:name` key
// function: the vendors most often seen in data centres, virtualisation and Kubernetes
// clusters. Unknown prefixes give no name; locally administered addresses (second-lowest bit of
// the first octet set: Docker, Calico, VM bridges) are named "locally administered".

const OUIS: Record<string, string> = {
  '00000C': 'Cisco',
  '000142': 'Cisco',
  '0007EB': 'Cisco',
  '001B54': 'Cisco',
  '00E0FC': 'Huawei',
  '001E0B': 'Hewlett Packard',
  '3CD92B': 'Hewlett Packard',
  '9CB654': 'Hewlett Packard Enterprise',
  '001C73': 'Arista',
  '444CA8': 'Arista',
  '001B21': 'Intel',
  '3CFDFE': 'Intel',
  'A0369F': 'Intel',
  'B49691': 'Intel',
  '00E04C': 'Realtek',
  '525400': 'QEMU/KVM',
  '000C29': 'VMware',
  '005056': 'VMware',
  '000569': 'VMware',
  '001C14': 'VMware',
  '00163E': 'Xensource',
  '080027': 'PCS Systemtechnik (VirtualBox)',
  '00155D': 'Microsoft (Hyper-V)',
  '000D3A': 'Microsoft',
  '0003FF': 'Microsoft',
  'B827EB': 'Raspberry Pi Foundation',
  'DCA632': 'Raspberry Pi Trading',
  'E45F01': 'Raspberry Pi Trading',
  'F01898': 'Apple',
  'A45E60': 'Apple',
  '3C22FB': 'Apple',
  '0025B5': 'Cisco (UCS)',
  '0002C9': 'Mellanox',
  '248A07': 'Mellanox',
  'B8CEF6': 'Mellanox',
  '043F72': 'Mellanox',
  '98039B': 'Mellanox',
  '00215A': 'Hewlett Packard',
  '0017A4': 'Hewlett Packard',
  '00109B': 'Emulex',
  '001018': 'Broadcom',
  '00104B': '3Com',
  '000AF7': 'Broadcom',
  'F4E9D4': 'QLogic',
  '00A098': 'NetApp',
  '00A0C9': 'Intel',
  '0CC47A': 'Super Micro Computer',
  'AC1F6B': 'Super Micro Computer',
  '001E67': 'Intel',
  'E4434B': 'Dell',
  '14187D': 'Dell',
  'F8BC12': 'Dell',
  '246E96': 'Dell',
  '0015C5': 'Dell',
  '001D09': 'Dell',
  '42010A': 'Google Cloud (locally administered)',
  '0A58A9': 'OVN Kubernetes (locally administered)',
  '025000': 'Docker Desktop (locally administered)',
  '0242AC': 'Docker bridge (locally administered)',
  'EEEEEE': 'Calico (locally administered)',
};

/** Vendor name of an OUI (6 upper-case hex digits); undefined when unknown. */
export function ouiName(oui: string): string | undefined {
  const n = OUIS[oui];
  if (n !== undefined) return n;
  const first = parseInt(oui.slice(0, 2), 16);
  if ((first & 0x02) !== 0) return 'locally administered';
  return undefined;
}
