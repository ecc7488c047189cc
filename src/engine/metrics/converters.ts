// Counter records → named metrics, with sFlow-RT's names (../shared/reference/sflow-rt.md §5 and
// the recorded answers in ../shared/testdata/sflow-rt/metrics-by-source.md). One Converter per
// record kind and family: on a virtual entity's data source (class 3: containers, pods, VMs) the
// host structures' names take a `vir_` prefix (host_name → vir_host_name, nvml_gputime →
// vir_nvml_gputime), as sFlow-RT does.
//
// Field kinds:
//   gauge    reported as it is (numbers; u64 become numbers, exact to 2^53)
//   string   reported as it is
//   c32/c64  counters: per-second rate of change between two samples (see store.ts for wrap,
//            reset and restart rules); a counter equal to all-ones ("unknown") yields no metric
//   derived  computed from the values above (percentages, sums, parsed names)
// Hidden fields are computed (derived metrics need them) but not exported.
// docs/metrics.md documents every name; keep them in step.

import type { CounterRecordOf, KnownCounterRecord } from '../../sflow/counter-records.js';
import { counterRecordDefs } from '../../sflow/counter-records.js';
import { parseVirtualHostName, type VirtualNames } from './k8s.js';
import { float32Decimal, formatUuid, hex64, ifDirectionName, ifTypeName, machineTypeName, osName, virtStateName } from './names.js';

export type Val = number | string | undefined;

export const enum FieldKind {
  Gauge = 0,
  String = 1,
  C32 = 2,
  C64 = 3,
  Derived = 4,
}

/** How a 32-bit counter that went down is read: `half` = a wrap if the wrapped delta is under 2^31, else a reset; `always` = always a wrap (counters that only reset when the agent restarts). */
export type WrapRule = 'half' | 'always';

export interface Field<R> {
  name: string;
  kind: FieldKind;
  hidden: boolean;
  /** The value is text (strings, derived names); else a number. */
  text: boolean;
  get?: (r: R) => number | bigint | string | undefined;
  derive?: (v: Val[], r: R, cache: DeriveCache) => Val;
  /** Index into a block's counter baselines (counters only). */
  slot: number;
  /** Index into a block's numbers (number fields) or texts (text fields). */
  store: number;
  wrap: WrapRule;
}

/** Per-block memo for derivations that are costly and rarely change (parsed host names). */
export interface DeriveCache {
  key?: string;
  names?: VirtualNames | null;
}

/** Most fields a converter may have (named-field bits are kept in two 31-bit words). */
export const MAX_FIELDS = 62;

export class Converter<R = any> {
  readonly fields: Field<R>[] = [];
  counters = 0;
  numbers = 0;
  texts = 0;
  /** Work area for one record (shared: records are converted one at a time). */
  readonly scratch: Val[] = [];
  /** Exported names and their field index. */
  readonly exported: { name: string; index: number }[] = [];

  constructor(
    readonly tag: number,
    readonly kind: string,
    readonly virtual: boolean,
  ) {}

  private add(f: Omit<Field<R>, 'slot' | 'wrap' | 'hidden' | 'store' | 'text'> & { hidden?: boolean; wrap?: WrapRule; text?: boolean }): number {
    const isCounter = f.kind === FieldKind.C32 || f.kind === FieldKind.C64;
    const text = f.text ?? f.kind === FieldKind.String;
    const field: Field<R> = { hidden: false, wrap: 'half', ...f, text, slot: isCounter ? this.counters++ : -1, store: text ? this.texts++ : this.numbers++ };
    if (this.fields.length >= MAX_FIELDS) throw new Error(`converter ${this.kind}: more than ${MAX_FIELDS} fields`);
    this.fields.push(field);
    this.scratch.push(undefined);
    const index = this.fields.length - 1;
    if (!field.hidden) this.exported.push({ name: field.name, index });
    return index;
  }

  gauge(name: string, get: (r: R) => number | bigint | undefined, hidden = false): number {
    return this.add({ name, kind: FieldKind.Gauge, get, hidden });
  }
  str(name: string, get: (r: R) => string | undefined, hidden = false): number {
    return this.add({ name, kind: FieldKind.String, get, hidden });
  }
  c32(name: string, get: (r: R) => number, opts: { hidden?: boolean; wrap?: WrapRule } = {}): number {
    return this.add({ name, kind: FieldKind.C32, get, ...opts });
  }
  c64(name: string, get: (r: R) => bigint, opts: { hidden?: boolean } = {}): number {
    return this.add({ name, kind: FieldKind.C64, get, ...opts });
  }
  derived(name: string, derive: (v: Val[], r: R, cache: DeriveCache) => number | undefined, hidden = false): number {
    return this.add({ name, kind: FieldKind.Derived, derive, hidden });
  }
  derivedText(name: string, derive: (v: Val[], r: R, cache: DeriveCache) => string | undefined): number {
    return this.add({ name, kind: FieldKind.Derived, derive, text: true });
  }
}

type Rec<K extends KnownCounterRecord['kind']> = CounterRecordOf<K>;

