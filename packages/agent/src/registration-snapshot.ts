import { TaskState, type ExecutorInfo, type FrameworkInfo, type StatusUpdate, type Task } from '@meso/proto';
import type { ExecutorRun, FrameworkRecord } from './runs.js';
import { pairKey } from './runs.js';

/** What a re-registering agent tells the master it runs. */
export interface RegistrationSnapshot {
  tasks: Task[];
  executors: ExecutorInfo[];
  frameworks: FrameworkInfo[];
}

/** Unacknowledged updates of one task (from the status update manager). */
export interface PendingStream {
  frameworkId: string;
  taskId: string;
  executorId: string;
  updates: StatusUpdate[];
}

/**
 * The agent's tasks for `register`: every live task (with the head of its unacknowledged
 * updates), plus tasks that ended here whose updates are not acknowledged yet; the custom
 * executors; and the frameworks of the runs.
 */
export function registrationSnapshot(
  agentId: string,
  runs: Iterable<ExecutorRun>,
  frameworks: Iterable<FrameworkRecord>,
  pending: PendingStream[],
): RegistrationSnapshot {
  const runList = [...runs];
  const byTask = new Map(pending.map((p) => [pairKey(p.frameworkId, p.taskId), p]));
  const tasks: Task[] = [];
  const seen = new Set<string>();
  for (const run of runList) {
    for (const r of run.tasks.values()) {
      const key = pairKey(r.frameworkId, r.info.taskId?.value ?? '');
      seen.add(key);
      const head = byTask.get(key)?.updates[0];
      tasks.push({
        name: r.info.name,
        taskId: r.info.taskId,
        frameworkId: { value: r.frameworkId },
        executorId: { value: r.executorId },
        agentId: { value: agentId },
        state: r.state,
        resources: r.info.resources,
        statuses: [],
        statusUpdateState: head?.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED,
        statusUpdateUuid: head?.status?.uuid ?? '',
        labels: r.info.labels,
        role: '',
        sandbox: run.sandbox,
      });
    }
  }
  for (const [key, p] of byTask) {
    if (seen.has(key)) continue;
    const last = p.updates[p.updates.length - 1]?.status;
    const head = p.updates[0];
    tasks.push({
      name: '',
      taskId: { value: p.taskId },
      frameworkId: { value: p.frameworkId },
      executorId: { value: p.executorId },
      agentId: { value: agentId },
      state: last?.state ?? TaskState.TASK_UNKNOWN,
      resources: [],
      statuses: [],
      statusUpdateState: head?.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED,
      statusUpdateUuid: head?.status?.uuid ?? '',
      labels: [],
      role: '',
      sandbox: last?.containerStatus?.sandbox ?? '',
    });
  }
  const executors = runList.filter((r) => r.kind === 'custom').map((r) => r.info);
  const frameworkIds = new Set(runList.map((r) => r.frameworkId));
  return { tasks, executors, frameworks: [...frameworks].filter((f) => frameworkIds.has(f.id)).map((f) => f.info) };
}
