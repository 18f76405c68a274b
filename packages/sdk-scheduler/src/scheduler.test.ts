import { FakeClock, silentLogger, TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ACKS_PER_CALL } from './ack-batcher.js';
import { taskStatusToWire } from './convert.js';
import { SchedulerError } from './errors.js';
import type { SchedulerEvent } from './events.js';
import { FakeSchedulerTransport } from './fake-transport.js';
import type { SchedulerOptions } from './options.js';
import { Scheduler } from './scheduler.js';

const open: Scheduler[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Lets queued microtasks and I/O callbacks run (a tick, not a sleep). */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Harness {
  master: FakeSchedulerTransport;
  clock: FakeClock;
  scheduler: Scheduler;
  next: () => Promise<SchedulerEvent>;
  iterator: AsyncIterator<SchedulerEvent>;
}

async function connect(options: Partial<SchedulerOptions> = {}, master = new FakeSchedulerTransport()): Promise<Harness> {
  const clock = new FakeClock();
  const scheduler = await Scheduler.connect({
    framework: { name: 'test-fw', user: 'tester', hostname: 'box' },
    transport: master,
    clock,
    logger: silentLogger,
    random: () => 1, // no jitter: delays are the ceiling of each backoff step
    ...options,
  });
  open.push(scheduler);
  let it: AsyncIterator<SchedulerEvent> | undefined;
  const harness: Harness = {
    master,
    clock,
    scheduler,
    // Created on first use, so a test may iterate events() itself instead.
    get iterator() {
      it ??= scheduler.events()[Symbol.asyncIterator]();
      return it;
    },
    next: async () => {
      const r = await harness.iterator.next();
      if (r.done) throw new Error('events ended');
      return r.value;
    },
  };
  return harness;
}

async function expectError(p: Promise<unknown>, code: string): Promise<SchedulerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SchedulerError);
    expect((e as SchedulerError).code).toBe(code);
    return e as SchedulerError;
  }
  throw new Error(`expected a SchedulerError ${code}`);
}

