import { chown } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { systemClock, type Clock, type TimerHandle } from '@meso/proto';
import type { ExecutorContext, ExecutorHandlers, HealthCheck, KillRequest, ShutdownRequest, TaskInfo } from '@meso/sdk-executor';
import { HealthChecker } from '../health/health-checker.js';
import { healthPolicyOf } from '../health/health-state.js';
import { buildTaskEnv } from '../task-env.js';
import { CommandTask, type CommandExit, type StartTask, type TaskProcess } from './command-task.js';
import { taskHealthCheck, type TaskSurroundings } from './task-health.js';
import { lookupUser, type UserLookup } from './user.js';
import { giveVolumes } from '../volumes/volume-owner.js';

/** Grace period used when a kill carries none (the agent always sends one). */
const FALLBACK_GRACE_SECONDS = 5;

/** What the command executor needs from its process. */
export interface CommandExecutorOptions {
  /** The environment tasks inherit (the executor's). */
  env: Record<string, string | undefined>;
  /** Whether this process may switch users (runs as root). */
  isRoot: boolean;
  /** Called once the task is over and its terminal update was sent. */
  onDone(): void;
  log(message: string): void;
  /** Times the health checks and the kill's grace period. Defaults to the system clock. */
  clock?: Clock;
  /** Looks the task's user up. Defaults to `getent passwd` every time. */
  lookupUser?: UserLookup;
  /** Starts the task's process. Defaults to a child of this process ({@link CommandTask}). */
  start?: StartTask;
  /**
   * A task already running (a restarted agent took it over): its LAUNCH attaches to the
   * process instead of starting one, and reports TASK_RUNNING only if it had not yet.
   */
  attached?: { taskId: string; process: TaskProcess; exited: Promise<CommandExit>; running: boolean };
}

/**
 * The agent's built-in command executor: runs one task's CommandInfo and reports
 * TASK_STARTING, TASK_RUNNING, then TASK_FINISHED / TASK_FAILED / TASK_KILLED. Written
 * against `@meso/sdk-executor` exactly as an outside executor would be.
 *
 * Health checks: when the task has one, it runs here, beside the task, from TASK_RUNNING
 * until the task is killed or exits. Each change of health is a TASK_RUNNING update with
 * `healthy` set and reason REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, sent through the SDK's
 * reliable path (kept and re-sent until the agent acknowledges it). The executor never
 * kills an unhealthy task itself: the framework decides (Marathon starts a replacement
 * before it kills, and limits its kill rate), so a scheduler that falls behind cannot turn
 * stale health into a mass kill.
 */
export class CommandExecutor implements ExecutorHandlers {
  private taskId: string | undefined;
  private process: TaskProcess | undefined;
  private killed = false;
  private killTimer: TimerHandle | undefined;
  private killGraceSeconds: number | undefined;
  private over = false;
  private health: HealthChecker | undefined;

  constructor(private readonly o: CommandExecutorOptions) {}

  private get clock(): Clock {
    return this.o.clock ?? systemClock;
  }

