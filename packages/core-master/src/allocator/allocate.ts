import { Resources } from '@meso/proto';
import { withinQuota } from './quota.js';
import { dominantShare, sortByShare } from './shares.js';
import type { AllocationDecision, AllocatorFramework, AllocatorInput, OfferFilter } from './types.js';

/** Below these amounts (both) an offer is not worth making: Mesos's minimum allocatable. */
export const MIN_ALLOCATABLE = { cpus: 0.01, mem: 32 } as const;

/** Whether resources are worth offering: at least 0.01 cpus or 32 MB of mem. */
export function isAllocatable(resources: Resources): boolean {
  return resources.scalar('cpus') >= MIN_ALLOCATABLE.cpus || resources.scalar('mem') >= MIN_ALLOCATABLE.mem;
}

function isFiltered(filters: readonly OfferFilter[], frameworkId: string, agentId: string, candidate: Resources, now: number): boolean {
  return filters.some((f) => f.frameworkId === frameworkId && f.agentId === agentId && now < f.until && f.resources.contains(candidate));
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
 */
export function allocate(input: AllocatorInput): AllocationDecision[] {
  const total = input.agents.reduce((sum, a) => (a.active ? sum.add(a.total) : sum), Resources.empty());
  const frameworks = new Map<string, AllocatorFramework>(input.frameworks.map((f) => [f.id, f]));

  // Working copies: allocation per (framework, role) and per role.
  const fwAlloc = new Map<string, Map<string, Resources>>();
  const roleAlloc = new Map<string, Resources>();
  const roleMembers = new Map<string, string[]>();
  for (const f of input.frameworks) {
    fwAlloc.set(f.id, new Map(f.allocation));
    for (const [role, r] of f.allocation) roleAlloc.set(role, (roleAlloc.get(role) ?? Resources.empty()).add(r));
    for (const role of f.roles) {
      const members = roleMembers.get(role) ?? [];
      members.push(f.id);
      roleMembers.set(role, members);
    }
  }
  const weightOf = (role: string): number => {
    const w = input.weights?.get(role);
    return w !== undefined && w > 0 ? w : 1;
  };

  const decisions: AllocationDecision[] = [];
  const offered = new Set<string>();
  const agents = [...input.agents].filter((a) => a.active).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const agent of agents) {
    let available = agent.available;
    const roles = sortByShare(roleMembers.keys(), (role) => dominantShare(roleAlloc.get(role), total) / weightOf(role));
    for (const role of roles) {
      const members = sortByShare(roleMembers.get(role) ?? [], (id) => dominantShare(fwAlloc.get(id)?.get(role), total));
      for (const frameworkId of members) {
        const framework = frameworks.get(frameworkId);
        if (!framework || !framework.active || framework.suppressedRoles.has(role)) continue;
        const pairKey = `${frameworkId}\u0000${agent.id}`;
        if (offered.has(pairKey)) continue;
        const limit = input.quotas?.get(role);
        const allocatable = available.allocatableTo(role);
        const candidate = limit ? withinQuota(allocatable, roleAlloc.get(role) ?? Resources.empty(), limit) : allocatable;
        if (candidate.isEmpty() || !isAllocatable(candidate)) continue;
        if (isFiltered(input.filters, frameworkId, agent.id, candidate, input.now)) continue;
        decisions.push({ frameworkId, agentId: agent.id, role, resources: candidate });
        offered.add(pairKey);
        available = available.subtract(candidate);
        const mine = fwAlloc.get(frameworkId) ?? new Map<string, Resources>();
        mine.set(role, (mine.get(role) ?? Resources.empty()).add(candidate));
        fwAlloc.set(frameworkId, mine);
        roleAlloc.set(role, (roleAlloc.get(role) ?? Resources.empty()).add(candidate));
        break;
      }
    }
  }
  return decisions;
}
