import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, silentLogger, TaskState, type StatusUpdate } from '@meso/proto';
import { FileStateStore, MemoryStateStore, type StateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { keySegment, StatusUpdateManager } from './status-update-manager.js';

let n = 0;
function update(taskId: string, state: TaskState, uuid = `u${++n}`, frameworkId = 'fw'): StatusUpdate {
  return {
    frameworkId: { value: frameworkId },
    executorId: { value: taskId },
    status: {
      taskId: { value: taskId },
      state,
      message: '',
      source: 3,
      reason: 0,
      data: Buffer.alloc(0),
      agentId: { value: 'a1' },
      executorId: { value: taskId },
      timestamp: 1,
      uuid,
      signal: '',
      frameworkId: { value: frameworkId },
      labels: [],
      containerStatus: { sandbox: '/sb', executorPid: 42 },
    },
    latestState: 0,
  };
}

async function manager(store: StateStore = new MemoryStateStore(), retryMs = 10_000) {
  const clock = new FakeClock();
  const sent: StatusUpdate[] = [];
  const m = await StatusUpdateManager.open({ store, clock, logger: silentLogger, retryMs, forward: (u) => void sent.push(u) });
  const uuids = (): string[] => sent.map((u) => u.status?.uuid ?? '');
  return { m, clock, sent, uuids, store };
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('StatusUpdateManager', () => {
  it('sends one update per task at a time, in order, the next after the ack', async () => {
    const { m, uuids, sent } = await manager();
    m.resume();
    await m.update(update('t1', TaskState.TASK_STARTING, 'a'));
    await m.update(update('t1', TaskState.TASK_RUNNING, 'b'));
    await m.update(update('t1', TaskState.TASK_FINISHED, 'c'));
    await m.update(update('t2', TaskState.TASK_RUNNING, 'x'));
    expect(uuids()).toEqual(['a', 'x']);
    expect(sent[0]?.latestState).toBe(TaskState.TASK_STARTING);
    expect(await m.acknowledge('fw', 't1', 'a')).toBe('acknowledged');
    expect(uuids()).toEqual(['a', 'x', 'b']);
    // latest_state tells the master where the task really is.
    expect(sent[2]?.latestState).toBe(TaskState.TASK_FINISHED);
    expect(await m.acknowledge('fw', 't1', 'c')).toBe('unexpected'); // not the head
    expect(await m.acknowledge('fw', 't1', 'b')).toBe('acknowledged');
    expect(await m.acknowledge('fw', 't1', 'c')).toBe('acknowledged');
    expect(uuids()).toEqual(['a', 'x', 'b', 'c']);
    expect(m.pending().map((p) => p.taskId)).toEqual(['t2']);
  });

  it('re-sends an unacknowledged update with backoff doubling from retryMs up to 10 minutes', async () => {
    const { m, clock, uuids } = await manager(new MemoryStateStore(), 10_000);
    m.resume();
    await m.update(update('t1', TaskState.TASK_RUNNING, 'a'));
    const sendsAfter = (ms: number): number => {
      clock.advance(ms);
      return uuids().length;
    };
    expect(uuids()).toHaveLength(1);
    expect(sendsAfter(9_999)).toBe(1);
    expect(sendsAfter(1)).toBe(2); // +10 s
    expect(sendsAfter(19_999)).toBe(2);
    expect(sendsAfter(1)).toBe(3); // +20 s
    expect(sendsAfter(40_000)).toBe(4); // +40 s
    expect(sendsAfter(80_000 + 160_000 + 320_000)).toBe(7); // 80, 160, 320 s
    expect(sendsAfter(599_999)).toBe(7); // capped at 600 s
    expect(sendsAfter(1)).toBe(8);
    expect(sendsAfter(600_000)).toBe(9);
    await m.acknowledge('fw', 't1', 'a');
    expect(sendsAfter(3_600_000)).toBe(9);
  });

  it('drops duplicates, before and after the acknowledgement, and updates after the terminal ack', async () => {
    const { m, uuids } = await manager();
    m.resume();
    expect(await m.update(update('t1', TaskState.TASK_FINISHED, 'a'))).toBe('accepted');
    expect(await m.update(update('t1', TaskState.TASK_FINISHED, 'a'))).toBe('duplicate');
    expect(await m.acknowledge('fw', 't1', 'a')).toBe('acknowledged');
    expect(await m.update(update('t1', TaskState.TASK_FINISHED, 'a'))).toBe('duplicate');
    expect(await m.acknowledge('fw', 't1', 'a')).toBe('duplicate');
    expect(await m.update(update('t1', TaskState.TASK_FAILED, 'z'))).toBe('terminated');
    expect(uuids()).toEqual(['a']);
  });

  it('sends nothing while paused and re-sends every head on resume', async () => {
    const { m, clock, uuids } = await manager();
    await m.update(update('t1', TaskState.TASK_RUNNING, 'a'));
    await m.update(update('t2', TaskState.TASK_RUNNING, 'b'));
    clock.advance(60_000);
    expect(uuids()).toEqual([]);
    m.resume();
    expect(uuids()).toEqual(['a', 'b']);
    m.pause();
    clock.advance(600_000);
    expect(uuids()).toEqual(['a', 'b']);
    m.resume();
    expect(uuids()).toEqual(['a', 'b', 'a', 'b']);
  });

  it('checkpoints before accepting and reloads the streams after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meso-sum-'));
    dirs.push(dir);
    const first = await manager(await FileStateStore.open(dir));
    await first.m.update(update('t/1', TaskState.TASK_RUNNING, 'a', 'fw 1'));
    await first.m.update(update('t/1', TaskState.TASK_FINISHED, 'b', 'fw 1'));
    await first.m.update(update('t2', TaskState.TASK_FINISHED, 'c', 'fw 1'));
    first.m.resume();
    await first.m.acknowledge('fw 1', 't2', 'c');
    first.m.close();

    const second = await manager(await FileStateStore.open(dir));
    expect(second.m.pending().map((p) => [p.frameworkId, p.taskId, p.updates.map((u) => u.status?.uuid)])).toEqual([['fw 1', 't/1', ['a', 'b']]]);
    const reloaded = second.m.pending()[0]?.updates[0];
    expect(reloaded?.status?.containerStatus).toEqual({ sandbox: '/sb', executorPid: 42 });
    second.m.resume();
    expect(second.uuids()).toEqual(['a']);
    expect(await second.m.update(update('t/1', TaskState.TASK_FINISHED, 'b', 'fw 1'))).toBe('duplicate');
    await second.m.acknowledge('fw 1', 't/1', 'a');
    await second.m.acknowledge('fw 1', 't/1', 'b');
    // Tombstones of the acknowledged terminal updates stay until the run checkpoints no longer list the tasks.
    expect((await second.store.list('updates/')).length).toBe(2);
    await second.m.runSettled('fw 1', 't/1');
    await second.m.runSettled('fw 1', 't2');
    expect(await second.store.list('updates/')).toEqual([]);
  });

  it('encodes ids that are not safe key segments', () => {
    expect(keySegment('task-1.a_b')).toBe('task-1.a_b');
    expect(keySegment('a/b')).toMatch(/^_b64_[A-Za-z0-9_-]+$/);
    expect(keySegment('..')).not.toBe('..');
    expect(keySegment('_b64_x')).not.toBe('_b64_x');
  });
});

