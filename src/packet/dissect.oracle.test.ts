// The dissector checked against independent decoders, on every sampled header in testdata:
//
// 1. tshark (oracle/<capture>.stack.tsv, every capture that has one): our `stack` must agree with
//    tshark's frame.protocols chain for every row, after mapping tshark's names to ours:
//    - not layers: `ethertype`, `data`, IPv6 extension headers (`ipv6.routing`, `ipv6.hopopts`,
//      `ipv6.dstopts`, `ipv6.fraghdr`), `ah`, `llc`, MPLS pseudowire helpers (`pwethheuristic`,
//      `pwethcw`); renamed: ipv6→ip6, vlan→q, icmpv6→icmp6, infiniband→ibbt; consecutive
//      `mpls` collapse into one token (we have one token per label stack);
//    - tshark dissects the packet quoted inside an ICMP/ICMPv6 error; we stop at icmp/icmp6;
//    - above tcp/udp, vxlan/geneve/infiniband continue the chain; any other name is an
//      application (http, dns, tls, ssh, sflow, ...) and ends the chain; an unknown name
//      elsewhere ends the chain too (protocols we do not dissect, e.g. igmp, stp);
//    - application tokens: ours are `dns` and `http` only (sFlow-RT's rules, see dissect.ts).
//      If we emit one, tshark must name the same application at that point. If tshark finds
//      DNS directly over UDP with port 53 on either side, we must emit `dns` (tshark also finds
//      DNS heuristically on other ports, e.g. 9, where sFlow-RT emits no `dns` either). tshark's
//      `http` needs no `http` from us: sFlow-RT only marks request/status lines on ports 80/8080.
//    Deviations are listed in DEVIATIONS with their reason, and each is checked: the listed row
//    must really deviate, and must agree with tshark once the stated reason is switched off.
// 2. sflowtool (oracle/<capture>.sflowtool.json, every capture): its dissection of the outer
//    headers (MACs, EtherType, VLAN, IPv4/IPv6 fields, ports, TCP flags, ICMP) must equal ours,
//    for every flow-sample and discard-sample header.
// 3. sFlow-RT (testdata/sflow-rt): the distinct `stack` keys of the two packet-sampling replays
//    equal stacks.txt, and for hsflowd-flows the decayed `stack` flow values at the end of the
//    replay are reproduced from our per-sample stacks (this pins the http/dns token rules).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { configureDissector, dissect, LAYER_KEYS, type FlowAttributes } from './index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SHARED = resolve(HERE, '../../../shared/testdata');
const ORACLE = join(SHARED, 'oracle');
const SFLOWRT = join(SHARED, 'sflow-rt');

// ---------------------------------------------------------------------------------------------
// Reading the oracle files

type Json = Record<string, unknown>;
interface SflowtoolDatagram {
  pcapTimestamp?: string;
  pcapTimestamp_uS?: string;
  samples?: Sample[];
}
interface Sample {
  sampleType_tag: string;
  sourceId: string;
  samplePool?: string;
  meanSkipCount?: string;
  elements?: Json[];
}

/** sflowtool -J output: a stream of concatenated pretty-printed JSON objects. */
function readJsonStream(path: string): SflowtoolDatagram[] {
  const text = readFileSync(path, 'utf8');
  const out: SflowtoolDatagram[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === 0x5c) escaped = true;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b) {
      if (depth++ === 0) start = i;
    } else if (ch === 0x7d) {
      if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as SflowtoolDatagram);
    }
  }
  return out;
}

function hexBytes(s: string): Uint8Array {
  const parts = s.split('-');
  const out = new Uint8Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = parseInt(parts[i]!, 16);
  return out;
}

/** A sampled_header record, with sflowtool's field names (the `discarded_` prefix removed). */
interface HeaderRecord {
  datagram: number;
  sample: number;
  record: number; // index among the sample's sampled_header records
  headerProtocol: number;
  bytes: Uint8Array;
  fields: Record<string, string>;
  sample_: Sample;
  datagram_: SflowtoolDatagram;
}

