import { Cleanup } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { placeTasks, registerFleet, rssMB, startBenchMaster } from '../cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The master's RSS after a short settle (the lowest of a few reads, to skip GC peaks). */
async function settledRss(pid: number): Promise<number> {
  await sleep(2000);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(await rssMB(pid));
    await sleep(200);
  }
  return Math.min(...reads);
}

/** Master RSS: empty, with N simulated agents, then with T running tasks; per 1k agents and per 10k tasks. */
export const memoryBenchmark: Benchmark = {
  name: 'memory',
  async run(ctx) {
    const agents = ctx.full ? 10_000 : 2_000;
    const tasks = ctx.full ? 100_000 : 20_000;
    const cleanup = new Cleanup();
    try {
      const master = await startBenchMaster(cleanup);
      const empty = await settledRss(master.proc.pid);
      await registerFleet(cleanup, master.address, agents, ctx.log);
      const withAgents = await settledRss(master.proc.pid);
      await placeTasks(cleanup, master.address, { agents, tasks, frameworks: 5, log: ctx.log });
      const withTasks = await settledRss(master.proc.pid);
      const perKAgents = (withAgents - empty) / (agents / 1000);
      const perTenKTasks = (withTasks - withAgents) / (tasks / 10_000);
      ctx.log(`memory: empty ${empty.toFixed(0)} MB, ${agents} agents ${withAgents.toFixed(0)} MB, +${tasks} tasks ${withTasks.toFixed(0)} MB`);
      return {
        parameters: { agents, tasks },
        figures: [
          { name: 'master RSS, empty', value: empty, unit: 'MB' },
          { name: `master RSS, ${agents / 1000}k agents + ${tasks / 1000}k tasks`, value: withTasks, unit: 'MB' },
          { name: 'per 1k agents', value: perKAgents, unit: 'MB' },
          { name: 'per 10k tasks', value: perTenKTasks, unit: 'MB' },
        ],
        notes: ['RSS from /proc/<pid>/status, the lowest of five reads after 2 s of quiet (V8 keeps freed heap for a while, so these are upper bounds).'],
      };
    } finally {
      await cleanup.run();
    }
  },
};
