/**
 * @meso/fw-batch — multi-tenant batch work on Meso: job arrays and DAGs, fair share between
 * users (DRF with weights and quotas), retries with backoff, stragglers, and preemption only
 * when it helps.
 */
export { BatchError, type BatchErrorCode } from './errors.js';
export { type Job, type JobResources, type Constraint, type GroupPlacement, type RetryPolicy, type StragglerPolicy, JOB_DEFAULTS, JOB_ID_PATTERN, validateJob, checkGraph, sameJob } from './job.js';
export { type Scalars, ZERO, addScalars, subtractScalars, shortfall, fitsIn, dominantShare } from './scalars.js';
export { type Quota, type SharePolicy, type PendingTask, type UserUsage, weightOf, weightedShare, quotaViolation, fairShareOrder, nextUser } from './fair-share.js';
export { type OfferView, type PlaceableTask, type GroupState, type PlacementInput, type Placement, type PlacementResult, placeTasks, constraintViolation, groupViolation, unschedulableReason } from './placement.js';
export { type RunningTask, type AgentView, type WaitingTask, type PreemptionPlan, planPreemption } from './preemption.js';
export { retryDelayMs, quantile, findStragglers } from './retry.js';
export { startBatch, BATCH_DEFAULTS, type BatchOptions, type RunningBatch } from './start-batch.js';
export { BatchEngine, ENGINE_DEFAULTS, type EngineTuning, type EngineCounters, type SchedulerCalls } from './engine.js';
export { BatchState, isLive, taskIdOf, type Command, type JobRecord, type TaskRecord, type InstanceRecord, type EndReason, type PolicyRecord } from './state.js';
export { createApiHandler } from './http-api.js';
export { jobState, jobView, usageView, whyView, type JobState } from './views.js';
