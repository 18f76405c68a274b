import { Resources } from '@meso/proto';
import { withinQuota } from './quota.js';
import { ShareOrder } from './share-order.js';
import { addInto, shareVector, vectorShare } from './shares.js';
import { filterLookup } from './offer-filters.js';
import type { AllocationDecision, AllocatorFramework, AllocatorInput } from './types.js';

/** Below these amounts (both) an offer is not worth making: Mesos's minimum allocatable. */
export const MIN_ALLOCATABLE = { cpus: 0.01, mem: 32 } as const;

/** Whether resources are worth offering: at least 0.01 cpus or 32 MB of mem. */
export function isAllocatable(resources: Resources): boolean {
  return resources.scalar('cpus') >= MIN_ALLOCATABLE.cpus || resources.scalar('mem') >= MIN_ALLOCATABLE.mem;
}

/**
 * One cycle of hierarchical DRF, as a pure function of a snapshot.
 *
 * For each active agent (in id order): roles are ordered by weighted dominant share
 * (share of the role's allocation ÷ its weight), then frameworks within a role by their
 * dominant share in that role; the first framework that wants the role, is not filtered
 * and has not had an offer on this agent this cycle gets all of the agent's resources
 * allocatable to the role (unreserved plus reserved for it). Offers count toward shares
 * at once, so the next agent goes to whoever is now furthest behind.
 *
 * A role with a quota limit is offered at most its headroom (limit − allocation) of each
 * limited scalar; with no headroom left in a scalar, none of it is offered.
 *
 * Never offers: to suppressed roles or inactive frameworks; on inactive agents; more
 * than an agent has available; beyond a role's quota limit; less than the minimum
 * allocatable; what a filter covers.
 *
 * How it stays fast (10k agents × 1k frameworks in tens of milliseconds): the orders are
 * kept sorted across agents and only the entry whose share changed is moved (a role's
 * order is refreshed after each agent, as if re-sorted at the next); frameworks that can
 * never be offered this cycle (inactive, suppressed) and roles without a framework that
 * can are left out up front; an agent's candidate for a role is computed once, not per
 * framework; filters are looked up by (framework, agent). The decisions are exactly those
 * of re-sorting everything for every agent (checked against that in a property test).
 */
export function allocate(input: AllocatorInput): AllocationDecision[] {
  const agents = input.agents.filter((a) => a.active);
  // Shares need only the cluster's SHARE_RESOURCES totals: summed as numbers, not Resources.
  const total = [0, 0, 0, 0];
  for (const a of agents) addInto(total, shareVector(a.total));
  const frameworks = new Map<string, AllocatorFramework>(input.frameworks.map((f) => [f.id, f]));

  // Working copies of the allocations as share vectors: per (framework, role) and per role;
  // a role with a quota also keeps its allocation as Resources for the headroom.
  const fwAlloc = new Map<string, Map<string, number[]>>();
  const roleAlloc = new Map<string, number[]>();
  const quotaAlloc = new Map<string, Resources>();
  const roleMembers = new Map<string, Set<string>>();
  for (const f of input.frameworks) {
    const mine = new Map<string, number[]>();
    for (const [role, r] of f.allocation) {
      const v = shareVector(r);
      mine.set(role, v);
      const sum = roleAlloc.get(role) ?? [0, 0, 0, 0];
      addInto(sum, v);
      roleAlloc.set(role, sum);
      if (input.quotas?.has(role)) quotaAlloc.set(role, (quotaAlloc.get(role) ?? Resources.empty()).add(r));
    }
    fwAlloc.set(f.id, mine);
    for (const role of f.roles) {
      const members = roleMembers.get(role) ?? new Set<string>();
      members.add(f.id);
      roleMembers.set(role, members);
    }
  }
  const weightOf = (role: string): number => {
    const w = input.weights?.get(role);
    return w !== undefined && w > 0 ? w : 1;
  };
  const roleShare = (role: string): number => vectorShare(roleAlloc.get(role) ?? [0, 0, 0, 0], total) / weightOf(role);

  // Per role, the frameworks that may be offered it this cycle, by share in the role.
  const members = new Map<string, ShareOrder>();
  for (const [role, ids] of roleMembers) {
    const eligible = [...ids].filter((id) => {
      const f = frameworks.get(id);
      return f !== undefined && f.active && !f.suppressedRoles.has(role);
    });
    if (eligible.length > 0) members.set(role, new ShareOrder(eligible.map((id) => ({ id, share: vectorShare(fwAlloc.get(id)?.get(role) ?? [0, 0, 0, 0], total) }))));
  }
  const roles = new ShareOrder([...members.keys()].map((role) => ({ id: role, share: roleShare(role) })));
  const filters = filterLookup(input.filters);
  const now = input.now;

  const decisions: AllocationDecision[] = [];
  const offeredHere = new Set<string>();
  const changedRoles: string[] = [];
  agents.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const agent of agents) {
    // Nothing left (typically: all of it offered already): no role can be offered anything.
    if (agent.available.isEmpty()) continue;
    let available = agent.available;
    // What was offered on this agent and not yet taken out of `available` (taken out only
    // when another role looks at the agent: usually none does).
    let pending: Resources | undefined;
    offeredHere.clear();
    changedRoles.length = 0;
    for (const { id: role } of roles.items) {
      if (pending) available = available.subtract(pending);
      pending = undefined;
      const limit = input.quotas?.get(role);
      const allocatable = available.allocatableTo(role);
      const candidate = limit ? withinQuota(allocatable, quotaAlloc.get(role) ?? Resources.empty(), limit) : allocatable;
      if (candidate.isEmpty() || !isAllocatable(candidate)) continue;
      const order = members.get(role) as ShareOrder;
      for (let i = 0; i < order.items.length; i++) {
        const frameworkId = (order.items[i] as { id: string }).id;
        if (offeredHere.has(frameworkId)) continue;
        const pairFilters = filters.forPair(frameworkId, agent.id);
        if (pairFilters && pairFilters.some((f) => now < f.until && f.resources.contains(candidate))) continue;
        decisions.push({ frameworkId, agentId: agent.id, role, resources: candidate });
        offeredHere.add(frameworkId);
        pending = candidate;
        const offered = shareVector(candidate);
        let mine = fwAlloc.get(frameworkId);
        if (!mine) fwAlloc.set(frameworkId, (mine = new Map()));
        const next = mine.get(role) ?? [0, 0, 0, 0];
        addInto(next, offered);
        mine.set(role, next);
        const sum = roleAlloc.get(role) ?? [0, 0, 0, 0];
        addInto(sum, offered);
        roleAlloc.set(role, sum);
        if (limit) quotaAlloc.set(role, (quotaAlloc.get(role) ?? Resources.empty()).add(candidate));
        order.update(i, vectorShare(next, total));
        changedRoles.push(role);
        break;
      }
    }
    // The roles were ordered once for this agent; the next agent sees their new shares.
    for (const role of changedRoles) roles.update(roles.indexOf(role), roleShare(role));
  }
  return decisions;
}
