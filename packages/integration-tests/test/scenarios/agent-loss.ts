import { expect, it } from 'vitest';
import { hostOf } from '../../src/checks.js';
import type { Clients } from '../../src/clients.js';
import { killContainer, takenPorts } from '../../src/control.js';
import { batchJobEnded, poll, redisHolds, redisRunning, unfinished } from '../poll.js';
import { REDIS_KEYS } from './sharing.js';
import { startAgent, type Topology } from '../../src/topology.js';

/**
 * An agent's container is killed (the machine is gone with every task on it): the master marks
 * it unreachable; Marathon replaces its instances on the other agents, Chronos's next run
 * happens, batch retries the instances it lost, Redis fails over if its master was there;
 * nothing is lost. A new agent (agent-4, rack r4)
 * then joins and takes the UNIQUE app's third instance.
 */
export function agentLoss(t: Topology, api: Clients): void {
  it('stop an agent container: Marathon replaces its instances, Chronos runs on, batch retries its lost instances, Redis fails over', async () => {
    await api.marathon.deploy({ id: '/svc', cmd: 'exec sleep 100000', cpus: 0.1, mem: 16, instances: 4, constraints: [['hostname', 'MAX_PER', '2']], backoffSeconds: 1 });
    const svcBefore = await poll('four /svc instances running', async () => {
      const tasks = await api.marathon.tasks('/svc');
      return tasks.length === 4 && tasks.every((x) => x.state === 'TASK_RUNNING') ? tasks : undefined;
    });
    // The victim runs a /svc instance, and Redis's master when that agent runs one too.
    const cacheBefore = await redisRunning(api, 'cache');
    const redisMasterHost = cacheBefore.members.find((m: any) => m.role === 'master').hostname;
    const svcHosts = t.agents.filter((a) => svcBefore.some((x) => x.host === a.hostname));
    const victim = svcHosts.find((a) => a.hostname === redisMasterHost) ?? svcHosts[0]!;
    await api.batch.submit({ id: 'lossy', user: 'carol', command: 'exec sleep 4', instances: 30, cpus: 0.2, mem: 128, maxRetries: 2 });
    await poll(`a lossy attempt running on ${victim.hostname}`, async () => {
      const job = await api.batch.job('lossy');
      return job.tasks.some((x: any) => x.attempts.some((a: any) => a.state === 'RUNNING' && a.hostname === victim.hostname)) || undefined;
    });

    const killedAt = Date.now();
    await killContainer(victim.containerId);

    const lost = await poll(`the master to mark ${victim.hostname} unreachable`, async () => {
      const s = await api.state();
      return s.agents.find((a) => a.hostname === victim.hostname && a.status === 'UNREACHABLE') ? s : undefined;
    }, 60_000);
    // No task on the lost agent is shown running any more.
    expect(lost.tasks.filter((x) => hostOf(lost, x.agentId) === victim.hostname && x.state === 'TASK_RUNNING')).toEqual([]);

    // Marathon: /svc back to four running instances, none on the lost agent, the lost ones replaced.
    const svcAfter = await poll('/svc replaced on the other agents', async () => {
      const tasks = await api.marathon.tasks('/svc');
      return tasks.length === 4 && tasks.every((x) => x.state === 'TASK_RUNNING' && x.host !== victim.hostname) ? tasks : undefined;
    });
    const lostIds = svcBefore.filter((x) => x.host === victim.hostname).map((x) => x.id);
    expect(lostIds.length).toBeGreaterThan(0);
    expect(svcAfter.filter((x) => lostIds.includes(x.id))).toEqual([]);

    // Redis: a master and a replica again, none on the lost agent; if the master was there, a
    // replica was promoted (a new epoch); every key written before is still there.
    const cacheAfter = await redisRunning(api, 'cache', (inst) => inst.members.every((m: any) => m.hostname !== victim.hostname), 'redis cache on live agents only');
    if (redisMasterHost === victim.hostname) {
      expect(cacheAfter.epoch).toBeGreaterThan(cacheBefore.epoch);
      expect(cacheAfter.endpoints.master).not.toBe(cacheBefore.endpoints.master);
    } else {
      expect(cacheAfter.endpoints.master).toBe(cacheBefore.endpoints.master);
    }
    await redisHolds(cacheAfter.endpoints.master, REDIS_KEYS.prefix, REDIS_KEYS.count);
    await redisHolds(cacheAfter.endpoints.replicas[0], REDIS_KEYS.prefix, REDIS_KEYS.count);

    // Chronos: the next run after the loss happens and succeeds.
    await poll('a tick run scheduled after the loss to succeed', async () => (await api.chronos.runs('tick')).find((r) => r.state === 'SUCCEEDED' && r.scheduledFor > killedAt));

    // Batch: every instance succeeded exactly once; those lost on the victim were retried elsewhere.
    const job = await batchJobEnded(api, 'lossy');
    expect(job.state, unfinished(job)).toBe('succeeded');
    expect(job.instances.succeeded).toBe(30);
    const retried = job.tasks.filter((x: any) => x.attempts.some((a: any) => a.hostname === victim.hostname && a.state !== 'FINISHED'));
    expect(retried.length).toBeGreaterThan(0);
    for (const task of job.tasks) {
      const finished = task.attempts.filter((a: any) => a.state === 'FINISHED');
      expect(finished, `instance ${task.index}: ${JSON.stringify(task.attempts)}`).toHaveLength(1);
    }

    // A new agent joins; the UNIQUE app gets its third instance there.
    const fresh = await startAgent(t.image, t.session, t.master.address, 4, takenPorts(t));
    t.agents.splice(t.agents.indexOf(victim), 1, fresh);
    const s = await poll('three /web instances on three live agents', async () => {
      const st = await api.state();
      const web = (await api.marathon.tasks('/web')).filter((x) => x.state === 'TASK_RUNNING');
      return web.length === 3 ? st : undefined;
    });
    expect(new Set((await api.marathon.tasks('/web')).map((x) => x.host))).toEqual(new Set(t.agents.map((a) => a.hostname)));
    expect(s.agents.filter((a) => a.status === 'ACTIVE').map((a) => a.hostname).sort()).toEqual(t.agents.map((a) => a.hostname).sort());
  });
}