describe('Scheduler: subscribe', () => {
  it('resolves connect after SUBSCRIBED, with the framework info and defaults on the wire', async () => {
    const { master, scheduler, next } = await connect({ suppressedRoles: ['*'] });
    expect(scheduler.frameworkId).toBe('fake-framework-1');
    expect(scheduler.state).toBe('connected');
    const req = master.subscriptions[0]!;
    expect(req.frameworkInfo).toMatchObject({ name: 'test-fw', user: 'tester', roles: ['*'], failoverTimeout: 0, hostname: 'box', id: undefined });
    expect(req.suppressedRoles).toEqual(['*']);
    expect(await next()).toEqual({ type: 'subscribed', frameworkId: 'fake-framework-1', heartbeatIntervalSeconds: 15, masterId: 'fake-master', reconnected: false });
  });

  it('re-subscribes with a given framework id', async () => {
    const { master, scheduler } = await connect({ framework: { name: 'fw', id: 'fw-42', failoverTimeoutSeconds: 60 } });
    expect(master.subscriptions[0]!.frameworkInfo?.id?.value).toBe('fw-42');
    expect(master.subscriptions[0]!.frameworkInfo?.failoverTimeout).toBe(60);
    expect(scheduler.frameworkId).toBe('fw-42');
  });

  it('rejects connect with the master refusal code and closes the transport', async () => {
    const master = new FakeSchedulerTransport();
    master.refuseNextSubscribe(new SchedulerError('UNKNOWN_FRAMEWORK', 'no framework fw-9', { field: 'framework_info.id' }));
    const err = await expectError(connect({ framework: { name: 'fw', id: 'fw-9' } }, master), 'UNKNOWN_FRAMEWORK');
    expect(err.field).toBe('framework_info.id');
    expect(master.closed).toBe(true);
  });

  it('keeps trying while the master is unreachable, then rejects with CONNECT_TIMEOUT', async () => {
    const master = new FakeSchedulerTransport();
    for (let i = 0; i < 20; i++) master.refuseNextSubscribe(new SchedulerError('UNAVAILABLE', 'connection refused'));
    const clock = new FakeClock();
    const p = Scheduler.connect({ framework: { name: 'fw' }, transport: master, clock, logger: silentLogger, connectTimeoutMs: 3_000, random: () => 1 });
    const settled = p.catch((e: unknown) => e);
    await tick();
    expect(master.subscriptions).toHaveLength(1);
    clock.advance(500); // first retry after 500 ms
    await tick();
    expect(master.subscriptions).toHaveLength(2);
    clock.advance(1_000); // then 1 s
    await tick();
    expect(master.subscriptions).toHaveLength(3);
    clock.advance(1_500);
    const err = (await settled) as SchedulerError;
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err.code).toBe('CONNECT_TIMEOUT');
    expect(err.message).toContain('connection refused');
    expect(master.closed).toBe(true);
  });

  it('rejects with CONNECT_TIMEOUT when SUBSCRIBED never comes', async () => {
    const master = new FakeSchedulerTransport();
    master.autoSubscribe = false;
    const clock = new FakeClock();
    const settled = Scheduler.connect({ framework: { name: 'fw' }, transport: master, clock, logger: silentLogger, connectTimeoutMs: 1_000 }).catch((e: unknown) => e);
    await tick();
    clock.advance(1_000);
    expect(((await settled) as SchedulerError).code).toBe('CONNECT_TIMEOUT');
  });

  it('validates options with field-precise INVALID_ARGUMENT errors', async () => {
    const master = new FakeSchedulerTransport();
    const base = { transport: master, logger: silentLogger };
    expect((await expectError(Scheduler.connect({ ...base, framework: { name: '' } }), 'INVALID_ARGUMENT')).field).toBe('framework.name');
    expect((await expectError(Scheduler.connect({ ...base, framework: { name: 'x', roles: [] } }), 'INVALID_ARGUMENT')).field).toBe('framework.roles');
    expect((await expectError(Scheduler.connect({ ...base, framework: { name: 'x' }, master: 'nope' }), 'INVALID_ARGUMENT')).field).toBe('master');
    const e = await expectError(Scheduler.connect({ ...base, framework: { name: 'x' }, reconnect: { initialDelayMs: 100, maxDelayMs: 10 } }), 'INVALID_ARGUMENT');
    expect(e.field).toBe('reconnect.maxDelayMs');
    expect(e.message).toContain('options.reconnect.maxDelayMs');
    expect(master.subscriptions).toHaveLength(0);
  });
});

