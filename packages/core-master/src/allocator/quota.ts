import { Resources, type Resource } from '@meso/proto';

/**
 * The part of `candidate` a role may still be offered under its quota `limit`, given
 * what it holds (`allocation`): each scalar the limit names is cut to the headroom
 * (limit − allocation, at least 0); the role's reserved amounts are kept before
 * unreserved ones. Scalars the limit does not name, and ranges and sets, are untouched.
 */
export function withinQuota(candidate: Resources, allocation: Resources, limit: Resources): Resources {
  const headroom = new Map<string, number>();
  for (const r of limit.toList()) {
    if (r.kind === 'scalar') headroom.set(r.name, Math.max(0, r.value - allocation.scalar(r.name)));
  }
  if (headroom.size === 0) return candidate;
  const kept: Resource[] = [];
  // Reserved entries first, so that the role's own reservations are offered before shared resources.
  const list = candidate.toList().sort((a, b) => Number(a.role === '*') - Number(b.role === '*'));
  for (const r of list) {
    const room = r.kind === 'scalar' ? headroom.get(r.name) : undefined;
    if (r.kind !== 'scalar' || room === undefined) {
      kept.push(r);
      continue;
    }
    const value = Math.min(r.value, room);
    headroom.set(r.name, Math.round((room - value) * 1000) / 1000);
    if (value > 0) kept.push({ ...r, value });
  }
  return Resources.of(kept);
}
