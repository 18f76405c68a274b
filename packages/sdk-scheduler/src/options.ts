import { hostname, userInfo } from 'node:os';
import { createLogger, systemClock, type Clock, type Logger } from '@meso/proto';
import type { BackoffPolicy } from './backoff.js';
import { SchedulerError } from './errors.js';
import type { SchedulerTransport } from './transport.js';
import type { FrameworkCapability, FrameworkSpec } from './types.js';

/** Options of `Scheduler.connect`. Only `framework.name` is required. */
export interface SchedulerOptions {
  /** The master's gRPC address, `host:port`. Defaults to `127.0.0.1:5050`. */
  master?: string;
  /** Who the framework is (FrameworkInfo). */
  framework: FrameworkSpec;
  /**
   * Acknowledge each status update that carries a uuid once your `for await` loop asks for the
   * next event (i.e. after you handled it), or on `close()`. Updates without a uuid (answers to
   * reconciliation) are never acknowledged. Defaults to true; with false, call `acknowledge`.
   */
  autoAcknowledge?: boolean;
  /** Roles for which the framework starts suppressed (no offers). Defaults to none. */
  suppressedRoles?: string[];
  /** Backoff between reconnection attempts. Defaults to `{ initialDelayMs: 500, maxDelayMs: 30_000 }`. */
  reconnect?: Partial<BackoffPolicy>;
  /**
   * Backoff between explicit reconciliation requests for tasks not answered yet.
   * Defaults to `{ initialDelayMs: 5_000, maxDelayMs: 60_000 }`.
   */
  reconciliation?: Partial<BackoffPolicy>;
  /**
   * How long `connect()` waits for SUBSCRIBED (retrying while the master is unreachable) before
   * rejecting with CONNECT_TIMEOUT; also bounds each later subscription attempt. Defaults to 20_000.
   */
  connectTimeoutMs?: number;
  /** The deadline of each call (accept, decline, kill, ...). Defaults to 10_000. */
  callTimeoutMs?: number;
  /**
   * How many heartbeat intervals without any event mean the connection is dead (then the SDK
   * reconnects). Defaults to 5, as Mesos recommends.
   */
  missedHeartbeats?: number;
  /** How long `close()` waits for the last acknowledgements. Defaults to 2_000. */
  closeTimeoutMs?: number;
  /** Time source for timeouts, heartbeats and backoff. Defaults to the system clock. */
  clock?: Clock;
  /** Where the SDK logs. Defaults to `createLogger('sdk-scheduler')` (stderr, level from MESO_LOG_LEVEL). */
  logger?: Logger;
  /**
   * How to reach the master. Defaults to a `GrpcSchedulerTransport` to `master`. Pass a
   * `FakeSchedulerTransport` to test a scheduler without a master. The scheduler closes it on `close()`.
   */
  transport?: SchedulerTransport;
  /** The jitter source, returning [0, 1). Defaults to `Math.random`. */
  random?: () => number;
}

/** The framework spec with every default filled. */
export type ResolvedFramework = FrameworkSpec &
  Required<Pick<FrameworkSpec, 'user' | 'roles' | 'failoverTimeoutSeconds' | 'checkpoint' | 'hostname' | 'capabilities'>>;

/** SchedulerOptions with every default filled. */
export interface ResolvedSchedulerOptions {
  master: string;
  framework: ResolvedFramework;
  autoAcknowledge: boolean;
  suppressedRoles: string[];
  reconnect: BackoffPolicy;
  reconciliation: BackoffPolicy;
  connectTimeoutMs: number;
  callTimeoutMs: number;
  missedHeartbeats: number;
  closeTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  transport: SchedulerTransport | undefined;
  random: () => number;
}

/** The defaults of every optional field of SchedulerOptions (but `logger`, created on demand). */
export const SCHEDULER_DEFAULTS = {
  master: '127.0.0.1:5050',
  autoAcknowledge: true,
  suppressedRoles: [] as readonly string[],
  reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 },
  reconciliation: { initialDelayMs: 5_000, maxDelayMs: 60_000 },
  connectTimeoutMs: 20_000,
  callTimeoutMs: 10_000,
  missedHeartbeats: 5,
  closeTimeoutMs: 2_000,
  roles: ['*'] as readonly string[],
  failoverTimeoutSeconds: 0,
} as const;

const CAPABILITIES: readonly FrameworkCapability[] = ['MULTI_ROLE', 'PARTITION_AWARE', 'TASK_KILLING_STATE', 'GPU_RESOURCES'];

function invalid(field: string, message: string): SchedulerError {
  return new SchedulerError('INVALID_ARGUMENT', `options.${field}: ${message}`, { field });
}

