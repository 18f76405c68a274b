import type { Resources } from '@meso/proto';

/** Scalar resources that count toward a dominant share. */
export const SHARE_RESOURCES = ['cpus', 'mem', 'disk', 'gpus'] as const;

/**
 * The dominant share of an allocation: its largest fraction of the cluster total over
 * the scalar resources the cluster has (0 when the cluster is empty).
 */
export function dominantShare(allocation: Resources | undefined, total: Resources): number {
  if (!allocation) return 0;
  let share = 0;
  for (const name of SHARE_RESOURCES) {
    const whole = total.scalar(name);
    if (whole > 0) share = Math.max(share, allocation.scalar(name) / whole);
  }
  return share;
}

/** Orders ids by ascending share, ties by id, so the order is deterministic. */
export function sortByShare<T extends string>(ids: Iterable<T>, shareOf: (id: T) => number): T[] {
  const withShare = [...ids].map((id) => ({ id, share: shareOf(id) }));
  withShare.sort((a, b) => a.share - b.share || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return withShare.map((x) => x.id);
}
