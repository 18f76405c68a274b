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
