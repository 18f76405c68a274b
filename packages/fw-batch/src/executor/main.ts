/**
 * The long-lived batch executor: one per agent for fw-batch, started by the agent on the first
 * batch task and kept for the next ones. Each task runs as a child process of this executor
 * (no executor start per task), or in-process for no-ops (`true`, `:`); updates go through
 * `@meso/sdk-executor`, which makes them reliable across agent restarts.
 */
import { join } from 'node:path';
import { Executor, type ExecutorContext, type TaskInfo } from '@meso/sdk-executor';
import { isBuiltinNoop, parseTaskData, TaskProcess } from './task-runner.js';

const running = new Map<string, TaskProcess>();

async function launch(task: TaskInfo, ctx: ExecutorContext): Promise<void> {
  let data;
  try {
    data = parseTaskData(task.data);
  } catch (e) {
    await ctx.update(task.taskId, 'TASK_FAILED', { message: `bad task data: ${(e as Error).message}` });
    return;
  }
  if (isBuiltinNoop(data.command)) {
    // Straight to the terminal state: one checkpointed, acknowledged update instead of two.
    await ctx.update(task.taskId, 'TASK_FINISHED', { message: 'builtin no-op', exitCode: 0 });
    return;
  }
  const proc = new TaskProcess(data, join(ctx.sandbox, 'tasks', task.taskId));
  running.set(task.taskId, proc);
  await ctx.update(task.taskId, 'TASK_RUNNING');
  const outcome = await proc.outcome;
  running.delete(task.taskId);
  await ctx.update(task.taskId, outcome.state, { message: outcome.message, ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}), ...(outcome.signal ? { signal: outcome.signal } : {}) });
}

const executor = await Executor.connect({
  handlers: {
    launch,
    kill(taskId, ctx, request) {
      const proc = running.get(taskId);
      if (!proc) return ctx.update(taskId, 'TASK_KILLED', { message: 'not running' });
      proc.kill((request.gracePeriodSeconds ?? 3) * 1000);
      return undefined;
    },
    error(error) {
      console.error(`meso-batch executor: ${error.code}: ${error.message}`);
    },
  },
});

const exit = await executor.done();
process.exit(exit.reason === 'shutdown' || exit.reason === 'closed' ? 0 : 1);
