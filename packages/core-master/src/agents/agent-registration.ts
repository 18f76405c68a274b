import {
  attributesFromWire,
  FrameworkInfo,
  ResourceError,
  Resources,
  resourcesFromWire,
  TaskInfo,
  TaskState,
  TaskStatus_Reason,
  type RegisterAgent,
  type Task,
} from '@meso/proto';
import { isMasterError, MasterError, protocolCodeOf } from '../errors.js';
import type { AgentLink } from '../links.js';
import type { MasterCommand } from '../model/commands.js';
import type { AgentConnection, Master } from '../master.js';
import { answerDeferredCalls, masterUpdate, sendPendingKills } from '../calls/task-calls.js';
import { awayTask, taskKey, tasksOnAgent, type ExecutorRecord, type TaskRecord } from '../model/model.js';
import { isTerminalState } from '../model/task-states.js';
import { masterStatus } from '../observe/wire-views.js';
import { agentLinkClosed, startPinging } from './agent-health.js';
import { refuseGoneAgent } from './agent-removal.js';
import { killTasksForDrain } from './maintenance.js';
import { registeredResources } from '../reservations/agent-total.js';

function agentResources(reg: RegisterAgent): Resources {
  let total: Resources;
  try {
    total = resourcesFromWire(reg.agentInfo?.resources ?? [], 'agent_info.resources');
  } catch (e) {
    if (e instanceof ResourceError) throw new MasterError('INVALID_RESOURCES', e.reason, e.field, { cause: e });
    throw e;
  }
  for (const name of ['cpus', 'mem']) {
    if (total.scalar(name) <= 0) throw new MasterError('INVALID_RESOURCES', `an agent must have ${name} (got ${total.toString() || 'nothing'})`, 'agent_info.resources');
  }
  return total;
}

function safeResources(list: Task['resources']): Resources {
  try {
    return resourcesFromWire(list);
  } catch {
    return Resources.empty();
  }
}

/**
 * The TaskInfo of a reported task. Its resources and labels are the decoded message's own
 * (nothing else holds them), not deep copies: at 100k tasks re-registering after a restart,
 * copying them through fromPartial was a tenth of the master's registration work.
 */
function taskInfoOf(t: Task, taskId: string, agentId: string): TaskInfo {
  const info = TaskInfo.fromPartial({ name: t.name, taskId: { value: taskId }, agentId: { value: agentId } });
  info.resources = t.resources;
  info.labels = t.labels;
  return info;
}

/** Builds the task records of what a re-registering agent reports, for adoption. */
function reportedTasks(master: Master, agentId: string, reg: RegisterAgent, removed: Set<string>): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const t of reg.tasks) {
    const frameworkId = t.frameworkId?.value ?? '';
    const taskId = t.taskId?.value ?? '';
    if (!frameworkId || !taskId) continue;
    if (master.model.removedFrameworks.has(frameworkId)) {
      removed.add(frameworkId);
      continue;
    }
    if (!master.model.frameworks.has(frameworkId)) {
      // A framework the master has not seen (e.g. from another registry): known from the
      // agent's report, disconnected until it subscribes, removed after its failover timeout.
      const reported = reg.frameworks.find((f) => f.id?.value === frameworkId);
      const info = FrameworkInfo.fromPartial({ ...(reported ?? {}), id: { value: frameworkId }, roles: reported?.roles.length ? reported.roles : [t.role || '*'] });
      master.commitLocal({ type: 'frameworkRecovered', info, registeredTime: master.now() });
      master.commitLocal({ type: 'frameworkDisconnected', frameworkId, at: master.now() }); // durable, timeout from now
      master.startFailoverTimer(frameworkId);
    }
    const fw = master.model.frameworks.get(frameworkId);
    const last = t.statuses[t.statuses.length - 1];
    out.push({
      frameworkId,
      taskId,
      agentId,
      executorId: t.executorId?.value ?? '',
      name: t.name,
      role: t.role || fw?.info.roles[0] || '*',
      info: taskInfoOf(t, taskId, agentId),
      state: t.state === TaskState.TASK_STATE_UNSPECIFIED ? TaskState.TASK_RUNNING : t.state,
      resources: safeResources(t.resources),
      statuses: t.statuses.map((s) => ({ state: s.state, timestamp: s.timestamp })),
      ...(last ? { latestStatus: last } : {}),
      sandbox: t.sandbox,
      sent: true,
    });
  }
  return out;
}

