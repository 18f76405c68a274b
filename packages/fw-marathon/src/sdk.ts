// The one module that imports the scheduler SDK's runtime values (a seam for tests and reading).
export {
  OfferBuilder,
  SchedulerError,
  Scheduler,
  attributeText,
  parseResources,
  isTerminalState,
  FakeClock,
  systemClock,
  createLogger,
  silentLogger,
} from '@meso/sdk-scheduler';
export type { HealthCheckSpec, Offer, TaskSpec, TaskStatus, TaskState, Clock, Logger, SchedulerEvent, ReconcileTask } from '@meso/sdk-scheduler';
