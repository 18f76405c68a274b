import { invalid, RedisFwError } from './errors.js';

/**
 * Sizing rules and request validation: pure functions of the request and of what fw-redis knows
 * of the agents. Nothing here touches state; the engine calls them before writing anything.
 */

/** Instance names: what is safe in a task id, a Redis key prefix and a URL path segment. */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;
/**
 * The smallest `maxmemory` fw-redis gives a server, MB. Redis itself starts with about 1 MB in
 * use and its replication backlog alone is 1 MB, so below this a server is full before it holds data.
 */
export const MIN_CAPACITY_MB = 16;
/** Memory a redis-server task gets above its `maxmemory`: fork for AOF rewrite, buffers, the process. */
export const TASK_MEM_OVERHEAD_MB = 32;
/** The most replicas an instance may have. */
export const MAX_REPLICAS = 100;

/** The task mem (MB) of a server whose `maxmemory` is `capacityMb`. */
export const taskMemFor = (capacityMb: number): number => capacityMb + TASK_MEM_OVERHEAD_MB;

/** How an API names the request's fields in its errors. */
export interface FieldNames {
  capacityMb: string;
  replicas: string;
  masters: string;
  distribution: string;
}

/** MrRedis's names (`/v1`). */
export const V1_FIELDS: FieldNames = { capacityMb: 'capacityMB', replicas: 'slaves', masters: 'masters', distribution: 'Distribution' };
/** Our JSON API's names (`/v2`). */
export const V2_FIELDS: FieldNames = { capacityMb: 'capacityMb', replicas: 'replicas', masters: 'masters', distribution: 'distribution' };

/** A validated request to create an instance. */
export interface CreateRequest {
  name: string;
  capacityMb: number;
  replicas: number;
  /** At most this many members per agent. Defaults to 1 + replicas (no limit). */
  distribution: number;
}

/** An agent as fw-redis knows it from offers: the most it could hold for us. */
export interface AgentCapacity {
  agentId: string;
  memMb: number;
  cpus: number;
  /** Disk (MB) it could give our volumes; counted only when volumes are asked for. */
  diskMb?: number;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Checks an instance name. */
export function checkName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw invalid(field, `must be 1-63 letters, digits, '-' or '_' starting with a letter or digit, got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Checks a capacity in MB. */
export function checkCapacity(v: unknown, field = 'capacityMB'): number {
  if (!isInt(v)) throw invalid(field, `must be a whole number of MB, got ${JSON.stringify(v)}`);
  if (v < MIN_CAPACITY_MB) throw invalid(field, `${v} MB is below the minimum of ${MIN_CAPACITY_MB} MB`);
  return v;
}

/** Checks a replica count. */
export function checkReplicas(v: unknown, field = 'slaves'): number {
  if (!isInt(v) || v < 0 || v > MAX_REPLICAS) throw invalid(field, `must be a whole number 0-${MAX_REPLICAS}, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates the fields of a create request (not yet against the cluster). */
export function validateCreate(input: { name: unknown; capacityMb: unknown; masters?: unknown; replicas: unknown; distribution?: unknown }, fields: FieldNames = V1_FIELDS): CreateRequest {
  const name = checkName(input.name);
  const capacityMb = checkCapacity(input.capacityMb, fields.capacityMb);
  if (input.masters !== undefined && input.masters !== 1) throw invalid(fields.masters, `must be 1 (an instance has one master; use replicas for more servers), got ${JSON.stringify(input.masters)}`);
  const replicas = checkReplicas(input.replicas, fields.replicas);
  const distribution = input.distribution === undefined || input.distribution === null ? 1 + replicas : input.distribution;
  if (!isInt(distribution) || distribution < 1) throw invalid(fields.distribution, `must be a whole number >= 1, got ${JSON.stringify(distribution)}`);
  return { name, capacityMb, replicas, distribution };
}

/** How many servers of `taskMemMb`, `cpus` (and a volume of `volumeMb`) the agents can hold with at most `distribution` each. */
export function slotsFor(agents: readonly AgentCapacity[], taskMemMb: number, cpus: number, distribution: number, volumeMb = 0): number {
  let slots = 0;
  for (const a of agents) {
    const byDisk = volumeMb > 0 ? Math.floor((a.diskMb ?? 0) / volumeMb) : Number.POSITIVE_INFINITY;
    slots += Math.min(distribution, Math.floor(a.memMb / taskMemMb), Math.floor(a.cpus / cpus + 1e-9), byDisk);
  }
  return slots;
}

/**
 * Checks that the cluster as known can hold `members` servers of `capacityMb` spread with at most
 * `distribution` per agent. With no agent known yet (fw-redis just started) it accepts: the
 * instance then waits in CREATING and says why.
 */
export function checkFeasible(agents: readonly AgentCapacity[], capacityMb: number, members: number, distribution: number, cpus: number, fields: Pick<FieldNames, 'capacityMb' | 'replicas'> = V1_FIELDS, volumeMb = 0): void {
  if (agents.length === 0) return;
  const mem = taskMemFor(capacityMb);
  const largest = Math.max(...agents.map((a) => a.memMb));
  if (largest < mem) {
    throw new RedisFwError('UNSATISFIABLE', `${fields.capacityMb}: ${capacityMb} MB (a task of ${mem} MB with overhead) is above every agent (the largest has ${largest} MB)`, { field: fields.capacityMb });
  }
  const largestDisk = Math.max(...agents.map((a) => a.diskMb ?? 0));
  if (volumeMb > 0 && largestDisk < volumeMb) {
    throw new RedisFwError('UNSATISFIABLE', `${fields.capacityMb}: ${capacityMb} MB needs a volume of ${volumeMb} MB, above every agent's disk (the largest has ${largestDisk} MB)`, { field: fields.capacityMb });
  }
  const slots = slotsFor(agents, mem, cpus, distribution, volumeMb);
  if (slots < members) {
    throw new RedisFwError(
      'UNSATISFIABLE',
      `${fields.replicas}: 1 master + ${members - 1} replicas cannot be spread with at most ${distribution} per agent over ${agents.length} agents (room for ${slots} servers of ${mem} MB${volumeMb > 0 ? ` with ${volumeMb} MB volumes` : ''})`,
      { field: fields.replicas },
    );
  }
}
