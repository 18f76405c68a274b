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
  /**
   * The isolators applied to every executor run (Mesos `--isolation`), comma-separated:
   * `cgroups` (= `cgroups/cpu,cgroups/mem`), `posix` (= `posix/cpu,posix/mem`),
   * `disk/du`, `network/ports`, `namespaces/pid`. Defaults to the best available:
   * cgroups where the agent can use them (v1 or v2, detected), else posix with a warning
   * naming why; plus disk/du and network/ports. One the machine cannot apply is an error.
   */
  isolation?: string;
  /** Apply a hard cpu limit (CFS quota = the container's cpus) besides cpu shares (Mesos `--cgroups_enable_cfs`). Defaults to false. */
  cgroupsEnableCfs?: boolean;
  /** The cgroup (below the agent's own) holding the containers' cgroups (Mesos `--cgroups_root`). Defaults to 'meso'. */
  cgroupsRoot?: string;
  /** How often a container's memory is checked (the cgroup's OOM kill counter; resident memory with posix/mem). Defaults to 500. */
  memoryWatchIntervalMs?: number;
  /** How often sandboxes and volumes are measured (Mesos `--container_disk_watch_interval`). Defaults to 15000. */
  diskWatchIntervalMs?: number;
  /** How often containers' listening ports are checked (Mesos `--container_ports_watch_interval`). Defaults to 30000. */
  portsWatchIntervalMs?: number;
  /** network/ports checks only ports within the agent's `ports` resource (Mesos `--check_agent_port_range_only`). Defaults to false. */
  checkAgentPortRangeOnly?: boolean;
  /** How often executors' usage is sampled and sent to the master. Defaults to 10000. */
  usageIntervalMs?: number;
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
  cgroupsEnableCfs: false,
  cgroupsRoot: 'meso',
  memoryWatchIntervalMs: 500,
  diskWatchIntervalMs: 15_000,
  portsWatchIntervalMs: 30_000,
  checkAgentPortRangeOnly: false,
  usageIntervalMs: 10_000,
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
  isolation: string | undefined;
  cgroupsEnableCfs: boolean;
  cgroupsRoot: string;
  memoryWatchIntervalMs: number;
  diskWatchIntervalMs: number;
  portsWatchIntervalMs: number;
  checkAgentPortRangeOnly: boolean;
  usageIntervalMs: number;
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

function positive(field: string, value: number): number {
  if (nonNegative(field, value) < 1) throw invalid(field, `must be >= 1, got ${value}`);
  return value;
}

function flag(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(field, `must be true or false, got ${String(value)}`);
  return value;
}

/** The isolation options, defaults filled in. */
function isolationOptions(o: AgentOptions): Pick<
  ResolvedAgentOptions,
  'isolation' | 'cgroupsEnableCfs' | 'cgroupsRoot' | 'memoryWatchIntervalMs' | 'diskWatchIntervalMs' | 'portsWatchIntervalMs' | 'checkAgentPortRangeOnly' | 'usageIntervalMs'
> {
  const d = AGENT_DEFAULTS;
  if (o.isolation !== undefined && typeof o.isolation !== 'string') throw invalid('isolation', 'must be a comma-separated list of isolators');
  const root = o.cgroupsRoot ?? d.cgroupsRoot;
  if (typeof root !== 'string' || !/^[\w.-]+(\/[\w.-]+)*$/.test(root) || root.split('/').some((x) => x === '.' || x === '..')) {
    throw invalid('cgroupsRoot', `'${String(root)}' is not a relative cgroup path (letters, digits, '.', '_', '-', '/')`);
  }
  return {
    isolation: o.isolation?.trim() === '' ? undefined : o.isolation,
    cgroupsEnableCfs: flag('cgroupsEnableCfs', o.cgroupsEnableCfs ?? d.cgroupsEnableCfs),
    cgroupsRoot: root,
    memoryWatchIntervalMs: positive('memoryWatchIntervalMs', o.memoryWatchIntervalMs ?? d.memoryWatchIntervalMs),
    diskWatchIntervalMs: positive('diskWatchIntervalMs', o.diskWatchIntervalMs ?? d.diskWatchIntervalMs),
    portsWatchIntervalMs: positive('portsWatchIntervalMs', o.portsWatchIntervalMs ?? d.portsWatchIntervalMs),
    checkAgentPortRangeOnly: flag('checkAgentPortRangeOnly', o.checkAgentPortRangeOnly ?? d.checkAgentPortRangeOnly),
    usageIntervalMs: positive('usageIntervalMs', o.usageIntervalMs ?? d.usageIntervalMs),
  };
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
    ...isolationOptions(options),
    bootId: bootIdOption(options.bootId),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger('agent'),
  };
}
