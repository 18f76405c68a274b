import { StateError } from './errors.js';
import type { BatchWrite } from './store.js';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Checks a key (`a/b/c`, segments of `[A-Za-z0-9._-]`, no `.` or `..` segment). */
export function validateKey(key: string): string {
  const segments = typeof key === 'string' ? key.split('/') : [];
  const ok = segments.length > 0 && segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
  if (!ok) throw new StateError('STATE_INVALID_KEY', `invalid state key '${String(key)}': use '/'-separated segments of [A-Za-z0-9._-]`);
  return key;
}

/** Checks a prefix for `list` ('' lists everything). */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** Serializes a value, refusing what JSON cannot hold faithfully. */
export function serialize(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new StateError('STATE_INVALID_VALUE', `value for '${key}' cannot be stored as JSON: ${(e as Error).message}`, undefined, { cause: e });
  }
  if (text === undefined) throw new StateError('STATE_INVALID_VALUE', `value for '${key}' cannot be stored as JSON`);
  return text;
}

export function checkVersion(key: string, current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) {
    throw new StateError('STATE_CONFLICT', `'${key}' is at version ${current}, expected ${expected}`);
  }
}

/** A write of a batch after its checks: the key's new version and text (none: deleted). */
export interface PlannedWrite {
  key: string;
  /** The version after the write; 0 for a delete. */
  version: number;
  /** The JSON text stored; undefined for a delete. */
  text?: string;
  /** Whether the key existed before this write. */
  existed: boolean;
}

/**
 * Checks a batch against the current versions (`versionOf`), in order, each write seeing the
 * ones before it; throws the first failure (nothing is applied), else returns the writes.
 */
export function planBatch(writes: readonly BatchWrite[], versionOf: (key: string) => number): PlannedWrite[] {
  const checked = validateBatch(writes);
  const seen = new Map<string, number>();
  return writes.map((w, i) => {
    const key = w.key;
    const current = seen.get(key) ?? versionOf(key);
    checkVersion(key, current, w.expectedVersion);
    const text = checked[i];
    const planned: PlannedWrite = text === undefined ? { key, version: 0, existed: current > 0 } : { key, version: current + 1, text, existed: current > 0 };
    seen.set(key, planned.version);
    return planned;
  });
}

/** Checks a batch's shape, keys and values (not versions); returns each put's JSON text. */
export function validateBatch(writes: readonly BatchWrite[]): (string | undefined)[] {
  if (!Array.isArray(writes)) throw new StateError('STATE_INVALID_VALUE', 'a batch is a list of writes');
  return writes.map((w, i) => {
    if (typeof w !== 'object' || w === null || (w.type !== 'put' && w.type !== 'delete')) {
      throw new StateError('STATE_INVALID_VALUE', `batch write ${i}: type must be 'put' or 'delete'`);
    }
    const key = validateKey(w.key);
    return w.type === 'put' ? serialize(key, w.value) : undefined;
  });
}
