import { Cleanup, waitFor } from '@meso/testing';
import type { Benchmark } from '../benchmark.js';
import { frameworkErrors, startBenchAgent, startBenchMaster, startFrameworks } from '../cluster.js';
import { spawnRateInFreshProcess } from '../spawn-loop.js';

const COMMAND = 'true';
/** <8 cpus> with tasks of 0.1 cpus: up to 80 tasks at once, the concurrency of the raw loop too. */
const AGENT = 'cpus:8;mem:8192;disk:10240';
const CONCURRENCY = 80;

/**
 * Real launches on one agent: a master and a real agent (processes), one SDK framework
 * launching N command tasks `true`; tasks/s from the first ACCEPT to the last TASK_FINISHED,
 * beside a plain spawn loop of `sh -c true` at the same concurrency in the same run.
 */
export const launchBenchmark: Benchmark = {
  name: 'launch',
  async run(ctx) {
    const tasks = ctx.full ? 1000 : 200;
    // From a fresh process: the benchmark process is large by now, and a fork costs by size.
    const raw = await spawnRateInFreshProcess(COMMAND, tasks, CONCURRENCY);
    ctx.log(`launch: raw spawn loop ${Math.round(raw)} runs/s`);
    const cleanup = new Cleanup();
    try {
      const master = await startBenchMaster(cleanup);
      await startBenchAgent(cleanup, master.address, AGENT);
      const [fw] = await startFrameworks(cleanup, master.address, 1, tasks, undefined, COMMAND, { cpus: 0.1, mem: 32 });
      if (!fw) throw new Error('no framework');
      await waitFor(`${tasks} tasks ended`, () => fw.endedAt.size >= tasks || undefined, 900_000);
      const failed = frameworkErrors([fw]);
      if (failed.length > 0) ctx.log(`launch: ${failed.length} tasks did not finish: ${failed.slice(0, 3).join('; ')}`);
      const seconds = (Math.max(...fw.endedAt.values()) - Math.min(...fw.acceptedAt.values())) / 1000;
      const rate = tasks / seconds;
      ctx.log(`launch: ${tasks} tasks through Meso in ${seconds.toFixed(2)} s = ${rate.toFixed(1)} tasks/s (${((100 * rate) / raw).toFixed(0)}% of raw)`);
      return {
        parameters: { tasks, command: COMMAND, agent: AGENT, task: 'cpus:0.1;mem:32', concurrency: CONCURRENCY },
        figures: [
          { name: `${tasks} launches of \`${COMMAND}\` on one agent`, value: rate, unit: 'tasks/s', reference: { value: 1000 / 30.7, source: 'Mesos 1.7: 1,000 containers in 30.7 s' } },
          { name: 'raw spawn loop (same command, same concurrency)', value: raw, unit: 'runs/s' },
          { name: 'Meso ÷ raw spawn rate', value: rate / raw, unit: '', target: { op: '>=', value: 0.5 } },
          { name: 'tasks that did not end TASK_FINISHED', value: failed.length, unit: 'tasks' },
        ],
        notes: [...failed.slice(0, 3), 'Rate from the first ACCEPT to the last terminal update the framework saw; each task runs in its own sandbox and container, under the command executor the agent hosts in its own process (no executor process per task).'],
      };
    } finally {
      await cleanup.run();
    }
  },
};
