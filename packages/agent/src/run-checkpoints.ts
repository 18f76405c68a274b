import { rename } from 'node:fs/promises';
import type { Logger } from '@meso/proto';
import { StateError, type StateStore } from '@meso/state';
import { listKeys } from './checkpoint-files.js';

/** A task of a checkpointed run, as the run holds it. */
export interface CheckpointedTask {
  /** TaskInfo in proto JSON (TaskInfo.toJSON). */
  info: unknown;
  state: number;
  launched: boolean;
}

/** What the agent checkpoints about a live executor run: enough to recover it after a restart, or to clean it up. */
export interface CheckpointedRun {
  runId: string;
  pid: number;
  /** The executor process's start time (/proc/<pid>/stat), to tell a reused pid. */
  startTime?: string;
  frameworkId: string;
  executorId: string;
  sandbox: string;
  /** Ids of the tasks of the run that were not terminal at the last write. */
  tasks: string[];
  /** The executor's secret: a recovered executor re-subscribes with it. */
  token?: string;
  kind?: 'command' | 'custom';
  /** ExecutorInfo and FrameworkInfo in proto JSON. */
  executorInfo?: unknown;
  frameworkInfo?: unknown;
  /** The live tasks in full (same order as `tasks`). */
  taskRecords?: CheckpointedTask[];
}

/** A checkpoint file that could not be read back. */
export interface CorruptCheckpoint {
  key: string;
  /** The file, renamed aside to `<file>.corrupt` so the next start does not trip on it again. */
  path: string;
  error: string;
}

const PREFIX = 'runs';

/**
 * Executor runs in the agent's checkpoint store (`meta/runs/<runId>.json`), written when a
 * run starts and whenever its tasks change, removed when it ends. Writes are serialized
 * per run by the store; failures are logged, never thrown (a checkpoint must not stop a task).
 */
export class RunCheckpoints {
  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    /** The store's directory (meta/), for listing its files one by one. */
    private readonly directory?: string,
  ) {}

  save(run: CheckpointedRun): Promise<void> {
    return this.store.put(`${PREFIX}/${run.runId}`, run).then(
      () => undefined,
      (e: unknown) => this.logger.error('cannot checkpoint an executor run', { runId: run.runId, error: (e as Error).message }),
    );
  }

  remove(runId: string): Promise<void> {
    return this.store.delete(`${PREFIX}/${runId}`).then(
      () => undefined,
      (e: unknown) => this.logger.error('cannot remove an executor run checkpoint', { runId, error: (e as Error).message }),
    );
  }

  /**
   * Every checkpointed run. A file that cannot be read back (truncated, corrupt, not a run)
   * does not stop the others: it is reported in `corrupt` (with the run id, its file name)
   * and renamed aside.
   */
  async list(): Promise<{ runs: CheckpointedRun[]; corrupt: CorruptCheckpoint[] }> {
    const keys = this.directory ? await listKeys(this.directory, PREFIX) : (await this.store.list(`${PREFIX}/`)).map((e) => e.key);
    const runs: CheckpointedRun[] = [];
    const corrupt: CorruptCheckpoint[] = [];
    for (const key of keys) {
      try {
        const value = (await this.store.get<CheckpointedRun>(key))?.value;
        if (value === undefined) continue;
        if (!isRun(value)) throw new StateError('STATE_CORRUPT', `state file for ${key} does not hold an executor run`);
        runs.push(value);
      } catch (e) {
        const path = (e as StateError).path ?? `${this.directory ?? '<meta>'}/${key}.json`;
        corrupt.push({ key, path, error: (e as Error).message });
        await rename(path, `${path}.corrupt`).catch(() => undefined);
      }
    }
    return { runs, corrupt };
  }
}

function isRun(v: unknown): v is CheckpointedRun {
  const r = v as CheckpointedRun;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.runId === 'string' &&
    Number.isInteger(r.pid) &&
    typeof r.frameworkId === 'string' &&
    typeof r.executorId === 'string' &&
    typeof r.sandbox === 'string' &&
    Array.isArray(r.tasks)
  );
}
