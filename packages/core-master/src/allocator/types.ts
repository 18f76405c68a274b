import type { Resources } from '@meso/proto';

/** An agent as the allocator sees it. */
export interface AllocatorAgent {
  id: string;
  /** Everything the agent has (counts toward the cluster total used for shares). */
  total: Resources;
  /** What may be offered now: total − used − offered. */
  available: Resources;
  /** False for agents that are disconnected or unreachable: never offered. */
  active: boolean;
}

/** A framework as the allocator sees it. */
export interface AllocatorFramework {
  id: string;
  roles: readonly string[];
  /** Roles for which the framework wants no offers. */
  suppressedRoles: ReadonlySet<string>;
  /** False for disconnected or removed frameworks: never offered. */
  active: boolean;
  /** What the framework holds per role (used by tasks and executors, plus outstanding offers). */
  allocation: ReadonlyMap<string, Resources>;
}

/**
 * "Do not offer these resources on this agent to this framework before `until`": set by
 * DECLINE and by the unused part of an ACCEPT. A candidate offer is filtered when the
 * filter's resources contain it.
 */
export interface OfferFilter {
  frameworkId: string;
  agentId: string;
  resources: Resources;
  /** Milliseconds since the epoch. */
  until: number;
}

/** Filters looked up by (framework, agent), as the allocator reads them (see `OfferFilters`). */
export interface FilterLookup {
  /** The pair's filters, live or expired (the allocator checks `until`), or undefined. */
  forPair(frameworkId: string, agentId: string): readonly OfferFilter[] | undefined;
}

/** Everything one allocation cycle decides on. */
export interface AllocatorInput {
  agents: readonly AllocatorAgent[];
  frameworks: readonly AllocatorFramework[];
  /** A list, or an index kept up to date by the caller (the master's model keeps one); expired filters are ignored. */
  filters: readonly OfferFilter[] | FilterLookup;
  /** Role weights; a role not listed weighs 1. */
  weights?: ReadonlyMap<string, number>;
  /**
   * Quota limits per role: scalar amounts (cpus, mem, disk, gpus) the role's allocation
   * (tasks, executors and outstanding offers, reserved resources included) may not exceed.
   * A role not listed, or a scalar a limit does not name, is unlimited.
   */
  quotas?: ReadonlyMap<string, Resources>;
  /** Milliseconds since the epoch. */
  now: number;
}

/** One decision: offer these resources of this agent to this framework in this role. */
export interface AllocationDecision {
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
}
