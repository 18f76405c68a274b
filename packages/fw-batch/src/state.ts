import type { StateStore } from '@meso/state';
import type { Quota } from './fair-share.js';
import type { Job } from './job.js';

/** Why an attempt was ended by fw-batch rather than by its command. */
export type EndReason = 'killed' | 'preempted' | 'straggler' | 'max-runtime' | 'launch-failed' | 'lost';

/** One attempt of one instance: its own task, sandbox, exit status and timings. */
export interface InstanceRecord {
  taskId: string;
  attempt: number;
  agentId: string;
  hostname: string;
  /** The value of the job's group attribute where it runs. */
  groupValue?: string;
  executor: 'batch' | 'command';
  /** LAUNCHING is written before the launch is sent (persist, then act). */
  state: 'LAUNCHING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'LOST';
  launchedAt: number;
  startedAt?: number;
  endedAt?: number;
  exitCode?: number;
  message?: string;
  sandbox?: string;
  /** Set when fw-batch ended (or is ending) the attempt itself. */
  endReason?: EndReason;
  /** Whether the attempt's failure counts against maxRetries. */
  counted?: boolean;
}

/** One instance (index) of a job and its attempts. */
export interface TaskRecord {
  jobId: string;
  index: number;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'killed';
  /** Failures counted against maxRetries. */
  failures: number;
  /** Not launched again before this time (retry backoff). */
  notBefore: number;
  attempts: InstanceRecord[];
}

/** A job as stored: its definition and where it is. */
export interface JobRecord {
  job: Job;
  submittedAt: number;
  /** `active` until every instance ended (or the job was killed / failed through a dependency). */
  status: 'active' | 'succeeded' | 'failed' | 'killed';
  /** Held: a dependency failed and the policy is `hold`; released by retrying the dependency. */
  held: boolean;
  endedAt?: number;
  /** Set when the job ended because of a dependency. */
  message?: string;
}

/** The fair-share policy as stored. */
export interface PolicyRecord {
  weights: Record<string, number>;
  quotas: Record<string, Quota>;
}

/** Every write fw-batch makes, through {@link BatchState.apply}. */
export type Command =
  | { type: 'putJob'; record: JobRecord }
  | { type: 'putTask'; record: TaskRecord }
  | { type: 'putPolicy'; record: PolicyRecord }
  | { type: 'setFrameworkId'; id: string };

const taskKey = (jobId: string, index: number): string => `tasks/${jobId}/${String(index).padStart(6, '0')}`;

/**
 * fw-batch's state: in memory, backed by a `StateStore`, changed only through `apply` — which
 * makes the write durable first and then updates memory, so whatever the engine acts on (a
 * launch, a kill) was persisted before. Writes to one key are applied in call order.
 */
export class BatchState {
  readonly jobs = new Map<string, JobRecord>();
  /** Tasks by `${jobId}/${index}`. */
  readonly tasks = new Map<string, TaskRecord>();
  /** Attempts by task id. */
  readonly byTaskId = new Map<string, { task: TaskRecord; instance: InstanceRecord }>();
  policy: PolicyRecord = { weights: {}, quotas: {} };
  frameworkId: string | undefined;
  private readonly chains = new Map<string, Promise<unknown>>();

  private constructor(private readonly store: StateStore) {}

  /** Loads everything from the store. */
  static async open(store: StateStore): Promise<BatchState> {
    const s = new BatchState(store);
    for (const e of await store.list<JobRecord>('jobs/')) s.jobs.set(e.value.job.id, e.value);
    for (const e of await store.list<TaskRecord>('tasks/')) s.remember(e.value);
    s.policy = (await store.get<PolicyRecord>('policy'))?.value ?? s.policy;
    s.frameworkId = (await store.get<{ id: string }>('framework'))?.value.id;
    return s;
  }

  /** Tasks of a job, by index. */
  tasksOf(jobId: string): TaskRecord[] {
    const job = this.jobs.get(jobId);
    if (!job) return [];
    const out: TaskRecord[] = [];
    for (let i = 0; i < job.job.instances; i++) {
      const t = this.tasks.get(`${jobId}/${i}`);
      if (t) out.push(t);
    }
    return out;
  }

  /** The one write path: durable first, then in memory. */
  apply(c: Command): Promise<void> {
    const key = c.type === 'putJob' ? `jobs/${c.record.job.id}` : c.type === 'putTask' ? taskKey(c.record.jobId, c.record.index) : c.type === 'putPolicy' ? 'policy' : 'framework';
    const value = c.type === 'setFrameworkId' ? { id: c.id } : structuredClone(c.record);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      await this.store.put(key, value);
    });
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next.then(() => {
      switch (c.type) {
        case 'putJob':
          this.jobs.set(c.record.job.id, c.record);
          break;
        case 'putTask':
          this.remember(c.record);
          break;
        case 'putPolicy':
          this.policy = c.record;
          break;
        case 'setFrameworkId':
          this.frameworkId = c.id;
          break;
      }
    });
  }

  private remember(t: TaskRecord): void {
    this.tasks.set(`${t.jobId}/${t.index}`, t);
    for (const instance of t.attempts) this.byTaskId.set(instance.taskId, { task: t, instance });
  }

  /** Waits for every write applied so far. */
  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}

/** Whether an attempt still holds resources (launching or running). */
export function isLive(i: InstanceRecord): boolean {
  return i.state === 'LAUNCHING' || i.state === 'RUNNING';
}

/** The task id of an attempt: `${jobId}.${index}.${attempt}` (job ids have no dots). */
export function taskIdOf(jobId: string, index: number, attempt: number): string {
  return `${jobId}.${index}.${attempt}`;
}
