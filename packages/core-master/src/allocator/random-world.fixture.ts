// Test fixture: seeded random allocator inputs, shared by the property tests.
import { Resources } from '@meso/proto';
import type { AllocatorAgent, AllocatorFramework, OfferFilter } from './types.js';

/** mulberry32: a tiny seeded generator, so every failing case can be replayed by its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
export const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

export function randomResources(rand: () => number, role: string, scale: number): Resources {
  return Resources.of([
    { name: 'cpus', kind: 'scalar', value: int(rand, 0, 16 * scale) / 4, role },
    { name: 'mem', kind: 'scalar', value: int(rand, 0, 64 * scale) * 64, role },
    { name: 'ports', kind: 'ranges', ranges: [{ begin: 31000, end: 31000 + int(rand, 0, 100) }], role },
  ]);
}

/** A small random cluster: up to 12 agents (some with reservations, some inactive), up to 8 frameworks in roles a, b, c (some suppressed or inactive), a few filters. */
export function randomWorld(seed: number): { agents: AllocatorAgent[]; frameworks: AllocatorFramework[]; filters: OfferFilter[]; now: number } {
  const rand = seeded(seed);
  const agents: AllocatorAgent[] = [];
  for (let i = 0; i < int(rand, 1, 12); i++) {
    let total = randomResources(rand, '*', 2);
    if (rand() < 0.3) total = total.add(randomResources(rand, pick(rand, ['a', 'b']), 1));
    const taken = randomResources(rand, '*', 1);
    agents.push({ id: `s${i}`, total, available: total.subtract(taken), active: rand() < 0.85 });
  }
  const frameworks: AllocatorFramework[] = [];
  for (let i = 0; i < int(rand, 1, 8); i++) {
    const roles = [...new Set([pick(rand, ['a', 'b', 'c']), pick(rand, ['a', 'b', 'c'])])];
    const suppressed = new Set(roles.filter(() => rand() < 0.3));
    const allocation = new Map(roles.map((role) => [role, randomResources(rand, '*', 1)]));
    frameworks.push({ id: `f${i}`, roles, suppressedRoles: suppressed, active: rand() < 0.9, allocation });
  }
  const now = 1_000_000;
  const filters: OfferFilter[] = [];
  for (let i = 0; i < int(rand, 0, 6); i++) {
    const a = pick(rand, agents);
    const f = pick(rand, frameworks);
    filters.push({ frameworkId: f.id, agentId: a.id, resources: a.available, until: now + int(rand, -1000, 1000) });
  }
  return { agents, frameworks, filters, now };
}
