import { invalidJob } from './errors.js';

/** Resources one instance of a job asks for. */
export interface JobResources {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  /** Host ports (picked from the offer; the command sees PORT0.., PORTS). */
  ports: number;
}

/** A per-instance placement rule: `[attribute, op, value]`; `hostname` is an attribute too. */
export type Constraint = [attribute: string, op: 'EQUALS' | 'LIKE' | 'UNLIKE', value: string];

/**
 * Placement of an array's instances relative to each other: each on its own host, balanced
 * over the values of an attribute, or all on one value of an attribute.
 */
export type GroupPlacement = { type: 'unique-host' } | { type: 'balanced'; attribute: string } | { type: 'same'; attribute: string };

/** When an attempt fails, how long before the next one: `delayMs`, doubled per failure when exponential, capped, ± jitter. */
export interface RetryPolicy {
  backoff: 'fixed' | 'exponential';
  delayMs: number;
  maxDelayMs: number;
  /** Fraction (0..1) of the delay drawn at random either side. */
  jitter: number;
}

/** Kill and retry instances far slower than the group: running longer than `factor` × the `quantile` of finished instances' runtimes. */
export interface StragglerPolicy {
  quantile: number;
  factor: number;
  /** Finished instances needed before the quantile is trusted. */
  minFinished: number;
}

/** A validated job, as stored. */
export interface Job {
  /** Client-chosen: submitting the same id and definition again is a no-op. `[A-Za-z0-9_-]`, 1-64 chars. */
  id: string;
  /** The tenant. */
  user: string;
  /** Run by `/bin/sh -c` (a string) or exec'd directly (an argv array). */
  command: { shell: string } | { argv: string[] };
  env: Record<string, string>;
  resources: JobResources;
  /** 0-100: within one user's queue, higher first. Defaults to 50. */
  priority: number;
  /** Failed attempts retried per instance (preemption and straggler kills are not counted). Defaults to 0. */
  maxRetries: number;
  /** Milliseconds an attempt may run before it is killed (and retried as a failure). 0: no limit. */
  maxRuntimeMs: number;
  /** Milliseconds an attempt is expected to take (informational; used by `why`). 0: unknown. */
  expectedRuntimeMs: number;
  constraints: Constraint[];
  labels: Record<string, string>;
  /** Number of instances (an array when > 1); each sees its index in MESO_BATCH_INDEX. */
  instances: number;
  group: GroupPlacement | undefined;
  dependsOn: string[];
  /** What happens to this job when a dependency fails: fail with it, or hold (wait for a retry of the dependency). */
  onDependencyFailure: 'fail' | 'hold';
  retry: RetryPolicy;
  stragglers: StragglerPolicy | undefined;
  /** `batch`: the long-lived batch executor (one per agent); `command`: the agent's command executor, one process per task. */
  executor: 'batch' | 'command';
}

/** Defaults of the optional fields of a job. */
export const JOB_DEFAULTS = {
  user: 'default',
  env: {},
  cpus: 0.1,
  mem: 32,
  disk: 0,
  gpus: 0,
  ports: 0,
  priority: 50,
  maxRetries: 0,
  maxRuntimeMs: 0,
  expectedRuntimeMs: 0,
  instances: 1,
  onDependencyFailure: 'fail',
  retry: { backoff: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 },
  executor: 'batch',
} as const satisfies Record<string, unknown>;

const KNOWN_FIELDS = new Set([
  'id', 'user', 'command', 'env', 'cpus', 'mem', 'disk', 'gpus', 'ports', 'priority', 'maxRetries', 'maxRuntime', 'expectedRuntime',
  'constraints', 'labels', 'instances', 'group', 'dependsOn', 'onDependencyFailure', 'retry', 'stragglers', 'executor',
]);

/** The limits of a job id; also what makes task ids `${id}.${index}.${attempt}` unambiguous. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_INSTANCES = 10_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(o: Obj, key: string, field: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidJob(field, `must be a number, got ${JSON.stringify(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw invalidJob(field, `must be an integer, got ${v}`);
  const min = opts.min ?? 0;
  if (v < min) throw invalidJob(field, `must be >= ${min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw invalidJob(field, `must be <= ${opts.max}, got ${v}`);
  return v;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw invalidJob(field, 'must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw invalidJob(`${field}.${k}`, `must be a string, got ${JSON.stringify(x)}`);
    out[k] = x;
  }
  return out;
}

/** Milliseconds from `maxRuntime`-style fields: a number of seconds. */
function seconds(o: Obj, key: string, field: string): number {
  return Math.round(num(o, key, field, 0) * 1000);
}

