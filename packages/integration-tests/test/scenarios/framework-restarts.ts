import { expect, it } from 'vitest';
import { tasksOf } from '../../src/checks.js';
import type { Clients } from '../../src/clients.js';
import { restartContainer } from '../../src/control.js';
import { batchJobEnded, poll, redisHolds, redisRunning, unfinished } from '../poll.js';
import { REDIS_KEYS } from './sharing.js';
import type { FrameworkName, Topology } from '../../src/topology.js';

const ids = (tasks: { id: string }[]): string[] => tasks.map((x) => x.id).sort();

/** Restarts a framework's container and waits until the master shows it re-subscribed under the same id. */
async function restart(t: Topology, api: Clients, name: FrameworkName): Promise<number> {
  const id = (await api.framework(name))!.id;
  const at = Date.now();
  await restartContainer(t.frameworks[name].containerId);
  await poll(`${name} re-subscribed as ${id}`, async () => {
    const f = await api.framework(name);
    return f && f.id === id && f.active && f.connected && f.resources !== undefined ? true : undefined;
  });
  return at;
}

/** Each framework's container restarts in turn (SIGTERM, same work dir); each recovers its state. */
export function frameworkRestarts(t: Topology, api: Clients): void {
  it('restart fw-marathon: same framework, same apps, the same running tasks', async () => {
    const before = { info: await api.marathon.info(), web: ids(await api.marathon.tasks('/web')), svc: ids(await api.marathon.tasks('/svc')), master: ids(tasksOf(await api.state(), 'marathon')) };
    await restart(t, api, 'marathon');
    const info = await poll('Marathon serving again', async () => api.marathon.info().catch(() => undefined));
    expect(info.frameworkId).toBe(before.info.frameworkId);
    const apps = await poll('Marathon\'s apps back', async () => {
      const web = await api.marathon.tasks('/web');
      const svc = await api.marathon.tasks('/svc');
      return web.length === 3 && svc.length === 4 && [...web, ...svc].every((x) => x.state === 'TASK_RUNNING') ? { web: ids(web), svc: ids(svc) } : undefined;
    });
    expect(apps).toEqual({ web: before.web, svc: before.svc });
    expect(ids(tasksOf(await api.state(), 'marathon'))).toEqual(before.master);
  });

  it('restart fw-chronos: same jobs, the run history kept, the schedule goes on without running a time twice', async () => {
    const jobsBefore = (await api.chronos.jobs()).map((j: any) => j.name).sort();
    const runsBefore = await api.chronos.runs('tick');
    const restartedAt = await restart(t, api, 'chronos');
    const runs = await poll('a tick run scheduled after the restart to succeed', async () => {
      const r = await api.chronos.runs('tick').catch(() => undefined);
      return r?.some((x) => x.state === 'SUCCEEDED' && x.scheduledFor > restartedAt) ? r : undefined;
    });
    expect((await api.chronos.jobs()).map((j: any) => j.name).sort()).toEqual(jobsBefore);
    const times = new Set(runs.map((r) => r.scheduledFor));
    for (const r of runsBefore.filter((x) => x.state === 'SUCCEEDED')) expect(times.has(r.scheduledFor), `run ${r.scheduledFor} kept`).toBe(true);
    expect(times.size).toBe(runs.length);
  });

  it('restart fw-batch: its jobs and their outcomes kept; a job running across the restart finishes each instance once', async () => {
    const list = (await api.batch.list()).jobs.map((j: any) => [j.id, j.state]).sort();
    await api.batch.submit({ id: 'through-restart', user: 'erin', command: 'exec sleep 10', instances: 5, cpus: 0.1, mem: 128, maxRetries: 0 });
    const running = await poll('through-restart running', async () => {
      const s = await api.state();
      return tasksOf(s, 'batch').length === 5 ? ids(tasksOf(s, 'batch')) : undefined;
    });
    await restart(t, api, 'batch');
    const job = await batchJobEnded(api, 'through-restart');
    expect(job.state, unfinished(job)).toBe('succeeded');
    for (const task of job.tasks) expect(task.attempts.map((a: any) => a.state), `instance ${task.index}`).toEqual(['FINISHED']);
    expect(ids(job.tasks.map((x: any) => ({ id: x.attempts[0].taskId })))).toEqual(running);
    const after = (await api.batch.list()).jobs.map((j: any) => [j.id, j.state]).filter(([id]: [string]) => id !== 'through-restart').sort();
    expect(after).toEqual(list);
  });

  it('restart fw-redis: the same instance, master and epoch; every key still there', async () => {
    const before = await redisRunning(api, 'cache');
    const members = ids(tasksOf(await api.state(), 'redis'));
    await restart(t, api, 'redis');
    const after = await redisRunning(api, 'cache');
    expect([after.endpoints.master, after.epoch]).toEqual([before.endpoints.master, before.epoch]);
    expect(ids(tasksOf(await api.state(), 'redis'))).toEqual(members);
    await redisHolds(after.endpoints.master, REDIS_KEYS.prefix, REDIS_KEYS.count);
    await redisHolds(after.endpoints.replicas[0], REDIS_KEYS.prefix, REDIS_KEYS.count);
  });
}
