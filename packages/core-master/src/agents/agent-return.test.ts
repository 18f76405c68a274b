// What the master does when an agent it gave up on (DISCONNECTED, UNREACHABLE) comes back:
// regressions found by the chaos soak (tools/chaos).
import { createLogger, FrameworkInfo_Capability, Offer_Operation_Type, RegisterAgent, TaskState, TaskStatus, TaskStatus_Reason, type DeepPartial } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { accept } from '../calls/offer-calls.js';
import { kill, reconcile } from '../calls/task-calls.js';
import { FakeAgentLink, MasterFixture, scalars, type FakeFramework } from '../master.fixture.js';
import { taskKey } from '../model/model.js';
import { agentLinkClosed } from './agent-health.js';
import { handleAgentMessage } from './agent-messages.js';
import { registerAgent } from './agent-registration.js';

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

const AWARE = { name: 'aware', capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] };

async function launchOne(fw: FakeFramework, taskId: string): Promise<void> {
  fx!.allocate();
  const offer = [...fx!.master.model.offers.values()].find((o) => o.frameworkId === fw.id);
  await fw.call('ACCEPT', (f, r) => accept(fx!.master, f, r), {
    offerIds: [{ value: offer?.id }],
    operations: [{ type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: [{ name: taskId, taskId: { value: taskId }, resources: scalars({ cpus: 1, mem: 256 }), command: { value: 'x' } }] } }],
    filters: { refuseSeconds: 0 },
  });
}

