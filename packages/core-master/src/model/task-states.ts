import { TaskState } from '@meso/proto';

const TERMINAL = new Set<TaskState>([
  TaskState.TASK_FINISHED,
  TaskState.TASK_FAILED,
  TaskState.TASK_KILLED,
  TaskState.TASK_ERROR,
  TaskState.TASK_LOST,
  TaskState.TASK_DROPPED,
  TaskState.TASK_UNREACHABLE,
  TaskState.TASK_GONE,
  TaskState.TASK_GONE_BY_OPERATOR,
  TaskState.TASK_UNKNOWN,
]);

/**
 * Whether the master stops charging a task in this state. LOST and UNREACHABLE count as
 * terminal here: the task's agent is out of the pool. If the agent comes back reporting
 * the task, the task is adopted again (and is RUNNING once more).
 */
export function isTerminalState(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/** `TASK_RUNNING` for TaskState.TASK_RUNNING, as JSON and metrics show states. */
export function taskStateName(state: TaskState): string {
  return TaskState[state] ?? `TASK_STATE_${String(state)}`;
}
