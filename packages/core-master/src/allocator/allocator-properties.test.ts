import { Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate.js';
import { dominantShare } from './shares.js';
import { int, randomWorld, seeded } from './random-world.fixture.js';
import type { AllocatorFramework } from './types.js';

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
