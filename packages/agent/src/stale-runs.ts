import { TaskState, TaskStatus_Reason, type Clock, type Logger } from '@meso/proto';
import { agentUpdate } from './agent-updates.js';
import { destroyRun } from './containerizer.js';
import type { RunCheckpoints } from './run-checkpoints.js';
import type { StatusUpdateManager } from './status-update-manager.js';
import { isTerminal } from './task-states.js';

/**
 * Cleans up the executor runs an earlier agent process left (executor recovery is not
 * implemented yet): kills every process of each run, and — on the same boot, where the
 * agent keeps its id — fails the tasks it held with REASON_AGENT_RESTARTED, so the
 * framework hears about them through the status update manager.
 */
export async function cleanUpStaleRuns(input: {
  checkpoints: RunCheckpoints;
  updates: StatusUpdateManager;
  /** The agent id when it is kept (same boot); undefined after a reboot. */
  agentId: string | undefined;
  clock: Clock;
  logger: Logger;
}): Promise<number> {
  const runs = await input.checkpoints.list();
  for (const run of runs) {
    input.logger.warn('cleaning up an executor run of the previous agent process', { executorId: run.executorId, runId: run.runId, pid: run.pid });
    await destroyRun(run.pid, run.runId, undefined, false);
    if (input.agentId) {
      for (const taskId of run.tasks) {
        const pending = input.updates.latestPendingState(run.frameworkId, taskId);
        if (pending !== undefined && isTerminal(pending)) continue;
        await input.updates.update(
          agentUpdate({
            agentId: input.agentId,
            frameworkId: run.frameworkId,
            executorId: run.executorId,
            taskId,
            state: TaskState.TASK_FAILED,
            reason: TaskStatus_Reason.REASON_AGENT_RESTARTED,
            message: 'the agent restarted and does not recover executors yet; the task was killed',
            timestamp: input.clock.now() / 1000,
            sandbox: run.sandbox,
            executorPid: run.pid,
          }),
        );
      }
    }
    await input.checkpoints.remove(run.runId);
  }
  return runs.length;
}
