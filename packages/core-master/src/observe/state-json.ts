import { formatRanges, UNRESERVED_ROLE, type Attribute, type Resources } from '@meso/proto';
import { agentDisplayStatus, type AgentRecord, type FrameworkRecord, type MasterModel, type TaskRecord } from '../model/model.js';
import { sumRoles } from '../model/snapshots.js';
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

function taskJson(t: TaskRecord): TaskJson {
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

function agentJson(model: MasterModel, a: AgentRecord): AgentJson {
  return {
    id: a.id,
    hostname: a.hostname,
    endpoint: a.endpoint,
    status: agentDisplayStatus(model, a),
    ...(a.maintenance ? { maintenance: a.maintenance } : {}),
    attributes: attributesToJson(a.attributes),
    resources: {
      total: resourcesToJson(a.total),
      used: resourcesToJson(a.used),
      offered: resourcesToJson(a.offered),
      free: resourcesToJson(a.total.subtract(a.used).subtract(a.offered)),
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

function frameworkJson(f: FrameworkRecord): FrameworkJson {
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

// ---------------------------------------------------------------------------------------
// The same document as text, fast: each task's and agent's JSON is kept (beside its record,
// in a WeakMap) with what it was made from, and made again only when one of those changed.
// At 10k agents and 100k tasks a /state mostly joins strings instead of walking and
// stringifying half a million objects; what changed since the last /state is re-made.

interface Fragment {
  deps: readonly unknown[];
  text: string;
}

const taskFragments = new WeakMap<TaskRecord, Fragment>();
const agentFragments = new WeakMap<AgentRecord, Fragment>();

function fragment<K extends object>(cache: WeakMap<K, Fragment>, key: K, deps: readonly unknown[], make: () => unknown): string {
  const hit = cache.get(key);
  if (hit && hit.deps.length === deps.length && hit.deps.every((d, i) => d === deps[i])) return hit.text;
  const text = JSON.stringify(make());
  cache.set(key, { deps, text });
  return text;
}

/** A task's JSON; its records change in place (state, statuses pushed, sandbox) or get new resources. */
function taskText(t: TaskRecord): string {
  const deps = [t.state, t.statuses, t.statuses.length, t.resources, t.sandbox, t.name, t.role, t.agentId, t.executorId, t.frameworkId, t.taskId];
  return fragment(taskFragments, t, deps, () => taskJson(t));
}

/** An agent's JSON; a DRAINING agent's status depends on its tasks, so it is made every time. */
function agentText(model: MasterModel, a: AgentRecord): string {
  if (a.maintenance === 'DRAINING') return JSON.stringify(agentJson(model, a));
  const deps = [a.status, a.maintenance, a.hostname, a.endpoint, a.attributes, a.total, a.used, a.offered, a.registeredTime, a.reregisteredTime, a.isolators, a.usage];
  return fragment(agentFragments, a, deps, () => agentJson(model, a));
}

function joinTexts(items: Iterable<string>): string {
  let out = '[';
  let first = true;
  for (const text of items) {
    out += first ? text : `,${text}`;
    first = false;
  }
  return `${out}]`;
}

function* mapIter<T>(items: Iterable<T>, fn: (item: T) => string): Iterable<string> {
  for (const item of items) yield fn(item);
}

/** `JSON.stringify(stateJson(model))`, character for character, from cached fragments. */
export function stateJsonText(model: MasterModel): string {
  const head = JSON.stringify({ masterId: model.masterId, version: MASTER_VERSION, startTime: model.startTime / 1000 });
  return (
    `${head.slice(0, -1)},"agents":${joinTexts(mapIter(model.agents.values(), (a) => agentText(model, a)))}` +
    `,"goneAgents":${JSON.stringify([...model.goneAgents.values()].map((g) => ({ id: g.id, hostname: g.hostname, goneTime: g.goneTime / 1000 })))}` +
    `,"frameworks":${JSON.stringify([...model.frameworks.values()].map(frameworkJson))}` +
    `,"tasks":${joinTexts(mapIter(model.tasks.values(), taskText))}` +
    `,"completedTasks":${joinTexts(mapIter(model.completedTasks, taskText))}` +
    `,"outstandingOffers":${model.offers.size}}`
  );
}
