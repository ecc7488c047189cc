// The state file in `--data-dir` (docs/state.md): what users configured through the REST API —
// flow specs, groups, maps, thresholds — survives a restart.
//
// - Sections are registered by name (labels.ts PersistentSection); each gives a JSON snapshot.
//   A section registered after the file was read is loaded at registration, so the order in which
//   components start does not matter. Sections in the file that nobody registered are kept as
//   they were and written back (a build without some component does not erase its state).
// - Writes are debounced (`debounceMs` after the first change) and atomic: a temp file in the same
//   directory, fsync, rename over the state file, fsync of the directory. A crash leaves either
//   the old file or the new one, never a mix.
// - A file that cannot be used (not JSON, half-written, not ours, a future format version,
//   too large) is renamed aside (`state.json.corrupt-<time>`), reported (log + status), and the
//   server starts with empty state. A bad entry inside a good file is reported and skipped by its
//   section; the file as read is then copied aside (`state.json.rejected-<time>`) so nothing is lost.
//   Nothing here ever stops the server.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistentSection, StateStoreLike } from './labels.js';

export const STATE_FORMAT = 'sflowscope-state';
export const STATE_VERSION = 1;

export interface StateStoreConfig {
  /** Directory of the state file (`--data-dir`). */
  dir: string;
  /** File name inside `dir` (default `state.json`). */
  fileName: string;
  /** Delay between the first change and the write, ms (default 1,000). */
  debounceMs: number;
  /** Delay before retrying a failed write, ms (default 10,000). */
  retryMs: number;
  /** Larger files are not read (moved aside as corrupt), bytes (default 64 MiB). */
  maxFileBytes: number;
  /** false: never read nor write (in-memory only). */
  enabled: boolean;
}

export const DEFAULT_STATE_CONFIG: Omit<StateStoreConfig, 'dir'> = {
  fileName: 'state.json',
  debounceMs: 1_000,
  retryMs: 10_000,
  maxFileBytes: 64 * 1024 * 1024,
  enabled: true,
};

/** What the store needs of a logger (pino's signature). */
export interface StateLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: StateLogger = { info() {}, warn() {}, error() {} };

export type StateLoadStatus = 'not-loaded' | 'disabled' | 'missing' | 'loaded' | 'corrupt' | 'unreadable';

export interface SectionLoadReport {
  loaded: number;
  rejected: { key: string; reason: string }[];
  /** The section's load threw (the snapshot is kept in the backup copy). */
  error?: string;
}

export interface StateLoadReport {
  file: string;
  status: StateLoadStatus;
  /** Why the file could not be used. */
  error?: string;
  /** Where an unusable file was moved. */
  movedTo?: string;
  /** Where the file as read was copied because some entries were rejected. */
  backup?: string;
  /** `savedAt` of the file read. */
  savedAt?: string;
  sections: Record<string, SectionLoadReport>;
}

export interface StateStoreStats {
  writes: number;
  writeErrors: number;
  /** Wall-clock time of the last successful write (ms), or 0. */
  lastWriteAt: number;
  lastWriteError: string | null;
  /** Stale temp files removed at load. */
  tempFilesRemoved: number;
}

