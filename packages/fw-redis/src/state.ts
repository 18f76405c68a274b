import type { StateStore } from '@meso/state';
import type { InstanceRecord } from './model.js';

/** Every write fw-redis makes, through {@link RedisState.apply}. */
export type Command = { type: 'putInstance'; record: InstanceRecord } | { type: 'removeInstance'; name: string } | { type: 'setFrameworkId'; id: string };

/**
 * fw-redis's state: in memory, backed by a `StateStore`, changed only through `apply` — which
 * makes the write durable first and then updates memory, so whatever the engine acts on (a
 * launch, a promotion, a kill) was persisted before. One record per instance holds its members
 * and epoch, so a topology change is one atomic write.
 */
export class RedisState {
  readonly instances = new Map<string, InstanceRecord>();
  frameworkId: string | undefined;

  private constructor(private readonly store: StateStore) {}

  /** Loads everything from the store. */
  static async open(store: StateStore): Promise<RedisState> {
    const s = new RedisState(store);
    for (const e of await store.list<InstanceRecord>('instances/')) s.instances.set(e.value.name, e.value);
    s.frameworkId = (await store.get<{ id: string }>('framework'))?.value.id;
    return s;
  }

  /** The one write path: durable first, then in memory. Callers serialise (the engine's serial section). */
  async apply(c: Command): Promise<void> {
    if (c.type === 'putInstance') {
      const record = structuredClone(c.record);
      await this.store.put(`instances/${record.name}`, record);
      this.instances.set(record.name, record);
    } else if (c.type === 'removeInstance') {
      await this.store.delete(`instances/${c.name}`);
      this.instances.delete(c.name);
    } else {
      await this.store.put('framework', { id: c.id });
      this.frameworkId = c.id;
    }
  }
}
