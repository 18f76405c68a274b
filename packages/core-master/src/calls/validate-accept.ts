import {
  Offer_Operation_Type,
  Resources,
  ResourceError,
  TaskState,
  resourcesFromWire,
  type AcceptRequest,
  type CommandInfo,
  type ExecutorInfo,
  type Filters,
  type MasterMessage,
  type TaskInfo,
} from '@meso/proto';
import type { OfferFilter } from '../allocator/types.js';
import { MasterError } from '../errors.js';
import { invalidIdReason } from '../ids.js';
import { agentResourcesOf } from '../reservations/agent-resources.js';
import { applyResourceOp, parseEach, type ResourceOpType } from '../reservations/resource-operations.js';
import { executorKey, taskKey, type ExecutorRecord, type FrameworkRecord, type MasterModel, type OfferRecord, type TaskRecord } from '../model/model.js';

/** DECLINE's and ACCEPT's `refuse_seconds` when unset, and its cap (365 days). */
export const DEFAULT_REFUSE_SECONDS = 5;
export const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

/** What an ACCEPT will do once validated: nothing has happened yet. */
export interface AcceptPlan {
  agentId: string;
  offers: OfferRecord[];
  tasks: TaskRecord[];
  /** Custom executors that start with this ACCEPT (charged once). */
  executors: ExecutorRecord[];
  /** RunTask / RunTaskGroup messages for the agent, in order. */
  messages: MasterMessage[];
  /** The unused part of the offers, declined with the call's filters. */
  filters: OfferFilter[];
  /** Set when RESERVE/UNRESERVE/CREATE/DESTROY changed the agent's checkpointed resources (and total). */
  agentResources?: { checkpointed: Resources; total: Resources };
}

/** Offer ids of ACCEPT or DECLINE: known, this framework's, each once. */
export function validateOfferIds(model: MasterModel, frameworkId: string, offerIds: readonly { value: string }[]): OfferRecord[] {
  const seen = new Set<string>();
  return offerIds.map((o, i) => {
    const field = `offer_ids[${i}]`;
    const id = o?.value ?? '';
    if (seen.has(id)) throw new MasterError('DUPLICATE_OFFER', `offer '${id}' appears more than once in the call`, field);
    seen.add(id);
    const offer = model.offers.get(id);
    if (!offer) throw new MasterError('UNKNOWN_OFFER', `offer '${id}' is not outstanding (unknown, rescinded or already used)`, field);
    if (offer.frameworkId !== frameworkId) throw new MasterError('OFFER_NOT_OWNED', `offer '${id}' was made to another framework`, field);
    return offer;
  });
}

/** refuse_seconds: default 5, capped at 365 days, never negative or NaN. */
export function refuseSeconds(filters: Filters | undefined, field = 'filters.refuse_seconds'): number {
  const value = filters?.refuseSeconds;
  if (value === undefined) return DEFAULT_REFUSE_SECONDS;
  if (!Number.isFinite(value) || value < 0) throw new MasterError('INVALID_ARGUMENT', `must be a number >= 0, got ${String(value)}`, field);
  return Math.min(value, MAX_REFUSE_SECONDS);
}

function resources(list: TaskInfo['resources'], field: string): Resources {
  try {
    return resourcesFromWire(list ?? [], field);
  } catch (e) {
    if (e instanceof ResourceError) throw new MasterError('INVALID_RESOURCES', e.reason, e.field, { cause: e });
    throw e;
  }
}

