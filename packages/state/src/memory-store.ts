import { StateError } from './errors.js';
import { planBatch, validateKey, validatePrefix, type PlannedWrite } from './keys.js';
import type { BatchWrite, Entry, StateStore } from './store.js';

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
    const [w] = this.write([{ type: 'put', key, value, ...options }]);
    return w?.version ?? 0;
  }

  async delete(key: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    const [w] = this.write([{ type: 'delete', key, ...options }]);
    return w?.existed ?? false;
  }

  async batch(writes: readonly BatchWrite[]): Promise<number[]> {
    return this.write(writes).map((w) => w.version);
  }

  private write(writes: readonly BatchWrite[]): PlannedWrite[] {
    this.open();
    const planned = planBatch(writes, (k) => this.data.get(k)?.version ?? 0);
    for (const w of planned) {
      if (w.text === undefined) this.data.delete(w.key);
      else this.data.set(w.key, { text: w.text, version: w.version });
    }
    return planned;
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
