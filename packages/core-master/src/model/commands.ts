import type { Attribute, FrameworkInfo, ResourceStatistics, Resources, TaskStatus } from '@meso/proto';
import type { OfferFilter } from '../allocator/types.js';
import type { AgentMaintenance, ExecutorRecord, OfferRecord, TaskRecord } from './model.js';

/** What the master knows of an agent when it (re-)admits it. */
export interface AgentAdmission {
  id: string;
  hostname: string;
  endpoint: string;
  version: string;
  bootId: string;
  attributes: Attribute[];
  total: Resources;
  /** The isolators the agent applies (AgentInfo.isolators). */
  isolators?: string[];
  /** Its static resources, when `total` also holds checkpointed ones. */
  staticResources?: Resources;
  /** Its dynamic reservations and persistent volumes (RegisterAgent.checkpointed_resources). */
  checkpointed?: Resources;
}

/**
 * Every change to the master's state, as data. `apply` is the one place that carries
 * them out; the registry persists the ones that must outlive the master.
 */
export type MasterCommand =
  | {
      type: 'agentAdmitted';
      agent: AgentAdmission;
      reregistered: boolean;
      /** Tasks the agent reports: known live ones take the reported state, others are adopted. */
      tasks: TaskRecord[];
      /** Custom executors the agent reports; the agent's executors not listed are dropped. */
      executors: ExecutorRecord[];
      at: number;
    }
  | { type: 'agentDisconnected'; agentId: string; at: number }
  | { type: 'agentUnreachable'; agentId: string; at: number }
  /** Loaded from the registry at start: RECOVERING (must re-register) or still UNREACHABLE. */
  | {
      type: 'agentRecovered';
      agentId: string;
      hostname: string;
      endpoint: string;
      admittedTime: number;
      status: 'RECOVERING' | 'UNREACHABLE';
      unreachableTime?: number;
      maintenance?: AgentMaintenance;
    }
  /** Past the removal timeout: out of the model for good; its UNREACHABLE tasks become GONE. */
  | { type: 'agentGone'; agentId: string; hostname: string; at: number }
  /** DRAINING or DEACTIVATED; undefined reactivates. */
  | { type: 'agentMaintenanceSet'; agentId: string; maintenance: AgentMaintenance | undefined; at: number }
  | {
      type: 'frameworkSubscribed';
      info: FrameworkInfo;
      streamId: string;
      suppressedRoles: string[];
      isNew: boolean;
      at: number;
    }
  | { type: 'frameworkDisconnected'; frameworkId: string; at: number }
  | { type: 'frameworkUpdated'; info: FrameworkInfo; suppressedRoles?: string[]; at: number }
  /** Loaded from the registry at start: known, not connected. */
  | { type: 'frameworkRecovered'; info: FrameworkInfo; registeredTime: number; unregisteredTime?: number }
  | { type: 'frameworkRemoved'; frameworkId: string; at: number }
  | { type: 'frameworkRemovalRecovered'; frameworkId: string; name: string; removedTime: number }
  | { type: 'offersCreated'; offers: OfferRecord[] }
  /** Rescinded, declined or consumed; `filters` keep what was declined from coming back too soon. */
  | { type: 'offersRemoved'; offerIds: string[]; filters: OfferFilter[]; at: number }
  | { type: 'rolesSuppressed'; frameworkId: string; roles: string[] }
  /** Un-suppresses the roles and clears every filter of the framework. */
  | { type: 'rolesRevived'; frameworkId: string; roles: string[] }
  | {
      type: 'tasksLaunched';
      frameworkId: string;
      agentId: string;
      offerIds: string[];
      tasks: TaskRecord[];
      executors: ExecutorRecord[];
      filters: OfferFilter[];
      at: number;
    }
  | { type: 'statusUpdated'; frameworkId: string; taskId: string; status: TaskStatus; latestState?: number; at: number }
  | { type: 'statusAcknowledged'; frameworkId: string; taskId: string; uuid: string }
  | { type: 'executorRemoved'; agentId: string; frameworkId: string; executorId: string }
  /**
   * Role weights (validated: role names, weights > 0). `operator` weights are persisted and
   * win over `options` ones (the master's start flags) after a restart.
   */
  | { type: 'weightsSet'; weights: { role: string; weight: number }[]; source: 'options' | 'operator' }
  /** A role's quota limits (validated scalars); empty limits remove the quota. Persisted. */
  | { type: 'quotaSet'; role: string; limits: Resources }
  /** RESERVE/UNRESERVE/CREATE/DESTROY changed an agent's dynamic reservations or volumes, hence its total. */
  | { type: 'agentResourcesUpdated'; agentId: string; checkpointed: Resources; total: Resources }
  /** The latest usage an agent sampled, summed over its executors. Volatile: never persisted. */
  | { type: 'agentUsageReported'; agentId: string; usage: ResourceStatistics };

/** The `type` of every command. */
export type MasterCommandType = MasterCommand['type'];
