import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Resources, resourcesFromWire, type Logger } from '@meso/proto';
import type { StateStore } from '@meso/state';
import { isSafeId } from '../paths.js';
import { ResourceCheckpoint, type WireResource } from './resource-checkpoint.js';
import { attachVolume, mayMount, otherMountNamespace, unmountStale, unmountUnder, type VolumeAttachment } from './volume-mounts.js';
import { volumePath, volumesRoot } from './volume-paths.js';
import { classifyVolumeDir, planVolumes, volumeKey, volumeKeys, type VolumeKey } from './volume-plan.js';

/** Where destroyed volumes wait for the run still holding them to end (outside the volumes root). */
function trashRoot(workDir: string): string {
  return join(workDir, 'volumes-destroyed');
}

/** What the executor manager needs of volumes while it starts and ends runs. */
export interface RunVolumes {
  /**
   * Makes the volumes among `resources` visible in the sandbox — also inside the mount
   * namespace of `executorPid` when the run's executor already runs in one of its own;
   * rejects naming a volume the agent does not hold.
   */
  attach(sandbox: string, resources: readonly WireResource[], executorPid?: number): Promise<void>;
  /** Undoes `attach` for a run that ended (unmounts whatever is mounted in its sandbox). */
  release(sandbox: string): Promise<void>;
}

/**
 * The agent's checkpointed resources (CheckpointResources from the master) and the
 * directories of its persistent volumes. One write path: `apply` persists the complete
 * set, then creates and removes directories as planned by `planVolumes`. Calls are
 * serialized.
 */
export class VolumeManager implements RunVolumes {
  private wire: WireResource[] = [];
  private set: Resources = Resources.empty();
  private queue: Promise<unknown> = Promise.resolve();
  private useMount = mayMount();
  private inUse: () => readonly VolumeKey[] = () => [];
  /** Destroyed volumes a run still held when DESTROY came, moved aside until that run ends. */
  private trash: Array<{ key: VolumeKey; path: string }> = [];

  private constructor(
    private readonly workDir: string,
    private readonly checkpoint: ResourceCheckpoint,
    private readonly log: Logger,
  ) {}

  /** Loads the persisted set and brings the directories in line with it (creating missing ones). */
  static async open(o: { workDir: string; store: StateStore; metaDir: string; logger: Logger }): Promise<VolumeManager> {
    const vm = new VolumeManager(o.workDir, new ResourceCheckpoint(o.store, o.metaDir), o.logger);
    const loaded = await vm.checkpoint.load();
    if (loaded.kind === 'corrupt') {
      o.logger.error(
        `cannot read the checkpointed resources ${loaded.path} (${loaded.error}); set aside as ${loaded.path}.corrupt — registering with none, volume directories are kept`,
        { file: loaded.path },
      );
    } else if (loaded.kind === 'ok') {
      vm.wire = loaded.wire;
      vm.set = loaded.resources;
    }
    const keys = volumeKeys(vm.set);
    // Volumes destroyed while in use before a crash: their data is no one's any more.
    await rm(trashRoot(o.workDir), { recursive: true, force: true });
    await vm.reconcile(keys, keys, []);
    return vm;
  }

  /** The persisted set, as reported on every (re-)registration. */
  checkpointed(): WireResource[] {
    return this.wire;
  }

  /** The agent's persistent volumes. */
  volumes(): VolumeKey[] {
    return volumeKeys(this.set);
  }

