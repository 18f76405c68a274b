import { createLogger, systemClock, type Clock, type Logger } from '@meso/proto';
import { ExecutorError } from './errors.js';
import type { ExecutorHandlers } from './handlers.js';
import type { ExecutorTransport } from './transport.js';

/** Options of {@link Executor.connect}. Everything but `handlers` defaults from the environment the agent sets. */
export interface ExecutorOptions {
  /** What your executor does on launch, kill, message, shutdown. Required. */
  handlers: ExecutorHandlers;
  /** host:port of the agent's gRPC endpoint. Defaults to `MESO_AGENT_ENDPOINT`. */
  agentEndpoint?: string;
  /** Defaults to `MESO_FRAMEWORK_ID`. */
  frameworkId?: string;
  /** Defaults to `MESO_EXECUTOR_ID`. */
  executorId?: string;
  /** The executor run's sandbox directory. Defaults to `MESO_SANDBOX`, else the working directory. */
  sandbox?: string;
  /** The secret that proves this process is the executor the agent started. Defaults to `MESO_EXECUTOR_TOKEN`. */
  token?: string;
  /**
   * Whether the framework checkpoints: if so the executor reconnects after the agent
   * restarts; if not it shuts down when the agent goes away (as in Mesos).
   * Defaults to `MESO_CHECKPOINT` (`1`/`0`), else false.
   */
  checkpoint?: boolean;
  /** Time the agent gives this executor after SHUTDOWN before killing it. Defaults to `MESO_SHUTDOWN_GRACE_PERIOD` (seconds), else 5000 ms. */
  shutdownGracePeriodMs?: number;
  /** How long to keep trying to reconnect to a restarting agent before shutting down. Defaults to `MESO_RECOVERY_TIMEOUT` (seconds), else 15 min. */
  recoveryTimeoutMs?: number;
  /** How long the first subscription may take before `connect` rejects. Defaults to 20000. */
  connectTimeoutMs?: number;
  /** The stream is considered dead when no event (the agent heartbeats every 15 s) arrives for this long. Defaults to 75000. */
  heartbeatTimeoutMs?: number;
  /** First delay between reconnection attempts; doubles up to `maxReconnectBackoffMs`. Defaults to 250. */
  reconnectBackoffMs?: number;
  /** Defaults to 1000 (an agent recovering executors waits only seconds for them to re-subscribe). */
  maxReconnectBackoffMs?: number;
  /** How long `close()` waits for outstanding updates to be acknowledged. Defaults to 5000. */
  closeTimeoutMs?: number;
  /** Where the defaults are read from. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to a logger on stderr (which the agent writes to the sandbox's `stderr`). */
  logger?: Logger;
  /** Replaces the gRPC transport (tests). @internal */
  transport?: ExecutorTransport;
}

/** The defaults of {@link ExecutorOptions} that do not come from the environment. */
export const EXECUTOR_DEFAULTS = {
  shutdownGracePeriodMs: 5_000,
  recoveryTimeoutMs: 15 * 60_000,
  connectTimeoutMs: 20_000,
  heartbeatTimeoutMs: 75_000,
  reconnectBackoffMs: 250,
  maxReconnectBackoffMs: 1_000,
  closeTimeoutMs: 5_000,
  checkpoint: false,
} as const;

/** Options with every default filled in. @internal */
export interface ResolvedExecutorOptions {
  handlers: ExecutorHandlers;
  agentEndpoint: string;
  frameworkId: string;
  executorId: string;
  sandbox: string;
  token: string;
  checkpoint: boolean;
  shutdownGracePeriodMs: number;
  recoveryTimeoutMs: number;
  connectTimeoutMs: number;
  heartbeatTimeoutMs: number;
  reconnectBackoffMs: number;
  maxReconnectBackoffMs: number;
  closeTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  transport: ExecutorTransport | undefined;
}

