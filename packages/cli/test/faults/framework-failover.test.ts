import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, isAlive, restartMasterProcess, signal, startAgentProcess, startMasterProcess, waitFor, type Proc } from '@meso/testing';
import { EventLog, LONG_TASK, SCHEDULER_SCRIPT, stateWhere, taskPid } from './support.js';

/** What a child-process scheduler (fixtures/scheduler.mjs) printed, parsed. */
function lines(proc: Proc): Record<string, unknown>[] {
  return proc.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function printed<T>(proc: Proc, what: string, pick: (line: Record<string, unknown>) => T | undefined): Promise<T> {
  return waitFor(`${what}\n--- scheduler stderr:\n${proc.stderr.slice(-2000)}`, () => {
    for (const l of lines(proc)) {
      const v = pick(l);
      if (v !== undefined) return v;
    }
    return undefined;
  });
}

interface PrintedUpdate {
  taskId: string;
  state: string;
  reason?: string;
  sandbox?: string;
}

const framework = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  failoverTimeoutSeconds: 300,
  checkpoint: true,
  capabilities: ['PARTITION_AWARE' as const],
  ...extra,
});

describe('framework failover with real processes (Mesos FaultToleranceTest)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('SchedulerFailover: a scheduler killed -9 is replaced by a new one with its id; the task keeps running; a second subscriber replaces the first with an ERROR', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const first = cleanup.node(SCHEDULER_SCRIPT, [master.address, 'failover', '300', '-', 'long-1', LONG_TASK.shell], {}, 'scheduler 1');
    const frameworkId = await printed(first, 'scheduler 1 subscribed', (l) => l['subscribed'] as string | undefined);
    const running = await printed(first, 'long-1 RUNNING', (l) => {
      const u = l['update'] as PrintedUpdate | undefined;
      return u?.state === 'TASK_RUNNING' ? u : undefined;
    });
    const pid = await taskPid(running.sandbox ?? '');

    await first.kill9();
    await stateWhere(master.address, 'the framework disconnected', (s) => s.frameworks.some((f) => f.id === frameworkId && !f.connected));

    const second = await EventLog.connect(cleanup, { master: master.address, framework: framework('failover', { id: frameworkId }) });
    expect(second.frameworkId).toBe(frameworkId);
    // The SDK reconciles by itself after subscribing; an implicit reconcile answers too.
    await second.scheduler.reconcile();
    const answer = await second.status('long-1', 'TASK_RUNNING', (s) => s.reason === 'RECONCILIATION');
    expect(answer.agentId).toBeDefined();
    expect(isAlive(pid)).toBe(true);

    // A third subscriber with the same id takes over; the second gets an ERROR.
    const third = await EventLog.connect(cleanup, { master: master.address, framework: framework('failover', { id: frameworkId }) });
    const error = await second.event('error');
    expect(error.message).toMatch(/./);
    await third.scheduler.reconcile([{ taskId: 'long-1' }]);
    await third.status('long-1', 'TASK_RUNNING', (s) => s.reason === 'RECONCILIATION');
    const st = await stateWhere(master.address, 'one connected framework', (s) => s.frameworks.filter((f) => f.id === frameworkId && f.connected).length === 1);
    expect(st.tasks.filter((t) => t.id === 'long-1')).toHaveLength(1);
  });

  it('SchedulerFailoverStatusUpdate: an update produced while the scheduler is dead is delivered to its successor', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const first = cleanup.node(SCHEDULER_SCRIPT, [master.address, 'failover-update', '300', '-', 'long-1', LONG_TASK.shell], {}, 'scheduler 1');
    const frameworkId = await printed(first, 'subscribed', (l) => l['subscribed'] as string | undefined);
    const running = await printed(first, 'long-1 RUNNING', (l) => {
      const u = l['update'] as PrintedUpdate | undefined;
      return u?.state === 'TASK_RUNNING' ? u : undefined;
    });
    const pid = await taskPid(running.sandbox ?? '');
    await first.kill9();
    await stateWhere(master.address, 'the framework disconnected', (s) => s.frameworks.some((f) => f.id === frameworkId && !f.connected));

    // The task dies while nobody listens: its TASK_FAILED waits for a scheduler.
    signal(pid, 'SIGKILL');
    await stateWhere(master.address, 'the task failed in /state', (s) => s.completedTasks.some((t) => t.id === 'long-1' && t.state === 'TASK_FAILED'));

    const second = await EventLog.connect(cleanup, { master: master.address, framework: framework('failover-update', { id: frameworkId }) });
    const failed = await second.status('long-1', 'TASK_FAILED', (s) => s.reason !== 'RECONCILIATION', 0, 60_000);
    expect(failed.uuid).toBeTruthy();
  });

  it('DisconnectedSchedulerLaunchLost: a launch lost with the master (killed -9) is reconciled to an answer, never left pending', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('launch-lost'), reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    const offer = await fw.offer('an offer');

    await master.proc.kill9();
    await expect(fw.scheduler.launch(offer, [{ taskId: 'lost-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }])).rejects.toThrow();
    const from = fw.events.length;
    await restartMasterProcess(cleanup, master);
    await fw.event('subscribed', (e) => e.reconnected, from);
    await fw.scheduler.reconcile([{ taskId: 'lost-1' }]);
    // The master never heard of it: UNKNOWN for a partition-aware framework (LOST for others).
    const answer = await fw.status('lost-1', 'TASK_UNKNOWN', () => true, from);
    expect(answer.reason).toBe('RECONCILIATION');
    const st = await stateWhere(master.address, 'state', () => true);
    expect(st.tasks.some((t) => t.id === 'lost-1')).toBe(false);
  });

  it('DisconnectedSchedulerLaunchLost (dropped call): an ACCEPT lost on the wire looks accepted; reconciliation answers the task LOST', async () => {
    const master = await startMasterProcess(cleanup, [], { MESO_FAULT_INJECTION: JSON.stringify([{ drop: 'accept', on: 'from_framework', count: 1 }]) });
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: { name: 'launch-dropped', failoverTimeoutSeconds: 300 } });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'dropped-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }]);
    await fw.scheduler.reconcile([{ taskId: 'dropped-1' }]);
    const lost = await fw.status('dropped-1', 'TASK_LOST');
    expect(lost.reason).toBe('RECONCILIATION');
    expect(fw.updates('dropped-1').map((s) => s.state)).toEqual(['TASK_LOST']);
  });
});
