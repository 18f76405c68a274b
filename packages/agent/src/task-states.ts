import { TaskState } from '@meso/proto';

const TERMINAL = new Set<TaskState>([
  TaskState.TASK_FINISHED,
  TaskState.TASK_FAILED,
  TaskState.TASK_KILLED,
  TaskState.TASK_ERROR,
  TaskState.TASK_LOST,
  TaskState.TASK_DROPPED,
  TaskState.TASK_GONE,
  TaskState.TASK_GONE_BY_OPERATOR,
]);

/** Whether a task in this state is over on this agent (LOST counts: the agent never revives a task). */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/** The Mesos name of a state, for logs. */
export function stateName(state: TaskState): string {
  return TaskState[state] ?? String(state);
}
