import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ExecutorInfo_Type,
  TaskState,
  TaskStatus_Reason,
  TaskStatus_Source,
  type AgentInfo,
  type AgentMessage,
  type Clock,
  type ExecutorEvent,
  type ExecutorInfo,
  type ExecutorMessageRequest,
  type ExecutorSubscribeRequest,
  type ExecutorUpdateRequest,
  type FrameworkInfo,
  type KillPolicy,
  type Logger,
  type MesoErrorCode,
  type StatusUpdate,
  type TaskInfo,
  type TimerHandle,
} from '@meso/proto';
import { agentUpdate, describeTermination, lostState } from './agent-updates.js';
import { launchContainer, type Container, type LaunchSpec, type Termination } from './containerizer.js';
import { CallRefusedError } from './errors.js';
import { buildExecutorEnv } from './executor-env.js';
import type { EventSink, ExecutorApi } from './executor-server.js';
import { isSafeId, sandboxPath } from './paths.js';
import { registrationSnapshot, type RegistrationSnapshot } from './registration-snapshot.js';
import { pairKey, type ExecutorRun, type FrameworkRecord, type PendingTermination, type TaskRecord } from './runs.js';
import type { RunCheckpoints } from './run-checkpoints.js';
import type { StatusUpdateManager } from './status-update-manager.js';
import { isTerminal, stateName } from './task-states.js';
import { taskProblem } from './task-validation.js';

/** Mesos's executor recovery timeout (15 min), passed to executors as MESO_RECOVERY_TIMEOUT. */
export const RECOVERY_TIMEOUT_SECONDS = 15 * 60;

/** What the manager needs from the agent. */
export interface ExecutorManagerOptions {
  workDir: string;
  /** host:port executors dial (MESO_AGENT_ENDPOINT). */
  executorEndpoint: string;
  agentId(): string;
  agentInfo(): AgentInfo;
  updates: StatusUpdateManager;
  /** Sends to the master; false when not connected. */
  toMaster(message: AgentMessage): boolean;
  clock: Clock;
  logger: Logger;
  defaultKillGracePeriodSeconds: number;
  executorRegistrationTimeoutMs: number;
  executorShutdownGracePeriodMs: number;
  executorHeartbeatMs: number;
  /** The built-in command executor program. */
  commandExecutor: { file: string; args: string[] };
  /** Where runs are checkpointed (so a restarted agent can clean them up). */
  checkpoints?: RunCheckpoints;
  /** Starts an executor process (the posix containerizer unless replaced). */
  launch?: (spec: LaunchSpec, logger: Logger) => Promise<Container>;
}

