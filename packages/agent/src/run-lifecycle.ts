// The end of an executor run: SHUTDOWN then SIGKILL after the grace period, and, once the
// process is gone, the cleanup — terminal updates for the tasks it left, ExecutorExited to
// the master, the run's checkpoint removed.
import { TaskState, TaskStatus_Reason, type Logger } from '@meso/proto';
import { describeTermination } from './agent-updates.js';
import { forgetExit } from './command-runs.js';
import type { Termination } from './containerizer.js';
import { push, type ManagerState } from './manager-state.js';
import { pairKey, type ExecutorRun, type PendingTermination } from './runs.js';
import { settleTask } from './task-updates.js';

/** Ends a run: SHUTDOWN when subscribed, SIGKILL of the whole run after the grace period (at once otherwise). */
export function terminate(m: ManagerState, run: ExecutorRun, termination?: PendingTermination): Promise<void> {
  if (run.phase === 'terminated') return run.terminated;
  run.termination ??= termination;
  if (run.phase === 'terminating') return run.terminated;
  run.phase = 'terminating';
  m.o.clock.clearTimeout(run.registrationTimer);
  if (run.sink && !run.sink.closed && run.container) {
    push(m, run, { event: { $case: 'shutdown', value: { gracePeriodSeconds: m.o.executorShutdownGracePeriodMs / 1000 } } });
    run.shutdownTimer = m.o.clock.setTimeout(() => {
      m.o.logger.warn('executor still running after the shutdown grace period; killing it', { executorId: run.executorId });
      void run.container?.destroy();
    }, m.o.executorShutdownGracePeriodMs);
  } else {
    void run.container?.destroy();
  }
  return run.terminated;
}

/** Kills an executor that has not subscribed within the registration timeout; its tasks fail. */
export function armRegistrationTimeout(m: ManagerState, run: ExecutorRun, log: Logger): void {
  run.registrationTimer = m.o.clock.setTimeout(() => {
    if (run.phase !== 'launching') return;
    log.warn('executor did not subscribe in time; killing it', { timeoutMs: m.o.executorRegistrationTimeoutMs });
    run.termination = {
      state: TaskState.TASK_FAILED,
      reason: TaskStatus_Reason.REASON_EXECUTOR_REGISTRATION_TIMEOUT,
      message: `the executor did not subscribe within ${m.o.executorRegistrationTimeoutMs} ms`,
    };
    run.phase = 'terminating';
    void run.container?.destroy();
  }, m.o.executorRegistrationTimeoutMs);
}

/** The executor process is gone (or never started): clean up the run and settle the tasks it left. */
export async function finishRun(m: ManagerState, run: ExecutorRun, t: Termination | undefined): Promise<void> {
  if (run.phase === 'terminated') return;
  const clock = m.o.clock;
  clock.clearTimeout(run.registrationTimer);
  clock.clearTimeout(run.shutdownTimer);
  run.phase = 'terminated';
  run.sink?.end();
  const how = t ? describeTermination(t.status, t.signal) : 'did not start';
  m.o.logger.info(`executor ${how}`, { frameworkId: run.frameworkId, executorId: run.executorId, pid: run.container?.pid });
  try {
    // The executor may have died of its container's limit (the kernel's OOM killer): that is what its tasks failed of.
    const limited = run.limitation ?? (await run.container?.isolation?.check(true));
    if (limited && !run.limitation) {
      run.limitation = limited;
      run.termination = { state: TaskState.TASK_FAILED, reason: limited.reason, message: limited.message };
    }
    // Kill whatever the executor left behind (tasks in their own process groups).
    if (run.container) await run.container.destroy();
    await run.container?.isolation?.cleanup();
    await m.o.volumes?.release(run.sandbox);
    await Promise.allSettled([...run.inflight]);
    const termination = run.termination ?? {
      state: TaskState.TASK_FAILED,
      reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED,
      message: `Executor ${how}`,
    };
    for (const taskId of [...run.tasks.keys()]) {
      const message = run.termination ? `${termination.message} (executor ${how})` : termination.message;
      await settleTask(m, run, taskId, termination.state, termination.reason, message);
    }
    if (t) {
      m.o.toMaster({
        message: {
          $case: 'executorExited',
          value: { frameworkId: { value: run.frameworkId }, executorId: { value: run.executorId }, ...(t.status !== null ? { status: t.status } : {}), signal: t.signal ?? '' },
        },
      });
    }
  } catch (e) {
    m.o.logger.error('cleaning up an executor run failed', { executorId: run.executorId, error: (e as Error).message });
  } finally {
    await m.o.checkpoints?.remove(run.runId);
    if (run.kind === 'command') await forgetExit(m.o.workDir, run.runId);
    if (m.runs.get(pairKey(run.frameworkId, run.executorId)) === run) m.runs.delete(pairKey(run.frameworkId, run.executorId));
    if (![...m.runs.values()].some((r) => r.frameworkId === run.frameworkId)) m.frameworks.delete(run.frameworkId);
    run.markTerminated();
    run.onRecovered?.();
    run.onRecovered = undefined;
  }
}
