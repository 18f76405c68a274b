import type { Clock, Event, Logger, SubscribeRequest, TimerHandle } from '@meso/proto';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { codeFromWire, isRetryableCode, SchedulerError } from './errors.js';
import type { EventStream, SchedulerTransport } from './transport.js';

/** What SUBSCRIBED said. */
export interface SubscriptionInfo {
  frameworkId: string;
  streamId: string;
  masterId: string;
  heartbeatIntervalSeconds: number;
}

/** What the connection tells the scheduler. Called synchronously, in stream order. */
export interface ConnectionHandlers {
  /** SUBSCRIBED arrived; `reconnected` is false the first time. */
  subscribed(info: SubscriptionInfo, reconnected: boolean): void;
  /** Any other event of the live stream. */
  event(event: Event): void;
  /** The live stream was lost; the connection is reconnecting by itself. */
  disconnected(reason: string, cause?: SchedulerError): void;
  /** An attempt to subscribe failed transiently; the connection retries after `delayMs`. */
  retrying(error: SchedulerError, delayMs: number): void;
  /** The master refused the subscription for good (ERROR event or a refusal code). No retry. */
  failed(error: SchedulerError): void;
}

/** How a Connection times, backs off and logs. */
export interface ConnectionOptions {
  clock: Clock;
  logger: Logger;
  reconnect: BackoffPolicy;
  random: () => number;
  /** Intervals without any event after which the stream counts as dead. */
  missedHeartbeats: number;
  /** How long one attempt may wait for SUBSCRIBED. */
  attemptTimeoutMs: number;
}

/** Where the connection is. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/**
 * One framework's subscription to the master, kept alive: subscribe, watch heartbeats (any event
 * counts), and after a lost stream re-subscribe with truncated exponential backoff and jitter.
 * A refusal (a non-retryable code) or an ERROR event ends it for good. Each attempt has a
 * token; anything arriving from an older attempt's stream is ignored.
 */
export class Connection {
  private stream: EventStream | undefined;
  private token = 0;
  private attempts = 0;
  private everSubscribed = false;
  private liveState: ConnectionState = 'connecting';
  private attemptTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private watchdogMs = 0;
  private endExpected = false;

  constructor(
    private readonly transport: SchedulerTransport,
    private readonly request: () => SubscribeRequest,
    private readonly handlers: ConnectionHandlers,
    private readonly options: ConnectionOptions,
  ) {}

  get state(): ConnectionState {
    return this.liveState;
  }

  /** Starts the first attempt. */
  start(): void {
    this.attempt();
  }

  /** Drops the live stream (e.g. the master called it stale) and reconnects. */
  drop(reason: string, cause?: SchedulerError): void {
    if (this.liveState !== 'connected') return;
    this.lost(reason, cause);
  }

  /**
   * The master is about to end the stream on purpose (TEARDOWN): when it does, stop quietly
   * instead of reconnecting or reporting a failure. `false` undoes it (the call failed).
   */
  expectEnd(expected = true): void {
    this.endExpected = expected;
  }

  /** Stops everything; nothing is reported afterwards. Idempotent. */
  close(): void {
    if (this.liveState === 'closed') return;
    this.liveState = 'closed';
    this.token++;
    this.clearTimers();
    this.stream?.cancel();
    this.stream = undefined;
  }

  private clearTimers(): void {
    const { clock } = this.options;
    clock.clearTimeout(this.attemptTimer);
    clock.clearTimeout(this.retryTimer);
    clock.clearTimeout(this.watchdog);
    this.attemptTimer = this.retryTimer = this.watchdog = undefined;
  }

  private attempt(): void {
    if (this.liveState === 'closed' || this.liveState === 'failed') return;
    const token = ++this.token;
    const mine = (): boolean => token === this.token;
    this.attemptTimer = this.options.clock.setTimeout(() => {
      if (!mine() || this.liveState === 'connected') return;
      this.stream?.cancel();
      this.retry(new SchedulerError('UNAVAILABLE', `no SUBSCRIBED within ${this.options.attemptTimeoutMs} ms`));
    }, this.options.attemptTimeoutMs);
    this.stream = this.transport.subscribe(this.request(), {
      event: (e) => {
        if (e.event?.$case !== 'batch') {
          if (mine()) this.onEvent(e);
          return;
        }
        // A batch (the request says we take them) is its events one by one; one that ends
        // the attempt (ERROR, ...) drops the rest.
        for (const inner of e.event.value.events) if (mine() && inner.event?.$case !== 'batch') this.onEvent(inner);
      },
      end: (error) => {
        if (mine()) this.onEnd(error);
      },
    });
  }

