import { Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate.js';
import { dominantShare } from './shares.js';
import type { AllocatorAgent, AllocatorFramework, OfferFilter } from './types.js';

/** mulberry32: a tiny seeded generator, so every failing case can be replayed by its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

function randomResources(rand: () => number, role: string, scale: number): Resources {
  return Resources.of([
    { name: 'cpus', kind: 'scalar', value: int(rand, 0, 16 * scale) / 4, role },
    { name: 'mem', kind: 'scalar', value: int(rand, 0, 64 * scale) * 64, role },
    { name: 'ports', kind: 'ranges', ranges: [{ begin: 31000, end: 31000 + int(rand, 0, 100) }], role },
  ]);
}

function randomWorld(seed: number): { agents: AllocatorAgent[]; frameworks: AllocatorFramework[]; filters: OfferFilter[]; now: number } {
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

const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);

describe('allocator properties (300 seeded random worlds)', () => {
  it('never offers more than an agent has available, nor on an inactive agent', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed);
      const decisions = allocate(world);
      for (const agent of world.agents) {
        const offered = decisions.filter((d) => d.agentId === agent.id).reduce((sum, d) => sum.add(d.resources), Resources.empty());
        if (!agent.active) expect(offered.isEmpty(), `seed ${seed}: inactive agent ${agent.id} offered`).toBe(true);
        expect(agent.available.contains(offered), `seed ${seed}: ${agent.id} offered ${offered.toString()} of ${agent.available.toString()}`).toBe(true);
        // Offers on one agent never overlap: their sum is as large as each part.
        const parts = decisions.filter((d) => d.agentId === agent.id);
        const sumOfScalars = parts.reduce((s, d) => s + d.resources.scalar('cpus'), 0);
        expect(offered.scalar('cpus')).toBeCloseTo(sumOfScalars, 6);
      }
    }
  });

  it('never offers to a suppressed role or an inactive framework, and honours live filters', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed);
      for (const d of allocate(world)) {
        const f = world.frameworks.find((x) => x.id === d.frameworkId);
        expect(f?.active, `seed ${seed}`).toBe(true);
        expect(f?.suppressedRoles.has(d.role), `seed ${seed}: offered suppressed role ${d.role} to ${d.frameworkId}`).toBe(false);
        expect(f?.roles).toContain(d.role);
        for (const filter of world.filters) {
          const blocks = filter.frameworkId === d.frameworkId && filter.agentId === d.agentId && world.now < filter.until;
          if (blocks) expect(filter.resources.contains(d.resources), `seed ${seed}: filtered offer made`).toBe(false);
        }
      }
    }
  });

  it('makes at most one offer per (framework, agent) per cycle', () => {
    for (const seed of SEEDS) {
      const keys = allocate(randomWorld(seed)).map((d) => `${d.frameworkId}/${d.agentId}`);
      expect(new Set(keys).size, `seed ${seed}`).toBe(keys.length);
    }
  });

  it('converges to DRF: once full, no framework is ahead of another by more than one task', () => {
    for (const seed of SEEDS.slice(0, 100)) {
      const rand = seeded(seed);
      const total = Resources.scalars({ cpus: int(rand, 8, 64), mem: int(rand, 8, 64) * 1024 });
      const n = int(rand, 2, 6);
      const tasks = Array.from({ length: n }, () => Resources.scalars({ cpus: int(rand, 1, 8) / 4, mem: int(rand, 1, 16) * 128 }));
      const used: Resources[] = tasks.map(() => Resources.empty());
      // Progressive filling through the allocator: each cycle one agent is offered; the
      // framework launches one task if it fits, and the experiment stops at the first
      // framework whose task no longer fits (from then on it could not be helped anyway).
      for (let cycle = 0; cycle < 10_000; cycle++) {
        const available = used.reduce((free, u) => free.subtract(u), total);
        const frameworks: AllocatorFramework[] = used.map((u, i) => ({
          id: `f${i}`,
          roles: ['r'],
          suppressedRoles: new Set(),
          active: true,
          allocation: new Map([['r', u]]),
        }));
        const d = allocate({ agents: [{ id: 's', total, available, active: true }], frameworks, filters: [], now: 0 })[0];
        if (!d) break;
        const i = Number(d.frameworkId.slice(1));
        const task = tasks[i] as Resources;
        if (!d.resources.contains(task)) break;
        used[i] = (used[i] as Resources).add(task);
      }
      const shares = used.map((u) => dominantShare(u, total));
      const minShare = Math.min(...shares);
      shares.forEach((share, i) => {
        const taskShare = dominantShare(tasks[i], total);
        // share_i - (one task of i) <= every other share: i got its last task while it was lowest.
        expect(share - taskShare, `seed ${seed}: f${i} share ${share} vs min ${minShare}`).toBeLessThanOrEqual(minShare + 1e-9);
      });
    }
  });
});