function invalid(field: string, message: string): ExecutorError {
  return new ExecutorError('INVALID_OPTIONS', `${field}: ${message}`, { field });
}

function requiredString(field: string, envName: string, given: string | undefined, env: Record<string, string | undefined>): string {
  const value = given ?? env[envName];
  if (value === undefined || value.trim() === '') {
    throw invalid(field, `is required (pass it, or set ${envName}; the agent sets it for the executors it starts)`);
  }
  return value.trim();
}

function secondsFromEnv(field: string, envName: string, env: Record<string, string | undefined>): number | undefined {
  const raw = env[envName];
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw invalid(field, `${envName}='${raw}' is not a number of seconds`);
  return seconds * 1000;
}

function duration(field: string, value: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw invalid(field, `must be a number >= ${min}, got ${String(value)}`);
  return value;
}

function checkpointFromEnv(env: Record<string, string | undefined>): boolean | undefined {
  const raw = env['MESO_CHECKPOINT'];
  if (raw === undefined || raw === '') return undefined;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw invalid('checkpoint', `MESO_CHECKPOINT='${raw}' is not 1 or 0`);
}

/** Fills the defaults of {@link ExecutorOptions} and validates them; errors name the field. @internal */
export function resolveExecutorOptions(options: ExecutorOptions): ResolvedExecutorOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  const env = options.env ?? process.env;
  const h = options.handlers as ExecutorHandlers | undefined;
  if (!h || typeof h.launch !== 'function') throw invalid('handlers.launch', 'is required (a function)');
  if (typeof h.kill !== 'function') throw invalid('handlers.kill', 'is required (a function)');
  const agentEndpoint = requiredString('agentEndpoint', 'MESO_AGENT_ENDPOINT', options.agentEndpoint, env);
  if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(agentEndpoint)) throw invalid('agentEndpoint', `'${agentEndpoint}' is not host:port`);
  const d = EXECUTOR_DEFAULTS;
  return {
    handlers: h,
    agentEndpoint,
    frameworkId: requiredString('frameworkId', 'MESO_FRAMEWORK_ID', options.frameworkId, env),
    executorId: requiredString('executorId', 'MESO_EXECUTOR_ID', options.executorId, env),
    sandbox: options.sandbox ?? env['MESO_SANDBOX'] ?? process.cwd(),
    token: options.token ?? env['MESO_EXECUTOR_TOKEN'] ?? '',
    checkpoint: options.checkpoint ?? checkpointFromEnv(env) ?? d.checkpoint,
    shutdownGracePeriodMs: duration(
      'shutdownGracePeriodMs',
      options.shutdownGracePeriodMs ?? secondsFromEnv('shutdownGracePeriodMs', 'MESO_SHUTDOWN_GRACE_PERIOD', env) ?? d.shutdownGracePeriodMs,
    ),
    recoveryTimeoutMs: duration(
      'recoveryTimeoutMs',
      options.recoveryTimeoutMs ?? secondsFromEnv('recoveryTimeoutMs', 'MESO_RECOVERY_TIMEOUT', env) ?? d.recoveryTimeoutMs,
    ),
    connectTimeoutMs: duration('connectTimeoutMs', options.connectTimeoutMs ?? d.connectTimeoutMs, 1),
    heartbeatTimeoutMs: duration('heartbeatTimeoutMs', options.heartbeatTimeoutMs ?? d.heartbeatTimeoutMs, 1),
    reconnectBackoffMs: duration('reconnectBackoffMs', options.reconnectBackoffMs ?? d.reconnectBackoffMs, 1),
    maxReconnectBackoffMs: duration('maxReconnectBackoffMs', options.maxReconnectBackoffMs ?? d.maxReconnectBackoffMs, 1),
    closeTimeoutMs: duration('closeTimeoutMs', options.closeTimeoutMs ?? d.closeTimeoutMs),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger('executor'),
    transport: options.transport,
  };
}