function headerRecords(datagrams: SflowtoolDatagram[]): HeaderRecord[] {
  const out: HeaderRecord[] = [];
  datagrams.forEach((d, di) => {
    (d.samples ?? []).forEach((s, si) => {
      let record = 0;
      for (const el of s.elements ?? []) {
        const prefix = el.flowBlock_tag === '0:1' ? '' : el.discarded_flowBlock_tag === '0:1' ? 'discarded_' : null;
        if (prefix === null) continue;
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(el)) if (typeof v === 'string') fields[k.slice(prefix.length)] = v;
        if (fields.headerBytes === undefined) continue;
        out.push({
          datagram: di,
          sample: si,
          record: record++,
          headerProtocol: Number(fields.headerProtocol),
          bytes: hexBytes(fields.headerBytes),
          fields,
          sample_: s,
          datagram_: d,
        });
      }
    });
  });
  return out;
}

interface TsvRow {
  datagram: number;
  sample: number;
  record: number;
  frameLength: string;
  headerLen: string;
  headerProtocol: string;
  protocols: string;
}

function readTsv(path: string): TsvRow[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  const head = lines.shift()!.split('\t');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${path}: no column ${name}`);
    return i;
  };
  const [d, s, r, fl, hl, hp, pr] = ['datagram', 'sample', 'record', 'frame_length', 'header_len', 'header_protocol', 'protocols'].map(col);
  return lines.map((l) => {
    const c = l.split('\t');
    return {
      datagram: Number(c[d!]),
      sample: Number(c[s!]),
      record: Number(c[r!]),
      frameLength: c[fl!]!,
      headerLen: c[hl!]!,
      headerProtocol: c[hp!]!,
      protocols: c[pr!]!,
    };
  });
}

const datagramCache = new Map<string, SflowtoolDatagram[]>();
function datagramsOf(capture: string): SflowtoolDatagram[] {
  let d = datagramCache.get(capture);
  if (d === undefined) {
    d = readJsonStream(join(ORACLE, `${capture}.sflowtool.json`));
    datagramCache.set(capture, d);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// tshark → our tokens

const TSHARK_SKIP = new Set(['ethertype', 'data', 'ipv6.routing', 'ipv6.hopopts', 'ipv6.dstopts', 'ipv6.fraghdr', 'ah', 'llc', 'pwethheuristic', 'pwethcw']);
const TSHARK_LAYERS: Record<string, string> = {
  eth: 'eth',
  vlan: 'q',
  mpls: 'mpls',
  arp: 'arp',
  ip: 'ip',
  ipv6: 'ip6',
  tcp: 'tcp',
  udp: 'udp',
  icmp: 'icmp',
  icmpv6: 'icmp6',
  gre: 'gre',
  esp: 'esp',
  ppp: 'ppp',
  chdlc: 'chdlc',
  wlan: 'wlan',
};
const TSHARK_OVER_UDP: Record<string, string> = { vxlan: 'vxlan', geneve: 'geneve', infiniband: 'ibbt' };
const APP_TOKENS = new Set(['dns', 'http']);

/** tshark's chain mapped to our layer tokens, and the application tshark found above the last tcp/udp. */
function mapTshark(protocols: string): { layers: string[]; app: string | null } {
  const layers: string[] = [];
  let app: string | null = null;
  for (const name of protocols.split(':')) {
    if (TSHARK_SKIP.has(name)) continue;
    const last = layers[layers.length - 1];
    if (last === 'icmp' || last === 'icmp6' || last === 'esp') break; // quoted packet / opaque payload
    if (last === 'tcp' || last === 'udp') {
      const tunnel = TSHARK_OVER_UDP[name];
      if (tunnel !== undefined && last === 'udp') {
        layers.push(tunnel);
        continue;
      }
      app = name;
      break;
    }
    const token = TSHARK_LAYERS[name];
    if (token === undefined) break; // a protocol we do not dissect: the chain ends here
    if (token === 'mpls' && last === 'mpls') continue;
    layers.push(token);
  }
  return { layers, app };
}

/** The innermost UDP ports of our attributes (per-protocol suffixes: the n-th udp has suffix n-1). */
function innermostUdpPorts(a: FlowAttributes, stack: string[]): string[] {
  const n = stack.filter((t) => t === 'udp').length;
  const sfx = n <= 1 ? '' : `.${n - 1}`;
  return [a[`udpsourceport${sfx}`], a[`udpdestinationport${sfx}`]].filter((x): x is string => x !== undefined);
}

/** Why our stack differs from tshark's mapped chain, or null if they agree. */
function compareWithTshark(a: FlowAttributes, protocols: string): string | null {
  const ours = a.stack === undefined ? [] : a.stack.split('.');
  const oursLayers = ours.filter((t) => !APP_TOKENS.has(t));
  const oursApp = ours.find((t) => APP_TOKENS.has(t)) ?? null;
  const { layers, app } = mapTshark(protocols);
  if (oursLayers.join('.') !== layers.join('.')) return `layers ${oursLayers.join('.')} != tshark ${layers.join('.')}`;
  if (oursApp !== null && oursApp !== app) return `app token ${oursApp} but tshark found ${app}`;
  if (app === 'dns' && layers[layers.length - 1] === 'udp' && oursApp !== 'dns' && innermostUdpPorts(a, ours).includes('53')) {
    return 'tshark found DNS on UDP port 53, no dns token';
  }
  return null;
}

/**
 * Rows where our stack intentionally differs from tshark. Keep this list tiny.
 * `disable` names the dissector option that, switched off, must make the row agree.
 */
interface Deviation {
  capture: string;
  datagram: number;
  sample: number;
  record: number;
  reason: string;
  disable: 'verifyIpv4Checksum';
}
const BAD_CHECKSUM =
  'IPv4 header checksum is wrong (addresses rewritten in a public test vector without fixing it); ' +
  'sFlow-RT does not decode such a header (recorded probe _probes/ipv4-checksum), tshark does not check';
const DEVIATIONS: Deviation[] = [
  { capture: 'akvorado__data-sflow-expanded-sample.pcap', datagram: 0, sample: 0, record: 0, reason: BAD_CHECKSUM, disable: 'verifyIpv4Checksum' },
  { capture: 'akvorado__data-sflow-ipv4-data.pcap', datagram: 0, sample: 0, record: 0, reason: BAD_CHECKSUM, disable: 'verifyIpv4Checksum' },
  { capture: 'goflow2__sflow_test.pcap', datagram: 0, sample: 0, record: 0, reason: BAD_CHECKSUM, disable: 'verifyIpv4Checksum' },
  { capture: 'tcpdump__sflow_expanded.pcap', datagram: 0, sample: 0, record: 0, reason: BAD_CHECKSUM, disable: 'verifyIpv4Checksum' },
];

const tsvCaptures = readdirSync(ORACLE)
  .filter((f) => f.endsWith('.stack.tsv'))
  .map((f) => f.slice(0, -'.stack.tsv'.length))
  .sort();

afterEach(() => {
  configureDissector();
});

describe('stack agrees with tshark', () => {
  it('finds the oracle captures', () => {
    expect(tsvCaptures.length).toBeGreaterThanOrEqual(19);
    expect(tsvCaptures).toContain('hsflowd-tunnels-sample.pcap');
  });

  for (const capture of tsvCaptures) {
    it(capture, () => {
      const rows = readTsv(join(ORACLE, `${capture}.stack.tsv`));
      const records = headerRecords(datagramsOf(capture));
      const byKey = new Map(records.map((r) => [`${r.datagram}/${r.sample}/${r.record}`, r]));
      const mismatches: string[] = [];
      const deviating = new Set<Deviation>();
      for (const row of rows) {
        const rec = byKey.get(`${row.datagram}/${row.sample}/${row.record}`);
        // the tsv numbers datagrams and samples in file order, like the JSON stream
        expect(rec, `${capture} row ${row.datagram}/${row.sample}/${row.record}`).toBeDefined();
        expect([rec!.fields.sampledPacketSize, rec!.fields.headerLen, rec!.fields.headerProtocol]).toEqual([row.frameLength, row.headerLen, row.headerProtocol]);
        const why = compareWithTshark(dissect(rec!.headerProtocol, rec!.bytes), row.protocols);
        const dev = DEVIATIONS.find((d) => d.capture === capture && d.datagram === row.datagram && d.sample === row.sample && d.record === row.record);
        if (dev !== undefined) {
          expect(why, `listed deviation ${capture} ${row.datagram}/${row.sample} no longer deviates`).not.toBeNull();
          configureDissector({ [dev.disable]: false });
          const fixed = compareWithTshark(dissect(rec!.headerProtocol, rec!.bytes), row.protocols);
          configureDissector();
          expect(fixed, `deviation ${capture} ${row.datagram}/${row.sample}: ${dev.reason}`).toBeNull();
          deviating.add(dev);
        } else if (why !== null) {
          mismatches.push(`${row.datagram}/${row.sample}/${row.record} ${row.protocols} -> ${dissect(rec!.headerProtocol, rec!.bytes).stack}: ${why}`);
        }
      }
      expect(mismatches.slice(0, 20)).toEqual([]);
      expect(mismatches.length).toBe(0);
      expect([...deviating].length).toBe(DEVIATIONS.filter((d) => d.capture === capture).length);
    });
  }

  it('maps tshark names', () => {
    expect(mapTshark('eth:ethertype:vlan:ethertype:ip:udp:vxlan:eth:ethertype:ipv6:tcp:data')).toEqual({ layers: ['eth', 'q', 'ip', 'udp', 'vxlan', 'eth', 'ip6', 'tcp'], app: null });
    expect(mapTshark('ip:icmp:ip:udp:sflow')).toEqual({ layers: ['ip', 'icmp'], app: null });
    expect(mapTshark('eth:ethertype:ipv6:ipv6.routing:ip:udp:dns')).toEqual({ layers: ['eth', 'ip6', 'ip', 'udp'], app: 'dns' });
    expect(mapTshark('eth:ethertype:mpls:mpls:pwethheuristic:pwethcw:eth:ethertype:ip:tcp:http')).toEqual({ layers: ['eth', 'mpls', 'eth', 'ip', 'tcp'], app: 'http' });
    expect(mapTshark('eth:llc:stp')).toEqual({ layers: ['eth'], app: null });
  });
});

// ---------------------------------------------------------------------------------------------

/** sflowtool prints IPv6 addresses fully expanded; WHATWG URL parsing gives RFC 5952 text. */
function canonicalIp6(s: string): string {
  return new URL(`http://[${s}]/`).hostname.slice(1, -1);
}

