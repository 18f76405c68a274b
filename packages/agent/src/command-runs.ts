// Command tasks without an executor process: the agent hosts the command executor for
// each command task itself (over the executor SDK and an in-process transport), and the
// task's process is the container's only process — started, under the wrapper that
// records its exit status, by the containerizer with the run's isolation. Mesos starts a
// mesos-executor process per command task; here that would be a Node process costing
// 0.2 s of CPU to start against ~2 ms for the task `true`.
//
// What stays as it was: the run (executor id = task id, its sandbox, token, checkpoint,
// container with cgroups and pid namespace, /monitor/statistics), the updates' path
// (checkpointed, acknowledged, forwarded), the kill policy and health checks (the command
// executor's logic, unchanged), recovery (the wrapper's pid and start time are the run's;
// a restarted agent hosts a new command executor that takes the task over, and reads the
// exit status the wrapper wrote if the task ended while the agent was down).
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@meso/proto';
import { Executor, type ExecutorExit } from '@meso/sdk-executor';
import { CommandExecutor } from './command-executor/command-executor.js';
import type { CommandExit, CommandSpec, TaskProcess } from './command-executor/command-task.js';
import { InProcessTransport } from './command-executor/in-process-transport.js';
import { ScopedClock } from './command-executor/scoped-clock.js';
import { parseExitFile, taskExit, taskProgram, wrapTask } from './command-executor/task-wrapper.js';
import { launchContainer, type Container, type Termination } from './containerizer.js';
import * as calls from './executor-calls.js';
import type { ExecutorApi } from './executor-server.js';
import type { ContainerIsolation } from './isolation/container-isolation.js';
import { checkpoint, type ManagerState } from './manager-state.js';
import { taskExitFile } from './paths.js';
import { processStartTime, signalDescendantGroups } from './process-tree.js';
import { RUN_ID_VARIABLE } from './executor-env.js';
import type { ExecutorRun } from './runs.js';

/** A task the previous agent process started, taken over. */
export interface AdoptedTask {
  /** The wrapper's container (polled; its exit read from the status file). */
  container: Container;
  /** Whether TASK_RUNNING was already reported. */
  running: boolean;
}

/**
 * The container of a command run: the hosted command executor and the task's process.
 * It ends once the executor has ended (its terminal update acknowledged) and the task's
 * process is gone. `pid` is the wrapper's (0 until the task is started).
 */
class CommandRunContainer implements Container {
  task: Container | undefined;
  isolation?: ContainerIsolation;
  readonly exited: Promise<Termination>;
  private resolveExit!: (t: Termination) => void;
  private executorExit: ExecutorExit | undefined;
  private dropped = false;

  constructor(
    readonly runId: string,
    readonly clock: ScopedClock,
    readonly transport: InProcessTransport,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number {
    return this.task?.pid ?? 0;
  }

  signal(signal: NodeJS.Signals): void {
    this.task?.signal(signal);
  }

  /**
   * The wrapper ended without recording how the task ended: it was killed (as a command
   * executor killed -9 in Mesos). The hosted executor is dropped before it can report, and
   * the run ends here, as an executor that terminated: the agent fails the task (source
   * AGENT, REASON_EXECUTOR_TERMINATED) and destroys the container, the task's processes with it.
   */
  wrapperLost(t: Termination): void {
    if (this.dropped) return; // destroyed or released by the agent: that path ends the run
    this.drop();
    this.resolveExit(t);
  }

  /** The hosted executor ended: the run ends with the task's process. */
  executorEnded(exit: ExecutorExit): void {
    this.executorExit = exit;
    const status = exit.reason === 'closed' || exit.reason === 'shutdown' ? 0 : 1;
    void (this.task?.exited ?? Promise.resolve()).then(() => this.resolveExit({ status, signal: null }));
  }

  async destroy(): Promise<void> {
    this.drop();
    if (this.task) await this.task.destroy();
    else await this.isolation?.cleanup();
    this.resolveExit({ status: null, signal: this.executorExit ? null : 'SIGKILL' });
  }

  /** The agent detaches (it may be restarted): the executor is dropped, the task keeps running. */
  release(): void {
    this.drop();
    this.task?.release?.();
  }

  get isDropped(): boolean {
    return this.dropped;
  }

  private drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.clock.dispose();
    this.transport.close();
  }
}

function apiOf(m: ManagerState): ExecutorApi {
  return {
    subscribe: (request, sink) => calls.subscribe(m, request, sink),
    update: (request) => calls.update(m, request),
    message: (request) => calls.message(m, request),
  };
}

