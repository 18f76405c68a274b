import type { Attribute, Resources } from '@meso/proto';
import type { TaskState } from './task-state.js';

/** What a framework can do beyond the basics (FrameworkInfo.Capability). */
export type FrameworkCapability = 'MULTI_ROLE' | 'PARTITION_AWARE' | 'TASK_KILLING_STATE' | 'GPU_RESOURCES';

/** Who the framework is, sent on SUBSCRIBE (FrameworkInfo). */
export interface FrameworkSpec {
  /** The framework's name, shown by the master. Required. */
  name: string;
  /** The user tasks run as when they do not say. Defaults to the user running this process. */
  user?: string;
  /** The roles the framework subscribes to. Defaults to `['*']`. */
  roles?: string[];
  /**
   * The framework id to re-subscribe with after a scheduler failover (from `scheduler.frameworkId`
   * of the previous process). Defaults to none: the master registers a new framework.
   */
  id?: string;
  /**
   * Seconds the master keeps the framework's tasks running after this scheduler disconnects.
   * Defaults to 0, as in Mesos: tasks are killed as soon as the scheduler goes away. Long-running
   * frameworks use about a week (604800).
   */
  failoverTimeoutSeconds?: number;
  /** Whether agents checkpoint the framework's executors and updates. Defaults to false. */
  checkpoint?: boolean;
  /** The scheduler's host name, shown by the master. Defaults to `os.hostname()`. */
  hostname?: string;
  /** The principal the framework authenticates as. Defaults to none. */
  principal?: string;
  /** Defaults to none (MULTI_ROLE is added when `roles` has several). */
  capabilities?: FrameworkCapability[];
  /** Free-form key/value labels. Defaults to none. */
  labels?: Record<string, string>;
  /** The framework's web UI, linked from the master's. Defaults to none. */
  webuiUrl?: string;
}

/**
 * Resources a task or executor asks for: either a `Resources` (from `@meso/proto`, with explicit
 * roles and ranges) or plain scalars such as `{ cpus: 0.5, mem: 128 }`. Plain scalars are taken
 * from the offer's resources by the offer helpers (reserved resources of the offer's role first,
 * then unreserved ones).
 */
export type ResourceSpec = Resources | Record<string, number>;

/**
 * A command to run: `{ shell: 'echo hello' }` (run by `/bin/sh -c`) or
 * `{ argv: ['/usr/bin/env', 'echo', 'hello'] }` (argv[0] is the program).
 */
export type CommandSpec = ({ shell: string; argv?: never } | { argv: string[]; shell?: never }) & {
  /** Environment variables added to the agent's. Defaults to none. */
  env?: Record<string, string>;
  /** The user to run as (when the agent runs as root). Defaults to the framework's user. */
  user?: string;
};

/** An executor: the program (built on `@meso/sdk-executor`) that runs a framework's tasks. */
export interface ExecutorSpec {
  /** Unique per framework and agent. */
  executorId: string;
  /** Defaults to the executor id. */
  name?: string;
  /** The program that speaks the executor protocol. */
  command: CommandSpec;
  /** What the executor itself uses, beside its tasks. Defaults to none. */
  resources?: ResourceSpec;
  /** `CUSTOM` (your program) or `DEFAULT` (the agent's built-in executor). Defaults to `CUSTOM`. */
  type?: 'DEFAULT' | 'CUSTOM';
  /** Free-form source tag, for metrics. Defaults to none. */
  source?: string;
}

/**
 * A health check run by the executor on the agent; results arrive as `TaskStatus.healthy`
 * (a TASK_RUNNING update with reason `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED` on each
 * change). The executor never kills an unhealthy task: deciding what to do is yours.
 */
export type HealthCheckSpec = (
  | { type: 'command'; command: CommandSpec }
  | { type: 'http'; port?: number; portIndex?: number; path?: string }
  | { type: 'tcp'; port?: number; portIndex?: number }
) & {
  /** Seconds after the task started before the first check. Defaults to 15 (as Mesos). */
  delaySeconds?: number;
  /** Seconds between checks. Defaults to the agent's (10 s, as Mesos). */
  intervalSeconds?: number;
  /** Seconds a check may take. Defaults to the agent's (20 s, as Mesos). */
  timeoutSeconds?: number;
  /** Failures in a row (after the grace period) that make the task unhealthy. Defaults to the agent's (3, as Mesos). */
  consecutiveFailures?: number;
  /** Seconds after start during which failures do not count; the first success ends it. Defaults to 10 (as Mesos). */
  gracePeriodSeconds?: number;
};

