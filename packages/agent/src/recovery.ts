// Agent recovery (Mesos: slave recovery). A restarted agent on the same boot finds the
// executor runs its previous process left in `meta/runs/`: runs of checkpointing
// frameworks whose executor is still alive are adopted and wait for their executor to
// re-subscribe; the others are killed and their live tasks failed, with the reason.
import { ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, TaskStatus_Reason, type Clock, type Logger } from '@meso/proto';
import { agentUpdate } from './agent-updates.js';
import { forgetExit, recordedExit } from './command-runs.js';
import { destroyRun, type Container, type Termination } from './containerizer.js';
import { RUN_ID_VARIABLE } from './executor-env.js';
import type { ExecutorManager } from './executor-manager.js';
import { isSameProcess, signalGroup } from './process-tree.js';
import type { CheckpointedRun, RunCheckpoints } from './run-checkpoints.js';
import type { StatusUpdateManager } from './status-update-manager.js';
import { isTerminal } from './task-states.js';

/** How often the agent looks whether an adopted executor (not its child: no exit event) is still alive. */
export const ADOPTED_POLL_MS = 200;

/** What a run's checkpoint became at recovery. */
export type RecoveryOutcome = 'recovered' | 'gone' | 'not-checkpointed' | 'unreadable';

/** What recovery found, for logs and tests. */
export interface RecoverySummary {
  recovered: number;
  /** Runs whose executor was gone (pid dead or reused). */
  gone: number;
  /** Runs of frameworks that do not checkpoint: killed. */
  cleanedUp: number;
  /** Checkpoint files that could not be read (named in the log). */
  unreadable: string[];
  /** Resolves once every recovered run has re-subscribed or ended. */
  settled: Promise<void>;
}

/**
 * A container for an executor the previous agent process started. It is not this
 * process's child, so its end is noticed by polling (its exit status is unknown); it is
 * only signalled while the pid still is the run's process.
 */
export function adoptContainer(run: CheckpointedRun, clock: Clock, pollMs = ADOPTED_POLL_MS): Container & { release(): void } {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let released = false;
  let resolveExit!: (t: Termination) => void;
  const exited = new Promise<Termination>((resolve) => (resolveExit = resolve));
  const poll = (): void => {
    timer = clock.setTimeout(() => {
      void isSameProcess(run.pid, RUN_ID_VARIABLE, run.runId, run.startTime).then((alive) => {
        if (released) return;
        if (alive) poll();
        else resolveExit({ status: null, signal: null });
      });
    }, pollMs);
  };
  poll();
  return {
    pid: run.pid,
    runId: run.runId,
    exited,
    signal: (signal) => {
      void isSameProcess(run.pid, RUN_ID_VARIABLE, run.runId, run.startTime).then((ours) => ours && signalGroup(run.pid, signal));
    },
    destroy: async () => {
      await destroyRun(run.pid, run.runId, undefined, false);
      // The poll notices the end (and the exit is reported once, through `exited`).
      if (!released) await exited;
    },
    release: () => {
      released = true;
      clock.clearTimeout(timer);
    },
  };
}

/**
 * Recovers the runs of the previous agent process (same boot, same agent id):
 * - framework checkpoints and the executor is alive (same pid, carrying the run's
 *   MESO_EXECUTOR_RUN_ID): adopted; it has `executorReregisterTimeoutMs` to re-subscribe,
 *   else it is killed and its tasks fail with REASON_EXECUTOR_REREGISTRATION_TIMEOUT;
 * - framework checkpoints but the executor is gone: its live tasks fail with
 *   REASON_EXECUTOR_TERMINATED (unless an unacknowledged terminal update already says how they ended);
 * - framework does not checkpoint: the run is killed and its live tasks fail with
 *   REASON_AGENT_RESTARTED;
 * - unreadable checkpoint (truncated, corrupt): logged as an error naming the file, which
 *   is set aside; the run's processes are killed (found by the run id, the file's name),
 *   and tasks that the status update manager shows live but no run holds are failed.
 */
