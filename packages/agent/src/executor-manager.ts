import {
  TaskState,
  TaskStatus_Reason,
  type ExecutorInfo,
  type ExecutorMessageRequest,
  type ExecutorSubscribeRequest,
  type ExecutorUpdateRequest,
  type FrameworkInfo,
  type KillPolicy,
  type TaskInfo,
  type TimerHandle,
} from '@meso/proto';
import { lostState } from './agent-updates.js';
import * as calls from './executor-calls.js';
import type { EventSink, ExecutorApi } from './executor-server.js';
import { createManagerState, killGrace, push, upsertFramework, type ExecutorManagerOptions, type ManagerState } from './manager-state.js';
import { isSafeId } from './paths.js';
import { registrationSnapshot, type RegistrationSnapshot } from './registration-snapshot.js';
import { hostCommandRun } from './command-runs.js';
import { commandExecutorInfo, executorEnvOf, launchInto } from './run-launcher.js';
import { finishRun, terminate } from './run-lifecycle.js';
import type { Container } from './containerizer.js';
import type { CheckpointedRun } from './run-checkpoints.js';
import { pairKey, type ExecutorRun, type PendingTermination } from './runs.js';
import { dequeue } from './task-delivery.js';
import { agentTaskUpdate, settleTask } from './task-updates.js';
import { taskProblem } from './task-validation.js';
import type { VolumeKey } from './volumes/volume-plan.js';
import { runLimits, watchIsolation } from './isolation/run-isolation.js';
import type { ContainerIsolation } from './isolation/container-isolation.js';

export type { ExecutorManagerOptions } from './manager-state.js';

/** A task of a recovered run. */
export interface TaskRecordInput {
  info: TaskInfo;
  state: TaskState;
  launched: boolean;
}
export { RECOVERY_TIMEOUT_SECONDS } from './run-launcher.js';

/**
 * Runs executors and their tasks: starts executor runs in sandboxes, hosts the executor
 * API (subscribe, updates, messages), forwards launches, kills and messages, and turns
 * executor exits into terminal updates. Every status update goes through the status
 * update manager, which checkpoints it before the executor gets its ACKNOWLEDGED.
 *
 * This class routes what the master asks for; the work is in one file per idea:
 * run-launcher (starting runs), run-lifecycle (ending runs, exits), task-delivery (launches
 * to a subscribed executor), executor-calls (the executor API), task-updates (status
 * updates), over the shared state of manager-state.
 */
export class ExecutorManager implements ExecutorApi {
  private readonly m: ManagerState;
  private heartbeat: TimerHandle | undefined;

  constructor(o: ExecutorManagerOptions) {
    this.m = createManagerState(o);
    this.scheduleHeartbeat();
  }

  // -------------------------------------------------------------------------------------
  // From the master.

  /** RunTask: a command task gets its own command executor; an executor task goes to its (maybe running) executor. */
  async runTask(frameworkInfo: FrameworkInfo | undefined, task: TaskInfo | undefined): Promise<void> {
    const m = this.m;
    const frameworkId = frameworkInfo?.id?.value ?? '';
    if (!frameworkInfo || !task) {
      m.o.logger.warn('RunTask without framework or task ignored');
      return;
    }
    const fw = upsertFramework(m, frameworkInfo);
    const taskId = task.taskId?.value ?? '';
    const invalid = this.validateTask(frameworkId, task);
    if (invalid) {
      await agentTaskUpdate(m, fw.id, task.executor?.executorId?.value ?? taskId, taskId, TaskState.TASK_ERROR, TaskStatus_Reason.REASON_TASK_INVALID, invalid);
      return;
    }
    const executorInfo = task.command ? commandExecutorInfo(m, frameworkId, task) : (task.executor as ExecutorInfo);
    await launchInto(m, fw, executorInfo, task.command ? 'command' : 'custom', [task], false);
  }

