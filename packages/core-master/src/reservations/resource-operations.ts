import { Resources, ResourceError, UNRESERVED_ROLE, resourcesFromWire, type Resource } from '@meso/proto';
import { MasterError } from '../errors.js';
import { agentTotal, diskOfVolumes } from './agent-total.js';

/** RESERVE, UNRESERVE, CREATE, DESTROY: from an ACCEPT's operation or an operator call. */
export type ResourceOpType = 'reserve' | 'unreserve' | 'create' | 'destroy';

/** What an operation is checked against and changes. Pure data: nothing here touches the model. */
export interface AgentResources {
  /** The agent's static resources (agent_info.resources, static reservations included). */
  staticResources: Resources;
  /** Its dynamic reservations (whole amounts, role set) and persistent volumes. */
  checkpointed: Resources;
  /** What the operation may take: what is left of the offers (ACCEPT) or what no task uses (operator). */
  available: Resources;
  /** Volume id → the live task holding it. */
  volumeUsers: ReadonlyMap<string, string>;
  /** ACCEPT: the offer's role, the only one a framework reserves for or creates volumes in. */
  offerRole?: string;
  /** The code when `available` lacks something: RESOURCES_EXCEED_OFFER (ACCEPT) or INVALID_ARGUMENT (operator). */
  exceedCode: 'RESOURCES_EXCEED_OFFER' | 'INVALID_ARGUMENT';
}

/** Each wire resource of an operation on its own (validated as a list first, for exact fields). */
export function parseEach(list: Parameters<typeof resourcesFromWire>[0], field: string): Resources[] {
  try {
    resourcesFromWire(list, field);
    return list.map((w) => resourcesFromWire([w], field));
  } catch (e) {
    if (e instanceof ResourceError) throw new MasterError('INVALID_RESOURCES', e.reason, e.field, { cause: e });
    throw e;
  }
}

const invalid = (field: string, message: string): MasterError => new MasterError('INVALID_ARGUMENT', message, field);

function only(item: Resources, field: string): Resource {
  const list = item.toList();
  if (list.length !== 1) throw invalid(field, 'must be one non-empty resource');
  return list[0] as Resource;
}

function volumeIdOf(r: Resource): string | undefined {
  return r.kind === 'scalar' ? r.volume?.id : undefined;
}

function checkRole(s: AgentResources, r: Resource, field: string, what: string): void {
  if (s.offerRole !== undefined && r.role !== s.offerRole) {
    throw invalid(`${field}.role`, `${what} for role '${r.role}': the offer is allocated to role '${s.offerRole}', the only role this ACCEPT may ${what === 'reservation' ? 'reserve for' : 'use'}`);
  }
}

function take(s: AgentResources, needed: Resources, field: string, what: string): void {
  const short = s.available.shortfall(needed);
  if (short.length > 0) {
    const where = s.exceedCode === 'RESOURCES_EXCEED_OFFER' ? 'the offers have left' : 'is free on the agent (not used by tasks)';
    throw new MasterError(s.exceedCode, `${what} needs more than ${where}: ${short.join('; ')}`, field);
  }
}

function reserve(s: AgentResources, item: Resources, field: string): AgentResources {
  const r = only(item, field);
  if (r.role === UNRESERVED_ROLE) throw invalid(`${field}.role`, `${r.name} has no role: name the role to reserve it for`);
  if (volumeIdOf(r)) throw invalid(field, 'a persistent volume is made with CREATE, not RESERVE');
  checkRole(s, r, field, 'reservation');
  const unreserved = item.withRole(UNRESERVED_ROLE);
  take(s, unreserved, field, `reserving ${item.toString()} (from unreserved resources; reserved ones cannot be reserved again)`);
  return { ...s, available: s.available.subtract(unreserved).add(item), checkpointed: s.checkpointed.add(item) };
}

