import type { ExecutorEvent, ExecutorMessageRequest, ExecutorSubscribeRequest, ExecutorUpdateRequest } from '@meso/proto';
import type { ExecutorError } from './errors.js';

/** Callbacks of one subscription stream. */
export interface SubscriptionObserver {
  /** An event from the agent, in order. */
  onEvent(event: ExecutorEvent): void;
  /** The stream ended (error set unless it ended cleanly). Called at most once. */
  onEnd(error?: ExecutorError): void;
}

/** One open subscription; `cancel()` ends it without calling `onEnd`. */
export interface Subscription {
  cancel(): void;
}

/**
 * How the executor SDK talks to its agent. The contract: `subscribe` opens the event
 * stream; `update` and `message` are unary calls that reject with an `ExecutorError`
 * (code `DISCONNECTED` when the agent is unreachable, `UNAUTHORIZED` for a bad token,
 * `UNKNOWN_EXECUTOR` when the agent does not know this executor,
 * `REJECTED` when the agent refused the call). Deliberately not in it: retries,
 * acknowledgement tracking, reconnection — those are the SDK's logic, tested over a fake.
 * @internal
 */
export interface ExecutorTransport {
  subscribe(request: ExecutorSubscribeRequest, observer: SubscriptionObserver): Subscription;
  update(request: ExecutorUpdateRequest): Promise<void>;
  message(request: ExecutorMessageRequest): Promise<void>;
  close(): void;
}
