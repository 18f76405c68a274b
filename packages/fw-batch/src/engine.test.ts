import { FakeClock, FakeSchedulerTransport, silentLogger } from '@meso/sdk-scheduler';
import { MemoryStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatch, type RunningBatch } from './start-batch.js';
import type { TaskRecord } from './state.js';

// The engine over the SDK's in-memory master: offers and updates played by the test.

let running: RunningBatch | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(preemption = false) {
  const master = new FakeSchedulerTransport();
  const clock = new FakeClock();
  const store = new MemoryStateStore();
  running = await startBatch({ master: '127.0.0.1:5050', httpPort: 0, transport: master, clock, store, logger: silentLogger, preemption, tickMs: 20 });
  return { master, clock, store, batch: running, engine: running.engine };
}

/** Task ids launched by an ACCEPT request. */
const launchedIds = (request: unknown): string[] => [...JSON.stringify(request).matchAll(/"taskId":\{"value":"([^"]+)"\}/g)].map((m) => m[1]!);
const killedId = (request: unknown): string => /"taskId":\{"value":"([^"]+)"\}/.exec(JSON.stringify(request))![1]!;

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('BatchEngine', () => {
  it('persists each attempt (LAUNCHING) before the ACCEPT that launches it, and packs one offer', async () => {
    const { master, store, engine } = await start();
    let persistedFirst: boolean | undefined;
    master.onCall('accept', async (request) => {
      const ids = launchedIds(request);
      const recs = await Promise.all(ids.map((id) => store.get<TaskRecord>(`tasks/j/${String(Number(id.split('.')[1])).padStart(6, '0')}`)));
      persistedFirst = recs.every((r, i) => r?.value.attempts.some((a) => a.taskId === ids[i] && a.state === 'LAUNCHING'));
    });
    await engine.submit([{ id: 'j', command: 'true', instances: 3, cpus: 1, mem: 10 }]);
    master.offer({ resources: 'cpus:2.1;mem:1024' }); // 2 tasks and the batch executor (0.1 cpus, 128 MB)
    const accept = await master.waitForCall('accept');
    expect(launchedIds(accept).sort()).toEqual(['j.0.0', 'j.1.0']);
    // The executor declares what a Node process needs, so the agent's memory limit holds it.
    const executor = accept.operations[0]!.launch!.taskInfos[0]!.executor!;
    expect(executor.resources.map((r) => [r.name, r.scalar])).toEqual([['cpus', 0.1], ['mem', 128]]);
    expect(await until('the check in the accept handler', () => persistedFirst !== undefined && { persistedFirst })).toEqual({ persistedFirst: true });
  });

  it('refuses executor resources too small for a Node process, naming the option; nothing is started', async () => {
    const master = new FakeSchedulerTransport();
    const base = { httpPort: 0, transport: master, clock: new FakeClock(), store: new MemoryStateStore(), logger: silentLogger };
    await expect(startBatch({ ...base, executorMemMb: 16 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'executorMemMb' });
    await expect(startBatch({ ...base, executorCpus: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'executorCpus' });
    expect(master.subscriptions).toHaveLength(0);
  });

  it('places tasks less the executor where it does not run yet, and in full where it runs', async () => {
    const { master, engine } = await start();
    await engine.submit([{ id: 'm', command: 'true', instances: 4, cpus: 0.5, mem: 256 }]);
    master.offer({ id: 'fresh', resources: 'cpus:4;mem:1024', agentId: 'a1' }); // 1024 - 128 for the executor: 3 tasks
    expect(launchedIds(await master.waitForCall('accept', (a) => a.offerIds[0]?.value === 'fresh'))).toHaveLength(3);
    master.offer({ id: 'warm', resources: 'cpus:4;mem:256', agentId: 'a2', executorIds: ['meso-batch-executor'] });
    expect(launchedIds(await master.waitForCall('accept', (a) => a.offerIds[0]?.value === 'warm'))).toHaveLength(1);
  });

  it('suppresses offers when no work waits and revives when some arrives', async () => {
    const { master, engine } = await start();
    master.offer({ resources: 'cpus:2;mem:1024' });
    await master.waitForCall('suppress');
    await engine.submit([{ id: 'later', command: 'true' }]);
    await master.waitForCall('revive');
  });

  it('kills an attempt past maxRuntime and retries it as a counted failure', async () => {
    const { master, clock, engine } = await start();
    await engine.submit([{ id: 'slow', command: 'sleep 100', maxRuntime: 5, maxRetries: 1, retry: { backoff: 'fixed', delayMs: 0, jitter: 0 } }]);
    master.offer({ resources: 'cpus:2;mem:1024' });
    await master.waitForCall('accept');
    master.update({ taskId: 'slow.0.0', state: 'TASK_RUNNING', uuid: 'u1', agentId: 'agent-1' });
    await until('running', () => engine.state.tasks.get('slow/0')?.attempts[0]?.state === 'RUNNING');
    clock.advance(6000);
    expect(killedId(await master.waitForCall('kill'))).toBe('slow.0.0');
    master.update({ taskId: 'slow.0.0', state: 'TASK_KILLED', uuid: 'u2', agentId: 'agent-1' });
    const t = await until('retried', () => {
      const x = engine.state.tasks.get('slow/0');
      return x?.state === 'pending' && x;
    });
    expect(t.failures).toBe(1);
    expect(t.attempts[0]).toMatchObject({ state: 'KILLED', endReason: 'max-runtime', counted: true });
  });

  it('preempts only what makes the waiting task fit, and does not count it against maxRetries', async () => {
    const { master, engine } = await start(true);
    await engine.submit([{ id: 'hog', user: 'hog', command: 'sleep 100', instances: 8, cpus: 0.5, mem: 10, maxRetries: 0 }]);
    master.offer({ resources: 'cpus:4.1;mem:1024', agentId: 'a1', hostname: 'h1' }); // 4 for hog, 0.1 for the executor
    const accept = await master.waitForCall('accept');
    for (const id of launchedIds(accept)) master.update({ taskId: id, state: 'TASK_RUNNING', uuid: `r-${id}`, agentId: 'a1' });
    await until('all running', () => [...engine.state.byTaskId.values()].filter((e) => e.instance.state === 'RUNNING').length === 8);
    // A task that could never fit (8 cpus on a 4-cpu agent) preempts nothing.
    await engine.submit([{ id: 'never', user: 'poor', command: 'true', cpus: 8, mem: 10 }]);
    master.offer({ resources: 'cpus:0.1;mem:512', agentId: 'a1', hostname: 'h1', executorIds: ['meso-batch-executor'] });
    await master.waitForCall('decline', () => true);
    expect(master.callsOf('kill')).toHaveLength(0);
    // One that fits once 2 of hog's 8 tasks are gone preempts exactly those (the newest).
    await engine.submit([{ id: 'poor', user: 'poor', command: 'true', cpus: 1, mem: 10 }]);
    master.offer({ resources: 'cpus:0.1;mem:512', agentId: 'a1', hostname: 'h1', executorIds: ['meso-batch-executor'] });
    await until('two kills', () => master.callsOf('kill').length === 2);
    const victims = master.callsOf('kill').map(killedId);
    for (const id of victims) master.update({ taskId: id, state: 'TASK_KILLED', uuid: `k-${id}`, agentId: 'a1' });
    await until('victims pending again', () => victims.every((id) => engine.state.byTaskId.get(id)!.task.state === 'pending'));
    for (const id of victims) {
      const { task } = engine.state.byTaskId.get(id)!;
      const t = engine.state.tasks.get(`${task.jobId}/${task.index}`)!;
      expect(t.failures).toBe(0); // maxRetries is 0, yet the task will run again
      expect(t.attempts[0]).toMatchObject({ endReason: 'preempted', counted: false });
    }
  });

  it('kills a straggler far slower than its group and retries it without counting', async () => {
    const { master, clock, engine } = await start();
    await engine.submit([{ id: 'g', command: 'work', instances: 4, maxRetries: 0, stragglers: { quantile: 0.5, factor: 3, minFinished: 3 } }]);
    master.offer({ resources: 'cpus:4;mem:1024' });
    const ids = launchedIds(await master.waitForCall('accept'));
    expect(ids).toHaveLength(4);
    for (const id of ids) master.update({ taskId: id, state: 'TASK_RUNNING', uuid: `r-${id}`, agentId: 'agent-1' });
    await until('all running', () => ids.every((id) => engine.state.byTaskId.get(id)?.instance.state === 'RUNNING'));
    clock.advance(1000);
    for (const id of ids.slice(0, 3)) master.update({ taskId: id, state: 'TASK_FINISHED', uuid: `f-${id}`, agentId: 'agent-1' });
    await until('three finished', () => ids.slice(0, 3).every((id) => engine.state.byTaskId.get(id)?.instance.state === 'FINISHED'));
    clock.advance(2500); // 3.5 s > 3 × the 1 s median
    expect(killedId(await master.waitForCall('kill'))).toBe(ids[3]);
    master.update({ taskId: ids[3]!, state: 'TASK_KILLED', uuid: 'k', agentId: 'agent-1' });
    const t = await until('retried', () => {
      const x = engine.state.tasks.get('g/3');
      return x?.state === 'pending' && x;
    });
    expect(t.failures).toBe(0);
    expect(t.attempts[0]).toMatchObject({ endReason: 'straggler', counted: false });
  });
});
