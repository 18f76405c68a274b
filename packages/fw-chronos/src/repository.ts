import type { StateStore } from '@meso/state';
import type { Job } from './job.js';
import { runKey, type RunRecord } from './run.js';

/** A job as stored: its definition and counters plus the scheduler's cursors. */
export interface JobRecord {
  job: Job;
  createdAt: number;
  /** The latest scheduled time handled (fired or skipped); runs are due strictly after it. */
  cursor: number;
  /** When the job last ran because its parents succeeded (creation time at first). */
  dependencyCursor: number;
}

/** Every write fw-chronos makes, through {@link Repository.apply}. */
export type Command =
  | { type: 'putJob'; record: JobRecord }
  | { type: 'deleteJob'; name: string }
  /** Creates a run; refused (resolves false) when the job already has a run at that time. */
  | { type: 'createRun'; run: RunRecord }
  | { type: 'updateRun'; run: RunRecord }
  | { type: 'deleteRun'; job: string; scheduledFor: number }
  | { type: 'setFrameworkId'; id: string };

/**
 * fw-chronos's state over a `StateStore`, with one write path: `apply(command)`, serialized, each
 * write durable before it resolves. At most one run per (job, scheduled time) is enforced here
 * with compare-and-set (expected version 0), so it holds across restarts and failovers.
 */
export class Repository {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly versions = new Map<string, number>();

  constructor(private readonly store: StateStore) {}

  /** Applies one command; resolves true when it took effect (false: a run already existed). */
  apply(command: Command): Promise<boolean> {
    const next = this.chain.then(() => this.applyNow(command));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async applyNow(c: Command): Promise<boolean> {
    switch (c.type) {
      case 'putJob':
        await this.store.put(`jobs/${c.record.job.name}`, c.record);
        return true;
      case 'deleteJob': {
        await this.store.delete(`jobs/${c.name}`);
        for (const e of await this.store.list(`runs/${c.name}/`)) {
          await this.store.delete(e.key);
          this.versions.delete(e.key);
        }
        return true;
      }
      case 'createRun': {
        const key = runKey(c.run.job, c.run.scheduledFor);
        try {
          this.versions.set(key, await this.store.put(key, c.run, { expectedVersion: 0 }));
          return true;
        } catch (e) {
          if ((e as { code?: string }).code === 'STATE_CONFLICT') return false;
          throw e;
        }
      }
      case 'updateRun': {
        const key = runKey(c.run.job, c.run.scheduledFor);
        this.versions.set(key, await this.store.put(key, c.run));
        return true;
      }
      case 'deleteRun': {
        const key = runKey(c.job, c.scheduledFor);
        this.versions.delete(key);
        return this.store.delete(key);
      }
      case 'setFrameworkId':
        await this.store.put('framework', { id: c.id });
        return true;
    }
  }

  async loadJobs(): Promise<JobRecord[]> {
    return (await this.store.list<JobRecord>('jobs/')).map((e) => e.value);
  }

  /** Runs of a job, oldest first (or of every job with no name). */
  async loadRuns(job?: string): Promise<RunRecord[]> {
    return (await this.store.list<RunRecord>(job === undefined ? 'runs/' : `runs/${job}/`)).map((e) => e.value);
  }

  async frameworkId(): Promise<string | undefined> {
    return (await this.store.get<{ id: string }>('framework'))?.value.id;
  }

  /** Waits for every write applied so far. */
  async flush(): Promise<void> {
    await this.chain;
  }
}