/** Our attributes that sflowtool also decodes, as [name, ours, sflowtool's]. */
function sflowtoolPairs(a: FlowAttributes, f: Record<string, string>): [string, string | undefined, string][] {
  const pairs: [string, string | undefined, string][] = [];
  const add = (name: string, sflowtool: string | undefined, conv: (s: string) => string = (s) => s): void => {
    if (sflowtool !== undefined) pairs.push([name, a[name], conv(sflowtool)]);
  };
  add('macsource', f.srcMAC, (s) => s.toUpperCase());
  add('macdestination', f.dstMAC, (s) => s.toUpperCase());
  add('ethernetprotocol', f.ethernet_type);
  add('vlan', f.decodedVLAN);
  add('priority', f.decodedPriority);
  if (f.srcIP !== undefined) {
    add('ipsource', f.srcIP);
    add('ipdestination', f.dstIP);
    add('ipprotocol', f.IPProtocol);
    add('iptos', f.IPTOS);
    add('ipttl', f.IPTTL);
    add('ipbytes', f['ip.tot_len']);
    // sflowtool prints the IP identification in host (little-endian) byte order
    add('ipid', f.IPID, (s) => String(((Number(s) & 0xff) << 8) | (Number(s) >>> 8)));
  }
  if (f.srcIP6 !== undefined) {
    add('ip6source', f.srcIP6, canonicalIp6);
    add('ip6destination', f.dstIP6, canonicalIp6);
    add('ip6nexthdr', f.IPProtocol);
    add('ip6tos', f.IPTOS);
    add('ip6ttl', f.IPTTL);
    add('ip6flowlabel', f.IP6_label, (s) => String(parseInt(s, 16)));
    add('ip6bytes', f.IPV6_payloadLen, (s) => String(Number(s) + 40));
    add('ip6extensions', f.IP6HeaderExtension);
  }
  add('tcpsourceport', f.TCPSrcPort);
  add('tcpdestinationport', f.TCPDstPort);
  if (f.TCPFlags !== undefined) pairs.push(['tcpflags', a.tcpflags, Number(f.TCPFlags).toString(2).padStart(9, '0')]);
  add('udpsourceport', f.UDPSrcPort);
  add('udpdestinationport', f.UDPDstPort);
  add('udpbytes', f.UDPBytes);
  if (f.ICMPType !== undefined) {
    const v6 = a.ip6nexthdr !== undefined && a.ipprotocol === undefined;
    pairs.push([v6 ? 'icmp6type' : 'icmptype', v6 ? a.icmp6type : a.icmptype, f.ICMPType]);
    pairs.push([v6 ? 'icmp6code' : 'icmpcode', v6 ? a.icmp6code : a.icmpcode, f.ICMPCode!]);
  }
  return pairs;
}

