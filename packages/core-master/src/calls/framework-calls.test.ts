import { MemoryStateStore } from '@meso/state';
import { createLogger, FakeClock, FrameworkInfo_Capability, Offer_Operation_Type, SubscribeRequest, TaskState, TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeFrameworkLink, MasterFixture, refusedWith, scalars } from '../master.fixture.js';
import { runSchedulerCall } from './dispatch.js';
import { frameworkStreamEnded, subscribe, teardown, updateFramework } from './framework-calls.js';
import { accept, revive, suppress } from './offer-calls.js';
import { kill, reconcile } from './task-calls.js';

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

const newLink = (s: string) => new FakeFrameworkLink(s);

describe('SUBSCRIBE and the call context', () => {
  it('assigns <masterId>-NNNN ids and sends SUBSCRIBED first', async () => {
    fx = await MasterFixture.create({ heartbeatIntervalSeconds: 7 });
    let link: FakeFrameworkLink | undefined;
    const sub = await subscribe(fx.master, SubscribeRequest.fromPartial({ frameworkInfo: { name: 'a' } }), (s) => (link = newLink(s)));
    expect(sub.frameworkId).toBe('m1-0000');
    const first = link?.events[0]?.event;
    expect(first?.$case).toBe('subscribed');
    if (first?.$case === 'subscribed') {
      expect(first.value).toMatchObject({ frameworkId: { value: 'm1-0000' }, heartbeatIntervalSeconds: 7, streamId: sub.streamId, masterId: 'm1' });
    }
    expect(fx.master.model.frameworks.get('m1-0000')?.info.roles).toEqual(['*']);
    fx.clock.advance(7000);
    expect(link?.events.at(-1)?.event?.$case).toBe('heartbeat');
  });

  it('SUBSCRIBED comes first even when an allocation runs while the new id is persisted', async () => {
    fx = await MasterFixture.create();
    await fx.registerAgent();
    let link: FakeFrameworkLink | undefined;
    const pending = subscribe(fx.master, SubscribeRequest.fromPartial({ frameworkInfo: { name: 'a' } }), (s) => (link = newLink(s)));
    fx.allocate(); // runs before the registry write resolves
    await pending;
    expect(link?.events.map((e) => e.event?.$case)).toEqual(['subscribed', 'offers']);
  });

  it('refuses a call before SUBSCRIBE naming context.framework_id', async () => {
    fx = await MasterFixture.create();
    const e = await refusedWith(runSchedulerCall(fx.master, 'REVIVE', { context: { frameworkId: { value: 'm1-0042' }, streamId: 'x' } }, () => undefined));
    expect(e).toMatchObject({ code: 'NOT_SUBSCRIBED', field: 'context.framework_id' });
    const none = await refusedWith(runSchedulerCall(fx.master, 'REVIVE', { context: undefined }, () => undefined));
    expect(none).toMatchObject({ code: 'NOT_SUBSCRIBED', field: 'context.framework_id' });
  });

  it('refuses a stale stream id', async () => {
    fx = await MasterFixture.create();
    const fw = await fx.subscribe();
    const e = await refusedWith(runSchedulerCall(fx.master, 'REVIVE', { context: { frameworkId: { value: fw.id }, streamId: 'old' } }, () => undefined));
    expect(e).toMatchObject({ code: 'STALE_STREAM', field: 'context.stream_id' });
  });

  it('refuses a re-subscribe with an unknown framework id', async () => {
    fx = await MasterFixture.create();
    const e = await refusedWith(subscribe(fx.master, SubscribeRequest.fromPartial({ frameworkInfo: { id: { value: 'ghost' } } }), newLink));
    expect(e).toMatchObject({ code: 'UNKNOWN_FRAMEWORK', field: 'framework_info.id' });
  });

  it('refuses invalid roles and failover timeouts', async () => {
    fx = await MasterFixture.create();
    const role = await refusedWith(subscribe(fx.master, SubscribeRequest.fromPartial({ frameworkInfo: { roles: ['ok', 'bad role'] } }), newLink));
    expect(role).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'framework_info.roles[1]' });
    const timeout = await refusedWith(subscribe(fx.master, SubscribeRequest.fromPartial({ frameworkInfo: { failoverTimeout: -1 } }), newLink));
    expect(timeout).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'framework_info.failover_timeout' });
  });

  it('replaces an older subscriber with ERROR FRAMEWORK_REPLACED', async () => {
    fx = await MasterFixture.create();
    const fw = await fx.subscribe({ failoverTimeout: 10 });
    const again = await fx.subscribe({ id: { value: fw.id }, failoverTimeout: 10 });
    expect(fw.link.closed).toBe(true);
    expect(fw.link.closeError?.code).toBe('FRAMEWORK_REPLACED');
    frameworkStreamEnded(fx.master, fw.id, fw.link.streamId); // the old stream's end changes nothing
    expect(fx.master.model.frameworks.get(fw.id)?.connected).toBe(true);
    expect(again.link.streamId).not.toBe(fw.link.streamId);
  });
});