  async launch(task: TaskInfo, ctx: ExecutorContext): Promise<void> {
    if (this.taskId !== undefined) {
      await ctx.update(task.taskId, 'TASK_ERROR', { message: 'the command executor runs exactly one task', reason: 'REASON_TASK_INVALID' });
      return;
    }
    this.taskId = task.taskId;
    this.killGraceSeconds = task.killGracePeriodSeconds;
    const command = task.command;
    if (!command) {
      await this.end(ctx, 'TASK_ERROR', { message: 'a command task needs a command', reason: 'REASON_TASK_INVALID' });
      return;
    }
    const attached = this.o.attached?.taskId === task.taskId ? this.o.attached : undefined;
    if (this.killed && !attached) {
      await this.end(ctx, 'TASK_KILLED', { message: 'killed before it started' });
      return;
    }
    const surroundings = await this.surroundings(task, command, ctx, !attached);
    if (!surroundings) return;
    const { env, ids } = surroundings;
    let started;
    if (attached) started = { task: attached.process, exited: attached.exited };
    else {
      try {
        started = await (this.o.start ?? CommandTask.start)({ command, cwd: ctx.sandbox, env, ...ids });
      } catch (e) {
        await this.end(ctx, 'TASK_FAILED', { message: `Failed to launch the task: ${(e as Error).message}`, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
        return;
      }
      // Once the process exists (and the agent has recorded it): a restarted agent takes over a task it heard of.
      await ctx.update(task.taskId, 'TASK_STARTING');
    }
    this.process = started.task;
    this.o.log(`${attached ? 'took over' : 'started'} task ${task.taskId} as pid ${started.task.pid}`);
    // Hosted in the agent process: a failure here must be logged, never left to crash the agent.
    void started.exited.then((exit) => this.exited(ctx, exit)).catch((e: unknown) => this.o.log(`task ${this.taskId ?? ''}: reporting its end failed: ${(e as Error).message}`));
    if (!attached?.running) await ctx.update(task.taskId, 'TASK_RUNNING');
    if (this.killed) this.signalKill(this.killGraceSeconds);
    else if (task.healthCheck && !this.over) {
      this.startHealthChecks(ctx, task.taskId, task.healthCheck, { ports: task.resources.ranges('ports'), sandbox: ctx.sandbox, env, ...ids });
    }
  }

  /**
   * The task's environment and user; with `prepare`, the sandbox and volumes are given to
   * that user. Undefined (the task failed) when its user does not exist.
   */
  private async surroundings(
    task: TaskInfo,
    command: NonNullable<TaskInfo['command']>,
    ctx: ExecutorContext,
    prepare: boolean,
  ): Promise<{ env: Record<string, string>; ids: { uid?: number; gid?: number } } | undefined> {
    const env = buildTaskEnv({
      taskId: task.taskId,
      frameworkId: ctx.frameworkId,
      executorId: ctx.executorId,
      sandbox: ctx.sandbox,
      agentEndpoint: this.o.env['MESO_AGENT_ENDPOINT'] ?? '',
      hostname: ctx.info.agent.hostname || osHostname(),
      ports: task.resources.ranges('ports'),
      commandEnv: command.env,
      base: this.o.env,
    });
    const userName = command.user || ctx.info.framework.user;
    if (!userName || !this.o.isRoot) return { env, ids: {} };
    const user = await (this.o.lookupUser ?? lookupUser)(userName).catch((e: unknown) => {
      this.o.log(`${(e as Error).message}`);
      return undefined;
    });
    if (!user) {
      await this.end(ctx, 'TASK_FAILED', { message: `Failed to launch the task: user '${userName}' does not exist on this agent`, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
      return undefined;
    }
    Object.assign(env, { USER: user.name, LOGNAME: user.name, HOME: user.home }, command.env);
    if (prepare) {
      await chown(ctx.sandbox, user.uid, user.gid).catch((e: unknown) => this.o.log(`cannot give the sandbox to ${user.name}: ${(e as Error).message}`));
      await giveVolumes(ctx.sandbox, task.resources, user.uid, user.gid, (m) => this.o.log(m));
    }
    return { env, ids: { uid: user.uid, gid: user.gid } };
  }

  async kill(taskId: string, ctx: ExecutorContext, request: KillRequest): Promise<void> {
    if (taskId !== this.taskId) {
      this.o.log(`kill of unknown task ${taskId} ignored`);
      return;
    }
    if (this.killed || this.over) return;
    this.killed = true;
    this.stopHealthChecks();
    if (ctx.info.framework.capabilities.includes('TASK_KILLING_STATE')) await ctx.update(taskId, 'TASK_KILLING');
    if (this.process) this.signalKill(request.gracePeriodSeconds);
    else this.killGraceSeconds = request.gracePeriodSeconds;
  }

  async shutdown(ctx: ExecutorContext, request: ShutdownRequest): Promise<void> {
    if (!this.taskId || this.over) {
      this.o.onDone();
      return;
    }
    // Leave the agent time to receive the terminal update before its own deadline.
    const grace = Math.max(0, Math.min(this.killGraceSeconds ?? FALLBACK_GRACE_SECONDS, request.gracePeriodSeconds - 1));
    await this.kill(this.taskId, ctx, { gracePeriodSeconds: grace });
  }

  error(error: Error): void {
    this.o.log(`error: ${error.message}`);
  }

  private startHealthChecks(ctx: ExecutorContext, taskId: string, check: HealthCheck, task: TaskSurroundings): void {
    const policy = healthPolicyOf(check);
    this.o.log(`task ${taskId}: ${check.type} health check every ${policy.intervalMs / 1000} s after ${policy.delayMs / 1000} s (grace ${policy.gracePeriodMs / 1000} s, timeout ${policy.timeoutMs / 1000} s, ${policy.consecutiveFailures} failures)`);
    this.health = new HealthChecker({
      policy,
      clock: this.clock,
      check: taskHealthCheck(check, task),
      log: (message) => this.o.log(`task ${taskId}: ${message}`),
      onReport: (report) => {
        if (this.over || this.killed) return;
        this.o.log(`task ${taskId} is ${report.healthy ? 'healthy' : 'unhealthy'}: ${report.message}`);
        ctx
          .update(taskId, 'TASK_RUNNING', { healthy: report.healthy, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message: report.message })
          .catch((e: unknown) => this.o.log(`health update not sent: ${(e as Error).message}`));
      },
    });
    this.health.start();
  }

  private stopHealthChecks(): void {
    this.health?.stop();
    this.health = undefined;
  }

  private signalKill(graceSeconds: number | undefined): void {
    const task = this.process;
    if (!task) return;
    const grace = graceSeconds ?? FALLBACK_GRACE_SECONDS;
    this.o.log(`sending SIGTERM to process group ${task.pid}; SIGKILL in ${grace} s`);
    task.signalGroup('SIGTERM');
    this.killTimer = this.clock.setTimeout(() => {
      this.o.log(`sending SIGKILL to process group ${task.pid}`);
      task.signalGroup('SIGKILL');
    }, grace * 1000);
  }

  private async exited(ctx: ExecutorContext, exit: CommandExit): Promise<void> {
    this.stopHealthChecks();
    this.clock.clearTimeout(this.killTimer);
    // Whatever the task left in its group goes with it.
    this.process?.signalGroup('SIGKILL');
    const how = exit.signal ? `Command terminated with signal ${exit.signal}` : `Command exited with status ${exit.code ?? -1}`;
    const details = { message: how, ...(exit.code !== null ? { exitCode: exit.code } : {}), ...(exit.signal ? { signal: exit.signal } : {}) };
    if (this.killed) await this.end(ctx, 'TASK_KILLED', details);
    else if (exit.code === 0) await this.end(ctx, 'TASK_FINISHED', details);
    else await this.end(ctx, 'TASK_FAILED', details);
  }

  private async end(ctx: ExecutorContext, state: 'TASK_FINISHED' | 'TASK_FAILED' | 'TASK_KILLED' | 'TASK_ERROR', details: Parameters<ExecutorContext['update']>[2]): Promise<void> {
    if (this.over || !this.taskId) return;
    this.over = true;
    this.stopHealthChecks();
    this.o.log(`task ${this.taskId}: ${state} ${details?.message ?? ''}`);
    try {
      await ctx.update(this.taskId, state, details);
    } catch (e) {
      // The executor already ended (e.g. shut down while the task was exiting): the agent
      // settles the task when the run ends; nothing to send from here.
      this.o.log(`task ${this.taskId}: ${state} not sent: ${(e as Error).message}`);
    } finally {
      this.o.onDone();
    }
  }
}
