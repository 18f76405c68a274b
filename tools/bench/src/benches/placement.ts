import { Cleanup, waitFor } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { cpuSeconds, frameworkErrors, runningCount, spawnSimAgents, startBenchMaster, startFrameworks } from '../cluster.js';
import { percentile } from '../stats.js';

/**
 * Placement throughput: a master process, 1,000 simulated agents (`meso sim-agents`, a process
 * of their own), several SDK frameworks (in the benchmark's process) placing long-running tasks
 * as fast as offers come; tasks/s from the first ACCEPT to the last RUNNING the frameworks saw,
 * each task's ACCEPT → RUNNING latency, and the CPU each process spent per 1,000 tasks (a
 * figure the load of a shared machine hardly moves).
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
      const sims = await spawnSimAgents(cleanup, master.address, agents, 300_000);
      ctx.log(`placement: ${agents} simulated agents registered; ${frameworkCount} frameworks place ${tasks} tasks`);
      const cpu = async (): Promise<{ master: number; sims: number; bench: number }> => ({
        master: await cpuSeconds(master.proc.pid),
        sims: await cpuSeconds(sims.pid),
        bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      });
      const cpu0 = await cpu();
      const frameworks = await startFrameworks(cleanup, master.address, frameworkCount, tasks);
      await waitFor(`${tasks} tasks RUNNING`, () => runningCount(frameworks) >= tasks || frameworkErrors(frameworks).length > 0 || undefined, 900_000);
      const cpu1 = await cpu();
      const errors = frameworkErrors(frameworks);
      if (errors.length > 0) throw new Error(`frameworks saw errors: ${errors.slice(0, 5).join('; ')}`);
      const accepted = frameworks.flatMap((f) => [...f.acceptedAt.values()]);
      const running = frameworks.flatMap((f) => [...f.runningAt.values()]);
      const latencies = frameworks.flatMap((f) => [...f.runningAt].map(([id, at]) => at - (f.acceptedAt.get(id) ?? at)));
      const seconds = (Math.max(...running) - Math.min(...accepted)) / 1000;
      const rate = tasks / seconds;
      const perK = (k: 'master' | 'sims' | 'bench'): number => ((cpu1[k] - cpu0[k]) * 1000) / (tasks / 1000);
      ctx.log(`placement: ${tasks} tasks in ${seconds.toFixed(2)} s = ${Math.round(rate)} tasks/s; p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
      ctx.log(`placement: CPU per 1k tasks: master ${perK('master').toFixed(0)} ms, frameworks ${perK('bench').toFixed(0)} ms, simulated agents ${perK('sims').toFixed(0)} ms`);
      return {
        parameters: { agents, frameworks: frameworkCount, tasks, task: 'cpus:0.05;mem:16', agent: 'cpus:8;mem:16384', allocationInterval: '100ms' },
        figures: [
          { name: 'placement rate (ACCEPT → RUNNING)', value: rate, unit: 'tasks/s', reference: { value: 3750, source: 'Nomad C1M, 5 servers' }, target: { op: '>=', value: 10_000 } },
          { name: 'placement rate vs Kubernetes', value: rate, unit: 'tasks/s', reference: { value: 400, source: 'Kubernetes scheduler test minimum' } },
          { name: 'launch latency p50', value: percentile(latencies, 50), unit: 'ms' },
          { name: 'launch latency p99', value: percentile(latencies, 99), unit: 'ms' },
          { name: 'master CPU per 1k tasks', value: perK('master'), unit: 'ms' },
          { name: 'frameworks (SDK) CPU per 1k tasks', value: perK('bench'), unit: 'ms' },
          { name: 'simulated agents CPU per 1k tasks', value: perK('sims'), unit: 'ms' },
        ],
        notes: [
          'Master, simulated agents (meso sim-agents) and the frameworks (the benchmark process) are three processes on the same cores.',
          'Latency: from the ACCEPT call the framework made to the TASK_RUNNING update it received.',
          'CPU per 1k tasks: user + system time of each process from just before the frameworks subscribe until every task is RUNNING, per 1,000 tasks.',
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
