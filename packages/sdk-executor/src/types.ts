import type { Resources } from '@meso/proto';
import type { TaskState, TaskStatusReason } from './task-state.js';

/** What to run: a shell string, or a program with its argv. */
export interface CommandInfo {
  /** `true`: `value` is run by `/bin/sh -c`. `false`: `value` is the program and `arguments` its argv. */
  shell?: boolean;
  /** The shell command line, or the program to execute. */
  value: string;
  /** With `shell: false`, the argv (`arguments[0]` is argv[0]); empty means `[value]`. */
  arguments: string[];
  /** Environment variables added to the task's environment. */
  env: Record<string, string>;
  /** The user to run as when the agent runs as root; empty means the framework's user. */
  user: string;
}

/**
 * A task's health check, run by its executor on the agent (the agent's command executor runs
 * it for command tasks; a custom executor may run it too). Results travel as TASK_RUNNING
 * updates with `healthy` set and reason `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`.
 */
export interface HealthCheck {
  type: 'COMMAND' | 'HTTP' | 'TCP';
  /** The command to run (type `COMMAND`), in the task's sandbox with the task's environment. */
  command?: CommandInfo;
  /** The host port to check (types `HTTP`, `TCP`); 0 when the scheduler sent none. */
  port: number;
  /** The path of the HTTP GET (type `HTTP`); empty when the scheduler sent none. */
  path: string;
  /** Seconds after the task started before the first check; 0 means at once. */
  delaySeconds: number;
  /** Seconds between checks; undefined when the scheduler sent none (the executor's default). */
  intervalSeconds?: number;
  /** Seconds one check may take; undefined when the scheduler sent none (the executor's default). */
  timeoutSeconds?: number;
  /** Failures in a row that make the task unhealthy; undefined when the scheduler sent none (the executor's default). */
  consecutiveFailures?: number;
  /** Seconds after the task started during which failures do not count (the first success ends it); 0 means none. */
  gracePeriodSeconds: number;
}

/** A task the agent asks this executor to run. */
export interface TaskInfo {
  taskId: string;
  name: string;
  /** The resources the task was given (cpus, mem, ports ...). */
  resources: Resources;
  /** Set for command tasks (those run by the agent's command executor). */
  command?: CommandInfo;
  /** Opaque bytes from the scheduler (empty when none were sent). */
  data: Uint8Array;
  /** Seconds between SIGTERM and SIGKILL when this task is killed; undefined means the agent's default. */
  killGracePeriodSeconds?: number;
  /** The task's health check, when it has one. */
  healthCheck?: HealthCheck;
  labels: Record<string, string>;
}

/** The framework that owns this executor, as the agent knows it. */
export interface FrameworkInfo {
  frameworkId: string;
  name: string;
  /** The user tasks run as by default. */
  user: string;
  /** Whether the agent checkpoints this framework's executors (they survive agent restarts). */
  checkpoint: boolean;
  /** Capability names, e.g. `TASK_KILLING_STATE`, `PARTITION_AWARE`. */
  capabilities: string[];
}

/** The executor as it was launched. */
export interface ExecutorInfo {
  executorId: string;
  frameworkId: string;
  name: string;
  /** Resources given to the executor itself (not to its tasks). */
  resources: Resources;
}

/** The agent this executor runs on. */
export interface AgentInfo {
  agentId: string;
  hostname: string;
  /** host:port of the agent's gRPC endpoint. */
  endpoint: string;
}

/** What `SUBSCRIBED` told the executor. */
export interface SubscribedInfo {
  executor: ExecutorInfo;
  framework: FrameworkInfo;
  agent: AgentInfo;
}

/** Optional fields of a status update. */
export interface UpdateOptions {
  /** Human-readable explanation, shown to the framework. */
  message?: string;
  reason?: TaskStatusReason;
  /** Result of the task's health check, when it has one. */
  healthy?: boolean;
  /** The exit code of a task process that exited normally. */
  exitCode?: number;
  /** The signal name (e.g. `SIGSEGV`) that ended the task process. */
  signal?: string;
  /** Opaque bytes for the scheduler; a string is sent as UTF-8. */
  data?: Uint8Array | string;
  labels?: Record<string, string>;
}

/** A status update as the executor sent it (kept until the agent acknowledges it). */
export interface StatusUpdateRecord {
  taskId: string;
  state: TaskState;
  /** The unique id of this update. */
  uuid: string;
  /** Seconds since the epoch. */
  timestamp: number;
  options: UpdateOptions;
}
