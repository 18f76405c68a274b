import { FrameworkInfo_Capability, Offer_Operation_Type, RegisterAgent, TaskState, TaskStatus, TaskStatus_Reason, ValueType } from '@meso/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept } from '../calls/offer-calls.js';
import { kill } from '../calls/task-calls.js';
import { FakeAgentLink, MasterFixture, refusedWith, scalars, type FakeFramework } from '../master.fixture.js';
import { taskKey } from '../model/model.js';
import { agentLinkClosed } from './agent-health.js';
import { handleAgentMessage } from './agent-messages.js';
import { registerAgent } from './agent-registration.js';

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

async function launchOne(fw: FakeFramework, taskId: string): Promise<void> {
  fx!.allocate();
  const offer = [...fx!.master.model.offers.values()].find((o) => o.frameworkId === fw.id);
  await fw.call('ACCEPT', (f, r) => accept(fx!.master, f, r), {
    offerIds: [{ value: offer?.id }],
    operations: [{ type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: [{ name: taskId, taskId: { value: taskId }, resources: scalars({ cpus: 1, mem: 256 }), command: { value: 'x' } }] } }],
    filters: { refuseSeconds: 0 },
  });
}

function statusUpdate(agentId: string, frameworkId: string, taskId: string, state: TaskState, uuid: string) {
  return {
    message: {
      $case: 'statusUpdate' as const,
      value: {
        frameworkId: { value: frameworkId },
        executorId: undefined,
        status: TaskStatus.fromPartial({ taskId: { value: taskId }, state, uuid, agentId: { value: agentId }, source: 3, containerStatus: { sandbox: '/sb/1', executorPid: 1 } }),
        latestState: state,
      },
    },
  };
}

describe('agent registration', () => {
  it('assigns <masterId>-S<n> and answers registered with the ping settings', async () => {
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 3, maxMissedPings: 4 });
    const link = new FakeAgentLink();
    const id = registerAgent(fx.master, RegisterAgent.fromPartial({ agentInfo: { hostname: 'h', resources: scalars({ cpus: 1, mem: 64 }) } }), link);
    await fx.master.registryWritten();
    expect(id).toBe('m1-S0');
    expect(link.take('registered')).toEqual([{ agentId: { value: 'm1-S0' }, masterId: 'm1', pingIntervalSeconds: 3, maxMissedPings: 4 }]);
    expect(fx.master.model.agents.get(id)?.status).toBe('ACTIVE');
    await vi.waitFor(async () => expect(await fx!.store.get(`agents/${id}`)).toBeDefined());
  });

  it.each([
    ['a negative scalar', scalars({ cpus: -1, mem: 64 }), 'agent_info.resources[0].value'],
    ['a NaN scalar', scalars({ cpus: 1, mem: Number.NaN }), 'agent_info.resources[1].value'],
    ['no type', [{ name: 'cpus', type: ValueType.VALUE_TYPE_UNSPECIFIED, scalar: 1, ranges: [], set: [], role: '', reservations: [], disk: undefined }], 'agent_info.resources[0].type'],
    ['no mem', scalars({ cpus: 2 }), 'agent_info.resources'],
    ['no cpus', scalars({ mem: 2048 }), 'agent_info.resources'],
  ])('refuses malformed resources: %s', async (_what, resources, field) => {
    fx = await MasterFixture.create();
    const e = await refusedWith(() => registerAgent(fx!.master, RegisterAgent.fromPartial({ agentInfo: { hostname: 'h', resources } }), new FakeAgentLink()));
    expect(e).toMatchObject({ code: 'INVALID_RESOURCES', field });
    expect(fx.master.model.agents.size).toBe(0);
  });

  it('refuses a registration without hostname', async () => {
    fx = await MasterFixture.create();
    const e = await refusedWith(() => registerAgent(fx!.master, RegisterAgent.fromPartial({ agentInfo: { resources: scalars({ cpus: 1, mem: 64 }) } }), new FakeAgentLink()));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'agent_info.hostname' });
  });
});

describe('status routing', () => {
  it('updates the task, forwards UPDATE, releases resources exactly once on a terminal update', async () => {
    fx = await MasterFixture.create();
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe();
    await launchOne(fw, 't');
    const send = (state: TaskState, uuid: string) => handleAgentMessage(fx!.master, agent.id, agent.link, statusUpdate(agent.id, fw.id, 't', state, uuid));
    send(TaskState.TASK_RUNNING, 'u1');
    expect(fx.master.model.tasks.get(taskKey(fw.id, 't'))).toMatchObject({ state: TaskState.TASK_RUNNING, sandbox: '/sb/1' });
    send(TaskState.TASK_FINISHED, 'u2');
    send(TaskState.TASK_FINISHED, 'u2'); // a retry of the same update
    expect(fw.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_RUNNING, TaskState.TASK_FINISHED, TaskState.TASK_FINISHED]);
    expect(fx.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
    expect(fx.master.model.frameworks.get(fw.id)?.used.size).toBe(0);
    expect(fx.master.model.completedTasks.map((t) => t.taskId)).toEqual(['t']);
  });

  it('forwards executor messages and executor exits', async () => {
    fx = await MasterFixture.create();
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe();
    handleAgentMessage(fx.master, agent.id, agent.link, { message: { $case: 'executorMessage', value: { frameworkId: { value: fw.id }, executorId: { value: 'e' }, data: Buffer.from('hi') } } });
    handleAgentMessage(fx.master, agent.id, agent.link, { message: { $case: 'executorExited', value: { frameworkId: { value: fw.id }, executorId: { value: 'e' }, status: 3, signal: '' } } });
    expect(fw.link.take('message')[0]?.data.toString()).toBe('hi');
    expect(fw.link.take('failure')[0]).toMatchObject({ agentId: { value: agent.id }, executorId: { value: 'e' }, status: 3 });
  });
});