describe('failover', () => {
  it('keeps tasks for failover_timeout after a disconnect, then kills them and removes the framework', async () => {
    fx = await MasterFixture.create();
    const agent = await fx.registerAgent();
    const fw = await fx.subscribe({ failoverTimeout: 30 });
    fx.allocate();
    const offerId = [...fx.master.model.offers.keys()][0];
    await fw.call('ACCEPT', (f, r) => accept(fx!.master, f, r), {
      offerIds: [{ value: offerId }],
      operations: [{ type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: [{ name: 't', taskId: { value: 't' }, resources: scalars({ cpus: 1, mem: 64 }), command: { value: 'x' } }] } }],
      filters: { refuseSeconds: 0 },
    });
    expect(agent.link.take('runTask')).toHaveLength(1);
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(1);

    frameworkStreamEnded(fx.master, fw.id, fw.link.streamId);
    expect(fx.master.model.offers.size).toBe(0); // its offers are rescinded
    fx.clock.advance(29_000);
    expect(fx.master.model.tasks.size).toBe(1);
    fx.clock.advance(1_000);
    await fx.settle();
    expect(fx.master.model.tasks.size).toBe(0);
    expect(fx.master.model.completedTasks[0]?.state).toBe(TaskState.TASK_KILLED);
    expect(agent.link.take('shutdownFramework')).toEqual([{ frameworkId: { value: fw.id } }]);
    expect(fx.master.model.agents.get(agent.id)?.used.isEmpty()).toBe(true);
    const e = await refusedWith(subscribe(fx.master, SubscribeRequest.fromPartial({ frameworkInfo: { id: { value: fw.id } } }), newLink));
    expect(e).toMatchObject({ code: 'FRAMEWORK_REMOVED', field: 'framework_info.id' });
  });

  it('a re-subscribe within failover_timeout keeps the framework', async () => {
    fx = await MasterFixture.create();
    const fw = await fx.subscribe({ failoverTimeout: 30 });
    frameworkStreamEnded(fx.master, fw.id, fw.link.streamId);
    fx.clock.advance(20_000);
    await fx.subscribe({ id: { value: fw.id }, failoverTimeout: 30 });
    fx.clock.advance(60_000);
    expect(fx.master.model.frameworks.has(fw.id)).toBe(true);
  });

  it('remembers frameworks and their failover timeout across a master restart', async () => {
    const store = new MemoryStateStore();
    fx = await MasterFixture.create({}, store);
    const fw = await fx.subscribe({ failoverTimeout: 100 });
    const removed = await fx.subscribe({ name: 'gone' });
    await removed.call('TEARDOWN', (f) => teardown(fx!.master, f));
    await fx.close();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 1000 }, store);
    expect(fx.master.model.frameworks.get(fw.id)?.connected).toBe(false);
    expect(fx.master.model.removedFrameworks.has(removed.id)).toBe(true);
    fx.clock.advance(100_000);
    await fx.settle();
    expect(fx.master.model.frameworks.has(fw.id)).toBe(false);
    expect(fx.master.model.removedFrameworks.has(fw.id)).toBe(true);
  });
});

