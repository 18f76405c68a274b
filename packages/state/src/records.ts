import { StateError } from './errors.js';
import { digest } from './file-io.js';

/** A write as stored in a log, snapshot or journal: `{"k":key,"v":version,"d":value}`; v 0 is a delete. */
export interface StoredRecord {
  k: string;
  v: number;
  d?: unknown;
}

/** A record's JSON text (`text` is the value's JSON; undefined for a delete). */
export function recordText(key: string, version: number, text: string | undefined): string {
  return text === undefined ? `{"k":${JSON.stringify(key)},"v":0}` : `{"k":${JSON.stringify(key)},"v":${version},"d":${text}}`;
}

/** Checks a parsed record's shape, naming the file when it is malformed. */
export function checkRecord(r: StoredRecord, path: string): StoredRecord {
  if (typeof r !== 'object' || r === null || typeof r.k !== 'string' || !Number.isInteger(r.v) || r.v < 0) {
    throw new StateError('STATE_CORRUPT', `state file ${path} holds a malformed record`, path);
  }
  return r;
}

/**
 * A file of records with its checksum: a header line (JSON, with `sha256` of the body and
 * whatever `header` adds), then the records as one JSON array.
 */
export function checksummedText(header: Record<string, unknown>, records: readonly string[]): string {
  const body = `[${records.join(',')}]`;
  return `${JSON.stringify({ ...header, sha256: digest(body) })}\n${body}`;
}

/** Reads back `checksummedText`; STATE_CORRUPT naming `path` when truncated or damaged. */
export function parseChecksummed(text: string, path: string): { header: Record<string, unknown>; records: StoredRecord[] } {
  const newline = text.indexOf('\n');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(newline < 0 ? text : text.slice(0, newline)) as Record<string, unknown>;
  } catch (e) {
    throw new StateError('STATE_CORRUPT', `state file ${path} has no valid header (truncated or corrupt)`, path, { cause: e });
  }
  const body = text.slice(newline + 1);
  if (newline < 0 || typeof header !== 'object' || header === null || digest(body) !== header['sha256']) {
    throw new StateError('STATE_CORRUPT', `state file ${path} fails its checksum (truncated or corrupt)`, path);
  }
  const records = JSON.parse(body) as StoredRecord[];
  if (!Array.isArray(records)) throw new StateError('STATE_CORRUPT', `state file ${path} holds no list of records`, path);
  return { header, records: records.map((r) => checkRecord(r, path)) };
}
