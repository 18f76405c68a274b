import { expect, it } from 'vitest';
import { tasksOf } from '../../src/checks.js';
import type { Clients, MasterState } from '../../src/clients.js';
import { restartContainer } from '../../src/control.js';
import { batchJobEnded, poll, redisHolds, redisRunning, unfinished } from '../poll.js';
import { REDIS_KEYS } from './sharing.js';
import { FRAMEWORKS, type Topology } from '../../src/topology.js';

const ids = (tasks: { id: string }[]): string[] => tasks.map((x) => x.id).sort();

/**
 * The master's container restarts (SIGTERM, same work dir): every framework re-subscribes under
 * its id, the agents re-register, and every task that ran before runs after — the same ones,
 * none lost, none started twice; a batch job running across the restart finishes each instance once.
 */
export function masterRestart(t: Topology, api: Clients): void {
  it('restart the master container: every framework re-subscribes, nothing running is lost or duplicated', async () => {
    await api.batch.submit({ id: 'across', user: 'dave', command: 'exec sleep 20', instances: 6, cpus: 0.1, mem: 128, maxRetries: 0 });
    const before = await poll('the across batch job fully running', async () => {
      const s = await api.state();
      return tasksOf(s, 'batch').length === 6 ? s : undefined;
    });
    const frameworkIds = Object.fromEntries(before.frameworks.map((f) => [f.name, f.id]));

    const restartedAt = Date.now();
    await restartContainer(t.master.containerId);

    const after = await poll('every framework re-subscribed and every agent re-registered', async () => {
      const s: MasterState = await api.state();
      const fws = FRAMEWORKS.every((n) => s.frameworks.some((f) => f.name === n && f.id === frameworkIds[n] && f.active && f.connected));
      const agents = t.agents.every((a) => s.agents.some((x) => x.hostname === a.hostname && x.status === 'ACTIVE'));
      return fws && agents ? s : undefined;
    }, 120_000);
    // Same running tasks of Marathon (its apps) and batch: not lost, not relaunched.
    expect(ids(tasksOf(after, 'marathon'))).toEqual(ids(tasksOf(before, 'marathon')));
    expect(ids(tasksOf(after, 'batch'))).toEqual(ids(tasksOf(before, 'batch')));
    expect(ids(tasksOf(after, 'redis'))).toEqual(ids(tasksOf(before, 'redis')));
    const cache = await redisRunning(api, 'cache');
    await redisHolds(cache.endpoints.master, REDIS_KEYS.prefix, REDIS_KEYS.count);
    expect((await api.marathon.tasks('/web')).length).toBe(3);
    expect((await api.marathon.tasks('/svc')).length).toBe(4);

    // The batch job finishes each instance once, in the attempt that ran across the restart.
    const job = await batchJobEnded(api, 'across');
    expect(job.state, unfinished(job)).toBe('succeeded');
    for (const task of job.tasks) expect(task.attempts.map((a: any) => a.state), `instance ${task.index}`).toEqual(['FINISHED']);
    expect(ids(job.tasks.map((x: any) => ({ id: x.attempts[0].taskId })))).toEqual(ids(tasksOf(before, 'batch')));

    // Chronos keeps its schedule through the new master.
    await poll('a tick run scheduled after the restart to succeed', async () => (await api.chronos.runs('tick')).find((r) => r.state === 'SUCCEEDED' && r.scheduledFor > restartedAt));
  });
}
