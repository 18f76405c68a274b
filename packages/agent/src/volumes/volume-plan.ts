// What to do with the directories of persistent volumes, decided without I/O: from the set
// the agent must hold, the set it held before, the directories there are and the volumes
// live tasks use.
import type { Resources } from '@meso/proto';

/** One persistent volume of the agent: its role and id (unique within the role). */
export interface VolumeKey {
  role: string;
  id: string;
}

export interface VolumePlanInput {
  /** The volumes the agent holds from now on. */
  desired: readonly VolumeKey[];
  /** The volumes it held until now (at start: the same as `desired`). */
  previous: readonly VolumeKey[];
  /** Volume directories that exist (of volumes in `desired` or `previous`). */
  present: readonly VolumeKey[];
  /** Volumes a live task or executor uses. */
  inUse: readonly VolumeKey[];
}

export interface VolumePlan {
  /** Directories to create (new volumes, or ones missing on disk). */
  create: VolumeKey[];
  /** Directories to remove with their data (DESTROYed volumes no task uses). */
  remove: VolumeKey[];
  /** DESTROYed volumes still used by a live task: kept, and logged. */
  keptInUse: VolumeKey[];
}

export const volumeKey = (v: VolumeKey): string => `${v.role}\u0000${v.id}`;

/** The volumes among resources, as keys. */
export function volumeKeys(resources: Resources): VolumeKey[] {
  return resources.volumes().map((r) => ({ role: r.role, id: r.volume.id }));
}

/**
 * Directories to create and to remove. Only volumes the agent held (`previous`) are ever
 * removed: a directory the agent knows nothing about is never deleted by this plan.
 */
export function planVolumes(input: VolumePlanInput): VolumePlan {
  const desired = new Set(input.desired.map(volumeKey));
  const present = new Set(input.present.map(volumeKey));
  const inUse = new Set(input.inUse.map(volumeKey));
  const create = unique(input.desired).filter((v) => !present.has(volumeKey(v)));
  const gone = unique(input.previous).filter((v) => !desired.has(volumeKey(v)) && present.has(volumeKey(v)));
  return {
    create,
    remove: gone.filter((v) => !inUse.has(volumeKey(v))),
    keptInUse: gone.filter((v) => inUse.has(volumeKey(v))),
  };
}

/**
 * Classifies a directory under the volumes root (as path segments below `roles/`): a
 * known volume's directory, an ancestor of one (a role's directory: look inside), or
 * unknown (not a volume of the agent: left alone and reported).
 */
export function classifyVolumeDir(segments: readonly string[], known: readonly VolumeKey[]): 'volume' | 'ancestor' | 'unknown' {
  const path = segments.join('/');
  let ancestor = false;
  for (const v of known) {
    const full = [...v.role.split('/'), v.id].join('/');
    if (full === path) return 'volume';
    if (full.startsWith(`${path}/`)) ancestor = true;
  }
  return ancestor ? 'ancestor' : 'unknown';
}

function unique(list: readonly VolumeKey[]): VolumeKey[] {
  const seen = new Map<string, VolumeKey>();
  for (const v of list) seen.set(volumeKey(v), v);
  return [...seen.values()];
}