describe('Scheduler: events', () => {
  it('converts every event to domain types', async () => {
    const { master, next } = await connect();
    await next();
    const [o] = master.offer({ id: 'o1', resources: 'cpus:2;mem:1024;ports:[31000-31005]', attributes: [{ name: 'rack', kind: 'text', text: 'r1' }] });
    const offers = await next();
    expect(offers.type).toBe('offers');
    if (offers.type !== 'offers') return;
    expect(offers.offers[0]!.id).toBe('o1');
    expect(offers.offers[0]!.resources.scalar('cpus')).toBe(2);
    expect(offers.offers[0]!.resources.ranges('ports')).toEqual([{ begin: 31000, end: 31005 }]);
    expect(offers.offers[0]!.attributes).toEqual([{ name: 'rack', kind: 'text', text: 'r1' }]);
    expect(offers.offers[0]!.agentId).toBe(o!.agentId);

    master.emit({
      event: {
        $case: 'update',
        value: {
          status: {
            taskId: { value: 't1' },
            state: 5,
            message: 'done',
            source: 3,
            reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED,
            data: Buffer.alloc(0),
            agentId: { value: 'a1' },
            executorId: { value: 'e1' },
            timestamp: 1700000000.25,
            uuid: 'u1',
            exitCode: 0,
            signal: '',
            frameworkId: undefined,
            labels: [],
            containerStatus: { sandbox: '/work/sandbox', executorPid: 7 },
          },
        },
      },
    });
    expect(await next()).toEqual({
      type: 'update',
      status: {
        taskId: 't1',
        state: 'TASK_FINISHED',
        message: 'done',
        source: 'EXECUTOR',
        reason: 'EXECUTOR_TERMINATED',
        agentId: 'a1',
        executorId: 'e1',
        timestamp: 1700000000250,
        uuid: 'u1',
        exitCode: 0,
        sandbox: '/work/sandbox',
      },
    });
    master.rescind('o1', 'agent gone');
    expect(await next()).toEqual({ type: 'rescind', offerId: 'o1', reason: 'agent gone' });
    master.message('a1', 'e1', 'hi');
    const msg = await next();
    expect(msg.type === 'message' && Buffer.from(msg.data).toString()).toBe('hi');
    master.failure('a1', 'e1', 137);
    expect(await next()).toEqual({ type: 'failure', agentId: 'a1', executorId: 'e1', status: 137 });
    master.heartbeat();
    expect(await next()).toEqual({ type: 'heartbeat' });
  });

  it('asks for event batches and takes a batch as its events in order; an ERROR in it ends the stream there', async () => {
    const { master, next } = await connect();
    expect(master.subscriptions[0]?.acceptsBatches).toBe(true);
    await next();
    const update = (taskId: string) => ({ event: { $case: 'update' as const, value: { status: taskStatusToWire({ taskId, state: 'TASK_RUNNING', source: 'AGENT', timestamp: 1 }) } } });
    master.emit({ event: { $case: 'batch', value: { events: [update('t1'), { event: { $case: 'heartbeat', value: {} } }, update('t2')] } } });
    expect([await next(), await next(), await next()].map((e) => (e.type === 'update' ? e.status.taskId : e.type))).toEqual(['t1', 'heartbeat', 't2']);
    master.emit({ event: { $case: 'batch', value: { events: [{ event: { $case: 'error', value: { code: 'FRAMEWORK_REMOVED', message: 'gone' } } }, update('t3')] } } });
    const end = await next();
    expect(end.type === 'error' && end.code).toBe('FRAMEWORK_REMOVED');
  });

  it('drops an event it cannot read and goes on', async () => {
    const { master, next } = await connect();
    await next();
    master.emit({ event: { $case: 'offers', value: { offers: [{ id: undefined } as never] } } });
    master.heartbeat();
    expect(await next()).toEqual({ type: 'heartbeat' });
  });
});

