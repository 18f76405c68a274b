import { FakeClock, Offer_Operation_Type, RegisterAgent, TaskState, TaskStatus, TaskStatus_Reason } from '@meso/proto';
import { MemoryStateStore } from '@meso/state';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept } from '../calls/offer-calls.js';
import { FakeAgentLink, MasterFixture, refusedWith, scalars, type FakeFramework } from '../master.fixture.js';
import { agentDisplayStatus } from '../model/model.js';
import { handleAgentMessage } from './agent-messages.js';
import { registerAgent } from './agent-registration.js';
import { setMaintenance } from './maintenance.js';

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

async function launchOne(fw: FakeFramework, taskId: string): Promise<void> {
  fx!.allocate();
  const offer = [...fx!.master.model.offers.values()].find((o) => o.frameworkId === fw.id);
  await fw.call('ACCEPT', (f, r) => accept(fx!.master, f, r), {
    offerIds: [{ value: offer?.id }],
    operations: [{ type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: [{ name: taskId, taskId: { value: taskId }, resources: scalars({ cpus: 1, mem: 256 }), command: { value: 'x' }, killPolicy: { gracePeriodSeconds: 7 } }] } }],
    filters: { refuseSeconds: 0 },
  });
}

const status = (id: string) => agentDisplayStatus(fx!.master.model, fx!.master.model.agents.get(id)!);

describe('maintenance', () => {
  it('DRAIN rescinds offers, stops offering, kills tasks gracefully with reason AGENT_DRAINING, then DRAINED; persisted', async () => {
    fx = await MasterFixture.create();
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe();
    await launchOne(fw, 't');
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(1);
    const result = await setMaintenance(fx.master, 'drain', agent.id);
    expect(result).toEqual({ agentId: agent.id, status: 'DRAINING' });
    expect(fw.link.take('rescind')).toHaveLength(1);
    expect(agent.link.take('killTask')).toEqual([{ frameworkId: { value: fw.id }, taskId: { value: 't' }, killPolicy: { gracePeriodSeconds: 7 } }]);
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(0);
    handleAgentMessage(fx.master, agent.id, agent.link, {
      message: { $case: 'statusUpdate', value: { frameworkId: { value: fw.id }, executorId: undefined, status: TaskStatus.fromPartial({ taskId: { value: 't' }, state: TaskState.TASK_KILLED, uuid: 'u1', reason: TaskStatus_Reason.REASON_UNSPECIFIED }), latestState: TaskState.TASK_KILLED } },
    });
    expect(fw.link.take('update').map((u) => [u.status?.state, u.status?.reason])).toEqual([[TaskState.TASK_KILLED, TaskStatus_Reason.REASON_AGENT_DRAINING]]);
    expect(status(agent.id)).toBe('DRAINED');
    await vi.waitFor(async () => expect((await fx!.store.get<{ maintenance?: string }>(`agents/${agent.id}`))?.value.maintenance).toBe('DRAINING'));
  });

  it('DEACTIVATE stops offers but keeps tasks; REACTIVATE offers again', async () => {
    fx = await MasterFixture.create();
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe();
    await launchOne(fw, 't');
    expect((await setMaintenance(fx.master, 'deactivate', agent.id)).status).toBe('DEACTIVATED');
    expect(agent.link.take('killTask')).toEqual([]);
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(0);
    expect(fx.master.model.tasks.size).toBe(1);
    expect((await setMaintenance(fx.master, 'reactivate', agent.id)).status).toBe('ACTIVE');
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(1);
  });

  it('an unknown agent is UNKNOWN_AGENT naming the field; an empty id is INVALID_ARGUMENT', async () => {
    fx = await MasterFixture.create();
    expect(await refusedWith(setMaintenance(fx.master, 'drain', 'nope', 'agentId'))).toMatchObject({ code: 'UNKNOWN_AGENT', field: 'agentId' });
    expect(await refusedWith(setMaintenance(fx.master, 'drain', ''))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'agent_id' });
  });

  it('the mode survives a master restart; a draining agent that re-registers with tasks has them killed', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    fx = await MasterFixture.create({}, store, clock);
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe({ failoverTimeout: 60 });
    await setMaintenance(fx.master, 'drain', agent.id);
    await fx.close();
    fx = await MasterFixture.create({}, store, clock);
    expect(fx.master.model.agents.get(agent.id)?.maintenance).toBe('DRAINING');
    const link = new FakeAgentLink();
    registerAgent(
      fx.master,
      RegisterAgent.fromPartial({
        agentInfo: { id: { value: agent.id }, hostname: 'h1', resources: scalars({ cpus: 4, mem: 4096 }) },
        tasks: [{ taskId: { value: 'late' }, frameworkId: { value: fw.id }, state: TaskState.TASK_RUNNING, resources: scalars({ cpus: 1, mem: 64 }), name: 'late' }],
      }),
      link,
    );
    await fx.master.registryWritten();
    expect(status(agent.id)).toBe('DRAINING');
    expect(link.take('killTask').map((k) => k.taskId?.value)).toEqual(['late']);
  });
});