function unreserve(s: AgentResources, item: Resources, field: string): AgentResources {
  const r = only(item, field);
  if (r.role === UNRESERVED_ROLE) throw invalid(`${field}.role`, `${r.name} is not reserved`);
  if (volumeIdOf(r)) throw invalid(field, 'a persistent volume is removed with DESTROY, not UNRESERVE');
  checkRole(s, r, field, 'unreservation');
  const dynamic = s.checkpointed.withoutVolumes();
  if (!dynamic.contains(item)) {
    const isStatic = s.staticResources.reservedFor(r.role).names().includes(r.name);
    const why = isStatic ? `is a static reservation of the agent (its --resources), which cannot be unreserved` : 'is not dynamically reserved';
    throw invalid(field, `${item.toString()} ${why}: ${dynamic.shortfall(item).join('; ')}`);
  }
  if (r.name === 'disk') {
    const volumes = Resources.of(s.checkpointed.volumes().filter((v) => v.role === r.role));
    const disk = s.staticResources.add(dynamic.subtract(item)).withoutVolumes();
    if (!volumes.isEmpty() && !disk.contains(diskOfVolumes(volumes))) {
      const ids = volumes.volumes().map((v) => v.volume.id).join(', ');
      throw invalid(field, `disk(${r.role}) holds persistent volumes (${ids}): DESTROY them before unreserving their disk`);
    }
  }
  take(s, item, field, `unreserving ${item.toString()} (resources in use cannot be unreserved)`);
  return { ...s, available: s.available.subtract(item).add(item.withRole(UNRESERVED_ROLE)), checkpointed: s.checkpointed.subtract(item) };
}

function create(s: AgentResources, item: Resources, field: string): AgentResources {
  const r = only(item, field);
  const id = volumeIdOf(r);
  if (!id) throw invalid(field, 'CREATE takes persistent volumes: disk(role)[id:path]:size');
  checkRole(s, r, field, 'volume');
  if (s.checkpointed.volumes().some((v) => v.volume.id === id)) throw invalid(`${field}.volume.id`, `a persistent volume '${id}' already exists on the agent`);
  const disk = diskOfVolumes(item);
  const plain = s.available.withoutVolumes();
  const short = plain.shortfall(disk);
  if (short.length > 0) throw new MasterError(s.exceedCode, `volume '${id}' needs disk reserved for role '${r.role}': ${short.join('; ')}`, field);
  return { ...s, available: s.available.subtract(disk).add(item), checkpointed: s.checkpointed.add(item) };
}

function destroy(s: AgentResources, item: Resources, field: string): AgentResources {
  const r = only(item, field);
  const id = volumeIdOf(r);
  if (!id) throw invalid(field, 'DESTROY takes persistent volumes: disk(role)[id:path]:size');
  if (!s.checkpointed.contains(item)) throw invalid(field, `there is no persistent volume ${item.toString()} on the agent`);
  const user = s.volumeUsers.get(id);
  if (user) throw invalid(field, `persistent volume '${id}' is in use by live task '${user}': kill it first`);
  take(s, item, field, `destroying volume '${id}'`);
  return { ...s, available: s.available.subtract(item).add(diskOfVolumes(item)), checkpointed: s.checkpointed.subtract(item) };
}

const STEPS: Record<ResourceOpType, (s: AgentResources, item: Resources, field: string) => AgentResources> = { reserve, unreserve, create, destroy };

/**
 * Applies one operation, item by item (`field[i]` names the item at fault), to the agent's
 * resources. Pure: returns the new state, or throws a MasterError and nothing changed. The
 * result's total (`agentTotal`) is checked too.
 */
export function applyResourceOp(s: AgentResources, type: ResourceOpType, items: readonly Resources[], field: string): AgentResources & { total: Resources } {
  if (items.length === 0) throw invalid(field, `${type.toUpperCase()} needs at least one resource`);
  const next = items.reduce((state, item, i) => STEPS[type](state, item, `${field}[${i}]`), s);
  return { ...next, total: agentTotal(next.staticResources, next.checkpointed, field) };
}
