import { FakeClock, silentLogger, TaskState as WireTaskState, TaskStatus_Source, type ExecutorEvent, type ExecutorMessageRequest, type ExecutorSubscribeRequest, type ExecutorUpdateRequest, type TaskInfo as WireTaskInfo } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { ExecutorError } from './errors.js';
import { Executor } from './executor.js';
import type { ExecutorHandlers } from './handlers.js';
import type { ExecutorOptions } from './options.js';
import type { ExecutorTransport, Subscription, SubscriptionObserver } from './transport.js';
import type { TaskInfo } from './types.js';

/** A transport double: records what the SDK sends and lets the test play the agent. */
class FakeTransport implements ExecutorTransport {
  readonly streams: Array<{ request: ExecutorSubscribeRequest; observer: SubscriptionObserver; cancelled: boolean }> = [];
  readonly updates: ExecutorUpdateRequest[] = [];
  readonly messages: ExecutorMessageRequest[] = [];
  updateError: ExecutorError | undefined;
  closed = false;

  subscribe(request: ExecutorSubscribeRequest, observer: SubscriptionObserver): Subscription {
    const s = { request, observer, cancelled: false };
    this.streams.push(s);
    return { cancel: () => void (s.cancelled = true) };
  }
  async update(request: ExecutorUpdateRequest): Promise<void> {
    if (this.updateError) throw this.updateError;
    this.updates.push(request);
  }
  async message(request: ExecutorMessageRequest): Promise<void> {
    this.messages.push(request);
  }
  close(): void {
    this.closed = true;
  }

