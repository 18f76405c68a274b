// Starting executor runs: a launch goes into the executor's run — a new one (sandbox,
// token, process started by the containerizer) or the one already running.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ExecutorInfo_Type, TaskState, TaskStatus_Reason, type ExecutorInfo, type TaskInfo } from '@meso/proto';
import { lostState } from './agent-updates.js';
import { hostCommandRun } from './command-runs.js';
import { launchContainer } from './containerizer.js';
import { buildExecutorEnv } from './executor-env.js';
import { checkpoint, type ManagerState } from './manager-state.js';
import { processStartTime } from './process-tree.js';
import { sandboxPath } from './paths.js';
import { armRegistrationTimeout, finishRun, terminate } from './run-lifecycle.js';
import { pairKey, type ExecutorRun, type FrameworkRecord } from './runs.js';
import { prepareIsolation, resizeIsolation, watchIsolation } from './isolation/run-isolation.js';
import type { ContainerIsolation } from './isolation/container-isolation.js';
import { flushQueue } from './task-delivery.js';
import { agentTaskUpdate } from './task-updates.js';

/** Mesos's executor recovery timeout (15 min), passed to executors as MESO_RECOVERY_TIMEOUT. */
export const RECOVERY_TIMEOUT_SECONDS = 15 * 60;

/**
 * Puts tasks into the executor's run: a new run is started; a running one gets them at
 * once when subscribed (else when it subscribes). A command task whose executor id is
 * taken, or any task for a terminating run, is refused with an update.
 */
export async function launchInto(m: ManagerState, fw: FrameworkRecord, info: ExecutorInfo, kind: ExecutorRun['kind'], tasks: TaskInfo[], group: boolean): Promise<void> {
  const executorId = info.executorId?.value ?? '';
  let run = m.runs.get(pairKey(fw.id, executorId));
  if (run && (run.phase === 'terminating' || run.phase === 'terminated' || kind === 'command')) {
    const message = kind === 'command' ? `an executor '${executorId}' already runs` : `executor '${executorId}' is terminating`;
    for (const t of tasks) {
      await agentTaskUpdate(m, fw.id, executorId, t.taskId?.value ?? '', kind === 'command' ? TaskState.TASK_ERROR : lostState(fw.info), TaskStatus_Reason.REASON_TASK_INVALID, message);
    }
    return;
  }
  const fresh = !run;
  if (run && hasVolumes(tasks)) {
    if (!(await attachTaskVolumes(m, run, tasks))) return;
    if (run.phase === 'terminating' || run.phase === 'terminated') return launchInto(m, fw, info, kind, tasks, group);
  }
  run ??= newRun(m, fw, info, kind);
  for (const t of tasks) {
    const taskId = t.taskId?.value ?? '';
    run.tasks.set(taskId, { frameworkId: fw.id, executorId, info: t, state: TaskState.TASK_STAGING, launched: false });
    m.taskIndex.set(pairKey(fw.id, taskId), run);
    m.finished.delete(pairKey(fw.id, taskId));
  }
  run.queue.push(group ? { kind: 'group', taskIds: tasks.map((t) => t.taskId?.value ?? '') } : { kind: 'task', taskId: tasks[0]?.taskId?.value ?? '' });
  if (fresh) {
    await startRun(m, run);
    return;
  }
  void checkpoint(m, run);
  resizeIsolation(m, run);
  if (run.sink && !run.sink.closed) flushQueue(m, run, new Set());
}

