// The task states and their terminality are defined once, in @meso/proto, for every SDK.
export {
  type TaskStateName as TaskState,
  TASK_STATE_NAMES as TASK_STATES,
  isTerminalStateName as isTerminalState,
} from '@meso/proto';
