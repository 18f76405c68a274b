import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StateError } from './errors.js';
import { ENTRY_SUFFIX, envelopeText, ioError, listEntryFiles, readEntryFile, syncDir, writeFileDurably } from './file-io.js';
import { checksummedText, parseChecksummed, recordText, type StoredRecord } from './records.js';
import { checkVersion, planBatch, serialize, validateBatch, validateKey, validatePrefix } from './keys.js';
import type { BatchWrite, Entry, StateStore } from './store.js';

const JOURNAL = /^\.batch\.[^/]+\.journal$/;

/**
 * A StateStore in a directory: one JSON file per key (`<dir>/<key>.json`), each holding
 * the value, its version and a SHA-256 of the value.
 *
 * Crash safety: a write goes to a temporary file in the same directory, is fsynced,
 * renamed over the old file and the directory is fsynced, so a reader sees the old or the
 * new value, never a torn one. A file that fails to parse or whose checksum does not match
 * is reported as STATE_CORRUPT naming the file; nothing is silently dropped.
 * A batch is first written whole as a journal (`.batch.<n>.journal`, crash-safely as
 * above), then applied file by file, then the journal is removed; `open` finishes the
 * batches a crash left journaled, so a batch is never found half-applied.
 * Writes to one key are serialized within the process; one process owns a directory.
 */
export class FileStateStore implements StateStore {
  private readonly locks = new Map<string, Promise<unknown>>();
  private closed = false;
  private tmpCounter = 0;

  private constructor(readonly directory: string) {}

  /** Opens (creating if needed) a store in `directory`, finishing batches a crash interrupted. */
  static async open(directory: string): Promise<FileStateStore> {
    try {
      await mkdir(directory, { recursive: true });
    } catch (e) {
      throw ioError(e, 'cannot create state directory', directory);
    }
    const store = new FileStateStore(directory);
    await store.finishJournals();
    return store;
  }

  private pathOf(key: string): string {
    return join(this.directory, ...key.split('/')) + ENTRY_SUFFIX;
  }

  private tmpName(): string {
    return `.${this.tmpCounter++}.${process.pid}.tmp`;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StateError('STATE_CLOSED', `state store ${this.directory} is closed`);
  }

  /** Runs `fn` after every earlier write to `key` has finished. */
  private async serialized<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  /** Runs `fn` holding the locks of every key (taken in key order: no deadlock between batches). */
  private serializedAll<R>(keys: readonly string[], fn: () => Promise<R>): Promise<R> {
    const [first, ...rest] = [...new Set(keys)].sort();
    if (first === undefined) return fn();
    return this.serialized(first, () => this.serializedAll(rest, fn));
  }

  async get<T>(key: string): Promise<Entry<T> | undefined> {
    this.ensureOpen();
    validateKey(key);
    return readEntryFile<T>(key, this.pathOf(key));
  }

  async put<T>(key: string, value: T, options: { expectedVersion?: number } = {}): Promise<number> {
    this.ensureOpen();
    validateKey(key);
    const valueText = serialize(key, value);
    return this.serialized(key, async () => {
      const path = this.pathOf(key);
      const current = (await readEntryFile(key, path))?.version ?? 0;
      checkVersion(key, current, options.expectedVersion);
      await writeFileDurably(path, envelopeText(current + 1, valueText), this.tmpName());
      return current + 1;
    });
  }

  async delete(key: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    this.ensureOpen();
    validateKey(key);
    return this.serialized(key, async () => {
      // Without a version to check the file is not read: a damaged one can still be deleted.
      const path = this.pathOf(key);
      let exists: boolean;
      if (options.expectedVersion === undefined) exists = await stat(path).then(() => true, () => false);
      else {
        const current = (await readEntryFile(key, path))?.version ?? 0;
        checkVersion(key, current, options.expectedVersion);
        exists = current > 0;
      }
      if (!exists) return false;
      await this.remove(key);
      return true;
    });
  }

  async batch(writes: readonly BatchWrite[]): Promise<number[]> {
    this.ensureOpen();
    validateBatch(writes); // refuses bad keys and values before taking any lock
    return this.serializedAll(
      writes.map((w) => w.key),
      async () => {
        const keys = [...new Set(writes.map((w) => w.key))];
        const versions = new Map(await Promise.all(keys.map(async (k) => [k, (await readEntryFile(k, this.pathOf(k)))?.version ?? 0] as const)));
        const planned = planBatch(writes, (k) => versions.get(k) ?? 0);
        if (planned.length === 0) return [];
        const journal = join(this.directory, `.batch.${this.tmpCounter++}.${process.pid}.journal`);
        const text = checksummedText({}, planned.map((w) => recordText(w.key, w.version, w.text)));
        await writeFileDurably(journal, text, this.tmpName());
        await this.applyJournaled(planned.map((w) => ({ k: w.key, v: w.version, text: w.text })));
        await rm(journal, { force: true });
        return planned.map((w) => w.version);
      },
    );
  }

  /** Applies a journaled batch's writes (again, after a crash: each sets an absolute state). */
  private async applyJournaled(writes: readonly { k: string; v: number; text?: string }[]): Promise<void> {
    const last = new Map(writes.map((w) => [w.k, w])); // only the last write of a key matters
    for (const w of last.values()) {
      if (w.text === undefined) await this.remove(w.k);
      else await writeFileDurably(this.pathOf(w.k), envelopeText(w.v, w.text), this.tmpName());
    }
  }

  private async remove(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path, { force: true });
      await syncDir(dirname(path));
    } catch (e) {
      throw ioError(e, 'cannot delete state file', path);
    }
  }

  /** Finishes the batches a crash left journaled (a journal is whole: it was renamed into place). */
  private async finishJournals(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (e) {
      throw ioError(e, 'cannot list state directory', this.directory);
    }
    for (const name of names.filter((n) => JOURNAL.test(n)).sort()) {
      const path = join(this.directory, name);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        throw ioError(e, 'cannot read state journal', path);
      }
      const { records } = parseChecksummed(text, path);
      await this.applyJournaled(records.map((r: StoredRecord) => ({ k: validateKey(r.k), v: r.v, ...(r.v === 0 ? {} : { text: JSON.stringify(r.d) }) })));
      await rm(path, { force: true });
    }
  }

  async list<T>(prefix: string): Promise<Entry<T>[]> {
    this.ensureOpen();
    validatePrefix(prefix);
    const files = (await listEntryFiles(this.directory)).filter((f) => f.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const entries = await Promise.all(files.map((f) => readEntryFile<T>(f.key, f.path)));
    return entries.filter((e): e is Entry<T> => e !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.locks.values()]);
  }
}
