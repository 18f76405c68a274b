import { Resources } from '@meso/proto';
import type { AllocatorAgent, AllocatorInput } from '../allocator/types.js';
import type { AgentRecord, MasterModel } from './model.js';

/**
 * An agent as the allocator sees it, remembered beside the record until its total, used or
 * offered (immutable Resources, replaced on change) or its activity changes: an allocation
 * cycle at 10k agents then subtracts, and allocates a view, only for the agents that changed
 * since the last one. total − used is remembered apart: while frameworks are offered and
 * decline an agent over and over, only `offered` changes, and with none outstanding
 * `available` is total − used as it was.
 */
const VIEW = Symbol('allocatorView');
interface CachedView {
  used: Resources;
  unused: Resources;
  offered: Resources;
  view: AllocatorAgent;
}
/** Kept on the record itself (a non-enumerable symbol key): cheaper than a WeakMap at 10k agents per cycle. */
type WithView = AgentRecord & { [VIEW]?: CachedView };

function agentView(a: WithView): AllocatorAgent {
  const active = a.status === 'ACTIVE' && a.maintenance === undefined;
  const hit = a[VIEW];
  if (hit && hit.view.total === a.total && hit.used === a.used && hit.offered === a.offered && hit.view.active === active) return hit.view;
  const unused = hit && hit.view.total === a.total && hit.used === a.used ? hit.unused : a.total.subtract(a.used);
  const available = a.offered.isEmpty() ? unused : unused.subtract(a.offered);
  const view: AllocatorAgent = { id: a.id, total: a.total, available, active };
  if (hit) {
    hit.used = a.used;
    hit.unused = unused;
    hit.offered = a.offered;
    hit.view = view;
  } else {
    // Not enumerable: invisible to spreads, equality checks and serialization.
    Object.defineProperty(a, VIEW, { value: { used: a.used, unused, offered: a.offered, view }, writable: true, enumerable: false, configurable: true });
  }
  return view;
}

/** total − used − offered of an agent (remembered as for the allocator). */
export function agentAvailable(a: AgentRecord): Resources {
  return agentView(a).available;
}

/**
 * The allocator's view of the model at `now`: copies (the allocator cannot touch the model),
 * except the filters, handed over as the model's index (read-only to the allocator).
 */
export function allocatorInput(model: MasterModel, now: number): AllocatorInput {
  const agents: AllocatorAgent[] = [];
  for (const a of model.agents.values()) agents.push(agentView(a));
  return {
    agents,
    frameworks: [...model.frameworks.values()].map((f) => {
      const allocation = new Map<string, Resources>();
      for (const [role, r] of f.used) allocation.set(role, r);
      for (const [role, r] of f.offered) allocation.set(role, (allocation.get(role) ?? Resources.empty()).add(r));
      return { id: f.id, roles: [...f.info.roles], suppressedRoles: new Set(f.suppressedRoles), active: f.connected, allocation };
    }),
    filters: model.filters,
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