  /**
   * CheckpointResources: validates the complete set (a bad one is refused whole, nothing
   * applied), persists it, then creates the directories of new volumes and removes those of
   * volumes no longer listed — unless a live task uses one (kept, logged).
   */
  apply(wire: readonly WireResource[], inUse: () => readonly VolumeKey[]): Promise<void> {
    this.inUse = inUse;
    const next = this.queue.then(async () => {
      const resources = resourcesFromWire(wire, 'checkpoint_resources.resources');
      for (const v of resources.volumes()) {
        if (!v.role.split('/').every(isSafeId)) throw new Error(`checkpoint_resources.resources: role '${v.role}' of volume '${v.volume.id}' is not a safe path`);
      }
      const previous = volumeKeys(this.set);
      await this.checkpoint.save(wire);
      this.wire = JSON.parse(JSON.stringify(wire)) as WireResource[];
      this.set = resources;
      this.log.info('checkpointed resources', { resources: resources.toString() });
      await this.reconcile(volumeKeys(resources), previous, inUse());
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async attach(sandbox: string, resources: readonly WireResource[], executorPid?: number): Promise<void> {
    // A RunTask right after a CheckpointResources must see the volumes it creates.
    await this.queue;
    for (const v of this.attachments(resources)) {
      let how: Awaited<ReturnType<typeof attachVolume>>;
      try {
        how = await attachVolume(sandbox, v, this.useMount);
      } catch (e) {
        if (!this.useMount || (e as Error).message.includes(`volume '${v.id}'`)) throw e;
        this.log.warn('bind mounts do not work here: volumes are symlinked into sandboxes', { volume: v.id, error: (e as Error).message });
        this.useMount = false;
        how = await attachVolume(sandbox, v, false);
      }
      if (how !== 'symlink' && executorPid && (await otherMountNamespace(executorPid))) how = await attachVolume(sandbox, v, true, executorPid);
      this.log.info('persistent volume attached', { volume: v.id, target: join(sandbox, v.containerPath), mode: v.mode, how, ...(executorPid ? { executorPid } : {}) });
    }
  }

  async release(sandbox: string): Promise<void> {
    if (mayMount()) {
      const unmounted = await unmountUnder(sandbox);
      if (unmounted.length > 0) this.log.info('persistent volumes detached', { sandbox, unmounted });
    }
    await this.emptyTrash();
  }

  /** Removes the data of destroyed volumes that no live run holds any more. */
  private async emptyTrash(): Promise<void> {
    const held = new Set(this.inUse().map(volumeKey));
    const done = this.trash.filter((t) => !held.has(volumeKey(t.key)));
    this.trash = this.trash.filter((t) => held.has(volumeKey(t.key)));
    for (const t of done) {
      await rm(t.path, { recursive: true, force: true });
      this.log.info('persistent volume destroyed with its data', { role: t.key.role, volume: t.key.id, after: 'the run that held it ended' });
    }
  }

  /** After recovery: unmounts mounts left in the sandboxes of runs that are not live any more. */
  async releaseStale(liveSandboxes: readonly string[]): Promise<void> {
    if (!mayMount()) return;
    const stale = await unmountStale(join(this.workDir, 'slaves'), liveSandboxes);
    if (stale.length > 0) this.log.info('mounts of ended runs removed', { unmounted: stale });
  }

  /** The volumes among a task's (or executor's) resources, checked against the agent's. */
  private attachments(resources: readonly WireResource[]): VolumeAttachment[] {
    const held = new Set(volumeKeys(this.set).map(volumeKey));
    const volumes = resources.filter((r) => r.disk?.persistence);
    if (volumes.length === 0) return [];
    return resourcesFromWire(volumes)
      .volumes()
      .map((r) => {
        if (!held.has(volumeKey({ role: r.role, id: r.volume.id }))) throw new Error(`the agent has no persistent volume '${r.volume.id}' of role '${r.role}'`);
        return { id: r.volume.id, source: volumePath(this.workDir, r.role, r.volume.id), containerPath: r.volume.containerPath, mode: r.volume.mode };
      });
  }

  private async reconcile(desired: VolumeKey[], previous: VolumeKey[], inUse: readonly VolumeKey[]): Promise<void> {
    const { present, unknown } = await this.scan([...desired, ...previous]);
    const plan = planVolumes({ desired, previous, present, inUse });
    for (const v of plan.create) {
      await mkdir(volumePath(this.workDir, v.role, v.id), { recursive: true });
      this.log.info('persistent volume created', { role: v.role, volume: v.id });
    }
    for (const v of plan.remove) {
      await rm(volumePath(this.workDir, v.role, v.id), { recursive: true, force: true });
      this.log.info('persistent volume destroyed with its data', { role: v.role, volume: v.id });
    }
    for (const v of plan.keptInUse) {
      // The master saw its last task end; the run is still going away. Move the data out of
      // the volume's place (a CREATE of the same id starts empty) and remove it when the run ends.
      const path = join(trashRoot(this.workDir), `${Date.now()}-${this.trash.length}-${v.id}`);
      await mkdir(trashRoot(this.workDir), { recursive: true });
      await rename(volumePath(this.workDir, v.role, v.id), path);
      this.trash.push({ key: v, path });
      this.log.warn('a destroyed persistent volume is still held by a run that is ending: its data is removed when the run ends', { role: v.role, volume: v.id });
    }
    await this.emptyTrash();
    for (const path of unknown) this.log.warn('a directory under the volumes root is no volume of this agent: left alone', { path });
  }

  /** Which volume directories exist, and directories under the root that are not the agent's volumes. */
  private async scan(known: readonly VolumeKey[]): Promise<{ present: VolumeKey[]; unknown: string[] }> {
    const root = volumesRoot(this.workDir);
    const present: VolumeKey[] = [];
    const unknown: string[] = [];
    const walk = async (segments: string[]): Promise<void> => {
      const entries = await readdir(join(root, ...segments), { withFileTypes: true }).catch(() => []);
      for (const d of entries) {
        const path = [...segments, d.name];
        const kind = d.isDirectory() ? classifyVolumeDir(path, known) : 'unknown';
        if (kind === 'ancestor') await walk(path);
        else if (kind === 'unknown') unknown.push(join(root, ...path));
        else present.push(...known.filter((v) => [...v.role.split('/'), v.id].join('/') === path.join('/')));
      }
    };
    await walk([]);
    return { present, unknown };
  }
}
