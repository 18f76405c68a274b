import type { AcceptRequest, DeclineRequest, ReviveRequest, SuppressRequest } from '@meso/proto';
import type { OfferFilter } from '../allocator/types.js';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import type { FrameworkRecord } from '../model/model.js';
import { refuseSeconds, validateAccept, validateOfferIds } from './validate-accept.js';
import { checkpointMessage } from '../reservations/agent-resources.js';

/**
 * ACCEPT: validated whole before anything happens (on failure the offers stay outstanding
 * so the framework can retry). Then RESERVE/UNRESERVE/CREATE/DESTROY change the agent's
 * resources (CheckpointResources to the agent), the offers are consumed, the tasks recorded STAGING,
 * RunTask / RunTaskGroup sent to the agent, and what was not used goes back to the pool
 * with the call's filters.
 */
export function accept(master: Master, fw: FrameworkRecord, req: AcceptRequest): void {
  const now = master.now();
  const plan = validateAccept(master.model, fw, req, now);
  const connected = master.agentConnections.has(plan.agentId);
  const tasks = plan.tasks.map((t) => ({ ...t, sent: connected }));
  master.forgetOfferTimers(plan.offers.map((o) => o.id));
  if (plan.agentResources) {
    master.commitLocal({ type: 'agentResourcesUpdated', agentId: plan.agentId, ...plan.agentResources });
    // Before RunTask: the agent creates a new volume's directory before a task uses it.
    master.sendToAgent(plan.agentId, checkpointMessage(plan.agentResources.checkpointed));
  }
  master.commitLocal({
    type: 'tasksLaunched',
    frameworkId: fw.id,
    agentId: plan.agentId,
    offerIds: plan.offers.map((o) => o.id),
    tasks,
    executors: plan.executors,
    filters: plan.filters,
    at: now,
  });
  for (const message of plan.messages) master.sendToAgent(plan.agentId, message);
  if (tasks.length > 0) master.logger.info('tasks launched', { frameworkId: fw.id, agentId: plan.agentId, tasks: tasks.map((t) => t.taskId) });
  master.requestAllocation();
}

/** DECLINE: the offers go back to the pool, filtered for refuse_seconds (default 5). */
export function decline(master: Master, fw: FrameworkRecord, req: DeclineRequest): void {
  const offers = validateOfferIds(master.model, fw.id, req.offerIds);
  const refuse = refuseSeconds(req.filters);
  const now = master.now();
  const filters: OfferFilter[] =
    refuse > 0 ? offers.map((o) => ({ frameworkId: fw.id, agentId: o.agentId, resources: o.resources, until: now + refuse * 1000 })) : [];
  master.forgetOfferTimers(offers.map((o) => o.id));
  master.commitLocal({ type: 'offersRemoved', offerIds: offers.map((o) => o.id), filters, at: now });
  master.requestAllocation();
}

function rolesOf(fw: FrameworkRecord, roles: readonly string[]): string[] {
  roles.forEach((r, i) => {
    if (!fw.info.roles.includes(r)) throw new MasterError('INVALID_ARGUMENT', `'${r}' is not one of the framework's roles`, `roles[${i}]`);
  });
  return roles.length === 0 ? [...fw.info.roles] : [...roles];
}

/** REVIVE: clears the framework's filters and un-suppresses the roles (all when none given). */
export function revive(master: Master, fw: FrameworkRecord, req: ReviveRequest): void {
  master.commitLocal({ type: 'rolesRevived', frameworkId: fw.id, roles: rolesOf(fw, req.roles) });
  master.requestAllocation();
}

/** SUPPRESS: no more offers for the roles (all when none given); status updates still flow. */
export function suppress(master: Master, fw: FrameworkRecord, req: SuppressRequest): void {
  master.commitLocal({ type: 'rolesSuppressed', frameworkId: fw.id, roles: rolesOf(fw, req.roles) });
}
