import { Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate.js';
import { int, pick, randomResources, randomWorld, seeded } from './random-world.fixture.js';
import { referenceAllocate } from './reference-allocate.fixture.js';
import type { AllocationDecision, AllocatorFramework, AllocatorInput } from './types.js';

const show = (ds: AllocationDecision[]): string[] => ds.map((d) => `${d.agentId} -> ${d.frameworkId} as ${d.role}: ${d.resources.toString()}`);

/**
 * A larger world than the property tests': up to 60 agents and 30 frameworks over five
 * roles with weights and quotas, frameworks in several roles (some listed twice), equal
 * allocations (so ties by id decide), filters on part of an agent, and filters expired.
 */
function richWorld(seed: number): AllocatorInput {
  const rand = seeded(seed);
  const roles = ['a', 'b', 'c', 'd', 'e'];
  const agents = Array.from({ length: int(rand, 1, 60) }, (_, i) => {
    let total = randomResources(rand, '*', 2);
    if (rand() < 0.3) total = total.add(randomResources(rand, pick(rand, roles), 1));
    return { id: `s${String(int(rand, 0, 999)).padStart(3, '0')}-${i}`, total, available: total.subtract(randomResources(rand, '*', 1)), active: rand() < 0.9 };
  });
  const same = randomResources(rand, '*', 1);
  const frameworks: AllocatorFramework[] = Array.from({ length: int(rand, 1, 30) }, (_, i) => {
    const mine = Array.from({ length: int(rand, 1, 3) }, () => pick(rand, roles));
    return {
      id: `f${int(rand, 0, 99)}-${i}`,
      roles: mine,
      suppressedRoles: new Set(mine.filter(() => rand() < 0.15)),
      active: rand() < 0.9,
      allocation: new Map(mine.map((role) => [role, rand() < 0.3 ? same : rand() < 0.2 ? Resources.empty() : randomResources(rand, '*', 1)])),
    };
  });
  const now = 5_000_000;
  const filters = Array.from({ length: int(rand, 0, 40) }, () => {
    const a = pick(rand, agents);
    return { frameworkId: pick(rand, frameworks).id, agentId: a.id, resources: rand() < 0.5 ? a.available : a.total.subtract(randomResources(rand, '*', 1)), until: now + int(rand, -1000, 1000) };
  });
  const weights = new Map(roles.filter(() => rand() < 0.4).map((role) => [role, pick(rand, [0, 0.5, 1, 2, 3])]));
  const quotas = new Map(roles.filter(() => rand() < 0.3).map((role) => [role, Resources.scalars({ cpus: int(rand, 0, 40) / 2, mem: int(rand, 0, 40) * 256 })]));
  return { agents, frameworks, filters, weights, quotas, now };
}

describe('allocate agrees with the straightforward reference, decision for decision', () => {
  it('on 300 small random worlds', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const world = randomWorld(seed);
      expect(show(allocate(world)), `seed ${seed}`).toEqual(show(referenceAllocate(world)));
    }
  });

  it('on 300 larger worlds with weights, quotas, multi-role frameworks, ties and partial filters', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const world = richWorld(seed);
      expect(show(allocate(world)), `seed ${seed}`).toEqual(show(referenceAllocate(world)));
    }
  });

  it('over successive cycles where frameworks keep what they were offered', () => {
    for (let seed = 1; seed <= 40; seed++) {
      let world = richWorld(1000 + seed);
      for (let cycle = 0; cycle < 5; cycle++) {
        const fast = allocate(world);
        expect(show(fast), `seed ${seed} cycle ${cycle}`).toEqual(show(referenceAllocate(world)));
        // Each framework keeps its offers (they count toward its allocation); agents lose them.
        const frameworks = world.frameworks.map((f) => {
          const allocation = new Map(f.allocation);
          for (const d of fast.filter((x) => x.frameworkId === f.id)) allocation.set(d.role, (allocation.get(d.role) ?? Resources.empty()).add(d.resources));
          return { ...f, allocation };
        });
        const agents = world.agents.map((a) => ({ ...a, available: fast.filter((d) => d.agentId === a.id).reduce((left, d) => left.subtract(d.resources), a.available).add(cycle % 2 ? a.total.subtract(a.available) : Resources.empty()) }));
        world = { ...world, agents, frameworks };
      }
    }
  });
});
