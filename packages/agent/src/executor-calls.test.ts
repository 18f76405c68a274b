// The executor API's update path on the manager, without processes: an executor that
// re-subscribes with the updates the agent never acknowledged (the agent was stopped or
// restarted) must see them reach the framework in the order it sent them.
import { ExecutorInfo, FakeClock, FrameworkInfo, silentLogger, TaskInfo, TaskState, type ExecutorUpdateRequest, type StatusUpdate } from '@meso/proto';
import { MemoryStateStore } from '@meso/state';
import { describe, expect, it } from 'vitest';
import type { Container, Termination } from './containerizer.js';
import { ExecutorManager } from './executor-manager.js';
import type { EventSink } from './executor-server.js';
import { RunCheckpoints } from './run-checkpoints.js';
import { StatusUpdateManager } from './status-update-manager.js';

const S = TaskState;

function updateRequest(taskId: string, state: TaskState, uuid: string): ExecutorUpdateRequest {
  return {
    frameworkId: { value: 'fw-1' },
    executorId: { value: taskId },
    token: 'secret',
    status: {
      taskId: { value: taskId },
      state,
      message: '',
      source: 0,
      reason: 0,
      data: Buffer.alloc(0),
      timestamp: 1,
      uuid,
      signal: '',
      labels: [],
    },
  } as unknown as ExecutorUpdateRequest;
}

function sink(): EventSink {
  return { send: () => true, end: () => undefined, onClose: () => undefined, closed: false };
}

async function recoveredRun(taskId: string) {
  const clock = new FakeClock();
  const forwarded: StatusUpdate[] = [];
  const updates = await StatusUpdateManager.open({ store: new MemoryStateStore(), clock, logger: silentLogger, retryMs: 10_000, forward: (u) => void forwarded.push(u) });
  updates.resume();
  const manager = new ExecutorManager({
    workDir: '/nonexistent',
    executorEndpoint: '127.0.0.1:1',
    agentId: () => 'agent-1',
    agentInfo: () => ({}) as never,
    updates,
    toMaster: () => true,
    clock,
    logger: silentLogger,
    defaultKillGracePeriodSeconds: 3,
    executorRegistrationTimeoutMs: 60_000,
    executorReregisterTimeoutMs: 60_000,
    executorShutdownGracePeriodMs: 5_000,
    executorHeartbeatMs: 60_000,
    commandExecutor: { file: '/nonexistent', args: [] },
    checkpoints: new RunCheckpoints(new MemoryStateStore(), silentLogger),
  });
  const container: Container = {
    pid: 4242,
    runId: 'run-1',
    exited: new Promise<Termination>(() => undefined),
    signal: () => undefined,
    destroy: async () => undefined,
  };
  void manager.adopt({
    run: { runId: 'run-1', pid: 4242, frameworkId: 'fw-1', executorId: taskId, sandbox: '/sb', tasks: [taskId], token: 'secret', kind: 'command' },
    frameworkInfo: FrameworkInfo.fromJSON({ id: { value: 'fw-1' }, checkpoint: true }),
    executorInfo: ExecutorInfo.fromJSON({ executorId: { value: taskId } }),
    tasks: [{ info: TaskInfo.fromJSON({ taskId: { value: taskId }, name: taskId }), state: S.TASK_STAGING, launched: true }],
    container,
  });
  return { clock, updates, manager, forwarded };
}

describe('updates an executor re-sends when it re-subscribes', () => {
  it('reach the framework in the order the executor sent them, one in flight', async () => {
    const { updates, manager, forwarded } = await recoveredRun('t1');
    manager.subscribe(
      {
        frameworkId: { value: 'fw-1' },
        executorId: { value: 't1' },
        token: 'secret',
        unacknowledgedTasks: [],
        unacknowledgedUpdates: [updateRequest('t1', S.TASK_STARTING, 'u1'), updateRequest('t1', S.TASK_RUNNING, 'u2'), updateRequest('t1', S.TASK_FINISHED, 'u3')],
      },
      sink(),
    );
    await new Promise((r) => setTimeout(r, 50));
    const seen: TaskState[] = [];
    for (let i = 0; i < 3; i++) {
      const head = forwarded.at(-1)?.status;
      expect(head).toBeDefined();
      seen.push(head?.state ?? S.TASK_STAGING);
      await updates.acknowledge('fw-1', 't1', head?.uuid ?? '');
    }
    expect(seen).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_FINISHED]);
  });

  it('an update sent again on its own while the re-sent ones are taken in does not overtake them', async () => {
    const { updates, manager, forwarded } = await recoveredRun('t1');
    manager.subscribe(
      {
        frameworkId: { value: 'fw-1' },
        executorId: { value: 't1' },
        token: 'secret',
        unacknowledgedTasks: [],
        unacknowledgedUpdates: [updateRequest('t1', S.TASK_STARTING, 'u1'), updateRequest('t1', S.TASK_RUNNING, 'u2')],
      },
      sink(),
    );
    await manager.update(updateRequest('t1', S.TASK_FINISHED, 'u3'));
    await new Promise((r) => setTimeout(r, 50));
    const seen: TaskState[] = [];
    for (let i = 0; i < 3; i++) {
      const head = forwarded.at(-1)?.status;
      seen.push(head?.state ?? S.TASK_STAGING);
      await updates.acknowledge('fw-1', 't1', head?.uuid ?? '');
    }
    expect(seen).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_FINISHED]);
  });
});
