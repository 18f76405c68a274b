import { Resources, TaskState, TaskStatus } from '@meso/proto';
import type { OfferFilter } from '../allocator/types.js';
import type { MasterCommand } from './commands.js';
import { awayTask, executorKey, taskKey, type AgentRecord, type FrameworkRecord, type MasterModel, type TaskRecord } from './model.js';
import { isTerminalState } from './task-states.js';

function addTo(map: Map<string, Resources>, role: string, r: Resources): void {
  map.set(role, (map.get(role) ?? Resources.empty()).add(r));
}

function subtractFrom(map: Map<string, Resources>, role: string, r: Resources): void {
  const next = (map.get(role) ?? Resources.empty()).subtract(r);
  if (next.isEmpty()) map.delete(role);
  else map.set(role, next);
}

function charge(model: MasterModel, agentId: string, frameworkId: string, role: string, r: Resources): void {
  const agent = model.agents.get(agentId);
  if (agent) agent.used = agent.used.add(r);
  const fw = model.frameworks.get(frameworkId);
  if (fw) addTo(fw.used, role, r);
}

function release(model: MasterModel, agentId: string, frameworkId: string, role: string, r: Resources): void {
  const agent = model.agents.get(agentId);
  if (agent) agent.used = agent.used.subtract(r);
  const fw = model.frameworks.get(frameworkId);
  if (fw) subtractFrom(fw.used, role, r);
}

function removeOffer(model: MasterModel, offerId: string): void {
  const offer = model.offers.get(offerId);
  if (!offer) return;
  model.offers.delete(offerId);
  const agent = model.agents.get(offer.agentId);
  if (agent) agent.offered = agent.offered.subtract(offer.resources);
  const fw = model.frameworks.get(offer.frameworkId);
  if (fw) subtractFrom(fw.offered, offer.role, offer.resources);
}

/** Takes a live task out of `tasks` and `tasksByAgent`. */
function unindex(model: MasterModel, key: string): void {
  const task = model.tasks.get(key);
  if (!task) return;
  model.tasks.delete(key);
  const onAgent = model.tasksByAgent.get(task.agentId);
  onAgent?.delete(key);
  if (onAgent?.size === 0) model.tasksByAgent.delete(task.agentId);
}

function complete(model: MasterModel, task: TaskRecord): void {
  unindex(model, taskKey(task.frameworkId, task.taskId));
  release(model, task.agentId, task.frameworkId, task.role, task.resources);
  model.completedTasks.push(task);
  const excess = model.completedTasks.length - model.completedTaskLimit;
  if (excess > 0) model.completedTasks.splice(0, excess);
}

function removeExecutor(model: MasterModel, key: string): void {
  const ex = model.executors.get(key);
  if (!ex) return;
  model.executors.delete(key);
  release(model, ex.agentId, ex.frameworkId, ex.role, ex.resources);
}

function addTask(model: MasterModel, task: TaskRecord): void {
  const key = taskKey(task.frameworkId, task.taskId);
  unindex(model, key);
  model.tasks.set(key, task);
  const onAgent = model.tasksByAgent.get(task.agentId) ?? new Map<string, TaskRecord>();
  onAgent.set(key, task);
  model.tasksByAgent.set(task.agentId, onAgent);
  charge(model, task.agentId, task.frameworkId, task.role, task.resources);
  const i = model.completedTasks.findIndex((t) => t.frameworkId === task.frameworkId && t.taskId === task.taskId);
  if (i >= 0) model.completedTasks.splice(i, 1);
}

/** Drops the expired filters and adds the command's live, non-empty ones. */
function refreshFilters(model: MasterModel, added: readonly OfferFilter[], now: number): void {
  model.filters.expire(now);
  for (const f of added) if (f.until > now && !f.resources.isEmpty()) model.filters.add(f);
}

function recordStatus(task: TaskRecord, status: TaskStatus, latestState: TaskState | undefined): void {
  const effective = latestState !== undefined && latestState !== TaskState.TASK_STATE_UNSPECIFIED ? latestState : status.state;
  task.state = effective;
  task.statuses.push({ state: status.state, timestamp: status.timestamp });
  task.latestStatus = status;
  const sandbox = status.containerStatus?.sandbox;
  if (sandbox) task.sandbox = sandbox;
  if (status.uuid) task.unacknowledged = { state: status.state, uuid: status.uuid };
}

function emptyStatus(): TaskStatus {
  return TaskStatus.fromPartial({});
}

