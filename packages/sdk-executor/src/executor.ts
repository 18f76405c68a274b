import { randomUUID } from 'node:crypto';
import type { ExecutorEvent, ExecutorUpdateRequest, TaskInfo as WireTaskInfo, TimerHandle } from '@meso/proto';
import { reasonToWire, statusToWire, subscribedFromWire, taskInfoFromWire } from './convert.js';
import { ExecutorError } from './errors.js';
import type { ExecutorContext, ExecutorExit, KillRequest } from './handlers.js';
import { GrpcExecutorTransport } from './grpc-transport.js';
import { resolveExecutorOptions, type ExecutorOptions, type ResolvedExecutorOptions } from './options.js';
import { isTerminalState, TASK_STATES, type TaskState } from './task-state.js';
import type { ExecutorTransport, Subscription } from './transport.js';
import type { StatusUpdateRecord, SubscribedInfo, TaskInfo, UpdateOptions } from './types.js';

type Phase = 'connecting' | 'subscribed' | 'disconnected' | 'ending' | 'ended';

interface LiveTask {
  /** The task as launched (undefined for updates about tasks this executor never received). */
  wire: WireTaskInfo | undefined;
  killGracePeriodSeconds: number | undefined;
  /** The latest state the executor reported. */
  latest: TaskState | undefined;
}

interface PendingUpdate {
  record: StatusUpdateRecord;
  request: ExecutorUpdateRequest;
}

/**
 * A connected executor. Create it with {@link Executor.connect}; it subscribes to the
 * agent, calls your handlers for each event, sends your status updates reliably and
 * reconnects when the agent restarts.
 *
 * Reliability: every update gets a fresh uuid and is kept until the agent acknowledges
 * it (the agent acknowledges once it has persisted the update). When the connection
 * drops, the executor re-subscribes with backoff and lists the unacknowledged updates and
 * the launched tasks it has not reported on yet, so nothing is lost across an agent
 * restart. It gives up after the recovery timeout (or at once when the framework does
 * not checkpoint), kills its tasks and ends.
 */
export class Executor implements ExecutorContext {
  private phase: Phase = 'connecting';
  private generation = 0;
  private subscription: Subscription | undefined;
  private subscribedInfo: SubscribedInfo | undefined;
  private everSubscribed = false;
  private shuttingDown = false;
  private readonly tasks = new Map<string, LiveTask>();
  private readonly unacknowledgedTasks = new Set<string>();
  /** Holds the process alive while the executor has no stream to the agent. */
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private readonly unacknowledged = new Map<string, PendingUpdate>();
  /** Uuids carried by the subscribe request of the current stream. */
  private carried = new Set<string>();
  private sendChain: Promise<void> = Promise.resolve();
  private backoffMs: number;
  private retryTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private readonly waiters = new Set<() => void>();
  private firstSubscribed: { resolve: () => void; reject: (e: ExecutorError) => void } | undefined;
  private resolveDone!: (exit: ExecutorExit) => void;
  private readonly donePromise: Promise<ExecutorExit>;

