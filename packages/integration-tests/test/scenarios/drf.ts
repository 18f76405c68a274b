import { expect, it } from 'vitest';
import { scalar, tasksOf } from '../../src/checks.js';
import { ok, type Clients } from '../../src/clients.js';
import { poll } from '../poll.js';
import type { Topology } from '../../src/topology.js';

/**
 * DRF between frameworks: batch asks for far more than the cluster has (0.5-cpu tasks, leaving
 * under 0.5 cpu free on every agent), yet a new Marathon app and a Chronos job of 0.5 cpu each
 * start while batch work is still queued — the allocator offers the freed resources to the
 * frameworks with the lowest dominant share first.
 */
export function drf(t: Topology, api: Clients): void {
  it('with the cluster saturated by batch work, Marathon and Chronos still get offers and their work starts', async () => {
    await api.batch.submit({ id: 'saturate', user: 'bob', command: 'exec sleep 10', instances: 200, cpus: 0.5, mem: 128, maxRetries: 0 });
    const saturatedAt = await poll('the cluster saturated by batch (under 0.5 cpu free on every agent)', async () => {
      const s = await api.state();
      const full = s.agents.every((a) => scalar(a.resources.total, 'cpus') - scalar(a.resources.used, 'cpus') < 0.5);
      return full && tasksOf(s, 'batch').length >= 6 ? Date.now() : undefined;
    });

    try {
      await saturatedWork(api, saturatedAt).catch(async (e: unknown) => {
        // Why Marathon's instances wait, as Marathon sees it (its launch queue: delays, unused offers).
        const queue = await ok(t.frameworks.marathon.url, 'GET', '/v2/queue').catch((q: unknown) => (q as Error).message);
        throw new Error(`${(e as Error).message}\nmarathon /v2/queue: ${JSON.stringify(queue).slice(0, 3000)}`);
      });
    } finally {
      // Free the cluster for the next scenarios, on failure too: the batch job killed, the app removed.
      await ok(t.frameworks.batch.url, 'POST', '/v1/jobs/saturate/kill');
      // force: the app's deployment may still be finishing (Marathon answers 409 to a plain DELETE then).
      await ok(t.frameworks.marathon.url, 'DELETE', '/v2/apps/drf?force=true', undefined, [200, 404]);
    }
    await poll('batch and /drf gone from the agents', async () => {
      const s = await api.state();
      return tasksOf(s, 'batch', ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']).length === 0 && tasksOf(s, 'marathon').length === 3 ? true : undefined;
    });
    expect((await api.batch.job('saturate')).state).toBe('killed');
  });
}

/** A new Marathon app and a Chronos job of 0.5 cpu each, and the periodic job, all start while batch still has most of its work queued. */
async function saturatedWork(api: Clients, saturatedAt: number): Promise<void> {
  await api.marathon.deploy({ id: '/drf', cmd: 'exec sleep 100000', cpus: 0.5, mem: 32, instances: 2, backoffSeconds: 1 });
  await api.chronos.add({ name: 'heavy', command: 'echo heavy', schedule: 'R1//PT60S', cpus: 0.5, mem: 16, disk: 0 });

  await poll('both /drf instances running', async () => {
    const tasks = await api.marathon.tasks('/drf');
    return tasks.length === 2 && tasks.every((x) => x.state === 'TASK_RUNNING') ? tasks : undefined;
  });
  await poll('the heavy chronos job to succeed', async () => {
    const runs = await api.chronos.runs('heavy');
    return runs.find((r) => r.state === 'SUCCEEDED');
  });
  // The small periodic job kept running meanwhile too.
  await poll('a tick run launched after saturation to succeed', async () => (await api.chronos.runs('tick')).find((r) => r.state === 'SUCCEEDED' && r.launchedAt >= saturatedAt));
  // All three started while batch still had most of its 200 instances waiting: they were
  // served ahead of the batch queue, not after it drained.
  const batchJob = await api.batch.job('saturate');
  expect(batchJob.state).toBe('running');
  expect(batchJob.instances.pending, JSON.stringify(batchJob.instances)).toBeGreaterThan(100);
}
