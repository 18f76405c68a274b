import { performance } from 'node:perf_hooks';
import { Cleanup, waitFor } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { loadCluster, startBenchMaster, timedState } from '../cluster.js';

/**
 * Master restart: N simulated agents running T tasks of F SDK frameworks; the master is
 * killed (-9) and started again on its port and work dir; seconds from the new master's
 * start until every agent re-registered (with its tasks) and every framework re-subscribed.
 */
export const restartBenchmark: Benchmark = {
  name: 'restart',
  async run(ctx) {
    const agents = ctx.full ? 10_000 : 2_000;
    const tasks = ctx.full ? 100_000 : 20_000;
    const frameworkCount = ctx.full ? 10 : 5;
    const cleanup = new Cleanup();
    try {
      const first = await startBenchMaster(cleanup);
      const { fleet, frameworks } = await loadCluster(cleanup, first.address, { agents, tasks, frameworks: frameworkCount, log: ctx.log });
      const subscribedBefore = frameworks.map((f) => f.subscribedAt.length);
      await first.proc.kill9();
      await waitFor('the agents to notice', () => fleet.registeredCount() === 0 || undefined, 120_000);
      const t0 = performance.now();
      const master = await startBenchMaster(cleanup, first);
      const listening = performance.now() - t0;
      // Event-driven, not a tight poll: the benchmark process hosts the simulated agents and
      // the frameworks, and polling every few ms took CPU from them (and from the master).
      const agentsBack = fleet.waitRegistered(600_000).then(() => performance.now());
      const frameworksBack = waitFor(
        'every framework to re-subscribe',
        () => frameworks.every((f, i) => f.subscribedAt.length > (subscribedBefore[i] ?? 0)) || undefined,
        600_000,
      ).then(() => Math.max(...frameworks.map((f) => f.subscribedAt[f.subscribedAt.length - 1] ?? 0)));
      const [agentsAt, frameworksAt] = await Promise.all([agentsBack, frameworksBack]);
      const seconds = (Math.max(agentsAt, frameworksAt) - t0) / 1000;
      const known = (JSON.parse((await timedState(master.address)).body) as { tasks: unknown[] }).tasks.length;
      ctx.log(`restart: listening after ${(listening / 1000).toFixed(2)} s, agents back after ${((agentsAt - t0) / 1000).toFixed(2)} s, frameworks after ${((frameworksAt - t0) / 1000).toFixed(2)} s; ${known} tasks known again`);
      const atReference = agents === 10_000 && tasks === 100_000;
      return {
        parameters: { agents, tasks, frameworks: frameworkCount },
        figures: [
          {
            name: `recovery at ${agents / 1000}k agents / ${tasks / 1000}k tasks`,
            value: seconds,
            unit: 's',
            ...(atReference ? { reference: { value: 4, source: 'Mesos 1.5 at 10k/100k' }, target: { op: '<' as const, value: 2 } } : {}),
          },
          { name: 'new master listening', value: listening / 1000, unit: 's' },
          { name: 'every agent re-registered', value: (agentsAt - t0) / 1000, unit: 's' },
          { name: 'every framework re-subscribed', value: (frameworksAt - t0) / 1000, unit: 's' },
          { name: 'tasks known after recovery', value: known, unit: 'tasks' },
        ],
        notes: [
          'From spawning the new master process (same port and work dir) until the last agent re-registered and the last framework re-subscribed.',
          'Simulated agents reconnect 125–375 ms after losing the stream, at most 500 registrations in flight; frameworks reconnect with the SDK (50–500 ms backoff).',
          ...(atReference ? [] : ['Quick size: Mesos 1.5 published 4 s at 10k agents / 100k tasks (run with --full to compare).']),
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
