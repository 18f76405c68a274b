// Batches on the wire: many acknowledgements in one ACKNOWLEDGE call, an agent's batch of
// messages handled one by one, and the master's batches to agents that accept them.
import { TaskState, type MasterMessage } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { refusal, TestCluster, TestFramework } from './harness.js';
import { launchTask, nextUpdate } from './scenarios.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const update = (frameworkId: string, taskId: string, state: TaskState, uuid: string) => ({
  message: { $case: 'statusUpdate', value: { frameworkId: { value: frameworkId }, status: { taskId: { value: taskId }, state, uuid, source: 2 }, latestState: state } },
});

/** The acknowledgements an agent received in one message (a batch's, or the single one). */
const acksIn = (m: MasterMessage): string[] =>
  m.message?.$case === 'ack' ? [m.message.value.uuid] : m.message?.$case === 'batch' ? m.message.value.messages.flatMap(acksIn) : [];

describe('message batches', () => {
  it('an agent batch of status updates reaches the framework in order; one ACKNOWLEDGE of both reaches the agent as one batch', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({}, { acceptsBatches: true });
    const fw = await cluster.framework();
    await launchTask(fw, agent, 't');
    agent.send({ message: { $case: 'batch', value: { messages: [update(fw.frameworkId, 't', TaskState.TASK_STARTING, 'u1'), update(fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u2')] } } });
    expect((await nextUpdate(fw, 't')).uuid).toBe('u1');
    expect((await nextUpdate(fw, 't')).uuid).toBe('u2');
    await fw.call('acknowledge', {
      acknowledgements: ['u1', 'u2'].map((uuid) => ({ agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid })),
    });
    const acks = await agent.inbox.take((m) => acksIn(m).length > 0, 'the acknowledgements');
    expect(acks.message?.$case).toBe('batch');
    expect(acksIn(acks)).toEqual(['u1', 'u2']);
    expect((await cluster.state()).tasks.map((t) => t.state)).toEqual(['TASK_RUNNING']);
  });

  it('a subscriber that accepts batches gets the updates of an agent batch in one Event batch; one that does not, one by one', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({}, { acceptsBatches: true });
    const batching = await TestFramework.subscribe(cluster.master.address, { name: 'batching' }, [], { acceptsBatches: true });
    const plain = await cluster.framework({ name: 'plain' });
    cluster.frameworks.push(batching);
    for (const fw of [batching, plain]) {
      await launchTask(fw, agent, `t-${fw.frameworkId}`);
      const u = (state: TaskState, uuid: string) => update(fw.frameworkId, `t-${fw.frameworkId}`, state, uuid);
      agent.send({ message: { $case: 'batch', value: { messages: [u(TaskState.TASK_STARTING, 'u1'), u(TaskState.TASK_RUNNING, 'u2')] } } });
      expect((await nextUpdate(fw, `t-${fw.frameworkId}`)).uuid).toBe('u1');
      expect((await nextUpdate(fw, `t-${fw.frameworkId}`)).uuid).toBe('u2');
    }
    expect(batching.batches).toContain(2);
    expect(plain.batches).toEqual([]);
  });

  it('the single fields and the list together acknowledge both; to an agent without batches, one message each', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent();
    const fw = await cluster.framework();
    await launchTask(fw, agent, 't');
    const ack = (uuid: string) => ({ agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid });
    await fw.call('acknowledge', { ...ack('u1'), acknowledgements: [ack('u2')] });
    const first = await agent.inbox.take((m) => acksIn(m).length > 0, 'the first acknowledgement');
    const second = await agent.inbox.take((m) => acksIn(m).length > 0, 'the second acknowledgement');
    expect([first, second].map((m) => [m.message?.$case, ...acksIn(m)])).toEqual([
      ['ack', 'u1'],
      ['ack', 'u2'],
    ]);
  });

  it('refuses a call with a malformed acknowledgement naming it, and acknowledges none of the call', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({}, { acceptsBatches: true });
    const fw = await cluster.framework();
    await launchTask(fw, agent, 't');
    const refused = await refusal(
      fw.call('acknowledge', { acknowledgements: [{ agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' }, { agentId: { value: agent.agentId }, taskId: { value: 't' } }] }),
    );
    expect([refused.code, refused.field]).toEqual(['INVALID_ARGUMENT', 'acknowledgements[1].uuid']);
    expect(await refusal(fw.call('acknowledge', {}))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'agent_id' });
    // The next acknowledgement to reach the agent is that of a valid call, alone.
    await fw.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u3' });
    const next = await agent.inbox.take((m) => acksIn(m).length > 0, 'an acknowledgement');
    expect(acksIn(next)).toEqual(['u3']);
  });
});