function num(v: Val): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
/** 100·a/b, when both are known and b > 0. */
function pct(a: Val, b: Val): number | undefined {
  const x = num(a);
  const y = num(b);
  return x !== undefined && y !== undefined && y > 0 ? (100 * x) / y : undefined;
}
function sumKnown(v: Val[], idx: number[]): number | undefined {
  let s = 0;
  let any = false;
  for (const i of idx) {
    const x = v[i];
    if (typeof x === 'number') {
      s += x;
      any = true;
    }
  }
  return any ? s : undefined;
}

/** Memoised parse of a virtual entity's host name. */
function virtualNames(name: string | undefined, cache: DeriveCache): VirtualNames | null {
  if (name === undefined) return null;
  if (cache.key !== name) {
    cache.key = name;
    cache.names = parseVirtualHostName(name);
  }
  return cache.names ?? null;
}

type Builder<K extends KnownCounterRecord['kind']> = (c: Converter<Rec<K>>, p: string) => void;

const builders = new Map<number, { kind: string; build: Builder<any> }>();

function def<K extends KnownCounterRecord['kind']>(kind: K, build: Builder<K>): void {
  const tag = (counterRecordDefs as Record<string, { tag: number }>)[kind]!.tag;
  builders.set(tag, { kind, build });
}

// ---------------------------------------------------------------------------------------------
// Interfaces (data source = ifIndex)

def('if_counters', (c) => {
  c.str('ifindex', (r) => String(r.ifIndex));
  c.str('iftype', (r) => ifTypeName(r.ifType));
  const speed = c.gauge('ifspeed', (r) => r.ifSpeed);
  c.str('ifdirection', (r) => ifDirectionName(r.ifDirection));
  c.str('ifadminstatus', (r) => ((r.ifStatus & 1) !== 0 ? 'up' : 'down'));
  c.str('ifoperstatus', (r) => ((r.ifStatus & 2) !== 0 ? 'up' : 'down'));
  const inOctets = c.c64('ifinoctets', (r) => r.ifInOctets);
  const inU = c.c32('ifinucastpkts', (r) => r.ifInUcastPkts);
  const inM = c.c32('ifinmulticastpkts', (r) => r.ifInMulticastPkts);
  const inB = c.c32('ifinbroadcastpkts', (r) => r.ifInBroadcastPkts);
  c.c32('ifindiscards', (r) => r.ifInDiscards);
  c.c32('ifinerrors', (r) => r.ifInErrors);
  c.c32('ifinunknownprotos', (r) => r.ifInUnknownProtos);
  const outOctets = c.c64('ifoutoctets', (r) => r.ifOutOctets);
  const outU = c.c32('ifoutucastpkts', (r) => r.ifOutUcastPkts);
  const outM = c.c32('ifoutmulticastpkts', (r) => r.ifOutMulticastPkts);
  const outB = c.c32('ifoutbroadcastpkts', (r) => r.ifOutBroadcastPkts);
  c.c32('ifoutdiscards', (r) => r.ifOutDiscards);
  c.c32('ifouterrors', (r) => r.ifOutErrors);
  c.derived('ifinpkts', (v) => sumKnown(v, [inU, inM, inB]));
  c.derived('ifoutpkts', (v) => sumKnown(v, [outU, outM, outB]));
  c.derived('ifinutilization', (v) => {
    const o = num(v[inOctets]);
    return o === undefined ? undefined : pct(o * 8, v[speed]);
  });
  c.derived('ifoututilization', (v) => {
    const o = num(v[outOctets]);
    return o === undefined ? undefined : pct(o * 8, v[speed]);
  });
});

def('ethernet_counters', (c) => {
  c.c32('eth_alignmenterrors', (r) => r.dot3StatsAlignmentErrors);
  c.c32('eth_fcserrors', (r) => r.dot3StatsFCSErrors);
  c.c32('eth_singlecollisions', (r) => r.dot3StatsSingleCollisionFrames);
  c.c32('eth_multiplecollisions', (r) => r.dot3StatsMultipleCollisionFrames);
  c.c32('eth_sqetesterrors', (r) => r.dot3StatsSQETestErrors);
  c.c32('eth_deferredtx', (r) => r.dot3StatsDeferredTransmissions);
  c.c32('eth_latecollisions', (r) => r.dot3StatsLateCollisions);
  c.c32('eth_excessivecollisions', (r) => r.dot3StatsExcessiveCollisions);
  c.c32('eth_internalmactxerrors', (r) => r.dot3StatsInternalMacTransmitErrors);
  c.c32('eth_carriersenseerrors', (r) => r.dot3StatsCarrierSenseErrors);
  c.c32('eth_toolongs', (r) => r.dot3StatsFrameTooLongs);
  c.c32('eth_internalmacrxerrors', (r) => r.dot3StatsInternalMacReceiveErrors);
  c.c32('eth_symbolerrors', (r) => r.dot3StatsSymbolErrors);
});

def('port_name', (c) => {
  c.str('ifname', (r) => r.name);
});

def('of_port', (c) => {
  c.str('of_dpid', (r) => hex64(r.datapathId));
  c.gauge('of_port', (r) => r.portNo);
});

