/**
 * @meso/master — the Meso master: admits agents, registers frameworks, offers resources
 * by hierarchical DRF, launches and kills tasks, routes status updates, and serves gRPC
 * (Scheduler, AgentLink, Operator) and HTTP (/state, /health, /metrics) on one port.
 */
export { startMaster, type MasterHandle } from './start-master.js';
export { MASTER_DEFAULTS, resolveMasterOptions, type MasterOptions, type ResolvedMasterOptions } from './options.js';
export { MasterError, type MasterErrorCode } from './errors.js';
export { MASTER_VERSION } from './version.js';

// The pure allocator, for tests and benchmarks.
export { allocate, isAllocatable, MIN_ALLOCATABLE } from './allocator/allocate.js';
export { dominantShare } from './allocator/shares.js';
export type { AllocationDecision, AllocatorAgent, AllocatorFramework, AllocatorInput, OfferFilter } from './allocator/types.js';

// The /state document.
export type { StateJson, TaskJson, ResourcesJson } from './observe/state-json.js';
