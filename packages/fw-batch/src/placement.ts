import { quotaViolation, userQueues, nextUser, type PendingTask, type SharePolicy, type UserUsage } from './fair-share.js';
import type { Constraint, GroupPlacement } from './job.js';
import { addScalars, shortfall, subtractScalars, type Scalars, ZERO } from './scalars.js';

/** An offer as placement sees it: an agent's free scalars, free port count and attributes. */
export interface OfferView {
  offerId: string;
  agentId: string;
  hostname: string;
  /** Attribute texts by name (`hostname` is implied). */
  attributes: Record<string, string>;
  free: Scalars;
  ports: number;
}

/** A pending task with what placement needs of its job. */
export interface PlaceableTask extends PendingTask {
  ports: number;
  constraints: Constraint[];
  group: GroupPlacement | undefined;
}

/** Where the live and finished instances of a grouped job are (for group placement). */
export interface GroupState {
  /** Hostnames with a live instance (unique-host). */
  hosts: Set<string>;
  /** Live or succeeded instances per value of the group's attribute (balanced, same). */
  counts: Map<string, number>;
}

/** The input of {@link placeTasks}: a snapshot. */
export interface PlacementInput {
  pending: readonly PlaceableTask[];
  offers: readonly OfferView[];
  usage: ReadonlyMap<string, UserUsage>;
  total: Scalars;
  policy: SharePolicy;
  groups: ReadonlyMap<string, GroupState>;
  /** Every value seen per attribute across known agents (balanced placement spreads over these). */
  attributeValues: ReadonlyMap<string, ReadonlySet<string>>;
  /** Stop after this many launches. Defaults to no limit. */
  maxLaunches?: number;
}

/** A decision: launch `task` on `offerId`. */
export interface Placement {
  task: PlaceableTask;
  offerId: string;
  agentId: string;
  hostname: string;
  /** The value of the job's group attribute on that agent (if grouped). */
  groupValue: string | undefined;
}

/** The output of {@link placeTasks}. */
export interface PlacementResult {
  placements: Placement[];
  /** Why each task left unplaced was not placed (`over quota: ...`, `no offer fits: ...`). */
  unplaced: Map<string, string>;
}

/** The value of an attribute of an agent (`hostname` included), or undefined. */
export function attributeOf(o: { hostname: string; attributes: Record<string, string> }, name: string): string | undefined {
  return name === 'hostname' ? o.hostname : o.attributes[name];
}

/** Why the constraints refuse the agent (undefined when they accept it). */
export function constraintViolation(constraints: readonly Constraint[], agent: { hostname: string; attributes: Record<string, string> }): string | undefined {
  for (const [attr, op, value] of constraints) {
    const v = attributeOf(agent, attr);
    if (op === 'EQUALS' && v !== value) return `constraint ${attr} EQUALS ${value} (has ${v ?? 'none'})`;
    if (op === 'LIKE' && (v === undefined || !new RegExp(`^(?:${value})$`).test(v))) return `constraint ${attr} LIKE ${value} (has ${v ?? 'none'})`;
    if (op === 'UNLIKE' && v !== undefined && new RegExp(`^(?:${value})$`).test(v)) return `constraint ${attr} UNLIKE ${value} (has ${v})`;
  }
  return undefined;
}

/** Why group placement refuses the agent for another instance of the job. */
export function groupViolation(group: GroupPlacement | undefined, state: GroupState | undefined, agent: { hostname: string; attributes: Record<string, string> }, values: ReadonlySet<string> | undefined): string | undefined {
  if (!group) return undefined;
  if (group.type === 'unique-host') return state?.hosts.has(agent.hostname) ? `group unique-host: an instance already runs on ${agent.hostname}` : undefined;
  const v = attributeOf(agent, group.attribute);
  if (v === undefined) return `group ${group.type} over ${group.attribute}: the agent has no ${group.attribute}`;
  const counts = state?.counts ?? new Map<string, number>();
  if (group.type === 'same') {
    const fixed = [...counts.entries()].find(([, n]) => n > 0)?.[0];
    return fixed !== undefined && fixed !== v ? `group same ${group.attribute}: instances are on ${fixed}, the agent has ${v}` : undefined;
  }
  let min = Infinity;
  for (const value of values ?? [v]) min = Math.min(min, counts.get(value) ?? 0);
  const mine = counts.get(v) ?? 0;
  return mine > min ? `group balanced over ${group.attribute}: ${v} has ${mine} instances, another value has ${min}` : undefined;
}