describe('failover timeout across master restarts (MESOS-4659 done better)', () => {
  it('counts from the persisted disconnect, not from the new master start', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    fx = await MasterFixture.create({}, store, clock);
    const fw = await fx.subscribe({ failoverTimeout: 100 });
    fx.master.frameworkLinks.get(fw.id)?.close();
    frameworkStreamEnded(fx.master, fw.id, fw.link.streamId);
    await fx.close();
    clock.advance(60_000); // the master is down for 60 s
    fx = await MasterFixture.create({}, store, clock);
    clock.advance(39_000);
    await fx.settle();
    expect(fx.master.model.frameworks.get(fw.id)?.connected).toBe(false);
    clock.advance(1_000); // 100 s after the real disconnect
    await fx.settle();
    expect(fx.master.model.frameworks.has(fw.id)).toBe(false);
    expect(fx.master.model.removedFrameworks.has(fw.id)).toBe(true);
    expect((await fx.store.get<{ removed: boolean }>(`frameworks/${fw.id}`))?.value.removed).toBe(true);
  });

  it('a framework subscribed when the master died counts from the first restart; a second restart does not reset it', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 1000 }, store, clock);
    const fw = await fx.subscribe({ failoverTimeout: 100 });
    await fx.close(); // a crash: no disconnect recorded
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 1000 }, store, clock);
    clock.advance(70_000);
    await fx.close();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 1000 }, store, clock);
    clock.advance(29_000);
    await fx.settle();
    expect(fx.master.model.frameworks.has(fw.id)).toBe(true);
    clock.advance(1_000);
    await fx.settle();
    expect(fx.master.model.removedFrameworks.has(fw.id)).toBe(true);
  });

  it('a framework subscribed when the master died has at least agentReregisterTimeoutMs to come back, even with failover_timeout 0', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 5000 }, store, clock);
    const fw = await fx.subscribe({ failoverTimeout: 0 });
    await fx.close();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 5000 }, store, clock);
    clock.advance(4999);
    await fx.settle();
    const back = await fx.subscribe({ id: { value: fw.id }, failoverTimeout: 0 });
    expect(back.record().connected).toBe(true);
    clock.advance(10_000);
    await fx.settle();
    expect(fx.master.model.frameworks.has(fw.id)).toBe(true);
  });

  it('logs (cannot yet refuse) a re-subscription under another principal', async () => {
    const lines: string[] = [];
    fx = await MasterFixture.create({ logger: createLogger('master', { level: 'warn', write: (l) => lines.push(l) }) });
    const fw = await fx.subscribe({ principal: 'alice' });
    await fx.subscribe({ id: { value: fw.id }, principal: 'mallory' });
    expect(lines.some((l) => l.includes('another principal') && l.includes('mallory'))).toBe(true);
  });

  it('a re-subscription clears the persisted disconnect', async () => {
    const store = new MemoryStateStore();
    fx = await MasterFixture.create({}, store);
    const fw = await fx.subscribe({ failoverTimeout: 100 });
    frameworkStreamEnded(fx.master, fw.id, fw.link.streamId);
    await vi.waitFor(async () => expect((await store.get<{ disconnectedTime?: number }>(`frameworks/${fw.id}`))?.value.disconnectedTime).toBeDefined());
    await fx.subscribe({ id: { value: fw.id }, failoverTimeout: 100 });
    await vi.waitFor(async () => expect((await store.get<{ disconnectedTime?: number }>(`frameworks/${fw.id}`))?.value.disconnectedTime).toBeUndefined());
  });

  it('tasks of a framework that timed out are shut down when their agent re-registers with them', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 1000 }, store, clock);
    const fw = await fx.subscribe({ failoverTimeout: 10 });
    await fx.close();
    fx = await MasterFixture.create({ agentReregisterTimeoutMs: 1000 }, store, clock);
    clock.advance(10_000);
    await fx.settle();
    expect(fx.master.model.removedFrameworks.has(fw.id)).toBe(true);
    const agent = await fx.registerAgent({ id: { value: 'old-S0' } }, {
      tasks: [{ taskId: { value: 't' }, frameworkId: { value: fw.id }, state: TaskState.TASK_RUNNING, name: 't', resources: scalars({ cpus: 1, mem: 64 }) }],
    });
    expect(agent.link.take('shutdownFramework')).toEqual([{ frameworkId: { value: fw.id } }]);
    expect(fx.master.model.tasks.size).toBe(0);
  });
});

