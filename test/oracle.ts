/**
 * Shared test access to the read-only corpus in `../shared/testdata` (see its README.md): the
 * captures and the independent decoders' outputs ("oracles") we hold ourselves to.
 *
 * - {@link listCaptures} discovers the captures by listing their folders, so a capture added
 *   there is picked up by every test that iterates it.
 * - {@link readSflowtoolOracle} reads `oracle/<capture>.sflowtool.json`: the output of
 *   `sflowtool -r <capture> -J`, a stream of concatenated pretty-printed JSON objects, one per
 *   UDP datagram in the capture, every value a string. Where sflowtool gave up on a datagram
 *   (not sFlow, bad version, broken sample) the corpus maintainers closed the object and added
 *   `"_partial": "true"`; only the fields it holds are trustworthy.
 *
 * Test-only module: synchronous fs, throws on missing or damaged files (a broken corpus must fail
 * loudly rather than let a test pass on nothing).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/testdata/` relative to the project root, as a file URL (ends with a slash). */
export const TESTDATA_URL = new URL('../../shared/testdata/', import.meta.url);
/** `../shared/testdata` relative to the project root, as an absolute path. */
export const TESTDATA_DIR = fileURLToPath(TESTDATA_URL);
/** Folder holding one sub-folder per capture source (`hsflowd`, `public`). */
export const CAPTURES_DIR = join(TESTDATA_DIR, 'captures');
/** Folder of the oracle files, named `<capture file name>.<oracle>`. */
export const ORACLE_DIR = join(TESTDATA_DIR, 'oracle');

/** Capture source folders under {@link CAPTURES_DIR}, in listing order. */
export const CAPTURE_GROUPS = ['hsflowd', 'public'] as const;
export type CaptureGroup = (typeof CAPTURE_GROUPS)[number];

/** A capture file of the corpus. */
export interface CaptureInfo {
  /** File name, e.g. `hsflowd-flows.pcap`; also the stem of its oracle files. */
  name: string;
  /** Absolute path. */
  path: string;
  /** Source folder. */
  group: CaptureGroup;
}

const CAPTURE_FILE = /\.(pcap|pcapng|cap)$/i;

/**
 * Every capture of the corpus (`captures/hsflowd/*` then `captures/public/*`, each sorted by
 * name). Only files ending in .pcap, .pcapng or .cap are captures (PROVENANCE.md is not).
 */
export function listCaptures(): CaptureInfo[] {
  const out: CaptureInfo[] = [];
  for (const group of CAPTURE_GROUPS) {
    const dir = join(CAPTURES_DIR, group);
    for (const name of readdirSync(dir).sort()) {
      if (CAPTURE_FILE.test(name)) out.push({ name, path: join(dir, name), group });
    }
  }
  return out;
}

/** Path of an oracle file of a capture: `oracle/<capture name>.<kind>`. */
export function oraclePath(captureFileName: string, kind = 'sflowtool.json'): string {
  return join(ORACLE_DIR, `${basename(captureFileName)}.${kind}`);
}

/** Whether the capture has that oracle file. */
export function hasOracle(captureFileName: string, kind = 'sflowtool.json'): boolean {
  return existsSync(oraclePath(captureFileName, kind));
}

/** sflowtool's JSON: objects, arrays and strings (it prints every number as a string). */
export type SflowtoolValue = string | SflowtoolObject | SflowtoolValue[];
export interface SflowtoolObject {
  [field: string]: SflowtoolValue;
}

/** The top-level fields of one sflowtool datagram that tests commonly read. */
export interface SflowtoolDatagram extends SflowtoolObject {
  /** UDP payload length. */
  datagramSize: string;
  /** Capture time, seconds: `YYYY-MM-DDTHH:MM:SS+0000` (UTC). */
  pcapTimestamp: string;
  /** Capture time, microseconds within the second. */
  pcapTimestamp_uS: string;
}

/**
 * The datagrams sflowtool printed for a capture (file name or path; only its base name is used),
 * in capture order. Throws if the oracle is missing or is not a clean JSON-object stream.
 */
export function readSflowtoolOracle(captureFileName: string): SflowtoolDatagram[] {
  const path = oraclePath(captureFileName, 'sflowtool.json');
  const objects = parseConcatenatedJson(readFileSync(path, 'utf8'), path);
  for (const [i, o] of objects.entries()) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      throw new Error(`${path}: value #${i + 1} is not a JSON object`);
    }
  }
  return objects as SflowtoolDatagram[];
}

/** Whether sflowtool gave up part-way through this datagram (`"_partial": "true"`). */
export function isPartial(datagram: SflowtoolObject): boolean {
  return datagram['_partial'] === 'true';
}

/** A datagram's `pcapTimestamp` + `pcapTimestamp_uS` as microseconds since the Unix epoch. */
export function sflowtoolPcapTimestampMicros(datagram: SflowtoolDatagram): number {
  // "2026-11-27T16:48:41+0000": Date.parse wants the offset as +00:00.
  const iso = datagram.pcapTimestamp.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`unparseable pcapTimestamp ${datagram.pcapTimestamp}`);
  return ms * 1000 + Number(datagram.pcapTimestamp_uS);
}

/**
 * Split a stream of concatenated JSON values (objects or arrays, optionally separated by
 * whitespace) and parse each. Values are delimited by counting brackets outside strings
 * (honouring `\"` and `\\` escapes), so brackets inside string values do not confuse it; each
 * value is then parsed with JSON.parse. Throws, naming `source` and the offset, on text between
 * values, on an unterminated value, or on a value JSON.parse rejects.
 */
export function parseConcatenatedJson(text: string, source = '<text>'): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c /* \ */) escaped = true;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (depth === 0) {
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        start = i;
        depth = 1;
      } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) {
        throw new Error(`${source}: unexpected ${JSON.stringify(text[i])} between JSON values at offset ${i}`);
      }
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (--depth === 0) {
        const slice = text.slice(start, i + 1);
        try {
          out.push(JSON.parse(slice));
        } catch (e) {
          throw new Error(`${source}: JSON value at offset ${start} does not parse: ${(e as Error).message}`);
        }
      }
    }
  }
  if (depth !== 0 || inString) {
    throw new Error(`${source}: unterminated JSON value starting at offset ${start}`);
  }
  return out;
}