  protected constructor(
    private readonly options: ResolvedExecutorOptions,
    private readonly transport: ExecutorTransport,
  ) {
    this.backoffMs = options.reconnectBackoffMs;
    this.donePromise = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /**
   * Connects to the agent and subscribes. Resolves once the agent has answered
   * SUBSCRIBED; rejects with an {@link ExecutorError} (`INVALID_OPTIONS`,
   * `CONNECTION_FAILED`, `UNAUTHORIZED`, `UNKNOWN_EXECUTOR`). A refusal by the agent is
   * final: the executor does not retry it.
   */
  static async connect(options: ExecutorOptions): Promise<Executor> {
    const resolved = resolveExecutorOptions(options);
    const transport = resolved.transport ?? new GrpcExecutorTransport(resolved.agentEndpoint);
    const executor = new Executor(resolved, transport);
    await executor.start();
    return executor;
  }

  /** The framework this executor belongs to. */
  get frameworkId(): string {
    return this.options.frameworkId;
  }

  /** This executor's id. */
  get executorId(): string {
    return this.options.executorId;
  }

  /** The executor run's sandbox directory. */
  get sandbox(): string {
    return this.options.sandbox;
  }

  /** What the agent said on the latest SUBSCRIBED. */
  get info(): SubscribedInfo {
    if (!this.subscribedInfo) throw new ExecutorError('DISCONNECTED', 'the executor has not subscribed yet');
    return this.subscribedInfo;
  }

  /** Whether the event stream to the agent is up right now. */
  get connected(): boolean {
    return this.phase === 'subscribed';
  }

  /** Updates sent but not yet acknowledged by the agent, oldest first. */
  pendingUpdates(): StatusUpdateRecord[] {
    return [...this.unacknowledged.values()].map((p) => p.record);
  }

  /** Resolves when the executor has ended (closed, shut down, or given up on the agent). Never rejects. */
  done(): Promise<ExecutorExit> {
    return this.donePromise;
  }

  /**
   * Sends a status update for `taskId`. A fresh uuid is generated; the update is kept and
   * re-sent after a reconnection until the agent acknowledges it. Resolves once the agent
   * took it (or, while disconnected, once it is queued). Rejects with `INVALID_ARGUMENT`,
   * `CLOSED`, `UNAUTHORIZED`, `UNKNOWN_EXECUTOR` or `REJECTED` (the agent refused it; it is not retried).
   */
  async update(taskId: string, state: TaskState, options: UpdateOptions = {}): Promise<void> {
    if (this.phase === 'ended') throw new ExecutorError('CLOSED', 'the executor has ended');
    if (typeof taskId !== 'string' || taskId === '') throw new ExecutorError('INVALID_ARGUMENT', 'taskId must be a non-empty string', { field: 'taskId' });
    if (!TASK_STATES.includes(state)) throw new ExecutorError('INVALID_ARGUMENT', `'${String(state)}' is not a task state`, { field: 'state' });
    try {
      reasonToWire(options.reason);
    } catch (e) {
      throw new ExecutorError('INVALID_ARGUMENT', (e as Error).message, { field: 'options.reason', cause: e });
    }
    const record: StatusUpdateRecord = {
      taskId,
      state,
      uuid: randomUUID(),
      timestamp: this.options.clock.now() / 1000,
      options: { ...options },
    };
    const request: ExecutorUpdateRequest = {
      frameworkId: { value: this.frameworkId },
      executorId: { value: this.executorId },
      status: statusToWire(record, this.frameworkId, this.executorId),
      token: this.options.token,
    };
    this.unacknowledged.set(record.uuid, { record, request });
    this.unacknowledgedTasks.delete(taskId);
    const live = this.tasks.get(taskId);
    if (live) live.latest = state;
    else this.tasks.set(taskId, { wire: undefined, killGracePeriodSeconds: undefined, latest: state });
    this.notify();
    this.options.logger.debug('status update', { taskId, state, uuid: record.uuid });
    if (this.phase !== 'subscribed') return;
    await this.send(record.uuid);
  }

  /** Sends bytes to the scheduler. Best effort: rejects with `DISCONNECTED` while the agent is away. */
  async message(data: Uint8Array | string): Promise<void> {
    if (this.phase === 'ended') throw new ExecutorError('CLOSED', 'the executor has ended');
    if (this.phase !== 'subscribed') throw new ExecutorError('DISCONNECTED', 'not connected to the agent');
    await this.transport.message({
      frameworkId: { value: this.frameworkId },
      executorId: { value: this.executorId },
      data: typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data),
      token: this.options.token,
    });
  }

