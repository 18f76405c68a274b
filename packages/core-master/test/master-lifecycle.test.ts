import { TaskState, TaskStatus_Source, type TaskStatus } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, waitFor, wireResources, type TestAgent, type TestFramework } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function commandTask(id: string, agentId: string, res: Record<string, number>) {
  return { name: id, taskId: { value: id }, agentId: { value: agentId }, resources: wireResources(res), command: { shell: true, value: 'sleep 100', arguments: [], environment: [], user: '' }, labels: [] };
}

async function sendStatus(agent: TestAgent, frameworkId: string, taskId: string, state: TaskState, uuid: string, sandbox = '/tmp/sandbox'): Promise<void> {
  const status: Partial<TaskStatus> = {
    taskId: { value: taskId },
    state,
    source: TaskStatus_Source.SOURCE_EXECUTOR,
    uuid,
    timestamp: Date.now() / 1000,
    agentId: { value: agent.agentId },
    frameworkId: { value: frameworkId },
    containerStatus: { sandbox, executorPid: 42 },
  };
  agent.send({ message: { $case: 'statusUpdate', value: { frameworkId: { value: frameworkId }, executorId: undefined, status: status as TaskStatus, latestState: state } } });
}

describe('master end to end over loopback', () => {
  it('registers, offers, launches, routes updates and acks, kills and re-offers, serves /state and /metrics', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({ attributes: [{ name: 'rack', type: 4, scalar: 0, ranges: [], set: [], text: 'r1' }] });
    expect(agent.agentId).toBe(`${cluster.master.masterId}-S0`);
    const fw: TestFramework = await cluster.framework({ name: 'e2e' });
    expect(fw.frameworkId).toBe(`${cluster.master.masterId}-0000`);

    const [offer] = await fw.nextOffers();
    expect(offer?.agentId?.value).toBe(agent.agentId);
    expect(offer?.resources.find((r) => r.name === 'cpus')?.scalar).toBe(4);
    expect(offer?.attributes[0]?.text).toBe('r1');

    await fw.call('accept', {
      offerIds: [offer?.id],
      operations: [{ type: 1, launch: { taskInfos: [commandTask('t1', agent.agentId, { cpus: 1, mem: 512 }), commandTask('t2', agent.agentId, { cpus: 1, mem: 512 })] } }],
      filters: { refuseSeconds: 0 },
    });
    const run1 = await agent.inbox.take((m) => m.message?.$case === 'runTask', 'RunTask t1');
    const run2 = await agent.inbox.take((m) => m.message?.$case === 'runTask', 'RunTask t2');
    const launched = [run1, run2].map((m) => (m.message?.$case === 'runTask' ? m.message.value.task?.taskId?.value : ''));
    expect(launched.sort()).toEqual(['t1', 't2']);

    // The unused part (2 cpus, 3072 mem) comes back as a new offer (refuse_seconds 0).
    const [rest] = await fw.nextOffers();
    expect(rest?.resources.find((r) => r.name === 'cpus')?.scalar).toBe(2);
    await fw.call('decline', { offerIds: [rest?.id], filters: { refuseSeconds: 3600 } });

    await sendStatus(agent, fw.frameworkId, 't1', TaskState.TASK_RUNNING, 'u-1');
    const upd = await fw.events.take((e) => e.event?.$case === 'update', 'UPDATE t1');
    expect(upd.event?.$case === 'update' && upd.event.value.status?.state).toBe(TaskState.TASK_RUNNING);
    await fw.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't1' }, uuid: 'u-1' });
    const ack = await agent.inbox.take((m) => m.message?.$case === 'ack', 'ack');
    expect(ack.message?.$case === 'ack' && ack.message.value.uuid).toBe('u-1');

    const state = await cluster.state();
    expect(state.masterId).toBe(cluster.master.masterId);
    expect(state.agents[0]).toMatchObject({ id: agent.agentId, status: 'ACTIVE', attributes: { rack: 'r1' } });
    expect(state.agents[0]?.resources.total).toEqual({ cpus: 4, mem: 4096, disk: 1000, ports: '[31000-32000]' });
    expect(state.agents[0]?.resources.used).toEqual({ cpus: 2, mem: 1024 });
    expect(state.frameworks[0]).toMatchObject({ id: fw.frameworkId, name: 'e2e', connected: true, roles: ['*'] });
    const t1 = state.tasks.find((t: { id: string }) => t.id === 't1');
    expect(t1).toMatchObject({ state: 'TASK_RUNNING', sandbox: '/tmp/sandbox', agentId: agent.agentId, resources: { cpus: 1, mem: 512 } });
    expect(t1?.statuses.map((s: { state: string }) => s.state)).toEqual(['TASK_STAGING', 'TASK_RUNNING']);

    // Kill t1: KillTask reaches the agent; the agent reports KILLED; resources free up and a new offer comes.
    await fw.call('kill', { taskId: { value: 't1' }, agentId: { value: agent.agentId } });
    const killMsg = await agent.inbox.take((m) => m.message?.$case === 'killTask', 'KillTask');
    expect(killMsg.message?.$case === 'killTask' && killMsg.message.value.taskId?.value).toBe('t1');
    await sendStatus(agent, fw.frameworkId, 't1', TaskState.TASK_KILLED, 'u-2');
    await fw.events.take((e) => e.event?.$case === 'update' && e.event.value.status?.state === TaskState.TASK_KILLED, 'UPDATE KILLED');
    const [again] = await fw.nextOffers();
    expect(again?.resources.find((r) => r.name === 'cpus')?.scalar).toBe(3);

    const after = await cluster.state();
    expect(after.completedTasks.map((t: { id: string }) => t.id)).toEqual(['t1']);
    expect(after.agents[0]?.resources.used).toEqual({ cpus: 1, mem: 512 });

    const metrics = await (await cluster.http('/metrics')).text();
    expect(metrics).toContain('# TYPE meso_master_agents gauge');
    expect(metrics).toContain('meso_master_agents{status="ACTIVE"} 1');
    expect(metrics).toContain('meso_master_tasks{state="TASK_STAGING"} 1');
    expect(metrics).toContain('meso_master_tasks{state="TASK_KILLED"} 1');
    expect(metrics).toContain('meso_master_resources_total{resource="cpus"} 4');
    expect(metrics).toMatch(/meso_master_calls_total\{type="ACCEPT"\} 1/);
    expect(metrics).toMatch(/meso_master_allocation_runs_total \d+/);
    expect(metrics).toContain('meso_master_allocation_duration_seconds_count');
    expect(metrics).toMatch(/meso_master_status_updates_forwarded_total [1-9]/);

    expect((await cluster.http('/health')).status).toBe(200);
    expect(await (await cluster.http('/health')).json()).toEqual({ healthy: true });
    const missing = await cluster.http('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not found' });
  });

  it('keeps framework ids across a master restart on the same work dir', async () => {
    cluster = await TestCluster.start();
    const fw = await cluster.framework({ name: 'durable', failoverTimeout: 3600 });
    const id = fw.frameworkId;
    fw.close();
    cluster.frameworks.length = 0;
    await cluster.restart();
    const again = await cluster.framework({ name: 'durable', failoverTimeout: 3600, id: { value: id } });
    expect(again.frameworkId).toBe(id);
    const state = await cluster.state();
    expect(state.frameworks.map((f: { id: string }) => f.id)).toEqual([id]);
  });

  it('a newer subscriber replaces the older, which gets ERROR FRAMEWORK_REPLACED', async () => {
    cluster = await TestCluster.start();
    const first = await cluster.framework({ failoverTimeout: 60 });
    const second = await cluster.framework({ failoverTimeout: 60, id: { value: first.frameworkId } });
    const err = await first.events.take((e) => e.event?.$case === 'error', 'ERROR');
    expect(err.event?.$case === 'error' && err.event.value.code).toBe('FRAMEWORK_REPLACED');
    await waitFor(() => first.events.ended, 'old stream to end');
    expect(second.streamId).not.toBe(first.streamId);
    // The old stream id is now stale.
    const { refusal } = await import('./harness.js');
    const r = await refusal(first.call('revive'));
    expect(r).toMatchObject({ code: 'STALE_STREAM', field: 'context.stream_id' });
  });
});