function sameCommand(a: CommandInfo | undefined, b: CommandInfo | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

interface Check {
  model: MasterModel;
  framework: FrameworkRecord;
  agentId: string;
  role: string;
  remaining: Resources;
  taskIds: Set<string>;
  executors: Map<string, ExecutorInfo>;
  plan: AcceptPlan;
  now: number;
}

function checkExecutor(c: Check, executor: ExecutorInfo, field: string, requireCommand: boolean): Resources {
  const id = executor.executorId?.value;
  const idProblem = invalidIdReason(id);
  if (idProblem) throw new MasterError('INVALID_EXECUTOR', `executor id ${idProblem}`, `${field}.executor_id`);
  const fwOfExecutor = executor.frameworkId?.value;
  if (fwOfExecutor && fwOfExecutor !== c.framework.id) {
    throw new MasterError('INVALID_EXECUTOR', `executor names framework '${fwOfExecutor}', not '${c.framework.id}'`, `${field}.framework_id`);
  }
  if (requireCommand && !executor.command) throw new MasterError('INVALID_EXECUTOR', 'a custom executor needs a command', `${field}.command`);
  const charged = resources(executor.resources, `${field}.resources`);
  const key = executorKey(c.agentId, c.framework.id, id as string);
  const known = c.executors.get(key) ?? c.model.executors.get(key)?.info;
  if (known) {
    if (!sameCommand(known.command, executor.command)) {
      throw new MasterError('INVALID_EXECUTOR', `executor '${id}' is already running on this agent with a different command`, field);
    }
    return Resources.empty();
  }
  c.executors.set(key, executor);
  c.plan.executors.push({ frameworkId: c.framework.id, agentId: c.agentId, executorId: id as string, role: c.role, info: executor, resources: charged });
  return charged;
}

function consume(c: Check, needed: Resources, field: string, what: string): void {
  if (c.remaining.contains(needed)) {
    c.remaining = c.remaining.subtract(needed);
    return;
  }
  const missing = c.remaining.shortfall(needed).join('; ');
  throw new MasterError('RESOURCES_EXCEED_OFFER', `${what} needs more than the offers have left: ${missing}`, field);
}

/** RESERVE/UNRESERVE/CREATE/DESTROY on what is left of the offers, in order; later operations see the result. */
function resourceOp(c: Check, type: ResourceOpType, list: Parameters<typeof parseEach>[0], field: string): void {
  const agent = c.model.agents.get(c.agentId);
  if (!agent) throw new MasterError('UNKNOWN_AGENT', `agent '${c.agentId}' is not known`, 'offer_ids[0]');
  const before = agentResourcesOf(c.model, agent, c.remaining, { offerRole: c.role });
  const state = c.plan.agentResources ? { ...before, checkpointed: c.plan.agentResources.checkpointed } : before;
  const next = applyResourceOp(state, type, parseEach(list, field), field);
  c.remaining = next.available;
  c.plan.agentResources = { checkpointed: next.checkpointed, total: next.total };
}

function checkTask(c: Check, task: TaskInfo, field: string, groupExecutor: ExecutorInfo | undefined): TaskRecord {
  const id = task.taskId?.value ?? '';
  const idProblem = invalidIdReason(id);
  if (idProblem) throw new MasterError('INVALID_TASK', `task id ${idProblem}`, `${field}.task_id`);
  if (c.taskIds.has(id)) throw new MasterError('DUPLICATE_TASK_ID', `task id '${id}' is used twice in this call`, `${field}.task_id`);
  if (c.model.tasks.has(taskKey(c.framework.id, id))) {
    throw new MasterError('DUPLICATE_TASK_ID', `task id '${id}' is already used by a live task of this framework`, `${field}.task_id`);
  }
  c.taskIds.add(id);
  if (task.agentId?.value && task.agentId.value !== c.agentId) {
    throw new MasterError('INVALID_TASK', `task names agent '${task.agentId.value}' but the offers are on '${c.agentId}'`, `${field}.agent_id`);
  }
  const taskResources = resources(task.resources, `${field}.resources`);
  if (taskResources.isEmpty()) throw new MasterError('INVALID_RESOURCES', 'a task must use some resources', `${field}.resources`);
  let executorId = '';
  if (groupExecutor) {
    if (task.executor && task.executor.executorId?.value !== groupExecutor.executorId?.value) {
      throw new MasterError('INVALID_TASK', "a task of a group runs in the group's executor; leave executor unset", `${field}.executor`);
    }
    executorId = groupExecutor.executorId?.value ?? '';
  } else {
    const hasCommand = !!task.command;
    const hasExecutor = !!task.executor;
    if (hasCommand === hasExecutor) {
      throw new MasterError('INVALID_TASK', hasCommand ? 'set command or executor, not both' : 'set exactly one of command or executor', field);
    }
  }
  consume(c, taskResources, `${field}.resources`, `task '${id}'`);
  if (task.executor && !groupExecutor) {
    const charged = checkExecutor(c, task.executor, `${field}.executor`, true);
    consume(c, charged, `${field}.executor.resources`, `executor of task '${id}'`);
    executorId = task.executor.executorId?.value ?? '';
  }
  return {
    frameworkId: c.framework.id,
    taskId: id,
    agentId: c.agentId,
    executorId,
    name: task.name,
    role: c.role,
    info: { ...task, agentId: { value: c.agentId } },
    state: TaskState.TASK_STAGING,
    resources: taskResources,
    statuses: [{ state: TaskState.TASK_STAGING, timestamp: c.now / 1000 }],
    sandbox: '',
    sent: false,
  };
}

/**
 * Checks a whole ACCEPT against the model before anything happens. Throws a MasterError
 * naming the field at fault; on success returns the plan to commit. Command-executor tasks
 * are charged their own resources only; a custom executor is charged its resources once
 * per (agent, executor) while it lives.
 */
export function validateAccept(model: MasterModel, framework: FrameworkRecord, req: AcceptRequest, now: number): AcceptPlan {
  if (req.offerIds.length === 0) throw new MasterError('INVALID_ARGUMENT', 'at least one offer id is required', 'offer_ids');
  const offers = validateOfferIds(model, framework.id, req.offerIds);
  const agentId = (offers[0] as OfferRecord).agentId;
  offers.forEach((o, i) => {
    if (o.agentId !== agentId) {
      throw new MasterError('OFFERS_ON_DIFFERENT_AGENTS', `offer '${o.id}' is on agent '${o.agentId}', offer_ids[0] on '${agentId}'`, `offer_ids[${i}]`);
    }
  });
  const refuse = refuseSeconds(req.filters);
  const offered = offers.reduce((sum, o) => sum.add(o.resources), Resources.empty());
  const c: Check = {
    model,
    framework,
    agentId,
    role: (offers[0] as OfferRecord).role,
    remaining: offered,
    taskIds: new Set(),
    executors: new Map(),
    plan: { agentId, offers, tasks: [], executors: [], messages: [], filters: [] },
    now,
  };
  req.operations.forEach((op, j) => {
    const field = `operations[${j}]`;
    switch (op.type) {
      case Offer_Operation_Type.LAUNCH: {
        const infos = op.launch?.taskInfos ?? [];
        if (infos.length === 0) throw new MasterError('INVALID_TASK', 'LAUNCH needs at least one task', `${field}.launch.task_infos`);
        infos.forEach((t, k) => {
          const record = checkTask(c, t, `${field}.launch.task_infos[${k}]`, undefined);
          c.plan.tasks.push(record);
          c.plan.messages.push({ message: { $case: 'runTask', value: { frameworkInfo: framework.info, task: record.info } } });
        });
        return;
      }
      case Offer_Operation_Type.LAUNCH_GROUP: {
        const group = op.launchGroup;
        const executor = group?.executor;
        if (!executor) throw new MasterError('INVALID_EXECUTOR', 'LAUNCH_GROUP needs an executor', `${field}.launch_group.executor`);
        const charged = checkExecutor(c, executor, `${field}.launch_group.executor`, false);
        const tasks = group?.taskGroup?.tasks ?? [];
        if (tasks.length === 0) throw new MasterError('INVALID_TASK', 'a task group needs at least one task', `${field}.launch_group.task_group.tasks`);
        const records = tasks.map((t, k) => checkTask(c, t, `${field}.launch_group.task_group.tasks[${k}]`, executor));
        consume(c, charged, `${field}.launch_group.executor.resources`, `executor '${executor.executorId?.value ?? ''}'`);
        const ids = records.map((r) => r.taskId);
        for (const r of records) c.plan.tasks.push({ ...r, group: ids });
        c.plan.messages.push({
          message: {
            $case: 'runTaskGroup',
            value: { frameworkInfo: framework.info, executor, taskGroup: { tasks: records.map((r) => r.info) } },
          },
        });
        return;
      }
      case Offer_Operation_Type.RESERVE:
        return resourceOp(c, 'reserve', op.reserve?.resources ?? [], `${field}.reserve.resources`);
      case Offer_Operation_Type.UNRESERVE:
        return resourceOp(c, 'unreserve', op.unreserve?.resources ?? [], `${field}.unreserve.resources`);
      case Offer_Operation_Type.CREATE:
        return resourceOp(c, 'create', op.create?.volumes ?? [], `${field}.create.volumes`);
      case Offer_Operation_Type.DESTROY:
        return resourceOp(c, 'destroy', op.destroy?.volumes ?? [], `${field}.destroy.volumes`);
      default:
        throw new MasterError('INVALID_ARGUMENT', `unknown operation type ${String(op.type)}`, `${field}.type`);
    }
  });
  if (refuse > 0 && !c.remaining.isEmpty()) {
    c.plan.filters.push({ frameworkId: framework.id, agentId, resources: c.remaining, until: now + refuse * 1000 });
  }
  return c.plan;
}
