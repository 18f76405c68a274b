/** A stored value with its version (1 on first write, +1 on every write). */
export interface Entry<T = unknown> {
  key: string;
  value: T;
  version: number;
}

/** One write of a `batch`: a put (compare-and-set with `expectedVersion`) or a delete. */
export type BatchWrite =
  | { type: 'put'; key: string; value: unknown; expectedVersion?: number }
  | { type: 'delete'; key: string; expectedVersion?: number };

/**
 * Durable key-value state: the one interface every Meso component keeps its state
 * through. Values are JSON. Keys are `/`-separated paths of `[A-Za-z0-9._-]` segments
 * (e.g. `frameworks/8f1c-0001`).
 *
 * In the contract: a `put` or `delete` that resolved is durable (survives a crash of the
 * process or machine); `expectedVersion` makes a write a compare-and-set (0 = must not
 * exist); `list` returns keys under a prefix in key order.
 * `batch` applies many puts and deletes as one: all or none, durable together (after a
 * crash a batch is found whole or not at all).
 * Deliberately not in it: read-modify-write transactions, watches (the etcd store adds those).
 */
export interface StateStore {
  get<T = unknown>(key: string): Promise<Entry<T> | undefined>;
  /** Writes and returns the new version; fails with STATE_CONFLICT on a version mismatch. */
  put<T>(key: string, value: T, options?: { expectedVersion?: number }): Promise<number>;
  /** Deletes; resolves false when there was nothing to delete. */
  delete(key: string, options?: { expectedVersion?: number }): Promise<boolean>;
  list<T = unknown>(prefix: string): Promise<Entry<T>[]>;
  /**
   * Applies the writes in order, atomically: if one fails its check (a version mismatch, a
   * bad key or value) none is applied. Resolves, once all are durable, with each key's
   * version after its write (0 after a delete).
   */
  batch(writes: readonly BatchWrite[]): Promise<number[]>;
  close(): Promise<void>;
}
