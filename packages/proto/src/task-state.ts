/**
 * A task's state, by its Mesos name: the string form the SDKs expose (the generated
 * `TaskState` is the wire enum).
 *
 * Non-terminal: STAGING, STARTING, RUNNING, KILLING, and UNREACHABLE (the agent is
 * partitioned; the task may come back). Terminal: FINISHED, FAILED, KILLED, ERROR, LOST,
 * DROPPED, GONE, GONE_BY_OPERATOR. UNKNOWN means the master has never heard of the task
 * (an answer to reconciliation).
 */
export type TaskStateName =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

/** Every task state, in the protocol's order. */
export const TASK_STATE_NAMES: readonly TaskStateName[] = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
];

const TERMINAL: ReadonlySet<TaskStateName> = new Set<TaskStateName>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/**
 * Whether a task in this state will never run again (Mesos's `isTerminalState`).
 *
 * TASK_LOST counts as terminal as in Mesos, although a framework that is not
 * PARTITION_AWARE can see RUNNING after LOST when a partitioned agent returns.
 * TASK_UNREACHABLE and TASK_UNKNOWN are not terminal.
 */
export function isTerminalStateName(state: TaskStateName): boolean {
  return TERMINAL.has(state);
}
