/**
 * @meso/sdk-scheduler — write a Meso framework's scheduler.
 *
 * `Scheduler.connect()` subscribes to a master; `scheduler.events()` yields offers and status
 * updates as plain domain types; `launch`, `decline`, `kill`, `reconcile`, ... make calls. The
 * SDK keeps the subscription alive (heartbeats, reconnect with backoff, reconciliation,
 * acknowledgements) and fails with `SchedulerError` only. `OfferBuilder` / `fitTasks` pack tasks
 * into offers with `Resources` from `@meso/proto`.
 */
export { Scheduler, type SchedulerState, type FrameworkUpdate } from './scheduler.js';
export { SCHEDULER_DEFAULTS, resolveSchedulerOptions, type SchedulerOptions, type ResolvedSchedulerOptions, type ResolvedFramework } from './options.js';
export type {
  SchedulerEvent,
  SubscribedEvent,
  OffersEvent,
  RescindEvent,
  UpdateEvent,
  FrameworkMessageEvent,
  FailureEvent,
  MasterErrorEvent,
  HeartbeatEvent,
  DisconnectedEvent,
} from './events.js';
export type {
  CommandSpec,
  ExecutorSpec,
  Filters,
  FrameworkCapability,
  FrameworkSpec,
  HealthCheckSpec,
  KillOptions,
  Offer,
  Operation,
  ReconcileTask,
  ResourceSpec,
  TaskSpec,
  TaskStatus,
  TaskStatusSource,
  VolumeSpec,
} from './types.js';
export { type TaskState, TASK_STATES, isTerminalState } from './task-state.js';
export { SchedulerError, SdkErrorCode, isRetryableCode, type SchedulerErrorCode } from './errors.js';
export { OfferBuilder, fitTasks, type PlacedTask, type FitResult } from './offer-builder.js';
export { validateTaskSpec } from './task-spec.js';
export { backoffDelay, type BackoffPolicy } from './backoff.js';
export type { TrackedTask } from './task-tracker.js';
export type { SchedulerTransport, EventSink, EventStream, SchedulerCallName, SchedulerCallRequests } from './transport.js';
export { GrpcSchedulerTransport, type GrpcTransportOptions } from './grpc-transport.js';
export { FakeSchedulerTransport, type RecordedCall, type FakeOfferInit, type FakeStatusInit } from './fake-transport.js';
// Re-exported so a framework needs no direct dependency on @meso/proto for the basics.
export { Resources, parseResources, attributeText, type Attribute, type Resource, type Range, type Clock, FakeClock, systemClock, type Logger, createLogger, silentLogger } from '@meso/proto';
export { runFrameworkMain, type FrameworkMain, type FrameworkMainIo, type FrameworkFlags, type FrameworkFlagValues, type FlagNumbers, type RunningFramework } from './run-framework.js';
export { subscribeResuming, serveHttp, type FrameworkServiceOptions, type HttpService } from './framework-service.js';
