import { Resources, type MasterMessage } from '@meso/proto';
import { resourcesToWire } from '@meso/proto';
import type { AgentRecord, MasterModel } from '../model/model.js';
import type { AgentResources } from './resource-operations.js';

/** Volume id → a live task (or executor) on the agent holding it. */
export function volumeUsers(model: MasterModel, agentId: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const t of model.tasks.values()) {
    if (t.agentId === agentId) for (const v of t.resources.volumes()) users.set(v.volume.id, t.taskId);
  }
  for (const ex of model.executors.values()) {
    if (ex.agentId === agentId) for (const v of ex.resources.volumes()) users.set(v.volume.id, `executor ${ex.executorId}`);
  }
  return users;
}

/** What operations on an agent are checked against; `available` as given. */
export function agentResourcesOf(
  model: MasterModel,
  agent: AgentRecord,
  available: Resources,
  context: { offerRole: string } | undefined,
): AgentResources {
  return {
    staticResources: agent.staticResources ?? agent.total,
    checkpointed: agent.checkpointed ?? Resources.empty(),
    available,
    volumeUsers: volumeUsers(model, agent.id),
    ...(context ? { offerRole: context.offerRole } : {}),
    exceedCode: context ? 'RESOURCES_EXCEED_OFFER' : 'INVALID_ARGUMENT',
  };
}

/** The CheckpointResources message telling the agent its complete dynamic reservations and volumes. */
export function checkpointMessage(checkpointed: Resources): MasterMessage {
  return { message: { $case: 'checkpointResources', value: { resources: resourcesToWire(checkpointed) } } };
}
