// Building flow samples and discard notifications for flow-engine tests: sampled headers
// (Ethernet/IPv4/IPv6 with TCP, UDP, ICMP, DNS), datagrams encoded with the project's encoder,
// and a small script harness — an Engine with a FlowEngine on a hand-driven clock — so that
// tests read "at t=0 feed these samples; at t=2 expect activeflows = [...]".

import { ManualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import { FlowEngine, type FlowEngineConfig } from '../../src/engine/flows/engine.js';
import type { KeyDeps } from '../../src/engine/flows/keys.js';
import { encodeDatagram } from '../../src/sflow/encode.js';
import { flowRecordDefs } from '../../src/sflow/index.js';
import type { DiscardSample, FlowRecord, FlowSample, Sample } from '../../src/sflow/types.js';

export interface PacketSpec {
  src?: string;
  dst?: string;
  /** 6 TCP (default), 17 UDP, 1 ICMP, 58 ICMPv6. */
  proto?: number;
  sport?: number;
  dport?: number;
  /** TCP flags byte (default 0x18 PSH+ACK). */
  flags?: number;
  /** ICMP type (default 8, echo request). */
  icmpType?: number;
  srcMac?: string;
  dstMac?: string;
  vlan?: number;
  /** DNS query name: adds a DNS query header and question (UDP). */
  dnsQuery?: string;
  /** IP total length written in the header (default 1000 - 14). */
  ipLength?: number;
}

function macBytes(m: string): number[] {
  const hex = m.replace(/[^0-9a-fA-F]/g, '');
  return Array.from({ length: 6 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

function ip4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function ip6Bytes(a: string): number[] {
  const [h, t] = a.includes('::') ? a.split('::') : [a, undefined];
  const hp = h ? h.split(':') : [];
  const tp = t ? t.split(':') : [];
  const groups = t === undefined ? hp : [...hp, ...new Array<string>(8 - hp.length - tp.length).fill('0'), ...tp];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 255];
  });
}

function checksum(b: number[], start: number, len: number): number {
  let sum = 0;
  for (let i = start; i < start + len; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    out.push(label.length, ...[...label].map((c) => c.charCodeAt(0)));
  }
  out.push(0);
  return out;
}

/** An Ethernet frame header (with IPv4 or IPv6 when the addresses say so) as sampled bytes. */
export function packet(p: PacketSpec = {}): Uint8Array {
  const src = p.src ?? '10.0.0.1';
  const dst = p.dst ?? '10.0.0.2';
  const v6 = src.includes(':');
  const proto = p.proto ?? 6;
  const b: number[] = [...macBytes(p.dstMac ?? '020000000002'), ...macBytes(p.srcMac ?? '020000000001')];
  if (p.vlan !== undefined) b.push(0x81, 0x00, (p.vlan >> 8) & 0x0f, p.vlan & 0xff);
  b.push(...(v6 ? [0x86, 0xdd] : [0x08, 0x00]));
  const ipStart = b.length;
  let transport: number[] = [];
  const sport = p.sport ?? 40000;
  const dport = p.dport ?? (proto === 17 ? 53 : 80);
  if (proto === 6) {
    transport = [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, p.flags ?? 0x18, 0x10, 0, 0, 0, 0, 0];
  } else if (proto === 17) {
    const payload: number[] = [];
    if (p.dnsQuery !== undefined) payload.push(0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...dnsName(p.dnsQuery), 0, 1, 0, 1);
    const ulen = 8 + payload.length;
    transport = [sport >> 8, sport & 255, dport >> 8, dport & 255, ulen >> 8, ulen & 255, 0, 0, ...payload];
  } else if (proto === 1 || proto === 58) {
    transport = [p.icmpType ?? (proto === 1 ? 8 : 128), 0, 0, 0, 0, 1, 0, 1];
  }
  if (v6) {
    const plen = transport.length;
    b.push(0x60, 0, 0, 0, plen >> 8, plen & 255, proto, 64, ...ip6Bytes(src), ...ip6Bytes(dst));
  } else {
    const tot = p.ipLength ?? 20 + Math.max(transport.length, 986 - 20);
    b.push(0x45, 0, tot >> 8, tot & 255, 0, 1, 0x40, 0, 64, proto, 0, 0, ...ip4Bytes(src), ...ip4Bytes(dst));
    const ck = checksum(b, ipStart, 20);
    b[ipStart + 10] = ck >> 8;
    b[ipStart + 11] = ck & 255;
  }
  b.push(...transport);
  return Uint8Array.from(b);
}

export interface SampleSpec {
  /** ifIndex of the data source (class 0), or `class.index`. */
  ds?: number | string;
  rate?: number;
  /** Sample pool (default: grows by `rate` per sample of the data source). */
  pool?: number;
  header?: Uint8Array;
  /** Frame length (default 1000). */
  frameLength?: number;
  input?: number;
  output?: number;
  /** Extra records. */
  records?: FlowRecord[];
}

export interface DiscardSpec {
  ds?: number;
  reason: number;
  header?: Uint8Array;
  frameLength?: number;
  input?: number;
  output?: number;
  records?: FlowRecord[];
}

function dsId(ds: number | string | undefined): [number, number] {
  if (ds === undefined) return [0, 1];
  if (typeof ds === 'number') return [0, ds];
  const [c, i] = ds.split('.').map(Number);
  return [c!, i!];
}

export function headerRecord(header: Uint8Array, frameLength = 1000): FlowRecord {
  return { kind: 'sampled_header', tag: flowRecordDefs.sampled_header.tag, headerProtocol: 1, frameLength, stripped: 4, header } as FlowRecord;
}

/** Encodes datagrams for one agent, keeping sequence numbers and sample pools consistent. */
export class AgentSim {
  private seq = 0;
  private readonly sampleSeq = new Map<string, number>();
  private readonly pools = new Map<string, number>();

  constructor(readonly address: string) {}

  datagram(samples: (SampleSpec | ({ discard: true } & DiscardSpec))[], uptime = 1000): Uint8Array {
    const out: Sample[] = [];
    for (const s of samples) {
      if ('discard' in s) {
        const [cls, idx] = dsId(s.ds);
        const k = `d${cls}.${idx}`;
        const n = (this.sampleSeq.get(k) ?? 0) + 1;
        this.sampleSeq.set(k, n);
        const d: DiscardSample = {
          kind: 'discard_sample',
          tag: 5,
          sequence: n,
          sourceIdClass: cls,
          sourceIdIndex: idx,
          drops: 0,
          input: s.input ?? idx,
          output: s.output ?? 0,
          reason: s.reason,
          records: [...(s.records ?? []), ...(s.header ? [headerRecord(s.header, s.frameLength ?? s.header.length)] : [])],
        };
        out.push(d);
        continue;
      }
      const [cls, idx] = dsId(s.ds);
      const k = `${cls}.${idx}`;
      const n = (this.sampleSeq.get(k) ?? 0) + 1;
      this.sampleSeq.set(k, n);
      const rate = s.rate ?? 1;
      const pool = s.pool ?? (this.pools.get(k) ?? 0) + rate;
      this.pools.set(k, pool);
      const f: FlowSample = {
        kind: 'flow_sample',
        tag: 3,
        sequence: n,
        sourceIdClass: cls,
        sourceIdIndex: idx,
        samplingRate: rate,
        samplePool: pool,
        drops: 0,
        inputFormat: 0,
        input: s.input ?? idx,
        outputFormat: 0,
        output: s.output ?? 0,
        records: [...(s.records ?? []), ...(s.header !== undefined || s.records === undefined ? [headerRecord(s.header ?? packet(), s.frameLength ?? 1000)] : [])],
      };
      out.push(f);
    }
    return encodeDatagram({ version: 5, agentAddress: this.address, agentAddressType: 1, subAgentId: 0, sequence: ++this.seq, uptime, samples: out });
  }
}

/** An engine with a flow engine on a hand-driven clock, and helpers that read like a script. */
export class FlowScript {
  readonly clock: ManualClock;
  readonly engine: Engine;
  readonly flows: FlowEngine;
  private readonly agents = new Map<string, AgentSim>();

  constructor(
    config: Partial<FlowEngineConfig> = {},
    deps: Partial<KeyDeps> = {},
    readonly t0 = 1_800_000_000_000,
  ) {
    this.clock = new ManualClock(t0);
    this.engine = new Engine(this.clock);
    this.flows = new FlowEngine(this.engine, config, deps);
  }

  /** Engine time of `sec` seconds into the script. */
  ms(sec: number): number {
    return this.t0 + Math.round(sec * 1000);
  }

  /** Move the clock to `sec` (and let the engine sweep). */
  at(sec: number): this {
    this.clock.set(this.ms(sec));
    return this;
  }

  agent(address: string): AgentSim {
    let a = this.agents.get(address);
    if (a === undefined) this.agents.set(address, (a = new AgentSim(address)));
    return a;
  }

  /** Feed samples from `agent` at the clock's time. */
  feed(agent: string, ...samples: (SampleSpec | ({ discard: true } & DiscardSpec))[]): this {
    this.engine.ingest(this.agent(agent).datagram(samples), agent, this.clock.now());
    return this;
  }

  /** Define a flow (throws on a bad spec). */
  define(name: string, spec: Record<string, unknown>): this {
    this.flows.setFlow(name, spec);
    return this;
  }

  active(name: string, opts: Parameters<FlowEngine['activeFlows']>[2] = {}, agents = 'ALL'): { key: string; value: number; agent: string; dataSource: string; flowN: number; values?: number[] }[] {
    return this.flows.activeFlows(agents, name, opts, this.clock.now());
  }

  /** Active flows as `{key: value}` (rounded to `digits`). */
  values(name: string, opts: Parameters<FlowEngine['activeFlows']>[2] = {}, digits = 3): Record<string, number> {
    return Object.fromEntries(this.active(name, opts).map((f) => [f.key, Number(f.value.toFixed(digits))]));
  }

  records(name?: string) {
    return this.flows.flows({ maxFlows: 10_000, ...(name !== undefined ? { name } : {}) }, this.clock.now()).reverse();
  }
}