  /** RunTaskGroup: the tasks go to the executor together (LAUNCH_GROUP). */
  async runTaskGroup(frameworkInfo: FrameworkInfo | undefined, executor: ExecutorInfo | undefined, tasks: TaskInfo[]): Promise<void> {
    const m = this.m;
    if (!frameworkInfo || !executor || tasks.length === 0) {
      m.o.logger.warn('RunTaskGroup without framework, executor or tasks ignored');
      return;
    }
    const fw = upsertFramework(m, frameworkInfo);
    const executorId = executor.executorId?.value ?? '';
    const problems = tasks.map((t) => this.validateTask(fw.id, { ...t, executor, command: undefined })).filter((p) => p !== undefined);
    if (problems.length > 0 || !isSafeId(executorId) || !executor.command) {
      const message = problems[0] ?? `invalid executor '${executorId}' for the task group`;
      for (const t of tasks) {
        await agentTaskUpdate(m, fw.id, executorId, t.taskId?.value ?? '', TaskState.TASK_ERROR, TaskStatus_Reason.REASON_TASK_GROUP_INVALID, message);
      }
      return;
    }
    await launchInto(m, fw, executor, 'custom', tasks, true);
  }

  /** KillTask: forwarded to the executor, or answered by the agent for tasks not launched yet. */
  async killTask(frameworkId: string, taskId: string, policy: KillPolicy | undefined): Promise<void> {
    const m = this.m;
    const key = pairKey(frameworkId, taskId);
    const run = m.taskIndex.get(key);
    const record = run?.tasks.get(taskId);
    if (!run || !record) {
      if (m.finished.has(key) || m.o.updates.hasPending(frameworkId, taskId)) return;
      const fw = m.frameworks.get(frameworkId);
      m.o.logger.warn('kill of an unknown task', { frameworkId, taskId });
      await agentTaskUpdate(m, frameworkId, '', taskId, lostState(fw?.info), TaskStatus_Reason.REASON_TASK_UNKNOWN, 'the agent does not know this task');
      return;
    }
    if (!record.launched) {
      dequeue(run, taskId);
      await settleTask(m, run, taskId, TaskState.TASK_KILLED, TaskStatus_Reason.REASON_TASK_KILLED_DURING_LAUNCH, 'killed before the executor started it');
      if (run.tasks.size === 0 && run.phase === 'launching') void terminate(m, run);
      return;
    }
    const grace = killGrace(m, policy, record.info);
    if (!run.sink || run.sink.closed) {
      run.pendingKills.set(taskId, { gracePeriodSeconds: grace });
      return;
    }
    push(m, run, { event: { $case: 'kill', value: { taskId: { value: taskId }, killPolicy: { gracePeriodSeconds: grace } } } });
  }

  /** ShutdownExecutor: SHUTDOWN, then SIGKILL after the grace period. */
  async shutdownExecutor(frameworkId: string, executorId: string): Promise<void> {
    const run = this.m.runs.get(pairKey(frameworkId, executorId));
    if (!run) {
      this.m.o.logger.warn('shutdown of an unknown executor ignored', { frameworkId, executorId });
      return;
    }
    await terminate(this.m, run, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the executor was shut down' });
  }

  /** ShutdownFramework: every executor of the framework. */
  async shutdownFramework(frameworkId: string): Promise<void> {
    const runs = [...this.m.runs.values()].filter((r) => r.frameworkId === frameworkId);
    await Promise.all(
      runs.map((r) => terminate(this.m, r, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_FRAMEWORK_REMOVED, message: 'the framework was shut down' })),
    );
  }

  /** FrameworkToExecutor: delivered when the executor is subscribed, else dropped (best effort, as Mesos). */
  frameworkMessage(frameworkId: string, executorId: string, data: Buffer): void {
    const run = this.m.runs.get(pairKey(frameworkId, executorId));
    if (!run?.sink || run.sink.closed) {
      this.m.o.logger.warn('framework message for an executor that is not subscribed dropped', { frameworkId, executorId });
      return;
    }
    push(this.m, run, { event: { $case: 'message', value: { data } } });
  }

  /** UpdateFrameworkInfo. */
  updateFramework(info: FrameworkInfo | undefined): void {
    const id = info?.id?.value;
    if (!info || !id) return;
    const fw = this.m.frameworks.get(id);
    if (fw) fw.info = info;
  }

  /** What the agent runs, for a re-registration. */
  snapshot(): RegistrationSnapshot {
    return registrationSnapshot(this.m.o.agentId(), this.m.runs.values(), this.m.frameworks.values(), this.m.o.updates.pending());
  }

