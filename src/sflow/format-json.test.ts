import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listCaptures } from '../../test/oracle.js';
import { readCapture } from '../ingest/pcap.js';
import { decodeDatagram } from './decode.js';
import { decodeResultToJson, toJson, type JsonObject } from './format-json.js';
import type { Datagram } from './types.js';

/** Every value reachable from v, with its path. */
function* leaves(v: unknown, path = ''): Generator<[string, unknown]> {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) yield* leaves(x, `${path}.${k}`);
  } else yield [path, v];
}

describe('toJson', () => {
  it('turns every datagram of the corpus into plain JSON that survives a round trip', () => {
    let datagrams = 0;
    for (const capture of listCaptures()) {
      for (const d of readCapture(readFileSync(capture.path)).datagrams) {
        const result = decodeDatagram(d.payload);
        const json = decodeResultToJson(result);
        expect(JSON.parse(JSON.stringify(json))).toEqual(json);
        for (const [path, leaf] of leaves(json)) {
          if (!['string', 'number', 'boolean'].includes(typeof leaf) && leaf !== null) throw new Error(`${capture.name} ${path}: ${typeof leaf}`);
          if (typeof leaf === 'number' && !Number.isFinite(leaf)) throw new Error(`${capture.name} ${path}: ${leaf}`);
        }
        datagrams++;
      }
    }
    expect(datagrams).toBeGreaterThan(3000);
  });

  it('writes 64-bit counters as decimal strings, bytes as hex, tags with their e:f name', () => {
    const datagram: Datagram = {
      version: 5,
      agentAddress: '2001:db8::1',
      agentAddressType: 2,
      subAgentId: 100000,
      sequence: 7,
      uptime: 1234,
      sampleCount: 3,
      samples: [
        {
          kind: 'counter_sample',
          tag: 4,
          sequence: 1,
          sourceIdClass: 0,
          sourceIdIndex: 2,
          records: [
            { kind: 'host_memory', tag: 2004, memTotal: 18446744073709551615n, memFree: 1n, memShared: 0n, memBuffers: 0n, memCached: 0n, swapTotal: 0n, swapFree: 0n, pageIn: 1, pageOut: 2, swapIn: 3, swapOut: 4 },
            { kind: 'unknown', tag: (4413 << 12) | 2, body: Uint8Array.of(0xde, 0xad) },
          ],
        },
        {
          kind: 'rtmetric',
          tag: (4300 << 12) | 1002,
          datasource: 'app',
          metrics: [
            { name: 'load', type: 5, value: Number.NaN },
            { name: 'bytes', type: 2, value: 5n },
          ],
        },
        { kind: 'unknown_sample', tag: 99, body: new Uint8Array(0) },
      ],
      trailing: Uint8Array.of(1, 2),
    };
    const before = structuredClone(datagram);
    const json = toJson(datagram);
    expect(datagram).toEqual(before);
    expect(json).toEqual({
      version: 5,
      agentAddress: '2001:db8::1',
      agentAddressType: 2,
      subAgentId: 100000,
      sequence: 7,
      uptime: 1234,
      sampleCount: 3,
      samples: [
        {
          kind: 'counter_sample',
          tag: 4,
          tagName: '0:4',
          sequence: 1,
          sourceIdClass: 0,
          sourceIdIndex: 2,
          records: [
            { kind: 'host_memory', tag: 2004, tagName: '0:2004', memTotal: '18446744073709551615', memFree: '1', memShared: '0', memBuffers: '0', memCached: '0', swapTotal: '0', swapFree: '0', pageIn: 1, pageOut: 2, swapIn: 3, swapOut: 4 },
            { kind: 'unknown', tag: (4413 << 12) | 2, tagName: '4413:2', body: 'dead' },
          ],
        },
        {
          kind: 'rtmetric',
          tag: (4300 << 12) | 1002,
          tagName: '4300:1002',
          datasource: 'app',
          metrics: [
            { name: 'load', type: 5, typeName: 'float', value: 'NaN' },
            { name: 'bytes', type: 2, typeName: 'counter64', value: '5' },
          ],
        },
        { kind: 'unknown_sample', tag: 99, tagName: '0:99', body: '' },
      ],
      trailing: '0102',
    } satisfies JsonObject);
    // Field order follows the decoder's, with tagName right after tag.
    expect(Object.keys((json['samples'] as JsonObject[])[0]!)).toEqual(['kind', 'tag', 'tagName', 'sequence', 'sourceIdClass', 'sourceIdIndex', 'records']);
  });

  it('reports a failed decode as { datagram, error }', () => {
    const json = decodeResultToJson(decodeDatagram(Uint8Array.of(0, 0, 0, 9)));
    expect(json).toEqual({ datagram: null, error: { reason: 'bad_version', offset: 0, detail: expect.any(String) } });
  });
});
