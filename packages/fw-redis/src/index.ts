/**
 * @meso/fw-redis — Redis on Meso: named instances of a master and replicas as redis-server
 * tasks, failover by Redis Sentinel's rules with an epoch recorded before acting and the old
 * master fenced, a Sentinel-compatible discovery server for clients, and MrRedis's API.
 */
export { RedisFwError, type RedisFwErrorCode } from './errors.js';
export { type InstanceRecord, type MemberRecord, type MemberState, type InstanceStatus, type FailoverRecord, type Observation } from './model.js';
export { V1_FIELDS, V2_FIELDS, type FieldNames, NAME_PATTERN, MIN_CAPACITY_MB, TASK_MEM_OVERHEAD_MB, MAX_REPLICAS, taskMemFor, validateCreate, checkFeasible, slotsFor, type CreateRequest, type AgentCapacity } from './sizing.js';
export { planConvergence, type ConvergeAction, type ConvergePolicy } from './converge.js';
export { startBackoffMs, backingOff, type FailedStarts } from './start-failures.js';
export { OfferLedger, type ServerNeeds, type ServerTake } from './offer-ledger.js';
export { planLaunch, planRelease, addressOf, type LaunchOptions, type LaunchPlan } from './offer-operations.js';
export { chooseReplica, decideFailover, masterDownReason, candidatesOf, type Candidate, type DetectionPolicy, type FailoverDecision, type ProbeFailures } from './failover.js';
export { planPlacements, missingMembers, pickPort, type OfferSlot, type Placement, type PlanResult } from './planner.js';
export { parseInfo, observationOf } from './redis-info.js';
export { encode, parseCommands, type RespValue } from './resp.js';
export { SentinelServer, globMatch, type Discovery, type ReplicaView } from './sentinel-server.js';
export { RedisEngine, ENGINE_DEFAULTS, type EngineTuning, type EngineCounters, type SchedulerCalls, type SwitchMaster } from './engine.js';
export { RedisState, type Command } from './state.js';
export { createApiHandler } from './http-api.js';
export { mrRedisStatus, instanceView, memberView, metricsText, discoveryOf, type MrRedisStatus, type MrRedisProc } from './views.js';
export { startRedis, REDIS_DEFAULTS, type RedisOptions, type RunningRedis } from './start-redis.js';
