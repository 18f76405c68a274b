import type { Logger } from '@meso/proto';
import type { StateStore } from '@meso/state';

/** What the agent checkpoints about a live executor run (enough to clean it up after a restart). */
export interface CheckpointedRun {
  runId: string;
  pid: number;
  frameworkId: string;
  executorId: string;
  sandbox: string;
  /** Tasks of the run that were not terminal at the last write. */
  tasks: string[];
}

const PREFIX = 'runs';

/**
 * Executor runs in the agent's checkpoint store (`meta/runs/<runId>.json`), written when a
 * run starts and when its task list changes, removed when it ends. Writes are serialized
 * per run by the store; failures are logged, never thrown (a checkpoint must not stop a task).
 */
export class RunCheckpoints {
  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
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

  async list(): Promise<CheckpointedRun[]> {
    return (await this.store.list<CheckpointedRun>(`${PREFIX}/`)).map((e) => e.value);
  }
}