  get current() {
    const s = this.streams.at(-1);
    if (!s) throw new Error('no stream');
    return s;
  }
  emit(event: ExecutorEvent['event']): void {
    this.current.observer.onEvent({ event });
  }
  subscribed(): void {
    this.emit({ $case: 'subscribed', value: { executorInfo: undefined, frameworkInfo: { id: { value: 'fw-1' }, name: 'fw', user: 'alice', roles: [], failoverTimeout: 0, checkpoint: true, hostname: '', principal: '', capabilities: [3], labels: [], webuiUrl: '' }, agentInfo: undefined } });
  }
  end(error?: ExecutorError): void {
    this.current.observer.onEnd(error);
  }
  ack(taskId: string, uuid: string): void {
    this.emit({ $case: 'acknowledged', value: { taskId: { value: taskId }, uuid } });
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function wireTask(id: string, extra: Partial<WireTaskInfo> = {}): WireTaskInfo {
  return {
    name: `task ${id}`,
    taskId: { value: id },
    agentId: undefined,
    resources: [{ name: 'cpus', type: 1, scalar: 0.5, ranges: [], set: [], role: '*', reservations: [], disk: undefined }],
    command: { shell: true, value: 'echo hi', arguments: [], environment: [{ name: 'A', value: '1' }], user: '' },
    executor: undefined,
    data: Buffer.from('payload'),
    killPolicy: { gracePeriodSeconds: 2 },
    healthCheck: undefined,
    labels: [{ key: 'team', value: 'infra' }],
    ...extra,
  };
}

interface Harness {
  executor: Executor;
  transport: FakeTransport;
  clock: FakeClock;
  launched: TaskInfo[];
  killed: Array<{ taskId: string; grace: number | undefined }>;
}

async function connect(handlers: Partial<ExecutorHandlers> = {}, options: Partial<ExecutorOptions> = {}): Promise<Harness> {
  const transport = new FakeTransport();
  const clock = new FakeClock();
  const launched: TaskInfo[] = [];
  const killed: Harness['killed'] = [];
  const pending = Executor.connect({
    handlers: {
      launch: (t) => void launched.push(t),
      kill: (taskId, _ctx, req) => void killed.push({ taskId, grace: req.gracePeriodSeconds }),
      ...handlers,
    },
    env: {
      MESO_AGENT_ENDPOINT: '127.0.0.1:5051',
      MESO_FRAMEWORK_ID: 'fw-1',
      MESO_EXECUTOR_ID: 'ex-1',
      MESO_EXECUTOR_TOKEN: 'secret',
      MESO_SANDBOX: '/tmp/sandbox',
      MESO_CHECKPOINT: '1',
    },
    transport,
    clock,
    logger: silentLogger,
    ...options,
  });
  await flush();
  transport.subscribed();
  const executor = await pending;
  return { executor, transport, clock, launched, killed };
}

describe('Executor over a fake transport', () => {
  it('subscribes with its identity and token, then hands launches to the handler as domain types', async () => {
    const h = await connect();
    expect(h.transport.streams[0]?.request).toMatchObject({ frameworkId: { value: 'fw-1' }, executorId: { value: 'ex-1' }, token: 'secret', unacknowledgedTasks: [], unacknowledgedUpdates: [] });
    expect(h.executor.info.framework).toMatchObject({ frameworkId: 'fw-1', user: 'alice', checkpoint: true, capabilities: ['TASK_KILLING_STATE'] });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    await flush();
    const task = h.launched[0];
    expect(task?.taskId).toBe('t1');
    expect(task?.resources.scalar('cpus')).toBe(0.5);
    expect(task?.command).toEqual({ shell: true, value: 'echo hi', arguments: [], env: { A: '1' }, user: '' });
    expect(Buffer.from(task?.data ?? []).toString()).toBe('payload');
    expect(task?.killGracePeriodSeconds).toBe(2);
    expect(task?.labels).toEqual({ team: 'infra' });
  });

  it('sends each update with a fresh uuid and keeps it until the agent acknowledges it', async () => {
    const h = await connect();
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    await h.executor.update('t1', 'TASK_RUNNING');
    await h.executor.update('t1', 'TASK_FINISHED', { message: 'done', exitCode: 0, data: 'bye' });
    const [a, b] = h.transport.updates;
    expect(a?.status?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a?.status?.uuid).not.toBe(b?.status?.uuid);
    expect(a?.status).toMatchObject({ state: WireTaskState.TASK_RUNNING, source: TaskStatus_Source.SOURCE_EXECUTOR, taskId: { value: 't1' } });
    expect(b?.status).toMatchObject({ state: WireTaskState.TASK_FINISHED, message: 'done', exitCode: 0 });
    expect(b?.token).toBe('secret');
    expect(h.executor.pendingUpdates().map((u) => u.state)).toEqual(['TASK_RUNNING', 'TASK_FINISHED']);
    h.transport.ack('t1', a?.status?.uuid ?? '');
    expect(h.executor.pendingUpdates().map((u) => u.state)).toEqual(['TASK_FINISHED']);
    h.transport.ack('t1', 'not-a-known-uuid');
    expect(h.executor.pendingUpdates()).toHaveLength(1);
  });

  it('re-subscribes with backoff after the agent goes away, carrying unacknowledged updates and tasks', async () => {
    const h = await connect({}, { reconnectBackoffMs: 100, maxReconnectBackoffMs: 300 });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t2') } });
    await h.executor.update('t1', 'TASK_RUNNING');
    h.transport.end(new ExecutorError('DISCONNECTED', 'agent restarting'));
    expect(h.executor.connected).toBe(false);
    await h.executor.update('t1', 'TASK_FINISHED'); // queued while away
    expect(h.transport.updates).toHaveLength(1);

    h.clock.advance(99);
    expect(h.transport.streams).toHaveLength(1);
    h.clock.advance(1);
    expect(h.transport.streams).toHaveLength(2);
    h.transport.end(new ExecutorError('DISCONNECTED', 'still down'));
    h.clock.advance(199);
    expect(h.transport.streams).toHaveLength(2);
    h.clock.advance(1);
    expect(h.transport.streams).toHaveLength(3);
    h.transport.end(new ExecutorError('DISCONNECTED', 'still down'));
    h.clock.advance(300); // capped at maxReconnectBackoffMs
    expect(h.transport.streams).toHaveLength(4);

    const request = h.transport.current.request;
    expect(request.unacknowledgedUpdates.map((u) => u.status?.state)).toEqual([WireTaskState.TASK_RUNNING, WireTaskState.TASK_FINISHED]);
    expect(request.unacknowledgedTasks.map((t) => t.taskId?.value)).toEqual(['t2']);
    h.transport.subscribed();
    expect(h.executor.connected).toBe(true);
    // Carried by the subscribe request, so not sent again as calls.
    await flush();
    expect(h.transport.updates).toHaveLength(1);
  });

  it('sends updates recorded after the subscribe request was built once SUBSCRIBED arrives', async () => {
    const h = await connect({}, { reconnectBackoffMs: 10 });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    h.transport.end(new ExecutorError('DISCONNECTED', 'gone'));
    h.clock.advance(10);
    expect(h.transport.streams).toHaveLength(2);
    await h.executor.update('t1', 'TASK_RUNNING');
    expect(h.transport.current.request.unacknowledgedUpdates).toHaveLength(0);
    h.transport.subscribed();
    await flush();
    expect(h.transport.updates.map((u) => u.status?.state)).toEqual([WireTaskState.TASK_RUNNING]);
  });

  it('gives up after the recovery timeout: kills its tasks and ends', async () => {
    const h = await connect({}, { recoveryTimeoutMs: 5_000, reconnectBackoffMs: 1_000, maxReconnectBackoffMs: 1_000, shutdownGracePeriodMs: 1_000 });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    h.transport.end(new ExecutorError('DISCONNECTED', 'gone'));
    for (let i = 0; i < 4; i++) {
      h.clock.advance(1_000);
      h.transport.end(new ExecutorError('DISCONNECTED', 'gone'));
    }
    expect(h.killed).toEqual([]);
    h.clock.advance(1_000);
    await flush();
    expect(h.killed).toEqual([{ taskId: 't1', grace: 2 }]);
    h.clock.advance(1_000);
    const exit = await h.executor.done();
    expect(exit.reason).toBe('recovery-timeout');
    expect(exit.error?.code).toBe('RECOVERY_TIMEOUT');
    expect(h.transport.closed).toBe(true);
  });

  it('close() while the agent is away holds the terminal update until a restarted agent acknowledges it', async () => {
    const h = await connect({}, { reconnectBackoffMs: 100, maxReconnectBackoffMs: 100, recoveryTimeoutMs: 60_000, closeTimeoutMs: 1_000 });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    h.transport.end(new ExecutorError('DISCONNECTED', 'agent killed'));
    await h.executor.update('t1', 'TASK_FAILED', { message: 'Command exited with status 3' });
    let ended = false;
    const closing = h.executor.close().then(() => (ended = true));
    h.clock.advance(30_000); // far past closeTimeoutMs, within the recovery timeout
    await flush();
    expect(ended).toBe(false);
    h.clock.advance(100);
    const resubscription = h.transport.current.request;
    expect(resubscription.unacknowledgedUpdates.map((u) => u.status?.state)).toEqual([WireTaskState.TASK_FAILED]);
    h.transport.subscribed();
    h.transport.ack('t1', resubscription.unacknowledgedUpdates[0]?.status?.uuid ?? '');
    await closing;
    expect((await h.executor.done()).reason).toBe('closed');
  });

  it('shuts down at once when the agent goes away and the framework does not checkpoint', async () => {
    const h = await connect({ kill: (taskId, ctx) => void ctx.update(taskId, 'TASK_KILLED') }, { checkpoint: false });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    h.transport.end(new ExecutorError('DISCONNECTED', 'gone'));
    const exit = await h.executor.done();
    expect(exit.reason).toBe('agent-disconnected');
    expect(h.transport.streams).toHaveLength(1);
  });

  it('on SHUTDOWN kills live tasks and ends once the terminal updates are acknowledged', async () => {
    const h = await connect({
      kill: (taskId, ctx) => void ctx.update(taskId, 'TASK_KILLED'),
    });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    await h.executor.update('t1', 'TASK_RUNNING');
    h.transport.ack('t1', h.transport.updates[0]?.status?.uuid ?? '');
    h.transport.emit({ $case: 'shutdown', value: { gracePeriodSeconds: 5 } });
    await flush();
    const killed = h.transport.updates[1];
    expect(killed?.status?.state).toBe(WireTaskState.TASK_KILLED);
    let ended = false;
    void h.executor.done().then(() => (ended = true));
    await flush();
    expect(ended).toBe(false);
    h.transport.ack('t1', killed?.status?.uuid ?? '');
    expect((await h.executor.done()).reason).toBe('shutdown');
  });

  it('passes the kill policy grace period, else the task one, to the kill handler', async () => {
    const h = await connect();
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    h.transport.emit({ $case: 'kill', value: { taskId: { value: 't1' }, killPolicy: { gracePeriodSeconds: 7 } } });
    h.transport.emit({ $case: 'kill', value: { taskId: { value: 't1' }, killPolicy: undefined } });
    await flush();
    expect(h.killed).toEqual([
      { taskId: 't1', grace: 7 },
      { taskId: 't1', grace: 2 },
    ]);
  });

  it('reports TASK_FAILED when the launch handler throws, and tells the error handler', async () => {
    const errors: string[] = [];
    const h = await connect({
      launch: () => {
        throw new Error('boom');
      },
      error: (e) => void errors.push(`${e.code}: ${e.message}`),
    });
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    await flush();
    await flush();
    expect(h.transport.updates[0]?.status).toMatchObject({ state: WireTaskState.TASK_FAILED, message: 'launch handler failed: boom' });
    expect(errors).toEqual(['HANDLER_FAILED: launch handler failed: boom']);
  });

  it('drops an update the agent rejects and surfaces a typed error', async () => {
    const h = await connect();
    h.transport.updateError = new ExecutorError('REJECTED', 'unknown task');
    await expect(h.executor.update('t9', 'TASK_RUNNING')).rejects.toMatchObject({ name: 'ExecutorError', code: 'REJECTED' });
    expect(h.executor.pendingUpdates()).toEqual([]);
    await expect(h.executor.update('t9', 'TASK_NOPE' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'state' });
  });

  it('keeps an update when the call fails for lack of connection', async () => {
    const h = await connect();
    h.transport.updateError = new ExecutorError('DISCONNECTED', 'unreachable');
    await h.executor.update('t1', 'TASK_RUNNING');
    expect(h.executor.pendingUpdates()).toHaveLength(1);
  });

  it('reconnects when no event (heartbeat) arrives in time', async () => {
    const h = await connect({}, { heartbeatTimeoutMs: 1_000, reconnectBackoffMs: 10 });
    h.clock.advance(900);
    h.transport.emit({ $case: 'heartbeat', value: {} });
    h.clock.advance(900);
    expect(h.executor.connected).toBe(true);
    h.clock.advance(100);
    expect(h.executor.connected).toBe(false);
    expect(h.transport.streams[0]?.cancelled).toBe(true);
    h.clock.advance(10);
    expect(h.transport.streams).toHaveLength(2);
  });

  it('forwards messages both ways and ends on close()', async () => {
    const received: string[] = [];
    const h = await connect({ message: (data) => void received.push(Buffer.from(data).toString()) });
    h.transport.emit({ $case: 'message', value: { data: Buffer.from('ping') } });
    await flush();
    expect(received).toEqual(['ping']);
    await h.executor.message('pong');
    expect(Buffer.from(h.transport.messages[0]?.data ?? []).toString()).toBe('pong');
    await h.executor.close();
    expect((await h.executor.done()).reason).toBe('closed');
    await expect(h.executor.update('t1', 'TASK_RUNNING')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('close() waits for outstanding acknowledgements, bounded by closeTimeoutMs', async () => {
    const h = await connect({}, { closeTimeoutMs: 1_000 });
    await h.executor.update('t1', 'TASK_RUNNING');
    const closing = h.executor.close();
    await flush();
    expect(h.transport.closed).toBe(false);
    h.clock.advance(1_000);
    await closing;
    expect(h.transport.closed).toBe(true);
  });

  it('rejects connect with CONNECTION_FAILED when the agent never answers', async () => {
    const transport = new FakeTransport();
    const clock = new FakeClock();
    const pending = Executor.connect({
      handlers: { launch: () => undefined, kill: () => undefined },
      agentEndpoint: '127.0.0.1:1',
      frameworkId: 'fw',
      executorId: 'ex',
      env: {},
      connectTimeoutMs: 500,
      transport,
      clock,
      logger: silentLogger,
    });
    clock.advance(500);
    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
  });

  it('rejects connect with UNAUTHORIZED when the agent refuses the token', async () => {
    const transport = new FakeTransport();
    const pending = Executor.connect({
      handlers: { launch: () => undefined, kill: () => undefined },
      env: { MESO_AGENT_ENDPOINT: 'localhost:5051', MESO_FRAMEWORK_ID: 'fw', MESO_EXECUTOR_ID: 'ex' },
      transport,
      clock: new FakeClock(),
      logger: silentLogger,
    });
    transport.end(new ExecutorError('UNAUTHORIZED', 'bad token'));
    await expect(pending).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('stops at once with UNKNOWN_EXECUTOR when the agent does not know the executor, instead of retrying', async () => {
    const transport = new FakeTransport();
    const clock = new FakeClock();
    const pending = Executor.connect({
      handlers: { launch: () => undefined, kill: () => undefined },
      env: { MESO_AGENT_ENDPOINT: 'localhost:5051', MESO_FRAMEWORK_ID: 'fw', MESO_EXECUTOR_ID: 'ex' },
      transport,
      clock,
      logger: silentLogger,
    });
    transport.end(new ExecutorError('UNKNOWN_EXECUTOR', 'no such executor'));
    await expect(pending).rejects.toMatchObject({ code: 'UNKNOWN_EXECUTOR' });
    clock.advance(60_000);
    expect(transport.streams).toHaveLength(1);
    expect(transport.closed).toBe(true);
  });

  it('kills its tasks and ends when a re-subscription is refused with UNKNOWN_EXECUTOR', async () => {
    const h = await connect();
    h.transport.emit({ $case: 'launch', value: { task: wireTask('t1') } });
    await h.executor.update('t1', 'TASK_RUNNING');
    h.transport.end(new ExecutorError('DISCONNECTED', 'agent restarting'));
    h.clock.advance(250);
    expect(h.transport.streams).toHaveLength(2);
    h.transport.end(new ExecutorError('UNKNOWN_EXECUTOR', 'no such executor'));
    await flush();
    expect(h.killed).toEqual([{ taskId: 't1', grace: 2 }]);
    await h.executor.update('t1', 'TASK_KILLED');
    const exit = await h.executor.done();
    expect(exit).toMatchObject({ reason: 'unknown-executor', error: { code: 'UNKNOWN_EXECUTOR' } });
    h.clock.advance(20 * 60_000);
    expect(h.transport.streams).toHaveLength(2);
  });
});