/** The exit the wrapper recorded, when it did (undefined: killed before it could, or never started). */
export async function recordedExit(workDir: string, runId: string): Promise<CommandExit | undefined> {
  const text = await readFile(taskExitFile(workDir, runId), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseExitFile(text);
}

/** Forgets a run's recorded exit (the run is over). */
export async function forgetExit(workDir: string, runId: string): Promise<void> {
  await rm(taskExitFile(workDir, runId), { force: true });
}

/**
 * Hosts the command executor of a command run in this process and returns the run's
 * container. The executor subscribes at once; its LAUNCH starts the task through the
 * containerizer (or, for an adopted run, takes over the task already running).
 */
export function hostCommandRun(
  m: ManagerState,
  run: ExecutorRun,
  input: { env: Record<string, string>; isolation?: ContainerIsolation; adopted?: AdoptedTask; log: Logger },
): Container {
  const clock = new ScopedClock(m.o.clock);
  const transport = new InProcessTransport(apiOf(m));
  const container = new CommandRunContainer(run.runId, clock, transport);
  if (input.isolation) container.isolation = input.isolation;
  const log = input.log;
  const taskId = [...run.tasks.keys()][0] ?? '';
  const adopted = input.adopted;
  if (adopted) container.task = adopted.container;
  const exitFile = taskExitFile(m.o.workDir, run.runId);

  const start = async (spec: CommandSpec): Promise<{ task: TaskProcess; exited: Promise<CommandExit> }> => {
    if (container.isDropped) throw new Error('the agent is detaching');
    const user = spec.uid !== undefined && spec.gid !== undefined ? { uid: spec.uid, gid: spec.gid } : undefined;
    const wrapped = wrapTask(taskProgram(spec.command), exitFile, user);
    await mkdir(dirname(exitFile), { recursive: true });
    const launch = m.o.launch ?? launchContainer;
    const task = await launch({ runId: run.runId, sandbox: run.sandbox, env: spec.env, ...wrapped, ...(container.isolation ? { isolation: container.isolation } : {}) }, log);
    container.task = task;
    run.startTime = await processStartTime(task.pid);
    await checkpoint(m, run);
    const exited = task.exited.then(async (t) => {
      const recorded = await recordedExit(m.o.workDir, run.runId);
      if (recorded === undefined && !signalled) container.wrapperLost(t);
      return recorded ?? taskExit(t.status, t.signal);
    });
    return { task: guarded(processOf(task)), exited };
  };

  // Whether the executor has signalled the task (its kill policy ends with SIGKILL, which the
  // wrapper cannot outlive to record the exit: then the missing record is no loss of the wrapper).
  let signalled = false;
  // Once the agent has dropped this executor (detached, or the run destroyed), it signals nothing any more.
  const guarded = (p: TaskProcess): TaskProcess => ({
    pid: p.pid,
    signalGroup: (signal) => {
      signalled = true;
      if (!container.isDropped) p.signalGroup(signal);
    },
  });
  const handlers = new CommandExecutor({
    env: input.env,
    isRoot: process.getuid?.() === 0,
    clock,
    start,
    lookupUser: m.users,
    ...(adopted ? { attached: { taskId, process: guarded(processOf(adopted.container)), exited: adoptedExit(m.o.workDir, run.runId, adopted.container), running: adopted.running } } : {}),
    onDone: () => void connected.then((e) => e?.close()),
    log: (message) => log.debug(message),
  });
  const connected = Executor.connect({ handlers, env: input.env, clock, logger: quiet(log), transport }).catch((e: unknown) => {
    log.warn('the command executor could not subscribe', { error: (e as Error).message });
    container.executorEnded({ reason: 'unknown-executor' });
    return undefined;
  });
  void connected.then((e) => e?.done().then((exit) => container.executorEnded(exit)));
  return container;
}

/** The task as the command executor drives it: a signal goes to the wrapper's group and to the task's own. */
function processOf(c: Container): TaskProcess {
  return {
    pid: c.pid,
    signalGroup: (signal) => {
      c.signal(signal);
      void signalDescendantGroups(c.pid, RUN_ID_VARIABLE, c.runId, signal);
    },
  };
}

/** An adopted task's end: the exit status its wrapper recorded, else unknown (reported as a failure). */
async function adoptedExit(workDir: string, runId: string, c: Container): Promise<CommandExit> {
  await c.exited;
  return (await recordedExit(workDir, runId)) ?? { code: null, signal: 'SIGKILL' };
}

/** The SDK's own lines (subscribed, ended) at debug: the agent logs the run's life itself. */
function quiet(log: Logger): Logger {
  return {
    debug: (message, fields) => log.debug(message, fields),
    info: (message, fields) => log.debug(message, fields),
    warn: (message, fields) => log.warn(message, fields),
    error: (message, fields) => log.error(message, fields),
    child: (c, f) => quiet(log.child(c, f)),
  };
}
