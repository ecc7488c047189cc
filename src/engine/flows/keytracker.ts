// /flowkeys/json: which attribute names recent samples had, with the ms since each was seen.
// Samples are grouped into patterns — the packet's `stack` plus a bit mask of the records and
// sample fields present — and each pattern's attribute names are computed once, when it first
// appears. Per sample this costs two Map lookups and a store; the names a pattern stands for
// are the keys its layers can have (a layer key the packet happens to lack, such as dnsqname of
// a truncated DNS header, is still listed).

import { LAYER_KEYS, TOKENS } from '../../packet/index.js';
import type { SampleView } from './sample.js';

const B_DISCARD = 1;
const B_HEADER = 2;
const B_SWITCH = 4;
const B_ROUTER = 8;
const B_GATEWAY = 16;
const B_HTTP = 32;
const B_APP = 64;
const B_ENTITIES = 128;
const B_FUNCTION = 256;
const B_LINUX = 512;
const B_TRAP = 1024;
const B_QUEUE = 2048;
const B_DEPTH = 4096;
const B_TRANSIT = 8192;
const B_DURATION = 16384;
const B_DIRECTION = 32768;

interface Pattern {
  names: readonly string[];
  lastSeen: number;
}

/** Most patterns remembered (hostile input cannot grow it beyond). */
const MAX_PATTERNS = 4096;

const TOKEN_INDEX = new Map<string, number>(TOKENS.map((t, i) => [t, i]));

function patternNames(stack: string, mask: number): string[] {
  const names = new Set<string>(['agent', 'ds', 'inputifindex', 'outputifindex', 'frames', 'bytes', 'samplingrate']);
  if ((mask & B_DISCARD) !== 0) names.add('reason');
  if ((mask & B_DIRECTION) !== 0) names.add('direction');
  if ((mask & B_HEADER) !== 0) names.add('stripped');
  if ((mask & B_SWITCH) !== 0) for (const n of ['vlansource', 'vlandestination', 'prioritysource', 'prioritydestination']) names.add(n);
  if ((mask & B_ROUTER) !== 0) for (const n of ['ipnexthoprouter', 'ipsourcemaskbits', 'ipdestinationmaskbits']) names.add(n);
  if ((mask & B_GATEWAY) !== 0) for (const n of ['bgpnexthop', 'bgpas', 'bgpsourceas', 'bgpsourcepeeras', 'bgpdestinationas', 'bgpdestinationaspath', 'bgpcommunities', 'bgplocalpref']) names.add(n);
  if ((mask & B_HTTP) !== 0) for (const n of ['httpmethod', 'httpurl', 'httpprotocol', 'httpstatus', 'httphost', 'httpreferer', 'httpuseragent', 'httpmimetype', 'requests']) names.add(n);
  if ((mask & B_APP) !== 0) for (const n of ['appname', 'appoperation', 'appstatus', 'requests']) names.add(n);
  if ((mask & B_DURATION) !== 0) names.add('duration');
  if ((mask & B_ENTITIES) !== 0) for (const n of ['entitysource', 'entitydestination']) names.add(n);
  if ((mask & B_FUNCTION) !== 0) for (const n of ['function', 'function_full']) names.add(n);
  if ((mask & B_LINUX) !== 0) names.add('linux_drop_reason');
  if ((mask & B_TRAP) !== 0) for (const n of ['trapgroup', 'trapname']) names.add(n);
  if ((mask & B_QUEUE) !== 0) names.add('queueindex');
  if ((mask & B_DEPTH) !== 0) names.add('queuedepth');
  if ((mask & B_TRANSIT) !== 0) names.add('transitdelay');
  if (stack !== '') {
    names.add('stack');
    const counts = new Map<number, number>();
    for (const tok of stack.split('.')) {
      const t = TOKEN_INDEX.get(tok);
      if (t === undefined) continue;
      const c = counts.get(t) ?? 0;
      counts.set(t, c + 1);
      for (const k of LAYER_KEYS[t] ?? []) names.add(c === 0 ? k : `${k}.${c}`);
      if (tok === 'tcp' || tok === 'icmp' || tok === 'icmp6' || tok === 'dns' || tok === 'http') names.add('requests');
    }
  }
  return [...names];
}

export class KeyTracker {
  private readonly patterns = new Map<number, Map<string, Pattern>>();
  private count = 0;
  /** The pattern of the previous sample (consecutive samples often share one). */
  private last: Pattern | null = null;
  private lastMask = -1;
  private lastStack = '';

  /** Note the attribute names of a sample seen at `now`. */
  note(s: SampleView, now: number): void {
    let mask = s.discard ? B_DISCARD : 0;
    if (s.header !== null) mask |= B_HEADER;
    if (s.sw !== null) mask |= B_SWITCH;
    if (s.router !== null) mask |= B_ROUTER;
    if (s.gateway !== null) mask |= B_GATEWAY;
    if (s.http !== null) mask |= B_HTTP;
    if (s.app !== null) mask |= B_APP;
    if (s.durationUs() >= 0) mask |= B_DURATION;
    if (s.entities !== null) mask |= B_ENTITIES;
    if (s.fn !== null) mask |= B_FUNCTION;
    if (s.linuxReason !== null) mask |= B_LINUX;
    if (s.trapName !== null) mask |= B_TRAP;
    if (s.egressQueue >= 0) mask |= B_QUEUE;
    if (s.queueDepth >= 0) mask |= B_DEPTH;
    if (s.transitDelay >= 0) mask |= B_TRANSIT;
    if (s.ds.sourceClass === 0 && ((s.outputFormat === 0 && s.output === s.ds.sourceIndex) || (s.inputFormat === 0 && s.input === s.ds.sourceIndex))) mask |= B_DIRECTION;
    const stack = s.packet().stack ?? '';
    if (mask === this.lastMask && stack === this.lastStack && this.last !== null) {
      this.last.lastSeen = now;
      return;
    }
    let byStack = this.patterns.get(mask);
    if (byStack === undefined) {
      byStack = new Map();
      this.patterns.set(mask, byStack);
    }
    let p = byStack.get(stack);
    if (p === undefined) {
      if (this.count >= MAX_PATTERNS) return;
      this.count++;
      p = { names: patternNames(stack, mask), lastSeen: now };
      byStack.set(stack, p);
    }
    p.lastSeen = now;
    this.last = p;
    this.lastMask = mask;
    this.lastStack = stack;
  }

  /** `{name: ms since seen}` for names seen within `maxAgeMs`, sorted by name. */
  snapshot(now: number, maxAgeMs: number): Record<string, number> {
    const best = new Map<string, number>();
    for (const byStack of this.patterns.values()) {
      for (const p of byStack.values()) {
        const age = Math.max(0, Math.round(now - p.lastSeen));
        if (age > maxAgeMs) continue;
        for (const n of p.names) {
          const cur = best.get(n);
          if (cur === undefined || age < cur) best.set(n, age);
        }
      }
    }
    return Object.fromEntries([...best].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }

  /** Forget everything (tests). */
  clear(): void {
    this.patterns.clear();
    this.count = 0;
    this.last = null;
  }
}