  /**
   * Stops every executor: SHUTDOWN, then SIGKILL of the whole run after the grace period.
   * Resolves when all runs are gone.
   */
  async shutdownAll(): Promise<void> {
    this.m.closing = true;
    await Promise.all(
      [...this.m.runs.values()].map((r) =>
        terminate(this.m, r, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the agent is shutting down' }),
      ),
    );
  }

  /**
   * Ends every run without closing the agent (the master removed this agent: it starts
   * afresh, and nothing of the old one may keep running). Resolves when all runs are gone.
   */
  async terminateAll(termination: PendingTermination): Promise<void> {
    await Promise.all([...this.m.runs.values()].map((r) => terminate(this.m, r, termination)));
  }

  /** Leaves executors running (they may outlive the agent) and stops talking to them. */
  detachAll(): void {
    this.m.closing = true;
    for (const run of this.m.runs.values()) {
      const clock = this.m.o.clock;
      clock.clearTimeout(run.registrationTimer);
      clock.clearTimeout(run.shutdownTimer);
      run.container?.release?.();
      run.container?.isolation?.stopWatching();
      run.sink?.end();
    }
  }

  /**
   * Takes over a run of the previous agent process (recovery): its executor keeps running
   * and has `executorReregisterTimeoutMs` to re-subscribe with its token; until then kills
   * wait and launches queue. Resolves once it has re-subscribed or ended.
   */
  adopt(input: { run: CheckpointedRun; frameworkInfo: FrameworkInfo; executorInfo: ExecutorInfo; tasks: TaskRecordInput[]; container: Container }): Promise<void> {
    const m = this.m;
    const cp = input.run;
    const fw = upsertFramework(m, { ...input.frameworkInfo, id: { value: cp.frameworkId } });
    let onRecovered!: () => void;
    const settled = new Promise<void>((resolve) => (onRecovered = resolve));
    let markTerminated!: () => void;
    const terminated = new Promise<void>((resolve) => (markTerminated = resolve));
    const run: ExecutorRun = {
      frameworkId: fw.id,
      executorId: cp.executorId,
      runId: cp.runId,
      info: { ...input.executorInfo, frameworkId: { value: fw.id } },
      kind: cp.kind ?? 'custom',
      sandbox: cp.sandbox,
      token: cp.token ?? '',
      container: input.container,
      startTime: cp.startTime,
      phase: 'recovering',
      onRecovered,
      sink: undefined,
      queue: [],
      pendingKills: new Map(),
      tasks: new Map(),
      termination: undefined,
      registrationTimer: undefined,
      shutdownTimer: undefined,
      inflight: new Set(),
      terminated,
      markTerminated,
    };
    for (const t of input.tasks) {
      const taskId = t.info.taskId?.value ?? '';
      run.tasks.set(taskId, { frameworkId: fw.id, executorId: cp.executorId, info: t.info, state: t.state, launched: t.launched });
      m.taskIndex.set(pairKey(fw.id, taskId), run);
      // A launch the executor never got is sent when it re-subscribes (unless it lists the task as held);
      // a command task's new command executor gets its task again, to take it over.
      if (!t.launched || run.kind === 'command') run.queue.push({ kind: 'task', taskId });
    }
    m.runs.set(pairKey(fw.id, cp.executorId), run);
    if (run.kind === 'command' && run.tasks.size > 0) {
      // TASK_RUNNING is sent again unless it waits in the task's stream: the run checkpoint
      // may say RUNNING for an update the previous agent never took in (it died in between),
      // and the executor that held it is gone. Updates are at least once: a framework may see it twice.
      const running = input.tasks.some((t) => m.o.updates.latestPendingState(fw.id, t.info.taskId?.value ?? '') === TaskState.TASK_RUNNING);
      const log = m.o.logger.child('executor', { frameworkId: run.frameworkId, executorId: run.executorId });
      run.container = hostCommandRun(m, run, { env: executorEnvOf(m, run), adopted: { container: input.container, running }, log });
    }
    const container = run.container ?? input.container;
    const timeoutMs = m.o.executorReregisterTimeoutMs;
    run.registrationTimer = m.o.clock.setTimeout(() => {
      if (run.phase !== 'recovering') return;
      m.o.logger.warn('a recovered executor did not re-subscribe in time; killing it', { executorId: run.executorId, runId: run.runId, timeoutMs });
      run.termination = {
        state: TaskState.TASK_FAILED,
        reason: TaskStatus_Reason.REASON_EXECUTOR_REREGISTRATION_TIMEOUT,
        message: `the executor did not re-subscribe within ${timeoutMs} ms of the agent's restart`,
      };
      run.phase = 'terminating';
      void run.container?.destroy();
    }, timeoutMs);
    void container.exited.then((t) => finishRun(m, run, t));
    // The container keeps its cgroups: the isolators take it back with the limits of its tasks.
    if (m.o.isolation) {
      void m.o.isolation.recover(cp.runId, cp.sandbox, runLimits(m, run)).then(
        (iso) => {
          container.isolation = iso;
          if (run.phase === 'terminated') void iso.cleanup();
          else watchIsolation(m, run, iso);
        },
        (e: unknown) => m.o.logger.warn('could not take back the isolation of a recovered executor run', { runId: cp.runId, error: (e as Error).message }),
      );
    }
    return settled;
  }

  /** The isolated containers (executor runs) and what each was given: the resource monitor samples them. */
  containers(): Array<{ frameworkId: string; executorId: string; name: string; source: string; allocated: TaskInfo['resources']; isolation: ContainerIsolation }> {
    const out = [];
    for (const r of this.m.runs.values()) {
      const isolation = r.container?.isolation;
      if (!isolation || r.phase === 'terminated') continue;
      const allocated = [...r.info.resources, ...[...r.tasks.values()].flatMap((t) => t.info.resources)];
      out.push({ frameworkId: r.frameworkId, executorId: r.executorId, name: r.info.name, source: r.info.source, allocated, isolation });
    }
    return out;
  }

  /** The persistent volumes live runs (their executors and tasks) hold: DESTROY keeps these. */
  volumesInUse(): VolumeKey[] {
    return [...this.m.runs.values()]
      .filter((r) => r.phase !== 'terminated')
      .flatMap((r) => [...r.info.resources, ...[...r.tasks.values()].flatMap((t) => t.info.resources)])
      .filter((w) => w.disk?.persistence)
      .map((w) => ({ role: w.role === '' ? '*' : w.role, id: w.disk?.persistence?.id ?? '' }));
  }

  /** Sandboxes of the runs the agent holds (after recovery: the adopted ones). */
  sandboxes(): string[] {
    return [...this.m.runs.values()].map((r) => r.sandbox);
  }

  close(): void {
    this.m.o.clock.clearTimeout(this.heartbeat);
  }

  /** Pids of executor processes (tests and diagnostics). */
  executorPids(): number[] {
    return [...this.m.runs.values()].map((r) => r.container?.pid ?? 0).filter((p) => p > 0);
  }

  // -------------------------------------------------------------------------------------
  // From executors (the executor API).

  subscribe(request: ExecutorSubscribeRequest, sink: EventSink): void {
    calls.subscribe(this.m, request, sink);
  }

  update(request: ExecutorUpdateRequest): Promise<void> {
    return calls.update(this.m, request);
  }

  message(request: ExecutorMessageRequest): Promise<void> {
    return calls.message(this.m, request);
  }

  // -------------------------------------------------------------------------------------
  // Helpers.

  private validateTask(frameworkId: string, task: TaskInfo): string | undefined {
    const m = this.m;
    return taskProblem(frameworkId, task, {
      commandExecutorIds: new Set([...m.runs.values()].filter((r) => r.frameworkId === frameworkId && r.kind === 'command').map((r) => r.executorId)),
      taskRunning: (id) => m.taskIndex.has(pairKey(frameworkId, id)),
      agentResources: m.o.agentInfo().resources,
    });
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.m.o.clock.setTimeout(() => {
      for (const run of this.m.runs.values()) {
        if (run.sink && !run.sink.closed) run.sink.send({ event: { $case: 'heartbeat', value: {} } });
      }
      this.scheduleHeartbeat();
    }, this.m.o.executorHeartbeatMs);
  }
}
