import { mkdir, open, readdir, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StateError } from './errors.js';
import { planBatch, validateKey, validatePrefix, type PlannedWrite } from './keys.js';
import { digest, ioError, listEntryFiles, syncDir, writeFileDurably } from './file-io.js';
import { FileStateStore } from './file-store.js';
import { checkRecord, checksummedText, parseChecksummed, recordText, type StoredRecord } from './records.js';
import type { BatchWrite, Entry, StateStore } from './store.js';

/** Options of `LogStateStore.open`. */
export interface LogStateStoreOptions {
  /** Rewrite the snapshot once the logs hold this many bytes (and more than the snapshot). Defaults to 4 MiB. */
  compactBytes?: number;
}

const DEFAULTS: Required<LogStateStoreOptions> = { compactBytes: 4 * 1024 * 1024 };
const SNAPSHOT = 'state.snapshot';
const FORMAT = 1;
const LOG = /^state\.(\d+)\.log$/;
const SNAPSHOT_TMP = /^\.snapshot\.\d+\.tmp$/;
const logName = (generation: number): string => `state.${generation}.log`;

interface Stored {
  text: string;
  version: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * A StateStore in a directory as one snapshot and an append-only log — read back in bulk
 * at open (one file or two, not a file per key), written with group commit:
 *
 * - `state.snapshot`: a header line `{"format":1,"generation":g,"sha256":...}` and every
 *   entry as one JSON array (the checksum covers that body).
 * - `state.<g>.log`: one line per commit, `<sha256 of payload> <payload>`, the payload a JSON
 *   array of the writes it made durable. Logs of generation ≥ the snapshot's are replayed
 *   in order at open; a new log is started at every open.
 *
 * Group commit: the writes made in one turn of the event loop (puts, deletes, whole
 * batches, from any number of callers) go into one line and one fsync; each caller's
 * promise resolves after that fsync. A batch is always within one line, and a line is
 * applied whole or not at all: a torn last line (a crash during its write: none of its
 * writes had resolved) is ignored at open, any other damage is STATE_CORRUPT naming the file.
 * When the logs outgrow the snapshot, a new snapshot is written (temporary file, fsync,
 * rename, fsync of the directory) and the older logs are deleted.
 *
 * A failed write (disk full, I/O error) leaves the store refusing every later call with
 * that STATE_IO error: what it holds in memory may be ahead of the disk; reopen it.
 *
 * Reads are served from memory (everything is loaded at open). One process owns a
 * directory. A directory in the per-key layout of `FileStateStore` is migrated at open:
 * its files are read (a damaged one is STATE_CORRUPT, nothing migrated), written into a
 * snapshot, then removed.
 */
export class LogStateStore implements StateStore {
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private failure: StateError | undefined;
  private closed = false;

  private constructor(
    readonly directory: string,
    private readonly data: Map<string, Stored>,
    private log: FileHandle,
    private generation: number,
    /** Bytes of the logs since the snapshot. */
    private logBytes: number,
    private snapshotBytes: number,
    private readonly options: Required<LogStateStoreOptions>,
  ) {}