function newFramework(info: MasterCommand & { type: 'frameworkRecovered' }): FrameworkRecord {
  return {
    id: info.info.id?.value ?? '',
    info: info.info,
    connected: false,
    suppressedRoles: new Set(),
    registeredTime: info.registeredTime,
    ...(info.unregisteredTime !== undefined ? { unregisteredTime: info.unregisteredTime } : {}),
    used: new Map(),
    offered: new Map(),
  };
}

function admitAgent(model: MasterModel, cmd: MasterCommand & { type: 'agentAdmitted' }): void {
  const prev = model.agents.get(cmd.agent.id);
  const agent: AgentRecord = {
    ...cmd.agent,
    used: prev?.used ?? Resources.empty(),
    offered: prev?.offered ?? Resources.empty(),
    status: 'ACTIVE',
    registeredTime: prev?.registeredTime ?? cmd.at,
    ...(cmd.reregistered ? { reregisteredTime: cmd.at } : {}),
    ...(prev?.maintenance ? { maintenance: prev.maintenance } : {}),
  };
  model.agents.set(agent.id, agent);
  for (const reported of cmd.tasks) {
    const known = model.tasks.get(taskKey(reported.frameworkId, reported.taskId));
    if (known) {
      if (isTerminalState(reported.state)) {
        recordStatus(known, { ...(known.latestStatus ?? emptyStatus()), state: reported.state, timestamp: cmd.at / 1000, uuid: '' }, undefined);
        complete(model, known);
        continue;
      }
      if (known.state !== reported.state) {
        known.state = reported.state;
        known.statuses.push({ state: reported.state, timestamp: cmd.at / 1000 });
      }
      known.sent = true;
      if (reported.sandbox) known.sandbox = reported.sandbox;
    } else if (!isTerminalState(reported.state)) {
      addTask(model, reported);
    } else {
      // Ended while the agent was away: record the end the agent reports (released already).
      const away = awayTask(model, reported.frameworkId, reported.taskId);
      if (away) recordStatus(away, { ...(reported.latestStatus ?? away.latestStatus ?? emptyStatus()), state: reported.state, timestamp: cmd.at / 1000, uuid: '' }, undefined);
    }
  }
  const reportedExecutors = new Set(cmd.executors.map((e) => executorKey(e.agentId, e.frameworkId, e.executorId)));
  for (const [key, ex] of model.executors) {
    if (ex.agentId === agent.id && !reportedExecutors.has(key)) removeExecutor(model, key);
  }
  for (const ex of cmd.executors) {
    const key = executorKey(ex.agentId, ex.frameworkId, ex.executorId);
    if (model.executors.has(key)) continue;
    model.executors.set(key, ex);
    charge(model, ex.agentId, ex.frameworkId, ex.role, ex.resources);
  }
}

/**
 * Commands that change no task record (state, statuses, sandbox, resources...) and neither
 * `tasks` nor `completedTasks` (an acknowledgement only clears `unacknowledged`): they leave
 * `tasksVersion` as it is. A command not listed moves it.
 */
const LEAVE_TASKS_ALONE: ReadonlySet<MasterCommand['type']> = new Set<MasterCommand['type']>([
  'offersCreated',
  'offersRemoved',
  'agentUsageReported',
  'statusAcknowledged',
  'rolesSuppressed',
  'rolesRevived',
  'weightsSet',
  'quotaSet',
  'agentResourcesUpdated',
  'agentMaintenanceSet',
  'agentDisconnected',
  'agentUnreachable',
  'agentRecovered',
  'frameworkSubscribed',
  'frameworkRecovered',
  'frameworkDisconnected',
  'frameworkUpdated',
  'frameworkRemovalRecovered',
  'executorRemoved',
]);

/**
 * The one write path of the master's in-memory state: carries out a command. Pure with
 * respect to I/O (no sends, no timers, no disk); what to tell agents and frameworks is
 * decided by the caller from the same command. Unknown ids are ignored, so replaying or
 * racing commands cannot corrupt the accounting: a task's resources are released exactly
 * once, when it first reaches a terminal state.
 */