describe('Scheduler: acknowledgements', () => {
  it('acknowledges updates with a uuid once the consumer moves on, never those without', async () => {
    const { master, next } = await connect();
    await next();
    master.update({ taskId: 't1', state: 'TASK_RUNNING', uuid: 'u1', agentId: 'a1' });
    master.update({ taskId: 't2', state: 'TASK_RUNNING', reason: 'RECONCILIATION' });
    master.heartbeat();
    const first = await next();
    expect(first.type === 'update' && first.status.uuid).toBe('u1');
    await tick();
    expect(master.callsOf('acknowledge')).toHaveLength(0); // still being handled
    await next(); // moved on: u1 is acknowledged
    await tick();
    expect(master.callsOf('acknowledge')).toEqual([
      { context: { frameworkId: { value: 'fake-framework-1' }, streamId: 'stream-1' }, taskId: { value: 't1' }, agentId: { value: 'a1' }, uuid: 'u1', acknowledgements: [] },
    ]);
    await next();
    await tick();
    expect(master.callsOf('acknowledge')).toHaveLength(1); // t2 had no uuid
  });

  it('acknowledges the updates handled in one turn of the event loop in one call', async () => {
    const { master, next } = await connect();
    await next();
    for (let i = 1; i <= 3; i++) master.update({ taskId: `t${i}`, state: 'TASK_RUNNING', uuid: `u${i}`, agentId: 'a1' });
    master.heartbeat();
    for (let i = 0; i < 4; i++) await next(); // three updates handled, the heartbeat in hand
    expect(master.callsOf('acknowledge')).toHaveLength(0); // not before the turn ends
    await tick();
    const calls = master.callsOf('acknowledge');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.uuid).toBe('');
    expect(calls[0]?.acknowledgements).toEqual([1, 2, 3].map((i) => ({ taskId: { value: `t${i}` }, agentId: { value: 'a1' }, uuid: `u${i}` })));
  });

  it('sends at most MAX_ACKS_PER_CALL acknowledgements per call', async () => {
    const { master, next } = await connect();
    await next();
    const n = MAX_ACKS_PER_CALL + 5;
    for (let i = 0; i < n; i++) master.update({ taskId: `t${i}`, state: 'TASK_RUNNING', uuid: `u${i}`, agentId: 'a1' });
    master.heartbeat();
    for (let i = 0; i <= n; i++) await next();
    await tick();
    expect(master.callsOf('acknowledge').map((c) => c.acknowledgements.length)).toEqual([MAX_ACKS_PER_CALL, 5]);
  });

  it('acknowledges the update in hand on close', async () => {
    const { master, scheduler, next } = await connect();
    await next();
    master.update({ taskId: 't1', state: 'TASK_FINISHED', uuid: 'u9', agentId: 'a1' });
    await next();
    await scheduler.close();
    expect(master.callsOf('acknowledge').map((a) => a.uuid)).toEqual(['u9']);
  });

  it('acknowledges nothing by itself with autoAcknowledge: false; acknowledge() sends it', async () => {
    const { master, scheduler, next } = await connect({ autoAcknowledge: false });
    await next();
    master.update({ taskId: 't1', state: 'TASK_RUNNING', uuid: 'u1', agentId: 'a1' });
    master.heartbeat();
    const ev = await next();
    await next();
    await tick();
    expect(master.callsOf('acknowledge')).toHaveLength(0);
    if (ev.type !== 'update') throw new Error('expected update');
    await scheduler.acknowledge(ev.status);
    await scheduler.acknowledge({ ...ev.status, uuid: undefined }); // nothing to acknowledge
    expect(master.callsOf('acknowledge').map((a) => a.uuid)).toEqual(['u1']);
  });

  it('logs a failed acknowledgement instead of failing (the agent re-sends)', async () => {
    const { master, next } = await connect();
    master.onCall('acknowledge', () => {
      throw new SchedulerError('UNAVAILABLE', 'busy');
    });
    await next();
    master.update({ taskId: 't1', state: 'TASK_RUNNING', uuid: 'u1', agentId: 'a1' });
    master.heartbeat();
    await next();
    await next();
    await tick();
    expect(master.callsOf('acknowledge')).toHaveLength(1);
  });

  it('does not acknowledge an update without agent id (it would make the master refuse the others of its call)', async () => {
    const { master, next } = await connect();
    await next();
    master.update({ taskId: 't1', state: 'TASK_RUNNING', uuid: 'u1' });
    master.update({ taskId: 't2', state: 'TASK_RUNNING', uuid: 'u2', agentId: 'a1' });
    master.heartbeat();
    for (let i = 0; i < 3; i++) await next();
    await tick();
    expect(master.callsOf('acknowledge').map((c) => c.uuid)).toEqual(['u2']);
  });
});