describe('other framework calls', () => {
  it('TEARDOWN kills tasks, removes the framework and persists the removal', async () => {
    fx = await MasterFixture.create();
    const fw = await fx.subscribe();
    await fw.call('TEARDOWN', (f) => teardown(fx!.master, f));
    expect(fw.link.closed).toBe(true);
    const stored = await fx.store.get<{ removed: boolean }>(`frameworks/${fw.id}`);
    expect(stored?.value.removed).toBe(true);
  });

  it('SUPPRESS stops offers; REVIVE resumes them and clears filters', async () => {
    fx = await MasterFixture.create();
    await fx.registerAgent();
    const fw = await fx.subscribe({}, ['*']);
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(0);
    await fw.call('REVIVE', (f, r) => revive(fx!.master, f, r), { roles: [] });
    fx.allocate();
    expect(fx.master.model.offers.size).toBe(1);
    await fw.call('SUPPRESS', (f, r) => suppress(fx!.master, f, r), { roles: ['*'] });
    expect(fx.master.model.frameworks.get(fw.id)?.suppressedRoles.has('*')).toBe(true);
    const e = await refusedWith(fw.call('SUPPRESS', (f, r) => suppress(fx!.master, f, r), { roles: ['nope'] }));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'roles[0]' });
  });

  it('KILL of an unknown task answers TASK_LOST (reason TASK_UNKNOWN, source MASTER, empty uuid)', async () => {
    fx = await MasterFixture.create();
    const fw = await fx.subscribe();
    await fw.call('KILL', (f, r) => kill(fx!.master, f, r), { taskId: { value: 'ghost' } });
    const [update] = fw.link.take('update');
    expect(update?.status).toMatchObject({ state: TaskState.TASK_LOST, reason: TaskStatus_Reason.REASON_TASK_UNKNOWN, source: 1, uuid: '' });
  });

  it('RECONCILE: unknown tasks are LOST, or UNKNOWN for partition-aware frameworks', async () => {
    fx = await MasterFixture.create();
    const plain = await fx.subscribe();
    const aware = await fx.subscribe({ capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] });
    for (const [fw, state] of [[plain, TaskState.TASK_LOST], [aware, TaskState.TASK_UNKNOWN]] as const) {
      await fw.call('RECONCILE', (f, r) => reconcile(fx!.master, f, r), { tasks: [{ taskId: { value: 'x' } }] });
      const [u] = fw.link.take('update');
      expect(u?.status).toMatchObject({ state, reason: TaskStatus_Reason.REASON_RECONCILIATION, uuid: '' });
    }
  });

  it('UPDATE_FRAMEWORK changes name, roles and failover timeout, and refuses another id', async () => {
    fx = await MasterFixture.create();
    const fw = await fx.subscribe();
    await fw.call('UPDATE_FRAMEWORK', (f, r) => updateFramework(fx!.master, f, r), { frameworkInfo: { name: 'renamed', roles: ['a', 'b'], failoverTimeout: 9, capabilities: [] }, suppressedRoles: ['b'] });
    const rec = fx.master.model.frameworks.get(fw.id);
    expect(rec?.info).toMatchObject({ name: 'renamed', roles: ['a', 'b'], failoverTimeout: 9 });
    expect([...(rec?.suppressedRoles ?? [])]).toEqual(['b']);
    const e = await refusedWith(fw.call('UPDATE_FRAMEWORK', (f, r) => updateFramework(fx!.master, f, r), { frameworkInfo: { id: { value: 'other' }, roles: [], capabilities: [] }, suppressedRoles: [] }));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'framework_info.id' });
  });
});
