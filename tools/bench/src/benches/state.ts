import { Cleanup } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { loadCluster, metric, startBenchMaster, timedState } from '../cluster.js';
import { LoadFramework } from '../load-framework.js';
import { median } from '../stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /state `samples` times in a row: the latencies (ms) and the body size of the last. */
async function sample(master: string, samples: number): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < samples; i++) {
    const r = await timedState(master);
    ms.push(r.ms);
    bytes = r.bytes;
  }
  return { ms, bytes };
}

/** Allocation cycles per second over `ms`, read from /metrics. */
async function allocationRate(master: string, during: Promise<unknown> | number): Promise<number> {
  const before = await metric(master, 'meso_master_allocation_runs_total');
  const t0 = Date.now();
  await (typeof during === 'number' ? sleep(during) : during);
  const after = await metric(master, 'meso_master_allocation_runs_total');
  return (after - before) / ((Date.now() - t0) / 1000);
}

/**
 * /state at N agents and T tasks: its latency alone, and while allocation runs all the time
 * (a framework declining every offer at once), with the allocation rate with and without
 * /state readers (does serving /state stall allocation?).
 */
export const stateBenchmark: Benchmark = {
  name: 'state',
  async run(ctx) {
    const agents = ctx.full ? 10_000 : 2_000;
    const tasks = ctx.full ? 100_000 : 20_000;
    const samples = ctx.full ? 10 : 5;
    const cleanup = new Cleanup();
    try {
      const master = await startBenchMaster(cleanup);
      await loadCluster(cleanup, master.address, { agents, tasks, frameworks: 5, log: ctx.log });
      const quiet = await sample(master.address, samples);
      // A framework that declines everything at once keeps the allocator busy.
      const churn = await LoadFramework.start({ name: 'churn', master: master.address, tasks: 0, cpus: 1, mem: 1, command: 'true', declineSeconds: 0 });
      cleanup.onCleanup(() => churn.close());
      const idleRate = await allocationRate(master.address, 3000);
      let busy: { ms: number[]; bytes: number } = { ms: [], bytes: 0 };
      const busyRate = await allocationRate(
        master.address,
        sample(master.address, samples).then((r) => (busy = r)),
      );
      ctx.log(`state: ${(quiet.bytes / 2 ** 20).toFixed(1)} MB; alone p50 ${median(quiet.ms).toFixed(0)} ms; with allocation p50 ${median(busy.ms).toFixed(0)} ms; allocation ${idleRate.toFixed(1)}/s without readers, ${busyRate.toFixed(1)}/s while /state is read`);
      const atReference = agents === 10_000;
      return {
        parameters: { agents, tasks, samples, bodyMB: Math.round(quiet.bytes / 2 ** 20) },
        figures: [
          { name: `/state at ${agents / 1000}k agents / ${tasks / 1000}k tasks (median)`, value: median(quiet.ms), unit: 'ms', ...(atReference ? { reference: { value: 1860, source: 'Mesos 1.7' }, target: { op: '<' as const, value: 250 } } : {}) },
          { name: '/state while allocation runs (median)', value: median(busy.ms), unit: 'ms', ...(atReference ? { reference: { value: 1860, source: 'Mesos 1.7' }, target: { op: '<' as const, value: 250 } } : {}) },
          { name: '/state worst', value: Math.max(...quiet.ms, ...busy.ms), unit: 'ms' },
          { name: 'allocation cycles/s, no /state readers', value: idleRate, unit: 'cycles/s' },
          { name: 'allocation cycles/s while /state is read back to back', value: busyRate, unit: 'cycles/s' },
        ],
        notes: [
          'Latency: one GET /state until the whole body arrived (HTTP on loopback), readers one after another.',
          'Mesos 1.7 measured 1.86 s at 10k agents with 100k running and 100k completed tasks; completed tasks here are only those the master keeps.',
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
