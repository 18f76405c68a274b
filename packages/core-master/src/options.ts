import { createLogger, systemClock, type Clock, type Logger } from '@meso/proto';
import { MasterError } from './errors.js';
import { checkRoleName, checkWeight, type WeightEntry } from './roles/role-config.js';
import { parseFaultRules, type FaultRule } from './transport/fault-injection.js';

/** How to start a master. */
export interface MasterOptions {
  /** Interface to bind. Defaults to '127.0.0.1'. */
  host?: string;
  /**
   * One port serves gRPC (scheduler, agents, operator) and HTTP (/state, /health, /metrics).
   * Defaults to 5050; 0 picks a free port.
   */
  port?: number;
  /** Directory for the registry (framework and agent ids survive restarts). Required. */
  workDir: string;
  /** Milliseconds between allocation cycles (cycles also run promptly on events). Defaults to 1000. */
  allocationIntervalMs?: number;
  /** Offers not answered within this many milliseconds are rescinded. Defaults to undefined (never). */
  offerTimeoutMs?: number;
  /** Seconds between HEARTBEAT events on a framework's stream. Defaults to 15. */
  heartbeatIntervalSeconds?: number;
  /** Seconds between pings to an agent. Defaults to 15. */
  agentPingIntervalSeconds?: number;
  /** Pings an agent may miss in a row before it is unreachable. Defaults to 5. */
  maxMissedPings?: number;
  /**
   * After a master restart, agents the registry knows must re-register within this many
   * milliseconds or they are marked UNREACHABLE (Mesos's agent_reregister_timeout).
   * Defaults to 600000 (10 minutes).
   */
  agentReregisterTimeoutMs?: number;
  /**
   * An UNREACHABLE agent that does not return within this many milliseconds becomes GONE:
   * its tasks are TASK_GONE for partition-aware frameworks and a returning agent is refused
   * (AGENT_GONE) and told to shut its frameworks down. Counts from when it became unreachable,
   * across master restarts. Defaults to 600000 (10 minutes).
   */
  agentRemovalTimeoutMs?: number;
  /**
   * Role weights at start, e.g. `{ prod: 3, dev: 1 }` (each > 0); a role not listed weighs 1.
   * Not persisted: a weight the operator set through the API (kept in the registry) wins
   * after a restart. Defaults to none.
   */
  weights?: Readonly<Record<string, number>>;
  /** Test-only message faults between the master and its clients; see `fault-injection.ts`. Defaults to none (or MESO_FAULT_INJECTION via startMaster). */
  faultInjection?: readonly FaultRule[];
  /** Time source for every timer of the master. Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to a console logger for component `master`. */
  logger?: Logger;
}

/** MasterOptions with every default filled in. */
export interface ResolvedMasterOptions {
  host: string;
  port: number;
  workDir: string;
  allocationIntervalMs: number;
  offerTimeoutMs: number | undefined;
  heartbeatIntervalSeconds: number;
  agentPingIntervalSeconds: number;
  maxMissedPings: number;
  agentReregisterTimeoutMs: number;
  agentRemovalTimeoutMs: number;
  weights: WeightEntry[];
  faultInjection: readonly FaultRule[];
  clock: Clock;
  logger: Logger;
}

/** The defaults of every optional MasterOptions field. */
export const MASTER_DEFAULTS = {
  host: '127.0.0.1',
  port: 5050,
  allocationIntervalMs: 1000,
  offerTimeoutMs: undefined,
  heartbeatIntervalSeconds: 15,
  agentPingIntervalSeconds: 15,
  maxMissedPings: 5,
  agentReregisterTimeoutMs: 600_000,
  agentRemovalTimeoutMs: 600_000,
} as const satisfies Omit<ResolvedMasterOptions, 'workDir' | 'clock' | 'logger' | 'faultInjection' | 'weights'>;

function invalid(field: string, message: string): MasterError {
  return new MasterError('INVALID_OPTIONS', message, field);
}

function positive(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(field, `must be a positive number, got ${String(value)}`);
  }
  return value;
}

function weightsOf(weights: unknown): WeightEntry[] {
  if (weights === undefined) return [];
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) throw invalid('weights', 'must be an object of role -> weight, e.g. { prod: 3 }');
  return Object.entries(weights).map(([role, weight]) => ({
    role: checkRoleName(role, `weights.${role}`, 'INVALID_OPTIONS'),
    weight: checkWeight(weight, `weights.${role}`, 'INVALID_OPTIONS'),
  }));
}

/** Fills defaults and validates; throws MasterError INVALID_OPTIONS naming the field. */
export function resolveMasterOptions(options: MasterOptions): ResolvedMasterOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  const host = options.host ?? MASTER_DEFAULTS.host;
  if (typeof host !== 'string' || host === '') throw invalid('host', `must be a non-empty string, got ${String(host)}`);
  const port = options.port ?? MASTER_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid('port', `must be an integer in 0..65535, got ${String(port)}`);
  if (typeof options.workDir !== 'string' || options.workDir === '') {
    throw invalid('workDir', 'is required: the directory holding the registry');
  }
  const maxMissedPings = options.maxMissedPings ?? MASTER_DEFAULTS.maxMissedPings;
  if (!Number.isInteger(maxMissedPings) || maxMissedPings < 1) {
    throw invalid('maxMissedPings', `must be a whole number >= 1, got ${String(maxMissedPings)}`);
  }
  return {
    host,
    port,
    workDir: options.workDir,
    allocationIntervalMs: positive('allocationIntervalMs', options.allocationIntervalMs ?? MASTER_DEFAULTS.allocationIntervalMs),
    offerTimeoutMs: options.offerTimeoutMs === undefined ? undefined : positive('offerTimeoutMs', options.offerTimeoutMs),
    heartbeatIntervalSeconds: positive('heartbeatIntervalSeconds', options.heartbeatIntervalSeconds ?? MASTER_DEFAULTS.heartbeatIntervalSeconds),
    agentPingIntervalSeconds: positive('agentPingIntervalSeconds', options.agentPingIntervalSeconds ?? MASTER_DEFAULTS.agentPingIntervalSeconds),
    maxMissedPings,
    agentReregisterTimeoutMs: positive('agentReregisterTimeoutMs', options.agentReregisterTimeoutMs ?? MASTER_DEFAULTS.agentReregisterTimeoutMs),
    agentRemovalTimeoutMs: positive('agentRemovalTimeoutMs', options.agentRemovalTimeoutMs ?? MASTER_DEFAULTS.agentRemovalTimeoutMs),
    weights: weightsOf(options.weights),
    faultInjection: options.faultInjection === undefined ? [] : parseFaultRules(options.faultInjection, 'faultInjection'),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger('master'),
  };
}