describe('Scheduler: calls', () => {
  it('launches on an offer: ACCEPT with placed resources, picked ports and PORT env', async () => {
    const { master, scheduler, next } = await connect();
    await next();
    const [offer] = master.offer({ id: 'o1', agentId: 'a7', resources: 'cpus:2;mem:1024;ports:[31000-31010]' });
    await next();
    const placed = await scheduler.launch(offer!, [{ taskId: 'web-1', resources: { cpus: 0.5, mem: 128 }, ports: 2, command: { shell: 'serve', env: { A: 'b' } }, labels: { app: 'web' } }], {
      refuseSeconds: 30,
    });
    expect(placed[0]!.ports).toEqual([31000, 31001]);
    const accept = master.callsOf('accept')[0]!;
    expect(accept.offerIds).toEqual([{ value: 'o1' }]);
    expect(accept.filters).toEqual({ refuseSeconds: 30 });
    expect(accept.context).toEqual({ frameworkId: { value: 'fake-framework-1' }, streamId: 'stream-1' });
    const info = accept.operations[0]!.launch!.taskInfos[0]!;
    expect(info.taskId).toEqual({ value: 'web-1' });
    expect(info.agentId).toEqual({ value: 'a7' });
    expect(info.command!.shell).toBe(true);
    expect(info.command!.value).toBe('serve');
    expect(Object.fromEntries(info.command!.environment.map((e) => [e.name, e.value]))).toEqual({ A: 'b', PORT0: '31000', PORT1: '31001', PORTS: '31000,31001' });
    expect(info.resources.map((r) => r.name)).toEqual(['cpus', 'mem', 'ports']);
    expect(info.labels).toEqual([{ key: 'app', value: 'web' }]);
    expect(scheduler.trackedTasks()).toEqual([{ taskId: 'web-1', agentId: 'a7', state: 'TASK_STAGING', answered: true }]);
  });

  it('refuses a launch that does not fit before sending anything', async () => {
    const { master, scheduler, next } = await connect();
    await next();
    const [offer] = master.offer({ resources: 'cpus:1;mem:128' });
    const err = await expectError(scheduler.launch(offer!, [{ taskId: 't', resources: { cpus: 2, mem: 64 }, command: { shell: 'x' } }]), 'TASK_DOES_NOT_FIT');
    expect(err.field).toBe('tasks[0].resources');
    expect(err.message).toContain('cpus: need 2, have 1');
    expect(master.callsOf('accept')).toHaveLength(0);
  });

  it('maps a refused call to SchedulerError with the master code and field, and forgets the launch', async () => {
    const { master, scheduler, next } = await connect();
    await next();
    const [offer] = master.offer({});
    master.onCall('accept', () => {
      throw new SchedulerError('DUPLICATE_TASK_ID', 'task t1 is already running', { field: 'operations[0].launch.task_infos[0].task_id' });
    });
    const err = await expectError(scheduler.launch(offer!, [{ taskId: 't1', resources: { cpus: 1 }, command: { argv: ['/bin/true'] } }]), 'DUPLICATE_TASK_ID');
    expect(err.field).toBe('operations[0].launch.task_infos[0].task_id');
    expect(scheduler.trackedTasks()).toEqual([]);
  });

  it('never leaks a foreign error from a transport: it becomes INTERNAL with the cause', async () => {
    const { master, scheduler } = await connect();
    const boom = new TypeError('boom');
    master.onCall('revive', () => {
      throw boom;
    });
    const err = await expectError(scheduler.revive(), 'INTERNAL');
    expect(err.cause).toBe(boom);
  });

  it('uses known offers for accept() and sends decline/revive/suppress/kill/shutdown/message/reconcile', async () => {
    const { master, scheduler, next } = await connect();
    await next();
    master.offer({ id: 'o1', agentId: 'a1' }, { id: 'o2', agentId: 'a1' });
    await next();
    await scheduler.accept(['o1'], [
      {
        type: 'launchGroup',
        executor: { executorId: 'ex', command: { shell: './ex' }, resources: { cpus: 0.1, mem: 32 } },
        tasks: [{ taskId: 'g1', resources: { cpus: 0.5 }, command: { shell: 'a' }, ports: 1 }],
      },
    ]);
    const group = master.callsOf('accept')[0]!.operations[0]!.launchGroup!;
    expect(group.executor!.executorId).toEqual({ value: 'ex' });
    expect(group.executor!.frameworkId).toEqual({ value: 'fake-framework-1' });
    expect(group.taskGroup!.tasks[0]!.resources.find((r) => r.name === 'ports')!.ranges).toEqual([{ begin: 31000, end: 31000 }]);
    const declined = master.waitForCall('decline', (r) => r.offerIds[0]?.value === 'o2');
    await scheduler.decline('o2', { refuseSeconds: 5 });
    expect((await declined).filters).toEqual({ refuseSeconds: 5 });
    await scheduler.suppress(['*']);
    await scheduler.revive();
    await scheduler.kill('g1', { gracePeriodSeconds: 3 });
    await scheduler.shutdown('ex', 'a1');
    await scheduler.message('a1', 'ex', 'ping');
    await scheduler.reconcile();
    expect(master.calls.map((c) => c.name)).toEqual(['accept', 'decline', 'suppress', 'revive', 'kill', 'shutdown', 'message', 'reconcile']);
    expect(master.callsOf('kill')[0]).toMatchObject({ taskId: { value: 'g1' }, agentId: { value: 'a1' }, killPolicy: { gracePeriodSeconds: 3 } });
    expect(master.callsOf('reconcile')[0]!.tasks).toEqual([]);
    expect(Buffer.from(master.callsOf('message')[0]!.data).toString()).toBe('ping');
  });

  it('remembers suppressed roles and framework updates for the next subscription', async () => {
    const { master, scheduler, clock } = await connect({ framework: { name: 'fw', roles: ['a', 'b'] } });
    expect(master.subscriptions[0]!.frameworkInfo!.capabilities).toEqual([1]); // MULTI_ROLE added
    await scheduler.suppress(['a']);
    await scheduler.updateFramework({ failoverTimeoutSeconds: 3600 });
    const upd = master.callsOf('updateFramework')[0]!;
    expect(upd.frameworkInfo).toMatchObject({ id: { value: 'fake-framework-1' }, name: 'fw', failoverTimeout: 3600 });
    expect(upd.suppressedRoles).toEqual(['a']);
    master.endStream();
    clock.advance(500);
    await tick();
    const again = master.subscriptions[1]!;
    expect(again.suppressedRoles).toEqual(['a']);
    expect(again.frameworkInfo).toMatchObject({ id: { value: 'fake-framework-1' }, failoverTimeout: 3600 });
  });

  it('tears down and closes, without reporting the stream the master ends as news', async () => {
    const { master, scheduler, next, iterator } = await connect();
    await next();
    master.onCall('teardown', () => master.error('FRAMEWORK_REMOVED', 'torn down'));
    await scheduler.teardown();
    expect((await iterator.next()).done).toBe(true);
    expect(master.callsOf('teardown')).toHaveLength(1);
    expect(scheduler.state).toBe('closed');
    expect(master.closed).toBe(true);
  });
});

