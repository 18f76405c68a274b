import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '@meso/sdk-scheduler';
import { Cleanup, isAlive, restartMasterProcess, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { EventLog, LONG_TASK, stateWhere, taskPid } from './support.js';

describe('master kill -9 and restart on the same work dir', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('agents re-register, frameworks re-subscribe with their ids, nothing running is lost or duplicated, and a failover timeout is still enforced', async () => {
    const master = await startMasterProcess(cleanup);
    const agents = [
      await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024'),
      await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024'),
    ];
    const stays = await EventLog.connect(cleanup, {
      master: master.address,
      framework: { name: 'stays', failoverTimeoutSeconds: 300, checkpoint: true, capabilities: ['PARTITION_AWARE'] },
      reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    });
    const pids = new Map<string, number>();
    for (const agent of agents) {
      const offer = await stays.offer(`an offer of ${agent.agentId}`, (o) => o.agentId === agent.agentId);
      const taskId = `stays-${agent.agentId}`;
      await stays.scheduler.launch(offer, [{ taskId, resources: { cpus: 0.5, mem: 64 }, command: LONG_TASK }]);
      pids.set(taskId, await taskPid((await stays.status(taskId, 'TASK_RUNNING')).sandbox ?? ''));
    }
    const leaves = await EventLog.connect(cleanup, {
      master: master.address,
      framework: { name: 'leaves', failoverTimeoutSeconds: 2, checkpoint: true, capabilities: ['PARTITION_AWARE'] },
    });
    const leavesId = leaves.frameworkId;
    const offer = await leaves.offer('an offer to the leaving framework');
    await leaves.scheduler.launch(offer, [{ taskId: 'leaves-1', resources: { cpus: 0.5, mem: 64 }, command: LONG_TASK }]);
    const orphanPid = await taskPid((await leaves.status('leaves-1', 'TASK_RUNNING')).sandbox ?? '');
    await leaves.close();
    // Its disconnect is durable before the master dies (a framework still subscribed at a
    // master's death gets the agents' re-registration window, 10 min, as a floor instead).
    // The registry's log (@meso/state's LogStateStore): lines of `<sha256> [records]`.
    const registry = join(master.workDir, 'registry');
    await waitFor(`the disconnect in the registry log in ${registry}`, async () => {
      const logs = (await readdir(registry)).filter((n) => n.endsWith('.log'));
      const lines = (await Promise.all(logs.map((n) => readFile(join(registry, n), 'utf8')))).join('').split('\n');
      const records = lines.flatMap((line) => {
        try {
          return JSON.parse(line.slice(65)) as { k: string; d?: { disconnectedTime?: number } }[];
        } catch {
          return [];
        }
      });
      return records.filter((r) => r.k === `frameworks/${leavesId}`).at(-1)?.d?.disconnectedTime !== undefined;
    });

    // The master dies before the leaving framework's failover timeout has run out.
    await master.proc.kill9();
    const from = stays.events.length;
    const restarted = await restartMasterProcess(cleanup, master);

    await stays.event('subscribed', (e) => e.reconnected && e.frameworkId === stays.frameworkId, from);
    const st = await stateWhere(restarted.address, 'both agents back with their tasks', (s) =>
      agents.every((a) => s.agents.some((x) => x.id === a.agentId && x.status === 'ACTIVE')) &&
      [...pids.keys()].every((id) => s.tasks.some((t) => t.id === id && t.state === 'TASK_RUNNING')),
    );
    expect(st.masterId).not.toBe((await waitFor('old id', () => master.proc.stdout.match(/meso master (\S+)/)?.[1]))); // a new master
    expect(st.agents.map((a) => a.id).sort()).toEqual(agents.map((a) => a.agentId).sort());
    for (const id of pids.keys()) expect(st.tasks.filter((t) => t.id === id)).toHaveLength(1);
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);
    await stays.scheduler.reconcile();
    for (const id of pids.keys()) await stays.status(id, 'TASK_RUNNING', (s) => s.reason === 'RECONCILIATION', from);
    expect(stays.events.slice(from).some((e) => e.type === 'update' && e.status.state !== 'TASK_RUNNING')).toBe(false);

    // The leaving framework's timeout survived the restart: its task is killed, it is removed.
    await stateWhere(restarted.address, 'the leaving framework removed and its task killed', (s) =>
      !s.frameworks.some((f) => f.id === leavesId) && !s.tasks.some((t) => t.id === 'leaves-1'),
    );
    await waitFor('the orphaned task process gone', () => !isAlive(orphanPid));
    await expect(
      Scheduler.connect({ master: restarted.address, connectTimeoutMs: 5_000, framework: { name: 'leaves', id: leavesId, failoverTimeoutSeconds: 2 } }),
    ).rejects.toMatchObject({ code: 'FRAMEWORK_REMOVED' });
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);
  });
});
