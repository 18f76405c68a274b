import { TaskState, TaskStatus_Reason } from '@meso/proto';
import { masterUpdate } from '../calls/task-calls.js';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { agentDisplayStatus, type AgentRecord } from '../model/model.js';
import { masterStatus } from '../observe/wire-views.js';

/** What an operator can ask of an agent. */
export type MaintenanceAction = 'drain' | 'deactivate' | 'reactivate';

/** The answer: the agent and the status operators now see (e.g. DRAINING, DRAINED, DEACTIVATED, ACTIVE). */
export interface MaintenanceResult {
  agentId: string;
  status: string;
}

function agentFor(master: Master, agentId: string, field: string): AgentRecord {
  if (!agentId) throw new MasterError('INVALID_ARGUMENT', 'an agent id is required', field);
  const agent = master.model.agents.get(agentId);
  if (agent) return agent;
  if (master.model.goneAgents.has(agentId)) throw new MasterError('UNKNOWN_AGENT', `agent '${agentId}' is gone (removed after its removal timeout)`, field);
  throw new MasterError('UNKNOWN_AGENT', `agent '${agentId}' is not known`, field);
}

/**
 * Kills every live task on a draining agent, gracefully (its kill policy): KillTask when the
 * agent has the task and is linked (the agent's TASK_KILLED is forwarded with reason
 * AGENT_DRAINING); a task never delivered, or on an agent not linked now, is answered
 * TASK_KILLED by the master (reason AGENT_DRAINING). Unlinked agents are killed again when
 * they re-register, as they are still draining.
 */
export function killTasksForDrain(master: Master, agentId: string): void {
  const now = master.now();
  const linked = master.agentConnections.has(agentId);
  for (const task of [...master.model.tasks.values()]) {
    if (task.agentId !== agentId) continue;
    if (task.sent && linked) {
      master.sendToAgent(agentId, {
        message: { $case: 'killTask', value: { frameworkId: { value: task.frameworkId }, taskId: { value: task.taskId }, killPolicy: task.info.killPolicy } },
      });
    } else if (!task.sent) {
      masterUpdate(
        master,
        masterStatus({ frameworkId: task.frameworkId, taskId: task.taskId, agentId, executorId: task.executorId, state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_AGENT_DRAINING, message: `agent ${agentId} is draining`, now }),
      );
    }
  }
}

/**
 * DRAIN: no more offers to the agent (outstanding ones rescinded) and its tasks killed
 * gracefully; status DRAINING, then DRAINED once nothing runs. DEACTIVATE: no more offers,
 * tasks keep running. REACTIVATE: offered again. Persisted in the registry; a restarted
 * master keeps the mode. Unknown (or gone) agents are UNKNOWN_AGENT naming `field`.
 */
export async function setMaintenance(master: Master, action: MaintenanceAction, agentId: string, field = 'agent_id'): Promise<MaintenanceResult> {
  const agent = agentFor(master, agentId, field);
  const maintenance = action === 'drain' ? 'DRAINING' : action === 'deactivate' ? 'DEACTIVATED' : undefined;
  if (maintenance) master.rescindWhere((o) => o.agentId === agentId, action === 'drain' ? 'agent draining' : 'agent deactivated');
  const persisted = master.commit({ type: 'agentMaintenanceSet', agentId, maintenance, at: master.now() });
  master.logger.info(`agent ${action}`, { agentId });
  if (action === 'drain') killTasksForDrain(master, agentId);
  master.requestAllocation();
  await persisted;
  return { agentId, status: agentDisplayStatus(master.model, agent) };
}

/** A status update from a draining agent: a TASK_KILLED is the drain's doing, and says so. */
export function drainReason(master: Master, agentId: string, state: TaskState, reason: TaskStatus_Reason): TaskStatus_Reason {
  const agent = master.model.agents.get(agentId);
  return agent?.maintenance === 'DRAINING' && state === TaskState.TASK_KILLED ? TaskStatus_Reason.REASON_AGENT_DRAINING : reason;
}
