// Handing tasks to a subscribed executor: launches wait in the run's queue until the
// executor subscribes, then go out as LAUNCH / LAUNCH_GROUP in the order they came.
import type { TaskInfo } from '@meso/proto';
import { killGrace, push, type ManagerState } from './manager-state.js';
import type { ExecutorRun, TaskRecord } from './runs.js';

/** Sends the queued launches, except tasks the executor already holds (it listed them on re-subscription). */
export function flushQueue(m: ManagerState, run: ExecutorRun, alreadyHeld: Set<string>): void {
  const queue = run.queue.splice(0);
  for (const q of queue) {
    const ids = (q.kind === 'task' ? [q.taskId] : q.taskIds).filter((id) => run.tasks.has(id) && !alreadyHeld.has(id));
    const records = ids.map((id) => run.tasks.get(id)).filter((r): r is TaskRecord => r !== undefined);
    if (records.length === 0) continue;
    for (const r of records) r.launched = true;
    if (q.kind === 'group') {
      push(m, run, { event: { $case: 'launchGroup', value: { taskGroup: { tasks: records.map((r) => forExecutor(m, r)) } } } });
    } else {
      const r = records[0] as TaskRecord;
      push(m, run, { event: { $case: 'launch', value: { task: forExecutor(m, r) } } });
    }
  }
}

/** The task as the executor gets it: the kill policy filled with the agent's default. */
function forExecutor(m: ManagerState, r: TaskRecord): TaskInfo {
  return { ...r.info, agentId: { value: m.o.agentId() }, killPolicy: { gracePeriodSeconds: killGrace(m, undefined, r.info) } };
}

/** Takes a task out of the run's queue (killed before its executor got it). */
export function dequeue(run: ExecutorRun, taskId: string): void {
  run.queue = run.queue
    .map((q) => (q.kind === 'task' ? q : { kind: 'group' as const, taskIds: q.taskIds.filter((id) => id !== taskId) }))
    .filter((q) => (q.kind === 'task' ? q.taskId !== taskId : q.taskIds.length > 0));
}