function positive(value: unknown, field: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalid(field, `must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((x) => typeof x !== 'string' || x === '')) {
    throw invalid(field, 'must be a list of non-empty strings');
  }
  return [...(value as string[])];
}

function backoff(value: Partial<BackoffPolicy> | undefined, defaults: BackoffPolicy, field: string): BackoffPolicy {
  const initialDelayMs = positive(value?.initialDelayMs ?? defaults.initialDelayMs, `${field}.initialDelayMs`);
  const maxDelayMs = positive(value?.maxDelayMs ?? Math.max(defaults.maxDelayMs, initialDelayMs), `${field}.maxDelayMs`);
  if (maxDelayMs < initialDelayMs) throw invalid(`${field}.maxDelayMs`, `must be >= initialDelayMs (${initialDelayMs}), got ${maxDelayMs}`);
  return { initialDelayMs, maxDelayMs };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? '';
  }
}

function resolveFramework(f: FrameworkSpec | undefined): ResolvedFramework {
  if (typeof f !== 'object' || f === null) throw invalid('framework', 'is required, e.g. { name: "my-framework" }');
  if (typeof f.name !== 'string' || f.name.trim() === '') throw invalid('framework.name', 'must be a non-empty string');
  if (f.id !== undefined && (typeof f.id !== 'string' || f.id === '')) throw invalid('framework.id', 'must be a non-empty string when given');
  const roles = f.roles === undefined ? [...SCHEDULER_DEFAULTS.roles] : stringList(f.roles, 'framework.roles');
  if (roles.length === 0) throw invalid('framework.roles', "must name at least one role (use ['*'] for the default role)");
  let capabilities = f.capabilities ?? [];
  if (!Array.isArray(capabilities)) throw invalid('framework.capabilities', 'must be a list');
  capabilities.forEach((c, i) => {
    if (!CAPABILITIES.includes(c)) throw invalid(`framework.capabilities[${i}]`, `'${String(c)}' is not one of ${CAPABILITIES.join(', ')}`);
  });
  // Several roles need MULTI_ROLE (as in Mesos); say it for the user rather than fail.
  if (roles.length > 1 && !capabilities.includes('MULTI_ROLE')) capabilities = [...capabilities, 'MULTI_ROLE'];
  for (const [k, v] of Object.entries(f.labels ?? {})) {
    if (typeof v !== 'string') throw invalid(`framework.labels.${k}`, 'must be a string');
  }
  return {
    ...f,
    name: f.name,
    user: f.user ?? currentUser(),
    roles,
    failoverTimeoutSeconds: positive(f.failoverTimeoutSeconds ?? SCHEDULER_DEFAULTS.failoverTimeoutSeconds, 'framework.failoverTimeoutSeconds', true),
    checkpoint: f.checkpoint ?? false,
    hostname: f.hostname ?? hostname(),
    capabilities: [...capabilities],
  };
}

/** Fills the defaults of SchedulerOptions and validates them; errors name the field (INVALID_ARGUMENT). */
export function resolveSchedulerOptions(options: SchedulerOptions): ResolvedSchedulerOptions {
  if (typeof options !== 'object' || options === null) throw invalid('', 'options are required');
  const master = options.master ?? SCHEDULER_DEFAULTS.master;
  if (typeof master !== 'string' || !/^[^\s]+:\d+$/.test(master)) throw invalid('master', `must be host:port, got '${String(master)}'`);
  const missedHeartbeats = positive(options.missedHeartbeats ?? SCHEDULER_DEFAULTS.missedHeartbeats, 'missedHeartbeats');
  return {
    master,
    framework: resolveFramework(options.framework),
    autoAcknowledge: options.autoAcknowledge ?? SCHEDULER_DEFAULTS.autoAcknowledge,
    suppressedRoles: options.suppressedRoles === undefined ? [] : stringList(options.suppressedRoles, 'suppressedRoles'),
    reconnect: backoff(options.reconnect, SCHEDULER_DEFAULTS.reconnect, 'reconnect'),
    reconciliation: backoff(options.reconciliation, SCHEDULER_DEFAULTS.reconciliation, 'reconciliation'),
    connectTimeoutMs: positive(options.connectTimeoutMs ?? SCHEDULER_DEFAULTS.connectTimeoutMs, 'connectTimeoutMs'),
    callTimeoutMs: positive(options.callTimeoutMs ?? SCHEDULER_DEFAULTS.callTimeoutMs, 'callTimeoutMs'),
    missedHeartbeats,
    closeTimeoutMs: positive(options.closeTimeoutMs ?? SCHEDULER_DEFAULTS.closeTimeoutMs, 'closeTimeoutMs', true),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger('sdk-scheduler'),
    transport: options.transport,
    random: options.random ?? Math.random,
  };
}