/**
 * Places pending tasks into offers, in DRF order (per-user queues merged by dominant share ÷
 * weight, updated as tasks are placed), many tasks per offer. A task that fits no offer, or is
 * over its user's quota, is skipped with the reason and the user's next task is tried: one big
 * job never blocks a user's smaller ones (no head-of-line blocking). Pure.
 */
export function placeTasks(input: PlacementInput): PlacementResult {
  const queues = userQueues(input.pending) as Map<string, PlaceableTask[]>;
  const usage = new Map<string, UserUsage>();
  for (const u of queues.keys()) usage.set(u, { ...(input.usage.get(u) ?? { resources: ZERO, count: 0 }) });
  const offers = input.offers.map((o) => ({ ...o, free: { ...o.free } }));
  const groups = new Map<string, GroupState>();
  const groupOf = (jobId: string): GroupState => {
    let g = groups.get(jobId);
    if (!g) {
      const src = input.groups.get(jobId);
      g = { hosts: new Set(src?.hosts), counts: new Map(src?.counts) };
      groups.set(jobId, g);
    }
    return g;
  };
  const placements: Placement[] = [];
  const unplaced = new Map<string, string>();
  const max = input.maxLaunches ?? Infinity;
  while (placements.length < max) {
    const user = nextUser(queues, usage, input.total, input.policy);
    if (user === undefined) break;
    const task = queues.get(user)!.shift()!;
    const u = usage.get(user)!;
    const violation = quotaViolation(input.policy.quotas[user], u, task.resources);
    if (violation) {
      unplaced.set(task.key, `over quota: ${violation}`);
      continue;
    }
    const reasons: string[] = [];
    let chosen: (typeof offers)[number] | undefined;
    const group = task.group ? groupOf(task.jobId) : undefined;
    for (const o of offers) {
      const why =
        constraintViolation(task.constraints, o) ??
        groupViolation(task.group, group, o, task.group && task.group.type !== 'unique-host' ? input.attributeValues.get(task.group.attribute) : undefined) ??
        (shortfall(o.free, task.resources).join(', ') || (o.ports < task.ports ? `ports: need ${task.ports}, have ${o.ports}` : ''));
      if (why) reasons.push(`${o.hostname}: ${why}`);
      else {
        chosen = o;
        break;
      }
    }
    if (!chosen) {
      unplaced.set(task.key, offers.length === 0 ? 'no offers' : `no offer fits: ${reasons.join('; ')}`);
      continue;
    }
    chosen.free = subtractScalars(chosen.free, task.resources);
    chosen.ports -= task.ports;
    const groupValue = task.group && task.group.type !== 'unique-host' ? attributeOf(chosen, task.group.attribute) : undefined;
    if (group) {
      group.hosts.add(chosen.hostname);
      if (groupValue !== undefined) group.counts.set(groupValue, (group.counts.get(groupValue) ?? 0) + 1);
    }
    usage.set(user, { resources: addScalars(u.resources, task.resources), count: u.count + 1 });
    placements.push({ task, offerId: chosen.offerId, agentId: chosen.agentId, hostname: chosen.hostname, groupValue });
  }
  for (const q of queues.values()) for (const t of q) if (!unplaced.has(t.key)) unplaced.set(t.key, 'launch limit of this round reached');
  return { placements, unplaced };
}

/**
 * Why a task can never run on the known agents (undefined when some agent is big enough
 * and accepts its constraints): compared with each agent's full capacity, not what is free.
 */
export function unschedulableReason(task: { resources: Scalars; ports: number; constraints: readonly Constraint[] }, agents: readonly { hostname: string; attributes: Record<string, string>; capacity: Scalars; ports: number }[]): string | undefined {
  if (agents.length === 0) return undefined;
  const reasons: string[] = [];
  for (const a of agents) {
    const why = constraintViolation(task.constraints, a) ?? (shortfall(a.capacity, task.resources).join(', ') || (a.ports < task.ports ? `ports: need ${task.ports}, have ${a.ports}` : ''));
    if (!why) return undefined;
    reasons.push(`${a.hostname}: ${why}`);
  }
  return `larger than any agent or refused by constraints: ${reasons.join('; ')}`;
}

