import { Resources } from '@meso/proto';
import type { AllocatorInput } from '../allocator/types.js';
import type { MasterModel } from './model.js';

/** The allocator's view of the model at `now` (copies; the allocator cannot touch the model). */
export function allocatorInput(model: MasterModel, now: number): AllocatorInput {
  return {
    agents: [...model.agents.values()].map((a) => ({
      id: a.id,
      total: a.total,
      available: a.total.subtract(a.used).subtract(a.offered),
      active: a.status === 'ACTIVE' && a.maintenance === undefined,
    })),
    frameworks: [...model.frameworks.values()].map((f) => {
      const allocation = new Map<string, Resources>();
      for (const [role, r] of f.used) allocation.set(role, r);
      for (const [role, r] of f.offered) allocation.set(role, (allocation.get(role) ?? Resources.empty()).add(r));
      return { id: f.id, roles: [...f.info.roles], suppressedRoles: new Set(f.suppressedRoles), active: f.connected, allocation };
    }),
    filters: model.filters.filter((f) => f.until > now),
    ...(model.weights.size > 0 ? { weights: new Map([...model.weights].map(([role, w]) => [role, w.weight])) } : {}),
    ...(model.quotas.size > 0 ? { quotas: new Map(model.quotas) } : {}),
    now,
  };
}

/** Sum of the per-role resources of a framework. */
export function sumRoles(map: ReadonlyMap<string, Resources>): Resources {
  let sum = Resources.empty();
  for (const r of map.values()) sum = sum.add(r);
  return sum;
}
