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
import { taskKey, type FrameworkRecord } from '../model/model.js';
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
 * KILL: a task on a connected agent that received it => KillTask to the agent. A task the
 * master knows but never sent (or whose agent is gone) => TASK_KILLED from the master. A
 * task the master does not know => TASK_LOST, reason TASK_UNKNOWN.
 */
export function kill(master: Master, fw: FrameworkRecord, req: KillRequest): void {
  const taskId = required(req.taskId?.value, 'task_id', 'task_id');
  const task = master.model.tasks.get(taskKey(fw.id, taskId));
  const now = master.now();
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
  const ids = task.group ?? [taskId];
  for (const id of ids) {
    const t = master.model.tasks.get(taskKey(fw.id, id));
    if (!t) continue;
    const reason = t.sent ? TaskStatus_Reason.REASON_AGENT_DISCONNECTED : TaskStatus_Reason.REASON_TASK_KILLED_DURING_LAUNCH;
    masterUpdate(master, masterStatus({ frameworkId: fw.id, taskId: id, agentId: t.agentId, executorId: t.executorId, state: TaskState.TASK_KILLED, reason, message: t.sent ? 'killed while its agent is away' : 'killed before delivery to the agent', now }));
  }
  master.requestAllocation();
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

/** ACKNOWLEDGE: passes the acknowledgement of an update to the agent that sent it. */
export function acknowledge(master: Master, fw: FrameworkRecord, req: AcknowledgeRequest): void {
  const agentId = required(req.agentId?.value, 'agent_id', 'agent_id');
  const taskId = required(req.taskId?.value, 'task_id', 'task_id');
  const uuid = required(req.uuid, 'uuid', 'uuid');
  master.commitLocal({ type: 'statusAcknowledged', frameworkId: fw.id, taskId, uuid });
  const sent = master.sendToAgent(agentId, { message: { $case: 'ack', value: { frameworkId: { value: fw.id }, taskId: { value: taskId }, uuid } } });
  if (!sent) master.logger.debug('acknowledgement dropped: agent not connected (it will resend the update)', { agentId, taskId });
}

/**
 * RECONCILE: explicit (each listed task: its latest state, or LOST / UNKNOWN for
 * partition-aware frameworks when unknown) or implicit (empty list: every live task of the
 * framework). Replies are UPDATEs with reason RECONCILIATION and an empty uuid.
 */
export function reconcile(master: Master, fw: FrameworkRecord, req: ReconcileRequest): void {
  const now = master.now();
  const send = (status: TaskStatus): void => {
    if (master.sendToFramework(fw.id, { event: { $case: 'update', value: { status } } })) master.metrics.statusUpdatesForwarded++;
  };
  if (req.tasks.length === 0) {
    for (const task of master.model.tasks.values()) if (task.frameworkId === fw.id) send(reconciledStatus(task, now));
    return;
  }
  const partitionAware = fw.info.capabilities.includes(FrameworkInfo_Capability.PARTITION_AWARE);
  req.tasks.forEach((t, i) => {
    const taskId = required(t.taskId?.value, `tasks[${i}].task_id`, 'task_id');
    const live = master.model.tasks.get(taskKey(fw.id, taskId));
    const done = live ? undefined : [...master.model.completedTasks].reverse().find((c) => c.frameworkId === fw.id && c.taskId === taskId);
    const known = live ?? done;
    if (known) {
      send(reconciledStatus(known, now));
      return;
    }
    const agentId = t.agentId?.value;
    send(
      masterStatus({
        frameworkId: fw.id,
        taskId,
        ...(agentId ? { agentId } : {}),
        state: partitionAware ? TaskState.TASK_UNKNOWN : TaskState.TASK_LOST,
        reason: TaskStatus_Reason.REASON_RECONCILIATION,
        message: 'task unknown to the master',
        now,
      }),
    );
  });
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
