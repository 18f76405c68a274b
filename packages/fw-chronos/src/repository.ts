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
 * fw-chronos's state over a `StateStore`, with one write path: `apply(command)`. Writes to one
 * key are applied in call order; writes to different keys run concurrently (so a thousand runs
 * due at once do not queue behind each other's fsync). Each write is durable before it resolves.
 * At most one run per (job, scheduled time) is enforced here with compare-and-set (expected
 * version 0), so it holds across restarts and failovers.
 */
export class Repository {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly versions = new Map<string, number>();

  constructor(private readonly store: StateStore) {}

  /** Applies one command; resolves true when it took effect (false: a run already existed). */
  apply(command: Command): Promise<boolean> {
    const key = keyOf(command);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.applyNow(command));
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
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
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}

function keyOf(c: Command): string {
  switch (c.type) {
    case 'putJob':
      return `jobs/${c.record.job.name}`;
    case 'deleteJob':
      return `jobs/${c.name}`;
    case 'createRun':
    case 'updateRun':
      return runKey(c.run.job, c.run.scheduledFor);
    case 'deleteRun':
      return runKey(c.job, c.scheduledFor);
    case 'setFrameworkId':
      return 'framework';
  }
}
