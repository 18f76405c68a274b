import { FakeClock, FrameworkInfo_Capability, Offer_Operation_Type, RegisterAgent, TaskState, TaskStatus_Reason } from '@meso/proto';
import { MemoryStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAgent } from './agents/agent-registration.js';
import { accept } from './calls/offer-calls.js';
import { kill, reconcile } from './calls/task-calls.js';
import { FakeAgentLink, MasterFixture, scalars, type FakeFramework } from './master.fixture.js';

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

const AWARE = [FrameworkInfo_Capability.PARTITION_AWARE];

async function launchOne(fw: FakeFramework, taskId: string): Promise<void> {
  fx!.allocate();
  const offer = [...fx!.master.model.offers.values()].find((o) => o.frameworkId === fw.id);
  await fw.call('ACCEPT', (f, r) => accept(fx!.master, f, r), {
    offerIds: [{ value: offer?.id }],
    operations: [{ type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: [{ name: taskId, taskId: { value: taskId }, resources: scalars({ cpus: 1, mem: 256 }), command: { value: 'x' } }] } }],
    filters: { refuseSeconds: 0 },
  });
}

function reregistration(agentId: string, frameworkId: string, taskId: string): RegisterAgent {
  return RegisterAgent.fromPartial({
    agentInfo: { id: { value: agentId }, hostname: 'h1', resources: scalars({ cpus: 4, mem: 4096 }) },
    tasks: [{ taskId: { value: taskId }, frameworkId: { value: frameworkId }, state: TaskState.TASK_RUNNING, resources: scalars({ cpus: 1, mem: 256 }), name: taskId }],
  });
}

/** A master with one agent running task 't' of a framework, restarted on the same registry. */
async function restarted(options: { aware?: boolean; reregister?: number; removal?: number } = {}) {
  const store = new MemoryStateStore();
  const clock = new FakeClock();
  const opts = { agentReregisterTimeoutMs: options.reregister ?? 10_000, agentRemovalTimeoutMs: options.removal ?? 60_000 };
  fx = await MasterFixture.create(opts, store, clock);
  const agent = await fx.registerAgent();
  const fw = await fx.subscribe({ failoverTimeout: 3600, ...(options.aware ? { capabilities: AWARE } : {}) });
  await launchOne(fw, 't');
  await fx.close();
  fx = await MasterFixture.create(opts, store, clock);
  const again = await fx.subscribe({ id: { value: fw.id }, failoverTimeout: 3600, ...(options.aware ? { capabilities: AWARE } : {}) });
  return { agentId: agent.id, fw: again, store, clock };
}

