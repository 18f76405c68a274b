import type { Offer, TaskSpec } from '@meso/sdk-scheduler';
import type { Constraint, Job } from './job.js';
import { taskIdOf, type RunRecord } from './run.js';

/** The values an offer's attribute offers to a constraint: text, scalar, each set element (not ranges). */
function attributeValues(offer: Offer, name: string): string[] {
  const a = offer.attributes.find((x) => x.name === name);
  if (!a) return name === 'hostname' ? [offer.hostname] : [];
  switch (a.kind) {
    case 'text':
      return [a.text];
    case 'scalar':
      return [String(a.value)];
    case 'set':
      return a.items;
    case 'ranges':
      return [];
  }
}

/**
 * Whether an offer satisfies Chronos constraints: EQUALS (exact), LIKE / UNLIKE (a regular
 * expression matching the whole value). They apply to text and scalar attributes and to the
 * elements of a set (LIKE: some element matches; UNLIKE: none does), not to ranges; `hostname`
 * is the agent's host name unless the agent sets such an attribute.
 */
export function matchesConstraints(offer: Offer, constraints: readonly Constraint[]): boolean {
  return constraints.every(([attr, op, value]) => {
    const values = attributeValues(offer, attr);
    if (op === 'EQUALS') return values.includes(value);
    const re = new RegExp(`^(?:${value})$`);
    const matches = values.some((v) => re.test(v));
    return op === 'LIKE' ? matches : !matches;
  });
}

/** The task of a run's current attempt: Chronos's command, arguments, environment and resources. */
export function taskSpecOf(job: Job, run: RunRecord): TaskSpec {
  const args = run.arguments ?? job.arguments;
  const env: Record<string, string> = {
    CHRONOS_JOB_NAME: job.name,
    CHRONOS_JOB_OWNER: job.owner,
    CHRONOS_RESOURCE_CPU: String(job.cpus),
    CHRONOS_RESOURCE_MEM: String(job.mem),
    CHRONOS_RESOURCE_DISK: String(job.disk),
    CHRONOS_SCHEDULED_TIME: new Date(run.scheduledFor).toISOString(),
    CHRONOS_ATTEMPT: String(run.attempt),
  };
  for (const { name, value } of job.environmentVariables) env[name] = value;
  // As Chronos: a shell command ignores `arguments`; without a shell they are the program's argv.
  const command = job.shell ? { shell: job.command, env } : { argv: [job.command, ...args], env };
  const resources: Record<string, number> = { cpus: job.cpus, mem: job.mem };
  if (job.disk > 0) resources['disk'] = job.disk;
  return { taskId: taskIdOf(run), name: `ChronosTask:${job.name}`, resources, command };
}

/** A task placed in an offer. */
export interface Placement {
  offer: Offer;
  runs: RunRecord[];
  tasks: TaskSpec[];
}

interface Bin<T> {
  offer: Offer;
  cpus: number;
  mem: number;
  disk: number;
  items: T[];
}

/**
 * Packs items (in the order given) into offers by their jobs' scalar budgets (cpus, mem, disk
 * allocatable to the offer's role) and constraints, first fit; pure. Items that fit nowhere are
 * left out.
 */
function pack<T>(items: readonly T[], offers: readonly Offer[], jobOf: (item: T) => Job | undefined): Bin<T>[] {
  const EPSILON = 1e-9;
  const bins: Bin<T>[] = offers.map((offer) => {
    const r = offer.resources.allocatableTo(offer.role);
    return { offer, cpus: r.scalar('cpus'), mem: r.scalar('mem'), disk: r.scalar('disk'), items: [] };
  });
  for (const item of items) {
    const job = jobOf(item);
    if (!job) continue;
    for (const b of bins) {
      if (b.cpus + EPSILON < job.cpus || b.mem + EPSILON < job.mem || b.disk + EPSILON < job.disk) continue;
      if (!matchesConstraints(b.offer, job.constraints)) continue;
      b.cpus -= job.cpus;
      b.mem -= job.mem;
      b.disk -= job.disk;
      b.items.push(item);
      break;
    }
  }
  return bins.filter((b) => b.items.length > 0);
}

/**
 * Packs runs (in the order given) into offers, honouring constraints; pure. Runs that fit
 * nowhere are left out (they stay queued). Fitting is a scalar budget per offer (cpus, mem, disk
 * allocatable to the offer's role), O(1) per run; the SDK's `launch` places the resources exactly
 * (and refuses with TASK_DOES_NOT_FIT, which puts the runs back in the queue, if the budget was
 * wrong).
 */
export function placeRuns(runs: readonly RunRecord[], offers: readonly Offer[], jobOf: (name: string) => Job | undefined): Placement[] {
  return pack(runs, offers, (run) => jobOf(run.job)).map((b) => ({ offer: b.offer, runs: b.items, tasks: b.items.map((run) => taskSpecOf(jobOf(run.job)!, run)) }));
}

/**
 * The offers worth holding for the runs wanted soon (queued, or due within the revive lead), in
 * order: those the runs would be packed into, as `placeRuns` packs them; pure. The rest are of no
 * use to Chronos now and should go back to the master at once — holding every offer while one
 * small run is due would starve the other frameworks of what those offers hold (ports above all).
 */
export function offersWanted(jobs: readonly Job[], offers: readonly Offer[]): Set<string> {
  return new Set(pack(jobs, offers, (job) => job).map((b) => b.offer.id));
}