  private onEvent(e: Event): void {
    const ev = e.event;
    if (this.liveState !== 'connected') {
      if (ev?.$case === 'subscribed') {
        this.options.clock.clearTimeout(this.attemptTimer);
        this.attemptTimer = undefined;
        const s = ev.value;
        const info: SubscriptionInfo = {
          frameworkId: s.frameworkId?.value ?? '',
          streamId: s.streamId,
          masterId: s.masterId,
          heartbeatIntervalSeconds: s.heartbeatIntervalSeconds,
        };
        const reconnected = this.everSubscribed;
        this.everSubscribed = true;
        this.attempts = 0;
        this.liveState = 'connected';
        this.watchdogMs = s.heartbeatIntervalSeconds > 0 ? s.heartbeatIntervalSeconds * 1000 * this.options.missedHeartbeats : 0;
        this.arm();
        this.options.logger.info(reconnected ? 'resubscribed' : 'subscribed', { frameworkId: info.frameworkId, masterId: info.masterId });
        this.handlers.subscribed(info, reconnected);
      } else if (ev?.$case === 'error') {
        this.fail(new SchedulerError(codeFromWire(ev.value.code), ev.value.message || 'subscription refused'));
      } else {
        this.options.logger.debug('event before SUBSCRIBED ignored', { event: ev?.$case });
      }
      return;
    }
    this.arm();
    if (ev?.$case === 'error') {
      this.fail(new SchedulerError(codeFromWire(ev.value.code), ev.value.message || 'the master ended the subscription'));
      return;
    }
    if (ev?.$case === 'subscribed') return; // a repeated SUBSCRIBED on the same stream says nothing new
    this.handlers.event(e);
  }

  private onEnd(error: SchedulerError | undefined): void {
    this.stream = undefined;
    if (error && !isRetryableCode(error.code)) {
      this.fail(error);
      return;
    }
    if (this.liveState === 'connected') {
      this.lost(error ? `stream ended: ${error.message}` : 'the master closed the stream', error);
    } else {
      this.retry(error ?? new SchedulerError('UNAVAILABLE', 'the stream ended before SUBSCRIBED'));
    }
  }

  /** (Re)arms the heartbeat watchdog: any event proves the stream alive. */
  private arm(): void {
    if (this.watchdogMs <= 0) return;
    const { clock } = this.options;
    clock.clearTimeout(this.watchdog);
    const token = this.token;
    this.watchdog = clock.setTimeout(() => {
      if (token !== this.token || this.liveState !== 'connected') return;
      this.lost(`no heartbeat for ${this.watchdogMs / 1000} s (${this.options.missedHeartbeats} intervals)`);
    }, this.watchdogMs);
  }

  private lost(reason: string, cause?: SchedulerError): void {
    if (this.endExpected) return this.close();
    this.options.logger.warn('disconnected from the master; reconnecting', { reason });
    this.token++;
    this.clearTimers();
    this.stream?.cancel();
    this.stream = undefined;
    this.liveState = 'reconnecting';
    this.handlers.disconnected(reason, cause);
    this.retry(cause ?? new SchedulerError('UNAVAILABLE', reason), false);
  }

  private retry(error: SchedulerError, report = true): void {
    if (this.liveState === 'closed' || this.liveState === 'failed') return;
    this.token++;
    this.clearTimers();
    if (this.liveState === 'connected') this.liveState = 'reconnecting';
    const delayMs = backoffDelay(this.options.reconnect, this.attempts++, this.options.random);
    this.options.logger.debug('subscription attempt failed; retrying', { error: error.message, delayMs });
    if (report) this.handlers.retrying(error, delayMs);
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt();
    }, delayMs);
  }

  private fail(error: SchedulerError): void {
    if (this.endExpected) return this.close();
    this.options.logger.error(this.liveState === 'connected' ? 'the master ended the subscription' : 'the master refused the subscription', {
      code: error.code,
      error: error.message,
    });
    this.token++;
    this.clearTimers();
    this.stream?.cancel();
    this.stream = undefined;
    this.liveState = 'failed';
    this.handlers.failed(error);
  }
}
