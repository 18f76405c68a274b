/**
 * @meso/fw-chronos — scheduled and dependent jobs on Meso with Chronos's REST API.
 */
export { ChronosError, type ChronosErrorCode } from './errors.js';
export { type Job, type Constraint, JOB_DEFAULTS, normalizeJob, type JobContext } from './job.js';
export { nextRunAfter, runsBetween, scheduleSpecOf, type ScheduleSpec, type ZoneRule, type DueRuns } from './schedule.js';
export { decideDueRuns, type MissedRunPolicy, type DueDecision } from './missed-runs.js';
export { findCycle, isDependentReady, readyDependents, type DagNode } from './dag.js';
export { fromLocal, toLocal, isValidTimeZone, type LocalTime } from './zoned-time.js';
export { startChronos, CHRONOS_DEFAULTS, type ChronosOptions, type RunningChronos } from './start-chronos.js';
export { JobEngine, ENGINE_DEFAULTS, type EngineTuning, type SchedulerCalls } from './engine.js';
export { Repository, type JobRecord, type Command } from './repository.js';
export { type RunRecord, type RunState, type RunTrigger, type AttemptRecord } from './run.js';
export { createApiHandler } from './http-api.js';
export { matchesConstraints, taskSpecOf, placeRuns } from './placement.js';
