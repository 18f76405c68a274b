// Status updates of the tasks of executor runs: those executors send (stamped, checkpointed
// by the status update manager, then ACKNOWLEDGED to the executor) and those the agent
// writes itself (a task it could not launch or that its executor left behind).
import { TaskStatus_Source, type ExecutorUpdateRequest, type StatusUpdate, type TaskState, type TaskStatus_Reason } from '@meso/proto';
import { agentUpdate } from './agent-updates.js';
import { limitationNow, resizeIsolation } from './isolation/run-isolation.js';
import { checkpoint, push, refuse, type ManagerState } from './manager-state.js';
import { pairKey, type ExecutorRun } from './runs.js';
import { isTerminal, stateName } from './task-states.js';

/** At most this many finished tasks are remembered (to ignore late kills and updates quietly). */
const MAX_FINISHED = 10_000;

/** The tail of each run's chain of updates being taken in. */
const intake = new WeakMap<ExecutorRun, Promise<unknown>>();

/**
 * An update from the run's executor: stamped with the sandbox and pid, checkpointed, then
 * acknowledged. Updates of a run are taken in one at a time, in the order they arrived
 * (the updates a re-subscribing executor re-sends, then its later UPDATE calls): a live
 * state waits for its run checkpoint, so taking them in concurrently would let a later
 * terminal update reach the status update manager before the earlier ones.
 */
export function acceptUpdate(m: ManagerState, run: ExecutorRun, request: ExecutorUpdateRequest): Promise<void> {
  const next = (intake.get(run) ?? Promise.resolve()).then(() => takeIn(m, run, request));
  intake.set(run, next.catch(() => undefined));
  return next;
}

async function takeIn(m: ManagerState, run: ExecutorRun, request: ExecutorUpdateRequest): Promise<void> {
  const status = request.status;
  const taskId = status?.taskId?.value ?? '';
  if (!status || taskId === '') throw refuse('INVALID_ARGUMENT', 'status.task_id is required', 'status.task_id');
  if (!status.uuid) throw refuse('INVALID_ARGUMENT', 'status.uuid is required (a fresh one per update)', 'status.uuid');
  const key = pairKey(run.frameworkId, taskId);
  const known = run.tasks.has(taskId) || m.finished.has(key) || m.o.updates.hasPending(run.frameworkId, taskId) || m.o.updates.isTerminated(run.frameworkId, taskId);
  if (!known) throw refuse('UNKNOWN_TASK', `task '${taskId}' is not a task of executor '${run.executorId}'`, 'status.task_id');
  const stamped: StatusUpdate = {
    frameworkId: { value: run.frameworkId },
    executorId: { value: run.executorId },
    status: {
      ...status,
      source: TaskStatus_Source.SOURCE_EXECUTOR,
      agentId: { value: m.o.agentId() },
      executorId: { value: run.executorId },
      frameworkId: { value: run.frameworkId },
      timestamp: status.timestamp > 0 ? status.timestamp : m.o.clock.now() / 1000,
      containerStatus: { sandbox: run.sandbox, executorPid: run.container?.pid ?? 0 },
    },
    latestState: status.state,
  };
  // A new live state is in the run's checkpoint before the update can reach the framework,
  // so a restarted agent never re-registers the task in an older state than it reported.
  const record = run.tasks.get(taskId);
  if (record && record.state !== status.state && !isTerminal(status.state) && !m.o.updates.isKnown(run.frameworkId, taskId, status.uuid)) {
    record.state = status.state;
    record.launched = true;
    await checkpoint(m, run);
  }
  // A task that died of its container's limit (the kernel's OOM killer) fails of the limitation, not of its signal.
  if (record && isTerminal(status.state) && (await limitationNow(m, run))) {
    push(m, run, { event: { $case: 'acknowledged', value: { taskId: { value: taskId }, uuid: status.uuid } } });
    return;
  }
  const outcome = await m.o.updates.update(stamped);
  // A terminal update already known (the executor re-sent it after an agent restart that
  // came before the run checkpoint caught up) still ends the task in its run, else the run
  // would fail it again when the executor exits.
  if (outcome === 'accepted' || isTerminal(status.state)) recordState(m, run, taskId, status.state);
  m.o.logger.debug('status update from executor', { taskId, state: stateName(status.state), outcome });
  push(m, run, { event: { $case: 'acknowledged', value: { taskId: { value: taskId }, uuid: status.uuid } } });
}

/** A terminal update written by the agent for a live task of a run. */
export async function settleTask(m: ManagerState, run: ExecutorRun, taskId: string, state: TaskState, reason: TaskStatus_Reason, message: string): Promise<void> {
  const record = run.tasks.get(taskId);
  if (!record || isTerminal(record.state)) return;
  await agentTaskUpdate(m, run.frameworkId, run.executorId, taskId, state, reason, message, run);
  recordState(m, run, taskId, state);
}

/** An update written by the agent (source AGENT), checkpointed and sent like any other. */
export async function agentTaskUpdate(
  m: ManagerState,
  frameworkId: string,
  executorId: string,
  taskId: string,
  state: TaskState,
  reason: TaskStatus_Reason,
  message: string,
  run?: ExecutorRun,
): Promise<void> {
  if (taskId === '') return;
  const update = agentUpdate({
    agentId: m.o.agentId(),
    frameworkId,
    executorId,
    taskId,
    state,
    reason,
    message,
    timestamp: m.o.clock.now() / 1000,
    ...(run ? { sandbox: run.sandbox, executorPid: run.container?.pid ?? 0 } : {}),
  });
  m.o.logger.info('task update from the agent', { frameworkId, taskId, state: stateName(state), message });
  try {
    await m.o.updates.update(update);
  } catch (e) {
    m.o.logger.error('could not checkpoint a status update', { taskId, error: (e as Error).message });
  }
}

/** Records a task's latest state; a terminal one removes the task from its run. */
export function recordState(m: ManagerState, run: ExecutorRun, taskId: string, state: TaskState): void {
  const record = run.tasks.get(taskId);
  if (!record) return;
  const changed = record.state !== state || !record.launched;
  record.state = state;
  record.launched = true;
  if (!isTerminal(state)) {
    // A restarted agent reports the task in this state until its executor says more.
    if (changed && run.phase !== 'terminated') void checkpoint(m, run);
    return;
  }
  run.tasks.delete(taskId);
  resizeIsolation(m, run);
  // Once the run checkpoint no longer lists the task, its acknowledged terminal update needs no tombstone.
  if (run.phase !== 'terminated') void checkpoint(m, run).then(() => m.o.updates.runSettled(run.frameworkId, taskId));
  const key = pairKey(run.frameworkId, taskId);
  if (m.taskIndex.get(key) === run) m.taskIndex.delete(key);
  m.finished.add(key);
  if (m.finished.size > MAX_FINISHED) {
    const oldest = m.finished.values().next().value;
    if (oldest !== undefined) m.finished.delete(oldest);
  }
}
