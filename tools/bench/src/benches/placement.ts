import { startSimAgents } from '@meso/cli';
import { Cleanup, waitFor } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { frameworkErrors, runningCount, startBenchMaster, startFrameworks } from '../cluster.js';
import { percentile } from '../stats.js';

/**
 * Placement throughput: a master process, 1,000 simulated agents, several SDK frameworks
 * placing long-running tasks as fast as offers come; tasks/s from the first ACCEPT to the
 * last RUNNING the frameworks saw, and each task's ACCEPT → RUNNING latency.
 */
export const placementBenchmark: Benchmark = {
  name: 'placement',
  async run(ctx) {
    const agents = 1000;
    const frameworkCount = ctx.full ? 10 : 4;
    const tasks = ctx.full ? 100_000 : 20_000;
    const cleanup = new Cleanup();
    try {
      const master = await startBenchMaster(cleanup);
      const fleet = startSimAgents({ master: master.address, count: agents });
      cleanup.onCleanup(async () => fleet.close());
      await fleet.waitRegistered(300_000);
      ctx.log(`placement: ${agents} simulated agents registered; ${frameworkCount} frameworks place ${tasks} tasks`);
      const frameworks = await startFrameworks(cleanup, master.address, frameworkCount, tasks);
      await waitFor(`${tasks} tasks RUNNING`, () => runningCount(frameworks) >= tasks || frameworkErrors(frameworks).length > 0 || undefined, 900_000);
      const errors = frameworkErrors(frameworks);
      if (errors.length > 0) throw new Error(`frameworks saw errors: ${errors.slice(0, 5).join('; ')}`);
      const accepted = frameworks.flatMap((f) => [...f.acceptedAt.values()]);
      const running = frameworks.flatMap((f) => [...f.runningAt.values()]);
      const latencies = frameworks.flatMap((f) => [...f.runningAt].map(([id, at]) => at - (f.acceptedAt.get(id) ?? at)));
      const seconds = (Math.max(...running) - Math.min(...accepted)) / 1000;
      const rate = tasks / seconds;
      ctx.log(`placement: ${tasks} tasks in ${seconds.toFixed(2)} s = ${Math.round(rate)} tasks/s; p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
      return {
        parameters: { agents, frameworks: frameworkCount, tasks, task: 'cpus:0.05;mem:16', agent: 'cpus:8;mem:16384', allocationInterval: '100ms' },
        figures: [
          { name: 'placement rate (ACCEPT → RUNNING)', value: rate, unit: 'tasks/s', reference: { value: 3750, source: 'Nomad C1M, 5 servers' }, target: { op: '>=', value: 10_000 } },
          { name: 'placement rate vs Kubernetes', value: rate, unit: 'tasks/s', reference: { value: 400, source: 'Kubernetes scheduler test minimum' } },
          { name: 'launch latency p50', value: percentile(latencies, 50), unit: 'ms' },
          { name: 'launch latency p99', value: percentile(latencies, 99), unit: 'ms' },
        ],
        notes: [
          'Master in its own process; simulated agents and the frameworks share the benchmark process (one Node event loop) on the same 2 cores.',
          'Latency: from the ACCEPT call the framework made to the TASK_RUNNING update it received.',
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
