// `sflowscope decode FILE [--format sflowtool-json|json|ndjson] [--stats]`

import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { CaptureFormatError, openCaptureFile } from '../ingest/pcap.js';
import { decodeDatagram } from '../sflow/decode.js';
import { formatSflowtool } from '../sflow/format-sflowtool.js';
import { decodeResultToJson } from '../sflow/format-json.js';
import { DecodeStats } from '../sflow/stats.js';

const FORMATS = ['sflowtool-json', 'json', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];

const HELP = `usage: sflowscope decode FILE [--format sflowtool-json|json|ndjson] [--stats]

Reads a pcap or pcapng capture (sFlow over UDP, any port, IPv4 or IPv6) and prints every sFlow
datagram.

  --format sflowtool-json   what 'sflowtool -r FILE -J' prints (UTC times)
  --format json             a JSON array of datagrams in sflowscope's schema (docs/decode-json.md)
  --format ndjson           the same schema, one datagram per line (default)
  --stats                   print a census instead: datagrams, samples by type, records by
                            enterprise:format, errors by reason, unknown structures
  --stats-json              the census as JSON
  -h, --help                this text
`;

/**
 * Buffered output that respects the reader's pace (decode output can be hundreds of MB, and a
 * pipe to a slow reader fills): chunks of about 1 MB, waiting for 'drain' when stdout is full.
 */
class Out {
  private chunks: string[] = [];
  private size = 0;
  private closed = false;

  constructor() {
    // A closed pipe (`sflowscope decode x | head`) is the reader's choice, not an error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      this.closed = true;
    });
  }

  async write(s: string): Promise<void> {
    this.chunks.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0 || this.closed) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  }
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'ndjson' },
        stats: { type: 'boolean', default: false },
        'stats-json': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`sflowscope decode: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = args.values.format as Format;
  if (!FORMATS.includes(format)) {
    process.stderr.write(`sflowscope decode: unknown format '${format}' (use ${FORMATS.join(', ')})\n`);
    return 2;
  }
  if (args.positionals.length !== 1) {
    process.stderr.write(`sflowscope decode: expected one capture file\n${HELP}`);
    return 2;
  }
  const file = args.positionals[0]!;
  let reader;
  try {
    reader = await openCaptureFile(file);
  } catch (e) {
    const why = e instanceof CaptureFormatError ? e.message : (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    process.stderr.write(`sflowscope decode: ${file}: ${why}\n`);
    return 1;
  }

  const out = new Out();
  const wantStats = args.values.stats || args.values['stats-json'];
  const stats = new DecodeStats();
  let first = true;
  if (!wantStats && format === 'json') await out.write('[');
  for (const d of reader) {
    const result = decodeDatagram(d.payload);
    stats.add(result, d.payload.length);
    if (wantStats) continue;
    if (format === 'sflowtool-json') {
      const obj = formatSflowtool(d.payload, {
        size: d.payload.length,
        pcapTimestamp: { sec: Math.floor(d.timestampMicros / 1e6), usec: d.timestampMicros % 1e6 },
      });
      await out.write(JSON.stringify(obj, null, 1) + '\n');
    } else {
      const obj = {
        index: d.index,
        timestampMicros: d.timestampMicros,
        source: `${d.srcAddress}:${d.srcPort}`,
        size: d.payload.length,
        ...decodeResultToJson(result),
      };
      if (format === 'ndjson') await out.write(JSON.stringify(obj) + '\n');
      else {
        await out.write((first ? '\n' : ',\n') + JSON.stringify(obj, null, 2));
        first = false;
      }
    }
  }
  if (!wantStats && format === 'json') await out.write('\n]\n');
  if (args.values['stats-json']) await out.write(JSON.stringify({ file, capture: reader.summary, ...stats.toJSON() }, null, 2) + '\n');
  else if (wantStats) {
    const s = reader.summary;
    await out.write(`${file}: ${s.format}, ${s.packets} packets, ${s.datagrams} UDP datagrams\n`);
    await out.write(stats.toText() + '\n');
  }
  await out.flush();
  return 0;
}