const allCaptures = readdirSync(ORACLE)
  .filter((f) => f.endsWith('.sflowtool.json'))
  .map((f) => f.slice(0, -'.sflowtool.json'.length))
  .sort();

describe('attributes agree with sflowtool', () => {
  let total = 0;
  for (const capture of allCaptures) {
    it(capture, () => {
      // the four headers with a wrong IPv4 checksum (see DEVIATIONS) are compared with the check off
      configureDissector({ verifyIpv4Checksum: false });
      const wrong: string[] = [];
      for (const rec of headerRecords(datagramsOf(capture))) {
        const a = dissect(rec.headerProtocol, rec.bytes);
        for (const [name, ours, theirs] of sflowtoolPairs(a, rec.fields)) {
          total++;
          if (ours !== theirs) wrong.push(`${rec.datagram}/${rec.sample}/${rec.record} ${name}: ours ${ours}, sflowtool ${theirs}`);
        }
      }
      expect(wrong.slice(0, 20)).toEqual([]);
    });
  }
  it('compared many fields', () => {
    expect(total).toBeGreaterThan(100_000);
  });
});

// ---------------------------------------------------------------------------------------------

describe('inner-layer keys', () => {
  it('every emitted key belongs to its layer list (so inner layers keep all their keys)', () => {
    configureDissector({ tcpSequenceNumbers: true });
    const known = new Set(LAYER_KEYS.flat());
    const unknown = new Set<string>();
    const suffixes = new Set<string>();
    for (const capture of ['hsflowd-tunnels-sample.pcap', 'hsflowd-flows.pcap', 'akvorado__data-encap-vxlan.pcap']) {
      for (const rec of headerRecords(datagramsOf(capture))) {
        const a = dissect(rec.headerProtocol, rec.bytes);
        for (const key of Object.keys(a)) {
          if (key === 'stack') continue;
          const dot = key.indexOf('.');
          if (dot >= 0) suffixes.add(key.slice(dot));
          if (!known.has(dot < 0 ? key : key.slice(0, dot))) unknown.add(key);
        }
      }
    }
    expect([...unknown]).toEqual([]);
    expect([...suffixes].sort()).toEqual(['.1']);
  });
});

