import { randomUUID } from 'node:crypto';
import { FrameworkInfo, MesoErrorCode, type SubscribeRequest, type UpdateFrameworkRequest } from '@meso/proto';
import { MasterError } from '../errors.js';
import type { FrameworkLink } from '../links.js';
import type { Master } from '../master.js';
import { MASTER_VERSION } from '../version.js';
import type { FrameworkRecord } from '../model/model.js';

const ROLE = /^[\w.-]+(\/[\w.-]+)*$/;

/** Roles default to ['*']; each must be a valid role name. */
function normalizeInfo(info: FrameworkInfo, field: string): FrameworkInfo {
  const roles = info.roles.length === 0 ? ['*'] : [...new Set(info.roles)];
  roles.forEach((role, i) => {
    if (role !== '*' && !ROLE.test(role)) throw new MasterError('INVALID_ARGUMENT', `'${role}' is not a valid role`, `${field}.roles[${i}]`);
  });
  if (!Number.isFinite(info.failoverTimeout) || info.failoverTimeout < 0) {
    throw new MasterError('INVALID_ARGUMENT', `must be a number of seconds >= 0, got ${String(info.failoverTimeout)}`, `${field}.failover_timeout`);
  }
  return { ...info, roles };
}

function checkSuppressed(roles: readonly string[], info: FrameworkInfo, field: string): string[] {
  roles.forEach((r, i) => {
    if (!info.roles.includes(r)) throw new MasterError('INVALID_ARGUMENT', `'${r}' is not one of the framework's roles`, `${field}[${i}]`);
  });
  return [...roles];
}

/** What a successful SUBSCRIBE returns to the transport. */
export interface Subscription {
  frameworkId: string;
  streamId: string;
}

/**
 * SUBSCRIBE: registers a new framework (no id) or re-subscribes one (id). The first event
 * on the link is SUBSCRIBED; an older subscriber of the same id gets ERROR
 * FRAMEWORK_REPLACED and is closed. A new framework id is durable before SUBSCRIBED.
 */
export async function subscribe(master: Master, req: SubscribeRequest, makeLink: (streamId: string) => FrameworkLink): Promise<Subscription> {
  if (!req.frameworkInfo) throw new MasterError('INVALID_ARGUMENT', 'framework_info is required', 'framework_info');
  const requestedId = req.frameworkInfo.id?.value ?? '';
  let info = normalizeInfo(req.frameworkInfo, 'framework_info');
  const isNew = requestedId === '';
  if (!isNew) {
    if (master.model.removedFrameworks.has(requestedId)) {
      throw new MasterError('FRAMEWORK_REMOVED', `framework '${requestedId}' was removed (torn down or failed over too late); subscribe as a new framework`, 'framework_info.id');
    }
    const known = master.model.frameworks.get(requestedId);
    if (!known) {
      throw new MasterError('UNKNOWN_FRAMEWORK', `framework '${requestedId}' is not known to this master`, 'framework_info.id');
    }
    // Without authentication the master cannot refuse a stolen id; it says so in the log.
    if (known.info.principal !== info.principal || known.info.user !== info.user) {
      master.logger.warn('framework re-subscribed under another principal or user (refused once authentication exists)', {
        frameworkId: requestedId,
        principal: { was: known.info.principal, now: info.principal },
        user: { was: known.info.user, now: info.user },
      });
    }
  }
  const frameworkId = isNew ? master.ids.frameworkId() : requestedId;
  info = FrameworkInfo.fromPartial({ ...info, id: { value: frameworkId } });
  const suppressedRoles = checkSuppressed(req.suppressedRoles, info, 'suppressed_roles');
  const streamId = randomUUID();

  const previous = master.frameworkLinks.get(frameworkId);
  if (previous) {
    master.frameworkLinks.delete(frameworkId);
    try {
      previous.close({ code: MesoErrorCode.FRAMEWORK_REPLACED, message: 'a newer subscriber took over this framework' });
    } catch {
      /* already gone */
    }
  }
  master.cancelFailoverTimer(frameworkId);
  // Until SUBSCRIBED is on the wire (a new id is persisted first), events for this stream
  // (offers from an allocation cycle in between) wait, so SUBSCRIBED is always first.
  const inner = makeLink(streamId);
  const early: Parameters<FrameworkLink['send']>[0][] = [];
  let ready = false;
  const link: FrameworkLink = {
    streamId,
    send: (event) => (ready ? inner.send(event) : void early.push(event)),
    close: (error) => inner.close(error),
  };
  master.frameworkLinks.set(frameworkId, link);
  const persisted = master.commit({ type: 'frameworkSubscribed', info, streamId, suppressedRoles, isNew, at: master.now() });
  if (isNew) await persisted;
  else persisted.catch(() => undefined);
  if (master.frameworkLinks.get(frameworkId) !== link) return { frameworkId, streamId };
  inner.send({
    event: {
      $case: 'subscribed',
      value: {
        frameworkId: { value: frameworkId },
        heartbeatIntervalSeconds: master.options.heartbeatIntervalSeconds,
        streamId,
        masterId: master.masterId,
        masterVersion: MASTER_VERSION,
      },
    },
  });
  ready = true;
  for (const event of early.splice(0)) inner.send(event);
  master.logger.info(isNew ? 'framework registered' : 'framework re-subscribed', { frameworkId, name: info.name, roles: info.roles });
  master.requestAllocation();
  return { frameworkId, streamId };
}