export function apply(model: MasterModel, cmd: MasterCommand): void {
  model.version++;
  if (cmd.type !== 'agentUsageReported' && cmd.type !== 'statusAcknowledged') model.allocationVersion++;
  if (!LEAVE_TASKS_ALONE.has(cmd.type)) model.tasksVersion++;
  switch (cmd.type) {
    case 'agentAdmitted':
      admitAgent(model, cmd);
      return;
    case 'agentDisconnected':
    case 'agentUnreachable': {
      const agent = model.agents.get(cmd.agentId);
      if (!agent) return;
      agent.status = cmd.type === 'agentDisconnected' ? 'DISCONNECTED' : 'UNREACHABLE';
      if (cmd.type === 'agentUnreachable') agent.unreachableTime = cmd.at;
      for (const offer of [...model.offers.values()]) if (offer.agentId === agent.id) removeOffer(model, offer.id);
      if (cmd.type === 'agentUnreachable') {
        for (const [key, ex] of model.executors) if (ex.agentId === agent.id) removeExecutor(model, key);
      }
      return;
    }
    case 'agentRecovered':
      if (model.agents.has(cmd.agentId)) return;
      model.agents.set(cmd.agentId, {
        id: cmd.agentId,
        hostname: cmd.hostname,
        endpoint: cmd.endpoint,
        version: '',
        bootId: '',
        attributes: [],
        total: Resources.empty(),
        used: Resources.empty(),
        offered: Resources.empty(),
        status: cmd.status,
        registeredTime: cmd.admittedTime,
        ...(cmd.unreachableTime !== undefined ? { unreachableTime: cmd.unreachableTime } : {}),
        ...(cmd.maintenance ? { maintenance: cmd.maintenance } : {}),
      });
      return;
    case 'agentGone': {
      for (const offer of [...model.offers.values()]) if (offer.agentId === cmd.agentId) removeOffer(model, offer.id);
      for (const [key, ex] of model.executors) if (ex.agentId === cmd.agentId) removeExecutor(model, key);
      for (const task of [...model.tasks.values()]) {
        if (task.agentId !== cmd.agentId) continue;
        task.state = TaskState.TASK_GONE;
        task.statuses.push({ state: TaskState.TASK_GONE, timestamp: cmd.at / 1000 });
        complete(model, task);
      }
      for (const task of model.completedTasks) {
        if (task.agentId !== cmd.agentId || task.state !== TaskState.TASK_UNREACHABLE) continue;
        task.state = TaskState.TASK_GONE;
        task.statuses.push({ state: TaskState.TASK_GONE, timestamp: cmd.at / 1000 });
      }
      model.agents.delete(cmd.agentId);
      model.goneAgents.set(cmd.agentId, { id: cmd.agentId, hostname: cmd.hostname, goneTime: cmd.at });
      return;
    }
    case 'agentMaintenanceSet': {
      const agent = model.agents.get(cmd.agentId);
      if (!agent) return;
      if (cmd.maintenance) agent.maintenance = cmd.maintenance;
      else delete agent.maintenance;
      if (cmd.maintenance) for (const offer of [...model.offers.values()]) if (offer.agentId === agent.id) removeOffer(model, offer.id);
      return;
    }
    case 'frameworkSubscribed': {
      const id = cmd.info.id?.value ?? '';
      const fw = model.frameworks.get(id) ?? newFramework({ type: 'frameworkRecovered', info: cmd.info, registeredTime: cmd.at });
      fw.info = cmd.info;
      fw.connected = true;
      fw.streamId = cmd.streamId;
      fw.suppressedRoles = new Set(cmd.suppressedRoles);
      delete fw.unregisteredTime;
      model.frameworks.set(id, fw);
      return;
    }
    case 'frameworkRecovered': {
      const id = cmd.info.id?.value ?? '';
      if (!model.frameworks.has(id)) model.frameworks.set(id, newFramework(cmd));
      return;
    }
    case 'frameworkDisconnected': {
      const fw = model.frameworks.get(cmd.frameworkId);
      if (!fw) return;
      fw.connected = false;
      delete fw.streamId;
      fw.unregisteredTime = cmd.at;
      for (const offer of [...model.offers.values()]) if (offer.frameworkId === fw.id) removeOffer(model, offer.id);
      return;
    }
    case 'frameworkUpdated': {
      const fw = model.frameworks.get(cmd.info.id?.value ?? '');
      if (!fw) return;
      fw.info = cmd.info;
      if (cmd.suppressedRoles) fw.suppressedRoles = new Set(cmd.suppressedRoles);
      const roles = new Set(cmd.info.roles);
      for (const offer of [...model.offers.values()]) {
        if (offer.frameworkId === fw.id && !roles.has(offer.role)) removeOffer(model, offer.id);
      }
      return;
    }
    case 'frameworkRemoved': {
      const fw = model.frameworks.get(cmd.frameworkId);
      for (const offer of [...model.offers.values()]) if (offer.frameworkId === cmd.frameworkId) removeOffer(model, offer.id);
      for (const task of [...model.tasks.values()]) {
        if (task.frameworkId !== cmd.frameworkId) continue;
        task.state = TaskState.TASK_KILLED;
        task.statuses.push({ state: TaskState.TASK_KILLED, timestamp: cmd.at / 1000 });
        complete(model, task);
      }
      for (const [key, ex] of model.executors) if (ex.frameworkId === cmd.frameworkId) removeExecutor(model, key);
      model.filters.removeFramework(cmd.frameworkId);
      model.frameworks.delete(cmd.frameworkId);
      model.removedFrameworks.set(cmd.frameworkId, { id: cmd.frameworkId, name: fw?.info.name ?? '', removedTime: cmd.at });
      return;
    }
    case 'frameworkRemovalRecovered':
      model.removedFrameworks.set(cmd.frameworkId, { id: cmd.frameworkId, name: cmd.name, removedTime: cmd.removedTime });
      return;
    case 'offersCreated':
      for (const offer of cmd.offers) {
        const agent = model.agents.get(offer.agentId);
        const fw = model.frameworks.get(offer.frameworkId);
        if (!agent || !fw) continue;
        model.offers.set(offer.id, offer);
        agent.offered = agent.offered.add(offer.resources);
        addTo(fw.offered, offer.role, offer.resources);
      }
      return;
    case 'offersRemoved':
      for (const id of cmd.offerIds) removeOffer(model, id);
      refreshFilters(model, cmd.filters, cmd.at);
      return;
    case 'rolesSuppressed': {
      const fw = model.frameworks.get(cmd.frameworkId);
      if (fw) for (const role of cmd.roles) fw.suppressedRoles.add(role);
      return;
    }
    case 'rolesRevived': {
      const fw = model.frameworks.get(cmd.frameworkId);
      if (fw) for (const role of cmd.roles) fw.suppressedRoles.delete(role);
      model.filters.removeFramework(cmd.frameworkId);
      return;
    }
    case 'tasksLaunched':
      for (const id of cmd.offerIds) removeOffer(model, id);
      for (const ex of cmd.executors) {
        const key = executorKey(ex.agentId, ex.frameworkId, ex.executorId);
        if (model.executors.has(key)) continue;
        model.executors.set(key, ex);
        charge(model, ex.agentId, ex.frameworkId, ex.role, ex.resources);
      }
      for (const task of cmd.tasks) addTask(model, task);
      refreshFilters(model, cmd.filters, cmd.at);
      return;
    case 'statusUpdated': {
      const task = model.tasks.get(taskKey(cmd.frameworkId, cmd.taskId));
      if (task) {
        recordStatus(task, cmd.status, cmd.latestState);
        if (isTerminalState(task.state)) complete(model, task);
        return;
      }
      // A task given up on while its agent was away (UNREACHABLE / LOST): a terminal update —
      // the agent's, or the master's verdict once the agent is back without it — wins. Its
      // resources were released when it was given up on: the end is only recorded. (A task
      // the agent still runs comes back through its re-registration, adopted again.)
      const away = awayTask(model, cmd.frameworkId, cmd.taskId);
      const effective = cmd.latestState !== undefined && cmd.latestState !== TaskState.TASK_STATE_UNSPECIFIED ? cmd.latestState : cmd.status.state;
      if (away && isTerminalState(effective)) recordStatus(away, cmd.status, cmd.latestState);
      return;
    }
    case 'statusAcknowledged': {
      const key = taskKey(cmd.frameworkId, cmd.taskId);
      const task = model.tasks.get(key) ?? model.completedTasks.find((t) => t.frameworkId === cmd.frameworkId && t.taskId === cmd.taskId);
      if (task?.unacknowledged?.uuid === cmd.uuid) delete task.unacknowledged;
      return;
    }
    case 'executorRemoved':
      removeExecutor(model, executorKey(cmd.agentId, cmd.frameworkId, cmd.executorId));
      return;
    case 'weightsSet':
      for (const w of cmd.weights) model.weights.set(w.role, { weight: w.weight, source: cmd.source });
      return;
    case 'quotaSet':
      if (cmd.limits.isEmpty()) model.quotas.delete(cmd.role);
      else model.quotas.set(cmd.role, cmd.limits);
      return;
    case 'agentResourcesUpdated': {
      const agent = model.agents.get(cmd.agentId);
      if (!agent) return;
      agent.staticResources ??= agent.total;
      agent.checkpointed = cmd.checkpointed;
      agent.total = cmd.total;
      return;
    }
    case 'agentUsageReported': {
      const agent = model.agents.get(cmd.agentId);
      if (agent) agent.usage = cmd.usage;
      return;
    }
  }
}
