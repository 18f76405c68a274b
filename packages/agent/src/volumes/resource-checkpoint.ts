import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { resourcesFromWire, type Resources, type TaskInfo } from '@meso/proto';
import type { StateStore } from '@meso/state';

/** The wire form of a resource (the name `Resource` in @meso/proto is the domain type). */
export type WireResource = TaskInfo['resources'][number];

/** The key of the checkpoint in the agent's store: `meta/resources.json`. */
export const RESOURCES_KEY = 'resources';

interface Stored {
  /** The resources as the master sent them (wire form, JSON), so they are reported back unchanged. */
  resources: WireResource[];
}

/** What was found in the checkpoint at start. */
export type LoadedResources =
  | { kind: 'none' }
  | { kind: 'ok'; wire: WireResource[]; resources: Resources }
  | { kind: 'corrupt'; path: string; error: string };

/**
 * The agent's checkpointed resources (dynamic reservations and persistent volumes): the
 * complete set of the last CheckpointResources, written crash-safely by the state store
 * (temporary file, fsync, rename, fsync of the directory) before anything acts on it.
 */
export class ResourceCheckpoint {
  constructor(
    private readonly store: StateStore,
    /** The store's directory (meta/), to name and set aside an unreadable file. */
    private readonly directory: string,
  ) {}

  /** Persists the set; rejects (nothing applied) when it cannot be written. */
  async save(wire: readonly WireResource[]): Promise<void> {
    await this.store.put<Stored>(RESOURCES_KEY, { resources: wire.map(stripUndefined) });
  }

  /**
   * The persisted set. A file that cannot be read back (truncated, corrupt, not a list of
   * valid resources) is renamed to `<file>.corrupt` and reported with its path.
   */
  async load(): Promise<LoadedResources> {
    try {
      const value = (await this.store.get<Stored>(RESOURCES_KEY))?.value;
      if (value === undefined) return { kind: 'none' };
      if (typeof value !== 'object' || value === null || !Array.isArray(value.resources)) throw new Error('it does not hold a list of resources');
      return { kind: 'ok', wire: value.resources, resources: resourcesFromWire(value.resources, 'checkpointed_resources') };
    } catch (e) {
      const path = (e as { path?: string }).path ?? join(this.directory, `${RESOURCES_KEY}.json`);
      await rename(path, `${path}.corrupt`).catch(() => undefined);
      return { kind: 'corrupt', path, error: (e as Error).message };
    }
  }
}

/** JSON drops undefined fields anyway; doing it here keeps what is saved equal to what is loaded. */
function stripUndefined(r: WireResource): WireResource {
  return JSON.parse(JSON.stringify(r)) as WireResource;
}