def('lag_port_stats', (c) => {
  c.str('agg_actorsystemid', (r) => r.actorSystemID);
  c.str('agg_partneropersystemid', (r) => r.partnerSystemID);
  c.gauge('agg_attachedaggid', (r) => r.attachedAggID);
  c.gauge('agg_portactoradminstate', (r) => r.portState[0]);
  c.gauge('agg_portactoroperstate', (r) => r.portState[1]);
  c.gauge('agg_portpartneradminstate', (r) => r.portState[2]);
  c.gauge('agg_portpartneroperstate', (r) => r.portState[3]);
  c.c32('agg_portstatslacpdusrx', (r) => r.LACPDUsRx);
  c.c32('agg_portstatsmarkerpdusrx', (r) => r.MarkerPDUsRx);
  c.c32('agg_portstatsmarkerresponsepdusrx', (r) => r.MarkerResponsePDUsRx);
  c.c32('agg_portstatsunknownrx', (r) => r.UnknownRx);
  c.c32('agg_portstatsillegalrx', (r) => r.IllegalRx);
  c.c32('agg_portstatslacpdustx', (r) => r.LACPDUsTx);
  c.c32('agg_portstatsmarkerpdustx', (r) => r.MarkerPDUsTx);
  c.c32('agg_portstatsmarkerresponsepdustx', (r) => r.MarkerResponsePDUsTx);
});

def('sfp', (c) => {
  c.gauge('opt_module_id', (r) => r.moduleId);
  c.gauge('opt_module_lanes', (r) => r.moduleTotalLanes);
  c.gauge('opt_module_supply_voltage', (r) => r.moduleSupplyVoltage / 1000);
  c.gauge('opt_module_temperature', (r) => r.moduleTemperature / 1000);
});

def('processor', (c) => {
  c.gauge('cpu_5sec', (r) => r.cpu5s / 100);
  c.gauge('cpu_1min', (r) => r.cpu1m / 100);
  c.gauge('cpu_5min', (r) => r.cpu5m / 100);
  const total = c.gauge('mem_total', (r) => r.totalMemory);
  const free = c.gauge('mem_free', (r) => r.freeMemory);
  const used = c.derived('mem_used', (v) => {
    const t = num(v[total]);
    const f = num(v[free]);
    return t !== undefined && f !== undefined ? t - f : undefined;
  });
  c.derived('mem_utilization', (v) => pct(v[used], v[total]));
});

// ---------------------------------------------------------------------------------------------
// Hosts (2.N) and, with the vir_ prefix, virtual entities (3.N)

def('host_descr', (c, p) => {
  const name = c.str(`${p}host_name`, (r) => r.hostname);
  c.str(`${p}uuid`, (r) => formatUuid(r.uuid));
  c.str(`${p}machine_type`, (r) => machineTypeName(r.machineType));
  c.str(`${p}os_name`, (r) => osName(r.osName));
  c.str(`${p}os_release`, (r) => r.osRelease);
  if (p !== '') {
    const k = (key: keyof VirtualNames) => (v: Val[], _r: unknown, cache: DeriveCache) =>
      virtualNames(v[name] as string | undefined, cache)?.[key];
    c.derivedText('k8s_namespace', k('k8s_namespace'));
    c.derivedText('k8s_name', k('k8s_name'));
    c.derivedText('k8s_container', k('k8s_container'));
    c.derivedText('docker_name', k('docker_name'));
    c.derivedText('swarm_name', k('swarm_name'));
    c.derivedText('systemd_service', k('systemd_service'));
  }
});

def('host_parent', (c) => {
  c.str('host_parent', (r) => `${r.containerType}.${r.containerIndex}`);
});

