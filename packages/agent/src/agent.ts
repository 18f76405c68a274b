import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attributesToWire, resourcesToWire, type MasterMessage, type RegisterAgent } from '@meso/proto';
import { FileStateStore } from '@meso/state';
import { AgentError } from './errors.js';
import { ExecutorManager } from './executor-manager.js';
import { startExecutorServer } from './executor-server.js';
import { grpcMasterLink } from './master-link.js';
import { MasterSession } from './master-session.js';
import { resolveAgentOptions, type AgentOptions } from './options.js';
import { RunCheckpoints } from './run-checkpoints.js';
import { cleanUpStaleRuns } from './stale-runs.js';
import { metaDir } from './paths.js';
import { agentAttributes, detectMachine, parseAgentResources, withDetected } from './resources.js';
import { StatusUpdateManager } from './status-update-manager.js';

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
  const bootId = await readBootId();
  const previous = (await store.get<CheckpointedAgent>('agent'))?.value;
  let agentId = previous && previous.bootId === bootId ? previous.agentId : undefined;
  if (previous && !agentId) {
    log.info('the machine rebooted since the last run: registering as a new agent', { previousAgentId: previous.agentId });
    for (const e of await store.list('updates/')) await store.delete(e.key);
  }

  let session: MasterSession | undefined;
  const updates = await StatusUpdateManager.open({
    store,
    clock: o.clock,
    logger: log.child('status-updates'),
    retryMs: o.statusUpdateRetryMs,
    forward: (update) => void session?.send({ message: { $case: 'statusUpdate', value: update } }),
  });

  const checkpoints = new RunCheckpoints(store, log);
  await cleanUpStaleRuns({ checkpoints, updates, agentId, clock: o.clock, logger: log });

  let manager: ExecutorManager | undefined;
  const server = await startExecutorServer(
    {
      subscribe: (req, sink) => must(manager).subscribe(req, sink),
      update: (req) => must(manager).update(req),
      message: (req) => must(manager).message(req),
    },
    o.host,
    o.port,
    log,
  ).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
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
    executorShutdownGracePeriodMs: o.executorShutdownGracePeriodMs,
    executorHeartbeatMs: o.executorHeartbeatMs,
    commandExecutor: commandExecutorProgram(),
    checkpoints,
  });
  manager = mgr;

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
      default:
        log.warn('unexpected message from the master ignored', { message: msg.$case });
    }
  };

  session = new MasterSession({
    link: grpcMasterLink(o.master),
    clock: o.clock,
    logger: log.child('master'),
    registration: (): RegisterAgent => ({ agentInfo: agentInfo(), ...mgr.snapshot() }),
    onRegistered: (id, masterId) => {
      if (id && id !== agentId) {
        if (agentId) log.warn('the master gave this agent a new id', { previous: agentId, agentId: id });
        agentId = id;
        void store.put<CheckpointedAgent>('agent', { agentId: id, bootId }).catch((e: unknown) => log.error('cannot checkpoint the agent id', { error: (e as Error).message }));
      }
      log.info('registered with the master', { agentId, masterId, master: o.master });
      updates.resume();
      resolveRegistered(agentId ?? id);
    },
    onDisconnected: () => updates.pause(),
    onRefused: (r) => rejectRegistered(new AgentError('REFUSED', `the master refused to register this agent: ${r.message}`, r.field ? { field: r.field } : undefined)),
    onMessage: (m) => {
      dispatch(m).catch((e: unknown) => log.error('handling a master message failed', { message: m.message?.$case, error: (e as Error)?.message ?? String(e) }));
    },
  });
  log.info('agent starting', { endpoint, master: o.master, workDir: o.workDir, resources: resources.toString() });
  session.start();

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
        mgr.close();
        session?.close();
        updates.close();
        await server.close();
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