export async function recoverRuns(input: {
  checkpoints: RunCheckpoints;
  updates: StatusUpdateManager;
  manager: ExecutorManager;
  agentId: string;
  /** The agent's work dir (where command tasks' exit statuses are recorded). */
  workDir: string;
  clock: Clock;
  logger: Logger;
}): Promise<RecoverySummary> {
  const log = input.logger;
  const { runs, corrupt } = await input.checkpoints.list();
  const summary: RecoverySummary = { recovered: 0, gone: 0, cleanedUp: 0, unreadable: corrupt.map((c) => c.path), settled: Promise.resolve() };
  const settled: Promise<void>[] = [];
  const held = new Set<string>();
  const adopted = new Set<string>();
  const fail = async (run: CheckpointedRun, taskId: string, reason: TaskStatus_Reason, message: string): Promise<void> => {
    // A task that already ended never gets a second terminal state: its terminal update is
    // pending, or was acknowledged (a tombstone), or the run checkpoint says so.
    if (input.updates.isTerminated(run.frameworkId, taskId)) return;
    const record = run.taskRecords?.[run.tasks.indexOf(taskId)];
    if (record !== undefined && isTerminal(record.state as TaskState)) return;
    await input.updates.update(
      agentUpdate({
        agentId: input.agentId,
        frameworkId: run.frameworkId,
        executorId: run.executorId,
        taskId,
        state: TaskState.TASK_FAILED,
        reason,
        message,
        timestamp: input.clock.now() / 1000,
        sandbox: run.sandbox,
        executorPid: run.pid,
      }),
    );
  };

  for (const c of corrupt) {
    const runId = c.key.slice('runs/'.length);
    log.error(`cannot recover an executor run: its checkpoint ${c.path} is unreadable (${c.error}); set aside as ${c.path}.corrupt, its processes are killed`, {
      runId,
      file: c.path,
    });
    await destroyRun(0, runId, undefined, false);
  }

  for (const run of runs) {
    const frameworkInfo = parse(() => FrameworkInfo.fromJSON(run.frameworkInfo), run.frameworkInfo);
    const executorInfo = parse(() => ExecutorInfo.fromJSON(run.executorInfo), run.executorInfo);
    const tasks = (run.taskRecords ?? []).map((t) => ({ info: parse(() => TaskInfo.fromJSON(t.info), t.info), state: t.state, launched: t.launched }));
    const complete = frameworkInfo && executorInfo && run.token && tasks.every((t) => t.info) && tasks.length === run.tasks.length;
    const ctx = { frameworkId: run.frameworkId, executorId: run.executorId, runId: run.runId, pid: run.pid };
    for (const id of run.tasks) held.add(`${run.frameworkId}\u0000${id}`);
    if (!frameworkInfo?.checkpoint || !complete) {
      const why = frameworkInfo?.checkpoint ? 'its checkpoint lacks what recovery needs (written by an older agent?)' : 'its framework does not checkpoint';
      log.warn(`cleaning up an executor run of the previous agent process: ${why}`, ctx);
      await destroyRun(run.pid, run.runId, undefined, false);
      for (const taskId of run.tasks) {
        await fail(run, taskId, TaskStatus_Reason.REASON_AGENT_RESTARTED, 'the agent restarted and the framework does not checkpoint: the task was killed');
      }
      await input.checkpoints.remove(run.runId);
      await forgetExit(input.workDir, run.runId);
      summary.cleanedUp++;
      continue;
    }
    // A command task that ended while the agent was down left its exit status: its run is
    // taken over, and its new command executor reports how it ended.
    const alive = await isSameProcess(run.pid, RUN_ID_VARIABLE, run.runId, run.startTime);
    if (!alive && !(run.kind === 'command' && run.pid > 0 && (await recordedExit(input.workDir, run.runId)))) {
      log.warn('an executor of the previous agent process is gone (its pid is dead or now another process)', ctx);
      // Tasks it put in process groups of their own may be left: kill them.
      await destroyRun(run.pid, run.runId, undefined, false);
      const message = run.pid > 0 ? 'the executor terminated while the agent was down' : 'the agent stopped while it was starting the executor';
      for (const taskId of run.tasks) await fail(run, taskId, TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message);
      await input.checkpoints.remove(run.runId);
      await forgetExit(input.workDir, run.runId);
      summary.gone++;
      continue;
    }
    log.info('recovering an executor run; waiting for the executor to re-subscribe', ctx);
    for (const id of run.tasks) adopted.add(`${run.frameworkId}\u0000${id}`);
    const container = adoptContainer(run, input.clock);
    settled.push(
      input.manager.adopt({
        run,
        frameworkInfo: frameworkInfo,
        executorInfo: executorInfo,
        // A task whose terminal update the agent already has is not live, whatever the run checkpoint says.
        tasks: tasks
          .filter((t) => !input.updates.isTerminated(run.frameworkId, t.info?.taskId?.value ?? ''))
          .map((t) => ({ info: t.info as TaskInfo, state: t.state as TaskState, launched: t.launched })),
        container,
      }),
    );
    summary.recovered++;
  }

  // Tasks the agent was telling its framework about that no run holds any more (their run's
  // checkpoint was unreadable): they are not running here.
  if (corrupt.length > 0) {
    for (const p of input.updates.pending()) {
      if (held.has(`${p.frameworkId}\u0000${p.taskId}`)) continue;
      const last = p.updates.at(-1)?.status?.state;
      if (last === undefined || isTerminal(last)) continue;
      await fail(
        { runId: '', pid: 0, frameworkId: p.frameworkId, executorId: p.executorId, sandbox: p.updates.at(-1)?.status?.containerStatus?.sandbox ?? '', tasks: [] },
        p.taskId,
        TaskStatus_Reason.REASON_AGENT_RESTARTED,
        `the agent restarted and could not recover the task: checkpoint ${corrupt.map((c) => c.path).join(', ')} is unreadable`,
      );
    }
  }
  // Tombstones of acknowledged terminal updates matter only while a run checkpoint lists the task.
  await input.updates.pruneTombstones((frameworkId, taskId) => adopted.has(`${frameworkId}\u0000${taskId}`));
  summary.settled = Promise.all(settled).then(() => undefined);
  return summary;
}

function parse<T>(f: () => T, raw: unknown): T | undefined {
  if (raw === undefined || raw === null) return undefined;
  try {
    return f();
  } catch {
    return undefined;
  }
}
