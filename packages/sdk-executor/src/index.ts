/**
 * @meso/sdk-executor — write Meso executors.
 *
 * An executor is a process the agent starts for a framework: it receives LAUNCH, KILL,
 * MESSAGE and SHUTDOWN events and reports task status updates, which reach the
 * scheduler reliably. Connect with {@link Executor.connect}; the options default from
 * the environment the agent sets (`MESO_AGENT_ENDPOINT`, `MESO_FRAMEWORK_ID`, ...).
 *
 * @packageDocumentation
 */
export { Executor } from './executor.js';
export { type ExecutorOptions, EXECUTOR_DEFAULTS } from './options.js';
export type { ExecutorHandlers, ExecutorContext, KillRequest, ShutdownRequest, ExecutorExit } from './handlers.js';
export { ExecutorError, type ExecutorErrorCode } from './errors.js';
export { type TaskState, type TaskStatusReason, TASK_STATES, isTerminalState } from './task-state.js';
export type {
  TaskInfo,
  CommandInfo,
  HealthCheck,
  FrameworkInfo,
  ExecutorInfo,
  AgentInfo,
  SubscribedInfo,
  UpdateOptions,
  StatusUpdateRecord,
} from './types.js';
/** The resource arithmetic of Meso (a task's `resources`), re-exported for convenience. */
export { Resources, type Resource, type Range } from '@meso/proto';