  /** Opens (creating or migrating if needed) a store in `directory`. */
  static async open(directory: string, options: LogStateStoreOptions = {}): Promise<LogStateStore> {
    const o = { ...DEFAULTS, ...options };
    if (!Number.isInteger(o.compactBytes) || o.compactBytes <= 0) throw new StateError('STATE_INVALID_VALUE', `compactBytes must be a positive integer (got ${String(o.compactBytes)})`);
    try {
      await mkdir(directory, { recursive: true });
    } catch (e) {
      throw ioError(e, 'cannot create state directory', directory);
    }
    const names = await listDir(directory);
    const snapshot = names.includes(SNAPSHOT) ? await readSnapshot(join(directory, SNAPSHOT)) : undefined;
    const logs = names
      .map((n) => LOG.exec(n))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const data = snapshot?.data ?? new Map<string, Stored>();
    let generation = snapshot?.generation ?? 0;
    let snapshotBytes = snapshot?.bytes ?? 0;
    let logBytes = 0;
    for (const g of logs) {
      const path = join(directory, logName(g));
      const bytes = g < generation ? 0 : await replayLog(path, data);
      if (bytes === 0) await rm(path, { force: true }); // compacted already, or empty
      logBytes += bytes;
    }
    for (const n of names) if (SNAPSHOT_TMP.test(n)) await rm(join(directory, n), { force: true }); // a crash during a snapshot's write
    const legacy = await listEntryFiles(directory);
    if (!snapshot && logs.length === 0 && legacy.length > 0) {
      // Migration from the file-per-key layout (batches left half-done are finished by
      // FileStateStore.open; a damaged file is STATE_CORRUPT): the snapshot first, then the
      // old files go. A crash in between leaves the snapshot, and the old files go next time.
      const old = await FileStateStore.open(directory);
      for (const e of await old.list('')) data.set(e.key, { text: JSON.stringify(e.value), version: e.version });
      await old.close();
      generation = 1;
      snapshotBytes = await writeSnapshot(directory, generation, data);
    }
    if (legacy.length > 0) await removeFiles(directory, legacy.map((f) => f.path));
    generation = Math.max(generation, logs.at(-1) ?? 0) + 1;
    let log: FileHandle;
    try {
      log = await open(join(directory, logName(generation)), 'a');
      await syncDir(directory);
    } catch (e) {
      throw ioError(e, 'cannot create state log', join(directory, logName(generation)));
    }
    return new LogStateStore(directory, data, log, generation, logBytes, snapshotBytes, o);
  }

  private usable(): void {
    if (this.closed) throw new StateError('STATE_CLOSED', `state store ${this.directory} is closed`);
    if (this.failure) throw this.failure;
  }

  async get<T>(key: string): Promise<Entry<T> | undefined> {
    this.usable();
    const e = this.data.get(validateKey(key));
    return e ? { key, value: JSON.parse(e.text) as T, version: e.version } : undefined;
  }