def('host_cpu', (c, p) => {
  const l1 = c.gauge(`${p}load_one`, (r) => float32Decimal(r.loadOne));
  const l5 = c.gauge(`${p}load_five`, (r) => float32Decimal(r.loadFive));
  const l15 = c.gauge(`${p}load_fifteen`, (r) => float32Decimal(r.loadFifteen));
  c.gauge(`${p}proc_run`, (r) => r.procRun);
  c.gauge(`${p}proc_total`, (r) => r.procTotal);
  const n = c.gauge(`${p}cpu_num`, (r) => r.cpuNum);
  c.gauge(`${p}cpu_speed`, (r) => r.cpuSpeed);
  c.gauge(`${p}uptime`, (r) => r.uptime);
  // CPU times (ms, cumulative) → rates (hidden) → percentages of their sum.
  const user = c.c32('.cpu_user', (r) => r.cpuUser, { hidden: true });
  const nice = c.c32('.cpu_nice', (r) => r.cpuNice, { hidden: true });
  const system = c.c32('.cpu_system', (r) => r.cpuSystem, { hidden: true });
  const idle = c.c32('.cpu_idle', (r) => r.cpuIdle, { hidden: true });
  const wio = c.c32('.cpu_wio', (r) => r.cpuWio, { hidden: true });
  const intr = c.c32('.cpu_intr', (r) => r.cpuIntr, { hidden: true });
  const sintr = c.c32('.cpu_sintr', (r) => r.cpuSintr, { hidden: true });
  const steal = c.c32('.cpu_steal', (r) => r.cpuSteal ?? 0xffffffff, { hidden: true });
  const guest = c.c32('.cpu_guest', (r) => r.cpuGuest ?? 0xffffffff, { hidden: true });
  const guestNice = c.c32('.cpu_guest_nice', (r) => r.cpuGuestNice ?? 0xffffffff, { hidden: true });
  // Linux counts guest time inside user time: the total is the other eight.
  const total = c.derived('.cpu_total', (v) => sumKnown(v, [user, nice, system, idle, wio, intr, sintr, steal]), true);
  for (const [name, i] of [
    ['cpu_user', user],
    ['cpu_nice', nice],
    ['cpu_system', system],
    ['cpu_idle', idle],
    ['cpu_wio', wio],
    ['cpu_intr', intr],
    ['cpu_sintr', sintr],
    ['cpu_steal', steal],
    ['cpu_guest', guest],
    ['cpu_guest_nice', guestNice],
  ] as const) {
    c.derived(`${p}${name}`, (v) => pct(v[i], v[total]));
  }
  c.derived(`${p}cpu_utilization`, (v) => {
    const x = pct(v[idle], v[total]);
    return x === undefined ? undefined : 100 - x;
  });
  c.c32(`${p}interrupts`, (r) => r.interrupts);
  c.c32(`${p}contexts`, (r) => r.contexts);
  const perCpu = (i: number) => (v: Val[]) => {
    const l = num(v[i]);
    const k = num(v[n]);
    return l !== undefined && k !== undefined && k > 0 ? l / k : undefined;
  };
  c.derived(`${p}load_one_per_cpu`, perCpu(l1));
  c.derived(`${p}load_five_per_cpu`, perCpu(l5));
  c.derived(`${p}load_fifteen_per_cpu`, perCpu(l15));
});

def('host_memory', (c, p) => {
  const total = c.gauge(`${p}mem_total`, (r) => r.memTotal);
  const free = c.gauge(`${p}mem_free`, (r) => r.memFree);
  c.gauge(`${p}mem_shared`, (r) => r.memShared);
  const buffers = c.gauge(`${p}mem_buffers`, (r) => r.memBuffers);
  const cached = c.gauge(`${p}mem_cached`, (r) => r.memCached);
  c.gauge(`${p}swap_total`, (r) => r.swapTotal);
  c.gauge(`${p}swap_free`, (r) => r.swapFree);
  c.c32(`${p}page_in`, (r) => r.pageIn);
  c.c32(`${p}page_out`, (r) => r.pageOut);
  c.c32(`${p}swap_in`, (r) => r.swapIn);
  c.c32(`${p}swap_out`, (r) => r.swapOut);
  const used = c.derived(`${p}mem_used`, (v) => {
    const t = num(v[total]);
    const f = num(v[free]);
    if (t === undefined || f === undefined) return undefined;
    return t - f - (num(v[buffers]) ?? 0) - (num(v[cached]) ?? 0);
  });
  c.derived(`${p}mem_utilization`, (v) => pct(v[used], v[total]));
});

def('host_disk_io', (c, p) => {
  const total = c.gauge(`${p}disk_total`, (r) => r.diskTotal);
  const free = c.gauge(`${p}disk_free`, (r) => r.diskFree);
  c.gauge(`${p}part_max_used`, (r) => (r.partMaxUsed === -1 ? undefined : r.partMaxUsed / 100));
  const reads = c.c32(`${p}reads`, (r) => r.reads);
  c.c64(`${p}bytes_read`, (r) => r.bytesRead);
  const readTime = c.c32(`.${p}read_time`, (r) => r.readTime, { hidden: true });
  const writes = c.c32(`${p}writes`, (r) => r.writes);
  c.c64(`${p}bytes_written`, (r) => r.bytesWritten);
  const writeTime = c.c32(`.${p}write_time`, (r) => r.writeTime, { hidden: true });
  // sFlow-RT reports the time per operation (ms): Δtime / Δoperations, 0 without operations.
  const perOp = (t: number, ops: number) => (v: Val[]) => {
    const x = num(v[t]);
    const o = num(v[ops]);
    return x === undefined || o === undefined ? undefined : o > 0 ? x / o : 0;
  };
  c.derived(`${p}read_time`, perOp(readTime, reads));
  c.derived(`${p}write_time`, perOp(writeTime, writes));
  c.derived(`${p}disk_utilization`, (v) => {
    const t = num(v[total]);
    const f = num(v[free]);
    return t !== undefined && f !== undefined ? pct(t - f, t) : undefined;
  });
});

def('host_net_io', (c, p) => {
  c.c64(`${p}bytes_in`, (r) => r.bytesIn);
  c.c32(`${p}pkts_in`, (r) => r.pktsIn);
  c.c32(`${p}errs_in`, (r) => r.errsIn);
  c.c32(`${p}drops_in`, (r) => r.dropsIn);
  c.c64(`${p}bytes_out`, (r) => r.bytesOut);
  c.c32(`${p}pkts_out`, (r) => r.pktsOut);
  c.c32(`${p}errs_out`, (r) => r.errsOut);
  c.c32(`${p}drops_out`, (r) => r.dropsOut);
});