/**
 * Validates one submitted job (plain JSON) and fills defaults. Throws `INVALID_JOB` naming the
 * first field at fault (`jobs[2].cpus: must be >= 0, got -1`). Unknown fields are refused too,
 * so a typo (`maxRetry`) is not silently ignored. Dependencies are checked by {@link checkGraph}.
 */
export function validateJob(input: unknown, path = 'job'): Job {
  if (!isObj(input)) throw invalidJob(path, 'must be an object');
  for (const k of Object.keys(input)) if (!KNOWN_FIELDS.has(k)) throw invalidJob(`${path}.${k}`, 'unknown field');
  const id = input['id'];
  if (typeof id !== 'string' || !JOB_ID_PATTERN.test(id)) throw invalidJob(`${path}.id`, `must be 1-64 characters of [A-Za-z0-9_-], got ${JSON.stringify(id)}`);
  const user = input['user'] ?? JOB_DEFAULTS.user;
  if (typeof user !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(user)) throw invalidJob(`${path}.user`, `must be 1-64 characters of [A-Za-z0-9_.-], got ${JSON.stringify(user)}`);
  const c = input['command'];
  let command: Job['command'];
  if (typeof c === 'string' && c.trim() !== '') command = { shell: c };
  else if (Array.isArray(c) && c.length > 0 && c.every((a) => typeof a === 'string') && c[0] !== '') command = { argv: c as string[] };
  else throw invalidJob(`${path}.command`, 'must be a non-empty shell string or a non-empty argv array of strings');
  const resources: JobResources = {
    cpus: num(input, 'cpus', `${path}.cpus`, JOB_DEFAULTS.cpus),
    mem: num(input, 'mem', `${path}.mem`, JOB_DEFAULTS.mem),
    disk: num(input, 'disk', `${path}.disk`, JOB_DEFAULTS.disk),
    gpus: num(input, 'gpus', `${path}.gpus`, JOB_DEFAULTS.gpus, { integer: true }),
    ports: num(input, 'ports', `${path}.ports`, JOB_DEFAULTS.ports, { integer: true, max: 100 }),
  };
  if (resources.cpus <= 0 && resources.mem <= 0) throw invalidJob(`${path}.cpus`, 'a job needs some cpus or mem');
  const constraints: Constraint[] = [];
  const cs = input['constraints'];
  if (cs !== undefined) {
    if (!Array.isArray(cs)) throw invalidJob(`${path}.constraints`, 'must be an array of [attribute, op, value]');
    cs.forEach((x: unknown, i) => {
      const f = `${path}.constraints[${i}]`;
      if (!Array.isArray(x) || x.length !== 3 || !x.every((s) => typeof s === 'string')) throw invalidJob(f, 'must be [attribute, op, value] strings');
      const [a, op, v] = x as [string, string, string];
      if (op !== 'EQUALS' && op !== 'LIKE' && op !== 'UNLIKE') throw invalidJob(`${f}[1]`, `must be EQUALS, LIKE or UNLIKE, got ${JSON.stringify(op)}`);
      if (op !== 'EQUALS') {
        try {
          new RegExp(`^(?:${v})$`);
        } catch {
          throw invalidJob(`${f}[2]`, `not a regular expression: ${v}`);
        }
      }
      constraints.push([a, op, v]);
    });
  }
  let group: GroupPlacement | undefined;
  const g = input['group'];
  if (g !== undefined) {
    if (!isObj(g)) throw invalidJob(`${path}.group`, 'must be an object');
    const t = g['type'];
    if (t === 'unique-host') group = { type: t };
    else if (t === 'balanced' || t === 'same') {
      const a = g['attribute'];
      if (typeof a !== 'string' || a === '') throw invalidJob(`${path}.group.attribute`, 'must be a non-empty string');
      group = { type: t, attribute: a };
    } else throw invalidJob(`${path}.group.type`, `must be unique-host, balanced or same, got ${JSON.stringify(t)}`);
  }
  const deps = input['dependsOn'];
  if (deps !== undefined && (!Array.isArray(deps) || !deps.every((d) => typeof d === 'string'))) throw invalidJob(`${path}.dependsOn`, 'must be an array of job ids');
  const dependsOn = [...new Set((deps ?? []) as string[])];
  if (dependsOn.includes(id)) throw invalidJob(`${path}.dependsOn`, `a job cannot depend on itself (${id})`);
  const odf = input['onDependencyFailure'] ?? JOB_DEFAULTS.onDependencyFailure;
  if (odf !== 'fail' && odf !== 'hold') throw invalidJob(`${path}.onDependencyFailure`, `must be fail or hold, got ${JSON.stringify(odf)}`);
  const r = input['retry'];
  const retry: RetryPolicy = { ...JOB_DEFAULTS.retry };
  if (r !== undefined) {
    if (!isObj(r)) throw invalidJob(`${path}.retry`, 'must be an object');
    for (const k of Object.keys(r)) if (!['backoff', 'delayMs', 'maxDelayMs', 'jitter'].includes(k)) throw invalidJob(`${path}.retry.${k}`, 'unknown field');
    const b = r['backoff'] ?? retry.backoff;
    if (b !== 'fixed' && b !== 'exponential') throw invalidJob(`${path}.retry.backoff`, `must be fixed or exponential, got ${JSON.stringify(b)}`);
    retry.backoff = b;
    retry.delayMs = num(r, 'delayMs', `${path}.retry.delayMs`, retry.delayMs);
    retry.maxDelayMs = num(r, 'maxDelayMs', `${path}.retry.maxDelayMs`, Math.max(retry.maxDelayMs, retry.delayMs));
    retry.jitter = num(r, 'jitter', `${path}.retry.jitter`, retry.jitter, { max: 1 });
    if (retry.maxDelayMs < retry.delayMs) throw invalidJob(`${path}.retry.maxDelayMs`, `must be >= delayMs (${retry.delayMs})`);
  }
  let stragglers: StragglerPolicy | undefined;
  const s = input['stragglers'];
  if (s !== undefined) {
    if (!isObj(s)) throw invalidJob(`${path}.stragglers`, 'must be an object');
    stragglers = {
      quantile: num(s, 'quantile', `${path}.stragglers.quantile`, 0.5, { max: 1 }),
      factor: num(s, 'factor', `${path}.stragglers.factor`, 3, { min: 1 }),
      minFinished: num(s, 'minFinished', `${path}.stragglers.minFinished`, 3, { min: 1, integer: true }),
    };
  }
  const ex = input['executor'] ?? JOB_DEFAULTS.executor;
  if (ex !== 'batch' && ex !== 'command') throw invalidJob(`${path}.executor`, `must be batch or command, got ${JSON.stringify(ex)}`);
  const env = stringMap(input['env'], `${path}.env`);
  for (const k of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw invalidJob(`${path}.env.${k}`, 'not a valid variable name');
  return {
    id,
    user,
    command,
    env,
    resources,
    priority: num(input, 'priority', `${path}.priority`, JOB_DEFAULTS.priority, { max: 100 }),
    maxRetries: num(input, 'maxRetries', `${path}.maxRetries`, JOB_DEFAULTS.maxRetries, { integer: true, max: 1000 }),
    maxRuntimeMs: seconds(input, 'maxRuntime', `${path}.maxRuntime`),
    expectedRuntimeMs: seconds(input, 'expectedRuntime', `${path}.expectedRuntime`),
    constraints,
    labels: stringMap(input['labels'], `${path}.labels`),
    instances: num(input, 'instances', `${path}.instances`, JOB_DEFAULTS.instances, { integer: true, min: 1, max: MAX_INSTANCES }),
    group,
    dependsOn,
    onDependencyFailure: odf,
    retry,
    stragglers,
    executor: ex,
  };
}

/**
 * Checks the dependencies of `submitted` jobs against the `existing` ones: every dependency
 * names a known job (existing or submitted together), and the graph stays acyclic. Throws
 * INVALID_JOB naming the field (`jobs[1].dependsOn`) and, for a cycle, the cycle.
 */
export function checkGraph(submitted: Job[], existing: (id: string) => { dependsOn: string[] } | undefined): void {
  const byId = new Map(submitted.map((j) => [j.id, j]));
  submitted.forEach((j, i) => {
    for (const d of j.dependsOn) if (!byId.has(d) && !existing(d)) throw invalidJob(`jobs[${i}].dependsOn`, `unknown job ${d}`);
  });
  const depsOf = (id: string): string[] => byId.get(id)?.dependsOn ?? existing(id)?.dependsOn ?? [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const d of depsOf(id)) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  submitted.forEach((j, i) => {
    const cycle = visit(j.id);
    if (cycle) throw invalidJob(`jobs[${i}].dependsOn`, `cycle: ${cycle.join(' -> ')}`);
  });
}

/** Whether two definitions are the same (an idempotent re-submission). */
export function sameJob(a: Job, b: Job): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