/** The ExecutorInfo of the command executor that runs one command task (executor id = task id). */
export function commandExecutorInfo(m: ManagerState, frameworkId: string, task: TaskInfo): ExecutorInfo {
  const taskId = task.taskId?.value ?? '';
  const c = m.o.commandExecutor;
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

function newRun(m: ManagerState, fw: FrameworkRecord, info: ExecutorInfo, kind: ExecutorRun['kind']): ExecutorRun {
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
    sandbox: sandboxPath(m.o.workDir, m.o.agentId(), fw.id, executorId, runId),
    token: randomBytes(24).toString('hex'),
    container: undefined,
    startTime: undefined,
    phase: 'launching',
    onRecovered: undefined,
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
  m.runs.set(pairKey(fw.id, executorId), run);
  return run;
}

/** Creates the sandbox and starts the executor process; a failure to start fails the run's tasks. */
async function startRun(m: ManagerState, run: ExecutorRun): Promise<void> {
  const log = m.o.logger.child('executor', { frameworkId: run.frameworkId, executorId: run.executorId });
  const fw = m.frameworks.get(run.frameworkId);
  let isolation: ContainerIsolation | undefined;
  try {
    await mkdir(run.sandbox, { recursive: true });
    // Before the executor starts: a command executor's task runs in this sandbox.
    await m.o.volumes?.attach(run.sandbox, [...run.info.resources, ...[...run.tasks.values()].flatMap((t) => t.info.resources)]);
    const latest = join(dirname(run.sandbox), 'latest');
    await rm(latest, { force: true });
    await symlink(run.runId, latest).catch(() => undefined);
    const command = run.info.command;
    const program =
      run.kind === 'command'
        ? m.o.commandExecutor
        : command?.shell
          ? { file: '/bin/sh', args: ['-c', command.value] }
          : { file: command?.value ?? '', args: (command?.arguments ?? []).slice(1), argv0: command?.arguments[0] };
    const env = executorEnvOf(m, run);
    // Checkpointed before the spawn (pid 0): an agent dying in between leaves a run the
    // next one can find, and kill by its run id, instead of an unknown process.
    await checkpoint(m, run);
    isolation = await prepareIsolation(m, run);
    if (run.kind === 'command') run.container = hostCommandRun(m, run, { env, ...(isolation ? { isolation } : {}), log });
    else {
      const launch = m.o.launch ?? launchContainer;
      run.container = await launch({ runId: run.runId, sandbox: run.sandbox, env, ...program, ...(isolation ? { isolation } : {}) }, log);
    }
  } catch (e) {
    await isolation?.cleanup();
    log.error('failed to launch the executor', { error: (e as Error).message });
    run.termination = {
      state: TaskState.TASK_FAILED,
      reason: TaskStatus_Reason.REASON_CONTAINER_LAUNCH_FAILED,
      message: `Failed to launch the executor: ${(e as Error).message}`,
    };
    await finishRun(m, run, undefined);
    return;
  }
  if (run.kind === 'custom') {
    log.info('executor started', { pid: run.container.pid, sandbox: run.sandbox });
    run.startTime = await processStartTime(run.container.pid);
    await checkpoint(m, run);
  }
  armRegistrationTimeout(m, run, log);
  const container = run.container;
  if (container.isolation) watchIsolation(m, run, container.isolation);
  void container.exited.then((t) => finishRun(m, run, t));
  if (m.closing) void terminate(m, run, { state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the agent is shutting down' });
}

/** The environment of the run's executor (the command executor's is the base of its task's). */
export function executorEnvOf(m: ManagerState, run: ExecutorRun): Record<string, string> {
  return buildExecutorEnv({
    agentEndpoint: m.o.executorEndpoint,
    frameworkId: run.frameworkId,
    executorId: run.executorId,
    sandbox: run.sandbox,
    token: run.token,
    runId: run.runId,
    checkpoint: m.frameworks.get(run.frameworkId)?.info.checkpoint ?? false,
    shutdownGracePeriodSeconds: m.o.executorShutdownGracePeriodMs / 1000,
    recoveryTimeoutSeconds: RECOVERY_TIMEOUT_SECONDS,
    commandEnv: Object.fromEntries((run.info.command?.environment ?? []).map((e) => [e.name, e.value])),
    base: process.env,
  });
}

function hasVolumes(tasks: TaskInfo[]): boolean {
  return tasks.some((t) => t.resources.some((r) => r.disk?.persistence));
}

/**
 * Shows the persistent volumes of tasks for a running executor in its sandbox before they
 * are delivered; a volume the agent does not hold fails the tasks. False when they failed.
 */
async function attachTaskVolumes(m: ManagerState, run: ExecutorRun, tasks: TaskInfo[]): Promise<boolean> {
  try {
    await m.o.volumes?.attach(run.sandbox, tasks.flatMap((t) => t.resources), run.container?.pid);
    return true;
  } catch (e) {
    const message = `Failed to launch the task: ${(e as Error).message}`;
    for (const t of tasks) {
      await agentTaskUpdate(m, run.frameworkId, run.executorId, t.taskId?.value ?? '', TaskState.TASK_FAILED, TaskStatus_Reason.REASON_CONTAINER_LAUNCH_FAILED, message, run);
    }
    return false;
  }
}