def('mib2_ip_group', (c, p) => {
  c.gauge(`${p}ip_forwarding`, (r) => r.ipForwarding);
  c.gauge(`${p}ip_defaultttl`, (r) => r.ipDefaultTTL);
  c.c32(`${p}ip_inreceives`, (r) => r.ipInReceives);
  c.c32(`${p}ip_inhdrerrors`, (r) => r.ipInHdrErrors);
  c.c32(`${p}ip_inaddrerrors`, (r) => r.ipInAddrErrors);
  c.c32(`${p}ip_forwdatagrams`, (r) => r.ipForwDatagrams);
  c.c32(`${p}ip_inunknownprotos`, (r) => r.ipInUnknownProtos);
  c.c32(`${p}ip_indiscards`, (r) => r.ipInDiscards);
  c.c32(`${p}ip_indelivers`, (r) => r.ipInDelivers);
  c.c32(`${p}ip_outrequests`, (r) => r.ipOutRequests);
  c.c32(`${p}ip_outdiscards`, (r) => r.ipOutDiscards);
  c.c32(`${p}ip_outnoroutes`, (r) => r.ipOutNoRoutes);
  c.gauge(`${p}ip_reasmtimeout`, (r) => r.ipReasmTimeout);
  c.c32(`${p}ip_reasmreqds`, (r) => r.ipReasmReqds);
  c.c32(`${p}ip_reasmoks`, (r) => r.ipReasmOKs);
  c.c32(`${p}ip_reasmfails`, (r) => r.ipReasmFails);
  c.c32(`${p}ip_fragoks`, (r) => r.ipFragOKs);
  c.c32(`${p}ip_fragfails`, (r) => r.ipFragFails);
  c.c32(`${p}ip_fragcreates`, (r) => r.ipFragCreates);
});

def('mib2_icmp_group', (c, p) => {
  const f: [string, (r: Rec<'mib2_icmp_group'>) => number][] = [
    ['inmsgs', (r) => r.icmpInMsgs],
    ['inerrors', (r) => r.icmpInErrors],
    ['indestunreachs', (r) => r.icmpInDestUnreachs],
    ['intimeexcds', (r) => r.icmpInTimeExcds],
    ['inparamprobs', (r) => r.icmpInParamProbs],
    ['insrcquenchs', (r) => r.icmpInSrcQuenchs],
    ['inredirects', (r) => r.icmpInRedirects],
    ['inechos', (r) => r.icmpInEchos],
    ['inechoreps', (r) => r.icmpInEchoReps],
    ['intimestamps', (r) => r.icmpInTimestamps],
    ['inaddrmasks', (r) => r.icmpInAddrMasks],
    ['inaddrmaskreps', (r) => r.icmpInAddrMaskReps],
    ['outmsgs', (r) => r.icmpOutMsgs],
    ['outerrors', (r) => r.icmpOutErrors],
    ['outdestunreachs', (r) => r.icmpOutDestUnreachs],
    ['outtimeexcds', (r) => r.icmpOutTimeExcds],
    ['outparamprobs', (r) => r.icmpOutParamProbs],
    ['outsrcquenchs', (r) => r.icmpOutSrcQuenchs],
    ['outredirects', (r) => r.icmpOutRedirects],
    ['outechos', (r) => r.icmpOutEchos],
    ['outechoreps', (r) => r.icmpOutEchoReps],
    ['outtimestamps', (r) => r.icmpOutTimestamps],
    ['outtimestampreps', (r) => r.icmpOutTimestampReps],
    ['outaddrmasks', (r) => r.icmpOutAddrMasks],
    ['outaddrmaskreps', (r) => r.icmpOutAddrMaskReps],
  ];
  for (const [n, get] of f) c.c32(`${p}icmp_${n}`, get);
});

def('mib2_tcp_group', (c, p) => {
  c.gauge(`${p}tcp_rtoalgorithm`, (r) => r.tcpRtoAlgorithm);
  c.gauge(`${p}tcp_rtomin`, (r) => r.tcpRtoMin);
  c.gauge(`${p}tcp_rtomax`, (r) => r.tcpRtoMax);
  c.gauge(`${p}tcp_maxconn`, (r) => r.tcpMaxConn);
  c.c32(`${p}tcp_activeopens`, (r) => r.tcpActiveOpens);
  c.c32(`${p}tcp_passiveopens`, (r) => r.tcpPassiveOpens);
  c.c32(`${p}tcp_attemptfails`, (r) => r.tcpAttemptFails);
  c.c32(`${p}tcp_estabresets`, (r) => r.tcpEstabResets);
  c.gauge(`${p}tcp_currestab`, (r) => r.tcpCurrEstab);
  c.c32(`${p}tcp_insegs`, (r) => r.tcpInSegs);
  c.c32(`${p}tcp_outsegs`, (r) => r.tcpOutSegs);
  c.c32(`${p}tcp_retranssegs`, (r) => r.tcpRetransSegs);
  c.c32(`${p}tcp_inerrs`, (r) => r.tcpInErrs);
  c.c32(`${p}tcp_outrsts`, (r) => r.tcpOutRsts);
  c.c32(`${p}tcp_incsumerrs`, (r) => r.tcpInCsumErrors);
});

