import type { resourcesFromWire } from '@meso/proto';

type WireResource = Parameters<typeof resourcesFromWire>[0][number];
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { agentResourcesOf, checkpointMessage } from './agent-resources.js';
import { applyResourceOp, parseEach, type ResourceOpType } from './resource-operations.js';

/**
 * An operator's RESERVE/UNRESERVE/CREATE/DESTROY on an agent (ReserveResources, POST
 * /reserve, ...). Checked against what no task uses (as if its offers were rescinded); on a
 * refusal nothing changes. Then the agent's outstanding offers are rescinded, its new
 * resources committed, and CheckpointResources sent. The agent must be connected (it is told
 * at once). Returns the agent's new total.
 */
export function operateOnAgent(master: Master, type: ResourceOpType, agentId: string, resources: readonly WireResource[], field = 'resources') {
  if (!agentId) throw new MasterError('INVALID_ARGUMENT', 'agent_id is required', 'agent_id');
  const agent = master.model.agents.get(agentId);
  if (!agent) throw new MasterError('UNKNOWN_AGENT', `agent '${agentId}' is not known`, 'agent_id');
  if (!master.agentConnections.has(agentId) || agent.status !== 'ACTIVE') {
    throw new MasterError('UNAVAILABLE', `agent '${agentId}' is not connected (${agent.status}); retry when it is`, 'agent_id');
  }
  const free = agent.total.subtract(agent.used);
  const next = applyResourceOp(agentResourcesOf(master.model, agent, free, undefined), type, parseEach([...resources], field), field);
  master.rescindWhere((o) => o.agentId === agentId, `the operator changed the agent's reservations or volumes (${type})`);
  master.commitLocal({ type: 'agentResourcesUpdated', agentId, checkpointed: next.checkpointed, total: next.total });
  master.sendToAgent(agentId, checkpointMessage(next.checkpointed));
  master.logger.info(`operator ${type}`, { agentId, resources: next.checkpointed.toString(), total: next.total.toString() });
  master.requestAllocation();
  return next.total;
}
