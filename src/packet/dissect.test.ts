// Unit tests of the sampled-header dissector: real headers from testdata (source noted), headers
// built here for protocols the captures lack, truncation, options, and hostile input.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configureDissector,
  dissect,
  isFlowAttributes,
  LAYER_KEYS,
  MAX_LAYERS,
  TOKENS,
  type FlowAttributes,
} from './index.js';

afterEach(() => {
  configureDissector();
});

// ---------------------------------------------------------------------------------------------
// Helpers to write headers

function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

type Bytes = Uint8Array | number[];
function cat(...parts: Bytes[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const ip4addr = (s: string): number[] => s.split('.').map(Number);
function ip6addr(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];
function eth(type: number, dst: number[] = MAC_B, src: number[] = MAC_A): number[] {
  return [...dst, ...src, ...u16(type)];
}

interface Ip4 {
  src?: string;
  dst?: string;
  proto: number;
  payload: number;
  ttl?: number;
  tos?: number;
  id?: number;
  flags?: number; // 3 bits: reserved, DF, MF
  frag?: number;
  options?: number[];
  badChecksum?: boolean;
}
function ip4(h: Ip4): number[] {
  const opts = h.options ?? [];
  const ihl = 5 + opts.length / 4;
  const b = [
    0x40 | ihl,
    h.tos ?? 0,
    ...u16(ihl * 4 + h.payload),
    ...u16(h.id ?? 1),
    ...u16(((h.flags ?? 0) << 13) | (h.frag ?? 0)),
    h.ttl ?? 64,
    h.proto,
    0,
    0,
    ...ip4addr(h.src ?? '10.0.0.1'),
    ...ip4addr(h.dst ?? '10.0.0.2'),
    ...opts,
  ];
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ck = (~sum & 0xffff) ^ (h.badChecksum ? 1 : 0);
  b[10] = ck >>> 8;
  b[11] = ck & 0xff;
  return b;
}
function ip6(nh: number, payload: number, src = '2001:db8::1', dst = '2001:db8::2', tc = 0, flow = 0): number[] {
  return [0x60 | (tc >>> 4), ((tc & 15) << 4) | ((flow >>> 16) & 15), (flow >>> 8) & 0xff, flow & 0xff, ...u16(payload), nh, 64, ...ip6addr(src), ...ip6addr(dst)];
}
const udp = (sp: number, dp: number, payload: number): number[] => [...u16(sp), ...u16(dp), ...u16(8 + payload), 0, 0];
const tcp = (sp: number, dp: number, flags = 0x18, options: number[] = []): number[] => [
  ...u16(sp),
  ...u16(dp),
  ...u32(1000),
  ...u32(2000),
  ((5 + options.length / 4) << 4) | ((flags >>> 8) & 1),
  flags & 0xff,
  ...u16(502),
  0,
  0,
  0,
  0,
  ...options,
];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function dnsQuery(name: string, qtype = 1, flags = 0x0100, id = 0x1234): number[] {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  return [...u16(id), ...u16(flags), ...u16(1), 0, 0, 0, 0, 0, 0, ...labels.flatMap((l) => [l.length, ...ascii(l)]), 0, ...u16(qtype), ...u16(1)];
}

/** Ethernet/IPv4/UDP frame around a UDP payload. */
function ethIp4Udp(sp: number, dp: number, payload: number[], ip: Partial<Ip4> = {}): Uint8Array {
  return cat(eth(0x0800), ip4({ proto: 17, payload: 8 + payload.length, ...ip }), udp(sp, dp, payload.length), payload);
}

function stackOf(hp: number, b: Uint8Array): string | undefined {
  return dissect(hp, b).stack;
}

// ---------------------------------------------------------------------------------------------
// Real headers (oracle/<capture>.sflowtool.json, datagram/sample given)

const REAL = {
  // hsflowd-tunnels-sample 406/0: ARP request
  arp: hex('ffffffffffff02000000000108060001080006040001020000000001c0000201000000000000c0000202'),
  // hsflowd-flows 441/5 (raw IPv4): ICMP port unreachable quoting UDP to port 9999
  icmpUnreach: hex(
    '45c00078065400004001756f7f0000017f000001030309ae000000004500005cb067400040118c277f0000017f000001be8c270f0048fe5b78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
  ),
  // hsflowd-flows 138/2 (raw IPv4): DNS query test.lan. A
  dnsQuery: hex(
    '4500004d3ad30000401141cb7f0000017f000001897900350039fe4cf8b5012000010000000000010474657374036c616e000001000100002904d000000000000c000a0008b46ab8c04df0e97e',
  ),
  // hsflowd-flows 15/6 (raw IPv4): GET /index.html on port 8080
  httpGet: hex(
    '4500008ca9894000400692e07f0000017f000001dc141f90a9e9953ff18f056e80180040fe8000000101080aebea4108d4570220474554202f696e6465782e68746d6c20485454502f312e310d0a486f73743a203132372e302e302e313a383038300d0a557365722d4167656e743a206375',
  ),
  // hsflowd-flows 10/0 (raw IPv4): HTTP/1.0 200 from port 8080
  httpResponse: hex(
    '450000ef4d7240004006ee947f0000017f0000011f90dbfafac496a62876f26d80180040fee300000101080a89c1e6ec6612bb35485454502f312e3020323030204f4b0d0a5365727665723a2053696d706c65485454502f302e3620507974686f6e2f332e31312e370d0a446174653a2046',
  ),
  // hsflowd-flows 12/5 (raw IPv6): GET on port 8081 — sFlow-RT gives no http token
  http6: hex(
    '600722ee007106400000000000000000000000000000000100000000000000000000000000000001c17a1f914fb62f709d15c12580180040007900000101080aaae53777c9707c62474554202f36346b2e62696e20485454502f312e310d0a486f73743a205b3a3a315d3a383038310d0a55',
  ),
  // hsflowd-flows 820/4 (raw IPv6): ICMPv6 port unreachable
  icmp6Unreach: hex(
    '600ab8d301003a4000000000000000000000000000000001000000000000000000000000000000010104416500000000600e6d8d00d011400000000000000000000000000000000100000000000000000000000000000001a4db270f00d000e3787878787878787878787878787878787878',
  ),
  // hsflowd-tunnels-sample 1318/0: SRv6 (routing header type 4) carrying IPv4 UDP DNS answer
  srv6: hex(
    '02000000000102000000000286dd60000000006d2b4020010db8ffff0000000000000000000220010db8000500000000000000000001040204000000000020010db800050000000000000000000145000055f53240004011cd40cb007112cb0071110035977700417877ffe185800001000100000001076578616d706c6504746573740000010001c00c00010001000000000004cb00716300002904d0000000000000',
  ),
  // hsflowd-tunnels-sample 849/1: GRETAP with key 42 carrying a DNS query
  gretap: hex(
    '02000000000202000000000108004500007bc1614000402ff4eec0000201c0000202200065580000002a0200000005020200000005010800450000517bf100004011a980c6336461c633646298570035003d4c4e050c01200001000000000001076578616d706c650474657374000001000100002904d000000000000c000a000873617a63f7dfcfcb',
  ),
  // hsflowd-tunnels-sample 940/1: Geneve VNI 5001 with an 8-byte option TLV, inner ICMP echo
  geneveOpt: hex(
    '02000000000202000000000108004500008e7e5d4000401137fec0000201c000020217c117c1007a848f020065580013890001028001000100020200000004020200000004010800450000549c5a400040014904c6336471c633647208006dab129b000606c3096b000000009eb20a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  ),
  // hsflowd-tunnels-sample 109/0: VXLAN on flannel's port 8472, VNI 1
  vxlan8472: hex(
    '02000000000202000000000108004500008666a4000040118fbfc0000201c0000202869e2118007284870800000000000100020000000202020000000201080045000054b0d7400040013547c6336411c633641208006ae211700005e2c2096b00000000cca7040000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  ),
  // hsflowd-tunnels-sample 192/0: VXLAN over IPv6, IPv6 inside, ICMPv6 echo
  vxlan6: hex(
    '02000000000202000000000186dd600000000086114020010db8ffff0000000000000000000120010db8ffff00000000000000000002ad4512b500865c0c0800000000012c0002000000030202000000030186dd6007ca0e00403a4020010db801020000000000000000000120010db8010200000000000000000002800039f511b70004eac2096b000000001a5b090000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  ),
  // hsflowd-tunnels-sample 761/5: IPv6-in-IPv6 (ip6tnl) DNS query
  ip6ip6: hex(
    '02000000000202000000000186dd60056e7c0065294020010db8ffff0000000000000000000120010db8ffff00000000000000000002600eaee8003d114020010db801050000000000000000000120010db80105000000000000000000029fc60035003d17e9507901200001000000000001076578616d706c650474657374000001000100002904d000000000000c000a0008ed230a930d20e572',
  ),
  // hsflowd-tunnels-sample 245/2: ICMP protocol unreachable quoting an IP-in-IP packet
  icmpErrTunnel: hex(
    '020000000001020000000002080045c002405a94000040019965c0000202c000020103023876000000004500058cda6f40004004d6fac0000201c00002024500057832b140004006ae04c6336431c6336432a6cc1451df4659f0c0f22b1680100040005b00000101080ac99b07be88a8424ff8cd4ec0e73783a33fe71a7168157b37e32e4976b28134d036932541a05dce834a370cb29a4603976357ba03ab53f0910683a95617016ce27aaf0cbed7ca48491d401fd81bf5d41bca1c8eae2f212b69b7cee3e9b4364420cc77612824c76236a2b11ff8fe5c2c205e45ef585b15c4b157abc9f96a32a73fd4acf07656d143b1f31c729f516fdcbf25b712b76dde',
  ),
  // hsflowd-tunnels-sample 309/0: sit (IPv6-in-IPv4), ICMPv6 echo reply
  sit: hex(
    '02000000000102000000000208004500007cde6140004029d7f3c0000202c00002016005f79700403a4020010db801040000000000000000000220010db801040000000000000000000181002ace11ed0008f1c2096b000000001f440b0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  ),
  // telegraf__inputs_sflow_decoder_test 1/2: 802.1Q VLAN 881 priority 1, IPsec ESP
  esp: hex(
    '001b17000130001201f58d448100237108004500006824ea4000ff32c326d94d5105501018f02e88d003000001dd39b1d025d1c68689583b2ab21522d5b5a959642243804f6d51e63323091cc04544285433eb3f6b29e1046a6a2fa7806319d62041d8fa4bd25b7cd85b8db54202054a077ac11de84acbe37a55',
  ),
  // cistern-sflow__event_discarded_packet 0/0: the header of a discard sample (broadcast UDP)
  discard: hex('FF-FF-FF-FF-FF-FF-24-FE-9A-07-D2-A9-08-00-45-00-00-2A-E6-B4-00-00-01-11-11-48-C0-A8-01-1F-FF-FF-FF-FF-F6-4F-0C-D9-00-16-52-E3-45-50-53-4F-4E-50-00-FF-00-00-00-00-00-00'),
};

describe('real headers', () => {
  it('ARP request (broadcast)', () => {
    expect({ ...dissect(1, REAL.arp) }).toEqual({
      macdestination: 'FFFFFFFFFFFF',
      macsource: '020000000001',
      isbroadcast: 'true',
      ismulticast: 'false',
      isunicast: 'false',
      ethernetprotocol: '2054',
      eth_offset: '0',
      arphardwaretype: '1',
      arpprotocoltype: '2048',
      arpoperation: '1',
      arpmacsender: '020000000001',
      arpipsender: '192.0.2.1',
      arpmactarget: '000000000000',
      arpiptarget: '192.0.2.2',
      arp_offset: '14',
      stack: 'eth.arp',
    });
  });

  it('raw IPv4 ICMP port unreachable: the quoted packet fills icmpunreachableport, not the stack', () => {
    const a = dissect(11, REAL.icmpUnreach);
    expect(a).toMatchObject({ stack: 'ip.icmp', ipsource: '127.0.0.1', iptos: '192', ipdscp: '48', ipdscpname: 'cs6', icmptype: '3', icmpcode: '3', icmpunreachableport: '9999' });
    expect(a.udpdestinationport).toBeUndefined();
  });

  it('raw IPv4 DNS query', () => {
    expect(dissect(11, REAL.dnsQuery)).toMatchObject({
      stack: 'ip.udp.dns',
      udpsourceport: '35193',
      udpdestinationport: '53',
      udpbytes: '57',
      dnsid: '63669',
      dnsqr: 'false',
      dnsrd: 'true',
      dnsqdcount: '1',
      dnsarcount: '1',
      dnsqname: 'test.lan.',
      dnsqtype: '1',
      dnsqtypename: 'A',
      dnsqclass: '1',
      dns_offset: '28',
    });
  });

  it('HTTP request and response on port 8080', () => {
    expect(dissect(11, REAL.httpGet)).toMatchObject({
      stack: 'ip.tcp.http',
      tcpdestinationport: '8080',
      tcpflags: '000011000',
      httpmethod: 'GET',
      httpurl: '/index.html',
      httpprotocol: 'HTTP/1.1',
      http_offset: '52',
      tcpoffset: '32',
      tcpoptbytes: '12',
      tcppayloadbytes: '88',
    });
    const r = dissect(11, REAL.httpResponse);
    expect(r).toMatchObject({ stack: 'ip.tcp.http', tcpsourceport: '8080', httpprotocol: 'HTTP/1.0', httpstatus: '200' });
    expect(r.httpmethod).toBeUndefined();
  });

  it('HTTP on port 8081 gets no http token (as recorded from sFlow-RT)', () => {
    const a = dissect(12, REAL.http6);
    expect(a.stack).toBe('ip6.tcp');
    expect(a.httpmethod).toBeUndefined();
  });

  it('ICMPv6 port unreachable', () => {
    expect(dissect(12, REAL.icmp6Unreach)).toMatchObject({ stack: 'ip6.icmp6', ip6source: '::1', icmp6type: '1', icmp6code: '4', icmpunreachableport: '9999' });
  });

  it('SRv6 carrying IPv4: extension header is not a token, IPv4 keys have no suffix', () => {
    const a = dissect(1, REAL.srv6);
    expect(a).toMatchObject({
      stack: 'eth.ip6.ip.udp.dns',
      ip6source: '2001:db8:ffff::2',
      ip6destination: '2001:db8:5::1',
      ip6nexthdr: '4',
      ip6extensions: '43',
      ip6routetype: '4',
      ip6routesegsleft: '0',
      ip6routesrlastentry: '0',
      ip6routesrsegments: '2001:db8:5::1',
      ipsource: '203.0.113.18',
      udpsourceport: '53',
      dnsqr: 'true',
      dnsaa: 'true',
      dnsancount: '1',
      dnsqname: 'example.test.',
    });
    expect(a['ipsource.1']).toBeUndefined();
  });

  it('GRETAP with a key: inner Ethernet/IPv4 get .1, the first UDP none', () => {
    const a = dissect(1, REAL.gretap);
    expect(a).toMatchObject({
      stack: 'eth.ip.gre.eth.ip.udp.dns',
      ipprotocol: '47',
      greversion: '0',
      greprotocoltype: '25944',
      grekey: '42',
      grevsid: '0',
      greflowid: '42',
      'macsource.1': '020000000501',
      'ethernetprotocol.1': '2048',
      'eth_offset.1': '42',
      'ipsource.1': '198.51.100.97',
      'ipdestination.1': '198.51.100.98',
      'ipprotocol.1': '17',
      'ip_offset.1': '56',
      udpdestinationport: '53',
      dnsqname: 'example.test.',
    });
    expect(a['udpdestinationport.1']).toBeUndefined();
  });

  it('Geneve with an option TLV', () => {
    expect(dissect(1, REAL.geneveOpt)).toMatchObject({
      stack: 'eth.ip.udp.geneve.eth.ip.icmp',
      udpdestinationport: '6081',
      genevevni: '5001',
      geneveprotocoltype: '25944',
      geneveoptlen: '8',
      'eth_offset.1': '58',
      'ipsource.1': '198.51.100.113',
      icmptype: '8',
      icmpseqno: '6',
    });
  });

  it('VXLAN on 8472 and VXLAN over IPv6', () => {
    expect(dissect(1, REAL.vxlan8472)).toMatchObject({ stack: 'eth.ip.udp.vxlan.eth.ip.icmp', udpdestinationport: '8472', vxlanvni: '1', 'ipsource.1': '198.51.100.17' });
    const a = dissect(1, REAL.vxlan6);
    expect(a).toMatchObject({
      stack: 'eth.ip6.udp.vxlan.eth.ip6.icmp6',
      vxlanvni: '300',
      ip6source: '2001:db8:ffff::1',
      'ip6source.1': '2001:db8:102::1',
      'ip6flowlabel.1': '510478',
      'ip6nexthdr.1': '58',
      icmp6type: '128',
      icmp6seqno: '4',
    });
  });

  it('IPv6-in-IPv6 goes deeper than sFlow-RT (which stops at eth.ip6)', () => {
    expect(dissect(1, REAL.ip6ip6)).toMatchObject({ stack: 'eth.ip6.ip6.udp.dns', ip6nexthdr: '41', 'ip6source.1': '2001:db8:105::1', 'ip6nexthdr.1': '17' });
  });

  it('ICMP error quoting a tunnelled packet', () => {
    const a = dissect(1, REAL.icmpErrTunnel);
    expect(a).toMatchObject({ stack: 'eth.ip.icmp', icmptype: '3', icmpcode: '2', icmpunreachableprotocol: '4' });
    expect(a['ipsource.1']).toBeUndefined();
  });

  it('sit: the IPv6 header inside IPv4 has no suffix', () => {
    expect(dissect(1, REAL.sit)).toMatchObject({ stack: 'eth.ip.ip6.icmp6', ipprotocol: '41', ip6source: '2001:db8:104::2', icmp6type: '129' });
  });

  it('802.1Q and ESP', () => {
    expect(dissect(1, REAL.esp)).toMatchObject({ stack: 'eth.q.ip.esp', vlan: '881', priority: '1', ethernetprotocol: '2048', ipprotocol: '50', espspi: '780718083' });
  });

  it('discard-sample header (as sFlow-RT keyed it in the dropsx flow)', () => {
    expect(dissect(1, REAL.discard)).toMatchObject({
      stack: 'eth.ip.udp',
      isbroadcast: 'true',
      ipsource: '192.168.1.31',
      ipdestination: '255.255.255.255',
      ipttl: '1',
      udpdestinationport: '3289',
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('layer 2', () => {
  it('QinQ: one q token per tag, the inner tag with suffix .1', () => {
    const b = cat([...MAC_B, ...MAC_A], u16(0x88a8), u16((3 << 13) | 100), u16(0x8100), u16(200), u16(0x0800), ip4({ proto: 17, payload: 8 }), udp(1, 2, 0));
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.q.q.ip.udp', vlan: '100', priority: '3', 'vlan.1': '200', 'priority.1': '0', ethernetprotocol: '2048' });
  });

  it('0x9100 tags and multicast destinations', () => {
    const b = cat([0x01, 0x00, 0x5e, 0, 0, 1, ...MAC_A], u16(0x9100), u16(7), u16(0x86dd), ip6(59, 0));
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.q.ip6', vlan: '7', ismulticast: 'true', isbroadcast: 'false', isunicast: 'false', ip6nexthdr: '59' });
  });

  it('802.3 with LLC/SNAP carrying IPv4, and plain LLC', () => {
    const payload = cat(ip4({ proto: 17, payload: 8 }), udp(1, 2, 0));
    const snap = cat([...MAC_B, ...MAC_A], u16(8 + payload.length), [0xaa, 0xaa, 0x03, 0, 0, 0], u16(0x0800), payload);
    expect(dissect(1, snap)).toMatchObject({ stack: 'eth.ip.udp', ethernetprotocol: '2048', ip_offset: '22' });
    const stp = cat([0x01, 0x80, 0xc2, 0, 0, 0, ...MAC_A], u16(38), [0x42, 0x42, 0x03], new Array<number>(35).fill(0));
    const a = dissect(1, stp);
    expect(a.stack).toBe('eth');
    expect(a.ethernetprotocol).toBeUndefined();
  });

  it('MPLS over Ethernet, label stack then IPv4', () => {
    const b = cat(eth(0x8847), u32((100 << 12) | (5 << 9) | 64), u32((200 << 12) | 0x100 | 63), ip4({ proto: 6, payload: 20 }), tcp(1234, 80, 0x02));
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.mpls.ip.tcp', ethernetprotocol: '34887', mplslabel: '100', mplstc: '5', mplsttl: '64', mplslabels: '100.200', ip_offset: '22', tcpflags: '000000010' });
  });

  it('MPLS header protocol: IPv6 payload, IPv6 explicit null, Ethernet pseudowire with control word', () => {
    expect(stackOf(13, cat(u32((16 << 12) | 0x100 | 64), ip6(17, 8), udp(1, 2, 0)))).toBe('mpls.ip6.udp');
    expect(stackOf(13, cat(u32((2 << 12) | 0x100 | 64), ip6(17, 8), udp(1, 2, 0)))).toBe('mpls.ip6.udp');
    const pw = cat(u32((300 << 12) | 0x100 | 64), [0, 0, 0, 0], eth(0x0800), ip4({ proto: 17, payload: 8 }), udp(1, 2, 0));
    expect(dissect(13, pw)).toMatchObject({ stack: 'mpls.eth.ip.udp', mplslabel: '300', eth_offset: '8' });
  });

  it('PPP, POS with Cisco HDLC or PPP framing', () => {
    const ipUdp = cat(ip4({ proto: 17, payload: 8 }), udp(1, 2, 0));
    expect(dissect(7, cat([0xff, 0x03, 0x00, 0x21], ipUdp))).toMatchObject({ stack: 'ppp.ip.udp', pppprotocol: '33' });
    expect(stackOf(7, cat([0x21], ipUdp))).toBe('ppp.ip.udp'); // compressed protocol field
    expect(stackOf(7, cat([0x00, 0x57], ip6(59, 0)))).toBe('ppp.ip6');
    expect(dissect(14, cat([0x0f, 0x00, 0x08, 0x00], ipUdp))).toMatchObject({ stack: 'chdlc.ip.udp', ethernetprotocol: '2048' });
    expect(stackOf(14, cat([0xff, 0x03, 0x00, 0x21], ipUdp))).toBe('ppp.ip.udp');
  });

  it('802.11 QoS data frame from the DS', () => {
    const ap = [0x02, 0, 0, 0, 0, 0x01];
    const sta = [0x02, 0, 0, 0, 0, 0x02];
    const src = [0x02, 0, 0, 0, 0, 0x03];
    const hdr = [0x88, 0x02, 0, 0, ...sta, ...ap, ...src, 0, 0, 0, 0]; // QoS data, FromDS: A1 DA, A2 BSSID, A3 SA
    const b = cat(hdr, [0xaa, 0xaa, 0x03, 0, 0, 0], u16(0x0800), ip4({ proto: 17, payload: 8 }), udp(1, 53, 0));
    expect(dissect(15, b)).toMatchObject({ stack: 'wlan.ip.udp', macdestination: '020000000002', macsource: '020000000003', ethernetprotocol: '2048', udpdestinationport: '53' });
  });

  it('unsupported header protocols give no attributes', () => {
    for (const hp of [0, 2, 3, 4, 5, 6, 8, 9, 10, 16, 17, 18, 99]) expect(Object.keys(dissect(hp, REAL.arp))).toEqual([]);
  });
});

describe('IPv4 and IPv6', () => {
  it('fragments: a first fragment is decoded further, a later one is not', () => {
    const first = cat(eth(0x0800), ip4({ proto: 17, payload: 16, flags: 1 }), udp(5000, 53, 8), new Array<number>(8).fill(0));
    expect(dissect(1, first)).toMatchObject({ stack: 'eth.ip.udp', ipflags: '001', ipfragoffset: '0' });
    const later = cat(eth(0x0800), ip4({ proto: 17, payload: 16, frag: 185 }), new Array<number>(16).fill(0));
    const a = dissect(1, later);
    expect(a).toMatchObject({ stack: 'eth.ip', ipflags: '000', ipfragoffset: '185' });
    expect(a.udpsourceport).toBeUndefined();
    expect(dissect(1, cat(eth(0x0800), ip4({ proto: 6, payload: 20, flags: 2 }), tcp(1, 2)))).toMatchObject({ ipflags: '010' });
  });

  it('options move the transport header', () => {
    const b = cat(eth(0x0800), ip4({ proto: 17, payload: 8, options: [0x94, 0x04, 0, 0] }), udp(7, 9, 0));
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.ip.udp', ipoptionslength: '4', udp_offset: '38', udpsourceport: '7' });
  });

  it('a wrong header checksum leaves IPv4 undecoded, unless the check is off', () => {
    const b = cat(eth(0x0800), ip4({ proto: 17, payload: 8, badChecksum: true }), udp(7, 9, 0));
    const a = dissect(1, b);
    expect(a).toMatchObject({ stack: 'eth', ethernetprotocol: '2048' });
    expect(a.ipsource).toBeUndefined();
    configureDissector({ verifyIpv4Checksum: false });
    expect(stackOf(1, b)).toBe('eth.ip.udp');
  });

  it('IPv4 TOS fields', () => {
    expect(dissect(1, cat(eth(0x0800), ip4({ proto: 59, payload: 0, tos: 0xb9, ttl: 3 })))).toMatchObject({ iptos: '185', ipdscp: '46', ipdscpname: 'ef', ipecn: '1', ipttl: '3', ipprotocol: '59' });
  });

  it('IPv6 header fields and extension headers', () => {
    const hbh = [58, 0, 1, 4, 0, 0, 0, 0];
    const b = cat(eth(0x86dd), ip6(0, 16, 'fe80::1', 'ff02::1:ff00:1', 0x2e << 2, 0xabcde), hbh, [135, 0, 0, 0, 0, 0, 0, 0]);
    expect(dissect(1, b)).toMatchObject({
      stack: 'eth.ip6.icmp6',
      ip6source: 'fe80::1',
      ip6destination: 'ff02::1:ff00:1',
      ip6tos: '184',
      ip6dscp: '46',
      ip6dscpname: 'ef',
      ip6flowlabel: '703710',
      ip6extensions: '0',
      ip6nexthdr: '58',
      ip6bytes: '56',
      icmp6type: '135',
    });
    const two = cat(ip6(0, 28, '2001:db8::1', '2001:db8::2'), [60, 0, 1, 4, 0, 0, 0, 0], [6, 0, 1, 4, 0, 0, 0, 0], tcp(1, 443, 0x10).slice(0, 12));
    expect(dissect(12, two)).toMatchObject({ stack: 'ip6', ip6extensions: '0.60', ip6nexthdr: '6' }); // TCP cut short
  });

  it('IPv6 fragments', () => {
    const first = cat(ip6(44, 16), [17, 0, 0, 1, 0, 0, 0, 9], udp(1, 2, 0));
    expect(dissect(12, first)).toMatchObject({ stack: 'ip6.udp', ip6fragoffset: '0', ip6fragm: 'yes', ip6extensions: '44', ip6nexthdr: '17' });
    const later = cat(ip6(44, 16), [17, 0, 0x05, 0x48, 0, 0, 0, 9], [1, 2, 3, 4, 5, 6, 7, 8]);
    const a = dissect(12, later);
    expect(a).toMatchObject({ stack: 'ip6', ip6fragoffset: '169', ip6fragm: 'no' });
    expect(a.udpsourceport).toBeUndefined();
  });

  it('IPv4-in-IPv6 and IPv6-in-IPv4 tunnels', () => {
    expect(stackOf(12, cat(ip6(4, 28), ip4({ proto: 17, payload: 8 }), udp(1, 2, 0)))).toBe('ip6.ip.udp');
    expect(stackOf(11, cat(ip4({ proto: 41, payload: 48 }), ip6(17, 8), udp(1, 2, 0)))).toBe('ip.ip6.udp');
    expect(dissect(11, cat(ip4({ proto: 4, payload: 28, src: '1.1.1.1' }), ip4({ proto: 17, payload: 8, src: '2.2.2.2' }), udp(1, 2, 0)))).toMatchObject({ stack: 'ip.ip.udp', ipsource: '1.1.1.1', 'ipsource.1': '2.2.2.2' });
  });

  it('IPv6 addresses in RFC 5952 form', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
      ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
      ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0000', '2001:db8::'],
      ['0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'],
      ['2001:0DB8:AAAA:BBBB:CCCC:DDDD:EEEE:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ];
    for (const [full, text] of cases) {
      expect(dissect(12, cat(ip6(59, 0, full, '::'))).ip6source).toBe(text);
    }
  });
});

describe('tunnels and transports', () => {
  it('GRE with checksum, key and sequence number; NVGRE key split', () => {
    const inner = cat(eth(0x0800), ip4({ proto: 17, payload: 8 }), udp(1, 2, 0));
    const greHdr = [0xb0, 0x00, ...u16(0x6558), 0, 0, 0, 0, ...u32(0x12345601), ...u32(7)];
    const b = cat(eth(0x0800), ip4({ proto: 47, payload: greHdr.length + inner.length }), greHdr, inner);
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.ip.gre.eth.ip.udp', grekey: '305419777', grevsid: '1193046', greflowid: '1', 'eth_offset.1': '50' });
    const v1 = cat(ip4({ proto: 47, payload: 12 }), [0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(dissect(11, v1)).toMatchObject({ stack: 'ip.gre', greversion: '1', greprotocoltype: '34827' });
  });

  it('GRE carrying IPv6, and Geneve carrying IPv4 directly', () => {
    expect(stackOf(11, cat(ip4({ proto: 47, payload: 52 }), [0, 0, 0x86, 0xdd], ip6(17, 8), udp(1, 2, 0)))).toBe('ip.gre.ip6.udp');
    const gen = [0, 0, 0x08, 0x00, 0, 0, 42, 0];
    expect(dissect(11, cat(ip4({ proto: 17, payload: 8 + 8 + 28 }), udp(40000, 6081, 36), gen, ip4({ proto: 17, payload: 8 }), udp(1, 2, 0)))).toMatchObject({
      stack: 'ip.udp.geneve.ip.udp',
      genevevni: '42',
      geneveprotocoltype: '2048',
      'udpdestinationport.1': '2',
    });
  });

  it('VXLAN recognised by source port too; VNI above 65535', () => {
    const vx = [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0];
    const inner = cat(eth(0x0806), new Array<number>(28).fill(0));
    expect(dissect(1, ethIp4Udp(4789, 33333, [...vx, ...inner]))).toMatchObject({ stack: 'eth.ip.udp.vxlan.eth.arp', vxlanvni: '1193046' });
  });

  it('TCP flags, ports, payload size from the IP length (not the captured length)', () => {
    const b = cat(eth(0x0800), ip4({ proto: 6, payload: 20 + 1000 }), tcp(443, 51000, 0x1d2));
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.ip.tcp', tcpsourceport: '443', tcpdestinationport: '51000', tcpflags: '111010010', tcppayloadbytes: '1000', tcpwindow: '502' });
  });

  it('tcpseqno/tcpackno only when asked for', () => {
    const b = cat(eth(0x0800), ip4({ proto: 6, payload: 20 }), tcp(1, 2));
    expect(dissect(1, b).tcpseqno).toBeUndefined();
    configureDissector({ tcpSequenceNumbers: true });
    expect(dissect(1, b)).toMatchObject({ tcpseqno: '1000', tcpackno: '2000' });
  });

  it('ICMP echo and unreachable codes', () => {
    const quoted = cat(ip4({ proto: 6, payload: 8, dst: '198.51.100.7' }), [0, 80, 1, 187, 0, 0, 0, 0]);
    const icmp = (type: number, code: number, rest: Bytes): Uint8Array => cat(ip4({ proto: 1, payload: 8 + rest.length }), [type, code, 0, 0, 0, 0, 0, 0], rest);
    expect(dissect(11, icmp(3, 0, quoted))).toMatchObject({ icmpunreachablenet: '198.51.100.7' });
    expect(dissect(11, icmp(3, 1, quoted))).toMatchObject({ icmpunreachablehost: '198.51.100.7' });
    expect(dissect(11, icmp(3, 2, quoted))).toMatchObject({ icmpunreachableprotocol: '6' });
    expect(dissect(11, icmp(3, 3, quoted))).toMatchObject({ icmpunreachableport: '443' });
    const echo = cat(ip4({ proto: 1, payload: 8 }), [8, 0, 0, 0, 0, 1, 0, 9]);
    expect(dissect(11, echo)).toMatchObject({ stack: 'ip.icmp', icmptype: '8', icmpcode: '0', icmpseqno: '9' });
  });

  it('RoCEv2: InfiniBand base transport header on UDP 4791', () => {
    const bth = [0x0a, 0x40, 0xff, 0xff, 0, 0x00, 0x01, 0x23, 0x80, 0x00, 0x10, 0x00];
    const reth = [...u32(0), ...u32(0x1000), ...u32(0xabcd), ...u32(65536)];
    expect(dissect(1, ethIp4Udp(50000, 4791, [...bth, ...reth]))).toMatchObject({
      stack: 'eth.ip.udp.ibbt',
      ibbtopcode: '10',
      ibbtopname: 'RDMA_WRITE_ONLY',
      ibbtoptransport: 'RC',
      ibbtse: 'false',
      ibbtm: 'true',
      ibbtpkey: '65535',
      ibbtdestqp: '291',
      ibbtack: 'true',
      ibbtpsn: '4096',
      ibbtrdmalen: '65536',
    });
    const cnp = [0x81, 0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0];
    expect(dissect(1, ethIp4Udp(50000, 4791, cnp))).toMatchObject({ ibbtopcode: '129', ibbtopname: 'CNP', ibbtoptransport: 'CNP' });
    const ack = [0x11, 0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 5, 0x1f, 0, 0, 9];
    expect(dissect(1, ethIp4Udp(50000, 4791, ack))).toMatchObject({ ibbtopname: 'ACKNOWLEDGE', ibbtaethack: '31' });
  });
});

describe('applications', () => {
  it('DNS over TCP needs a payload; a SYN to port 53 is plain tcp', () => {
    const q = dnsQuery('Example.ORG', 28);
    const b = cat(ip4({ proto: 6, payload: 20 + 2 + q.length }), tcp(40000, 53), u16(q.length), q);
    expect(dissect(11, b)).toMatchObject({ stack: 'ip.tcp.dns', dnsqname: 'example.org.', dnsqtype: '28', dnsqtypename: 'AAAA' });
    expect(stackOf(11, cat(ip4({ proto: 6, payload: 20 }), tcp(40000, 53, 0x02)))).toBe('ip.tcp');
  });

  it('DNS names: root, escapes, unknown types, responses', () => {
    expect(dissect(1, ethIp4Udp(5353, 53, dnsQuery('.', 2)))).toMatchObject({ dnsqname: '.', dnsqtypename: 'NS' });
    const odd = [...u16(1), 0x81, 0x80, ...u16(1), 0, 0, 0, 0, 0, 0, 3, 0x61, 0x2e, 0x20, 0, ...u16(65280), ...u16(1)];
    expect(dissect(1, ethIp4Udp(53, 5353, odd))).toMatchObject({ stack: 'eth.ip.udp.dns', dnsqname: 'a\\046\\032.', dnsqtypename: 'TYPE65280', dnsqr: 'true', dnsra: 'true', dnsopcode: '0' });
  });

  it('DNS names stay right through the name cache', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `h${i}.${'x'.repeat(1 + (i % 63))}.example`);
    for (let round = 0; round < 2; round++) {
      for (const name of names) expect(dissect(1, ethIp4Udp(1000, 53, dnsQuery(name))).dnsqname).toBe(`${name}.`);
    }
  });

  it('DNS compression pointers cannot loop or point forward', () => {
    const selfPtr = [...u16(1), 0x01, 0x00, ...u16(1), 0, 0, 0, 0, 0, 0, 0xc0, 12, ...u16(1), ...u16(1)];
    const a = dissect(1, ethIp4Udp(1000, 53, selfPtr));
    expect(a.stack).toBe('eth.ip.udp.dns');
    expect(a.dnsqname).toBeUndefined();
    const fwd = [...u16(1), 0x01, 0x00, ...u16(1), 0, 0, 0, 0, 0, 0, 0xc0, 20, ...u16(1), ...u16(1), 1, 0x61, 0];
    expect(dissect(1, ethIp4Udp(1000, 53, fwd)).dnsqname).toBeUndefined();
    const back = [...u16(1), 0x01, 0x00, ...u16(1), 0, 0, 0, 0, 0, 0, 1, 0x61, 0xc0, 12, ...u16(1), ...u16(1)]; // label then pointer to itself
    expect(dissect(1, ethIp4Udp(1000, 53, back)).dnsqname).toBeUndefined();
  });

  it('a too-short DNS payload gets no dns token', () => {
    expect(stackOf(1, ethIp4Udp(1000, 53, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toBe('eth.ip.udp');
  });

  it('HTTP: request line on port 80; other payloads and ports get no token', () => {
    const req = ascii('POST /api/v1/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n');
    const b = cat(eth(0x0800), ip4({ proto: 6, payload: 20 + req.length }), tcp(50000, 80), req);
    expect(dissect(1, b)).toMatchObject({ stack: 'eth.ip.tcp.http', httpmethod: 'POST', httpurl: '/api/v1/x?y=1', httpprotocol: 'HTTP/1.1' });
    const tls = [0x16, 0x03, 0x01, 0x00, 0x10];
    expect(stackOf(1, cat(eth(0x0800), ip4({ proto: 6, payload: 25 }), tcp(50000, 80), tls))).toBe('eth.ip.tcp');
    expect(stackOf(1, cat(eth(0x0800), ip4({ proto: 6, payload: 20 + req.length }), tcp(50000, 8000), req))).toBe('eth.ip.tcp');
    const getNoSpace = ascii('GETX / HTTP/1.1\r\n');
    expect(stackOf(1, cat(eth(0x0800), ip4({ proto: 6, payload: 20 + getNoSpace.length }), tcp(50000, 80), getNoSpace))).toBe('eth.ip.tcp');
  });
});

// ---------------------------------------------------------------------------------------------

describe('result object and options', () => {
  it('is a plain string map with no inherited keys', () => {
    const a = dissect(1, REAL.gretap);
    expect(isFlowAttributes(a)).toBe(true);
    expect(isFlowAttributes({})).toBe(false);
    expect('toString' in a).toBe(false);
    expect('constructor' in a).toBe(false);
    expect(a.hasOwnProperty).toBeUndefined();
    expect(Object.getPrototypeOf(Object.getPrototypeOf(a))).toBeNull();
    expect(Object.isFrozen(Object.getPrototypeOf(a))).toBe(true);
    for (const [k, v] of Object.entries(a)) {
      expect(typeof k).toBe('string');
      expect(typeof v).toBe('string');
    }
    expect(JSON.parse(JSON.stringify(a))).toEqual({ ...a });
  });

  it('the bytes are not modified', () => {
    const copy = REAL.vxlan6.slice();
    dissect(1, REAL.vxlan6);
    expect(REAL.vxlan6).toEqual(copy);
  });

  it('offsets and extras can be left out', () => {
    configureDissector({ offsets: false, extras: false });
    const a = dissect(1, REAL.gretap);
    expect(Object.keys(a).filter((k) => k.includes('_offset'))).toEqual([]);
    expect(a.ipid).toBeUndefined();
    expect(a.ipdscpname).toBeUndefined();
    expect(a).toMatchObject({ stack: 'eth.ip.gre.eth.ip.udp.dns', ipsource: '192.0.2.1', 'ipsource.1': '198.51.100.97', dnsqname: 'example.test.' });
  });

});

// ---------------------------------------------------------------------------------------------

const BUILT = {
  qinq: cat([...MAC_B, ...MAC_A], u16(0x88a8), u16(100), u16(0x8100), u16(200), u16(0x0800), ip4({ proto: 6, payload: 20 }), tcp(1, 2)),
  mpls: cat(eth(0x8847), u32((100 << 12) | 64), u32((200 << 12) | 0x100 | 63), ip4({ proto: 17, payload: 8 }), udp(1, 2, 0)),
  ppp: cat([0xff, 0x03, 0x00, 0x21], ip4({ proto: 17, payload: 8 }), udp(1, 2, 0)),
  wlan: cat([0x88, 0x02, 0, 0, ...MAC_A, ...MAC_B, ...MAC_A, 0, 0, 0, 0], [0xaa, 0xaa, 0x03, 0, 0, 0], u16(0x86dd), ip6(17, 8), udp(1, 2, 0)),
  roce: ethIp4Udp(50000, 4791, [0x0a, 0x40, 0xff, 0xff, 0, 0, 1, 0x23, 0x80, 0, 0x10, 0, ...u32(0), ...u32(0), ...u32(0), ...u32(4096)]),
  tcpDns: cat(ip4({ proto: 6, payload: 20 + 2 + 29 }), tcp(40000, 53), u16(29), dnsQuery('example.org', 28)),
  ip6ext: cat(ip6(0, 36), [60, 0, 1, 4, 0, 0, 0, 0], [44, 0, 1, 4, 0, 0, 0, 0], [17, 0, 0, 1, 0, 0, 0, 1], udp(1, 2, 4), [1, 2, 3, 4]),
};

const SAMPLES: [string, number, Uint8Array][] = [
  ['qinq', 1, BUILT.qinq],
  ['mpls', 1, BUILT.mpls],
  ['ppp', 7, BUILT.ppp],
  ['wlan', 15, BUILT.wlan],
  ['roce', 1, BUILT.roce],
  ['tcpDns', 11, BUILT.tcpDns],
  ['ip6ext', 12, BUILT.ip6ext],
  ['arp', 1, REAL.arp],
  ['icmpUnreach', 11, REAL.icmpUnreach],
  ['dnsQuery', 11, REAL.dnsQuery],
  ['httpGet', 11, REAL.httpGet],
  ['httpResponse', 11, REAL.httpResponse],
  ['icmp6Unreach', 12, REAL.icmp6Unreach],
  ['srv6', 1, REAL.srv6],
  ['gretap', 1, REAL.gretap],
  ['geneveOpt', 1, REAL.geneveOpt],
  ['vxlan8472', 1, REAL.vxlan8472],
  ['vxlan6', 1, REAL.vxlan6],
  ['ip6ip6', 1, REAL.ip6ip6],
  ['icmpErrTunnel', 1, REAL.icmpErrTunnel],
  ['sit', 1, REAL.sit],
  ['esp', 1, REAL.esp],
];

/** Values that may legitimately be cut short by a truncated header. */
const PREFIX_KEYS = new Set(['httpurl', 'httpprotocol', 'ip6routesrsegments', 'ip6extensions', 'mplslabels']);

describe('truncated headers', () => {
  for (const [name, hp, full] of SAMPLES) {
    it(`${name}: every prefix yields a prefix of the stack and a subset of the attributes`, () => {
      const whole = dissect(hp, full);
      const tokens = whole.stack!.split('.');
      let last = 0;
      for (let n = 0; n <= full.length; n++) {
        const a = dissect(hp, full.subarray(0, n));
        const t = a.stack === undefined ? [] : a.stack.split('.');
        expect(tokens.slice(0, t.length), `${name}[0..${n})`).toEqual(t);
        expect(t.length).toBeGreaterThanOrEqual(last);
        last = t.length;
        for (const [k, v] of Object.entries(a)) {
          if (k === 'stack') continue;
          const w = whole[k];
          if (PREFIX_KEYS.has(k.replace(/\.\d+$/, ''))) expect(w?.startsWith(v), `${name}[0..${n}) ${k}`).toBe(true);
          else expect(v, `${name}[0..${n}) ${k}`).toBe(w);
        }
      }
      expect(last).toBe(tokens.length);
    });
  }

  it('an empty header gives nothing', () => {
    for (const hp of [1, 7, 11, 12, 13, 14, 15]) expect(Object.keys(dissect(hp, new Uint8Array(0)))).toEqual([]);
  });

  it('a view into a larger buffer is read within its bounds only', () => {
    const big = new Uint8Array(1000);
    big.set(REAL.dnsQuery, 100);
    big.set(REAL.dnsQuery, 100 + 30); // garbage after the cut
    const view = big.subarray(100, 130);
    const a = dissect(11, view);
    expect(a.stack).toBe('ip.udp');
    expect(a.dnsid).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

const VALID_TOKENS = new Set<string>(TOKENS);
const KNOWN_KEYS = new Set(['stack', ...LAYER_KEYS.flat()]);

function wellFormed(a: FlowAttributes): void {
  for (const [k, v] of Object.entries(a)) {
    expect(typeof v).toBe('string');
    expect(KNOWN_KEYS.has(k.replace(/\.\d+$/, ''))).toBe(true);
  }
  if (a.stack !== undefined) {
    const t = a.stack.split('.');
    expect(t.length).toBeLessThanOrEqual(MAX_LAYERS);
    for (const x of t) expect(VALID_TOKENS.has(x)).toBe(true);
  }
}

describe('hostile input', () => {
  it('random bytes never throw', () => {
    configureDissector({ tcpSequenceNumbers: true });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.uint8Array({ maxLength: 300 }), (hp, bytes) => {
        wellFormed(dissect(hp, bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes after valid outer headers never throw', () => {
    const prefixes: [number, Uint8Array][] = [
      [1, cat(eth(0x0800), ip4({ proto: 17, payload: 200 }), udp(1, 4789, 192), [8, 0, 0, 0, 0, 0, 1, 0])],
      [1, cat(eth(0x0800), ip4({ proto: 17, payload: 200 }), udp(1, 6081, 192))],
      [1, cat(eth(0x0800), ip4({ proto: 17, payload: 200 }), udp(1, 53, 192))],
      [1, cat(eth(0x0800), ip4({ proto: 6, payload: 200 }), tcp(1, 80))],
      [1, cat(eth(0x0800), ip4({ proto: 47, payload: 200 }))],
      [1, cat(eth(0x86dd), ip6(43, 200))],
      [1, cat(eth(0x86dd), ip6(0, 200))],
      [1, cat(eth(0x8847))],
      [11, cat(ip4({ proto: 1, payload: 200 }), [3, 3, 0, 0, 0, 0, 0, 0])],
      [12, cat(ip6(58, 200), [1, 4, 0, 0, 0, 0, 0, 0])],
      [1, cat(eth(0x0800), ip4({ proto: 17, payload: 200 }), udp(1, 4791, 192))],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 200 }), ([hp, p], tail) => {
        wellFormed(dissect(hp, cat(p, tail)));
      }),
      { numRuns: 5000 },
    );
  });

  it('bit flips in real headers never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SAMPLES), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), ([, hp, full], flips) => {
        const b = full.slice();
        for (const f of flips) b[f % b.length]! ^= 1 << (f % 8);
        wellFormed(dissect(hp, b));
      }),
      { numRuns: 5000 },
    );
  });

  it('deep nesting stops at MAX_LAYERS', () => {
    // 100 nested IP-in-IP headers
    let p: Uint8Array = cat(udp(1, 2, 0));
    let proto = 17;
    for (let i = 0; i < 100; i++) {
      p = cat(ip4({ proto, payload: p.length }), p);
      proto = 4;
    }
    const a = dissect(11, p);
    wellFormed(a);
    expect(a.stack!.split('.').length).toBe(MAX_LAYERS);
    expect(a['ipsource.31']).toBe('10.0.0.1');
    // GRE inside GRE inside ... with Ethernet in between
    let g: Uint8Array = cat(eth(0x0806), new Array<number>(28).fill(0));
    for (let i = 0; i < 50; i++) g = cat(eth(0x0800), ip4({ proto: 47, payload: 4 + g.length }), [0, 0, 0x65, 0x58], g);
    expect(dissect(1, g).stack!.split('.').length).toBe(MAX_LAYERS);
  });

  it('is fast enough on garbage (no hidden quadratic paths)', () => {
    const junk = new Uint8Array(65535).fill(0xc0); // e.g. DNS pointers everywhere
    const t0 = performance.now();
    for (const hp of [1, 7, 11, 12, 13, 14, 15]) for (let i = 0; i < 100; i++) dissect(hp, junk);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