def('mib2_udp_group', (c, p) => {
  c.c32(`${p}udp_indatagrams`, (r) => r.udpInDatagrams);
  c.c32(`${p}udp_noports`, (r) => r.udpNoPorts);
  c.c32(`${p}udp_inerrors`, (r) => r.udpInErrors);
  c.c32(`${p}udp_outdatagrams`, (r) => r.udpOutDatagrams);
  c.c32(`${p}udp_rcvbuferrors`, (r) => r.udpRcvbufErrors);
  c.c32(`${p}udp_sndbuferrors`, (r) => r.udpSndbufErrors);
  c.c32(`${p}udp_incsumerrors`, (r) => r.udpInCsumErrors);
});

// Hypervisor / container host: the node as a whole.
def('virt_node', (c) => {
  c.gauge('node_cpu_mhz', (r) => r.mhz);
  c.gauge('node_cpus', (r) => r.cpus);
  c.gauge('node_mem_total', (r) => r.memory);
  c.gauge('node_mem_free', (r) => r.memoryFree);
  c.gauge('node_domains', (r) => r.numDomains);
});

// Virtual entities: names already carry vir_.
def('virt_cpu', (c) => {
  c.str('vir_cpu_state', (r) => virtStateName(r.state));
  c.gauge('vir_cpu_num', (r) => r.nrVirtCpu);
  // cpuTime is ms of CPU: rate in ms/s, /10 → percent of one CPU.
  const t = c.c32('.vir_cpu_time', (r) => r.cpuTime, { hidden: true });
  c.derived('vir_cpu_utilization', (v) => {
    const x = num(v[t]);
    return x === undefined ? undefined : x / 10;
  });
});

def('virt_memory', (c) => {
  const used = c.gauge('vir_mem_used', (r) => r.memory);
  const total = c.gauge('vir_mem_total', (r) => r.maxMemory);
  c.derived('vir_mem_free', (v) => {
    const t = num(v[total]);
    const u = num(v[used]);
    return t !== undefined && u !== undefined && t > 0 ? t - u : undefined;
  });
  c.derived('vir_mem_utilization', (v) => pct(v[used], v[total]));
});

def('virt_disk_io', (c) => {
  c.gauge('vir_disk_capacity', (r) => r.capacity);
  c.gauge('vir_disk_allocation', (r) => r.allocation);
  c.gauge('vir_disk_physical', (r) => r.available);
  c.c32('vir_reads', (r) => r.rdReq);
  c.c64('vir_bytes_read', (r) => r.rdBytes);
  c.c32('vir_writes', (r) => r.wrReq);
  c.c64('vir_bytes_written', (r) => r.wrBytes);
  c.c32('vir_errors', (r) => r.errs);
});

def('virt_net_io', (c) => {
  c.c64('vir_bytes_in', (r) => r.bytesIn);
  c.c32('vir_pkts_in', (r) => r.pktsIn);
  c.c32('vir_errs_in', (r) => r.errsIn);
  c.c32('vir_drops_in', (r) => r.dropsIn);
  c.c64('vir_bytes_out', (r) => r.bytesOut);
  c.c32('vir_pkts_out', (r) => r.pktsOut);
  c.c32('vir_errs_out', (r) => r.errsOut);
  c.c32('vir_drops_out', (r) => r.dropsOut);
});

// ---------------------------------------------------------------------------------------------
// NVIDIA GPUs (5703:1, sflow_nvml.txt): nvml_* on hosts, vir_nvml_* on pods/containers.

def('nvidia_gpu', (c, p) => {
  const pre = `${p}nvml_`;
  const devices = c.gauge(`${pre}device_count`, (r) => r.deviceCount);
  c.gauge(`${pre}processes`, (r) => r.processes);
  // gpu_time / mem_time: hsflowd adds utilisation% × 10 each second per GPU, so a rate of
  // 1000 ms/s is one GPU fully busy. They wrap at 2^32 and only reset when the agent restarts.
  const gpu = c.c32(`${pre}gputime`, (r) => r.gpuTime, { wrap: 'always' });
  const mem = c.c32(`${pre}memtime`, (r) => r.memTime, { wrap: 'always' });
  const total = c.gauge(`${pre}mem_total`, (r) => r.memTotal);
  const free = c.gauge(`${pre}mem_free`, (r) => r.memFree);
  c.c32(`${pre}ecc_errors`, (r) => r.eccErrors);
  // energy: mJ, 32 bits: wraps every 4.3 MJ (~20 min for a 4 kW node).
  const energy = c.c32(`.${pre}energy`, (r) => r.energy, { hidden: true, wrap: 'always' });
  c.gauge(`${pre}temperature`, (r) => r.temperature);
  c.gauge(`${pre}fanspeed`, (r) => r.fanSpeed);
  c.derived(`${pre}mem_used`, (v) => {
    const t = num(v[total]);
    const f = num(v[free]);
    return t !== undefined && f !== undefined ? t - f : undefined;
  });
  const perDevice = (i: number) => (v: Val[]) => {
    const x = num(v[i]);
    const n = num(v[devices]);
    return x !== undefined && n !== undefined && n > 0 ? x / 10 / n : undefined;
  };
  c.derived(`${pre}gpu_utilization`, perDevice(gpu));
  c.derived(`${pre}mem_utilization`, perDevice(mem));
  // mJ/s = mW → W, all devices together.
  c.derived(`${pre}power`, (v) => {
    const x = num(v[energy]);
    return x === undefined ? undefined : x / 1000;
  });
});