  /**
   * Ends the executor gracefully: waits (up to `closeTimeoutMs`) for the agent to
   * acknowledge outstanding updates, then closes the connection. Does not kill tasks.
   */
  async close(): Promise<void> {
    if (this.phase === 'ended' || this.phase === 'ending') {
      await this.donePromise;
      return;
    }
    if (this.phase === 'subscribed') {
      await this.waitFor(() => this.unacknowledged.size === 0, this.options.closeTimeoutMs);
    }
    if (this.phase === 'disconnected' && this.options.checkpoint && this.unacknowledged.size > 0) {
      // The agent is restarting: its successor must still learn how the tasks ended (their
      // terminal updates are only here). Wait for it to re-subscribe and acknowledge, up to
      // the recovery timeout (after which the executor ends on its own).
      this.options.logger.info('waiting for the agent to come back to acknowledge the last updates', { unacknowledged: this.unacknowledged.size });
      await this.waitFor(() => this.unacknowledged.size === 0 || this.phase === 'ending', this.options.recoveryTimeoutMs);
      if ((this.phase as Phase) === 'subscribed' && this.unacknowledged.size > 0) {
        await this.waitFor(() => this.unacknowledged.size === 0, this.options.closeTimeoutMs);
      }
    }
    this.finish({ reason: 'closed' });
    await this.donePromise;
  }

  // -------------------------------------------------------------------------------------
  // Connection.

