import { Resources } from '@meso/proto';
import type { AllocatorInput } from '../allocator/types.js';
import type { AgentRecord, MasterModel } from './model.js';

/**
 * total − used − offered of an agent, remembered beside the record until one of the three
 * (immutable Resources, replaced on change) is replaced: an allocation cycle at 10k agents
 * then subtracts only for the agents that changed since the last one.
 */
const availability = new WeakMap<AgentRecord, { total: Resources; used: Resources; offered: Resources; available: Resources }>();
function availableOf(a: AgentRecord): Resources {
  const hit = availability.get(a);
  if (hit && hit.total === a.total && hit.used === a.used && hit.offered === a.offered) return hit.available;
  const available = a.total.subtract(a.used).subtract(a.offered);
  availability.set(a, { total: a.total, used: a.used, offered: a.offered, available });
  return available;
}

/** The allocator's view of the model at `now` (copies; the allocator cannot touch the model). */
export function allocatorInput(model: MasterModel, now: number): AllocatorInput {
  return {
    agents: [...model.agents.values()].map((a) => ({
      id: a.id,
      total: a.total,
      available: availableOf(a),
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
