// The gRPC transport end to end against a small in-test gRPC server implementing meso.v1's
// Scheduler service (a test double of our protocol, not the real master).
import { silentLogger, TaskState } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler, SchedulerError, type SchedulerEvent } from '../src/index.js';
import { TestMaster, wireOffer, wireStatus } from './support/test-master.js';

/** Polls `check` until it holds, up to a deadline (no fixed sleeps). */
async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GrpcSchedulerTransport against a gRPC test double of the master', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function startMaster(): Promise<{ master: TestMaster; address: string }> {
    const master = new TestMaster();
    const address = await master.start();
    cleanups.push(() => master.stop());
    return { master, address };
  }

  async function setup(): Promise<{ master: TestMaster; scheduler: Scheduler; next: () => Promise<SchedulerEvent> }> {
    const { master, address } = await startMaster();
    const scheduler = await Scheduler.connect({
      master: address,
      framework: { name: 'grpc-test' },
      logger: silentLogger,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      connectTimeoutMs: 5_000,
    });
    cleanups.push(() => scheduler.close());
    const it = scheduler.events()[Symbol.asyncIterator]();
    const next = async (): Promise<SchedulerEvent> => {
      const r = await it.next();
      if (r.done) throw new Error('events ended');
      return r.value;
    };
    return { master, scheduler, next };
  }

  it('subscribes, receives events, makes calls with the stream context and acknowledges', async () => {
    const { master, scheduler, next } = await setup();
    expect(scheduler.frameworkId).toBe('fw-1');
    expect(await next()).toMatchObject({ type: 'subscribed', frameworkId: 'fw-1', masterId: 'm1', reconnected: false });
    master.stream.write({ event: { $case: 'offers', value: { offers: [wireOffer('o1', 'fw-1')] } } });
    const offers = await next();
    if (offers.type !== 'offers') throw new Error(`expected offers, got ${offers.type}`);
    expect(offers.offers[0]!.resources.scalar('mem')).toBe(1024);
    await scheduler.launch(offers.offers[0]!, [{ taskId: 't1', resources: { cpus: 0.1, mem: 32 }, command: { shell: 'echo hello' } }]);
    const accept = master.callsOf('accept')[0];
    expect(accept.context).toEqual({ frameworkId: { value: 'fw-1' }, streamId: 's1' });
    expect(accept.operations[0].launch.taskInfos[0].command.value).toBe('echo hello');
    expect(accept.operations[0].launch.taskInfos[0].agentId).toEqual({ value: 'agent-1' });

    master.stream.write({ event: { $case: 'update', value: { status: wireStatus('t1', TaskState.TASK_RUNNING, 'u1') } } });
    expect(await next()).toMatchObject({ type: 'update', status: { taskId: 't1', state: 'TASK_RUNNING', uuid: 'u1', sandbox: '/tmp/sandbox/t1' } });
    master.stream.write({ event: { $case: 'heartbeat', value: {} } });
    expect(await next()).toEqual({ type: 'heartbeat' });
    await eventually(() => master.callsOf('acknowledge').length === 1);
    expect(master.callsOf('acknowledge')[0]).toMatchObject({ uuid: 'u1', taskId: { value: 't1' } });
  });

  it('surfaces a refused call as SchedulerError with the code and field from the trailers', async () => {
    const { master, scheduler } = await setup();
    master.policy = (call) =>
      call.name === 'decline' ? { code: 'UNKNOWN_OFFER', message: 'offer gone is not outstanding', field: 'offer_ids[0]' } : undefined;
    const err = await scheduler.decline(['gone']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: 'UNKNOWN_OFFER', field: 'offer_ids[0]' });
    expect((err as SchedulerError).message).toContain('offer gone is not outstanding');
    expect((err as SchedulerError).cause).toBeDefined();
  });

  it('rejects connect when the master refuses the subscription', async () => {
    const { master, address } = await startMaster();
    master.refuse.set('removed', { code: 'FRAMEWORK_REMOVED', message: 'framework removed was torn down', field: 'framework_info.id' });
    const err = await Scheduler.connect({ master: address, framework: { name: 'x', id: 'removed' }, logger: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: 'FRAMEWORK_REMOVED', field: 'framework_info.id' });
  });

  it('reconnects with the same framework id after the stream drops', async () => {
    const { master, scheduler, next } = await setup();
    await next();
    master.stream.end();
    expect(await next()).toMatchObject({ type: 'disconnected', reason: 'the master closed the stream' });
    expect(await next()).toMatchObject({ type: 'subscribed', reconnected: true, frameworkId: 'fw-1' });
    expect(master.subscriptions[1]!.frameworkInfo!.id).toEqual({ value: 'fw-1' });
    await scheduler.revive();
    expect(master.callsOf('revive')[0].context.streamId).toBe('s2');
  });

  it('reconnects after the master process goes away and comes back on the same port', async () => {
    const { master, next } = await setup();
    await next();
    const port = master.port;
    master.stop();
    expect(await next()).toMatchObject({ type: 'disconnected' });
    const again = new TestMaster();
    cleanups.push(() => again.stop());
    await again.start(`127.0.0.1:${port}`);
    expect(await next()).toMatchObject({ type: 'subscribed', reconnected: true, frameworkId: 'fw-1' });
    expect(again.subscriptions[0]!.frameworkInfo!.id).toEqual({ value: 'fw-1' });
  });

  it('times out connecting to a master that is not there', async () => {
    const { master } = await startMaster();
    const port = master.port;
    master.stop(); // nothing listens on the port now
    const err = await Scheduler.connect({
      master: `127.0.0.1:${port}`,
      framework: { name: 'x' },
      logger: silentLogger,
      connectTimeoutMs: 300,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: 'CONNECT_TIMEOUT' });
  });
});