describe('Scheduler: reconnection', () => {
  it('reconnects with backoff after the stream ends, re-subscribing with the same framework id', async () => {
    const { master, scheduler, clock, next } = await connect();
    await next();
    master.endStream(new SchedulerError('UNAVAILABLE', 'master went away'));
    const disc = await next();
    expect(disc).toEqual({ type: 'disconnected', reason: 'stream ended: master went away' });
    expect(scheduler.state).toBe('reconnecting');
    await expectError(scheduler.decline('o1'), 'NOT_CONNECTED');
    // The master is still down for two attempts: 500 ms, then 1 s, then 2 s.
    master.refuseNextSubscribe(new SchedulerError('UNAVAILABLE', 'refused'));
    master.refuseNextSubscribe(new SchedulerError('UNAVAILABLE', 'refused'));
    clock.advance(499);
    await tick();
    expect(master.subscriptions).toHaveLength(1);
    clock.advance(1);
    await tick();
    expect(master.subscriptions).toHaveLength(2);
    clock.advance(999);
    await tick();
    expect(master.subscriptions).toHaveLength(2);
    clock.advance(1);
    await tick();
    expect(master.subscriptions).toHaveLength(3);
    clock.advance(2_000);
    await tick();
    expect(master.subscriptions).toHaveLength(4);
    expect(master.subscriptions[3]!.frameworkInfo!.id).toEqual({ value: 'fake-framework-1' });
    expect(await next()).toMatchObject({ type: 'subscribed', reconnected: true, frameworkId: 'fake-framework-1' });
    expect(scheduler.state).toBe('connected');
    await scheduler.decline('o1');
    expect(master.callsOf('decline')[0]!.context!.streamId).toBe('stream-2');
  });

  it('treats about five silent heartbeat intervals as a dead stream', async () => {
    const { master, clock, next } = await connect();
    master.heartbeatIntervalSeconds = 10;
    await next();
    clock.advance(74_999);
    master.heartbeat(); // alive: the watchdog restarts
    expect(await next()).toEqual({ type: 'heartbeat' });
    clock.advance(74_999);
    expect(master.streamOpen).toBe(true);
    clock.advance(1);
    expect(await next()).toEqual({ type: 'disconnected', reason: 'no heartbeat for 75 s (5 intervals)' });
    expect(master.streamOpen).toBe(false);
    clock.advance(500);
    await tick();
    expect(master.subscriptions).toHaveLength(2);
    expect(await next()).toMatchObject({ type: 'subscribed', reconnected: true });
  });

  it('reconnects when the master says the stream is stale', async () => {
    const { master, scheduler, clock, next } = await connect();
    await next();
    master.onCall('revive', () => {
      throw new SchedulerError('STALE_STREAM', 'replaced');
    });
    await expectError(scheduler.revive(), 'STALE_STREAM');
    expect(await next()).toMatchObject({ type: 'disconnected' });
    clock.advance(500);
    await tick();
    expect(await next()).toMatchObject({ type: 'subscribed', reconnected: true });
  });

  it('stops for good on an ERROR event: error event, end of events, calls fail with the code', async () => {
    const { master, scheduler, clock, next, iterator } = await connect();
    await next();
    master.error('FRAMEWORK_REMOVED', 'torn down by operator');
    expect(await next()).toEqual({ type: 'error', code: 'FRAMEWORK_REMOVED', message: 'torn down by operator' });
    expect((await iterator.next()).done).toBe(true);
    expect(scheduler.state).toBe('failed');
    await expectError(scheduler.revive(), 'FRAMEWORK_REMOVED');
    clock.advance(60_000);
    await tick();
    expect(master.subscriptions).toHaveLength(1);
  });

  it('stops for good when a re-subscription is refused', async () => {
    const { master, clock, next } = await connect();
    await next();
    master.refuseNextSubscribe(new SchedulerError('FRAMEWORK_REMOVED', 'failover timeout passed'));
    master.endStream();
    expect(await next()).toMatchObject({ type: 'disconnected', reason: 'the master closed the stream' });
    clock.advance(500);
    await tick();
    expect(await next()).toMatchObject({ type: 'error', code: 'FRAMEWORK_REMOVED' });
  });

  it('ignores events from a stream it has left', async () => {
    const { master, clock, next } = await connect();
    await next();
    const old = (master as unknown as { current: { sink: { event: (e: unknown) => void } } }).current.sink;
    master.endStream();
    await next(); // disconnected
    clock.advance(500);
    await tick();
    await next(); // subscribed again
    old.event({ event: { $case: 'heartbeat', value: {} } });
    master.rescind('x');
    expect(await next()).toMatchObject({ type: 'rescind', offerId: 'x' });
  });
});

