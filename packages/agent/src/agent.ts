import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attributesToWire, resourcesToWire, TaskState, TaskStatus_Reason, type Logger, type MasterMessage, type RegisterAgent } from '@meso/proto';
import { FileStateStore } from '@meso/state';
import { missingWrapperTools } from './command-executor/task-wrapper.js';
import { AgentError } from './errors.js';
import { ExecutorManager } from './executor-manager.js';
import { startExecutorServer } from './executor-server.js';
import { grpcMasterLink } from './master-link.js';
import { MasterSession } from './master-session.js';
import { resolveAgentOptions, type AgentOptions } from './options.js';
import { RunCheckpoints } from './run-checkpoints.js';
import { destroyRun } from './containerizer.js';
import { recoverRuns } from './recovery.js';
import { metaDir, taskExitDir } from './paths.js';
import { agentAttributes, detectMachine, parseAgentResources, withDetected } from './resources.js';
import { StatusUpdateManager } from './status-update-manager.js';
import { VolumeManager } from './volumes/volume-manager.js';
import { Isolation } from './isolation/isolation.js';
import { IsolationFlagError } from './isolation/isolation-flags.js';
import { ResourceMonitor } from './monitor/resource-monitor.js';

/** The version the agent reports to the master. */
export const AGENT_VERSION = '0.1.0';

/** A running agent. */
export interface AgentHandle {
  /** host:port of the agent's gRPC server, as given to the master and executors. */
  readonly endpoint: string;
  readonly port: number;
  /** The id the master gave this agent (undefined until the first registration). */
  agentId(): string | undefined;
  /** Resolves with the agent id once the master has registered it; rejects with AgentError REFUSED or CLOSED. */
  registered(): Promise<string>;
  /** Stops the agent. shutdownExecutors defaults to true (kill every executor and task, gracefully). */
  close(options?: { shutdownExecutors?: boolean }): Promise<void>;
}

interface CheckpointedAgent {
  agentId: string;
  bootId: string;
  /** The executor API's port, reused when the agent restarts with port 0. */
  port?: number;
}

/**
 * meta/agent.json, or undefined when there is none. An unreadable one (truncated, corrupt)
 * is named in an error log and set aside; the agent then cannot prove it is the same
 * agent and starts as a new one (its old runs are killed).
 */
async function readAgentCheckpoint(store: FileStateStore, workDir: string, log: Logger): Promise<CheckpointedAgent | undefined> {
  try {
    const v = (await store.get<CheckpointedAgent>('agent'))?.value;
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || typeof v.agentId !== 'string' || typeof v.bootId !== 'string') throw new Error('it does not hold an agent id and boot id');
    return v;
  } catch (e) {
    const path = (e as { path?: string }).path ?? join(metaDir(workDir), 'agent.json');
    log.error(`cannot read the agent's checkpoint ${path} (${(e as Error).message}); set aside as ${path}.corrupt, registering as a new agent`, { file: path });
    await rename(path, `${path}.corrupt`).catch(() => undefined);
    return { agentId: '', bootId: '' };
  }
}

/** Kills what is left of the previous agent's runs (found by their run id) and forgets them. */
async function discardRuns(checkpoints: RunCheckpoints, workDir: string, log: Logger): Promise<void> {
  const { runs, corrupt } = await checkpoints.list();
  for (const c of corrupt) log.error(`unreadable executor run checkpoint ${c.path} (${c.error}) set aside`, { file: c.path });
  for (const run of runs) {
    log.info('discarding an executor run of the previous agent', { executorId: run.executorId, runId: run.runId });
    await destroyRun(run.pid, run.runId, undefined, false);
    await checkpoints.remove(run.runId);
  }
  for (const c of corrupt) await destroyRun(0, c.key.slice('runs/'.length), undefined, false);
  // The exit statuses their command tasks' wrappers recorded.
  await rm(taskExitDir(workDir), { recursive: true, force: true });
}

/** The machine's boot id (a new one after every reboot); empty where Linux's is not available. */
export async function readBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return '';
  }
}

/** The command executor program: next to this module when built, else in dist (running from sources). */
function commandExecutorProgram(): { file: string; args: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'command-executor', 'main.js');
  const main = existsSync(built) ? built : join(here, '..', 'dist', 'command-executor', 'main.js');
  return { file: process.execPath, args: [main] };
}

/**
 * Starts an agent: validates the options (rejecting with a typed AgentError naming the
 * bad option or fragment), opens its work dir, starts the executor API server and
 * registers with the master (reconnecting and re-registering on its own).
 */