interface Envelope {
  format: string;
  version: number;
  savedAt: string;
  sections: Record<string, unknown>;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class StateStore implements StateStoreLike {
  readonly config: StateStoreConfig;
  private readonly logger: StateLogger;
  private readonly sections = new Map<string, PersistentSection>();
  /** Snapshots read from the file and not yet claimed by a registered section (written back as they are). */
  private readonly unclaimed = new Map<string, unknown>();
  private loadedText: string | null = null;
  /** Each section's last good snapshot (written again if its save() throws). */
  private readonly lastSaved = new Map<string, unknown>();
  private loadingSection = false;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private stopped = false;
  readonly report: StateLoadReport;
  readonly stats: StateStoreStats = { writes: 0, writeErrors: 0, lastWriteAt: 0, lastWriteError: null, tempFilesRemoved: 0 };

  constructor(config: Partial<StateStoreConfig> & { dir: string }, logger: StateLogger = silent) {
    this.config = { ...DEFAULT_STATE_CONFIG, ...config };
    this.logger = logger;
    this.report = { file: this.path, status: this.config.enabled ? 'not-loaded' : 'disabled', sections: {} };
  }

  /** Full path of the state file. */
  get path(): string {
    return join(this.config.dir, this.config.fileName);
  }

  /** Names of the registered sections. */
  get sectionNames(): string[] {
    return [...this.sections.keys()];
  }

  /** Whether a change waits to be written. */
  get pending(): boolean {
    return this.dirty || this.writing !== null;
  }

  /**
   * Read the state file (synchronously; once, at start) and load the sections registered so far;
   * later ones load when they register. Never throws: an unusable file is moved aside and reported.
   */
  load(): StateLoadReport {
    const r = this.report;
    if (!this.config.enabled) return r;
    this.removeStaleTempFiles();
    const file = this.path;
    let text: string;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOTFILE' });
      if (st.size > this.config.maxFileBytes) return this.moveAside('corrupt', `larger than ${this.config.maxFileBytes} bytes (${st.size})`);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        r.status = 'missing';
        this.logger.info({ file }, 'no state file: starting with empty state');
        return r;
      }
      return this.moveAside('unreadable', message(e));
    }
    let env: Envelope;
    try {
      env = parseEnvelope(text);
    } catch (e) {
      return this.moveAside('corrupt', message(e));
    }
    r.status = 'loaded';
    r.savedAt = env.savedAt;
    this.loadedText = text;
    for (const [name, snap] of Object.entries(env.sections)) this.unclaimed.set(name, snap);
    for (const s of this.sections.values()) this.apply(s);
    this.logger.info({ file, savedAt: env.savedAt, sections: Object.keys(env.sections) }, 'state loaded');
    return r;
  }

  private moveAside(status: 'corrupt' | 'unreadable', error: string): StateLoadReport {
    const r = this.report;
    const file = this.path;
    r.status = status;
    r.error = error;
    const to = `${file}.corrupt-${stamp()}`;
    try {
      renameSync(file, to);
      r.movedTo = to;
    } catch (e) {
      r.error = `${error}; could not move it aside: ${message(e)}`;
    }
    this.logger.error({ file, error: r.error, movedTo: r.movedTo }, 'state file unusable: moved aside, starting with empty state');
    return r;
  }

  private removeStaleTempFiles(): void {
    const prefix = `${this.config.fileName}.tmp-`;
    let names: string[];
    try {
      names = readdirSync(this.config.dir);
    } catch {
      return;
    }
    const cutoff = Date.now() - 60_000;
    for (const n of names) {
      if (!n.startsWith(prefix)) continue;
      const p = join(this.config.dir, n);
      try {
        // Leave young ones: another process sharing the directory may be writing.
        if (statSync(p).mtimeMs > cutoff) continue;
        unlinkSync(p);
        this.stats.tempFilesRemoved++;
      } catch {
        // gone already
      }
    }
    if (this.stats.tempFilesRemoved > 0) this.logger.warn({ dir: this.config.dir, removed: this.stats.tempFilesRemoved }, 'removed temp files of an interrupted state write');
  }

  /** StateStoreLike: add a section; it is loaded now if the file held a snapshot for it. */
  register(section: PersistentSection): void {
    if (this.sections.has(section.name)) throw new Error(`state section ${JSON.stringify(section.name)} registered twice`);
    this.sections.set(section.name, section);
    this.apply(section);
  }

  private apply(section: PersistentSection): void {
    if (!this.unclaimed.has(section.name)) return;
    const snap = this.unclaimed.get(section.name);
    this.unclaimed.delete(section.name);
    this.lastSaved.set(section.name, snap);
    const rep: SectionLoadReport = { loaded: 0, rejected: [] };
    this.loadingSection = true;
    try {
      const res = section.load(snap);
      rep.loaded = res.loaded;
      rep.rejected = res.rejected;
    } catch (e) {
      rep.error = message(e);
    } finally {
      this.loadingSection = false;
    }
    this.report.sections[section.name] = rep;
    if (rep.error !== undefined) this.logger.error({ section: section.name, error: rep.error }, 'state section could not be loaded');
    for (const x of rep.rejected.slice(0, 20)) this.logger.warn({ section: section.name, key: x.key, reason: x.reason }, 'state entry rejected');
    if (rep.rejected.length > 20) this.logger.warn({ section: section.name, more: rep.rejected.length - 20 }, 'more state entries rejected');
    if ((rep.error !== undefined || rep.rejected.length > 0) && this.report.backup === undefined && this.loadedText !== null) {
      const to = `${this.path}.rejected-${stamp()}`;
      try {
        writeFileSync(to, this.loadedText);
        this.report.backup = to;
        this.logger.warn({ backup: to }, 'state file as read copied aside (some entries were rejected)');
      } catch (e) {
        this.logger.error({ error: message(e) }, 'could not copy the state file aside');
      }
    }
  }

  /** StateStoreLike: a section changed; write the file after the debounce delay. */
  changed(_sectionName: string): void {
    if (!this.config.enabled || this.loadingSection || this.stopped) return;
    this.dirty = true;
    this.schedule(this.config.debounceMs);
  }

  private schedule(ms: number): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch(() => {});
    }, ms);
    this.timer.unref();
  }

  /** The document the file would hold now. */
  snapshot(): Envelope {
    const sections: Record<string, unknown> = {};
    for (const [name, snap] of this.unclaimed) sections[name] = snap;
    for (const [name, s] of this.sections) {
      try {
        // Through JSON now, so a value JSON cannot hold fails here, not in the middle of the file.
        const snap: unknown = JSON.parse(JSON.stringify(s.save()) ?? 'null');
        this.lastSaved.set(name, snap);
        sections[name] = snap;
      } catch (e) {
        this.logger.error({ section: name, error: message(e) }, 'state section could not be saved; writing its previous snapshot');
        if (this.lastSaved.has(name)) sections[name] = this.lastSaved.get(name);
      }
    }
    return { format: STATE_FORMAT, version: STATE_VERSION, savedAt: new Date().toISOString(), sections };
  }

  /** Write now if anything changed (and wait for a write in progress). Never rejects: a failed write is counted, logged and retried later. */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (;;) {
      if (this.writing !== null) {
        await this.writing;
        continue;
      }
      if (!this.dirty) return;
      this.dirty = false;
      let error: unknown = null;
      const text = `${JSON.stringify(this.snapshot(), null, 1)}\n`;
      const w = this.writeAtomic(text).catch((e: unknown) => {
        error = e;
      });
      this.writing = w;
      await w;
      this.writing = null;
      if (error === null) {
        this.stats.writes++;
        this.stats.lastWriteAt = Date.now();
        this.stats.lastWriteError = null;
        continue;
      }
      this.stats.writeErrors++;
      this.stats.lastWriteError = message(error);
      this.logger.error({ file: this.path, error: message(error) }, 'state file write failed; will retry');
      // Retry later, not in this loop: the disk may stay full for a while.
      this.dirty = true;
      if (!this.stopped) this.schedule(this.config.retryMs);
      return;
    }
  }

  private async writeAtomic(text: string): Promise<void> {
    const dir = this.config.dir;
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${this.config.fileName}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    // Make the rename itself durable.
    try {
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // not supported on every platform / file system
    }
  }

  /** Write what is pending and stop accepting changes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.flush();
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Figures for /analyzer/json and the status API. */
  status(): Record<string, number | string> {
    return {
      stateFile: this.path,
      stateLoadStatus: this.report.status,
      stateWrites: this.stats.writes,
      stateWriteErrors: this.stats.writeErrors,
    };
  }
}

/** Parse and check the file's envelope; throws with the reason. */
export function parseEnvelope(text: string): Envelope {
  if (text.trim() === '') throw new Error('empty file');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${message(e)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== STATE_FORMAT) throw new Error(`not a sflowscope state file (format ${JSON.stringify(d.format)?.slice(0, 40)})`);
  if (d.version !== STATE_VERSION) throw new Error(`unsupported state format version ${JSON.stringify(d.version)?.slice(0, 40)} (this build reads ${STATE_VERSION})`);
  if (typeof d.sections !== 'object' || d.sections === null || Array.isArray(d.sections)) throw new Error('no sections object');
  return { format: STATE_FORMAT, version: STATE_VERSION, savedAt: typeof d.savedAt === 'string' ? d.savedAt : '', sections: d.sections as Record<string, unknown> };
}
