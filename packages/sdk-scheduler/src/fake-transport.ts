import { parseResources, type Event, type Resources, type SubscribeRequest } from '@meso/proto';
import { offerToWire, taskStatusToWire } from './convert.js';
import { SchedulerError } from './errors.js';
import type { EventSink, EventStream, SchedulerCallName, SchedulerCallRequests, SchedulerTransport } from './transport.js';
import type { Offer, TaskStatus } from './types.js';
import { volumeSpecsOf } from './volumes.js';

/** One unary call the fake received. */
export interface RecordedCall<K extends SchedulerCallName = SchedulerCallName> {
  name: K;
  request: SchedulerCallRequests[K];
}

/** What `FakeSchedulerTransport.offer` takes: any Offer field; resources also as Mesos text. */
/** `volumes` are those of `resources` (e.g. `disk(redis)[data-1:data]:512`). */
export type FakeOfferInit = Partial<Omit<Offer, 'resources' | 'volumes'>> & { resources?: Resources | string };

/** What `FakeSchedulerTransport.update` takes: a task id and state, the rest optional. */
export type FakeStatusInit = Pick<TaskStatus, 'taskId' | 'state'> & Partial<TaskStatus>;

interface OpenStream {
  request: SubscribeRequest;
  sink: EventSink;
  streamId: string;
}

/**
 * A master in memory, for testing a scheduler without a network — the SDK tests itself with it.
 * Pass it as `transport` to `Scheduler.connect`, then play the master's part:
 *
 * ```ts
 * const master = new FakeSchedulerTransport();
 * const scheduler = await Scheduler.connect({ framework: { name: 'test' }, transport: master });
 * master.offer({ resources: 'cpus:1;mem:256' });
 * // ... your scheduler launches ...
 * const accept = await master.waitForCall('accept');
 * master.update({ taskId: 't1', state: 'TASK_RUNNING', uuid: 'u1' });
 * ```
 *
 * Each subscription is answered with SUBSCRIBED (unless `autoSubscribe` is false or a refusal
 * was queued); calls succeed unless a handler set with `onCall` throws. Events are delivered
 * synchronously when you send them; the answer to a subscription in a microtask.
 */
export class FakeSchedulerTransport implements SchedulerTransport {
  /** Every SUBSCRIBE received, in order. */
  readonly subscriptions: SubscribeRequest[] = [];
  /** Every unary call received, in order (including refused ones). */
  readonly calls: RecordedCall[] = [];
  /** Answer every subscription with SUBSCRIBED. Defaults to true. */
  autoSubscribe = true;
  /** The heartbeat interval sent in SUBSCRIBED. Defaults to 15. */
  heartbeatIntervalSeconds = 15;
  /** The id given to a framework that subscribes without one. Defaults to `fake-framework-1`. */
  frameworkId = 'fake-framework-1';
  /** The master id sent in SUBSCRIBED. Defaults to `fake-master`. */
  masterId = 'fake-master';
  private current: OpenStream | undefined;
  private streams = 0;
  private offers = 0;
  private readonly refusals: SchedulerError[] = [];
  private readonly handlers = new Map<SchedulerCallName, (request: never) => void | Promise<void>>();
  private readonly waiters: { name: SchedulerCallName; match: (r: never) => boolean; resolve: (r: never) => void }[] = [];
  private isClosed = false;

  // --- SchedulerTransport -----------------------------------------------------

  subscribe(request: SubscribeRequest, sink: EventSink): EventStream {
    this.subscriptions.push(request);
    const refusal = this.refusals.shift();
    if (refusal) {
      queueMicrotask(() => sink.end(refusal));
      return { cancel: () => undefined };
    }
    const stream: OpenStream = { request, sink, streamId: `stream-${++this.streams}` };
    this.current = stream;
    if (this.autoSubscribe) queueMicrotask(() => this.current === stream && this.subscribed());
    return {
      cancel: () => {
        if (this.current === stream) this.current = undefined;
      },
    };
  }

  async call<K extends SchedulerCallName>(name: K, request: SchedulerCallRequests[K]): Promise<void> {
    this.calls.push({ name, request } as RecordedCall);
    for (const w of [...this.waiters]) {
      if (w.name === name && w.match(request as never)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(request as never);
      }
    }
    if (this.isClosed) throw new SchedulerError('UNAVAILABLE', 'transport closed');
    const handler = this.handlers.get(name);
    if (handler) await handler(request as never);
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.current = undefined;
  }

  // --- Playing the master ------------------------------------------------------

  /** Whether a subscription stream is open. */
  get streamOpen(): boolean {
    return this.current !== undefined;
  }

  /** Whether the scheduler closed the transport. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The stream id of the open stream ('' when none). */
  get streamId(): string {
    return this.current?.streamId ?? '';
  }

