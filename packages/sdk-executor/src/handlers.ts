import type { ExecutorError } from './errors.js';
import type { TaskState } from './task-state.js';
import type { SubscribedInfo, TaskInfo, UpdateOptions } from './types.js';

/** What a handler can do: send updates and messages, and read who it is. Implemented by `Executor`. */
export interface ExecutorContext {
  readonly frameworkId: string;
  readonly executorId: string;
  /** The executor run's sandbox directory (the working directory of its tasks, by convention). */
  readonly sandbox: string;
  /** What the agent said on the latest SUBSCRIBED. */
  readonly info: SubscribedInfo;
  /** Sends a status update for a task; see {@link Executor.update}. */
  update(taskId: string, state: TaskState, options?: UpdateOptions): Promise<void>;
  /** Sends opaque bytes to the scheduler (best effort, like Mesos framework messages). */
  message(data: Uint8Array | string): Promise<void>;
}

/** The details of a KILL. */
export interface KillRequest {
  /** Seconds between SIGTERM and SIGKILL from the kill's policy, else the task's, else undefined (use your default). */
  gracePeriodSeconds?: number;
}

/** The details of a SHUTDOWN. */
export interface ShutdownRequest {
  /** Seconds the agent waits for this executor to exit before killing it. */
  gracePeriodSeconds: number;
}

/**
 * Your executor's behaviour. Handlers may be async; the SDK calls them one event at a
 * time in the order the agent sent them, but does not wait for a handler to finish
 * before delivering the next event. A handler that throws is reported to `error` (and
 * a failed `launch` sends TASK_FAILED for the task).
 */
export interface ExecutorHandlers {
  /** Start the task, then report TASK_STARTING/TASK_RUNNING and eventually a terminal state. */
  launch(task: TaskInfo, ctx: ExecutorContext): void | Promise<void>;
  /** Start a task group (all or nothing). Defaults to calling `launch` for each task. */
  launchGroup?(tasks: TaskInfo[], ctx: ExecutorContext): void | Promise<void>;
  /** Kill the task, then report TASK_KILLED (or TASK_KILLING first, then TASK_KILLED). */
  kill(taskId: string, ctx: ExecutorContext, request: KillRequest): void | Promise<void>;
  /** Bytes the scheduler sent to this executor. */
  message?(data: Uint8Array, ctx: ExecutorContext): void | Promise<void>;
  /**
   * The agent asks the executor to stop: kill every task. Defaults to calling `kill` for
   * every task without a terminal update. Either way the SDK then waits (within the grace
   * period) for the terminal updates to be acknowledged and ends the executor.
   */
  shutdown?(ctx: ExecutorContext, request: ShutdownRequest): void | Promise<void>;
  /** Something went wrong that is not tied to a call of yours (agent error event, a handler threw). */
  error?(error: ExecutorError, ctx: ExecutorContext): void;
  /** Called after every (re-)subscription, with what the agent said. */
  subscribed?(info: SubscribedInfo, ctx: ExecutorContext): void;
}

/** Why an executor ended; what {@link Executor.done} resolves with. */
export interface ExecutorExit {
  /**
   * - `closed`: you called `close()`.
   * - `shutdown`: the agent sent SHUTDOWN and the tasks were killed.
   * - `agent-disconnected`: the agent went away and the framework does not checkpoint.
   * - `recovery-timeout`: the agent stayed away longer than the recovery timeout.
   * - `unauthorized`: the agent rejected the executor token.
   * - `unknown-executor`: the agent does not know this executor (its run ended, or a restarted
   *   agent cleaned it up); the executor stops at once instead of retrying.
   */
  reason: 'closed' | 'shutdown' | 'agent-disconnected' | 'recovery-timeout' | 'unauthorized' | 'unknown-executor';
  error?: ExecutorError;
}
