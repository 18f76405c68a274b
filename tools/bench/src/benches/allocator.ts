import { performance } from 'node:perf_hooks';
import { allocate, type AllocatorAgent, type AllocatorFramework, type AllocatorInput } from '@meso/master';
import { Resources } from '@meso/proto';
import type { Benchmark } from '../benchmark.js';
import { seeded } from '../random.js';
import { median, round } from '../stats.js';

/** Mesos 1.8's published cost of one allocation cycle (one role, no filters), seconds. */
const SIZES = [
  { agents: 1_000, frameworks: 100, mesosSeconds: 0.2 },
  { agents: 5_000, frameworks: 500, mesosSeconds: 0.4 },
  { agents: 10_000, frameworks: 1_000, mesosSeconds: 1.1 },
  { agents: 20_000, frameworks: 2_000, mesosSeconds: 3.8 },
] as const;

/**
 * A cluster as in Mesos's allocator benchmark: `agents` agents of <8 cpus, 16 GB, 1000
 * ports>, a third of them partly used; `frameworks` frameworks in one role, each holding
 * some tasks' worth of resources. Seeded: every run decides on the same world.
 */
export function allocatorWorld(agentCount: number, frameworkCount: number, seed = 1): AllocatorInput {
  const rand = seeded(seed);
  const total = Resources.of([
    { name: 'cpus', kind: 'scalar', value: 8, role: '*' },
    { name: 'mem', kind: 'scalar', value: 16384, role: '*' },
    { name: 'ports', kind: 'ranges', ranges: [{ begin: 31000, end: 32000 }], role: '*' },
  ]);
  const agents: AllocatorAgent[] = [];
  for (let i = 0; i < agentCount; i++) {
    const used = rand() < 1 / 3 ? Resources.scalars({ cpus: 1 + Math.floor(rand() * 4), mem: 1024 * (1 + Math.floor(rand() * 8)) }) : Resources.empty();
    agents.push({ id: `agent-${String(i).padStart(6, '0')}`, total, available: total.subtract(used), active: true });
  }
  const frameworks: AllocatorFramework[] = [];
  for (let i = 0; i < frameworkCount; i++) {
    const tasks = Math.floor(rand() * 20);
    frameworks.push({
      id: `framework-${String(i).padStart(5, '0')}`,
      roles: ['*'],
      suppressedRoles: new Set(),
      active: true,
      allocation: new Map([['*', Resources.scalars({ cpus: tasks * 0.5, mem: tasks * 256 })]]),
    });
  }
  return { agents, frameworks, filters: [], now: Date.now() };
}

export const allocatorBenchmark: Benchmark = {
  name: 'allocator',
  async run(ctx) {
    const sizes = ctx.full ? SIZES : SIZES.slice(0, 3);
    const repeats = ctx.full ? 5 : 3;
    const figures = [];
    for (const size of sizes) {
      const world = allocatorWorld(size.agents, size.frameworks);
      allocate(world); // warm-up: JIT, shapes
      const times: number[] = [];
      let offers = 0;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        offers = allocate(world).length;
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      ctx.log(`allocator ${size.agents} × ${size.frameworks}: ${round(ms)} ms per cycle (${offers} offers; runs ${times.map((t) => Math.round(t)).join(', ')} ms)`);
      figures.push({
        name: `cycle at ${size.agents / 1000}k agents × ${size.frameworks} frameworks`,
        value: ms,
        unit: 'ms',
        reference: { value: size.mesosSeconds * 1000, source: 'Mesos 1.8' },
        ...(size.agents === 10_000 ? { target: { op: '<' as const, value: 100 } } : {}),
      });
    }
    return {
      parameters: { sizes: sizes.map((s) => `${s.agents}x${s.frameworks}`), repeats, agent: 'cpus:8;mem:16384;ports:[31000-32000]', roles: 1, filters: 0 },
      figures,
      notes: ['One allocation cycle of allocate() (pure, in process): the median of the repeats after one warm-up cycle.'],
    };
  },
};
