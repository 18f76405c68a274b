// Mesos's FaultToleranceTest and ReconciliationTest scenarios, master side, over loopback.
import { FrameworkInfo_Capability, TaskState, TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, TestFramework, waitFor } from './harness.js';
import { launchTask, nextUpdate, sendStatus } from './scenarios.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A second scheduler process taking over the framework id (a new client, as after a crash). */
async function failover(c: TestCluster, old: TestFramework, info: Record<string, unknown> = {}): Promise<TestFramework> {
  const next = await TestFramework.subscribe(c.master.address, { id: { value: old.frameworkId }, failoverTimeout: 60, ...info });
  c.frameworks.push(next);
  return next;
}

describe('FaultToleranceTest', () => {
  it('SchedulerFailover: a new scheduler re-subscribes with the id, the old one gets ERROR, the task lives on and obeys the new one', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent();
    const fw = await cluster.framework({ failoverTimeout: 60 });
    await launchTask(fw, agent, 't');
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1');
    await nextUpdate(fw, 't', TaskState.TASK_RUNNING);

    const next = await failover(cluster, fw);
    const err = await fw.events.take((e) => e.event?.$case === 'error', 'ERROR to the old scheduler');
    expect(err.event?.$case === 'error' && err.event.value.code).toBe('FRAMEWORK_REPLACED');
    await next.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' });
    await agent.inbox.take((m) => m.message?.$case === 'ack', 'the ack through the new scheduler');
    await next.call('kill', { taskId: { value: 't' }, agentId: { value: agent.agentId } });
    await agent.inbox.take((m) => m.message?.$case === 'killTask', 'KillTask from the new scheduler');
    const s = await cluster.state();
    expect(s.frameworks.map((f) => [f.id, f.connected])).toEqual([[fw.frameworkId, true]]);
  });

  it('SchedulerFailoverStatusUpdate: an update sent while the scheduler is away reaches it after re-subscription (the agent retries until acknowledged)', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent();
    const fw = await cluster.framework({ failoverTimeout: 60 });
    await launchTask(fw, agent, 't');
    fw.disconnect();
    await waitFor(async () => (await cluster!.state()).frameworks[0]?.connected === false, 'the framework to be disconnected');
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1'); // nobody to deliver it to
    await waitFor(async () => (await cluster!.state()).tasks[0]?.state === 'TASK_RUNNING', 'the master to record RUNNING');

    const next = await failover(cluster, fw);
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1'); // the agent's retry
    const update = await nextUpdate(next, 't', TaskState.TASK_RUNNING);
    expect(update.uuid).toBe('u1');
    await next.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' });
    const ack = await agent.inbox.take((m) => m.message?.$case === 'ack', 'ACK');
    expect(ack.message?.$case === 'ack' && ack.message.value.uuid).toBe('u1');
  });

  it('DisconnectedSchedulerLaunchLost: a launch whose outcome the scheduler missed is answered by reconciliation', async () => {
    cluster = await TestCluster.start({ agentPingIntervalSeconds: 0.05, maxMissedPings: 2 });
    const agent = await cluster.agent();
    const fw = await cluster.framework({ failoverTimeout: 60 });
    await launchTask(fw, agent, 't');
    fw.disconnect();
    await waitFor(async () => (await cluster!.state()).frameworks[0]?.connected === false, 'the framework to be disconnected');
    agent.answerPings = false; // partitioned while the scheduler is away: the task is lost unseen
    await waitFor(async () => (await cluster!.state()).agents[0]?.status === 'UNREACHABLE', 'the agent to be unreachable');

    const next = await failover(cluster, fw);
    await next.call('reconcile', { tasks: [{ taskId: { value: 't' } }] });
    const answer = await nextUpdate(next, 't');
    expect(answer).toMatchObject({ state: TaskState.TASK_LOST, reason: TaskStatus_Reason.REASON_RECONCILIATION, uuid: '' });
  });
});

describe('ReconciliationTest', () => {
  it('ImplicitNonTerminalTask: an empty RECONCILE answers every live task with reason RECONCILIATION', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent();
    const fw = await cluster.framework();
    await launchTask(fw, agent, 't');
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1');
    await nextUpdate(fw, 't', TaskState.TASK_RUNNING);
    await fw.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' });
    await fw.call('reconcile', { tasks: [] });
    expect(await nextUpdate(fw, 't')).toMatchObject({ state: TaskState.TASK_RUNNING, reason: TaskStatus_Reason.REASON_RECONCILIATION, uuid: '' });
  });

  it('UnknownTask: an explicit RECONCILE of a task the master never heard of answers LOST, or UNKNOWN when partition-aware', async () => {
    cluster = await TestCluster.start();
    const plain = await cluster.framework();
    const aware = await cluster.framework({ capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] });
    await plain.call('reconcile', { tasks: [{ taskId: { value: 'ghost' } }] });
    await aware.call('reconcile', { tasks: [{ taskId: { value: 'ghost' } }] });
    expect(await nextUpdate(plain, 'ghost')).toMatchObject({ state: TaskState.TASK_LOST, reason: TaskStatus_Reason.REASON_RECONCILIATION });
    expect(await nextUpdate(aware, 'ghost')).toMatchObject({ state: TaskState.TASK_UNKNOWN, reason: TaskStatus_Reason.REASON_RECONCILIATION });
  });
});

describe('fault injection through the transport', () => {
  it('a dropped acknowledgement: the agent re-sends, the scheduler sees a duplicate and acknowledges it again', async () => {
    cluster = await TestCluster.start({ faultInjection: [{ drop: 'ack', count: 1, on: 'to_agent' }] });
    const agent = await cluster.agent();
    const fw = await cluster.framework();
    await launchTask(fw, agent, 't');
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_FINISHED, 'u1');
    await nextUpdate(fw, 't', TaskState.TASK_FINISHED);
    await fw.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' }); // lost on the way to the agent
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_FINISHED, 'u1'); // so the agent retries
    const duplicate = await nextUpdate(fw, 't', TaskState.TASK_FINISHED);
    expect(duplicate.uuid).toBe('u1');
    await fw.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' });
    const ack = await agent.inbox.take((m) => m.message?.$case === 'ack', 'the second ACK');
    expect(ack.message?.$case === 'ack' && ack.message.value.uuid).toBe('u1');
    expect(agent.inbox.items.filter((m) => m.message?.$case === 'ack')).toHaveLength(0);
    const s = await cluster.state();
    expect(s.agents[0]?.resources.used.cpus ?? 0).toBe(0); // released once, not twice
  });

  it('a dropped status update is retried by the agent and then delivered; delayed offers still arrive', async () => {
    cluster = await TestCluster.start({ faultInjection: [{ drop: 'status_update', count: 1 }, { delay: 'offers', ms: 100, count: 1 }] });
    const agent = await cluster.agent();
    const fw = await cluster.framework();
    const started = Date.now();
    await launchTask(fw, agent, 't');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1'); // dropped
    sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1'); // the retry
    expect((await nextUpdate(fw, 't', TaskState.TASK_RUNNING)).uuid).toBe('u1');
    const metrics = await (await cluster.http('/metrics')).text();
    expect(metrics).toContain('meso_master_status_updates_received_total 1');
    expect(metrics).toContain('meso_master_faults_injected_total{action="drop"} 1');
    expect(metrics).toContain('meso_master_faults_injected_total{action="delay"} 1');
    expect(fw.events.items.filter((e) => e.event?.$case === 'update')).toHaveLength(0);
  });
});
