/**
 * The run ledger's record: one per (job, scheduled time), written before anything is launched.
 */

/**
 * Where a run is:
 * `QUEUED` (due, waiting for an offer) → `STAGING` (task id chosen and persisted, launch sent)
 * → `RUNNING` → `SUCCEEDED` | `FAILED`; a failed attempt with retries left goes to
 * `RETRY_WAIT` and back to `QUEUED`. `SKIPPED` records scheduled times given up under the
 * missed-run policy (never silently missed).
 */
export type RunState = 'QUEUED' | 'STAGING' | 'RUNNING' | 'RETRY_WAIT' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

/** Why a run exists. */
export type RunTrigger = 'schedule' | 'manual' | 'dependency';

/** One finished attempt of a run. */
export interface AttemptRecord {
  attempt: number;
  taskId: string;
  state: string;
  start?: number;
  end: number;
  exitStatus?: number;
  message?: string;
}

/** A run of a job: the ledger entry at `runs/<job>/<scheduledFor>`. */
export interface RunRecord {
  job: string;
  /** Ms since the epoch: the scheduled time (or the trigger time of a manual or dependency run). */
  scheduledFor: number;
  trigger: RunTrigger;
  /** 1 for the first attempt, +1 per retry. */
  attempt: number;
  state: RunState;
  /** The current attempt's task id, once chosen (persisted before launch). */
  taskId?: string;
  agentId?: string;
  /** When the current attempt was sent to the master (ACCEPT). */
  launchedAt?: number;
  /** When the current attempt reached TASK_RUNNING. */
  start?: number;
  end?: number;
  exitStatus?: number;
  message?: string;
  /** Ms from the scheduled time to the first attempt's TASK_RUNNING. */
  lateMs?: number;
  /** A retry does not start before this. */
  notBefore?: number;
  /** Overrides the job's arguments (PUT /job/{name}?arguments=). */
  arguments?: string[];
  /** For SKIPPED: how many scheduled times this entry stands for. */
  skippedCount?: number;
  attempts: AttemptRecord[];
}

/** Whether a run is over. */
export function isRunFinished(state: RunState): boolean {
  return state === 'SUCCEEDED' || state === 'FAILED' || state === 'SKIPPED';
}

/** Whether a run holds (or may hold) a task on the cluster. */
export function isRunLaunched(state: RunState): boolean {
  return state === 'STAGING' || state === 'RUNNING';
}

/** The ledger key of a run: time-ordered within a job. */
export function runKey(job: string, scheduledFor: number): string {
  return `runs/${job}/${String(scheduledFor).padStart(15, '0')}`;
}

/** Chronos's task id format, `ct:<scheduled ms>:<attempt>:<job>:`. */
export function taskIdOf(run: Pick<RunRecord, 'job' | 'scheduledFor' | 'attempt'>): string {
  return `ct:${run.scheduledFor}:${run.attempt}:${run.job}:`;
}
