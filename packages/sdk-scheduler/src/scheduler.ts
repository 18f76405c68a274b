import type { CallContext, Logger, SubscribeRequest } from '@meso/proto';
import { AckBatcher, acknowledgeBody } from './ack-batcher.js';
import { Connection, type SubscriptionInfo } from './connection.js';
import { eventFromWire, filtersToWire, frameworkInfoToWire, operationTaskIds, operationToWire, type PlacedOperation } from './convert.js';
import { isRetryableCode, SchedulerError, toSchedulerError } from './errors.js';
import { EventQueue } from './event-queue.js';
import type { SchedulerEvent } from './events.js';
import { GrpcSchedulerTransport } from './grpc-transport.js';
import { planLaunch } from './launch-plan.js';
import { OfferBuilder, type PlacedTask } from './offer-builder.js';
import { resolveSchedulerOptions, type ResolvedFramework, type ResolvedSchedulerOptions, type SchedulerOptions } from './options.js';
import { Reconciler } from './reconciler.js';
import { TaskTracker, type TrackedTask } from './task-tracker.js';
import type { SchedulerCallName, SchedulerCallRequests, SchedulerTransport } from './transport.js';
import type { Filters, FrameworkSpec, KillOptions, Offer, Operation, ReconcileTask, TaskSpec, TaskStatus } from './types.js';

/**
 * Where a scheduler is: `connecting` (inside `connect()`), `connected`, `reconnecting` (after
 * `disconnected`; calls fail with NOT_CONNECTED), `failed` (the master ended the framework's
 * subscription for good; calls fail with its code), `closed`.
 */
export type SchedulerState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/** The fields of FrameworkSpec that `updateFramework` may change (not the name or the id). */
export type FrameworkUpdate = Partial<Omit<FrameworkSpec, 'id' | 'name'>>;

type CallBody<K extends SchedulerCallName> = Omit<SchedulerCallRequests[K], 'context'>;

/**
 * A framework's scheduler, connected to a Meso master.
 *
 * `Scheduler.connect()` subscribes and resolves once the master answered SUBSCRIBED; then
 * `events()` yields offers, status updates and the rest, and the methods make calls. The SDK
 * keeps the subscription alive by itself: it watches heartbeats, reconnects with backoff after a
 * lost stream (re-subscribing with the same framework id), reconciles the tasks it tracks after
 * every (re)subscription, and acknowledges status updates once you have handled them.
 *
 * Calls made while disconnected fail fast with a `SchedulerError` of code `NOT_CONNECTED`
 * (wait for the next `subscribed` event and retry); they never queue. Every method rejects with
 * `SchedulerError` only.
 *
 * An open scheduler keeps the Node process alive, like an open socket; `close()` lets it go.
 */
export class Scheduler {
  private readonly queue: EventQueue<SchedulerEvent>;
  private readonly tracker = new TaskTracker();
  private readonly reconciler: Reconciler;
  private readonly connection: Connection;
  private readonly offers = new Map<string, Offer>();
  private readonly acks: AckBatcher;
  private readonly suppressed: Set<string>;
  private readonly logger: Logger;
  private framework: ResolvedFramework;
  private subscription: SubscriptionInfo | undefined;
  private liveState: SchedulerState = 'connecting';
  private fatal: SchedulerError | undefined;
  private closing: Promise<void> | undefined;
  private onFirstSubscribe: ((error?: SchedulerError) => void) | undefined;
  private lastAttemptError: SchedulerError | undefined;
  /**
   * Keeps the process alive while the scheduler is open, like an open socket would: during a
   * reconnection backoff nothing else may (the clock's timers do not hold the process).
   */
  private keepAlive: ReturnType<typeof setInterval> | undefined = setInterval(() => undefined, 1 << 30);

