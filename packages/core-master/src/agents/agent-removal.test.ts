import { FrameworkInfo_Capability, Offer_Operation_Type, RegisterAgent, TaskState, TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept } from '../calls/offer-calls.js';
import { FakeAgentLink, MasterFixture, refusedWith, scalars, type FakeFramework } from '../master.fixture.js';
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

/** Registers, launches one task of a plain and one of a partition-aware framework, then partitions the agent. */
async function partitioned(options: { removal?: number } = {}) {
  fx = await MasterFixture.create({ agentPingIntervalSeconds: 1, maxMissedPings: 2, agentRemovalTimeoutMs: options.removal ?? 60_000 });
  const agent = await fx.registerAgent();
  const plain = await fx.subscribe({ name: 'plain' });
  const aware = await fx.subscribe({ name: 'aware', capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] });
  await launchOne(plain, 'p');
  await launchOne(aware, 'a');
  fx.clock.advance(3000); // the third ping finds two unanswered
  expect(fx.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
  expect(plain.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_LOST]);
  expect(aware.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_UNREACHABLE]);
  return { agent, plain, aware };
}

function returning(agentId: string, plainId: string, awareId: string): RegisterAgent {
  return RegisterAgent.fromPartial({
    agentInfo: { id: { value: agentId }, hostname: 'h1', resources: scalars({ cpus: 4, mem: 4096 }) },
    tasks: [
      { taskId: { value: 'p' }, frameworkId: { value: plainId }, state: TaskState.TASK_RUNNING, resources: scalars({ cpus: 1, mem: 256 }), name: 'p' },
      { taskId: { value: 'a' }, frameworkId: { value: awareId }, state: TaskState.TASK_RUNNING, resources: scalars({ cpus: 1, mem: 256 }), name: 'a' },
    ],
  });
}

describe('agent removal after a partition', () => {
  it('past agentRemovalTimeoutMs the agent is GONE: TASK_GONE to partition-aware frameworks only, recorded in the registry', async () => {
    const { agent, plain, aware } = await partitioned();
    fx!.clock.advance(59_999);
    expect(fx!.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
    fx!.clock.advance(1);
    expect(fx!.master.model.agents.has(agent.id)).toBe(false);
    expect(fx!.master.model.goneAgents.get(agent.id)).toMatchObject({ id: agent.id, hostname: 'h1' });
    expect(aware.link.take('update').map((u) => [u.status?.state, u.status?.reason, u.status?.source, u.status?.uuid])).toEqual([
      [TaskState.TASK_GONE, TaskStatus_Reason.REASON_AGENT_REMOVED, 1, ''],
    ]);
    expect(plain.link.take('update')).toEqual([]); // TASK_LOST was terminal for it
    await vi.waitFor(async () => expect((await fx!.store.get<{ status: string }>(`agents/${agent.id}`))?.value.status).toBe('GONE'));
    expect(fx!.master.model.completedTasks.find((t) => t.taskId === 'a')?.state).toBe(TaskState.TASK_GONE);
  });

  it('a gone agent that returns is told to shut down its frameworks, then refused AGENT_GONE', async () => {
    const { agent, plain, aware } = await partitioned({ removal: 1000 });
    fx!.clock.advance(1000);
    const link = new FakeAgentLink();
    const e = await refusedWith(() => registerAgent(fx!.master, returning(agent.id, plain.id, aware.id), link));
    expect(e).toMatchObject({ code: 'AGENT_GONE', field: 'agent_info.id' });
    expect(link.take('shutdownFramework').map((m) => m.frameworkId?.value).sort()).toEqual([plain.id, aware.id].sort());
    expect(link.take('registered')).toEqual([]);
    expect(fx!.master.model.tasks.size).toBe(0);
    expect(fx!.master.model.agents.has(agent.id)).toBe(false);
  });

  it('an unreachable agent that returns before the removal timeout re-registers; its tasks are RUNNING again and the timer is off', async () => {
    const { agent, plain, aware } = await partitioned({ removal: 2000 });
    fx!.clock.advance(1000);
    registerAgent(fx!.master, returning(agent.id, plain.id, aware.id), new FakeAgentLink());
    await fx!.master.registryWritten();
    expect(plain.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_RUNNING]);
    expect(aware.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_RUNNING]);
    fx!.clock.advance(1500); // past the old removal deadline, before the new link misses pings
    expect(fx!.master.model.goneAgents.size).toBe(0);
    expect(fx!.master.model.agents.get(agent.id)?.status).toBe('ACTIVE');
  });
});
