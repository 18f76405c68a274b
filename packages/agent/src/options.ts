import { hostname as osHostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createLogger, systemClock, type Clock, type Logger } from '@meso/proto';
import { AgentError } from './errors.js';

/** Options of {@link startAgent}. */
export interface AgentOptions {
  /** host:port of the master. Required. */
  master: string;
  /** Address the agent's gRPC server binds. Defaults to '127.0.0.1'. */
  host?: string;
  /** Port of the agent's gRPC server (executors dial it). Defaults to 5051; 0 picks a free port. */
  port?: number;
  /** Directory for sandboxes and checkpoints. Required. */
  workDir: string;
  /**
   * Mesos text (`cpus:4;mem:4096;ports:[31000-32000]`) or JSON. Names not given are
   * detected: cpus (cores), mem (total minus 1 GB, or half below 2 GB), disk (of the work
   * dir, minus 5 GB or half) and ports [31000-32000].
   */
  resources?: string;
  /** Attributes in Mesos syntax, e.g. 'rack:r1;zone:a'. Defaults to none. */
  attributes?: string;
  /** The name the master and tasks know this machine by. Defaults to os.hostname(). */
  hostname?: string;
  /** Seconds between SIGTERM and SIGKILL when a task has no kill policy. Defaults to 5. */
  defaultKillGracePeriodSeconds?: number;
  /** First retry of an unacknowledged status update; doubles up to 10 min. Defaults to 10000. */
  statusUpdateRetryMs?: number;
  /** How long an executor has to subscribe before it is killed. Defaults to 60000. */
  executorRegistrationTimeoutMs?: number;
  /** Time an executor gets after SHUTDOWN before it is killed. Defaults to 5000. */
  executorShutdownGracePeriodMs?: number;
  /**
   * After an agent restart, how long a recovered executor (of a checkpointing framework)
   * has to re-subscribe before it is killed and its tasks fail with
   * REASON_EXECUTOR_REREGISTRATION_TIMEOUT. The agent registers with the master once every
   * recovered executor has re-subscribed or this has passed. Defaults to 5000 (Mesos: 2 s;
   * executors here reconnect by themselves, at most 1 s apart).
   */
  executorReregisterTimeoutMs?: number;
  /**
   * The machine's boot id; a different one than checkpointed means a reboot (a new agent,
   * old runs discarded). Defaults to `MESO_AGENT_BOOT_ID` when set, else
   * /proc/sys/kernel/random/boot_id. For tests that simulate a reboot.
   */
  bootId?: string;
  /** How often subscribed executors get a heartbeat event. Defaults to 15000. */
  executorHeartbeatMs?: number;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to a logger on stderr (component `agent`). */
  logger?: Logger;
}

/** The defaults of the optional {@link AgentOptions} fields that have fixed defaults. */
export const AGENT_DEFAULTS = {
  host: '127.0.0.1',
  port: 5051,
  defaultKillGracePeriodSeconds: 5,
  statusUpdateRetryMs: 10_000,
  executorRegistrationTimeoutMs: 60_000,
  executorShutdownGracePeriodMs: 5_000,
  executorReregisterTimeoutMs: 5_000,
  executorHeartbeatMs: 15_000,
} as const;

/** Options with every default filled in. @internal */
export interface ResolvedAgentOptions {
  master: string;
  host: string;
  port: number;
  workDir: string;
  resources: string;
  attributes: string;
  hostname: string;
  defaultKillGracePeriodSeconds: number;
  statusUpdateRetryMs: number;
  executorRegistrationTimeoutMs: number;
  executorShutdownGracePeriodMs: number;
  executorReregisterTimeoutMs: number;
  executorHeartbeatMs: number;
  bootId: string | undefined;
  clock: Clock;
  logger: Logger;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function invalid(field: string, message: string): AgentError {
  return new AgentError('INVALID_OPTIONS', `${field}: ${message}`, { field });
}

function nonNegative(field: string, value: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw invalid(field, `must be a ${integer ? 'whole ' : ''}number >= 0, got ${String(value)}`);
  }
  return value;
}

function bootIdOption(bootId: string | undefined): string | undefined {
  const v = bootId ?? process.env['MESO_AGENT_BOOT_ID'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw invalid('bootId', 'must not be empty');
  return v.trim();
}

/** Fills the defaults of {@link AgentOptions} and validates them; errors name the field. @internal */
export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  const d = AGENT_DEFAULTS;
  const master = options.master;
  if (typeof master !== 'string' || master.trim() === '') throw invalid('master', 'is required (host:port of the master)');
  const m = HOST_PORT.exec(master.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw invalid('master', `'${master}' is not host:port`);
  if (typeof options.workDir !== 'string' || options.workDir.trim() === '') throw invalid('workDir', 'is required (sandboxes and checkpoints live there)');
  const port = options.port ?? d.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid('port', `must be an integer in 0..65535, got ${String(port)}`);
  const host = options.host ?? d.host;
  if (typeof host !== 'string' || host.trim() === '' || /\s/.test(host)) throw invalid('host', `'${String(host)}' is not an address`);
  const hostname = options.hostname ?? osHostname();
  if (typeof hostname !== 'string' || hostname.trim() === '') throw invalid('hostname', 'must not be empty');
  const retry = nonNegative('statusUpdateRetryMs', options.statusUpdateRetryMs ?? d.statusUpdateRetryMs);
  if (retry < 1) throw invalid('statusUpdateRetryMs', `must be >= 1, got ${retry}`);
  const heartbeat = nonNegative('executorHeartbeatMs', options.executorHeartbeatMs ?? d.executorHeartbeatMs);
  if (heartbeat < 1) throw invalid('executorHeartbeatMs', `must be >= 1, got ${heartbeat}`);
  if (options.resources !== undefined && typeof options.resources !== 'string') throw invalid('resources', 'must be a string');
  if (options.attributes !== undefined && typeof options.attributes !== 'string') throw invalid('attributes', 'must be a string');
  return {
    master: master.trim(),
    host: host.trim(),
    port,
    workDir: isAbsolute(options.workDir) ? options.workDir : resolve(options.workDir),
    resources: options.resources ?? '',
    attributes: options.attributes ?? '',
    hostname: hostname.trim(),
    defaultKillGracePeriodSeconds: nonNegative('defaultKillGracePeriodSeconds', options.defaultKillGracePeriodSeconds ?? d.defaultKillGracePeriodSeconds),
    statusUpdateRetryMs: retry,
    executorRegistrationTimeoutMs: nonNegative('executorRegistrationTimeoutMs', options.executorRegistrationTimeoutMs ?? d.executorRegistrationTimeoutMs),
    executorShutdownGracePeriodMs: nonNegative('executorShutdownGracePeriodMs', options.executorShutdownGracePeriodMs ?? d.executorShutdownGracePeriodMs),
    executorReregisterTimeoutMs: nonNegative('executorReregisterTimeoutMs', options.executorReregisterTimeoutMs ?? d.executorReregisterTimeoutMs),
    executorHeartbeatMs: heartbeat,
    bootId: bootIdOption(options.bootId),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger('agent'),
  };
}