function reportedExecutors(master: Master, agentId: string, reg: RegisterAgent): ExecutorRecord[] {
  return reg.executors
    .filter((e) => e.executorId?.value && e.frameworkId?.value && master.model.frameworks.has(e.frameworkId.value))
    .map((e) => ({
      frameworkId: e.frameworkId?.value ?? '',
      agentId,
      executorId: e.executorId?.value ?? '',
      role: master.model.frameworks.get(e.frameworkId?.value ?? '')?.info.roles[0] ?? '*',
      info: e,
      resources: safeResources(e.resources),
    }));
}

/**
 * Admits an agent on its link: a new one (empty id) gets `<masterId>-S<n>`; a returning one
 * keeps its id (known or not: the master may have restarted) and its reported tasks are
 * adopted. Tasks the master had on it that it no longer reports, live or UNREACHABLE, are
 * LOST (DROPPED for partition-aware frameworks); reported tasks whose state the master saw otherwise (e.g.
 * LOST while the agent was unreachable) are sent to their frameworks again.
 * Sends `registered` on the link and starts pinging. Throws MasterError (the caller
 * answers `refused`) for bad input, and AGENT_GONE for an agent removed after its removal
 * timeout (told first to shut down the frameworks it reports).
 *
 * As Mesos's registrar, the registry is written first: when the agent's registry document
 * changes (a new agent, one returning from UNREACHABLE, a new endpoint), nothing happens
 * until that write is durable (the agent is neither in the model as ACTIVE nor answered;
 * a burst of such writes shares one fsync through the store's group commit), then the
 * agent is admitted as above (or refused, answered `refused` on the link). An agent
 * re-registering unchanged after a master restart has nothing to write and is admitted at once.
 */
export function registerAgent(master: Master, reg: RegisterAgent, link: AgentLink): string {
  const info = reg.agentInfo;
  if (!info) throw new MasterError('INVALID_ARGUMENT', 'agent_info is required', 'agent_info');
  if (!info.hostname) throw new MasterError('INVALID_ARGUMENT', 'hostname is required', 'agent_info.hostname');
  const { total, staticResources, checkpointed } = registeredResources(agentResources(reg), reg.checkpointedResources);
  const reregistered = !!info.id?.value;
  const agentId = info.id?.value || master.ids.agentId();
  const now = master.now();
  if (master.model.goneAgents.has(agentId)) refuseGoneAgent(master, agentId, reg, link);
  const agent: AdmittedAgent = { id: agentId, hostname: info.hostname, endpoint: info.endpoint, version: info.version, bootId: info.bootId, attributes: attributesFromWire(info.attributes), total, isolators: [...info.isolators], staticResources, checkpointed };
  const durable = master.persistAgentAhead(agent, now);
  if (!durable) {
    admit(master, reg, link, agent, now);
    return agentId;
  }
  const admission = { closed: false };
  master.admissions.set(link, admission);
  durable.then(
    () => {
      master.admissions.delete(link);
      if (master.isClosed) return;
      try {
        if (master.model.goneAgents.has(agentId)) refuseGoneAgent(master, agentId, reg, link); // gone while written
        admit(master, reg, link, agent, now);
      } catch (e) {
        refuse(master, link, e);
        return;
      }
      // Its link closed while it was written: admitted (as the registry has it), then disconnected.
      if (admission.closed) master.safely('closing an agent link', () => agentLinkClosed(master, agentId, link));
    },
    (e: unknown) => {
      master.admissions.delete(link);
      refuse(master, link, new MasterError('INTERNAL', `the registry could not be written: ${(e as Error)?.message}`, undefined, { cause: e }));
    },
  );
  return agentId;
}

/** Answers `refused` on a link whose registration failed after the registry write. */
function refuse(master: Master, link: AgentLink, e: unknown): void {
  if (!isMasterError(e)) master.logger.error('agent registration failed unexpectedly', { error: e, stack: (e as Error)?.stack });
  const code = isMasterError(e) ? protocolCodeOf(e) : 'INTERNAL';
  master.metrics.countError(code);
  try {
    link.send({ message: { $case: 'refused', value: { code, message: isMasterError(e) ? e.reason : 'internal error during registration', field: isMasterError(e) ? (e.field ?? '') : '' } } });
    link.close();
  } catch {
    /* already closed */
  }
}

/** The agent's record in an `agentAdmitted` command. */
type AdmittedAgent = Extract<MasterCommand, { type: 'agentAdmitted' }>['agent'];

