// Test fixture: the allocator as first written (sorting everything for every agent).
import { Resources } from '@meso/proto';
import { isAllocatable } from './allocate.js';
import { filterList } from './offer-filters.js';
import { withinQuota } from './quota.js';
import { dominantShare } from './shares.js';
import type { AllocationDecision, AllocatorFramework, AllocatorInput, OfferFilter } from './types.js';

function isFiltered(filters: readonly OfferFilter[], frameworkId: string, agentId: string, candidate: Resources, now: number): boolean {
  return filters.some((f) => f.frameworkId === frameworkId && f.agentId === agentId && now < f.until && f.resources.contains(candidate));
}

/** Orders ids by ascending share, ties by id. */
function sortByShare<T extends string>(ids: Iterable<T>, shareOf: (id: T) => number): T[] {
  const withShare = [...ids].map((id) => ({ id, share: shareOf(id) }));
  withShare.sort((a, b) => a.share - b.share || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return withShare.map((x) => x.id);
}

/**
 * The straightforward hierarchical DRF cycle the fast `allocate` must agree with, decision
 * for decision: per agent, roles and then members re-sorted from scratch by recomputed
 * shares, every filter scanned. Kept only for the equivalence property test.
 */
export function referenceAllocate(input: AllocatorInput): AllocationDecision[] {
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
        if (isFiltered(filterList(input.filters), frameworkId, agent.id, candidate, input.now)) continue;
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
