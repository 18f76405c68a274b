import { StateError } from './errors.js';

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