/** The admission proper, once the registry has the agent. */
function admit(master: Master, reg: RegisterAgent, link: AgentLink, agent: AdmittedAgent, now: number): void {
  const agentId = agent.id;
  const reregistered = !!reg.agentInfo?.id?.value;
  const previous = master.agentConnections.get(agentId);
  if (previous) {
    master.options.clock.clearTimeout(previous.pingTimer);
    master.agentConnections.delete(agentId);
    try {
      previous.link.close();
    } catch {
      /* already closed */
    }
  }
  master.cancelUnreachableTimer(agentId);
  master.cancelRemovalTimer(agentId);
  master.rescindWhere((o) => o.agentId === agentId, 'agent re-registered');

  const removed = new Set<string>();
  const tasks = reregistered ? reportedTasks(master, agentId, reg, removed) : [];
  const keys = tasks.map((t) => taskKey(t.frameworkId, t.taskId)); // made once per task (100k after a restart)
  const reportedKeys = new Set(keys);
  // Live tasks, and tasks given up on while the agent was away (TASK_UNREACHABLE: they would
  // stay UNREACHABLE forever); those LOST to frameworks that are not partition-aware already
  // had their terminal update.
  const unreported = [
    ...tasksOnAgent(master.model, agentId),
    ...master.model.completedTasks.filter((t) => t.state === TaskState.TASK_UNREACHABLE && awayTask(master.model, t.frameworkId, t.taskId) === t),
  ];
  for (const task of unreported) {
    if (task.agentId !== agentId || reportedKeys.has(taskKey(task.frameworkId, task.taskId))) continue;
    const fw = master.model.frameworks.get(task.frameworkId);
    masterUpdate(
      master,
      masterStatus({
        frameworkId: task.frameworkId,
        taskId: task.taskId,
        agentId,
        executorId: task.executorId,
        state: master.isPartitionAware(fw) ? TaskState.TASK_DROPPED : TaskState.TASK_LOST,
        reason: TaskStatus_Reason.REASON_RECONCILIATION,
        message: 'the re-registered agent does not know this task',
        now,
      }),
    );
  }
  // Tasks of an agent given up on (even by an earlier master) were reported LOST/UNREACHABLE
  // to their frameworks: seen again, they are news even when this master never knew them.
  const wasUnreachable = master.model.agents.get(agentId)?.status === 'UNREACHABLE';
  // The latest completed record per task, made once and only when a reported task is not live.
  let completed: Map<string, TaskRecord> | undefined;
  const completedByKey = (): Map<string, TaskRecord> => (completed ??= new Map(master.model.completedTasks.map((c) => [taskKey(c.frameworkId, c.taskId), c])));
  const before = keys.map((key) => (master.model.tasks.get(key) ?? completedByKey().get(key))?.state);

  const settled = [...reportedKeys, ...unreported.filter((t) => t.agentId === agentId).map((t) => taskKey(t.frameworkId, t.taskId))];
  master.commitLocal({
    type: 'agentAdmitted',
    agent,
    reregistered,
    tasks,
    executors: reregistered ? reportedExecutors(master, agentId, reg) : [],
    at: now,
  });
  const conn: AgentConnection = { link, missed: 0, awaitingPong: false, seq: 0 };
  master.agentConnections.set(agentId, conn);
  link.send({
    message: {
      $case: 'registered',
      value: {
        agentId: { value: agentId },
        masterId: master.masterId,
        pingIntervalSeconds: master.options.agentPingIntervalSeconds,
        maxMissedPings: master.options.maxMissedPings,
      },
    },
  });
  for (const frameworkId of removed) {
    master.sendToAgent(agentId, { message: { $case: 'shutdownFramework', value: { frameworkId: { value: frameworkId } } } });
  }
  sendPendingKills(master, agentId);
  for (const [i, t] of tasks.entries()) {
    const was = before[i];
    if ((was === undefined && !wasUnreachable) || was === t.state || isTerminalState(t.state)) continue;
    const status = masterStatus({
      frameworkId: t.frameworkId,
      taskId: t.taskId,
      agentId,
      executorId: t.executorId,
      state: t.state,
      reason: TaskStatus_Reason.REASON_UNSPECIFIED,
      message: `agent ${agentId} re-registered with the task`,
      now,
    });
    if (t.sandbox) status.containerStatus = { sandbox: t.sandbox, executorPid: 0 };
    if (master.sendToFramework(t.frameworkId, { event: { $case: 'update', value: { status } } })) master.metrics.statusUpdatesForwarded++;
  }
  startPinging(master, agentId, conn);
  if (master.model.agents.get(agentId)?.maintenance === 'DRAINING') killTasksForDrain(master, agentId);
  answerDeferredCalls(master, { agentId, taskKeys: settled });
  master.logger.info(reregistered ? 'agent re-registered' : 'agent registered', { agentId, hostname: agent.hostname, resources: agent.total.toString(), tasks: tasks.length });
  // While agents are still coming back after a master restart, the periodic cycle (every
  // allocationIntervalMs) offers them: a cycle per registration burst, each over every agent,
  // took half of a 10k-agent master's time and slowed the re-registrations themselves.
  if (!master.recovering) master.requestAllocation();
}
