import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { StateError } from './errors.js';
import { checkVersion, serialize, validateKey, validatePrefix } from './keys.js';
import type { Entry, StateStore } from './store.js';

const SUFFIX = '.json';
const FORMAT = 1;

interface Envelope {
  format: number;
  version: number;
  sha256: string;
  value: unknown;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function ioError(e: unknown, what: string, path: string): StateError {
  return new StateError('STATE_IO', `${what} ${path}: ${(e as Error).message}`, path, { cause: e });
}

/**
 * A StateStore in a directory: one JSON file per key (`<dir>/<key>.json`), each holding
 * the value, its version and a SHA-256 of the value.
 *
 * Crash safety: a write goes to a temporary file in the same directory, is fsynced,
 * renamed over the old file and the directory is fsynced, so a reader sees the old or the
 * new value, never a torn one. A file that fails to parse or whose checksum does not match
 * is reported as STATE_CORRUPT naming the file; nothing is silently dropped.
 * Writes to one key are serialized within the process; one process owns a directory.
 */
export class FileStateStore implements StateStore {
  private readonly locks = new Map<string, Promise<unknown>>();
  private closed = false;
  private tmpCounter = 0;

  private constructor(readonly directory: string) {}

  /** Opens (creating if needed) a store in `directory`. */
  static async open(directory: string): Promise<FileStateStore> {
    try {
      await mkdir(directory, { recursive: true });
    } catch (e) {
      throw ioError(e, 'cannot create state directory', directory);
    }
    return new FileStateStore(directory);
  }

  private pathOf(key: string): string {
    return join(this.directory, ...key.split('/')) + SUFFIX;
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

  private async readPath<T>(key: string, path: string): Promise<Entry<T> | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(e, 'cannot read state file', path);
    }
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
    } catch (e) {
      throw new StateError('STATE_CORRUPT', `state file ${path} is not valid JSON (truncated or corrupt): ${(e as Error).message}`, path, { cause: e });
    }
    if (typeof env !== 'object' || env === null || env.format !== FORMAT || !Number.isInteger(env.version) || typeof env.sha256 !== 'string') {
      throw new StateError('STATE_CORRUPT', `state file ${path} is not a Meso state file (format ${FORMAT})`, path);
    }
    const valueText = JSON.stringify(env.value);
    if (digest(valueText ?? '') !== env.sha256) {
      throw new StateError('STATE_CORRUPT', `state file ${path} fails its checksum (corrupt)`, path);
    }
    return { key, value: env.value as T, version: env.version };
  }

  private async writeDurably(path: string, text: string): Promise<void> {
    const dir = dirname(path);
    const tmp = join(dir, `.${this.tmpCounter++}.${process.pid}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      await this.syncDir(dir);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw ioError(e, 'cannot write state file', path);
    }
  }

  private async syncDir(dir: string): Promise<void> {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async get<T>(key: string): Promise<Entry<T> | undefined> {
    this.ensureOpen();
    validateKey(key);
    return this.readPath<T>(key, this.pathOf(key));
  }

  async put<T>(key: string, value: T, options: { expectedVersion?: number } = {}): Promise<number> {
    this.ensureOpen();
    validateKey(key);
    const valueText = serialize(key, value);
    return this.serialized(key, async () => {
      const path = this.pathOf(key);
      const current = (await this.readPath(key, path))?.version ?? 0;
      checkVersion(key, current, options.expectedVersion);
      const version = current + 1;
      const env: Envelope = { format: FORMAT, version, sha256: digest(valueText), value: JSON.parse(valueText) };
      await this.writeDurably(path, JSON.stringify(env));
      return version;
    });
  }

  async delete(key: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    this.ensureOpen();
    validateKey(key);
    return this.serialized(key, async () => {
      const path = this.pathOf(key);
      const current = options.expectedVersion === undefined ? undefined : ((await this.readPath(key, path))?.version ?? 0);
      if (current !== undefined) checkVersion(key, current, options.expectedVersion);
      try {
        await stat(path);
      } catch {
        return false;
      }
      try {
        await rm(path);
        await this.syncDir(dirname(path));
      } catch (e) {
        throw ioError(e, 'cannot delete state file', path);
      }
      return true;
    });
  }

  async list<T>(prefix: string): Promise<Entry<T>[]> {
    this.ensureOpen();
    validatePrefix(prefix);
    const files = await this.walk(this.directory);
    const keys = files
      .map((f) => relative(this.directory, f).split(sep).join('/').slice(0, -SUFFIX.length))
      .filter((k) => k.startsWith(prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: Entry<T>[] = [];
    for (const key of keys) {
      const e = await this.readPath<T>(key, this.pathOf(key));
      if (e) out.push(e);
    }
    return out;
  }

  private async walk(dir: string): Promise<string[]> {
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(e, 'cannot list state directory', dir);
    }
    const out: string[] = [];
    for (const d of names) {
      const p = join(dir, d.name);
      if (d.isDirectory()) out.push(...(await this.walk(p)));
      else if (d.isFile() && d.name.endsWith(SUFFIX) && !d.name.startsWith('.')) out.push(p);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.locks.values()]);
  }
}
