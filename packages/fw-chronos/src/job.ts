import { findCycle } from './dag.js';
import { invalidJob } from './errors.js';
import { durationToMs, parseDuration } from './iso8601.js';
import { MISSED_RUN_POLICIES, type MissedRunPolicy } from './missed-runs.js';
import { resolveScheduleStart, scheduleSpecOf } from './schedule.js';

/** A Chronos constraint: `[attribute, 'EQUALS' | 'LIKE' | 'UNLIKE', value]` (`hostname` is the agent's host). */
export type Constraint = [string, 'EQUALS' | 'LIKE' | 'UNLIKE', string];

/**
 * A job in Chronos's JSON, plus fw-chronos's additions. Unknown Chronos fields (`async`, `uris`,
 * `executor`, `container`, ...) are kept as given so existing job JSON round-trips.
 */
export interface Job {
  /** `[\w.-]+`. */
  name: string;
  command: string;
  /** Passed to `command` run as argv when `shell` is false; ignored when it is true (as Chronos does). Defaults to `[]`. */
  arguments: string[];
  /** Run `command` through `/bin/sh -c` (true) or as argv (false). Defaults to true. */
  shell: boolean;
  /** `R[n]/start/period`; empty for dependent and cron jobs. */
  schedule: string;
  /** IANA zone the schedule is read in; wins over an offset in `schedule`. Defaults to ''. */
  scheduleTimeZone: string;
  /** Beyond Chronos: a 5-field cron expression, instead of `schedule`. */
  cron?: string;
  /** Beyond Chronos: the IANA zone of `cron`. Defaults to UTC. */
  timezone?: string;
  /** Dependent job: runs after all of these succeed. Excludes `schedule` and `cron`. */
  parents: string[];
  /** How late a run may still start (ISO 8601 duration): the starting deadline. Defaults to PT60S. */
  epsilon: string;
  /** Beyond Chronos: what to do with missed runs. Defaults to `runOnce` (Chronos 3). */
  missedRunPolicy: MissedRunPolicy;
  /** Retries of a failed run. Defaults to 2. */
  retries: number;
  /** Beyond Chronos: seconds before a retry. Defaults to 60. */
  retryDelaySeconds: number;
  /** Beyond Chronos: each further retry waits this many times longer. Defaults to 1 (no backoff). */
  retryBackoff: number;
  /** Beyond Chronos: disable the job after this many failed runs in a row; 0 = never. Defaults to 0. */
  disableAfterFailures: number;
  /** Beyond Chronos: seconds a run may take before it is killed and counted as failed; 0 = no limit. */
  maxCompletionTime: number;
  disabled: boolean;
  /** Whether runs may overlap. Defaults to false (a due run waits for the previous one). */
  concurrent: boolean;
  cpus: number;
  mem: number;
  disk: number;
  environmentVariables: Array<{ name: string; value: string }>;
  constraints: Constraint[];
  owner: string;
  ownerName: string;
  description: string;
  /** Read-only counters (ignored on input). */
  successCount: number;
  errorCount: number;
  /** ISO 8601 instants, '' when never. */
  lastSuccess: string;
  lastError: string;
  errorsSinceLastSuccess: number;
  /** Beyond Chronos: failed attempts that were retried. */
  retryCount: number;
  /** Beyond Chronos: scheduled times given up under the missed-run policy. */
  skippedCount: number;
  [extra: string]: unknown;
}

/** Chronos's defaults for the fields a client may leave out. */
export const JOB_DEFAULTS = {
  arguments: [] as string[],
  shell: true,
  schedule: '',
  scheduleTimeZone: '',
  parents: [] as string[],
  epsilon: 'PT60S',
  missedRunPolicy: 'runOnce' as MissedRunPolicy,
  retries: 2,
  retryDelaySeconds: 60,
  retryBackoff: 1,
  disableAfterFailures: 0,
  maxCompletionTime: 0,
  disabled: false,
  concurrent: false,
  cpus: 0.1,
  mem: 128,
  disk: 256,
  environmentVariables: [] as Array<{ name: string; value: string }>,
  constraints: [] as Constraint[],
  owner: '',
  ownerName: '',
  description: '',
} as const;

const COUNTERS = ['successCount', 'errorCount', 'lastSuccess', 'lastError', 'errorsSinceLastSuccess', 'retryCount', 'skippedCount'] as const;

/** Job names: Chronos's `[\w.-]+`. */
export const JOB_NAME = /^[\w.-]+$/;