describe('one terminal state per task', () => {
  it('a second terminal update is dropped, whether the first is pending or acknowledged', async () => {
    const { m } = await manager();
    expect(await m.update(update('t', TaskState.TASK_FINISHED, 'f1'))).toBe('accepted');
    expect(await m.update(update('t', TaskState.TASK_FAILED, 'f2'))).toBe('terminated');
    await m.acknowledge('fw', 't', 'f1');
    expect(await m.update(update('t', TaskState.TASK_FAILED, 'f3'))).toBe('terminated');
  });

  it('an acknowledged terminal update is remembered across a restart (a tombstone) until the run checkpoint no longer lists the task', async () => {
    const store = new MemoryStateStore();
    const { m } = await manager(store);
    m.resume();
    await m.update(update('t', TaskState.TASK_FINISHED, 'f1'));
    await m.acknowledge('fw', 't', 'f1');
    const reopened = (await manager(store)).m;
    expect(reopened.isTerminated('fw', 't')).toBe(true);
    expect(reopened.pending()).toEqual([]);
    expect(await reopened.update(update('t', TaskState.TASK_FAILED, 'f2'))).toBe('terminated');
    await reopened.runSettled('fw', 't');
    expect((await manager(store)).m.isTerminated('fw', 't')).toBe(false);
  });

  it('no tombstone once the run checkpoint was settled before the acknowledgement', async () => {
    const store = new MemoryStateStore();
    const { m } = await manager(store);
    m.resume();
    await m.update(update('t', TaskState.TASK_FINISHED, 'f1'));
    await m.runSettled('fw', 't');
    await m.acknowledge('fw', 't', 'f1');
    expect(await store.list('updates/')).toEqual([]);
  });
});
