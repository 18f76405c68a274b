import {
  FrameworkInfo_Capability,
  TaskState,
  TaskStatus_Reason,
  type AcknowledgeRequest,
  type KillRequest,
  type MessageRequest,
  type ReconcileRequest,
  type ShutdownRequest,
  type TaskStatus,
} from '@meso/proto';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { awayTask, taskKey, type FrameworkRecord } from '../model/model.js';
import { masterStatus, reconciledStatus } from '../observe/wire-views.js';

function required(value: string | undefined, field: string, what: string): string {
  if (!value) throw new MasterError('INVALID_ARGUMENT', `${what} is required`, field);
  return value;
}

/** Records a master-generated update and forwards it to the framework. */
export function masterUpdate(master: Master, status: TaskStatus): void {
  const frameworkId = status.frameworkId?.value ?? '';
  master.commitLocal({ type: 'statusUpdated', frameworkId, taskId: status.taskId?.value ?? '', status, at: master.now() });
  if (master.sendToFramework(frameworkId, { event: { $case: 'update', value: { status } } })) master.metrics.statusUpdatesForwarded++;
}

/**
 * Whether a task the master does not know may still come back with an agent that has not
 * re-registered since a master restart: the agent named, or any agent when none is named.
 */
function awaitingAgent(master: Master, agentId: string | undefined): boolean {
  if (agentId) return master.model.agents.get(agentId)?.status === 'RECOVERING';
  for (const a of master.model.agents.values()) if (a.status === 'RECOVERING') return true;
  return false;
}

/**
 * KILL: a task on a connected agent that received it => KillTask to the agent. A task the
 * master knows but never sent => TASK_KILLED from the master. A task whose agent is away
 * (DISCONNECTED, or UNREACHABLE with the task TASK_UNREACHABLE / LOST) => the kill is
 * remembered (`master.pendingKills`, in memory) and sent as KillTask when the agent
 * re-registers reporting the task; nothing is claimed before the agent confirms: no answer
 * for a disconnected agent (as Mesos), the task's current state (UNREACHABLE / LOST, reason
 * RECONCILIATION) for an unreachable one, sent for the first kill only (a repeated kill of
 * the same task, already remembered, gets no answer). A task the master does not know => TASK_LOST,
 * reason TASK_UNKNOWN; but while its agent may still re-register after a master restart, the
 * kill waits for it (and is carried out when the agent returns with the task, or answered
 * TASK_LOST when it does not).
 */
export function kill(master: Master, fw: FrameworkRecord, req: KillRequest): void {
  const taskId = required(req.taskId?.value, 'task_id', 'task_id');
  const task = master.model.tasks.get(taskKey(fw.id, taskId));
  const now = master.now();
  const away = task ? undefined : awayTask(master.model, fw.id, taskId);
  if (away && master.model.agents.has(away.agentId)) {
    // Answered once: a framework that kills again on every answer must not loop with us.
    if (rememberKill(master, away.agentId, fw.id, taskId, req)) sendReconciled(master, fw.id, reconciledStatus(away, now));
    return;
  }
  if (!task && awaitingAgent(master, req.agentId?.value || undefined)) {
    master.deferredCalls.add({ kind: 'kill', frameworkId: fw.id, request: req });
    return;
  }
  if (!task) {
    const agentId = req.agentId?.value;
    masterUpdate(master, masterStatus({ frameworkId: fw.id, taskId, ...(agentId ? { agentId } : {}), state: TaskState.TASK_LOST, reason: TaskStatus_Reason.REASON_TASK_UNKNOWN, message: 'kill of a task the master does not know', now }));
    return;
  }
  if (task.sent && master.agentConnections.has(task.agentId)) {
    master.sendToAgent(task.agentId, {
      message: { $case: 'killTask', value: { frameworkId: { value: fw.id }, taskId: { value: taskId }, killPolicy: req.killPolicy ?? task.info.killPolicy } },
    });
    return;
  }
  if (task.sent && master.model.agents.has(task.agentId)) {
    rememberKill(master, task.agentId, fw.id, taskId, req);
    return;
  }
  const ids = task.group ?? [taskId];
  for (const id of ids) {
    const t = master.model.tasks.get(taskKey(fw.id, id));
    if (!t) continue;
    const reason = t.sent ? TaskStatus_Reason.REASON_AGENT_DISCONNECTED : TaskStatus_Reason.REASON_TASK_KILLED_DURING_LAUNCH;
    masterUpdate(master, masterStatus({ frameworkId: fw.id, taskId: id, agentId: t.agentId, executorId: t.executorId, state: TaskState.TASK_KILLED, reason, message: t.sent ? 'killed while its agent is away' : 'killed before delivery to the agent', now }));
  }
  master.requestAllocation();
}