// ---------------------------------------------------------------------------------------------
// Applications

def('jvm_runtime', (c) => {
  c.str('jvm_name', (r) => r.vmName);
  c.str('jvm_vendor', (r) => r.vmVendor);
  c.str('jvm_version', (r) => r.vmVersion);
});

def('jvm_statistics', (c) => {
  c.gauge('jvm_heap_initial', (r) => r.heapInitial);
  c.gauge('jvm_heap_used', (r) => r.heapUsed);
  c.gauge('jvm_heap_committed', (r) => r.heapCommitted);
  c.gauge('jvm_heap_max', (r) => r.heapMax);
  c.gauge('jvm_non_heap_initial', (r) => r.nonHeapInitial);
  c.gauge('jvm_non_heap_used', (r) => r.nonHeapUsed);
  c.gauge('jvm_non_heap_committed', (r) => r.nonHeapCommitted);
  c.gauge('jvm_non_heap_max', (r) => r.nonHeapMax);
  c.c32('jvm_gc_count', (r) => r.gcCount);
  c.c32('jvm_gc_ms', (r) => r.gcTime);
  c.gauge('jvm_classes_loaded', (r) => r.classesLoaded);
  c.gauge('jvm_classes_total', (r) => r.classesTotal);
  c.gauge('jvm_classes_unloaded', (r) => r.classesUnloaded);
  c.c32('jvm_compilation_ms', (r) => r.compilationTime);
  c.gauge('jvm_thread_live', (r) => r.threadNumLive);
  c.gauge('jvm_thread_daemon', (r) => r.threadNumDaemon);
  c.c32('jvm_thread_started', (r) => r.threadNumStarted);
  c.gauge('jvm_fd_open', (r) => r.fdOpenCount);
  c.gauge('jvm_fd_max', (r) => r.fdMaxCount);
});

def('http_counters', (c) => {
  c.c32('http_method_option', (r) => r.methodOptionCount);
  c.c32('http_method_get', (r) => r.methodGetCount);
  c.c32('http_method_head', (r) => r.methodHeadCount);
  c.c32('http_method_post', (r) => r.methodPostCount);
  c.c32('http_method_put', (r) => r.methodPutCount);
  c.c32('http_method_delete', (r) => r.methodDeleteCount);
  c.c32('http_method_trace', (r) => r.methodTraceCount);
  c.c32('http_method_connect', (r) => r.methodConnectCount);
  c.c32('http_method_other', (r) => r.methodOtherCount);
  c.c32('http_status_1xx', (r) => r.status1XXCount);
  c.c32('http_status_2xx', (r) => r.status2XXCount);
  c.c32('http_status_3xx', (r) => r.status3XXCount);
  c.c32('http_status_4xx', (r) => r.status4XXCount);
  c.c32('http_status_5xx', (r) => r.status5XXCount);
  c.c32('http_status_other', (r) => r.statusOtherCount);
});

def('app_operations', (c) => {
  c.str('app_name', (r) => r.application);
  c.c32('app_success', (r) => r.success);
  c.c32('app_other', (r) => r.other);
  c.c32('app_timeout', (r) => r.timeout);
  c.c32('app_internal_error', (r) => r.internalError);
  c.c32('app_bad_request', (r) => r.badRequest);
  c.c32('app_forbidden', (r) => r.forbidden);
  c.c32('app_too_large', (r) => r.tooLarge);
  c.c32('app_not_implemented', (r) => r.notImplemented);
  c.c32('app_not_found', (r) => r.notFound);
  c.c32('app_unavailable', (r) => r.unavailable);
  c.c32('app_unauthorized', (r) => r.unauthorized);
});

def('app_resources', (c) => {
  c.c32('app_usertime', (r) => r.userTime);
  c.c32('app_systemtime', (r) => r.systemTime);
  c.gauge('app_mem_used', (r) => r.memUsed);
  c.gauge('app_mem_max', (r) => r.memMax);
  c.gauge('app_fd_open', (r) => r.fdOpen);
  c.gauge('app_fd_max', (r) => r.fdMax);
  c.gauge('app_conn_open', (r) => r.connOpen);
  c.gauge('app_conn_max', (r) => r.connMax);
});