/** A task to launch. */
export interface TaskSpec {
  /** Unique among the framework's live tasks. */
  taskId: string;
  /** Defaults to the task id. */
  name?: string;
  /** What the task uses, e.g. `{ cpus: 0.1, mem: 32 }`. */
  resources: ResourceSpec;
  /**
   * Host ports to pick from the offer's `ports` ranges (lowest free first). The picked ports
   * are added to the task's resources and exposed to the command as `PORT0`, `PORT1`, ... and
   * `PORTS` (comma-separated). Defaults to 0.
   */
  ports?: number;
  /** Run by the agent's command executor. Exactly one of `command` and `executor`. */
  command?: CommandSpec;
  /** Run by this executor. Exactly one of `command` and `executor`. */
  executor?: ExecutorSpec;
  /** Opaque bytes handed to the executor (strings are sent as UTF-8). Defaults to none. */
  data?: Uint8Array | string;
  /** Seconds between SIGTERM and SIGKILL on kill. Defaults to the agent's (5 s). */
  killGracePeriodSeconds?: number;
  /** Free-form key/value labels. Defaults to none. */
  labels?: Record<string, string>;
  /** Defaults to none. */
  healthCheck?: HealthCheckSpec;
  /**
   * Existing persistent volumes the task holds (they must be in the offer, see `Offer.volumes`,
   * or created by a `create` earlier in the same ACCEPT). They are added to the task's resources;
   * the task sees each at `<sandbox>/<containerPath>`. Defaults to none.
   */
  volumes?: VolumeSpec[];
}

/**
 * A persistent volume: `sizeMb` of disk reserved for `role`, kept (with its data) on its agent
 * after the tasks that use it end, until a `destroy`. `id` is unique on the agent (letters,
 * digits, `.`, `_`, `-`); `containerPath` is a relative path inside the task's sandbox.
 */
export interface VolumeSpec {
  id: string;
  containerPath: string;
  sizeMb: number;
  role: string;
  /** Read-write or read-only for the tasks that hold it. Defaults to `rw`. */
  mode?: 'rw' | 'ro';
}

/** An operation of ACCEPT. */
export type Operation =
  | { type: 'launch'; tasks: TaskSpec[] }
  /** Tasks that start together in one executor and are killed together. */
  | { type: 'launchGroup'; executor: ExecutorSpec; tasks: TaskSpec[] }
  /**
   * Unreserved resources of the offer become reserved for the role each resource names (the
   * offer's role), e.g. `parseResources('cpus(redis):1;mem(redis):256')`. They stay reserved
   * (offered only to that role) until an `unreserve`, also when no task uses them.
   */
  | { type: 'reserve'; resources: Resources }
  /** Dynamically reserved resources of the offer (roles set) become unreserved. */
  | { type: 'unreserve'; resources: Resources }
  /** Persistent volumes carved from disk of the offer reserved for their role. */
  | { type: 'create'; volumes: VolumeSpec[] }
  /** Persistent volumes of the offer (no live task holds them) removed with their data; the disk stays reserved. */
  | { type: 'destroy'; volumes: VolumeSpec[] };

/** How long the master holds back resources a framework declined or left unused. */
export interface Filters {
  /** Seconds. Defaults to the master's (5 s); capped at 365 days by the master. */
  refuseSeconds?: number;
}

/** Resources of one agent offered to the framework. Use it once: launch on it or decline it. */
export interface Offer {
  id: string;
  frameworkId: string;
  agentId: string;
  hostname: string;
  resources: Resources;
  attributes: Attribute[];
  /** Executors of this framework already running on the agent. */
  executorIds: string[];
  /** The role the resources are allocated to. */
  role: string;
  /** The agent's endpoint (host:port). */
  agentEndpoint: string;
  /** The persistent volumes among `resources` (all of the offer's role): launch tasks with them in `TaskSpec.volumes`. */
  volumes: VolumeSpec[];
}

/** Where a status update comes from. */
export type TaskStatusSource = 'MASTER' | 'AGENT' | 'EXECUTOR';

/** A task status update (UPDATE), or an answer to reconciliation. */
export interface TaskStatus {
  taskId: string;
  state: TaskState;
  message?: string;
  source?: TaskStatusSource;
  /** Why, without Mesos's `REASON_` prefix: `RECONCILIATION`, `EXECUTOR_TERMINATED`, ... */
  reason?: string;
  agentId?: string;
  executorId?: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Present when the update must be acknowledged. */
  uuid?: string;
  /** The task's health, when it has a health check. */
  healthy?: boolean;
  /** The exit code of a task that exited. */
  exitCode?: number;
  /** The signal that ended a task, e.g. `SIGKILL`. */
  signal?: string;
  /** The sandbox directory of the task's executor on its agent (holds stdout and stderr). */
  sandbox?: string;
  data?: Uint8Array;
  labels?: Record<string, string>;
}

/** A task to reconcile: its id, and its agent when known. */
export interface ReconcileTask {
  taskId: string;
  agentId?: string;
}

/** Options of `Scheduler.kill`. */
export interface KillOptions {
  /** The task's agent. Defaults to the agent the SDK last saw the task on. */
  agentId?: string;
  /** Seconds between SIGTERM and SIGKILL. Defaults to the task's kill policy. */
  gracePeriodSeconds?: number;
}