/** Pings: 1 s, 3 missed => unreachable after 4 s of silence. */
async function partitioned(info: typeof AWARE | { name: string } = AWARE) {
  fx = await MasterFixture.create({ agentPingIntervalSeconds: 1, maxMissedPings: 3 });
  const agent = await fx.registerAgent();
  const fw = await fx.subscribe(info);
  await launchOne(fw, 't');
  fx.clock.advance(4000);
  expect(fx.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
  fw.link.take('update');
  return { agent, fw };
}

async function reregister(agentId: string, tasks: DeepPartial<RegisterAgent>['tasks'] = []): Promise<FakeAgentLink> {
  const link = new FakeAgentLink();
  registerAgent(fx!.master, RegisterAgent.fromPartial({ agentInfo: { id: { value: agentId }, hostname: 'h1', resources: scalars({ cpus: 4, mem: 4096 }) }, tasks }), link);
  await fx!.master.registryWritten();
  link.take('registered');
  return link;
}

function running(frameworkId: string, state = TaskState.TASK_RUNNING): DeepPartial<RegisterAgent>['tasks'] {
  return [{ taskId: { value: 't' }, frameworkId: { value: frameworkId }, state, resources: scalars({ cpus: 1, mem: 256 }), name: 't' }];
}

function update(agentId: string, frameworkId: string, state: TaskState, uuid: string, latestState = state) {
  return {
    message: {
      $case: 'statusUpdate' as const,
      value: {
        frameworkId: { value: frameworkId },
        executorId: undefined,
        status: TaskStatus.fromPartial({ taskId: { value: 't' }, state, uuid, agentId: { value: agentId }, source: 3 }),
        latestState,
      },
    },
  };
}

function recorded(frameworkId: string): TaskState | undefined {
  const m = fx!.master.model;
  return (m.tasks.get(taskKey(frameworkId, 't')) ?? m.completedTasks.findLast((c) => c.taskId === 't'))?.state;
}

async function reconciled(fw: FakeFramework): Promise<(TaskState | undefined)[]> {
  await fw.call('RECONCILE', (f, r) => reconcile(fx!.master, f, r), { tasks: [{ taskId: { value: 't' } }] });
  return fw.link.take('update').map((u) => u.status?.state);
}

describe('an UNREACHABLE agent that returns without its task', () => {
  it('ends the task TASK_DROPPED for a partition-aware framework instead of leaving it UNREACHABLE', async () => {
    const { agent, fw } = await partitioned();
    expect(recorded(fw.id)).toBe(TaskState.TASK_UNREACHABLE);
    await reregister(agent.id);
    expect(fw.link.take('update').map((u) => [u.status?.state, u.status?.reason])).toEqual([[TaskState.TASK_DROPPED, TaskStatus_Reason.REASON_RECONCILIATION]]);
    expect(recorded(fw.id)).toBe(TaskState.TASK_DROPPED);
    expect(await reconciled(fw)).toEqual([TaskState.TASK_DROPPED]);
    expect(fx!.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
  });

  it('sends nothing more to a framework that is not partition-aware (it had TASK_LOST)', async () => {
    const { agent, fw } = await partitioned({ name: 'plain' });
    expect(recorded(fw.id)).toBe(TaskState.TASK_LOST);
    await reregister(agent.id);
    expect(fw.link.take('update')).toEqual([]);
    expect(recorded(fw.id)).toBe(TaskState.TASK_LOST);
  });
});

describe('a task that ended while its agent was UNREACHABLE', () => {
  it.each([
    ['partition-aware', AWARE],
    ['not partition-aware', { name: 'plain' }],
  ])('%s: the agent’s FINISHED wins over the master’s guess, resources released once', async (_what, info) => {
    const { agent, fw } = await partitioned(info);
    const link = await reregister(agent.id, running(fw.id, TaskState.TASK_FINISHED));
    expect(fw.link.take('update')).toEqual([]);
    handleAgentMessage(fx!.master, agent.id, link, update(agent.id, fw.id, TaskState.TASK_FINISHED, 'u1'));
    expect(fw.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_FINISHED]);
    expect(recorded(fw.id)).toBe(TaskState.TASK_FINISHED);
    expect(fx!.master.model.tasks.size).toBe(0);
    expect(fx!.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
    expect(fw.record().used.size).toBe(0);
    expect(await reconciled(fw)).toEqual([TaskState.TASK_FINISHED]);
  });

  it('reported RUNNING on return it is adopted again; its FINISHED then releases it once', async () => {
    const { agent, fw } = await partitioned();
    // The agent is back (reporting the task RUNNING: adopted again), then the task ends.
    const link = await reregister(agent.id, running(fw.id));
    expect(recorded(fw.id)).toBe(TaskState.TASK_RUNNING);
    expect(fx!.master.model.agents.get(agent.id)?.used.toString()).toBe('cpus:1;mem:256');
    handleAgentMessage(fx!.master, agent.id, link, update(agent.id, fw.id, TaskState.TASK_FINISHED, 'u1'));
    expect(recorded(fw.id)).toBe(TaskState.TASK_FINISHED);
    expect(fx!.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
  });
});

describe('KILL of a task whose agent is away', () => {
  it('DISCONNECTED: no answer yet; KillTask when the agent re-registers with the task; KILLED when it confirms', async () => {
    fx = await MasterFixture.create();
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe(AWARE);
    await launchOne(fw, 't');
    agentLinkClosed(fx.master, agent.id, agent.link);
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' } });
    expect(fw.link.take('update')).toEqual([]);
    expect(recorded(fw.id)).toBe(TaskState.TASK_STAGING);
    expect(fx.master.renderMetrics()).toContain('meso_master_kills_deferred 1');
    const link = await reregister(agent.id, running(fw.id));
    expect(link.take('killTask').map((k) => [k.frameworkId?.value, k.taskId?.value])).toEqual([[fw.id, 't']]);
    expect(fx.master.pendingKills.size).toBe(0);
    handleAgentMessage(fx.master, agent.id, link, update(agent.id, fw.id, TaskState.TASK_KILLED, 'u1'));
    expect(recorded(fw.id)).toBe(TaskState.TASK_KILLED);
    expect(fx.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
  });

  it('UNREACHABLE: answered with its state (not KILLED); KillTask when the agent re-registers with the task', async () => {
    const { agent, fw } = await partitioned();
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' } });
    expect(fw.link.take('update').map((u) => [u.status?.state, u.status?.reason])).toEqual([[TaskState.TASK_UNREACHABLE, TaskStatus_Reason.REASON_RECONCILIATION]]);
    expect(recorded(fw.id)).toBe(TaskState.TASK_UNREACHABLE);
    const link = await reregister(agent.id, running(fw.id));
    expect(link.take('killTask').map((k) => k.taskId?.value)).toEqual(['t']);
    expect(recorded(fw.id)).toBe(TaskState.TASK_RUNNING);
  });

  it('UNREACHABLE, killed again and again (a framework that kills on every answer): answered once, repeats logged at debug', async () => {
    const lines: string[] = [];
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 1, maxMissedPings: 3, logger: createLogger('m', { level: 'debug', write: (l) => lines.push(l) }) });
    await fx.registerAgent();
    const fw = await fx.subscribe(AWARE);
    await launchOne(fw, 't');
    fx.clock.advance(4000);
    fw.link.take('update');
    for (let i = 0; i < 50; i++) await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' } });
    expect(fw.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_UNREACHABLE]);
    const kills = lines.filter((l) => l.includes('whose agent is away'));
    expect(kills.filter((l) => / INFO /.test(l))).toHaveLength(1);
    expect(kills.filter((l) => / DEBUG /.test(l))).toHaveLength(49);
    expect(fx.master.pendingKills.size).toBe(1);
  });

  it('a kill remembered for an agent that returns without the task is forgotten (the task is DROPPED)', async () => {
    const { agent, fw } = await partitioned();
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' } });
    fw.link.take('update');
    const link = await reregister(agent.id);
    expect(link.take('killTask')).toEqual([]);
    expect(fx!.master.pendingKills.size).toBe(0);
    expect(fw.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_DROPPED]);
  });

  it('a kill remembered for an agent that becomes GONE is forgotten', async () => {
    fx = await MasterFixture.create({ agentPingIntervalSeconds: 1, maxMissedPings: 3, agentRemovalTimeoutMs: 10_000 });
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe(AWARE);
    await launchOne(fw, 't');
    fx.clock.advance(4000);
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' } });
    expect(fx.master.pendingKills.size).toBe(1);
    fx.clock.advance(10_000);
    expect(fx.master.model.goneAgents.has(agent.id)).toBe(true);
    expect(fx.master.pendingKills.size).toBe(0);
  });
});