describe('Scheduler: reconciliation', () => {
  it('reconciles tracked tasks after a reconnection and retries with backoff until each is answered', async () => {
    const { master, scheduler, clock, next } = await connect();
    await next();
    const [offer] = master.offer({ agentId: 'a1' });
    await next();
    await scheduler.launch(offer!, [
      { taskId: 't1', resources: { cpus: 1 }, command: { shell: 'x' } },
      { taskId: 't2', resources: { cpus: 1 }, command: { shell: 'x' } },
      { taskId: 't3', resources: { cpus: 1 }, command: { shell: 'x' } },
    ]);
    master.update({ taskId: 't3', state: 'TASK_FINISHED', uuid: 'u3', agentId: 'a1' }); // terminal: no longer tracked
    await next();
    expect(master.callsOf('reconcile')).toHaveLength(0);

    master.endStream();
    await next(); // disconnected
    clock.advance(500);
    await tick();
    await next(); // subscribed
    const ids = (r: { tasks: { taskId?: { value: string } }[] }): string[] => r.tasks.map((t) => t.taskId!.value).sort();
    expect(master.callsOf('reconcile').map(ids)).toEqual([['t1', 't2']]);
    expect(master.callsOf('reconcile')[0]!.tasks[0]!.agentId).toEqual({ value: 'a1' });

    master.update({ taskId: 't1', state: 'TASK_RUNNING', reason: 'RECONCILIATION', agentId: 'a1' });
    clock.advance(5_000); // t2 unanswered: asked again after 5 s
    await tick();
    expect(master.callsOf('reconcile').map(ids)).toEqual([['t1', 't2'], ['t2']]);
    clock.advance(9_999); // then after 10 s
    await tick();
    expect(master.callsOf('reconcile')).toHaveLength(2);
    clock.advance(1);
    await tick();
    expect(master.callsOf('reconcile').map(ids)).toEqual([['t1', 't2'], ['t2'], ['t2']]);
    master.update({ taskId: 't2', state: 'TASK_LOST', reason: 'RECONCILIATION' }); // answered, and terminal
    clock.advance(60_000);
    await tick();
    expect(master.callsOf('reconcile')).toHaveLength(3);
    expect(scheduler.trackedTasks().map((t) => t.taskId)).toEqual(['t1']);
  });

  it('explicit reconcile() tracks the tasks and retries them; implicit sends one empty list', async () => {
    const { master, scheduler, clock, next } = await connect();
    await next();
    await scheduler.reconcile([{ taskId: 'persisted-1', agentId: 'a1' }]);
    expect(master.callsOf('reconcile')[0]!.tasks).toEqual([{ taskId: { value: 'persisted-1' }, agentId: { value: 'a1' } }]);
    clock.advance(5_000);
    await tick();
    expect(master.callsOf('reconcile')).toHaveLength(2);
    master.update({ taskId: 'persisted-1', state: 'TASK_RUNNING', reason: 'RECONCILIATION' });
    clock.advance(10_000);
    await tick();
    expect(master.callsOf('reconcile')).toHaveLength(2);
  });

  it('asks the master about a launch whose ACCEPT outcome is unknown', async () => {
    const { master, scheduler, next } = await connect();
    await next();
    const [offer] = master.offer({});
    master.onCall('accept', () => {
      throw new SchedulerError('UNAVAILABLE', 'deadline exceeded');
    });
    await expectError(scheduler.launch(offer!, [{ taskId: 't1', resources: { cpus: 1 }, command: { shell: 'x' } }]), 'UNAVAILABLE');
    expect(scheduler.trackedTasks()).toMatchObject([{ taskId: 't1', answered: false }]);
    expect(master.callsOf('reconcile')[0]!.tasks.map((t) => t.taskId!.value)).toEqual(['t1']);
  });
});

