// The isolation of executor runs, as the executor manager sees it: limits from the run's
// executor and live tasks, a limitation ends the run (its live tasks TASK_FAILED with the
// limitation's reason, source AGENT — before the executor can report them its own way).
import { TaskState, type ExecutorInfo } from '@meso/proto';
import type { ManagerState } from '../manager-state.js';
import type { ExecutorRun } from '../runs.js';
import { settleTask } from '../task-updates.js';
import type { ContainerIsolation } from './container-isolation.js';
import { containerLimits, executorOverhead, type ContainerLimits } from './limits.js';
import type { Limitation } from './types.js';

/** The limits of a run: its executor's resources and its live tasks', plus the executor process's own where it declares none. */
export function runLimits(m: ManagerState, run: Pick<ExecutorRun, 'kind' | 'tasks'> & { info: ExecutorInfo }): ContainerLimits {
  const tasks = [...run.tasks.values()].map((t) => t.info.resources);
  return containerLimits(m.o.workDir, run.info.resources, tasks, executorOverhead(run.kind, run.info.resources));
}

/** The isolation of a new run's container (undefined when the agent isolates nothing). */
export async function prepareIsolation(m: ManagerState, run: ExecutorRun): Promise<ContainerIsolation | undefined> {
  return m.o.isolation?.prepare(run.runId, run.sandbox, runLimits(m, run));
}

/** Watches a run's container for limitations (a new run, or one recovered from the previous agent process). */
export function watchIsolation(m: ManagerState, run: ExecutorRun, isolation: ContainerIsolation): void {
  isolation.start();
  void isolation.limited.then((l) => applyLimitation(m, run, l));
}

/** The run's tasks changed: its container's limits follow. */
export function resizeIsolation(m: ManagerState, run: ExecutorRun): void {
  const iso = run.container?.isolation;
  if (iso && run.phase !== 'terminated') void iso.update(runLimits(m, run));
}

/**
 * Whether the run's container is over a limit now (urgent checks: memory). Called when a
 * task or the executor ends: a kill by the kernel's OOM killer shows first as a process
 * that died; the limitation is what the framework must hear.
 */
export async function limitationNow(m: ManagerState, run: ExecutorRun): Promise<boolean> {
  const iso = run.container?.isolation;
  if (!iso) return false;
  const l = await iso.check(true);
  if (!l) return false;
  await applyLimitation(m, run, l);
  return true;
}

/** A limitation ends the run: every live task TASK_FAILED with its reason, then the container is killed. */
export async function applyLimitation(m: ManagerState, run: ExecutorRun, l: Limitation): Promise<void> {
  if (run.phase === 'terminated' || run.limitation) return;
  run.limitation = l;
  run.termination = { state: TaskState.TASK_FAILED, reason: l.reason, message: l.message };
  m.o.logger.warn('executor run over its limits: its tasks fail and it is killed', { frameworkId: run.frameworkId, executorId: run.executorId, message: l.message });
  run.phase = 'terminating';
  m.o.clock.clearTimeout(run.registrationTimer);
  void run.container?.destroy();
  for (const taskId of [...run.tasks.keys()]) await settleTask(m, run, taskId, TaskState.TASK_FAILED, l.reason, l.message);
}