/** Remembers the kill; false when the same kill was already remembered (a repeat: logged at debug). */
function rememberKill(master: Master, agentId: string, frameworkId: string, taskId: string, req: KillRequest): boolean {
  const key = taskKey(frameworkId, taskId);
  const first = master.pendingKills.get(key)?.agentId !== agentId;
  master.pendingKills.set(key, { agentId, frameworkId, taskId, ...(req.killPolicy ? { killPolicy: req.killPolicy } : {}) });
  if (first) master.logger.info('kill of a task whose agent is away: sent when the agent re-registers with it', { agentId, frameworkId, taskId });
  else master.logger.debug('kill of a task whose agent is away repeated: already remembered, not answered again', { agentId, frameworkId, taskId });
  return first;
}

/**
 * The agent re-registered: the kills remembered for it go out as KillTask for the tasks it
 * reported (live in the model again); the others are forgotten (the task ended or was
 * reported LOST / DROPPED). Also called with `reregistered` false when the agent is GONE.
 */
export function sendPendingKills(master: Master, agentId: string, reregistered = true): void {
  for (const [key, k] of master.pendingKills) {
    if (k.agentId !== agentId) continue;
    master.pendingKills.delete(key);
    const task = master.model.tasks.get(key);
    if (!reregistered || task?.agentId !== agentId) continue;
    master.sendToAgent(agentId, {
      message: { $case: 'killTask', value: { frameworkId: { value: k.frameworkId }, taskId: { value: k.taskId }, killPolicy: k.killPolicy ?? task.info.killPolicy } },
    });
  }
}

/** SHUTDOWN: stops one executor (and its tasks) on an agent. */
export function shutdownExecutor(master: Master, fw: FrameworkRecord, req: ShutdownRequest): void {
  const executorId = required(req.executorId?.value, 'executor_id', 'executor_id');
  const agentId = required(req.agentId?.value, 'agent_id', 'agent_id');
  if (!master.model.agents.has(agentId)) throw new MasterError('UNKNOWN_AGENT', `agent '${agentId}' is not known`, 'agent_id');
  if (!master.sendToAgent(agentId, { message: { $case: 'shutdownExecutor', value: { frameworkId: { value: fw.id }, executorId: { value: executorId } } } })) {
    throw new MasterError('UNAVAILABLE', `agent '${agentId}' is not connected; retry later`, 'agent_id');
  }
}

/** One acknowledgement of an AcknowledgeRequest, checked. */
interface Ack {
  agentId: string;
  taskId: string;
  uuid: string;
}

function checkedAck(a: { agentId?: { value: string } | undefined; taskId?: { value: string } | undefined; uuid: string }, prefix: string): Ack {
  return {
    agentId: required(a.agentId?.value, `${prefix}agent_id`, `${prefix}agent_id`),
    taskId: required(a.taskId?.value, `${prefix}task_id`, `${prefix}task_id`),
    uuid: required(a.uuid, `${prefix}uuid`, `${prefix}uuid`),
  };
}

/**
 * The acknowledgements of a request: the single fields (when any is set) and then each of
 * `acknowledgements`, all checked before any is carried out (a refusal names the field).
 */
function acksOf(req: AcknowledgeRequest): Ack[] {
  const single = !!(req.agentId?.value || req.taskId?.value || req.uuid);
  const batch = req.acknowledgements ?? [];
  const acks = single || batch.length === 0 ? [checkedAck(req, '')] : [];
  batch.forEach((a, i) => acks.push(checkedAck(a, `acknowledgements[${i}].`)));
  return acks;
}

/**
 * ACKNOWLEDGE: passes the acknowledgement of each update named to the agent that sent it
 * (one or many per call; nothing is carried out when any is malformed).
 */
export function acknowledge(master: Master, fw: FrameworkRecord, req: AcknowledgeRequest): void {
  for (const { agentId, taskId, uuid } of acksOf(req)) {
    master.commitLocal({ type: 'statusAcknowledged', frameworkId: fw.id, taskId, uuid });
    const sent = master.sendToAgent(agentId, { message: { $case: 'ack', value: { frameworkId: { value: fw.id }, taskId: { value: taskId }, uuid } } });
    if (!sent) master.logger.debug('acknowledgement dropped: agent not connected (it will resend the update)', { agentId, taskId });
  }
}

/**
 * The answer to an explicit reconciliation of one task, or undefined to defer it: the
 * latest state of a known task (live or completed); for an unknown task on an agent that is
 * UNREACHABLE, TASK_UNREACHABLE (partition-aware) or TASK_LOST; while the agent named (or,
 * when none is named, any agent) is still RECOVERING after a master restart, nothing yet
 * (the task may come back with it); otherwise TASK_UNKNOWN (partition-aware) or TASK_LOST.
 */
