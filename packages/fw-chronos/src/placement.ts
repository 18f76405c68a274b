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

/**
 * Packs runs (in the order given) into offers, honouring constraints; pure. Runs that fit
 * nowhere are left out (they stay queued). Fitting is a scalar budget per offer (cpus, mem, disk
 * allocatable to the offer's role), O(1) per run; the SDK's `launch` places the resources exactly
 * (and refuses with TASK_DOES_NOT_FIT, which puts the runs back in the queue, if the budget was
 * wrong).
 */
export function placeRuns(runs: readonly RunRecord[], offers: readonly Offer[], jobOf: (name: string) => Job | undefined): Placement[] {
  const EPSILON = 1e-9;
  const bins = offers.map((offer) => {
    const r = offer.resources.allocatableTo(offer.role);
    return { offer, cpus: r.scalar('cpus'), mem: r.scalar('mem'), disk: r.scalar('disk'), runs: [] as RunRecord[], tasks: [] as TaskSpec[] };
  });
  for (const run of runs) {
    const job = jobOf(run.job);
    if (!job) continue;
    for (const b of bins) {
      if (b.cpus + EPSILON < job.cpus || b.mem + EPSILON < job.mem || b.disk + EPSILON < job.disk) continue;
      if (!matchesConstraints(b.offer, job.constraints)) continue;
      b.cpus -= job.cpus;
      b.mem -= job.mem;
      b.disk -= job.disk;
      b.runs.push(run);
      b.tasks.push(taskSpecOf(job, run));
      break;
    }
  }
  return bins.filter((b) => b.tasks.length > 0).map(({ offer, runs: r, tasks }) => ({ offer, runs: r, tasks }));
}
