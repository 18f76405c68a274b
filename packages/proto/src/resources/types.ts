/** An inclusive range of integers [begin, end], e.g. a span of ports. */
export interface Range {
  begin: number;
  end: number;
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
 * `role` is `'*'` for unreserved resources, or the role they are reserved for.
 */
export type Resource =
  | { name: string; kind: 'scalar'; value: number; role: string }
  | { name: string; kind: 'ranges'; ranges: Range[]; role: string }
  | { name: string; kind: 'set'; items: string[]; role: string };