describe('master restart', () => {
  it('agents from the registry are RECOVERING and not offered until they re-register; tasks are rebuilt once', async () => {
    const { agentId, fw } = await restarted();
    expect(fx!.master.model.agents.get(agentId)?.status).toBe('RECOVERING');
    fx!.allocate();
    expect(fx!.master.model.offers.size).toBe(0);
    registerAgent(fx!.master, reregistration(agentId, fw.id, 't'), new FakeAgentLink());
    await fx!.master.registryWritten();
    expect(fx!.master.model.agents.get(agentId)?.status).toBe('ACTIVE');
    expect([...fx!.master.model.tasks.values()].map((t) => [t.taskId, t.state])).toEqual([['t', TaskState.TASK_RUNNING]]);
    expect(fx!.master.model.agents.get(agentId)?.used.toString()).toBe('cpus:1;mem:256');
    expect(fw.link.take('update')).toEqual([]); // nothing changed for the framework
    fx!.clock.advance(10_000); // the re-registration deadline passes harmlessly
    expect(fx!.master.model.agents.get(agentId)?.status).not.toBe('UNREACHABLE');
  });

  it('an agent that does not re-register within agentReregisterTimeoutMs is UNREACHABLE; reconciling its task answers UNREACHABLE, never silence', async () => {
    const { agentId, fw } = await restarted({ aware: true });
    fx!.clock.advance(9_999);
    expect(fx!.master.model.agents.get(agentId)?.status).toBe('RECOVERING');
    fx!.clock.advance(1);
    expect(fx!.master.model.agents.get(agentId)?.status).toBe('UNREACHABLE');
    expect(fw.link.take('failure')).toEqual([{ agentId: { value: agentId }, executorId: undefined }]);
    await fw.call('RECONCILE', (f, r) => reconcile(fx!.master, f, r), { tasks: [{ taskId: { value: 't' }, agentId: { value: agentId } }] });
    expect(fw.link.take('update').map((u) => [u.status?.state, u.status?.reason])).toEqual([[TaskState.TASK_UNREACHABLE, TaskStatus_Reason.REASON_RECONCILIATION]]);
  });

  it('reconciliation during the re-registration window is deferred: answered when the agent returns, or when it times out', async () => {
    const { agentId, fw } = await restarted();
    const rec = (tasks: unknown[]) => fw.call('RECONCILE', (f, r) => reconcile(fx!.master, f, r), { tasks });
    await rec([{ taskId: { value: 't' }, agentId: { value: agentId } }]);
    await rec([{ taskId: { value: 'other' } }]); // no agent named: waits for every recovering agent
    expect(fw.link.take('update')).toEqual([]);
    registerAgent(fx!.master, reregistration(agentId, fw.id, 't'), new FakeAgentLink());
    await fx!.master.registryWritten();
    expect(fw.link.take('update').map((u) => [u.status?.taskId?.value, u.status?.state, u.status?.reason])).toEqual([
      ['t', TaskState.TASK_RUNNING, TaskStatus_Reason.REASON_RECONCILIATION],
      ['other', TaskState.TASK_LOST, TaskStatus_Reason.REASON_RECONCILIATION],
    ]);
  });

  it('a deferred reconciliation is answered LOST when the agent never re-registers', async () => {
    const { agentId, fw } = await restarted();
    await fw.call('RECONCILE', (f, r) => reconcile(fx!.master, f, r), { tasks: [{ taskId: { value: 't' }, agentId: { value: agentId } }] });
    expect(fw.link.take('update')).toEqual([]);
    fx!.clock.advance(10_000);
    expect(fw.link.take('update').map((u) => u.status?.state)).toEqual([TaskState.TASK_LOST]);
  });

  it('a KILL during the re-registration window waits for the agent: carried out when it returns with the task', async () => {
    const { agentId, fw } = await restarted();
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' }, agentId: { value: agentId } });
    expect(fw.link.take('update')).toEqual([]); // not a premature TASK_LOST
    const link = new FakeAgentLink();
    registerAgent(fx!.master, reregistration(agentId, fw.id, 't'), link);
    await fx!.master.registryWritten();
    expect(link.take('killTask').map((k) => k.taskId?.value)).toEqual(['t']);
  });

  it('a deferred KILL is answered TASK_LOST when the agent never re-registers', async () => {
    const { fw } = await restarted();
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 't' } });
    expect(fw.link.take('update')).toEqual([]);
    expect(fx!.master.renderMetrics()).toContain('meso_master_kills_deferred 1');
    fx!.clock.advance(10_000);
    expect(fw.link.take('update').map((u) => [u.status?.state, u.status?.reason])).toEqual([[TaskState.TASK_LOST, TaskStatus_Reason.REASON_TASK_UNKNOWN]]);
    expect(fx!.master.deferredCalls.size).toBe(0);
  });

  it('an UNREACHABLE agent keeps the rest of its removal timeout across a restart', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    const opts = { agentPingIntervalSeconds: 1, maxMissedPings: 1, agentRemovalTimeoutMs: 60_000 };
    fx = await MasterFixture.create(opts, store, clock);
    const agent = await fx.registerAgent();
    clock.advance(2000);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
    await fx.close();
    clock.advance(40_000);
    fx = await MasterFixture.create(opts, store, clock);
    expect(fx.master.model.agents.get(agent.id)?.status).toBe('UNREACHABLE');
    clock.advance(19_999);
    expect(fx.master.model.goneAgents.has(agent.id)).toBe(false);
    clock.advance(1);
    expect(fx.master.model.goneAgents.has(agent.id)).toBe(true);
    await fx.close();
    fx = await MasterFixture.create(opts, store, clock);
    expect(fx.master.model.goneAgents.has(agent.id)).toBe(true);
    expect(fx.master.model.agents.has(agent.id)).toBe(false);
  });

  it('while agents are still coming back, a re-registration waits for the periodic cycle for its offers; the last one back asks for a cycle at once', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    const opts = { allocationIntervalMs: 1000, agentReregisterTimeoutMs: 60_000 };
    fx = await MasterFixture.create(opts, store, clock);
    const a = await fx.registerAgent({ hostname: 'a' });
    const b = await fx.registerAgent({ hostname: 'b' });
    await fx.close();
    fx = await MasterFixture.create(opts, store, clock);
    const fw = await fx.subscribe();
    const back = (id: string, hostname: string) => registerAgent(fx!.master, RegisterAgent.fromPartial({ agentInfo: { id: { value: id }, hostname, endpoint: '127.0.0.1:5051', resources: scalars({ cpus: 4, mem: 4096 }) } }), new FakeAgentLink());
    const offered = () => [...fx!.master.model.offers.values()].map((o) => o.agentId).sort();

    await fx.settle(); // the cycle the subscription asked for
    expect(fx.master.recovering).toBe(true);
    back(a.id, 'a');
    await fx.settle();
    expect(offered()).toEqual([]); // b is still RECOVERING: no cycle per registration
    clock.advance(1000);
    expect(offered()).toEqual([a.id]); // the periodic cycle
    fw.link.take('offers');

    back(b.id, 'b');
    expect(fx.master.recovering).toBe(false);
    await fx.settle();
    expect(offered()).toEqual([a.id, b.id].sort()); // the last one back: a cycle at once
  });
});
