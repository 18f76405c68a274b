import { expect, it } from 'vitest';
import { overcommitted, tasksOf, usedBy, hostOf } from '../../src/checks.js';
import type { Clients } from '../../src/clients.js';
import { poll, redisHolds, redisRunning, unfinished } from '../poll.js';
import { writeKeys } from '../../src/redis-data.js';
import { FRAMEWORKS, type Topology } from '../../src/topology.js';

/** The keys written to the Redis instance in the first scenario and read back after each fault. */
export const REDIS_KEYS = { prefix: 'k', count: 200 };

/** The first scenario: every framework registered at once, all making progress together on one shared cluster. */
export function sharing(t: Topology, api: Clients): void {
  it('runs a Marathon app, a Chronos job, a batch array of 100 and a replicated Redis together; /state shows the cluster shared, no agent over its total', async () => {
    const registered = await poll('every framework registered and connected', async () => {
      const s = await api.state();
      return FRAMEWORKS.every((n) => s.frameworks.some((f) => f.name === n && f.active && f.connected)) && s.agents.length === 3 ? s : undefined;
    });
    expect(registered.agents.map((a) => [a.hostname, a.attributes['rack'], a.status]).sort()).toEqual(t.agents.map((a) => [a.hostname, a.rack, 'ACTIVE']));

    const submitted = Date.now();
    await api.marathon.deploy({ id: '/web', cmd: 'exec sleep 100000', cpus: 0.1, mem: 32, instances: 3, constraints: [['hostname', 'UNIQUE']], backoffSeconds: 1 });
    await api.chronos.add({ name: 'tick', command: 'echo tick', schedule: 'R//PT3S', cpus: 0.1, mem: 16, disk: 0 });
    await api.redis.create({ name: 'cache', capacityMb: 32, replicas: 1, distribution: 1 });
    await api.batch.submit({ id: 'array-100', user: 'ann', command: 'echo $MESO_BATCH_INDEX', instances: 100, cpus: 0.1, mem: 128, maxRetries: 2 });

    // While the array runs, every /state seen keeps each agent within its total, and at some
    // point Marathon's app and batch work hold resources at the same time.
    const overs: string[] = [];
    let sharedSeen = false;
    const job = await poll('the batch array of 100 to succeed', async () => {
      const s = await api.state();
      overs.push(...overcommitted(s));
      if (usedBy(s, 'marathon') > 0 && usedBy(s, 'batch') > 0) sharedSeen = true;
      const j = await api.batch.job('array-100');
      return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
    }, 180_000);
    expect(job.state, unfinished(job)).toBe('succeeded');
    expect(overs).toEqual([]);
    expect(sharedSeen).toBe(true);
    expect(job.instances.succeeded).toBe(100);
    for (const task of job.tasks) expect(task.attempts.filter((a: any) => a.state === 'FINISHED'), `instance ${task.index}`).toHaveLength(1);

    // Marathon: three instances, one per agent (UNIQUE hostname), running at the master.
    const state = await poll('three /web instances running on three agents', async () => {
      const s = await api.state();
      return tasksOf(s, 'marathon').length === 3 ? s : undefined;
    });
    expect(new Set(tasksOf(state, 'marathon').map((task) => hostOf(state, task.agentId)))).toEqual(new Set(['agent-1', 'agent-2', 'agent-3']));
    expect((await api.marathon.tasks('/web')).map((task) => task.state)).toEqual(['TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING']);
    expect(usedBy(state, 'marathon')).toBeGreaterThanOrEqual(0.3);

    // Redis: a master and a replica on two agents; what is written to the master is read back from the replica.
    const cache = await redisRunning(api, 'cache');
    expect(new Set(cache.members.map((m: any) => m.hostname)).size).toBe(2);
    await writeKeys(cache.endpoints.master, REDIS_KEYS.prefix, REDIS_KEYS.count);
    await redisHolds(cache.endpoints.replicas[0], REDIS_KEYS.prefix, REDIS_KEYS.count);
    const withRedis = await api.state();
    expect(tasksOf(withRedis, 'redis')).toHaveLength(2);
    expect(usedBy(withRedis, 'redis')).toBeGreaterThan(0);
    expect(overcommitted(withRedis)).toEqual([]);

    // Chronos: runs every 3 s succeeded while the array was running, once per scheduled time.
    const arrayEnded = Date.parse(job.endedAt);
    const runs = await poll('chronos runs of tick', async () => {
      const r = await api.chronos.runs('tick');
      return r.filter((x) => x.state === 'SUCCEEDED').length >= 2 ? r : undefined;
    });
    expect(runs.filter((r) => r.state === 'SUCCEEDED' && r.scheduledFor >= submitted && r.scheduledFor <= arrayEnded).length, JSON.stringify(runs)).toBeGreaterThanOrEqual(1);
    expect(new Set(runs.map((r) => r.scheduledFor)).size).toBe(runs.length);
  });
}