describe('agent loss', () => {
  it('missed pings make the agent unreachable: RESCIND, LOST / UNREACHABLE by capability, FAILURE', async () => {
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 1, maxMissedPings: 3 });
    const agent = await fx.registerAgent();
    const plain = await fx.subscribe({ name: 'plain' });
    const aware = await fx.subscribe({ name: 'aware', capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] });
    await launchOne(plain, 'p');
    await launchOne(aware, 'a');
    fx.allocate();
    const outstanding = [...fx.master.model.offers.values()];
    expect(outstanding.length).toBeGreaterThan(0);
    fx.clock.advance(3000);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('ACTIVE');
    fx.clock.advance(1000);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
    expect(agent.link.closed).toBe(true);
    const rescinded = [...plain.link.take('rescind'), ...aware.link.take('rescind')].map((r) => r.offerId?.value);
    expect(rescinded.sort()).toEqual(outstanding.map((o) => o.id).sort());
    expect(plain.link.take('update').map((u) => [u.status?.state, u.status?.reason, u.status?.source])).toEqual([[TaskState.TASK_LOST, TaskStatus_Reason.REASON_AGENT_DISCONNECTED, 1]]);
    expect(aware.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_UNREACHABLE]);
    expect(plain.link.take('failure')).toEqual([{ agentId: { value: agent.id }, executorId: undefined }]);
    expect(fx.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(0);

    // It comes back reporting its task: RUNNING again, resources charged again.
    const link = new FakeAgentLink();
    registerAgent(
      fx.master,
      RegisterAgent.fromPartial({
        agentInfo: { id: { value: agent.id }, hostname: 'h1', resources: scalars({ cpus: 4, mem: 4096 }) },
        tasks: [{ taskId: { value: 'p' }, frameworkId: { value: plain.id }, state: TaskState.TASK_RUNNING, resources: scalars({ cpus: 1, mem: 256 }), name: 'p' }],
      }),
      link,
    );
    await fx.master.registryWritten();
    expect(plain.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_RUNNING]);
    expect(fx.master.model.tasks.get(taskKey(plain.id, 'p'))?.state).toBe(TaskState.TASK_RUNNING);
    expect(fx.master.model.agents.get(agent.id)?.used.toString()).toBe('cpus:1;mem:256');
  });

  it('a broken link that does not come back within the window makes the agent unreachable', async () => {
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 2, maxMissedPings: 2 });
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe();
    fx.allocate();
    agentLinkClosed(fx.master, agent.id, agent.link);
    expect(fw.link.take('rescind')).toHaveLength(1);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('DISCONNECTED');
    fx.clock.advance(3999);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('DISCONNECTED');
    fx.clock.advance(1);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
  });

  it('a link that comes back in time keeps the agent; unreported tasks are LOST', async () => {
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 2, maxMissedPings: 2 });
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe();
    await launchOne(fw, 'gone');
    agentLinkClosed(fx.master, agent.id, agent.link);
    fx.clock.advance(1000);
    registerAgent(fx.master, RegisterAgent.fromPartial({ agentInfo: { id: { value: agent.id }, hostname: 'h1', resources: scalars({ cpus: 4, mem: 4096 }) } }), new FakeAgentLink());
    await fx.master.registryWritten();
    fx.clock.advance(4000); // past the old link's window (4 s from the break): no longer counts
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('ACTIVE');
    expect(fw.link.take('update').map((u) => [u.status?.state, u.status?.reason])).toEqual([[TaskState.TASK_LOST, TaskStatus_Reason.REASON_RECONCILIATION]]);
  });

  it('offers not answered within offerTimeoutMs are rescinded', async () => {
    fx = await MasterFixture.create({ offerTimeoutMs: 5000 });
    await fx.registerAgent();
    const fw = await fx.subscribe();
    fx.allocate();
    const [offers] = fw.link.take('offers');
    fx.clock.advance(5000);
    expect(fw.link.take('rescind').map((r) => r.offerId?.value)).toEqual([offers?.offers[0]?.id?.value]);
  });
});
