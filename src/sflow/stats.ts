// A census of decoded datagrams: what `sflowscope decode --stats` prints, and what a collector
// can count per datagram at the cost of a few map increments.

import { tagName } from './tags.js';
import type { DecodeResult } from './types.js';

export class DecodeStats {
  datagrams = 0;
  bytes = 0;
  /** Datagrams that decoded with no error. */
  clean = 0;
  readonly samplesByType = new Map<string, number>();
  readonly recordsByTag = new Map<string, number>();
  readonly errorsByReason = new Map<string, number>();
  /** Unknown samples and records by enterprise:format (malformed known records count as `<tag> malformed`). */
  readonly unknownByTag = new Map<string, number>();

  add(result: DecodeResult, size: number): void {
    this.datagrams++;
    this.bytes += size;
    if (result.error) bump(this.errorsByReason, result.error.reason);
    else this.clean++;
    const d = result.datagram;
    if (!d) return;
    for (const s of d.samples) {
      bump(this.samplesByType, `${tagName(s.tag)} ${s.kind}`);
      if (s.kind === 'unknown_sample') bump(this.unknownByTag, `sample ${tagName(s.tag)}`);
      if (!('records' in s)) continue;
      for (const r of s.records) {
        bump(this.recordsByTag, `${tagName(r.tag)} ${r.kind}`);
        if (r.kind === 'unknown') bump(this.unknownByTag, r.error ? `record ${tagName(r.tag)} malformed (${r.error})` : `record ${tagName(r.tag)}`);
      }
    }
  }

  toJSON(): object {
    return {
      datagrams: this.datagrams,
      bytes: this.bytes,
      clean: this.clean,
      samples: Object.fromEntries(sorted(this.samplesByType)),
      records: Object.fromEntries(sorted(this.recordsByTag)),
      errors: Object.fromEntries(sorted(this.errorsByReason)),
      unknown: Object.fromEntries(sorted(this.unknownByTag)),
    };
  }

  toText(): string {
    const out = [`datagrams ${this.datagrams} (${this.bytes} bytes), ${this.clean} without error`];
    const section = (title: string, m: Map<string, number>) => {
      out.push(`${title}:${m.size === 0 ? ' none' : ''}`);
      for (const [k, n] of sorted(m)) out.push(`  ${String(n).padStart(9)}  ${k}`);
    };
    section('samples by type', this.samplesByType);
    section('records by enterprise:format', this.recordsByTag);
    section('errors by reason', this.errorsByReason);
    section('unknown structures', this.unknownByTag);
    return out.join('\n');
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** By enterprise:format numerically, then by name. */
function sorted(m: Map<string, number>): [string, number][] {
  const key = (s: string) => {
    const t = /(\d+):(\d+)/.exec(s);
    return t ? Number(t[1]) * 4096 + Number(t[2]) : 0;
  };
  return [...m.entries()].sort((a, b) => key(a[0]) - key(b[0]) || a[0].localeCompare(b[0]));
}
