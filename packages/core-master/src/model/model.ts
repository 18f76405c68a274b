import type { Attribute, ExecutorInfo, FrameworkInfo, Resources, TaskInfo, TaskState, TaskStatus } from '@meso/proto';
import type { OfferFilter } from '../allocator/types.js';

/** ACTIVE: linked and offered. DISCONNECTED: its link broke, it may come back. UNREACHABLE: given up on. */
export type AgentStatus = 'ACTIVE' | 'DISCONNECTED' | 'UNREACHABLE';

/** An agent as the master knows it. `used` and `offered` are kept exact by `apply`. */
export interface AgentRecord {
  id: string;
  hostname: string;
  endpoint: string;
  version: string;
  bootId: string;
  attributes: Attribute[];
  total: Resources;
  /** Charged to live tasks and live custom executors. */
  used: Resources;
  /** Held by outstanding offers. */
  offered: Resources;
  status: AgentStatus;
  /** Milliseconds since the epoch. */
  registeredTime: number;
  reregisteredTime?: number;
}

/** A framework that has subscribed and not been removed. */
export interface FrameworkRecord {
  id: string;
  /** The latest FrameworkInfo, with `id` set and roles defaulted to ['*']. */
  info: FrameworkInfo;
  connected: boolean;
  streamId?: string;
  suppressedRoles: Set<string>;
  registeredTime: number;
  unregisteredTime?: number;
  /** Per role: charged to live tasks and executors. */
  used: Map<string, Resources>;
  /** Per role: held by outstanding offers. */
  offered: Map<string, Resources>;
}

/** A framework that was torn down or timed out: it may not subscribe again. */
export interface RemovedFramework {
  id: string;
  name: string;
  removedTime: number;
}

/** A state a task went through, for /state. */
export interface TaskStateEntry {
  state: TaskState;
  /** Seconds since the epoch, as in TaskStatus. */
  timestamp: number;
}

/** A task, live (in `tasks`) or completed (in `completedTasks`). */
export interface TaskRecord {
  frameworkId: string;
  taskId: string;
  agentId: string;
  /** The custom executor's id; empty for the command executor. */
  executorId: string;
  name: string;
  role: string;
  info: TaskInfo;
  state: TaskState;
  /** What the task is charged (its own resources; executors are charged separately). */
  resources: Resources;
  statuses: TaskStateEntry[];
  latestStatus?: TaskStatus;
  sandbox: string;
  /** Whether RunTask/RunTaskGroup went out to the agent. */
  sent: boolean;
  /** For tasks launched as a group: the ids of every task of the group. */
  group?: string[];
  /** The latest update not yet acknowledged by the framework. */
  unacknowledged?: { state: TaskState; uuid: string };
}

/** A custom executor, charged once per (agent, framework, executor) while it lives. */
export interface ExecutorRecord {
  frameworkId: string;
  agentId: string;
  executorId: string;
  role: string;
  info: ExecutorInfo;
  resources: Resources;
}

/** An outstanding offer. */
export interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** The master's whole in-memory state. Changed only by `apply`. */
export interface MasterModel {
  readonly masterId: string;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
  agents: Map<string, AgentRecord>;
  frameworks: Map<string, FrameworkRecord>;
  removedFrameworks: Map<string, RemovedFramework>;
  /** Live tasks by `taskKey`. */
  tasks: Map<string, TaskRecord>;
  /** Most recent last, bounded by `completedTaskLimit`. */
  completedTasks: TaskRecord[];
  completedTaskLimit: number;
  executors: Map<string, ExecutorRecord>;
  offers: Map<string, OfferRecord>;
  filters: OfferFilter[];
}

/** Key of a task in `MasterModel.tasks`. */
export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

/** Key of an executor in `MasterModel.executors`. */
export function executorKey(agentId: string, frameworkId: string, executorId: string): string {
  return `${agentId}\u0000${frameworkId}\u0000${executorId}`;
}

/** An empty model. */
export function createModel(masterId: string, startTime: number, completedTaskLimit = 1000): MasterModel {
  return {
    masterId,
    startTime,
    agents: new Map(),
    frameworks: new Map(),
    removedFrameworks: new Map(),
    tasks: new Map(),
    completedTasks: [],
    completedTaskLimit,
    executors: new Map(),
    offers: new Map(),
    filters: [],
  };
}
