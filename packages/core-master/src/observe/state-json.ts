import { formatRanges, UNRESERVED_ROLE, type Attribute, type Resources } from '@meso/proto';
import { agentDisplayStatus, type AgentRecord, type FrameworkRecord, type MasterModel, type TaskRecord } from '../model/model.js';
import { agentAvailable, sumRoles } from '../model/snapshots.js';
import { taskStateName } from '../model/task-states.js';
import { MASTER_VERSION } from '../version.js';
import { usageToJson, type UsageJson } from './usage-json.js';

/** Resources as Mesos's JSON shows them: `{"cpus":4,"mem":4096,"ports":"[31000-32000]","cpus(db)":2}`. */
export type ResourcesJson = Record<string, number | string>;

/** The /state document. */
export interface StateJson {
  masterId: string;
  version: string;
  /** Seconds since the epoch. */
  startTime: number;
  agents: {
    id: string;
    hostname: string;
    endpoint: string;
    /** ACTIVE, DISCONNECTED, UNREACHABLE, RECOVERING, DRAINING, DRAINED or DEACTIVATED. */
    status: string;
    /** The operator's maintenance mode, when one is set. */
    maintenance?: 'DRAINING' | 'DEACTIVATED';
    attributes: Record<string, string | number>;
    resources: { total: ResourcesJson; used: ResourcesJson; offered: ResourcesJson; free: ResourcesJson };
    registeredTime: number;
    reregisteredTime?: number;
    /** The isolators the agent applies (from its registration). */
    isolators: string[];
    /** The sum of its executors' latest sampled usage; absent until the agent reports one. */
    usage?: UsageJson;
    /** Per role, what is reserved for it (static and dynamic, volumes included); absent when nothing is. */
    reservedResources?: Record<string, ResourcesJson>;
    /** Its persistent volumes; absent when it has none. */
    volumes?: { id: string; role: string; containerPath: string; mode: 'rw' | 'ro'; sizeMb: number }[];
  }[];
  /** Agents removed after their removal timeout; refused if they return. */
  goneAgents: { id: string; hostname: string; goneTime: number }[];
  frameworks: {
    id: string;
    name: string;
    user: string;
    roles: string[];
    active: boolean;
    connected: boolean;
    failoverTimeout: number;
    suppressedRoles: string[];
    resources: { used: ResourcesJson; offered: ResourcesJson };
    registeredTime: number;
    unregisteredTime?: number;
  }[];
  tasks: TaskJson[];
  completedTasks: TaskJson[];
  outstandingOffers: number;
}

/** A task in /state. */
export interface TaskJson {
  id: string;
  name: string;
  frameworkId: string;
  agentId: string;
  executorId: string;
  state: string;
  role: string;
  resources: ResourcesJson;
  sandbox: string;
  statuses: { state: string; timestamp: number }[];
}

/** Resources as a JSON map; reserved resources are keyed `name(role)`, persistent volumes `disk(role)[id:path]`. */
export function resourcesToJson(resources: Resources): ResourcesJson {
  const out: ResourcesJson = {};
  for (const r of resources.toList()) {
    const named = r.role === UNRESERVED_ROLE ? r.name : `${r.name}(${r.role})`;
    // A persistent volume is its own entry, apart from the role's plain disk.
    const key = r.kind === 'scalar' && r.volume ? `${named}[${r.volume.id}:${r.volume.containerPath}]` : named;
    if (r.kind === 'scalar') out[key] = r.value;
    else if (r.kind === 'ranges') out[key] = formatRanges(r.ranges);
    else out[key] = `{${r.items.join(',')}}`;
  }
  return out;
}

/**
 * `resourcesToJson`, remembered per (immutable) Resources: an agent's total and used, and its
 * free resources while nothing is offered (the same object as the allocator's), are made once.
 * The result is shared: serialize it, never change it.
 */
const resourcesJsonCache = new WeakMap<Resources, ResourcesJson>();
function sharedResourcesJson(resources: Resources): ResourcesJson {
  let json = resourcesJsonCache.get(resources);
  if (!json) resourcesJsonCache.set(resources, (json = resourcesToJson(resources)));
  return json;
}