// ---------------------------------------------------------------------------------------------

/** sFlow-RT stops at the first IPv6 header that carries IPv6 (ip6tnl). */
function sflowRtStack(stack: string): string {
  const t = stack.split('.');
  const i = t.findIndex((x, j) => x === 'ip6' && t[j + 1] === 'ip6');
  return i < 0 ? stack : t.slice(0, i + 1).join('.');
}

function recordedStacks(capture: string): string[] {
  const text = readFileSync(join(SFLOWRT, 'stacks.txt'), 'utf8');
  const section = text.split(`## ${capture} `)[1];
  if (section === undefined) throw new Error(`stacks.txt has no ${capture}`);
  return section.split('\n## ')[0]!.split('\n').slice(1).filter((l) => l !== '');
}

describe('stack agrees with the recorded sFlow-RT answers', () => {
  for (const capture of ['hsflowd-flows', 'hsflowd-tunnels-sample']) {
    it(`${capture}: the same distinct stacks`, () => {
      const ours = new Set<string>();
      for (const rec of headerRecords(datagramsOf(`${capture}.pcap`))) {
        if (rec.sample_.sampleType_tag !== '0:3' && rec.sample_.sampleType_tag !== '0:1') continue;
        ours.add(sflowRtStack(dissect(rec.headerProtocol, rec.bytes).stack ?? ''));
      }
      expect([...ours].sort()).toEqual(recordedStacks(capture).sort());
    });
  }

  it('hsflowd-flows: the decayed stack flow values at the end of the replay', () => {
    // flow `stack` = {keys:'stack', value:'frames', t:10}: value = Σ R_eff/t · exp(-(now-t_i)/t),
    // R_eff an EWMA of Δsample_pool (α 0.02) seeded with the sampling rate; the first sample of a
    // data source is not counted (sflow-rt/README.md §5). Arrival times: the replay kept the
    // capture's pace from its first datagram.
    const dir = join(SFLOWRT, 'hsflowd-flows');
    const index = readFileSync(join(dir, 'index.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { phase: string; path: string; t_rel: number; file: string });
    const req = index.find((r) => r.phase === '2_end' && r.path === '/activeflows/ALL/stack/json?maxFlows=1000')!;
    const recorded = JSON.parse(readFileSync(join(dir, req.file), 'utf8')) as { key: string; value: number }[];
    const datagrams = datagramsOf('hsflowd-flows.pcap');
    const time = (d: SflowtoolDatagram): number => Date.parse(d.pcapTimestamp!) / 1000 + Number(d.pcapTimestamp_uS) / 1e6;
    const t0 = time(datagrams[0]!);
    const values = new Map<string, number>();
    const sources = new Map<string, { r: number; pool: number }>();
    for (const rec of headerRecords(datagrams)) {
      const s = rec.sample_;
      const pool = Number(s.samplePool);
      const src = sources.get(s.sourceId);
      if (src === undefined) {
        sources.set(s.sourceId, { r: Number(s.meanSkipCount), pool });
        continue;
      }
      src.r += 0.02 * (pool - src.pool - src.r);
      src.pool = pool;
      const key = dissect(rec.headerProtocol, rec.bytes).stack ?? '';
      const v = (src.r / 10) * Math.exp(-(req.t_rel - (time(rec.datagram_) - t0)) / 10);
      values.set(key, (values.get(key) ?? 0) + v);
    }
    expect([...values.keys()].sort()).toEqual(recorded.map((r) => r.key).sort());
    for (const r of recorded) expect(values.get(r.key)! / r.value, r.key).toBeCloseTo(1, 2);
  });
});

describe('test data is present', () => {
  it('has the shared folders', () => {
    expect(existsSync(ORACLE)).toBe(true);
    expect(existsSync(SFLOWRT)).toBe(true);
  });
});