  private start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.firstSubscribed = { resolve, reject }));
    this.deadlineTimer = this.options.clock.setTimeout(() => {
      if (this.everSubscribed) return;
      const error = new ExecutorError(
        'CONNECTION_FAILED',
        `could not subscribe to the agent at ${this.options.agentEndpoint} within ${this.options.connectTimeoutMs} ms`,
      );
      this.finish({ reason: 'agent-disconnected', error });
    }, this.options.connectTimeoutMs);
    this.openStream();
    return first;
  }

  private openStream(): void {
    const gen = ++this.generation;
    this.carried = new Set(this.unacknowledged.keys());
    const request = {
      frameworkId: { value: this.frameworkId },
      executorId: { value: this.executorId },
      unacknowledgedTasks: [...this.unacknowledgedTasks]
        .map((id) => this.tasks.get(id)?.wire)
        .filter((t): t is WireTaskInfo => t !== undefined),
      unacknowledgedUpdates: [...this.unacknowledged.values()].map((p) => p.request),
      token: this.options.token,
    };
    this.armHeartbeat(gen);
    const subscription = this.transport.subscribe(request, {
      onEvent: (event) => {
        if (gen === this.generation) this.onEvent(event, gen);
      },
      onEnd: (error) => {
        if (gen === this.generation) this.onStreamEnd(error);
      },
    });
    if (gen === this.generation) this.subscription = subscription;
    else subscription.cancel();
  }

  private armHeartbeat(gen: number): void {
    const clock = this.options.clock;
    clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = clock.setTimeout(() => {
      if (gen !== this.generation) return;
      this.options.logger.warn('no event from the agent in time; reconnecting', { timeoutMs: this.options.heartbeatTimeoutMs });
      this.subscription?.cancel();
      this.onStreamEnd(new ExecutorError('DISCONNECTED', `no heartbeat from the agent for ${this.options.heartbeatTimeoutMs} ms`));
    }, this.options.heartbeatTimeoutMs);
  }

  private onStreamEnd(error: ExecutorError | undefined): void {
    this.generation++;
    this.subscription = undefined;
    this.options.clock.clearTimeout(this.heartbeatTimer);
    if (this.phase === 'ending' || this.phase === 'ended') return;
    const log = this.options.logger;
    if (error?.code === 'UNAUTHORIZED') {
      log.error('the agent rejected this executor', { error: error.message });
      this.finish({ reason: 'unauthorized', error });
      return;
    }
    if (error?.code === 'UNKNOWN_EXECUTOR') {
      // The agent will never know this run again (it ended, or a restarted agent cleaned it
      // up): retrying until the recovery timeout would only delay the inevitable.
      log.error('the agent does not know this executor; stopping', { error: error.message });
      if (!this.everSubscribed) {
        this.finish({ reason: 'unknown-executor', error });
        return;
      }
      // Tasks it started must not outlive it: kill them (bounded by the grace period), then end.
      this.phase = 'disconnected';
      void this.shutDown('unknown-executor', this.options.shutdownGracePeriodMs, error);
      return;
    }
    const wasSubscribed = this.phase === 'subscribed';
    this.phase = 'disconnected';
    if (this.shuttingDown) {
      // Already ending: the shutdown in progress stops waiting for acknowledgements.
      this.notify();
      return;
    }
    if (!this.everSubscribed) {
      this.scheduleReconnect();
      return;
    }
    if (wasSubscribed) log.warn('lost the agent connection', { error: error?.message ?? 'stream ended' });
    if (!this.options.checkpoint) {
      log.warn('the framework does not checkpoint: shutting down without the agent');
      void this.shutDown('agent-disconnected', this.options.shutdownGracePeriodMs, error);
      return;
    }
    if (wasSubscribed) {
      const clock = this.options.clock;
      clock.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = clock.setTimeout(() => {
        if (this.phase !== 'disconnected') return;
        const timeout = new ExecutorError('RECOVERY_TIMEOUT', `the agent stayed unreachable for ${this.options.recoveryTimeoutMs} ms`, { cause: error });
        log.error('giving up on the agent', { error: timeout.message });
        void this.shutDown('recovery-timeout', this.options.shutdownGracePeriodMs, timeout);
      }, this.options.recoveryTimeoutMs);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    // The clock's timers do not keep the process alive, and without a stream nothing else
    // may (a command executor whose task has exited): hold the event loop until the agent
    // is back or the executor ends, or the process would end before its last updates are taken.
    this.keepAlive ??= setInterval(() => undefined, 1 << 30);
    const clock = this.options.clock;
    clock.clearTimeout(this.retryTimer);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxReconnectBackoffMs);
    this.retryTimer = clock.setTimeout(() => {
      if (this.phase === 'disconnected' || this.phase === 'connecting') this.openStream();
    }, delay);
  }

  // -------------------------------------------------------------------------------------
  // Events.

  private onEvent(event: ExecutorEvent, gen: number): void {
    this.armHeartbeat(gen);
    const e = event.event;
    if (!e) return;
    if (e.$case === 'subscribed') {
      this.onSubscribed(e.value);
      return;
    }
    if (this.phase !== 'subscribed') {
      this.options.logger.warn('event before SUBSCRIBED ignored', { event: e.$case });
      return;
    }
    switch (e.$case) {
      case 'launch':
        if (e.value.task) this.onLaunch([e.value.task], false);
        break;
      case 'launchGroup':
        this.onLaunch(e.value.taskGroup?.tasks ?? [], true);
        break;
      case 'kill': {
        const taskId = e.value.taskId?.value ?? '';
        const policyGrace = e.value.killPolicy?.gracePeriodSeconds;
        const grace = policyGrace !== undefined && policyGrace > 0 ? policyGrace : this.tasks.get(taskId)?.killGracePeriodSeconds;
        this.killTask(taskId, grace === undefined ? {} : { gracePeriodSeconds: grace });
        break;
      }
      case 'acknowledged':
        this.onAcknowledged(e.value.taskId?.value ?? '', e.value.uuid);
        break;
      case 'message': {
        const handler = this.options.handlers.message;
        const data = new Uint8Array(e.value.data);
        if (handler) void this.invoke('message', () => handler.call(this.options.handlers, data, this));
        break;
      }
      case 'shutdown':
        void this.shutDown('shutdown', Math.max(0, e.value.gracePeriodSeconds * 1000));
        break;
      case 'heartbeat':
        break;
      case 'error':
        this.reportError(new ExecutorError('REJECTED', `the agent reported: ${e.value.message}`));
        break;
    }
  }

  private onSubscribed(value: Parameters<typeof subscribedFromWire>[0]): void {
    try {
      this.subscribedInfo = subscribedFromWire(value);
    } catch (e) {
      this.options.logger.warn('SUBSCRIBED carried malformed resources', { error: (e as Error).message });
    }
    const reconnected = this.everSubscribed;
    this.phase = 'subscribed';
    this.everSubscribed = true;
    this.backoffMs = this.options.reconnectBackoffMs;
    this.options.clock.clearTimeout(this.deadlineTimer);
    this.options.clock.clearTimeout(this.retryTimer);
    this.releaseKeepAlive();
    this.options.logger.info(reconnected ? 're-subscribed to the agent' : 'subscribed to the agent', {
      executorId: this.executorId,
      unacknowledged: this.unacknowledged.size,
    });
    // Updates recorded after the subscribe request was built were not carried by it.
    for (const uuid of this.unacknowledged.keys()) {
      if (!this.carried.has(uuid)) void this.send(uuid).catch(() => undefined);
    }
    this.firstSubscribed?.resolve();
    this.firstSubscribed = undefined;
    const handler = this.options.handlers.subscribed;
    const info = this.subscribedInfo;
    if (handler && info) void this.invoke('subscribed', () => handler.call(this.options.handlers, info, this));
  }

  private onLaunch(wireTasks: WireTaskInfo[], group: boolean): void {
    const tasks: TaskInfo[] = [];
    for (const wire of wireTasks) {
      const taskId = wire.taskId?.value ?? '';
      if (this.tasks.has(taskId)) {
        this.options.logger.warn('duplicate launch ignored', { taskId });
        continue;
      }
      let task: TaskInfo;
      try {
        task = taskInfoFromWire(wire);
      } catch (e) {
        this.tasks.set(taskId, { wire, killGracePeriodSeconds: undefined, latest: undefined });
        void this.update(taskId, 'TASK_ERROR', { message: `invalid task: ${(e as Error).message}`, reason: 'REASON_TASK_INVALID' }).catch(() => undefined);
        continue;
      }
      this.tasks.set(taskId, { wire, killGracePeriodSeconds: task.killGracePeriodSeconds, latest: undefined });
      this.unacknowledgedTasks.add(taskId);
      tasks.push(task);
    }
    if (tasks.length === 0) return;
    const h = this.options.handlers;
    const failAll = (error: ExecutorError): void => {
      for (const t of tasks) {
        const latest = this.tasks.get(t.taskId)?.latest;
        if (latest === undefined || !isTerminalState(latest)) {
          void this.update(t.taskId, 'TASK_FAILED', { message: error.message }).catch(() => undefined);
        }
      }
    };
    if (group && h.launchGroup) {
      const launchGroup = h.launchGroup;
      void this.invoke('launchGroup', () => launchGroup.call(h, tasks, this)).then((err) => err && failAll(err));
      return;
    }
    for (const task of tasks) {
      void this.invoke('launch', () => h.launch(task, this)).then((err) => {
        if (!err) return;
        const latest = this.tasks.get(task.taskId)?.latest;
        if (latest === undefined || !isTerminalState(latest)) {
          void this.update(task.taskId, 'TASK_FAILED', { message: err.message }).catch(() => undefined);
        }
      });
    }
  }

  private killTask(taskId: string, request: KillRequest): void {
    const h = this.options.handlers;
    void this.invoke('kill', () => h.kill(taskId, this, request));
  }

  private onAcknowledged(taskId: string, uuid: string): void {
    const pending = this.unacknowledged.get(uuid);
    if (!pending) {
      this.options.logger.debug('acknowledgement of an unknown update ignored', { taskId, uuid });
      return;
    }
    this.unacknowledged.delete(uuid);
    const id = pending.record.taskId;
    const live = this.tasks.get(id);
    const stillPending = [...this.unacknowledged.values()].some((p) => p.record.taskId === id);
    if (live?.latest !== undefined && isTerminalState(live.latest) && !stillPending) this.tasks.delete(id);
    this.notify();
  }

  // -------------------------------------------------------------------------------------
  // Sending.

  /** Sends one pending update, after every earlier send (so the agent sees them in order). */
  private send(uuid: string): Promise<void> {
    const run = async (): Promise<void> => {
      const pending = this.unacknowledged.get(uuid);
      if (!pending || this.phase !== 'subscribed') return;
      try {
        await this.transport.update(pending.request);
      } catch (e) {
        const error = e instanceof ExecutorError ? e : new ExecutorError('DISCONNECTED', String(e), { cause: e });
        if (error.code === 'DISCONNECTED') {
          this.options.logger.debug('update kept for the next subscription', { uuid, error: error.message });
          return;
        }
        if (error.code === 'REJECTED') {
          this.unacknowledged.delete(uuid);
          this.notify();
        }
        throw error;
      }
    };
    const next = this.sendChain.then(run);
    this.sendChain = next.catch(() => undefined);
    return next;
  }

  // -------------------------------------------------------------------------------------
  // Ending.

  private async shutDown(reason: ExecutorExit['reason'], graceMs: number, error?: ExecutorError): Promise<void> {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    this.shuttingDown = true;
    if (this.phase !== 'subscribed') this.phase = 'ending';
    if (error) this.reportError(error);
    const h = this.options.handlers;
    const live = (): string[] =>
      [...this.tasks.entries()].filter(([, t]) => t.latest === undefined || !isTerminalState(t.latest)).map(([id]) => id);
    if (h.shutdown) {
      const shutdown = h.shutdown;
      void this.invoke('shutdown', () => shutdown.call(h, this, { gracePeriodSeconds: graceMs / 1000 }));
    } else {
      for (const id of live()) {
        const grace = this.tasks.get(id)?.killGracePeriodSeconds;
        this.killTask(id, grace === undefined ? {} : { gracePeriodSeconds: grace });
      }
    }
    // Leave a little of the agent's grace period to send the last updates.
    const budget = Math.max(0, graceMs - Math.min(1_000, graceMs / 5));
    await this.waitFor(() => live().length === 0 && (!this.connected || this.unacknowledged.size === 0), budget);
    this.finish({ reason, ...(error ? { error } : {}) });
  }

  private finish(exit: ExecutorExit): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.generation++;
    const clock = this.options.clock;
    clock.clearTimeout(this.retryTimer);
    clock.clearTimeout(this.heartbeatTimer);
    clock.clearTimeout(this.deadlineTimer);
    this.releaseKeepAlive();
    this.subscription?.cancel();
    this.subscription = undefined;
    try {
      this.transport.close();
    } catch {
      // closing a transport is best effort
    }
    if (this.firstSubscribed) {
      const error =
        exit.error?.code === 'UNAUTHORIZED' || exit.error?.code === 'UNKNOWN_EXECUTOR' || exit.error?.code === 'CONNECTION_FAILED'
          ? exit.error
          : new ExecutorError('CONNECTION_FAILED', `could not subscribe to the agent at ${this.options.agentEndpoint}`, { cause: exit.error });
      this.firstSubscribed.reject(error);
      this.firstSubscribed = undefined;
    }
    this.options.logger.info('executor ended', { reason: exit.reason, shuttingDown: this.shuttingDown });
    this.notify();
    this.resolveDone(exit);
  }

  // -------------------------------------------------------------------------------------
  // Helpers.

  private releaseKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true once `predicate` holds, false after `timeoutMs` or when the executor ends. */
  private waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const clock = this.options.clock;
      const done = (result: boolean): void => {
        this.waiters.delete(check);
        clock.clearTimeout(timer);
        resolve(result);
      };
      const check = (): void => {
        if (predicate()) done(true);
        else if (this.phase === 'ended') done(false);
      };
      const timer = clock.setTimeout(() => done(predicate()), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Calls a handler; a throw or rejection is reported (never crashes the executor) and returned. */
  private async invoke(name: string, fn: () => void | Promise<void>): Promise<ExecutorError | undefined> {
    try {
      await fn();
      return undefined;
    } catch (e) {
      const error = new ExecutorError('HANDLER_FAILED', `${name} handler failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      this.reportError(error);
      return error;
    }
  }

  private reportError(error: ExecutorError): void {
    this.options.logger.error(error.message, { code: error.code });
    const handler = this.options.handlers.error;
    if (!handler) return;
    try {
      handler.call(this.options.handlers, error, this);
    } catch (e) {
      this.options.logger.error('error handler threw', { error: (e as Error)?.message });
    }
  }
}