export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const o = resolveAgentOptions(options);
  const log = o.logger;
  const attributes = agentAttributes(o.attributes);
  const givenResources = parseAgentResources(o.resources);
  const missing = missingWrapperTools(process.getuid?.() === 0);
  if (missing.length > 0) throw new AgentError('MISSING_PROGRAM', `command tasks are started under util-linux's ${missing.join(' and ')}, not found in /usr/bin, /bin or PATH: install util-linux`);
  try {
    await mkdir(o.workDir, { recursive: true });
  } catch (e) {
    throw new AgentError('WORK_DIR', `workDir: cannot create ${o.workDir}: ${(e as Error).message}`, { cause: e, field: 'workDir' });
  }
  const resources = withDetected(givenResources, await detectMachine(o.workDir));
  let store: FileStateStore;
  try {
    store = await FileStateStore.open(metaDir(o.workDir));
  } catch (e) {
    throw new AgentError('WORK_DIR', `workDir: cannot open the checkpoint store: ${(e as Error).message}`, { cause: e, field: 'workDir' });
  }
  const bootId = o.bootId ?? (await readBootId());
  const previous = await readAgentCheckpoint(store, o.workDir, log);
  let agentId = previous && previous.bootId === bootId ? previous.agentId : undefined;

  let session: MasterSession | undefined;
  const updates = await StatusUpdateManager.open({
    store,
    directory: metaDir(o.workDir),
    clock: o.clock,
    logger: log.child('status-updates'),
    retryMs: o.statusUpdateRetryMs,
    forward: (update) => void session?.send({ message: { $case: 'statusUpdate', value: update } }),
  });
  let isolation: Isolation;
  try {
    isolation = await Isolation.create({
      flag: o.isolation,
      enableCfs: o.cgroupsEnableCfs,
      cgroupsRoot: o.cgroupsRoot,
      workDir: o.workDir,
      memoryWatchIntervalMs: o.memoryWatchIntervalMs,
      diskWatchIntervalMs: o.diskWatchIntervalMs,
      portsWatchIntervalMs: o.portsWatchIntervalMs,
      checkAgentPortRangeOnly: o.checkAgentPortRangeOnly,
      agentPorts: resources.ranges('ports'),
      clock: o.clock,
      logger: log.child('isolation'),
    });
  } catch (e) {
    await store.close();
    if (e instanceof IsolationFlagError) throw new AgentError('INVALID_OPTIONS', `isolation: ${e.message}`, { cause: e, field: 'isolation' });
    throw e;
  }
  const checkpoints = new RunCheckpoints(store, log, metaDir(o.workDir));
  const volumes = await VolumeManager.open({ workDir: o.workDir, store, metaDir: metaDir(o.workDir), logger: log.child('volumes') });
  if (previous && !agentId) {
    // A reboot (or an unreadable agent.json): the old agent's executors died with the
    // machine, and its updates can reach no framework (the master forgets that agent).
    log.info('the machine rebooted since the last run: registering as a new agent', { previousAgentId: previous.agentId || undefined });
    await discardRuns(checkpoints, o.workDir, log);
    const dropped = await updates.discardAll();
    if (dropped > 0) log.warn('status updates of the previous agent dropped', { tasks: dropped });
  }

  let manager: ExecutorManager | undefined;
  // Until the previous process's runs are adopted, executor calls are answered UNAVAILABLE
  // (the SDK retries) — never UNKNOWN_EXECUTOR, which would make a recoverable executor quit.
  let recovered = false;
  const ready = (): ExecutorManager => must(recovered ? manager : undefined);
  const api = {
    subscribe: (req: Parameters<ExecutorManager['subscribe']>[0], sink: Parameters<ExecutorManager['subscribe']>[1]) => ready().subscribe(req, sink),
    update: (req: Parameters<ExecutorManager['update']>[0]) => ready().update(req),
    message: (req: Parameters<ExecutorManager['message']>[0]) => ready().message(req),
  };
  // Port 0 after a restart on the same boot: the previous port first, where recovered
  // executors will dial back (MESO_AGENT_ENDPOINT); any free port if it is taken.
  const reuse = o.port === 0 && agentId && previous?.port ? previous.port : undefined;
  let monitor: ResourceMonitor | undefined;
  const http = (req: Parameters<ResourceMonitor['handle']>[0], res: Parameters<ResourceMonitor['handle']>[1]): boolean => monitor?.handle(req, res) ?? false;
  const server = await (
    reuse ? startExecutorServer(api, o.host, reuse, log, http).catch(() => startExecutorServer(api, o.host, 0, log, http)) : startExecutorServer(api, o.host, o.port, log, http)
  ).catch(
    async (e: unknown) => {
      await store.close();
      throw e;
    },
  );
  if (reuse && server.port !== reuse) log.warn('the previous port is taken: recovered executors cannot reach this agent', { previousPort: reuse, port: server.port });
  const wildcard = o.host === '0.0.0.0' || o.host === '::';
  const endpoint = `${wildcard ? o.hostname : o.host}:${server.port}`;
  const executorEndpoint = `${wildcard ? '127.0.0.1' : o.host}:${server.port}`;
  const agentInfo = () => ({
    id: agentId ? { value: agentId } : undefined,
    hostname: o.hostname,
    resources: resourcesToWire(resources),
    attributes: attributesToWire(attributes),
    endpoint,
    bootId,
    version: AGENT_VERSION,
    isolators: [...isolation.active],
  });
  const mgr = new ExecutorManager({
    workDir: o.workDir,
    executorEndpoint,
    agentId: () => agentId ?? '',
    agentInfo,
    updates,
    toMaster: (m) => session?.send(m) ?? false,
    clock: o.clock,
    logger: log,
    defaultKillGracePeriodSeconds: o.defaultKillGracePeriodSeconds,
    executorRegistrationTimeoutMs: o.executorRegistrationTimeoutMs,
    executorReregisterTimeoutMs: o.executorReregisterTimeoutMs,
    executorShutdownGracePeriodMs: o.executorShutdownGracePeriodMs,
    executorHeartbeatMs: o.executorHeartbeatMs,
    commandExecutor: commandExecutorProgram(),
    checkpoints,
    volumes,
    isolation,
  });
  manager = mgr;
  monitor = new ResourceMonitor({
    containers: () => mgr.containers(),
    send: (m) => session?.send(m) ?? false,
    intervalMs: o.usageIntervalMs,
    clock: o.clock,
    logger: log.child('monitor'),
  });
  monitor.start();

  let resolveRegistered!: (id: string) => void;
  let rejectRegistered!: (e: AgentError) => void;
  const registered = new Promise<string>((resolve, reject) => {
    resolveRegistered = resolve;
    rejectRegistered = reject;
  });
  registered.catch(() => undefined);

  const dispatch = async (m: MasterMessage): Promise<void> => {
    const msg = m.message;
    if (!msg) return;
    switch (msg.$case) {
      case 'runTask':
        return mgr.runTask(msg.value.frameworkInfo, msg.value.task);
      case 'runTaskGroup':
        return mgr.runTaskGroup(msg.value.frameworkInfo, msg.value.executor, msg.value.taskGroup?.tasks ?? []);
      case 'killTask':
        return mgr.killTask(msg.value.frameworkId?.value ?? '', msg.value.taskId?.value ?? '', msg.value.killPolicy);
      case 'shutdownExecutor':
        return mgr.shutdownExecutor(msg.value.frameworkId?.value ?? '', msg.value.executorId?.value ?? '');
      case 'shutdownFramework':
        return mgr.shutdownFramework(msg.value.frameworkId?.value ?? '');
      case 'ack':
        await updates.acknowledge(msg.value.frameworkId?.value ?? '', msg.value.taskId?.value ?? '', msg.value.uuid);
        return;
      case 'frameworkMessage':
        return mgr.frameworkMessage(msg.value.frameworkId?.value ?? '', msg.value.executorId?.value ?? '', msg.value.data);
      case 'updateFramework':
        return mgr.updateFramework(msg.value.frameworkInfo);
      case 'checkpointResources':
        return volumes.apply(msg.value.resources, () => mgr.volumesInUse());
      default:
        log.warn('unexpected message from the master ignored', { message: msg.$case });
    }
  };

  let closed = false;
  const openSession = (): MasterSession =>
    new MasterSession({
      link: grpcMasterLink(o.master),
      clock: o.clock,
      logger: log.child('master'),
      registration: (): RegisterAgent => ({ agentInfo: agentInfo(), ...mgr.snapshot(), checkpointedResources: volumes.checkpointed() }),
      onRegistered: (id, masterId) => {
        if (id && id !== agentId) {
          if (agentId) log.warn('the master gave this agent a new id', { previous: agentId, agentId: id });
          agentId = id;
        }
        if (id && (id !== previous?.agentId || previous?.port !== server.port || previous?.bootId !== bootId)) {
          const port = server.port;
          void store.put<CheckpointedAgent>('agent', { agentId: id, bootId, port }).catch((e: unknown) => log.error('cannot checkpoint the agent id', { error: (e as Error).message }));
        }
        log.info('registered with the master', { agentId, masterId, master: o.master });
        updates.resume();
        resolveRegistered(agentId ?? id);
      },
      onDisconnected: () => updates.pause(),
      onRefused: (r, shutdownFrameworks) => {
        if (r.code === 'AGENT_GONE' && !closed) {
          void startAfresh(shutdownFrameworks).catch((e: unknown) => log.error('starting afresh as a new agent failed', { error: (e as Error).message }));
          return;
        }
        rejectRegistered(new AgentError('REFUSED', `the master refused to register this agent: ${r.message}`, r.field ? { field: r.field } : undefined));
      },
      onMessage: (m) => {
        dispatch(m).catch((e: unknown) => log.error('handling a master message failed', { message: m.message?.$case, error: (e as Error)?.message ?? String(e) }));
      },
    });

  /**
   * The master removed this agent (unreachable past its removal timeout) and refused it
   * AGENT_GONE: like Mesos, every executor of the old agent is shut down (the master has
   * already told the frameworks their tasks are gone), its unacknowledged updates are
   * dropped, and the agent registers afresh, without an id, as a new agent.
   */
  const startAfresh = async (frameworks: string[]): Promise<void> => {
    log.warn('the master removed this agent (AGENT_GONE): shutting down its executors and registering as a new agent', { agentId, frameworks });
    await mgr.terminateAll({ state: TaskState.TASK_KILLED, reason: TaskStatus_Reason.REASON_AGENT_REMOVED, message: 'the master removed this agent' });
    const dropped = await updates.discardAll();
    if (dropped > 0) log.warn('status updates of the removed agent dropped', { tasks: dropped });
    agentId = undefined;
    await store.delete('agent').catch((e: unknown) => log.error('cannot clear the agent id', { error: (e as Error).message }));
    if (closed) return;
    session = openSession();
    session.start();
  };

  log.info('agent starting', { endpoint, master: o.master, workDir: o.workDir, resources: resources.toString() });
  // Recovery before registration: the master then hears of the recovered tasks at once.
  const recovery = agentId
    ? await recoverRuns({ checkpoints, updates, manager: mgr, agentId, workDir: o.workDir, clock: o.clock, logger: log.child('recovery') }).catch((e: unknown) => {
        // Not a reason to stay down (a restart would fail the same way): the runs not
        // recovered are refused when their executors call, and the master reconciles.
        log.error('recovering the previous agent process\'s executor runs failed', { error: (e as Error)?.message ?? String(e) });
        return undefined;
      })
    : undefined;
  recovered = true;
  // Mounts of runs that did not survive the restart (adopted runs keep theirs until they end).
  await volumes.releaseStale(mgr.sandboxes()).catch((e: unknown) => log.error('cannot remove the mounts of ended runs', { error: (e as Error).message }));
  // Cgroups of runs that did not survive the restart (adopted runs keep theirs).
  await isolation.removeLeftovers(new Set(mgr.sandboxes().map((d) => basename(d)))).catch((e: unknown) => log.error('cannot remove the cgroups of ended runs', { error: (e as Error).message }));
  if (recovery) {
    const { recovered: adopted, gone, cleanedUp, unreadable } = recovery;
    if (adopted + gone + cleanedUp + unreadable.length > 0) log.info('recovered the previous agent process\'s executor runs', { recovered: adopted, gone, cleanedUp, unreadable: unreadable.length });
  }
  void (recovery?.settled ?? Promise.resolve()).then(() => {
    if (closed) return;
    session = openSession();
    session.start();
  });

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    port: server.port,
    agentId: () => agentId,
    registered: () => registered,
    close: (closeOptions = {}) => {
      closing ??= (async () => {
        const shutdownExecutors = closeOptions.shutdownExecutors ?? true;
        if (shutdownExecutors) {
          const bound = o.executorShutdownGracePeriodMs + 10_000;
          const timer = new Promise<void>((r) => setTimeout(r, bound).unref());
          await Promise.race([mgr.shutdownAll(), timer]);
        } else {
          mgr.detachAll();
        }
        closed = true;
        monitor?.close();
        mgr.close();
        session?.close();
        updates.close();
        await server.close();
        await isolation.close();
        await store.close();
        rejectRegistered(new AgentError('CLOSED', 'the agent was closed'));
        log.info('agent stopped', { shutdownExecutors });
      })();
      return closing;
    },
  };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new AgentError('CLOSED', 'the agent is not ready');
  return value;
}