function attributesToJson(list: readonly Attribute[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const a of list) {
    if (a.kind === 'text') out[a.name] = a.text;
    else if (a.kind === 'scalar') out[a.name] = a.value;
    else if (a.kind === 'ranges') out[a.name] = formatRanges(a.ranges);
    else out[a.name] = `{${a.items.join(',')}}`;
  }
  return out;
}

/** A task as /state shows it. */
export function taskJson(t: TaskRecord): TaskJson {
  return {
    id: t.taskId,
    name: t.name,
    frameworkId: t.frameworkId,
    agentId: t.agentId,
    executorId: t.executorId,
    state: taskStateName(t.state),
    role: t.role,
    resources: resourcesToJson(t.resources),
    sandbox: t.sandbox,
    statuses: t.statuses.map((s) => ({ state: taskStateName(s.state), timestamp: s.timestamp })),
  };
}

type AgentJson = StateJson['agents'][number];
type FrameworkJson = StateJson['frameworks'][number];

/** An agent as /state shows it. */
export function agentJson(model: MasterModel, a: AgentRecord): AgentJson {
  return {
    id: a.id,
    hostname: a.hostname,
    endpoint: a.endpoint,
    status: agentDisplayStatus(model, a),
    ...(a.maintenance ? { maintenance: a.maintenance } : {}),
    attributes: attributesToJson(a.attributes),
    resources: {
      total: sharedResourcesJson(a.total),
      used: sharedResourcesJson(a.used),
      offered: sharedResourcesJson(a.offered),
      free: sharedResourcesJson(agentAvailable(a)),
    },
    registeredTime: a.registeredTime / 1000,
    ...(a.reregisteredTime !== undefined ? { reregisteredTime: a.reregisteredTime / 1000 } : {}),
    isolators: a.isolators ?? [],
    ...(a.usage ? { usage: usageToJson(a.usage) } : {}),
    ...reservationsJson(a.total),
  };
}

/** An agent's reservations per role and its persistent volumes, when it has any. */
function reservationsJson(total: Resources): Pick<AgentJson, 'reservedResources' | 'volumes'> {
  const reserved = total.filter((r) => r.role !== UNRESERVED_ROLE);
  if (reserved.isEmpty()) return {};
  const roles = [...new Set(reserved.toList().map((r) => r.role))];
  const volumes = reserved.volumes().map((v) => ({ id: v.volume.id, role: v.role, containerPath: v.volume.containerPath, mode: v.volume.mode, sizeMb: v.value }));
  return {
    reservedResources: Object.fromEntries(roles.map((role) => [role, resourcesToJson(reserved.reservedFor(role))])),
    ...(volumes.length > 0 ? { volumes } : {}),
  };
}

/** A framework as /state shows it. */
export function frameworkJson(f: FrameworkRecord): FrameworkJson {
  return {
    id: f.id,
    name: f.info.name,
    user: f.info.user,
    roles: [...f.info.roles],
    active: true,
    connected: f.connected,
    failoverTimeout: f.info.failoverTimeout,
    suppressedRoles: [...f.suppressedRoles].sort(),
    resources: { used: resourcesToJson(sumRoles(f.used)), offered: resourcesToJson(sumRoles(f.offered)) },
    registeredTime: f.registeredTime / 1000,
    ...(f.unregisteredTime !== undefined ? { unregisteredTime: f.unregisteredTime / 1000 } : {}),
  };
}

/** A read-only snapshot of the model as the /state JSON document. */
export function stateJson(model: MasterModel): StateJson {
  return {
    masterId: model.masterId,
    version: MASTER_VERSION,
    startTime: model.startTime / 1000,
    agents: [...model.agents.values()].map((a) => agentJson(model, a)),
    goneAgents: [...model.goneAgents.values()].map((g) => ({ id: g.id, hostname: g.hostname, goneTime: g.goneTime / 1000 })),
    frameworks: [...model.frameworks.values()].map(frameworkJson),
    tasks: [...model.tasks.values()].map(taskJson),
    completedTasks: model.completedTasks.map(taskJson),
    outstandingOffers: model.offers.size,
  };
}
