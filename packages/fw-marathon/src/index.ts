/**
 * @meso/fw-marathon — long-running services on Meso with Marathon's v2 REST API.
 *
 * `startMarathon(options)` runs the whole framework (REST API, scheduler, state). The pure
 * pieces — app validation, constraint matching, placement, the deployment planner and launch
 * backoff — are exported for tests, tools and embedding.
 */
export { startMarathon, MARATHON_DEFAULTS, type MarathonOptions, type RunningMarathon } from './start-marathon.js';
export { MarathonError, type MarathonErrorCode, type ValidationDetail } from './errors.js';
export {
  normalizeApp,
  patchApp,
  appToJson,
  absoluteId,
  needsRestart,
  APP_DEFAULTS,
  CONSTRAINT_OPERATORS,
  type AppDefinition,
  type Constraint,
  type ConstraintOperator,
  type HealthCheck,
  type PortDefinition,
  type ReadinessCheck,
  type UpgradeStrategy,
  type UnreachableStrategy,
  type KillSelection,
} from './app-definition.js';
export { checkConstraint, checkConstraints, constraintText, fieldValue, type AgentFacts } from './constraints.js';
export { placeInstances, taskSpecFor, healthCheckSpec, factsOf, fixedPorts, type LaunchRequest, type PlannedLaunch, type PlacementResult } from './placement.js';
export { planApp, planSteps, actionFor, upgradeBounds, selectForKill, launchDelayMs, isHealthy, isHealthyTask, isSick, type AppPlan, type AppPlanInput, type AppChange } from './planner.js';
export { MarathonCore, CORE_DEFAULTS, type MarathonCoreOptions, type ChangeResult, type QueueEntry } from './marathon.js';
export { MarathonState, type StateCommand } from './marathon-state.js';
export { EventBus, type MarathonEvent, type Replay } from './event-bus.js';
export { serveEventStream } from './event-stream.js';
export { ReadinessTracker, fetchProbe, type ReadinessProbe } from './readiness.js';
export { createHttpHandler, type HttpApiContext } from './http-api.js';
export type { AppRecord, Deployment, DeploymentAction, DeploymentActionKind, TaskRecord, TaskPhase, TaskFailure } from './model.js';
