// Building sFlow datagrams for tests with the project's encoder.

import { encodeDatagram } from '../../src/sflow/encode.js';
import { counterRecordDefs } from '../../src/sflow/counter-records.js';
import type { CounterRecordOf } from '../../src/sflow/counter-records.js';
import type { CounterRecord, CounterSample, Sample } from '../../src/sflow/types.js';

type Kind = keyof typeof counterRecordDefs;

/** A counter record of `kind` with every field zero (strings empty) unless given. */
export function rec<K extends Kind>(kind: K, fields: Partial<Omit<CounterRecordOf<K>, 'kind' | 'tag'>> = {}): CounterRecord {
  const def = counterRecordDefs[kind];
  const out: Record<string, unknown> = { kind, tag: def.tag };
  for (const [name, type] of Object.entries(def.struct.fields) as [string, { kind: string }][]) {
    if (type.kind === 'u64') out[name] = 0n;
    else if (type.kind === 'string') out[name] = '';
    else if (type.kind.startsWith('fixed')) out[name] = new Uint8Array(Number(type.kind.slice(5)));
    else if (type.kind.startsWith('array')) out[name] = [];
    else if (type.kind.startsWith('optional')) out[name] = 0;
    else out[name] = 0;
  }
  Object.assign(out, fields);
  return out as unknown as CounterRecord;
}

export function counterSample(sourceIdClass: number, sourceIdIndex: number, sequence: number, records: CounterRecord[]): CounterSample {
  return { kind: 'counter_sample', tag: counterSampleTag, sequence, sourceIdClass, sourceIdIndex, records };
}
const counterSampleTag = 4;

export function datagram(agent: string, sequence: number, uptime: number, samples: Sample[], subAgentId = 0): Uint8Array {
  return encodeDatagram({
    version: 5,
    agentAddress: agent,
    agentAddressType: agent.includes(':') ? 2 : 1,
    subAgentId,
    sequence,
    uptime,
    samples,
  });
}

/** if_counters with the usual "up, full duplex, ethernet" fields. */
export function ifCounters(ifIndex: number, f: Partial<Omit<CounterRecordOf<'if_counters'>, 'kind' | 'tag'>>): CounterRecord {
  return rec('if_counters', { ifIndex, ifType: 6, ifSpeed: 1_000_000_000n, ifDirection: 1, ifStatus: 3, ...f });
}
