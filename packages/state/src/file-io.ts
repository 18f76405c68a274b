import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { StateError } from './errors.js';
import type { Entry } from './store.js';

/** The suffix of a key's file in the file-per-key layout. */
export const ENTRY_SUFFIX = '.json';
const ENTRY_FORMAT = 1;

/** A key's file in the file-per-key layout: its value, version and the value's SHA-256. */
export interface Envelope {
  format: number;
  version: number;
  sha256: string;
  value: unknown;
}

export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function ioError(e: unknown, what: string, path: string): StateError {
  return new StateError('STATE_IO', `${what} ${path}: ${(e as Error).message}`, path, { cause: e });
}

/** The text of a key's file holding `valueText` at `version`. */
export function envelopeText(version: number, valueText: string): string {
  return `{"format":${ENTRY_FORMAT},"version":${version},"sha256":"${digest(valueText)}","value":${valueText}}`;
}

/** Reads a key's file; undefined when there is none, STATE_CORRUPT naming it when damaged. */
export async function readEntryFile<T>(key: string, path: string): Promise<Entry<T> | undefined> {
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
  if (typeof env !== 'object' || env === null || env.format !== ENTRY_FORMAT || !Number.isInteger(env.version) || typeof env.sha256 !== 'string') {
    throw new StateError('STATE_CORRUPT', `state file ${path} is not a Meso state file (format ${ENTRY_FORMAT})`, path);
  }
  const valueText = JSON.stringify(env.value);
  if (digest(valueText ?? '') !== env.sha256) {
    throw new StateError('STATE_CORRUPT', `state file ${path} fails its checksum (corrupt)`, path);
  }
  return { key, value: env.value as T, version: env.version };
}

export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Replaces `path` with `text` so that a reader (or a crash) sees the old or the new
 * content, never a torn one: a temporary file `tmpName` beside it, fsync, rename, fsync of
 * the directory.
 */
export async function writeFileDurably(path: string, text: string, tmpName: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, tmpName);
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
    await syncDir(dir);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(e, 'cannot write state file', path);
  }
}

/** The keys' files of the file-per-key layout under `directory` (not dot files), with their keys. */
export async function listEntryFiles(directory: string): Promise<{ key: string; path: string }[]> {
  const files = await walk(directory);
  return files.map((path) => ({ key: relative(directory, path).split(sep).join('/').slice(0, -ENTRY_SUFFIX.length), path }));
}

async function walk(dir: string): Promise<string[]> {
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
    if (d.isDirectory()) out.push(...(await walk(p)));
    else if (d.isFile() && d.name.endsWith(ENTRY_SUFFIX) && !d.name.startsWith('.')) out.push(p);
  }
  return out;
}
