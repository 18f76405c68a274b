import type { SchedulerErrorCode } from './errors.js';
import type { Offer, TaskStatus } from './types.js';

/** The subscription succeeded (first connect, or a reconnect after `disconnected`). */
export interface SubscribedEvent {
  type: 'subscribed';
  frameworkId: string;
  heartbeatIntervalSeconds: number;
  masterId: string;
  /** True after a reconnection (the SDK is reconciling its tracked tasks by itself). */
  reconnected: boolean;
}

/** New offers. Launch on each or decline it; unanswered offers tie resources up. */
export interface OffersEvent {
  type: 'offers';
  offers: Offer[];
}

/** An offer was withdrawn; it can no longer be used. */
export interface RescindEvent {
  type: 'rescind';
  offerId: string;
  reason?: string;
}

/**
 * A task status update. With `autoAcknowledge` (the default) the SDK acknowledges it once your
 * loop asks for the next event (or ends), so handle it before moving on.
 */
export interface UpdateEvent {
  type: 'update';
  status: TaskStatus;
}

/** A message from an executor. */
export interface FrameworkMessageEvent {
  type: 'message';
  agentId: string;
  executorId: string;
  data: Uint8Array;
}

/** An agent (no `executorId`) or an executor is gone. */
export interface FailureEvent {
  type: 'failure';
  agentId: string;
  executorId?: string;
  /** The executor's exit status. */
  status?: number;
}

/**
 * The master ended the subscription for good (framework removed, replaced by another
 * subscriber, refused on reconnect). The SDK does not reconnect; the event stream ends after it
 * and calls fail with this code.
 */
export interface MasterErrorEvent {
  type: 'error';
  code: SchedulerErrorCode;
  message: string;
}

/** The master is alive (sent every `heartbeatIntervalSeconds`). */
export interface HeartbeatEvent {
  type: 'heartbeat';
}

/**
 * The connection to the master was lost (stream ended, or no heartbeat for about five
 * intervals). The SDK reconnects by itself with backoff and emits `subscribed` with
 * `reconnected: true`; meanwhile calls fail with `NOT_CONNECTED`, and outstanding offers are void.
 */
export interface DisconnectedEvent {
  type: 'disconnected';
  reason: string;
}

/** Everything `scheduler.events()` yields; switch on `type`. */
export type SchedulerEvent =
  | SubscribedEvent
  | OffersEvent
  | RescindEvent
  | UpdateEvent
  | FrameworkMessageEvent
  | FailureEvent
  | MasterErrorEvent
  | HeartbeatEvent
  | DisconnectedEvent;
