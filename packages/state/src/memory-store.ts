import { StateError } from './errors.js';
import { checkVersion, serialize, validateKey, validatePrefix } from './keys.js';
import type { Entry, StateStore } from './store.js';

/** A StateStore in memory: same contract as the file store, nothing durable. For tests. */
export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, { text: string; version: number }>();
  private closed = false;

  private open(): void {
    if (this.closed) throw new StateError('STATE_CLOSED', 'state store is closed');
  }

  async get<T>(key: string): Promise<Entry<T> | undefined> {
    this.open();
    const e = this.data.get(validateKey(key));
    return e ? { key, value: JSON.parse(e.text) as T, version: e.version } : undefined;
  }

  async put<T>(key: string, value: T, options: { expectedVersion?: number } = {}): Promise<number> {
    this.open();
    validateKey(key);
    const text = serialize(key, value);
    const current = this.data.get(key)?.version ?? 0;
    checkVersion(key, current, options.expectedVersion);
    this.data.set(key, { text, version: current + 1 });
    return current + 1;
  }

  async delete(key: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    this.open();
    validateKey(key);
    const current = this.data.get(key)?.version ?? 0;
    checkVersion(key, current, options.expectedVersion);
    return this.data.delete(key);
  }

  async list<T>(prefix: string): Promise<Entry<T>[]> {
    this.open();
    validatePrefix(prefix);
    return [...this.data.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, e]) => ({ key, value: JSON.parse(e.text) as T, version: e.version }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
