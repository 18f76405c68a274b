import type {
  AcceptRequest,
  AcknowledgeRequest,
  DeclineRequest,
  Event,
  KillRequest,
  MessageRequest,
  ReconcileRequest,
  ReviveRequest,
  ShutdownRequest,
  SubscribeRequest,
  SuppressRequest,
  TeardownRequest,
  UpdateFrameworkRequest,
} from '@meso/proto';
import type { SchedulerError } from './errors.js';

/** The request of each unary call of the Scheduler service, by call name. */
export interface SchedulerCallRequests {
  accept: AcceptRequest;
  decline: DeclineRequest;
  revive: ReviveRequest;
  suppress: SuppressRequest;
  kill: KillRequest;
  shutdown: ShutdownRequest;
  acknowledge: AcknowledgeRequest;
  reconcile: ReconcileRequest;
  message: MessageRequest;
  teardown: TeardownRequest;
  updateFramework: UpdateFrameworkRequest;
}

/** The name of a unary call of the Scheduler service. */
export type SchedulerCallName = keyof SchedulerCallRequests;

/** Where a transport delivers what arrives on a subscription stream. */
export interface EventSink {
  /** One event, in stream order. */
  event(event: Event): void;
  /**
   * The stream ended: cleanly (no error: the master closed it) or with an error (master
   * unreachable, refused subscription, ...). Called at most once, and never after `cancel()`.
   */
  end(error?: SchedulerError): void;
}

/** An open subscription stream. */
export interface EventStream {
  /** Stops the stream; the sink hears nothing more. Idempotent. */
  cancel(): void;
}

/**
 * How the SDK reaches a master: one server-streaming subscription and unary calls, in the wire
 * messages of meso.v1 (`@meso/proto`). The SDK's logic — subscribe loop, heartbeats, reconnect
 * with backoff, acknowledgements, reconciliation — runs above this interface, so it is tested
 * without a network (`FakeSchedulerTransport`) and can be carried over another transport later
 * (e.g. Mesos's HTTP API).
 *
 * In the contract:
 * - failures are `SchedulerError`s (the master's `meso-error-code` / `meso-error-field` mapped
 *   once, in the transport); nothing else is thrown or passed to `end`;
 * - `subscribe` does not throw: a failure to connect ends the stream with an error;
 * - a transport may be used for many subscriptions in a row (one at a time).
 *
 * Left out on purpose: retries, timeouts beyond the per-call deadline, and any knowledge of
 * framework ids or stream ids (the SDK fills the CallContext of every request).
 */
export interface SchedulerTransport {
  /** Opens a subscription stream; events and the end go to `sink`. */
  subscribe(request: SubscribeRequest, sink: EventSink): EventStream;
  /** Makes one unary call; rejects with a SchedulerError when refused or when the deadline passes. */
  call<K extends SchedulerCallName>(name: K, request: SchedulerCallRequests[K], options: { timeoutMs: number }): Promise<void>;
  /** Releases connections. Open streams are cancelled. Idempotent. */
  close(): Promise<void>;
}
