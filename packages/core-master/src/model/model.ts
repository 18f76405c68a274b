import { TaskState, TaskStatus_Reason, TaskStatus_Source, type Attribute, type ResourceStatistics, type ExecutorInfo, type FrameworkInfo, type Resources, type TaskInfo, type TaskStatus } from '@meso/proto';
import { OfferFilters } from '../allocator/offer-filters.js';

/**
 * ACTIVE: linked and offered. DISCONNECTED: its link broke, it may come back. UNREACHABLE:
 * given up on (it may still return until the removal timeout makes it gone). RECOVERING:
 * known from the registry after a master restart, not re-registered yet.
 */
export type AgentStatus = 'ACTIVE' | 'DISCONNECTED' | 'UNREACHABLE' | 'RECOVERING';

/** Operator maintenance of an agent: DRAINING (no offers, tasks killed) or DEACTIVATED (no offers, tasks kept). */
export type AgentMaintenance = 'DRAINING' | 'DEACTIVATED';

/** An agent past its removal timeout: it may never come back under its id. */
export interface GoneAgent {
  id: string;
  hostname: string;
  /** Milliseconds since the epoch. */
  goneTime: number;
}

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
  /** When it became UNREACHABLE (milliseconds since the epoch); the removal timeout counts from here. */
  unreachableTime?: number;
  maintenance?: AgentMaintenance;
  /** The isolators the agent said it applies (AgentInfo.isolators at its latest registration). */
  isolators?: string[];
  /** The sum of its executors' latest sampled usage (volatile: never persisted). */
  usage?: ResourceStatistics;
  /** Its static resources (agent_info.resources, static reservations included); `total` when unset. */
  staticResources?: Resources;
  /**
   * Its dynamic reservations and persistent volumes (what it checkpointed; its own on
   * re-registration). `total` is `agentTotal(staticResources, checkpointed)`.
   */
  checkpointed?: Resources;
}

/** A role's weight and where it came from: the master's options (not persisted) or the operator (persisted, wins after a restart). */
export interface RoleWeight {
  weight: number;
  source: 'options' | 'operator';
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

/**
 * The completed record of a task the master gave up on because its agent was away — TASK_UNREACHABLE,
 * or TASK_LOST (reason AGENT_DISCONNECTED, from the master) for frameworks that are not
 * partition-aware — or undefined. Only the agent can tell what became of such a task: its
 * report (re-registration, status update) replaces the master's guess.
 */
export function awayTask(model: Pick<MasterModel, 'completedTasks'>, frameworkId: string, taskId: string): TaskRecord | undefined {
  const t = model.completedTasks.findLast((c) => c.frameworkId === frameworkId && c.taskId === taskId);
  if (!t) return undefined;
  if (t.state === TaskState.TASK_UNREACHABLE) return t;
  const s = t.latestStatus;
  if (t.state === TaskState.TASK_LOST && s?.source === TaskStatus_Source.SOURCE_MASTER && s.reason === TaskStatus_Reason.REASON_AGENT_DISCONNECTED) return t;
  return undefined;
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
  /** Agents removed after their removal timeout; kept (and persisted) so they are refused. */
  goneAgents: Map<string, GoneAgent>;
  frameworks: Map<string, FrameworkRecord>;
  removedFrameworks: Map<string, RemovedFramework>;
  /** Live tasks by `taskKey`. */
  tasks: Map<string, TaskRecord>;
  /** The same live tasks by agent, then `taskKey` (kept by `apply` with `tasks`): per-agent work without a scan of every task. */
  tasksByAgent: Map<string, Map<string, TaskRecord>>;
  /** Most recent last, bounded by `completedTaskLimit`. */
  completedTasks: TaskRecord[];
  completedTaskLimit: number;
  executors: Map<string, ExecutorRecord>;
  offers: Map<string, OfferRecord>;
  /** Offer filters by (framework, agent) and by expiry; expired ones are pruned as commands arrive. */
  filters: OfferFilters;
  /** Role weights; a role not listed weighs 1. */
  weights: Map<string, RoleWeight>;
  /** Quota limits per role (scalars: cpus, mem, disk, gpus); a role not listed is unlimited. */
  quotas: Map<string, Resources>;
  /** Commands applied so far: readers (the cached /state) know the model is unchanged while it is. */
  version: number;
  /**
   * Commands applied so far that may change what the allocator decides (every command but
   * usage reports and acknowledgements): while it and the live filters stay the same, an
   * allocation cycle would decide what the last one decided.
   */
  allocationVersion: number;
  /** Commands applied so far that may change a task record or the task lists (every command but those listed in `apply` as leaving tasks alone). */
  tasksVersion: number;
}

/** Key of a task in `MasterModel.tasks`. */
export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

/** Key of an executor in `MasterModel.executors`. */
export function executorKey(agentId: string, frameworkId: string, executorId: string): string {
  return `${agentId}\u0000${frameworkId}\u0000${executorId}`;
}

/** The live tasks on an agent. */
export function tasksOnAgent(model: MasterModel, agentId: string): Iterable<TaskRecord> {
  return model.tasksByAgent.get(agentId)?.values() ?? [];
}

/** An empty model. */
export function createModel(masterId: string, startTime: number, completedTaskLimit = 1000): MasterModel {
  return {
    masterId,
    startTime,
    agents: new Map(),
    goneAgents: new Map(),
    frameworks: new Map(),
    removedFrameworks: new Map(),
    tasks: new Map(),
    tasksByAgent: new Map(),
    completedTasks: [],
    completedTaskLimit,
    executors: new Map(),
    offers: new Map(),
    filters: new OfferFilters(),
    weights: new Map(),
    quotas: new Map(),
    version: 0,
    allocationVersion: 0,
    tasksVersion: 0,
  };
}

/** Whether a DRAINING agent has nothing left running (no live task, no custom executor). */
export function isDrained(model: MasterModel, agentId: string): boolean {
  if ((model.tasksByAgent.get(agentId)?.size ?? 0) > 0) return false;
  for (const e of model.executors.values()) if (e.agentId === agentId) return false;
  return true;
}

/**
 * The status operators see: UNREACHABLE, RECOVERING and DISCONNECTED first; then the
 * maintenance mode (DRAINING, DRAINED once nothing runs, DEACTIVATED); else ACTIVE.
 */
export function agentDisplayStatus(model: MasterModel, a: AgentRecord): string {
  if (a.status !== 'ACTIVE' || !a.maintenance) return a.status;
  if (a.maintenance === 'DRAINING') return isDrained(model, a.id) ? 'DRAINED' : 'DRAINING';
  return a.maintenance;
}