/** The counters of a new job. */
export function emptyCounters(): Pick<Job, (typeof COUNTERS)[number]> {
  return { successCount: 0, errorCount: 0, lastSuccess: '', lastError: '', errorsSinceLastSuccess: 0, retryCount: 0, skippedCount: 0 };
}

function str(v: unknown, field: string, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw invalidJob(field, `must be a string, got ${typeof v}`);
  return v;
}
function bool(v: unknown, field: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw invalidJob(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function num(v: unknown, field: string, fallback: number, opts: { min?: number; integer?: boolean; positive?: boolean } = {}): number {
  if (v === undefined || v === null) return fallback;
  // Chronos's own examples send numbers as strings ("cpus": "0.5"); accept those that parse.
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidJob(field, `must be a number, got ${JSON.stringify(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw invalidJob(field, `must be a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw invalidJob(field, `must be >= ${opts.min}, got ${v}`);
  if (opts.positive && v <= 0) throw invalidJob(field, `must be > 0, got ${v}`);
  return v;
}
function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidJob(field, 'must be a list of strings');
  return [...(v as string[])];
}

/** What validation needs to know besides the job: the stored jobs (for parents and cycles) and now. */
export interface JobContext {
  existing: ReadonlyMap<string, Pick<Job, 'name' | 'parents'>>;
  now: number;
  /** The stored version of this job, whose counters are kept. */
  previous?: Job;
  /** Whether the job came through POST /dependency (must have parents) or /iso8601 (must not). */
  kind?: 'scheduled' | 'dependent';
}

/**
 * Validates Chronos job JSON and fills Chronos's defaults. Throws INVALID_JOB naming the field:
 * a bad name, an unparseable schedule or period, an unknown time zone, `schedule` with
 * `parents`, an unknown parent, a cycle. An empty schedule start is fixed to `now`.
 */
export function normalizeJob(input: unknown, ctx: JobContext): Job {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidJob('job', 'must be a JSON object');
  const raw = input as Record<string, unknown>;
  const name = str(raw['name'], 'name', '');
  if (!JOB_NAME.test(name)) throw invalidJob('name', `'${name}' must match [\\w.-]+ (letters, digits, _ . -)`);
  const command = str(raw['command'], 'command', '');
  if (command.trim() === '' && raw['container'] === undefined) throw invalidJob('command', 'is required');
  const parents = strings(raw['parents'], 'parents');
  const scheduleText = str(raw['schedule'], 'schedule', '').trim();
  const cron = str(raw['cron'], 'cron', '').trim();
  if (parents.length > 0 && (scheduleText !== '' || cron !== '')) throw invalidJob('parents', 'a job has either a schedule or parents, not both');
  if (scheduleText !== '' && cron !== '') throw invalidJob('cron', 'a job has either schedule or cron, not both');
  if (ctx.kind === 'dependent' && parents.length === 0) throw invalidJob('parents', 'a dependent job needs at least one parent');
  if (ctx.kind === 'scheduled' && parents.length > 0) throw invalidJob('parents', 'POST /iso8601 takes scheduled jobs; post dependent jobs to /dependency');
  if (parents.length === 0 && scheduleText === '' && cron === '') throw invalidJob('schedule', 'is required (R[n]/start/period), or cron, or parents');
  for (const p of parents) {
    if (p === name) throw invalidJob('parents', `job '${name}' cannot depend on itself`);
    if (!ctx.existing.has(p)) throw invalidJob('parents', `parent '${p}' does not exist`);
  }
  if (new Set(parents).size !== parents.length) throw invalidJob('parents', 'lists a parent twice');
  const edges = new Map<string, readonly string[]>([...ctx.existing.values()].map((j) => [j.name, j.parents]));
  edges.set(name, parents);
  const cycle = findCycle(edges);
  if (cycle) throw invalidJob('parents', `would make a cycle: ${cycle.join(' -> ')}`);

  const schedule = scheduleText === '' ? '' : resolveScheduleStart(scheduleText, ctx.now);
  const scheduleTimeZone = str(raw['scheduleTimeZone'], 'scheduleTimeZone', '');
  const timezone = str(raw['timezone'], 'timezone', '');
  scheduleSpecOf({ schedule, scheduleTimeZone, cron, timezone }); // throws on a bad schedule, cron or zone

  let epsilon = str(raw['epsilon'], 'epsilon', JOB_DEFAULTS.epsilon);
  if (raw['startingDeadlineSeconds'] !== undefined) epsilon = `PT${num(raw['startingDeadlineSeconds'], 'startingDeadlineSeconds', 60, { min: 0 })}S`;
  if (!parseDuration(epsilon)) throw invalidJob('epsilon', `'${epsilon}' is not an ISO 8601 duration such as PT60S`);
  const policy = str(raw['missedRunPolicy'], 'missedRunPolicy', JOB_DEFAULTS.missedRunPolicy) as MissedRunPolicy;
  if (!MISSED_RUN_POLICIES.includes(policy)) throw invalidJob('missedRunPolicy', `must be one of ${MISSED_RUN_POLICIES.join(', ')}, got '${policy}'`);

  const environmentVariables = raw['environmentVariables'] ?? [];
  if (!Array.isArray(environmentVariables) || environmentVariables.some((e) => typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.value !== 'string')) {
    throw invalidJob('environmentVariables', 'must be a list of {"name": ..., "value": ...} strings');
  }
  const constraints = raw['constraints'] ?? [];
  if (!Array.isArray(constraints)) throw invalidJob('constraints', 'must be a list of [attribute, operator, value]');
  constraints.forEach((c: unknown, i) => {
    if (!Array.isArray(c) || c.length !== 3 || c.some((x) => typeof x !== 'string')) throw invalidJob(`constraints[${i}]`, 'must be [attribute, operator, value]');
    if (!['EQUALS', 'LIKE', 'UNLIKE'].includes(c[1] as string)) throw invalidJob(`constraints[${i}]`, `operator '${String(c[1])}' must be EQUALS, LIKE or UNLIKE`);
    if (c[1] !== 'EQUALS') {
      try {
        new RegExp(c[2] as string);
      } catch {
        throw invalidJob(`constraints[${i}]`, `'${String(c[2])}' is not a regular expression`);
      }
    }
  });

  const counters = ctx.previous ? Object.fromEntries(COUNTERS.map((k) => [k, ctx.previous![k]])) : emptyCounters();
  const extras = Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in JOB_DEFAULTS) && !COUNTERS.includes(k as never) && !['name', 'command', 'cron', 'timezone', 'startingDeadlineSeconds'].includes(k)));
  const job: Job = {
    ...extras,
    name,
    command,
    arguments: strings(raw['arguments'], 'arguments'),
    shell: bool(raw['shell'], 'shell', JOB_DEFAULTS.shell),
    schedule,
    scheduleTimeZone,
    ...(cron ? { cron, timezone: timezone || 'UTC' } : {}),
    parents,
    epsilon,
    missedRunPolicy: policy,
    retries: num(raw['retries'], 'retries', JOB_DEFAULTS.retries, { min: 0, integer: true }),
    retryDelaySeconds: num(raw['retryDelaySeconds'], 'retryDelaySeconds', JOB_DEFAULTS.retryDelaySeconds, { min: 0 }),
    retryBackoff: num(raw['retryBackoff'], 'retryBackoff', JOB_DEFAULTS.retryBackoff, { min: 1 }),
    disableAfterFailures: num(raw['disableAfterFailures'], 'disableAfterFailures', JOB_DEFAULTS.disableAfterFailures, { min: 0, integer: true }),
    maxCompletionTime: num(raw['maxCompletionTime'], 'maxCompletionTime', JOB_DEFAULTS.maxCompletionTime, { min: 0 }),
    disabled: bool(raw['disabled'], 'disabled', JOB_DEFAULTS.disabled),
    concurrent: bool(raw['concurrent'], 'concurrent', JOB_DEFAULTS.concurrent),
    cpus: num(raw['cpus'], 'cpus', JOB_DEFAULTS.cpus, { positive: true }),
    mem: num(raw['mem'], 'mem', JOB_DEFAULTS.mem, { positive: true }),
    disk: num(raw['disk'], 'disk', JOB_DEFAULTS.disk, { min: 0 }),
    environmentVariables: environmentVariables.map((e: { name: string; value: string }) => ({ name: e.name, value: e.value })),
    constraints: constraints as Constraint[],
    owner: str(raw['owner'], 'owner', ''),
    ownerName: str(raw['ownerName'], 'ownerName', ''),
    description: str(raw['description'], 'description', ''),
    ...(counters as Pick<Job, (typeof COUNTERS)[number]>),
  };
  return job;
}

/** The starting deadline of a job in ms (its `epsilon`). */
export function startingDeadlineMs(job: Pick<Job, 'epsilon'>): number {
  return durationToMs(job.epsilon, 'epsilon');
}