describe('Scheduler: close', () => {
  it('ends the events at once, cancels the stream, closes the transport; calls fail with CLOSED', async () => {
    const { master, scheduler, iterator, next } = await connect();
    await next();
    master.heartbeat(); // queued, dropped by close
    const pending = iterator.next();
    await scheduler.close();
    await scheduler.close(); // idempotent
    expect(await pending).toMatchObject({ done: false }); // the heartbeat was already handed over
    expect((await iterator.next()).done).toBe(true);
    expect(master.streamOpen).toBe(false);
    expect(master.closed).toBe(true);
    await expectError(scheduler.revive(), 'CLOSED');
  });

  it('wakes a consumer waiting for the next event', async () => {
    const { scheduler, iterator, next } = await connect();
    await next();
    const waiting = iterator.next();
    await scheduler.close();
    expect((await waiting).done).toBe(true);
  });

  it('lets for-await end after close', async () => {
    const { master, scheduler } = await connect();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of scheduler.events()) {
        seen.push(e.type);
        if (e.type === 'update') await scheduler.close();
      }
    })();
    await tick();
    master.update({ taskId: 't', state: 'TASK_FINISHED', uuid: 'u', agentId: 'a1' });
    await loop;
    expect(seen).toEqual(['subscribed', 'update']);
    expect(master.callsOf('acknowledge').map((a) => a.uuid)).toEqual(['u']);
  });
});
