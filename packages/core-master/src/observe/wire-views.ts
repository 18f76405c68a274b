import {
  attributesToWire,
  resourcesToWire,
  TaskStatus,
  TaskStatus_Reason,
  TaskStatus_Source,
  type Offer,
  type Task,
  type TaskState,
} from '@meso/proto';
import type { MasterModel, OfferRecord, TaskRecord } from '../model/model.js';

/** Outstanding offers as their frameworks receive them (the executors are looked at once, not once per offer). */
export function offersToWire(model: MasterModel, offers: readonly OfferRecord[]): Offer[] {
  const executors = new Map<string, { value: string }[]>();
  for (const e of model.executors.values()) {
    const key = `${e.agentId}\u0000${e.frameworkId}`;
    const list = executors.get(key);
    if (list) list.push({ value: e.executorId });
    else executors.set(key, [{ value: e.executorId }]);
  }
  if (executors.size === 0) return offers.map((o) => offerToWire(model, o, []));
  return offers.map((o) => offerToWire(model, o, executors.get(`${o.agentId}\u0000${o.frameworkId}`) ?? []));
}

/** An outstanding offer as the framework receives it; `executorIds`: the framework's executors on the agent. */
export function offerToWire(
  model: MasterModel,
  offer: OfferRecord,
  executorIds = [...model.executors.values()].filter((e) => e.agentId === offer.agentId && e.frameworkId === offer.frameworkId).map((e) => ({ value: e.executorId })),
): Offer {
  const agent = model.agents.get(offer.agentId);
  return {
    id: { value: offer.id },
    frameworkId: { value: offer.frameworkId },
    agentId: { value: offer.agentId },
    hostname: agent?.hostname ?? '',
    resources: resourcesToWire(offer.resources),
    attributes: attributesToWire(agent?.attributes ?? []),
    executorIds,
    allocationRole: offer.role,
    agentEndpoint: agent?.endpoint ?? '',
  };
}

/** A task as the operator API and re-registration speak of it. */
export function taskToWire(task: TaskRecord): Task {
  return {
    name: task.name,
    taskId: { value: task.taskId },
    frameworkId: { value: task.frameworkId },
    executorId: task.executorId ? { value: task.executorId } : undefined,
    agentId: { value: task.agentId },
    state: task.state,
    resources: resourcesToWire(task.resources),
    statuses: task.statuses.map((s) => TaskStatus.fromPartial({ taskId: { value: task.taskId }, state: s.state, timestamp: s.timestamp })),
    statusUpdateState: task.unacknowledged?.state ?? 0,
    statusUpdateUuid: task.unacknowledged?.uuid ?? '',
    labels: task.info.labels,
    role: task.role,
    sandbox: task.sandbox,
  };
}

/** What a master-generated update says about a task. */
export interface MasterStatusSpec {
  frameworkId: string;
  taskId: string;
  agentId?: string;
  executorId?: string;
  state: TaskState;
  reason: TaskStatus_Reason;
  message: string;
  /** Milliseconds since the epoch. */
  now: number;
}

/**
 * An update the master itself generates (reconciliation, kills of unknown or unsent tasks,
 * lost agents): source MASTER and an empty uuid, so it needs no acknowledgement.
 */
export function masterStatus(spec: MasterStatusSpec): TaskStatus {
  return TaskStatus.fromPartial({
    taskId: { value: spec.taskId },
    state: spec.state,
    message: spec.message,
    source: TaskStatus_Source.SOURCE_MASTER,
    reason: spec.reason,
    timestamp: spec.now / 1000,
    uuid: '',
    frameworkId: { value: spec.frameworkId },
    ...(spec.agentId ? { agentId: { value: spec.agentId } } : {}),
    ...(spec.executorId ? { executorId: { value: spec.executorId } } : {}),
  });
}

/** The latest status of a known task, re-stamped as a master update (for reconciliation). */
export function reconciledStatus(task: TaskRecord, now: number): TaskStatus {
  const base = task.latestStatus;
  return TaskStatus.fromPartial({
    ...(base ?? {}),
    taskId: { value: task.taskId },
    state: task.state,
    source: TaskStatus_Source.SOURCE_MASTER,
    reason: TaskStatus_Reason.REASON_RECONCILIATION,
    message: 'reconciliation',
    timestamp: now / 1000,
    uuid: '',
    frameworkId: { value: task.frameworkId },
    agentId: { value: task.agentId },
    ...(task.executorId ? { executorId: { value: task.executorId } } : {}),
  });
}
