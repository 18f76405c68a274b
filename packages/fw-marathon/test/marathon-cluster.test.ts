import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, waitFor } from '@meso/testing';
import { client, masterState, startCluster, startMarathonProcess } from './harness.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

const running = (tasks: any[]): any[] => tasks.filter((t) => t.state === 'TASK_RUNNING');

describe('fw-marathon on a real cluster', () => {
  it('spreads UNIQUE instances one per agent, says why a 4th waits, scales, and replaces a killed task with backoff', async () => {
    const { master } = await startCluster(cleanup, 3);
    const pids = await cleanup.tempDir('marathon-pids-');
    const marathon = await startMarathonProcess(cleanup, master.address, join(await cleanup.tempDir('marathon-'), 'work'));
    const api = client(() => marathon.url);
    const app = {
      id: '/prod/web',
      cmd: `echo $$ > ${pids}/$MESOS_TASK_ID.pid; exec sleep 600`,
      cpus: 0.1,
      mem: 16,
      instances: 3,
      backoffSeconds: 0.5,
      constraints: [['hostname', 'UNIQUE']],
    };
    expect((await api.call('POST', '/v2/apps', app)).status).toBe(201);
    await waitFor('3 running', async () => running(await api.tasks('/prod/web')).length === 3);
    const hosts = running(await api.tasks('/prod/web')).map((t) => t.host).sort();
    expect(hosts).toEqual(['host-1', 'host-2', 'host-3']);
    await waitFor('deployment done', async () => (await api.deployments()).length === 0);

    const scaled = await api.call('PUT', '/v2/apps/prod/web', { instances: 4 });
    expect(scaled.status).toBe(200);
    const why = await waitFor('a why-blocked reason', async () => (await api.deployments())[0]?.whyBlocked as string | undefined);
    expect(why).toMatch(/hostname:UNIQUE/);
    expect((await api.queue())[0]).toMatchObject({ count: 1 });
    expect((await api.queue())[0].whyBlocked).toMatch(/hostname:UNIQUE: host-\d already runs an instance/);

    // Scale down (force: the scale-up is still blocked) to 2: one task is killed.
    expect((await api.call('PUT', '/v2/apps/prod/web?force=true', { instances: 2 })).status).toBe(200);
    await waitFor('2 left', async () => (await api.tasks('/prod/web')).length === 2 && (await api.deployments()).length === 0, 30_000);

    // Kill one task's process: the app replaces it after its backoff and records the failure.
    const victim = (await api.tasks('/prod/web'))[0];
    const pid = Number((await readFile(join(pids, `${victim.id}.pid`), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    const failure = await waitFor('lastTaskFailure', async () => (await api.app('/prod/web')).lastTaskFailure);
    expect(failure).toMatchObject({ taskId: victim.id, state: 'TASK_FAILED' });
    await waitFor('replaced', async () => {
      const ts = running(await api.tasks('/prod/web'));
      return ts.length === 2 && !ts.some((t) => t.id === victim.id);
    }, 30_000);
    const state = await masterState(master.address);
    expect(state.tasks.filter((t) => t.state === 'TASK_RUNNING')).toHaveLength(2);
  });

  it('replaces the instances of a lost agent elsewhere', async () => {
    const { master, agents } = await startCluster(cleanup, 3);
    const marathon = await startMarathonProcess(cleanup, master.address, join(await cleanup.tempDir('marathon-'), 'work'));
    const api = client(() => marathon.url);
    await api.call('POST', '/v2/apps', { id: '/svc', cmd: 'exec sleep 600', cpus: 0.1, mem: 16, instances: 2, backoffSeconds: 0.2, constraints: [['hostname', 'UNIQUE']] });
    await waitFor('2 running', async () => running(await api.tasks('/svc')).length === 2);
    const before = running(await api.tasks('/svc'));
    const lostHost = before[0].host as string;
    const lost = agents[Number(lostHost.split('-')[1]) - 1]!;
    // A hung agent: it stops answering the master's pings. Resumed (then stopped) in cleanup.
    lost.proc.child.kill('SIGSTOP');
    cleanup.onCleanup(async () => lost.proc.child.kill('SIGCONT'));
    await waitFor('replaced on another agent', async () => {
      const ts = running(await api.tasks('/svc'));
      return ts.length === 2 && ts.every((t) => t.host !== lostHost);
    }, 30_000);
    const hosts = new Set(running(await api.tasks('/svc')).map((t) => t.host));
    expect(hosts.size).toBe(2);
    // No kill storm: the lost task, expunged, is killed once (the master remembers it for the
    // agent's return and answers TASK_UNREACHABLE once) — not again on every answer. Counted
    // after another app's deployment runs to the end (seconds during which a storm makes thousands).
    await api.call('POST', '/v2/apps', { id: '/other', cmd: 'exec sleep 600', cpus: 0.1, mem: 16, instances: 2 });
    await waitFor('the other app deployed', async () => running(await api.tasks('/other')).length === 2 && (await api.deployments()).length === 0, 30_000);
    const count = (text: string, what: string): number => text.split('\n').filter((l) => l.includes(what)).length;
    const lostId = before.find((t) => t.host === lostHost).id as string;
    const masterKills = count(master.proc.stderr, `kill of a task whose agent is away: sent when the agent re-registers with it`);
    expect(masterKills, 'the expunged task was killed (the master remembers it)').toBeGreaterThanOrEqual(1);
    expect(masterKills).toBeLessThanOrEqual(2);
    expect(count(marathon.proc.stderr, `killing a task fw-marathon does not know (orphan) taskId=${lostId}`)).toBeLessThanOrEqual(1);
  });

  it('a restart of meso-marathon in the middle of a deployment loses nothing and duplicates nothing', async () => {
    const { master } = await startCluster(cleanup, 2);
    const workDir = join(await cleanup.tempDir('marathon-'), 'work');
    let marathon = await startMarathonProcess(cleanup, master.address, workDir);
    const api = client(() => marathon.url);
    const frameworkId = (await api.call('GET', '/v2/info')).body.frameworkId;
    await api.call('POST', '/v2/apps', { id: '/batch/worker', cmd: 'exec sleep 600', cpus: 0.1, mem: 16, instances: 8 });
    await waitFor('some launched', async () => (await api.tasks('/batch/worker')).length > 0, 30_000);
    marathon.proc.child.kill('SIGKILL'); // a crash, not a clean stop
    await marathon.proc.exited;
    marathon = await startMarathonProcess(cleanup, master.address, workDir);
    expect((await api.call('GET', '/v2/info')).body.frameworkId).toBe(frameworkId);
    await waitFor('8 running and the deployment done', async () => running(await api.tasks('/batch/worker')).length === 8 && (await api.deployments()).length === 0, 40_000);
    const mine = (await masterState(master.address)).tasks.filter((t) => t.frameworkId === frameworkId && t.state === 'TASK_RUNNING');
    expect(mine).toHaveLength(8);
    expect(new Set(mine.map((t) => t.id))).toEqual(new Set((await api.tasks('/batch/worker')).map((t) => t.id)));
  });
});