function reconcileOne(master: Master, fw: FrameworkRecord, taskId: string, agentId: string | undefined, now: number): TaskStatus | undefined {
  const live = master.model.tasks.get(taskKey(fw.id, taskId));
  const known = live ?? master.model.completedTasks.findLast((c) => c.frameworkId === fw.id && c.taskId === taskId);
  if (known) return reconciledStatus(known, now);
  const partitionAware = fw.info.capabilities.includes(FrameworkInfo_Capability.PARTITION_AWARE);
  const agent = agentId ? master.model.agents.get(agentId) : undefined;
  if (agent?.status === 'UNREACHABLE') {
    return masterStatus({
      frameworkId: fw.id,
      taskId,
      agentId: agent.id,
      state: partitionAware ? TaskState.TASK_UNREACHABLE : TaskState.TASK_LOST,
      reason: TaskStatus_Reason.REASON_RECONCILIATION,
      message: `agent ${agent.id} is unreachable`,
      now,
    });
  }
  if (awaitingAgent(master, agentId)) return undefined;
  const gone = agentId ? master.model.goneAgents.has(agentId) : false;
  return masterStatus({
    frameworkId: fw.id,
    taskId,
    ...(agentId ? { agentId } : {}),
    state: gone && partitionAware ? TaskState.TASK_GONE : partitionAware ? TaskState.TASK_UNKNOWN : TaskState.TASK_LOST,
    reason: TaskStatus_Reason.REASON_RECONCILIATION,
    message: gone ? `agent ${agentId ?? ''} is gone` : 'task unknown to the master',
    now,
  });
}

function sendReconciled(master: Master, frameworkId: string, status: TaskStatus): void {
  if (master.sendToFramework(frameworkId, { event: { $case: 'update', value: { status } } })) master.metrics.statusUpdatesForwarded++;
}

/**
 * RECONCILE: explicit (each listed task: see `reconcileOne`) or implicit (empty list: every
 * live task of the framework the master knows now). Replies are UPDATEs with reason
 * RECONCILIATION and an empty uuid. Explicit answers that must wait for an agent still
 * recovering after a master restart are deferred, never answered LOST too early.
 */
export function reconcile(master: Master, fw: FrameworkRecord, req: ReconcileRequest): void {
  const now = master.now();
  if (req.tasks.length === 0) {
    for (const task of master.model.tasks.values()) if (task.frameworkId === fw.id) sendReconciled(master, fw.id, reconciledStatus(task, now));
    return;
  }
  const asked = req.tasks.map((t, i) => ({ taskId: required(t.taskId?.value, `tasks[${i}].task_id`, 'task_id'), agentId: t.agentId?.value || undefined }));
  for (const { taskId, agentId } of asked) {
    const status = reconcileOne(master, fw, taskId, agentId, now);
    if (status) sendReconciled(master, fw.id, status);
    else master.deferredCalls.add({ kind: 'reconcile', frameworkId: fw.id, taskId, ...(agentId ? { agentId } : {}) });
  }
}

/**
 * Retries deferred calls: after an agent re-registered (`after`: its id and the keys of the
 * tasks it reported or lost), only those it can answer (naming it, about those tasks, or
 * naming no agent once none is still recovering); without `after` (an agent became
 * unreachable), every one. Answers the reconciliations that can be answered now and carries
 * out or answers the kills; the rest keep waiting. Those of frameworks gone or disconnected
 * are dropped (a framework reconciles and kills again after re-subscribing).
 */
export function answerDeferredCalls(master: Master, after?: { agentId: string; taskKeys: Iterable<string> }): void {
  if (master.deferredCalls.size === 0) return;
  const now = master.now();
  const waiting = after
    ? master.deferredCalls.take(after.agentId, after.taskKeys, master.deferredCalls.hasUnnamed() && !awaitingAgent(master, undefined))
    : master.deferredCalls.takeAll();
  for (const d of waiting) {
    const fw = master.model.frameworks.get(d.frameworkId);
    if (!fw?.connected) continue;
    if (d.kind === 'kill') {
      master.safely('a deferred kill', () => kill(master, fw, d.request));
      continue;
    }
    const status = reconcileOne(master, fw, d.taskId, d.agentId, now);
    if (status) sendReconciled(master, fw.id, status);
    else master.deferredCalls.add(d);
  }
}

/** MESSAGE: framework data to one of its executors. */
export function frameworkMessage(master: Master, fw: FrameworkRecord, req: MessageRequest): void {
  const agentId = required(req.agentId?.value, 'agent_id', 'agent_id');
  const executorId = required(req.executorId?.value, 'executor_id', 'executor_id');
  if (!master.model.agents.has(agentId)) throw new MasterError('UNKNOWN_AGENT', `agent '${agentId}' is not known`, 'agent_id');
  const sent = master.sendToAgent(agentId, {
    message: { $case: 'frameworkMessage', value: { frameworkId: { value: fw.id }, executorId: { value: executorId }, data: req.data } },
  });
  if (!sent) throw new MasterError('UNAVAILABLE', `agent '${agentId}' is not connected; retry later`, 'agent_id');
}
