import { TaskState, TaskStatus_Reason } from '@meso/proto';
import type { AgentLink } from '../links.js';
import type { AgentConnection, Master } from '../master.js';
import { answerDeferredCalls, masterUpdate } from '../calls/task-calls.js';
import { markGone } from './agent-removal.js';
import { masterStatus } from '../observe/wire-views.js';

/**
 * Pings the agent every ping interval; each ping left unanswered when the next is due
 * counts as missed, and `maxMissedPings` in a row make the agent unreachable.
 */
export function startPinging(master: Master, agentId: string, conn: AgentConnection): void {
  const tick = (): void => {
    if (master.agentConnections.get(agentId) !== conn || master.isClosed) return;
    if (conn.awaitingPong) conn.missed++;
    if (conn.missed >= master.options.maxMissedPings) {
      master.safely('marking an agent unreachable', () => markUnreachable(master, agentId, `missed ${conn.missed} pings in a row`));
      return;
    }
    conn.seq++;
    conn.awaitingPong = true;
    master.sendToAgent(agentId, { message: { $case: 'ping', value: { seq: conn.seq } } });
    conn.pingTimer = master.options.clock.setTimeout(tick, master.options.agentPingIntervalSeconds * 1000);
  };
  conn.pingTimer = master.options.clock.setTimeout(tick, master.options.agentPingIntervalSeconds * 1000);
}

/** A pong clears the missed count. */
export function pongReceived(conn: AgentConnection): void {
  conn.awaitingPong = false;
  conn.missed = 0;
}

/**
 * The agent's link broke. Its offers are rescinded at once and it is not offered; if it
 * does not come back within ping interval × max missed pings it becomes unreachable.
 */
export function agentLinkClosed(master: Master, agentId: string, link: AgentLink): void {
  const admission = master.admissions.get(link);
  if (admission) {
    admission.closed = true; // handled once the agent is admitted (see registerAgent)
    return;
  }
  const conn = master.agentConnections.get(agentId);
  if (!conn || conn.link !== link) return;
  master.options.clock.clearTimeout(conn.pingTimer);
  master.agentConnections.delete(agentId);
  master.rescindWhere((o) => o.agentId === agentId, 'agent disconnected');
  master.commitLocal({ type: 'agentDisconnected', agentId, at: master.now() });
  master.logger.warn('agent disconnected', { agentId });
  master.startUnreachableTimer(agentId, master.agentReconnectWindowMs, () => markUnreachable(master, agentId, 'did not re-register in time'));
}

/**
 * Gives up on an agent: offers rescinded, its live tasks reported TASK_UNREACHABLE to
 * partition-aware frameworks and TASK_LOST to others (source MASTER), its resources out of
 * the pool, FAILURE sent to every connected framework. Its removal timeout starts; deferred
 * reconciliations naming it are answered now.
 */
export function markUnreachable(master: Master, agentId: string, why: string): void {
  const agent = master.model.agents.get(agentId);
  if (!agent || agent.status === 'UNREACHABLE') return;
  master.cancelUnreachableTimer(agentId);
  const conn = master.agentConnections.get(agentId);
  if (conn) {
    master.options.clock.clearTimeout(conn.pingTimer);
    master.agentConnections.delete(agentId);
    try {
      conn.link.close();
    } catch {
      /* already closed */
    }
  }
  master.rescindWhere((o) => o.agentId === agentId, 'agent unreachable');
  master.commitLocal({ type: 'agentUnreachable', agentId, at: master.now() });
  master.logger.warn('agent unreachable', { agentId, why });
  const now = master.now();
  for (const task of [...master.model.tasks.values()]) {
    if (task.agentId !== agentId) continue;
    const fw = master.model.frameworks.get(task.frameworkId);
    masterUpdate(
      master,
      masterStatus({
        frameworkId: task.frameworkId,
        taskId: task.taskId,
        agentId,
        executorId: task.executorId,
        state: master.isPartitionAware(fw) ? TaskState.TASK_UNREACHABLE : TaskState.TASK_LOST,
        reason: TaskStatus_Reason.REASON_AGENT_DISCONNECTED,
        message: `agent ${agentId} is unreachable: ${why}`,
        now,
      }),
    );
  }
  for (const frameworkId of master.frameworkLinks.keys()) {
    master.sendToFramework(frameworkId, { event: { $case: 'failure', value: { agentId: { value: agentId }, executorId: undefined } } });
  }
  master.startRemovalTimer(agentId, now, () => markGone(master, agentId));
  answerDeferredCalls(master);
  master.requestAllocation();
}