  protected constructor(
    private readonly options: ResolvedSchedulerOptions,
    private readonly transport: SchedulerTransport,
  ) {
    this.logger = options.logger;
    this.framework = options.framework;
    this.suppressed = new Set(options.suppressedRoles);
    this.queue = new EventQueue<SchedulerEvent>((event) => this.settled(event));
    this.acks = new AckBatcher(
      (body) => this.callNow('acknowledge', body),
      // The agent re-sends unacknowledged updates, so a lost acknowledgement only costs a duplicate.
      (acks, error) => this.logger.warn('acknowledgement failed; the agent will re-send the update', { taskIds: acks.slice(0, 10).map((a) => a.taskId), count: acks.length, error }),
    );
    this.reconciler = new Reconciler(
      this.tracker,
      (tasks) => this.callNow('reconcile', { tasks: tasks.map((t) => ({ taskId: { value: t.taskId }, agentId: t.agentId ? { value: t.agentId } : undefined })) }),
      options.clock,
      options.reconciliation,
      this.logger,
      options.random,
    );
    this.connection = new Connection(
      transport,
      () => this.subscribeRequest(),
      {
        subscribed: (info, reconnected) => this.onSubscribed(info, reconnected),
        event: (event) => this.onEvent(event),
        disconnected: (reason) => this.onDisconnected(reason),
        retrying: (error) => {
          this.lastAttemptError = error;
        },
        failed: (error) => this.onFailed(error),
      },
      {
        clock: options.clock,
        logger: this.logger,
        reconnect: options.reconnect,
        random: options.random,
        missedHeartbeats: options.missedHeartbeats,
        attemptTimeoutMs: options.connectTimeoutMs,
      },
    );
  }

  /**
   * Subscribes to the master and resolves once SUBSCRIBED arrived (the first event of
   * `events()` is that `subscribed`). While the master is unreachable it keeps trying, up to
   * `connectTimeoutMs`, then rejects with CONNECT_TIMEOUT; a refusal (e.g. UNKNOWN_FRAMEWORK or
   * FRAMEWORK_REMOVED for a stale `framework.id`) rejects at once with the master's code.
   */
  static async connect(options: SchedulerOptions): Promise<Scheduler> {
    const resolved = resolveSchedulerOptions(options);
    const transport = resolved.transport ?? new GrpcSchedulerTransport(resolved.master);
    const scheduler = new Scheduler(resolved, transport);
    try {
      await scheduler.start();
    } catch (e) {
      await scheduler.close();
      throw toSchedulerError(e);
    }
    return scheduler;
  }