/**
 * The stream of a framework ended. If it was the current one, the framework is
 * disconnected: its offers are rescinded (taken back), its tasks keep running for
 * failover_timeout, then it is removed.
 */
export function frameworkStreamEnded(master: Master, frameworkId: string, streamId: string): void {
  const link = master.frameworkLinks.get(frameworkId);
  if (!link || link.streamId !== streamId) return;
  master.frameworkLinks.delete(frameworkId);
  const offers = [...master.model.offers.values()].filter((o) => o.frameworkId === frameworkId).map((o) => o.id);
  master.forgetOfferTimers(offers);
  master.commitLocal({ type: 'frameworkDisconnected', frameworkId, at: master.now() });
  master.logger.info('framework disconnected', { frameworkId, failoverTimeoutSeconds: master.model.frameworks.get(frameworkId)?.info.failoverTimeout });
  master.startFailoverTimer(frameworkId);
  master.requestAllocation();
}

/**
 * Removes a framework for good: its tasks are killed (ShutdownFramework to every agent it
 * uses), its offers taken back, and the removal is persisted so the id cannot return.
 */
export async function removeFramework(master: Master, frameworkId: string, why: string): Promise<void> {
  const fw = master.model.frameworks.get(frameworkId);
  if (!fw) return;
  master.cancelFailoverTimer(frameworkId);
  const agents = new Set<string>();
  for (const t of master.model.tasks.values()) if (t.frameworkId === frameworkId) agents.add(t.agentId);
  for (const e of master.model.executors.values()) if (e.frameworkId === frameworkId) agents.add(e.agentId);
  for (const agentId of agents) {
    master.sendToAgent(agentId, { message: { $case: 'shutdownFramework', value: { frameworkId: { value: frameworkId } } } });
  }
  master.forgetOfferTimers([...master.model.offers.values()].filter((o) => o.frameworkId === frameworkId).map((o) => o.id));
  const link = master.frameworkLinks.get(frameworkId);
  master.frameworkLinks.delete(frameworkId);
  const persisted = master.commit({ type: 'frameworkRemoved', frameworkId, at: master.now() });
  master.logger.info('framework removed', { frameworkId, why });
  if (link) {
    try {
      link.close();
    } catch {
      /* already gone */
    }
  }
  master.requestAllocation();
  await persisted;
}

/** TEARDOWN: kill every task and remove the framework. */
export async function teardown(master: Master, fw: FrameworkRecord): Promise<void> {
  await removeFramework(master, fw.id, 'teardown');
}

/** UPDATE_FRAMEWORK: name, roles, failover timeout, capabilities; suppressed roles. */
export async function updateFramework(master: Master, fw: FrameworkRecord, req: UpdateFrameworkRequest): Promise<void> {
  if (!req.frameworkInfo) throw new MasterError('INVALID_ARGUMENT', 'framework_info is required', 'framework_info');
  const id = req.frameworkInfo.id?.value ?? '';
  if (id !== '' && id !== fw.id) throw new MasterError('INVALID_ARGUMENT', `must be '${fw.id}' (the calling framework), got '${id}'`, 'framework_info.id');
  const info = FrameworkInfo.fromPartial({ ...normalizeInfo(req.frameworkInfo, 'framework_info'), id: { value: fw.id } });
  const suppressed = checkSuppressed(req.suppressedRoles, info, 'suppressed_roles');
  const removedRoles = fw.info.roles.filter((r) => !info.roles.includes(r));
  if (removedRoles.length > 0) master.rescindWhere((o) => o.frameworkId === fw.id && removedRoles.includes(o.role), 'role removed from framework');
  const persisted = master.commit({ type: 'frameworkUpdated', info, suppressedRoles: suppressed, at: master.now() });
  const agents = new Set([...master.model.tasks.values()].filter((t) => t.frameworkId === fw.id).map((t) => t.agentId));
  for (const agentId of agents) master.sendToAgent(agentId, { message: { $case: 'updateFramework', value: { frameworkInfo: info } } });
  master.requestAllocation();
  await persisted;
}