function refuse(code: MesoErrorCode, message: string, field?: string): CallRefusedError {
  return new CallRefusedError({ code, message, ...(field ? { field } : {}) });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Runs executors and their tasks: starts executor runs in sandboxes, hosts the executor
 * API (subscribe, updates, messages), forwards launches, kills and messages, and turns
 * executor exits into terminal updates. Every status update goes through the status
 * update manager, which checkpoints it before the executor gets its ACKNOWLEDGED.
 */
export class ExecutorManager implements ExecutorApi {
  private readonly frameworks = new Map<string, FrameworkRecord>();
  private readonly runs = new Map<string, ExecutorRun>();
  /** (framework, task) → the run holding the live task. */
  private readonly taskIndex = new Map<string, ExecutorRun>();
  /** Recently finished tasks, so late kills are ignored quietly. */
  private readonly finished = new Set<string>();
  private heartbeat: TimerHandle | undefined;
  private closing = false;

  constructor(private readonly o: ExecutorManagerOptions) {
    this.scheduleHeartbeat();
  }

  // -------------------------------------------------------------------------------------
  // From the master.

  /** RunTask: a command task gets its own command executor; an executor task goes to its (maybe running) executor. */
  async runTask(frameworkInfo: FrameworkInfo | undefined, task: TaskInfo | undefined): Promise<void> {
    const frameworkId = frameworkInfo?.id?.value ?? '';
    if (!frameworkInfo || !task) {
      this.o.logger.warn('RunTask without framework or task ignored');
      return;
    }
    const fw = this.upsertFramework(frameworkInfo);
    const taskId = task.taskId?.value ?? '';
    const invalid = this.validateTask(frameworkId, task);
    if (invalid) {
      await this.agentTaskUpdate(fw.id, task.executor?.executorId?.value ?? taskId, taskId, TaskState.TASK_ERROR, TaskStatus_Reason.REASON_TASK_INVALID, invalid);
      return;
    }
    const executorInfo = task.command ? this.commandExecutorInfo(frameworkId, task) : (task.executor as ExecutorInfo);
    await this.launchInto(fw, executorInfo, task.command ? 'command' : 'custom', [task], false);
  }

  /** RunTaskGroup: the tasks go to the executor together (LAUNCH_GROUP). */
  async runTaskGroup(frameworkInfo: FrameworkInfo | undefined, executor: ExecutorInfo | undefined, tasks: TaskInfo[]): Promise<void> {
    if (!frameworkInfo || !executor || tasks.length === 0) {
      this.o.logger.warn('RunTaskGroup without framework, executor or tasks ignored');
      return;
    }
    const fw = this.upsertFramework(frameworkInfo);
    const executorId = executor.executorId?.value ?? '';
    const problems = tasks.map((t) => this.validateTask(fw.id, { ...t, executor, command: undefined })).filter((p) => p !== undefined);
    if (problems.length > 0 || !isSafeId(executorId) || !executor.command) {
      const message = problems[0] ?? `invalid executor '${executorId}' for the task group`;
      for (const t of tasks) {
        await this.agentTaskUpdate(fw.id, executorId, t.taskId?.value ?? '', TaskState.TASK_ERROR, TaskStatus_Reason.REASON_TASK_GROUP_INVALID, message);
      }
      return;
    }
    await this.launchInto(fw, executor, 'custom', tasks, true);
  }

  /** KillTask: forwarded to the executor, or answered by the agent for tasks not launched yet. */
  async killTask(frameworkId: string, taskId: string, policy: KillPolicy | undefined): Promise<void> {
    const key = pairKey(frameworkId, taskId);
    const run = this.taskIndex.get(key);
    const record = run?.tasks.get(taskId);
    if (!run || !record) {
      if (this.finished.has(key) || this.o.updates.hasPending(frameworkId, taskId)) return;
      const fw = this.frameworks.get(frameworkId);
      this.o.logger.warn('kill of an unknown task', { frameworkId, taskId });
      await this.agentTaskUpdate(frameworkId, '', taskId, lostState(fw?.info), TaskStatus_Reason.REASON_TASK_UNKNOWN, 'the agent does not know this task');
      return;
    }
    if (!record.launched) {
      this.dequeue(run, taskId);
      await this.settleTask(run, taskId, TaskState.TASK_KILLED, TaskStatus_Reason.REASON_TASK_KILLED_DURING_LAUNCH, 'killed before the executor started it');
      if (run.tasks.size === 0 && run.phase === 'launching') void this.terminate(run);
      return;
    }
    const grace = this.killGrace(policy, record.info);
    if (!run.sink || run.sink.closed) {
      run.pendingKills.set(taskId, { gracePeriodSeconds: grace });
      return;
    }
    this.push(run, { event: { $case: 'kill', value: { taskId: { value: taskId }, killPolicy: { gracePeriodSeconds: grace } } } });
  }

  /** ShutdownExecutor: SHUTDOWN, then SIGKILL after the grace period. */
  async shutdownExecutor(frameworkId: string, executorId: string): Promise<void> {
    const run = this.runs.get(pairKey(frameworkId, executorId));
    if (!run) {
      this.o.logger.warn('shutdown of an unknown executor ignored', { frameworkId, executorId });
      return;
    }
    await this.terminate(run, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the executor was shut down' });
  }

  /** ShutdownFramework: every executor of the framework. */
  async shutdownFramework(frameworkId: string): Promise<void> {
    const runs = [...this.runs.values()].filter((r) => r.frameworkId === frameworkId);
    await Promise.all(
      runs.map((r) => this.terminate(r, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_FRAMEWORK_REMOVED, message: 'the framework was shut down' })),
    );
  }

  /** FrameworkToExecutor: delivered when the executor is subscribed, else dropped (best effort, as Mesos). */
  frameworkMessage(frameworkId: string, executorId: string, data: Buffer): void {
    const run = this.runs.get(pairKey(frameworkId, executorId));
    if (!run?.sink || run.sink.closed) {
      this.o.logger.warn('framework message for an executor that is not subscribed dropped', { frameworkId, executorId });
      return;
    }
    this.push(run, { event: { $case: 'message', value: { data } } });
  }

  /** UpdateFrameworkInfo. */
  updateFramework(info: FrameworkInfo | undefined): void {
    const id = info?.id?.value;
    if (!info || !id) return;
    const fw = this.frameworks.get(id);
    if (fw) fw.info = info;
  }

  /** What the agent runs, for a re-registration. */
  snapshot(): RegistrationSnapshot {
    return registrationSnapshot(this.o.agentId(), this.runs.values(), this.frameworks.values(), this.o.updates.pending());
  }

  /**
   * Stops every executor: SHUTDOWN, then SIGKILL of the whole run after the grace period.
   * Resolves when all runs are gone.
   */
  async shutdownAll(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.runs.values()].map((r) => this.terminate(r, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the agent is shutting down' })),
    );
  }

  /** Leaves executors running (they may outlive the agent) and stops talking to them. */
  detachAll(): void {
    this.closing = true;
    for (const run of this.runs.values()) {
      const clock = this.o.clock;
      clock.clearTimeout(run.registrationTimer);
      clock.clearTimeout(run.shutdownTimer);
      run.sink?.end();
    }
  }

  close(): void {
    this.o.clock.clearTimeout(this.heartbeat);
  }

  /** Pids of executor processes (tests and diagnostics). */
  executorPids(): number[] {
    return [...this.runs.values()].map((r) => r.container?.pid ?? 0).filter((p) => p > 0);
  }

  // -------------------------------------------------------------------------------------
  // From executors (the executor API).

  subscribe(request: ExecutorSubscribeRequest, sink: EventSink): void {
    const run = this.authorize(request.frameworkId?.value, request.executorId?.value, request.token);
    if (run.phase === 'terminated') throw refuse('UNKNOWN_EXECUTOR', 'this executor run has terminated');
    if (run.sink && run.sink !== sink) run.sink.end();
    run.sink = sink;
    sink.onClose(() => {
      if (run.sink === sink) {
        run.sink = undefined;
        if (run.phase !== 'terminated') this.o.logger.info('executor disconnected', { executorId: run.executorId });
      }
    });
    const reconnect = run.phase !== 'launching';
    if (run.phase === 'launching') run.phase = 'registered';
    this.o.clock.clearTimeout(run.registrationTimer);
    run.registrationTimer = undefined;
    const fw = this.frameworks.get(run.frameworkId);
    this.o.logger.info(reconnect ? 'executor re-subscribed' : 'executor subscribed', { frameworkId: run.frameworkId, executorId: run.executorId, pid: run.container?.pid });
    this.push(run, { event: { $case: 'subscribed', value: { executorInfo: run.info, frameworkInfo: fw?.info, agentInfo: this.o.agentInfo() } } });
    // Updates the executor sent while the agent was away.
    for (const u of request.unacknowledgedUpdates) {
      this.track(run, this.acceptUpdate(run, u).catch((e: unknown) => this.o.logger.warn('re-sent update refused', { error: (e as Error).message })));
    }
    const held = new Set(request.unacknowledgedTasks.map((t) => t.taskId?.value ?? ''));
    for (const id of held) {
      const r = run.tasks.get(id);
      if (r) r.launched = true;
    }
    if (run.phase === 'terminating') {
      this.push(run, { event: { $case: 'shutdown', value: { gracePeriodSeconds: this.o.executorShutdownGracePeriodMs / 1000 } } });
      return;
    }
    this.flushQueue(run, held);
    for (const [taskId, policy] of run.pendingKills) {
      this.push(run, { event: { $case: 'kill', value: { taskId: { value: taskId }, killPolicy: policy } } });
    }
    run.pendingKills.clear();
  }

  async update(request: ExecutorUpdateRequest): Promise<void> {
    const run = this.authorize(request.frameworkId?.value, request.executorId?.value, request.token);
    await this.track(run, this.acceptUpdate(run, request));
  }

  async message(request: ExecutorMessageRequest): Promise<void> {
    const run = this.authorize(request.frameworkId?.value, request.executorId?.value, request.token);
    const sent = this.o.toMaster({
      message: { $case: 'executorMessage', value: { frameworkId: { value: run.frameworkId }, executorId: { value: run.executorId }, data: request.data } },
    });
    if (!sent) throw refuse('UNAVAILABLE', 'the agent is not connected to the master; try again');
  }

  // -------------------------------------------------------------------------------------
  // Runs.

  private async launchInto(fw: FrameworkRecord, info: ExecutorInfo, kind: ExecutorRun['kind'], tasks: TaskInfo[], group: boolean): Promise<void> {
    const executorId = info.executorId?.value ?? '';
    let run = this.runs.get(pairKey(fw.id, executorId));
    if (run && (run.phase === 'terminating' || run.phase === 'terminated' || kind === 'command')) {
      const message = kind === 'command' ? `an executor '${executorId}' already runs` : `executor '${executorId}' is terminating`;
      for (const t of tasks) {
        await this.agentTaskUpdate(fw.id, executorId, t.taskId?.value ?? '', kind === 'command' ? TaskState.TASK_ERROR : lostState(fw.info), TaskStatus_Reason.REASON_TASK_INVALID, message);
      }
      return;
    }
    const fresh = !run;
    run ??= this.newRun(fw, info, kind);
    for (const t of tasks) {
      const taskId = t.taskId?.value ?? '';
      run.tasks.set(taskId, { frameworkId: fw.id, executorId, info: t, state: TaskState.TASK_STAGING, launched: false });
      this.taskIndex.set(pairKey(fw.id, taskId), run);
      this.finished.delete(pairKey(fw.id, taskId));
    }
    run.queue.push(group ? { kind: 'group', taskIds: tasks.map((t) => t.taskId?.value ?? '') } : { kind: 'task', taskId: tasks[0]?.taskId?.value ?? '' });
    if (fresh) {
      await this.start(run);
      return;
    }
    this.checkpoint(run);
    if (run.sink && !run.sink.closed) this.flushQueue(run, new Set());
  }

  private newRun(fw: FrameworkRecord, info: ExecutorInfo, kind: ExecutorRun['kind']): ExecutorRun {
    const executorId = info.executorId?.value ?? '';
    const runId = randomUUID();
    let markTerminated!: () => void;
    const terminated = new Promise<void>((resolve) => (markTerminated = resolve));
    const run: ExecutorRun = {
      frameworkId: fw.id,
      executorId,
      runId,
      info: { ...info, frameworkId: { value: fw.id } },
      kind,
      sandbox: sandboxPath(this.o.workDir, this.o.agentId(), fw.id, executorId, runId),
      token: randomBytes(24).toString('hex'),
      container: undefined,
      phase: 'launching',
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
    this.runs.set(pairKey(fw.id, executorId), run);
    return run;
  }

  private async start(run: ExecutorRun): Promise<void> {
    const log = this.o.logger.child('executor', { frameworkId: run.frameworkId, executorId: run.executorId });
    const fw = this.frameworks.get(run.frameworkId);
    try {
      await mkdir(run.sandbox, { recursive: true });
      const latest = join(dirname(run.sandbox), 'latest');
      await rm(latest, { force: true });
      await symlink(run.runId, latest).catch(() => undefined);
      const command = run.info.command;
      const program =
        run.kind === 'command'
          ? this.o.commandExecutor
          : command?.shell
            ? { file: '/bin/sh', args: ['-c', command.value] }
            : { file: command?.value ?? '', args: (command?.arguments ?? []).slice(1), argv0: command?.arguments[0] };
      const env = buildExecutorEnv({
        agentEndpoint: this.o.executorEndpoint,
        frameworkId: run.frameworkId,
        executorId: run.executorId,
        sandbox: run.sandbox,
        token: run.token,
        runId: run.runId,
        checkpoint: fw?.info.checkpoint ?? false,
        shutdownGracePeriodSeconds: this.o.executorShutdownGracePeriodMs / 1000,
        recoveryTimeoutSeconds: RECOVERY_TIMEOUT_SECONDS,
        commandEnv: Object.fromEntries((command?.environment ?? []).map((e) => [e.name, e.value])),
        base: process.env,
      });
      const launch = this.o.launch ?? launchContainer;
      run.container = await launch({ runId: run.runId, sandbox: run.sandbox, env, ...program }, log);
    } catch (e) {
      log.error('failed to launch the executor', { error: (e as Error).message });
      run.termination = {
        state: TaskState.TASK_FAILED,
        reason: TaskStatus_Reason.REASON_CONTAINER_LAUNCH_FAILED,
        message: `Failed to launch the executor: ${(e as Error).message}`,
      };
      await this.finishRun(run, undefined);
      return;
    }
    log.info('executor started', { pid: run.container.pid, sandbox: run.sandbox });
    this.checkpoint(run);
    run.registrationTimer = this.o.clock.setTimeout(() => {
      if (run.phase !== 'launching') return;
      log.warn('executor did not subscribe in time; killing it', { timeoutMs: this.o.executorRegistrationTimeoutMs });
      run.termination = {
        state: TaskState.TASK_FAILED,
        reason: TaskStatus_Reason.REASON_EXECUTOR_REGISTRATION_TIMEOUT,
        message: `the executor did not subscribe within ${this.o.executorRegistrationTimeoutMs} ms`,
      };
      run.phase = 'terminating';
      void run.container?.destroy();
    }, this.o.executorRegistrationTimeoutMs);
    const container = run.container;
    void container.exited.then((t) => this.finishRun(run, t));
    if (this.closing) void this.terminate(run, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the agent is shutting down' });
  }

  /** Ends a run: SHUTDOWN when subscribed, SIGKILL of the whole run after the grace period (at once otherwise). */
  private terminate(run: ExecutorRun, termination?: PendingTermination): Promise<void> {
    if (run.phase === 'terminated') return run.terminated;
    run.termination ??= termination;
    if (run.phase === 'terminating') return run.terminated;
    run.phase = 'terminating';
    this.o.clock.clearTimeout(run.registrationTimer);
    if (run.sink && !run.sink.closed && run.container) {
      this.push(run, { event: { $case: 'shutdown', value: { gracePeriodSeconds: this.o.executorShutdownGracePeriodMs / 1000 } } });
      run.shutdownTimer = this.o.clock.setTimeout(() => {
        this.o.logger.warn('executor still running after the shutdown grace period; killing it', { executorId: run.executorId });
        void run.container?.destroy();
      }, this.o.executorShutdownGracePeriodMs);
    } else {
      void run.container?.destroy();
    }
    return run.terminated;
  }

  /** The executor process is gone: clean up the run and settle the tasks it left. */
  private async finishRun(run: ExecutorRun, t: Termination | undefined): Promise<void> {
    if (run.phase === 'terminated') return;
    const clock = this.o.clock;
    clock.clearTimeout(run.registrationTimer);
    clock.clearTimeout(run.shutdownTimer);
    run.phase = 'terminated';
    run.sink?.end();
    const how = t ? describeTermination(t.status, t.signal) : 'did not start';
    this.o.logger.info(`executor ${how}`, { frameworkId: run.frameworkId, executorId: run.executorId, pid: run.container?.pid });
    try {
      // Kill whatever the executor left behind (tasks in their own process groups).
      if (run.container) await run.container.destroy();
      await Promise.allSettled([...run.inflight]);
      const termination = run.termination ?? {
        state: TaskState.TASK_FAILED,
        reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED,
        message: `Executor ${how}`,
      };
      for (const taskId of [...run.tasks.keys()]) {
        const message = run.termination ? `${termination.message} (executor ${how})` : termination.message;
        await this.settleTask(run, taskId, termination.state, termination.reason, message);
      }
      if (t) {
        this.o.toMaster({
          message: {
            $case: 'executorExited',
            value: { frameworkId: { value: run.frameworkId }, executorId: { value: run.executorId }, ...(t.status !== null ? { status: t.status } : {}), signal: t.signal ?? '' },
          },
        });
      }
    } catch (e) {
      this.o.logger.error('cleaning up an executor run failed', { executorId: run.executorId, error: (e as Error).message });
    } finally {
      if (run.container) await this.o.checkpoints?.remove(run.runId);
      if (this.runs.get(pairKey(run.frameworkId, run.executorId)) === run) this.runs.delete(pairKey(run.frameworkId, run.executorId));
      if (![...this.runs.values()].some((r) => r.frameworkId === run.frameworkId)) this.frameworks.delete(run.frameworkId);
      run.markTerminated();
    }
  }

  private flushQueue(run: ExecutorRun, alreadyHeld: Set<string>): void {
    const queue = run.queue.splice(0);
    for (const q of queue) {
      const ids = (q.kind === 'task' ? [q.taskId] : q.taskIds).filter((id) => run.tasks.has(id) && !alreadyHeld.has(id));
      const records = ids.map((id) => run.tasks.get(id)).filter((r): r is TaskRecord => r !== undefined);
      if (records.length === 0) continue;
      for (const r of records) r.launched = true;
      if (q.kind === 'group') {
        this.push(run, { event: { $case: 'launchGroup', value: { taskGroup: { tasks: records.map((r) => this.forExecutor(r)) } } } });
      } else {
        const r = records[0] as TaskRecord;
        this.push(run, { event: { $case: 'launch', value: { task: this.forExecutor(r) } } });
      }
    }
  }

  /** The task as the executor gets it: the kill policy filled with the agent's default. */
  private forExecutor(r: TaskRecord): TaskInfo {
    return { ...r.info, agentId: { value: this.o.agentId() }, killPolicy: { gracePeriodSeconds: this.killGrace(undefined, r.info) } };
  }

  private dequeue(run: ExecutorRun, taskId: string): void {
    run.queue = run.queue
      .map((q) => (q.kind === 'task' ? q : { kind: 'group' as const, taskIds: q.taskIds.filter((id) => id !== taskId) }))
      .filter((q) => (q.kind === 'task' ? q.taskId !== taskId : q.taskIds.length > 0));
  }

  // -------------------------------------------------------------------------------------
  // Status updates.

  private async acceptUpdate(run: ExecutorRun, request: ExecutorUpdateRequest): Promise<void> {
    const status = request.status;
    const taskId = status?.taskId?.value ?? '';
    if (!status || taskId === '') throw refuse('INVALID_ARGUMENT', 'status.task_id is required', 'status.task_id');
    if (!status.uuid) throw refuse('INVALID_ARGUMENT', 'status.uuid is required (a fresh one per update)', 'status.uuid');
    const key = pairKey(run.frameworkId, taskId);
    const known = run.tasks.has(taskId) || this.finished.has(key) || this.o.updates.hasPending(run.frameworkId, taskId);
    if (!known) throw refuse('UNKNOWN_TASK', `task '${taskId}' is not a task of executor '${run.executorId}'`, 'status.task_id');
    const stamped: StatusUpdate = {
      frameworkId: { value: run.frameworkId },
      executorId: { value: run.executorId },
      status: {
        ...status,
        source: TaskStatus_Source.SOURCE_EXECUTOR,
        agentId: { value: this.o.agentId() },
        executorId: { value: run.executorId },
        frameworkId: { value: run.frameworkId },
        timestamp: status.timestamp > 0 ? status.timestamp : this.o.clock.now() / 1000,
        containerStatus: { sandbox: run.sandbox, executorPid: run.container?.pid ?? 0 },
      },
      latestState: status.state,
    };
    const outcome = await this.o.updates.update(stamped);
    if (outcome === 'accepted') this.recordState(run, taskId, status.state);
    this.o.logger.debug('status update from executor', { taskId, state: stateName(status.state), outcome });
    this.push(run, { event: { $case: 'acknowledged', value: { taskId: { value: taskId }, uuid: status.uuid } } });
  }

  /** A terminal update written by the agent for a task of a run. */
  private async settleTask(run: ExecutorRun, taskId: string, state: TaskState, reason: TaskStatus_Reason, message: string): Promise<void> {
    const record = run.tasks.get(taskId);
    if (!record || isTerminal(record.state)) return;
    await this.agentTaskUpdate(run.frameworkId, run.executorId, taskId, state, reason, message, run);
    this.recordState(run, taskId, state);
  }

  private async agentTaskUpdate(frameworkId: string, executorId: string, taskId: string, state: TaskState, reason: TaskStatus_Reason, message: string, run?: ExecutorRun): Promise<void> {
    if (taskId === '') return;
    const update = agentUpdate({
      agentId: this.o.agentId(),
      frameworkId,
      executorId,
      taskId,
      state,
      reason,
      message,
      timestamp: this.o.clock.now() / 1000,
      ...(run ? { sandbox: run.sandbox, executorPid: run.container?.pid ?? 0 } : {}),
    });
    this.o.logger.info('task update from the agent', { frameworkId, taskId, state: stateName(state), message });
    try {
      await this.o.updates.update(update);
    } catch (e) {
      this.o.logger.error('could not checkpoint a status update', { taskId, error: (e as Error).message });
    }
  }

  private recordState(run: ExecutorRun, taskId: string, state: TaskState): void {
    const record = run.tasks.get(taskId);
    if (!record) return;
    record.state = state;
    record.launched = true;
    if (!isTerminal(state)) return;
    run.tasks.delete(taskId);
    if (run.phase !== 'terminated') this.checkpoint(run);
    const key = pairKey(run.frameworkId, taskId);
    if (this.taskIndex.get(key) === run) this.taskIndex.delete(key);
    this.finished.add(key);
    if (this.finished.size > 10_000) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  // -------------------------------------------------------------------------------------
  // Helpers.

  private authorize(frameworkId: string | undefined, executorId: string | undefined, token: string): ExecutorRun {
    const run = this.runs.get(pairKey(frameworkId ?? '', executorId ?? ''));
    if (!run) throw refuse('UNKNOWN_EXECUTOR', `no executor '${executorId ?? ''}' of framework '${frameworkId ?? ''}' runs on this agent`);
    if (!sameSecret(token ?? '', run.token)) throw refuse('PERMISSION_DENIED', 'the executor token is not valid for this executor run');
    return run;
  }

  private checkpoint(run: ExecutorRun): void {
    if (!this.o.checkpoints || !run.container) return;
    void this.o.checkpoints.save({
      runId: run.runId,
      pid: run.container.pid,
      frameworkId: run.frameworkId,
      executorId: run.executorId,
      sandbox: run.sandbox,
      tasks: [...run.tasks.keys()],
    });
  }

  private track<T>(run: ExecutorRun, p: Promise<T>): Promise<T> {
    run.inflight.add(p);
    void p.finally(() => run.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  private push(run: ExecutorRun, event: ExecutorEvent): void {
    if (!run.sink?.send(event)) this.o.logger.debug('event for a disconnected executor dropped', { executorId: run.executorId, event: event.event?.$case });
  }

  private killGrace(policy: KillPolicy | undefined, task: TaskInfo): number {
    if (policy && policy.gracePeriodSeconds > 0) return policy.gracePeriodSeconds;
    if (task.killPolicy && task.killPolicy.gracePeriodSeconds > 0) return task.killPolicy.gracePeriodSeconds;
    return this.o.defaultKillGracePeriodSeconds;
  }

  private upsertFramework(info: FrameworkInfo): FrameworkRecord {
    const id = info.id?.value ?? '';
    let fw = this.frameworks.get(id);
    if (!fw) {
      fw = { id, info };
      this.frameworks.set(id, fw);
    } else {
      fw.info = info;
    }
    return fw;
  }

  private validateTask(frameworkId: string, task: TaskInfo): string | undefined {
    return taskProblem(frameworkId, task, {
      commandExecutorIds: new Set([...this.runs.values()].filter((r) => r.frameworkId === frameworkId && r.kind === 'command').map((r) => r.executorId)),
      taskRunning: (id) => this.taskIndex.has(pairKey(frameworkId, id)),
    });
  }

  private commandExecutorInfo(frameworkId: string, task: TaskInfo): ExecutorInfo {
    const taskId = task.taskId?.value ?? '';
    const c = this.o.commandExecutor;
    return {
      executorId: { value: taskId },
      frameworkId: { value: frameworkId },
      command: { shell: false, value: c.file, arguments: [c.file, ...c.args], environment: [], user: task.command?.user ?? '' },
      resources: [],
      name: `Command Executor (Task: ${taskId})`,
      source: taskId,
      type: ExecutorInfo_Type.DEFAULT,
    };
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.o.clock.setTimeout(() => {
      for (const run of this.runs.values()) {
        if (run.sink && !run.sink.closed) run.sink.send({ event: { $case: 'heartbeat', value: {} } });
      }
      this.scheduleHeartbeat();
    }, this.o.executorHeartbeatMs);
  }

}
