import { TaskState, TaskStatus_Reason, type RegisterAgent } from '@meso/proto';
import { MasterError } from '../errors.js';
import type { AgentLink } from '../links.js';
import type { Master } from '../master.js';
import { sendPendingKills } from '../calls/task-calls.js';
import { masterStatus } from '../observe/wire-views.js';

/**
 * The removal timeout of an UNREACHABLE agent passed: it is GONE, in the model and the
 * registry, for good. Its tasks that partition-aware frameworks saw UNREACHABLE are now
 * TASK_GONE (reason AGENT_REMOVED); other frameworks already got TASK_LOST, which is
 * terminal for them, and get nothing more (as in Mesos).
 */
export function markGone(master: Master, agentId: string): void {
  const agent = master.model.agents.get(agentId);
  if (!agent || agent.status !== 'UNREACHABLE') return;
  master.cancelRemovalTimer(agentId);
  master.cancelUnreachableTimer(agentId);
  const now = master.now();
  const wereUnreachable = master.model.completedTasks.filter((t) => t.agentId === agentId && t.state === TaskState.TASK_UNREACHABLE);
  master.commitLocal({ type: 'agentGone', agentId, hostname: agent.hostname, at: now });
  master.logger.warn('agent gone: removal timeout passed', { agentId, hostname: agent.hostname });
  sendPendingKills(master, agentId, false); // forgotten: a GONE agent that returns is told to shut everything down
  for (const task of wereUnreachable) {
    const status = masterStatus({
      frameworkId: task.frameworkId,
      taskId: task.taskId,
      agentId,
      executorId: task.executorId,
      state: TaskState.TASK_GONE,
      reason: TaskStatus_Reason.REASON_AGENT_REMOVED,
      message: `agent ${agentId} did not return within the removal timeout`,
      now,
    });
    if (master.sendToFramework(task.frameworkId, { event: { $case: 'update', value: { status } } })) master.metrics.statusUpdatesForwarded++;
  }
}

/**
 * A GONE agent tries to re-register: before the refusal, it is told on its link to shut
 * down every framework it reports (ShutdownFramework, once per framework id found in its
 * tasks, executors and frameworks), so nothing it still runs outlives the decision. Then
 * the registration fails with AGENT_GONE: the agent must register afresh (new id, no tasks).
 */
export function refuseGoneAgent(master: Master, agentId: string, reg: RegisterAgent, link: AgentLink): never {
  const frameworkIds = new Set<string>();
  for (const t of reg.tasks) if (t.frameworkId?.value) frameworkIds.add(t.frameworkId.value);
  for (const e of reg.executors) if (e.frameworkId?.value) frameworkIds.add(e.frameworkId.value);
  for (const f of reg.frameworks) if (f.id?.value) frameworkIds.add(f.id.value);
  for (const frameworkId of frameworkIds) {
    link.send({ message: { $case: 'shutdownFramework', value: { frameworkId: { value: frameworkId } } } });
  }
  master.logger.warn('a gone agent tried to re-register; told to shut down its frameworks and refused', { agentId, frameworks: [...frameworkIds] });
  throw new MasterError(
    'AGENT_GONE',
    `agent '${agentId}' was removed after its removal timeout; shut down its tasks and register as a new agent (no id)`,
    'agent_info.id',
  );
}
