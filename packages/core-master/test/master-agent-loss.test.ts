import { TaskState, TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, waitFor, wireResources } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('agent loss and return over loopback', () => {
  it('a dropped agent becomes unreachable (TASK_LOST, FAILURE), and its return makes the task RUNNING again', async () => {
    cluster = await TestCluster.start({ agentPingIntervalSeconds: 0.05, maxMissedPings: 2 });
    const agent = await cluster.agent();
    const fw = await cluster.framework({ failoverTimeout: 60 });
    const [offer] = await fw.nextOffers();
    await fw.call('accept', {
      offerIds: [offer?.id],
      operations: [{ type: 1, launch: { taskInfos: [{ name: 't', taskId: { value: 't' }, resources: wireResources({ cpus: 1, mem: 128 }), command: { value: 'sleep 1000' } }] } }],
    });
    await agent.inbox.take((m) => m.message?.$case === 'runTask', 'RunTask');

    agent.drop();
    const lost = await fw.events.take((e) => e.event?.$case === 'update', 'TASK_LOST');
    expect(lost.event?.$case === 'update' && lost.event.value.status).toMatchObject({ state: TaskState.TASK_LOST, reason: TaskStatus_Reason.REASON_AGENT_DISCONNECTED, uuid: '' });
    await fw.events.take((e) => e.event?.$case === 'failure', 'FAILURE');
    const state = await cluster.state();
    expect(state.agents[0]?.status).toBe('UNREACHABLE');

    await agent.connect({}, { tasks: [{ taskId: { value: 't' }, frameworkId: { value: fw.frameworkId }, state: TaskState.TASK_RUNNING, resources: wireResources({ cpus: 1, mem: 128 }), name: 't', statuses: [], labels: [], role: '*', sandbox: '/sb', statusUpdateState: 0, statusUpdateUuid: '' }] });
    const back = await fw.events.take((e) => e.event?.$case === 'update', 'RUNNING again');
    expect(back.event?.$case === 'update' && back.event.value.status?.state).toBe(TaskState.TASK_RUNNING);
    await waitFor(async () => {
      const s = await cluster!.state();
      return s.agents[0]?.status === 'ACTIVE' && s.tasks[0]?.state === 'TASK_RUNNING' && s.agents[0]?.resources.used.cpus === 1;
    }, 'the agent and task to be back');
  });
});
