/** An inclusive range of integers [begin, end], e.g. a span of ports. */
export interface Range {
  begin: number;
  end: number;
}

/**
 * A persistent volume: `disk` reserved for a role, made by CREATE and removed by DESTROY.
 * Its data outlives the tasks that use it; a task that holds it sees it at
 * `<sandbox>/<containerPath>`.
 */
export interface VolumeInfo {
  /** Unique on its agent among the role's volumes: letters, digits, `.`, `_`, `-`. */
  id: string;
  /** Relative path inside the task's sandbox, e.g. `data`. */
  containerPath: string;
  /** Read-write (default) or read-only for the tasks that use it. */
  mode: 'rw' | 'ro';
  /** Who created it, when known. */
  principal?: string;
}

/** How a resource's value is expressed. */
export type ResourceKind = 'scalar' | 'ranges' | 'set';

/** The role of unreserved resources, offered to any role. */
export const UNRESERVED_ROLE = '*';

/**
 * One named resource, as Meso's SDKs, master and agent all see it.
 *
 * - `scalar`: cpus, mem (MB), disk (MB), gpus — three decimal digits of precision.
 * - `ranges`: ports, as sorted, non-overlapping inclusive ranges.
 * - `set`: named items (e.g. disks).
 *
 * `role` is `'*'` for unreserved resources, or the role they are reserved for. A `disk`
 * scalar with a `volume` is a persistent volume (reserved disk only); it is a resource of
 * its own, never merged with plain disk or with another volume.
 */
export type Resource =
  | { name: string; kind: 'scalar'; value: number; role: string; volume?: VolumeInfo }
  | { name: string; kind: 'ranges'; ranges: Range[]; role: string }
  | { name: string; kind: 'set'; items: string[]; role: string };