  private start(): Promise<void> {
    const { clock, connectTimeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        const cause = this.lastAttemptError;
        done(
          new SchedulerError(
            'CONNECT_TIMEOUT',
            `no subscription to the master at ${this.options.master} within ${connectTimeoutMs} ms${cause ? `: ${cause.message}` : ''}`,
            cause ? { cause } : {},
          ),
        );
      }, connectTimeoutMs);
      const done = (error?: SchedulerError): void => {
        if (!this.onFirstSubscribe) return;
        this.onFirstSubscribe = undefined;
        clock.clearTimeout(timer);
        if (!error) return resolve();
        this.shutdownNow();
        reject(error);
      };
      this.onFirstSubscribe = done;
      this.connection.start();
    });
  }

  // -------------------------------------------------------------------------
  // State.

  /** The framework id given by the master (set once `connect()` resolved). */
  get frameworkId(): string {
    return this.subscription?.frameworkId ?? this.framework.id ?? '';
  }

  /** The id of the master of the current (or last) subscription. */
  get masterId(): string {
    return this.subscription?.masterId ?? '';
  }

  /** Where the scheduler is; see {@link SchedulerState}. */
  get state(): SchedulerState {
    return this.liveState;
  }

  /** The framework as last sent to the master (defaults filled, id set). */
  get frameworkInfo(): FrameworkSpec {
    return { ...this.framework, ...(this.frameworkId ? { id: this.frameworkId } : {}) };
  }

  /**
   * The tasks the SDK tracks for reconciliation: launched, or seen with a non-terminal state,
   * and not seen terminal since.
   */
  trackedTasks(): TrackedTask[] {
    return this.tracker.list();
  }

  /**
   * The events of the subscription, in order, for one consumer: `subscribed` first, then
   * offers, updates, ... It ends after `close()` (at once, dropping what is queued) or after an
   * `error` event. Events are buffered until you read them.
   */
  events(): AsyncIterable<SchedulerEvent> {
    return this.queue;
  }

  // -------------------------------------------------------------------------
  // Calls.

  /**
   * Launches tasks on one or more offers of the same agent (ACCEPT with one LAUNCH). Task
   * resources are taken from the offers with `OfferBuilder` (reserved first, ports picked for
   * `ports`); if they do not all fit, it rejects with TASK_DOES_NOT_FIT naming the resource
   * short, before anything is sent. Resources of the offers left unused are declined with
   * `filters`. Resolves with the placed tasks (their exact resources and picked ports).
   */
  async launch(offers: Offer | readonly Offer[], tasks: readonly TaskSpec[], filters?: Filters): Promise<PlacedTask[]> {
    const list: readonly Offer[] = Array.isArray(offers) ? offers : [offers as Offer];
    const builder = new OfferBuilder(list);
    const placed = tasks.map((t, i) => builder.add(t, `tasks[${i}]`));
    await this.acceptPlaced(builder.offerIds, builder.agentId, [{ type: 'launch', tasks: placed }], filters);
    return placed;
  }

  /**
   * ACCEPT: applies operations to offers (all on one agent). When the SDK knows the offers (it
   * saw them in an `offers` event) task resources are placed as in `launch`; otherwise they are
   * sent as given (scalar records as unreserved resources; `ports` needs the offer).
   */
  async accept(offerIds: readonly string[], operations: readonly Operation[], filters?: Filters): Promise<void> {
    this.ensureUsable();
    if (offerIds.length === 0) throw new SchedulerError('INVALID_ARGUMENT', 'offerIds: at least one offer id is needed', { field: 'offerIds' });
    const known = offerIds.map((id) => this.offers.get(id));
    const allKnown = known.every((o): o is Offer => o !== undefined);
    const plan = planLaunch(allKnown ? known : undefined, operations);
    const agentId = plan.agentId || (known.find((o) => o)?.agentId ?? '');
    await this.acceptPlaced([...offerIds], agentId, plan.operations, filters);
  }

  private async acceptPlaced(offerIds: string[], agentId: string, operations: PlacedOperation[], filters: Filters | undefined): Promise<void> {
    this.ensureUsable();
    const tasks = operations.flatMap(operationTaskIds);
    const wireOps = operations.map((op) => operationToWire(op, agentId, this.frameworkId));
    for (const taskId of tasks) this.tracker.track(taskId, { ...(agentId ? { agentId } : {}), state: 'TASK_STAGING', answered: true });
    for (const id of offerIds) this.offers.delete(id);
    try {
      await this.call('accept', { offerIds: offerIds.map((value) => ({ value })), operations: wireOps, filters: filtersToWire(filters) });
    } catch (e) {
      const err = toSchedulerError(e);
      if (isRetryableCode(err.code) && err.code !== 'NOT_CONNECTED') {
        // The master may or may not have the launch: ask it, until it answers.
        for (const taskId of tasks) this.tracker.track(taskId, { answered: false });
        this.reconciler.request(this.tracker.pending()).catch(() => undefined);
      } else {
        for (const taskId of tasks) this.tracker.untrack(taskId);
      }
      throw err;
    }
  }

  /** DECLINE: gives offers back; `filters.refuseSeconds` keeps them away that long (master default 5 s). */
  async decline(offerIds: string | readonly string[], filters?: Filters): Promise<void> {
    const ids = typeof offerIds === 'string' ? [offerIds] : [...offerIds];
    for (const id of ids) this.offers.delete(id);
    await this.call('decline', { offerIds: ids.map((value) => ({ value })), filters: filtersToWire(filters) });
  }

  /** REVIVE: clears offer filters and un-suppresses `roles` (default: all of the framework's roles). */
  async revive(roles?: readonly string[]): Promise<void> {
    await this.call('revive', { roles: [...(roles ?? [])] });
    for (const r of roles ?? [...this.suppressed]) this.suppressed.delete(r);
  }

  /**
   * SUPPRESS: stops offers for `roles` (default: all of the framework's roles) until `revive`.
   * Status updates keep flowing. Remembered across reconnections.
   */
  async suppress(roles?: readonly string[]): Promise<void> {
    await this.call('suppress', { roles: [...(roles ?? [])] });
    for (const r of roles ?? this.framework.roles) this.suppressed.add(r);
  }

  /** KILL: asks the task's executor to kill it (SIGTERM, then SIGKILL after the grace period). */
  async kill(taskId: string, options: KillOptions = {}): Promise<void> {
    if (typeof taskId !== 'string' || taskId === '') throw new SchedulerError('INVALID_ARGUMENT', 'taskId: must be a non-empty string', { field: 'taskId' });
    const agentId = options.agentId ?? this.tracker.get(taskId)?.agentId;
    await this.call('kill', {
      taskId: { value: taskId },
      agentId: agentId ? { value: agentId } : undefined,
      killPolicy: options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : undefined,
    });
  }

  /** SHUTDOWN: stops one executor (and its tasks) on an agent. */
  async shutdown(executorId: string, agentId: string): Promise<void> {
    await this.call('shutdown', { executorId: { value: executorId }, agentId: { value: agentId } });
  }

  /**
   * ACKNOWLEDGE: tells the agent (through the master) that an update was handled, so it stops
   * re-sending it. Only needed with `autoAcknowledge: false`. A status without `uuid` needs no
   * acknowledgement: this resolves at once without a call.
   */
  async acknowledge(status: TaskStatus): Promise<void> {
    if (!status.uuid) return;
    await this.call('acknowledge', acknowledgeBody([{ taskId: status.taskId, agentId: status.agentId, uuid: status.uuid }]));
  }

  /**
   * RECONCILE. With tasks (explicit): the master answers each with an `update` (reason
   * RECONCILIATION); the SDK tracks them and asks again with backoff until each is answered,
   * also after reconnections — use it after a failover with the task ids you persisted.
   * Without tasks (implicit): the master sends the latest state of every non-terminal task
   * it knows, once. While disconnected it rejects with NOT_CONNECTED, but explicit tasks stay
   * tracked and are reconciled after the reconnection.
   */
  async reconcile(tasks?: readonly ReconcileTask[]): Promise<void> {
    if (!tasks || tasks.length === 0) {
      await this.call('reconcile', { tasks: [] });
      return;
    }
    this.ensureUsable({ allowDisconnected: true });
    for (const t of tasks) this.tracker.track(t.taskId, { ...(t.agentId ? { agentId: t.agentId } : {}), answered: false });
    this.ensureUsable();
    await this.reconciler.request(tasks.map((t) => ({ taskId: t.taskId, ...(t.agentId ? { agentId: t.agentId } : {}) })));
  }

  /** MESSAGE: sends bytes (strings as UTF-8) to an executor. */
  async message(agentId: string, executorId: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await this.call('message', { agentId: { value: agentId }, executorId: { value: executorId }, data: bytes });
  }

  /**
   * UPDATE_FRAMEWORK: changes the framework's info (roles, capabilities, failover timeout, ...)
   * without re-subscribing; the change is kept for later reconnections. `suppressedRoles`
   * replaces the suppressed roles (default: unchanged).
   */
  async updateFramework(update: FrameworkUpdate, options: { suppressedRoles?: readonly string[] } = {}): Promise<void> {
    const next = resolveSchedulerOptions({
      framework: { ...this.framework, ...update, name: this.framework.name, ...(this.frameworkId ? { id: this.frameworkId } : {}) },
    }).framework;
    const suppressed = options.suppressedRoles ? [...options.suppressedRoles] : [...this.suppressed];
    await this.call('updateFramework', { frameworkInfo: frameworkInfoToWire(next, this.frameworkId), suppressedRoles: suppressed });
    this.framework = next;
    if (options.suppressedRoles) {
      this.suppressed.clear();
      for (const r of suppressed) this.suppressed.add(r);
    }
  }

  /**
   * TEARDOWN: ends the framework — the master kills all its tasks and forgets it — then closes
   * this scheduler. To just stop this process (and fail over later), use `close()`.
   */
  async teardown(): Promise<void> {
    // The master ends the stream (often with ERROR FRAMEWORK_REMOVED): expected, not news.
    this.connection.expectEnd();
    try {
      await this.call('teardown', {});
    } catch (e) {
      this.connection.expectEnd(false);
      throw e;
    }
    await this.close();
  }

  /**
   * Stops: acknowledges the update your loop holds (with autoAcknowledge), waits for pending
   * acknowledgements up to `closeTimeoutMs`, cancels the stream, ends `events()` and closes the
   * transport. The framework is not torn down: with a failover timeout its tasks keep running
   * and another process can re-subscribe with `frameworkId`. Idempotent; never rejects.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (this.liveState !== 'failed') this.liveState = 'closed';
    this.queue.settleCurrent();
    if (this.acks.busy) {
      let timer: ReturnType<typeof this.options.clock.setTimeout> | undefined;
      await Promise.race([
        this.acks.drain(),
        new Promise<void>((resolve) => (timer = this.options.clock.setTimeout(resolve, this.options.closeTimeoutMs))),
      ]);
      this.options.clock.clearTimeout(timer);
    }
    this.shutdownNow();
    this.liveState = 'closed';
    await this.transport.close().catch((e: unknown) => this.logger.warn('closing the transport failed', { error: e }));
  }

  /** Stops timers and the stream, ends the events, lets the process exit. */
  private shutdownNow(): void {
    if (this.liveState === 'connecting') this.liveState = 'closed';
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    this.connection.close();
    this.reconciler.stop();
    this.offers.clear();
    this.queue.end({ discard: this.liveState !== 'failed' });
  }

  // -------------------------------------------------------------------------
  // Plumbing.

  private subscribeRequest(): SubscribeRequest {
    return {
      frameworkInfo: frameworkInfoToWire(this.framework, this.frameworkId || undefined),
      suppressedRoles: [...this.suppressed],
      // The transport takes the master's event batches apart (see GrpcSchedulerTransport).
      acceptsBatches: true,
    };
  }

  private ensureUsable(options: { allowDisconnected?: boolean } = {}): void {
    switch (this.liveState) {
      case 'connected':
        return;
      case 'failed':
        throw new SchedulerError(this.fatal?.code ?? 'CLOSED', `the master ended the subscription: ${this.fatal?.message ?? 'unknown reason'}`, {
          ...(this.fatal ? { cause: this.fatal } : {}),
        });
      case 'closed':
        throw new SchedulerError('CLOSED', 'the scheduler is closed');
      default:
        if (options.allowDisconnected) return;
        throw new SchedulerError('NOT_CONNECTED', 'not connected to the master (reconnecting); retry after the next subscribed event');
    }
  }

  private call<K extends SchedulerCallName>(name: K, body: CallBody<K>): Promise<void> {
    try {
      this.ensureUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.callNow(name, body);
  }

  /** A call on the current stream, without the state check (close() still acknowledges). */
  private async callNow<K extends SchedulerCallName>(name: K, body: CallBody<K>): Promise<void> {
    const sub = this.subscription;
    if (!sub || this.liveState === 'reconnecting' || this.liveState === 'connecting') {
      throw new SchedulerError('NOT_CONNECTED', 'not connected to the master (reconnecting); retry after the next subscribed event');
    }
    const context: CallContext = { frameworkId: { value: sub.frameworkId }, streamId: sub.streamId };
    const request = { ...body, context } as SchedulerCallRequests[K];
    try {
      await this.transport.call(name, request, { timeoutMs: this.options.callTimeoutMs });
    } catch (e) {
      const err = toSchedulerError(e);
      if ((err.code === 'STALE_STREAM' || err.code === 'NOT_SUBSCRIBED') && this.subscription === sub) {
        this.connection.drop(`the master refused a call: ${err.message}`, err);
      }
      throw err;
    }
  }

  private onSubscribed(info: SubscriptionInfo, reconnected: boolean): void {
    this.subscription = info;
    if (this.liveState !== 'closed' && this.liveState !== 'failed') this.liveState = 'connected';
    this.queue.push({
      type: 'subscribed',
      frameworkId: info.frameworkId,
      heartbeatIntervalSeconds: info.heartbeatIntervalSeconds,
      masterId: info.masterId,
      reconnected,
    });
    this.onFirstSubscribe?.();
    this.reconciler.start();
  }

  private onEvent(wire: Parameters<typeof eventFromWire>[0]): void {
    let event: SchedulerEvent | undefined;
    try {
      event = eventFromWire(wire);
    } catch (e) {
      this.logger.error('dropped an event the SDK cannot read', { event: wire.event?.$case, error: e });
      return;
    }
    if (!event) return;
    switch (event.type) {
      case 'offers':
        for (const o of event.offers) this.offers.set(o.id, o);
        break;
      case 'rescind':
        this.offers.delete(event.offerId);
        break;
      case 'update':
        this.tracker.observe(event.status);
        break;
      default:
        break;
    }
    this.queue.push(event);
  }

  private onDisconnected(reason: string): void {
    if (this.liveState === 'connected') this.liveState = 'reconnecting';
    this.reconciler.stop();
    this.offers.clear(); // the master rescinds a disconnected framework's offers
    this.queue.push({ type: 'disconnected', reason });
  }

  private onFailed(error: SchedulerError): void {
    if (this.onFirstSubscribe) {
      this.onFirstSubscribe(error);
      return;
    }
    this.fatal = error;
    this.liveState = 'failed';
    this.queue.push({ type: 'error', code: error.code, message: error.message });
    this.shutdownNow();
    this.transport.close().catch(() => undefined);
  }

  /**
   * The consumer is done with `event`: acknowledge it if it is an update that needs it (with
   * the others handled in the same turn of the event loop, in one call).
   */
  private settled(event: SchedulerEvent): void {
    if (!this.options.autoAcknowledge || event.type !== 'update' || !event.status.uuid) return;
    const { taskId, agentId, uuid } = event.status;
    if (!agentId) {
      // The master would refuse it (and with it the other acknowledgements of its call).
      this.logger.warn('update with a uuid but no agent id cannot be acknowledged', { taskId });
      return;
    }
    this.acks.add({ taskId, agentId, uuid });
  }
}