  /** Sends SUBSCRIBED on the open stream (done for you with `autoSubscribe`). */
  subscribed(): void {
    const s = this.open();
    const id = s.request.frameworkInfo?.id?.value || this.frameworkId;
    this.emit({
      event: {
        $case: 'subscribed',
        value: { frameworkId: { value: id }, heartbeatIntervalSeconds: this.heartbeatIntervalSeconds, streamId: s.streamId, masterId: this.masterId, masterVersion: 'fake' },
      },
    });
  }

  /** Sends a wire event on the open stream. */
  emit(event: Event): void {
    this.open().sink.event(event);
  }

  /** Sends OFFERS; each offer gets defaults (id `offer-N`, agent `agent-1`, 4 cpus, 4 GB, ports 31000-31099). */
  offer(...inits: FakeOfferInit[]): Offer[] {
    const offers = inits.map((init): Offer => {
      const text = init.resources ?? 'cpus:4;mem:4096;disk:10000;ports:[31000-31099]';
      const resources = typeof text === 'string' ? parseResources(text) : text;
      return {
        id: init.id ?? `offer-${++this.offers}`,
        frameworkId: init.frameworkId ?? (this.current?.request.frameworkInfo?.id?.value || this.frameworkId),
        agentId: init.agentId ?? 'agent-1',
        hostname: init.hostname ?? 'host-1',
        resources,
        volumes: volumeSpecsOf(resources),
        attributes: init.attributes ?? [],
        executorIds: init.executorIds ?? [],
        role: init.role ?? '*',
        agentEndpoint: init.agentEndpoint ?? '127.0.0.1:5051',
      };
    });
    this.emit({ event: { $case: 'offers', value: { offers: offers.map(offerToWire) } } });
    return offers;
  }

  /** Sends UPDATE (timestamp defaults to now, source to AGENT). */
  update(init: FakeStatusInit): TaskStatus {
    const status: TaskStatus = { timestamp: Date.now(), source: 'AGENT', ...init };
    this.emit({ event: { $case: 'update', value: { status: taskStatusToWire(status) } } });
    return status;
  }

  /** Sends RESCIND. */
  rescind(offerId: string, reason = ''): void {
    this.emit({ event: { $case: 'rescind', value: { offerId: { value: offerId }, reason } } });
  }

  /** Sends HEARTBEAT. */
  heartbeat(): void {
    this.emit({ event: { $case: 'heartbeat', value: {} } });
  }

  /** Sends MESSAGE from an executor. */
  message(agentId: string, executorId: string, data: Uint8Array | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    this.emit({ event: { $case: 'message', value: { agentId: { value: agentId }, executorId: { value: executorId }, data: buf } } });
  }

  /** Sends FAILURE (an agent, or an executor when `executorId` is given). */
  failure(agentId: string, executorId?: string, status?: number): void {
    this.emit({ event: { $case: 'failure', value: { agentId: { value: agentId }, executorId: executorId ? { value: executorId } : undefined, status } } });
  }

  /** Sends ERROR (the master ends the subscription for good) and ends the stream. */
  error(code: string, message: string): void {
    this.emit({ event: { $case: 'error', value: { code, message } } });
    this.endStream();
  }

  /** Ends the open stream: cleanly, or with an error (e.g. `new SchedulerError('UNAVAILABLE', ...)`). */
  endStream(error?: SchedulerError): void {
    const s = this.current;
    if (!s) return;
    this.current = undefined;
    s.sink.end(error);
  }

  /** The next subscription ends with this error instead of SUBSCRIBED (e.g. UNKNOWN_FRAMEWORK). */
  refuseNextSubscribe(error: SchedulerError): void {
    this.refusals.push(error);
  }

  /** Handles a call: throw a SchedulerError to refuse it. Replaces an earlier handler. */
  onCall<K extends SchedulerCallName>(name: K, handler: (request: SchedulerCallRequests[K]) => void | Promise<void>): void {
    this.handlers.set(name, handler as (request: never) => void | Promise<void>);
  }

  /** The requests of every call named `name`, in order. */
  callsOf<K extends SchedulerCallName>(name: K): SchedulerCallRequests[K][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.request as SchedulerCallRequests[K]);
  }

  /**
   * Resolves with the first call named `name` matching `match` — already made, or the next one.
   * Rejects after `timeoutMs` of real time (a deadline, not a sleep).
   */
  waitForCall<K extends SchedulerCallName>(
    name: K,
    match: (request: SchedulerCallRequests[K]) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<SchedulerCallRequests[K]> {
    const seen = this.callsOf(name).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        name,
        match: match as (r: never) => boolean,
        resolve: (r: never) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new SchedulerError('UNAVAILABLE', `no ${name} call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private open(): OpenStream {
    if (!this.current) throw new SchedulerError('NOT_CONNECTED', 'no subscription stream is open');
    return this.current;
  }
}