def('app_workers', (c) => {
  c.gauge('app_workers_active', (r) => r.workersActive);
  c.gauge('app_workers_idle', (r) => r.workersIdle);
  c.gauge('app_workers_max', (r) => r.workersMax);
  c.c32('app_req_delayed', (r) => r.reqDelayed);
  c.c32('app_req_dropped', (r) => r.reqDropped);
});

def('ovs_dp_stats', (c) => {
  const hit = c.c32('ovs_dp_hits', (r) => r.hit);
  const miss = c.c32('ovs_dp_misses', (r) => r.missed);
  c.c32('ovs_dp_lost', (r) => r.lost);
  c.c32('ovs_dp_maskhits', (r) => r.maskHit);
  c.gauge('ovs_dp_flows', (r) => r.flows);
  c.gauge('ovs_dp_masks', (r) => r.masks);
  c.derived('ovs_dp_missrate', (v) => {
    const h = num(v[hit]);
    const m = num(v[miss]);
    return h !== undefined && m !== undefined ? pct(m, h + m) : undefined;
  });
});

def('bcm_tables', (c) => {
  const pairs: [string, (r: Rec<'bcm_tables'>) => number, (r: Rec<'bcm_tables'>) => number][] = [
    ['host', (r) => r.hostEntries, (r) => r.hostEntriesMax],
    ['ipv4', (r) => r.ipv4Entries, (r) => r.ipv4EntriesMax],
    ['ipv6', (r) => r.ipv6Entries, (r) => r.ipv6EntriesMax],
    ['ipv4_ipv6', (r) => r.ipv4Ipv6Entries, (r) => r.ipv4Ipv6EntriesMax],
    ['long_ipv6', (r) => r.longIpv6Entries, (r) => r.longIpv6EntriesMax],
    ['total_routes', (r) => r.totalRoutes, (r) => r.totalRoutesMax],
    ['ecmp_nexthops', (r) => r.ecmpNexthops, (r) => r.ecmpNexthopsMax],
    ['mac', (r) => r.macEntries, (r) => r.macEntriesMax],
    ['acl_ingress', (r) => r.aclIngressEntries, (r) => r.aclIngressEntriesMax],
    ['acl_egress', (r) => r.aclEgressEntries, (r) => r.aclEgressEntriesMax],
  ];
  for (const [n, used, max] of pairs) {
    const u = c.gauge(`bcm_${n}_entries`, used);
    const m = c.gauge(`bcm_${n}_entries_max`, max);
    c.derived(`bcm_${n}_utilization`, (v) => pct(v[u], v[m]));
  }
  c.gauge('bcm_ipv4_neighbors', (r) => r.ipv4Neighbors);
  c.gauge('bcm_ipv6_neighbors', (r) => r.ipv6Neighbors);
  c.gauge('bcm_ipv4_routes', (r) => r.ipv4Routes);
  c.gauge('bcm_ipv6_routes', (r) => r.ipv6Routes);
});

// ---------------------------------------------------------------------------------------------

/** Converters by record tag, for physical data sources ([0]) and virtual entities ([1]). */
const converters: [Map<number, Converter>, Map<number, Converter>] = [new Map(), new Map()];
for (const [tag, { kind, build }] of builders) {
  for (const virtual of [false, true]) {
    const c = new Converter(tag, kind, virtual);
    build(c, virtual ? 'vir_' : '');
    converters[virtual ? 1 : 0].set(tag, c);
  }
}

export function converterFor(tag: number, virtual: boolean): Converter | undefined {
  return converters[virtual ? 1 : 0].get(tag);
}

/** Where an exported name may come from: (record tag, field index), possibly several records. */
export type NameIndex = Map<string, { tag: number; index: number }[]>;

function buildIndex(virtual: boolean): NameIndex {
  const m: NameIndex = new Map();
  // On a virtual entity the virt_* structures are the authority for the vir_* names they share
  // with the prefixed host structures (vir_cpu_utilization, vir_mem_total...): list them first.
  const list = [...converters[virtual ? 1 : 0].values()].sort((a, b) => Number(b.kind.startsWith('virt_')) - Number(a.kind.startsWith('virt_')));
  for (const c of list) {
    for (const e of c.exported) {
      let l = m.get(e.name);
      if (!l) m.set(e.name, (l = []));
      l.push({ tag: c.tag, index: e.index });
    }
  }
  return m;
}

export const NAME_INDEX: [NameIndex, NameIndex] = [buildIndex(false), buildIndex(true)];

/** Every metric name a counter record can produce (both families). */
export function allCounterMetricNames(): string[] {
  return [...new Set([...NAME_INDEX[0].keys(), ...NAME_INDEX[1].keys()])].sort();
}

/** For docs and tests: every converter and its fields. */
export function describeConverters(): { kind: string; tag: number; virtual: boolean; fields: { name: string; kind: FieldKind; hidden: boolean }[] }[] {
  const out = [];
  for (const fam of converters) {
    for (const c of fam.values()) {
      out.push({ kind: c.kind, tag: c.tag, virtual: c.virtual, fields: c.fields.map((f) => ({ name: f.name, kind: f.kind, hidden: f.hidden })) });
    }
  }
  return out;
}
