import type { AgentMessage, ExecutorExited, ExecutorToFramework, StatusUpdate } from '@meso/proto';
import type { AgentLink } from '../links.js';
import type { Master } from '../master.js';
import { taskKey } from '../model/model.js';
import { isTerminalState } from '../model/task-states.js';
import { pongReceived } from './agent-health.js';
import { usageReported } from './agent-usage.js';
import { drainReason } from './maintenance.js';

/**
 * A status update from an agent: the task's state is updated (a terminal state releases
 * its resources, once), and the update goes on to the framework if it is connected;
 * otherwise the agent keeps it and retries until acknowledged.
 */
export function routeStatusUpdate(master: Master, agentId: string, update: StatusUpdate): void {
  const status = update.status;
  const taskId = status?.taskId?.value;
  const frameworkId = update.frameworkId?.value || status?.frameworkId?.value || '';
  if (!status || !taskId || !frameworkId) {
    master.logger.warn('status update without task or framework id dropped', { agentId });
    return;
  }
  master.metrics.statusUpdatesReceived++;
  if (master.model.removedFrameworks.has(frameworkId)) {
    master.sendToAgent(agentId, { message: { $case: 'shutdownFramework', value: { frameworkId: { value: frameworkId } } } });
    return;
  }
  // The decoded update is the master's own: completed in place rather than copied (one object
  // of one shape per update, on the path every task takes twice).
  const full = status;
  full.reason = drainReason(master, agentId, status.state, status.reason);
  if (!full.agentId?.value) full.agentId = { value: agentId };
  full.frameworkId = { value: frameworkId };
  if (update.executorId?.value && !full.executorId?.value) full.executorId = update.executorId;
  const wasLive = master.model.tasks.has(taskKey(frameworkId, taskId));
  master.commitLocal({ type: 'statusUpdated', frameworkId, taskId, status: full, latestState: update.latestState, at: master.now() });
  if (master.sendToFramework(frameworkId, { event: { $case: 'update', value: { status: full } } })) master.metrics.statusUpdatesForwarded++;
  if (wasLive && !master.model.tasks.has(taskKey(frameworkId, taskId))) master.requestAllocation();
  else if (isTerminalState(full.state)) master.requestAllocation();
}

function executorExited(master: Master, agentId: string, e: ExecutorExited): void {
  const frameworkId = e.frameworkId?.value ?? '';
  const executorId = e.executorId?.value ?? '';
  master.commitLocal({ type: 'executorRemoved', agentId, frameworkId, executorId });
  master.sendToFramework(frameworkId, {
    event: { $case: 'failure', value: { agentId: { value: agentId }, executorId: { value: executorId }, ...(e.status !== undefined ? { status: e.status } : {}) } },
  });
  master.requestAllocation();
}

function executorMessage(master: Master, agentId: string, m: ExecutorToFramework): void {
  master.sendToFramework(m.frameworkId?.value ?? '', {
    event: { $case: 'message', value: { agentId: { value: agentId }, executorId: m.executorId, data: m.data } },
  });
}

/** Everything an admitted agent sends after `register`. Messages of a replaced link are dropped. */
export function handleAgentMessage(master: Master, agentId: string, link: AgentLink, message: AgentMessage): void {
  const conn = master.agentConnections.get(agentId);
  if (!conn || conn.link !== link) return;
  const m = message.message;
  switch (m?.$case) {
    case 'statusUpdate':
      routeStatusUpdate(master, agentId, m.value);
      return;
    case 'pong':
      pongReceived(conn);
      return;
    case 'executorExited':
      executorExited(master, agentId, m.value);
      return;
    case 'executorMessage':
      executorMessage(master, agentId, m.value);
      return;
    case 'usage':
      usageReported(master, agentId, m.value);
      return;
    case 'register':
      master.logger.warn('agent sent register twice on one link; ignored', { agentId });
      return;
    default:
      // Empty, or a `batch`, which the transport takes apart before it gets here.
      master.logger.warn('agent message ignored', { agentId, message: m?.$case ?? 'empty' });
  }
}