  async list<T>(prefix: string): Promise<Entry<T>[]> {
    this.usable();
    validatePrefix(prefix);
    const out: Entry<T>[] = [];
    for (const [key, e] of this.data) if (key.startsWith(prefix)) out.push({ key, value: JSON.parse(e.text) as T, version: e.version });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async put<T>(key: string, value: T, options: { expectedVersion?: number } = {}): Promise<number> {
    const [w] = await this.write([{ type: 'put', key, value, ...options }]);
    return w?.version ?? 0;
  }

  async delete(key: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    const [w] = await this.write([{ type: 'delete', key, ...options }]);
    return w?.existed ?? false;
  }

  async batch(writes: readonly BatchWrite[]): Promise<number[]> {
    return (await this.write(writes)).map((w) => w.version);
  }

  /** Checks, applies in memory (later calls see it) and queues for the next commit. */
  private async write(writes: readonly BatchWrite[]): Promise<PlannedWrite[]> {
    this.usable();
    const planned = planBatch(writes, (k) => this.data.get(k)?.version ?? 0);
    if (planned.length === 0) return planned;
    for (const w of planned) {
      if (w.text === undefined) this.data.delete(w.key);
      else this.data.set(w.key, { text: w.text, version: w.version });
    }
    await new Promise<void>((resolve, reject) => {
      for (const w of planned) this.pending.push(recordText(w.key, w.version, w.text));
      this.waiters.push({ resolve, reject });
      this.flushing ??= this.flush();
    });
    return planned;
  }

  /** Commits what is queued, one line and one fsync per round, until nothing is left. */
  private async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r)); // let the writes of this turn join
    try {
      while (this.waiters.length > 0) {
        const records = this.pending;
        const waiters = this.waiters;
        this.pending = [];
        this.waiters = [];
        try {
          if (this.failure) throw this.failure;
          const payload = `[${records.join(',')}]`;
          const line = `${digest(payload)} ${payload}\n`;
          await this.log.write(line);
          await this.log.datasync();
          this.logBytes += Buffer.byteLength(line);
          for (const w of waiters) w.resolve();
        } catch (e) {
          this.failure ??= e instanceof StateError ? e : ioError(e, 'cannot append to state log', join(this.directory, logName(this.generation)));
          for (const w of waiters) w.reject(this.failure);
          continue;
        }
        if (this.logBytes > Math.max(this.options.compactBytes, this.snapshotBytes)) {
          await this.compact().catch((e: unknown) => {
            this.failure ??= e instanceof StateError ? e : ioError(e, 'cannot compact state', this.directory);
          });
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * A new log, then a snapshot of everything (including writes queued but not yet
   * committed: replaying them again from the new log is harmless), then the old logs go.
   * A crash at any point leaves a snapshot and logs that replay to the same state.
   */
  private async compact(): Promise<void> {
    const next = this.generation + 1;
    const log = await open(join(this.directory, logName(next)), 'a');
    await syncDir(this.directory);
    const old = this.log;
    this.log = log;
    this.generation = next;
    await old.close();
    this.snapshotBytes = await writeSnapshot(this.directory, next, this.data);
    this.logBytes = 0;
    for (const n of await listDir(this.directory)) {
      const m = LOG.exec(n);
      if (m && Number(m[1]) < next) await rm(join(this.directory, n), { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.log.close().catch(() => undefined);
  }
}

function applyRecord(data: Map<string, Stored>, record: StoredRecord, path: string): void {
  const r = checkRecord(record, path);
  if (r.v === 0) data.delete(r.k);
  else data.set(r.k, { text: JSON.stringify(r.d), version: r.v });
}

/** Removes the old layout's files, then the directories they leave empty. */
async function removeFiles(directory: string, paths: readonly string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const p of paths) {
    await rm(p, { force: true });
    for (let d = dirname(p); d.length > directory.length; d = dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);
  await syncDir(directory);
}

async function listDir(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (e) {
    throw ioError(e, 'cannot list state directory', directory);
  }
}

async function readText(path: string): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw ioError(e, 'cannot read state file', path);
  }
}

/** Replays a log into `data`; returns its size. Only its last line may be torn (then ignored). */
async function replayLog(path: string, data: Map<string, Stored>): Promise<number> {
  const text = await readText(path);
  const lines = text.split('\n');
  const complete = lines.length - 1; // the part after the last newline is torn (or empty)
  for (let i = 0; i < complete; i++) {
    const records = parseLine(lines[i] ?? '');
    if (records === undefined) {
      if (i === complete - 1 && lines[complete] === '') break; // the last line, torn: never acknowledged
      throw new StateError('STATE_CORRUPT', `state log ${path} line ${i + 1} is damaged (checksum or JSON)`, path);
    }
    for (const r of records) applyRecord(data, r, path);
  }
  return Buffer.byteLength(text);
}

function parseLine(line: string): StoredRecord[] | undefined {
  const space = line.indexOf(' ');
  if (space !== 64) return undefined;
  const payload = line.slice(space + 1);
  if (digest(payload) !== line.slice(0, space)) return undefined;
  try {
    const records = JSON.parse(payload) as unknown;
    return Array.isArray(records) ? (records as StoredRecord[]) : undefined;
  } catch {
    return undefined;
  }
}

async function readSnapshot(path: string): Promise<{ generation: number; data: Map<string, Stored>; bytes: number }> {
  const text = await readText(path);
  const { header, records } = parseChecksummed(text, path);
  if (header['format'] !== FORMAT || !Number.isInteger(header['generation'])) {
    throw new StateError('STATE_CORRUPT', `state snapshot ${path} is not a Meso state snapshot (format ${FORMAT})`, path);
  }
  const data = new Map<string, Stored>();
  for (const r of records) applyRecord(data, r, path);
  return { generation: header['generation'] as number, data, bytes: Buffer.byteLength(text) };
}

/** Writes every entry as the snapshot of `generation`, crash-safely; returns its size. */
async function writeSnapshot(directory: string, generation: number, data: Map<string, Stored>): Promise<number> {
  const records: string[] = [];
  for (const [key, e] of data) records.push(recordText(key, e.version, e.text));
  const text = checksummedText({ format: FORMAT, generation }, records);
  await writeFileDurably(join(directory, SNAPSHOT), text, `.snapshot.${process.pid}.tmp`);
  return Buffer.byteLength(text);
}
