// What the executor manager's parts share: the agent's options, the maps of frameworks,
// runs and tasks, and the few helpers every part uses (send an event to an executor,
// checkpoint a run, the kill grace period). No decisions live here.
import { ExecutorInfo, FrameworkInfo, TaskInfo, type AgentInfo, type AgentMessage, type Clock, type ExecutorEvent, type KillPolicy, type Logger, type MesoErrorCode } from '@meso/proto';
import type { Container, LaunchSpec } from './containerizer.js';
import { cachedUserLookup, lookupUser, type UserLookup } from './command-executor/user.js';
import { CallRefusedError } from './errors.js';
import type { ExecutorRun, FrameworkRecord } from './runs.js';
import type { RunCheckpoints } from './run-checkpoints.js';
import type { StatusUpdateManager } from './status-update-manager.js';
import type { RunVolumes } from './volumes/volume-manager.js';
import type { Isolation } from './isolation/isolation.js';

/** What the manager needs from the agent. */
export interface ExecutorManagerOptions {
  workDir: string;
  /** host:port executors dial (MESO_AGENT_ENDPOINT). */
  executorEndpoint: string;
  agentId(): string;
  agentInfo(): AgentInfo;
  updates: StatusUpdateManager;
  /** Sends to the master; false when not connected. */
  toMaster(message: AgentMessage): boolean;
  clock: Clock;
  logger: Logger;
  defaultKillGracePeriodSeconds: number;
  executorRegistrationTimeoutMs: number;
  /** How long a recovered executor has to re-subscribe after an agent restart. */
  executorReregisterTimeoutMs: number;
  executorShutdownGracePeriodMs: number;
  executorHeartbeatMs: number;
  /** The built-in command executor program. */
  commandExecutor: { file: string; args: string[] };
  /** Where runs are checkpointed (so a restarted agent can clean them up). */
  checkpoints?: RunCheckpoints;
  /** Starts an executor process (the posix containerizer unless replaced). */
  launch?: (spec: LaunchSpec, logger: Logger) => Promise<Container>;
  /** Persistent volumes shown in sandboxes (none unless given). */
  volumes?: RunVolumes;
  /** The isolators applied to every executor run (none unless given). */
  isolation?: Isolation;
}

/** The executor manager's state, shared by its parts. */
export interface ManagerState {
  readonly o: ExecutorManagerOptions;
  readonly frameworks: Map<string, FrameworkRecord>;
  /** (framework, executor) → its current run. */
  readonly runs: Map<string, ExecutorRun>;
  /** (framework, task) → the run holding the live task. */
  readonly taskIndex: Map<string, ExecutorRun>;
  /** Recently finished tasks, so late kills are ignored quietly. */
  readonly finished: Set<string>;
  /** The agent is shutting down or detaching: a run that starts now is ended at once. */
  closing: boolean;
  /** Task users, looked up for the command executors the agent hosts (remembered a while). */
  readonly users: UserLookup;
}

export function createManagerState(o: ExecutorManagerOptions): ManagerState {
  return {
    o,
    frameworks: new Map(),
    runs: new Map(),
    taskIndex: new Map(),
    finished: new Set(),
    closing: false,
    users: cachedUserLookup(lookupUser, () => o.clock.now()),
  };
}

/** A refusal of an executor call, with Meso's error code. */
export function refuse(code: MesoErrorCode, message: string, field?: string): CallRefusedError {
  return new CallRefusedError({ code, message, ...(field ? { field } : {}) });
}

/** Sends an event to the run's executor; dropped (logged) when it is not connected. */
export function push(m: ManagerState, run: ExecutorRun, event: ExecutorEvent): void {
  if (!run.sink?.send(event)) m.o.logger.debug('event for a disconnected executor dropped', { executorId: run.executorId, event: event.event?.$case });
}

const EMPTY_FRAMEWORK: FrameworkInfo = FrameworkInfo.fromJSON({});

/** Records the run (pid, sandbox, token, executor, framework and tasks in full) so a restarted agent can recover it. */
export function checkpoint(m: ManagerState, run: ExecutorRun): Promise<void> {
  if (!m.o.checkpoints) return Promise.resolve();
  const records = [...run.tasks.values()];
  return m.o.checkpoints.save({
    runId: run.runId,
    pid: run.container?.pid ?? 0,
    ...(run.startTime !== undefined ? { startTime: run.startTime } : {}),
    frameworkId: run.frameworkId,
    executorId: run.executorId,
    sandbox: run.sandbox,
    tasks: records.map((r) => r.info.taskId?.value ?? ''),
    token: run.token,
    kind: run.kind,
    executorInfo: ExecutorInfo.toJSON(run.info),
    frameworkInfo: FrameworkInfo.toJSON(m.frameworks.get(run.frameworkId)?.info ?? { ...EMPTY_FRAMEWORK, id: { value: run.frameworkId } }),
    taskRecords: records.map((r) => ({ info: TaskInfo.toJSON(r.info), state: r.state, launched: r.launched })),
  });
}

/** Remembers an executor call in flight, so an exit waits for it before judging the tasks. */
export function track<T>(run: ExecutorRun, p: Promise<T>): Promise<T> {
  run.inflight.add(p);
  void p.finally(() => run.inflight.delete(p)).catch(() => undefined);
  return p;
}

/** The kill's grace period, else the task's, else the agent's default. */
export function killGrace(m: ManagerState, policy: KillPolicy | undefined, task: TaskInfo): number {
  if (policy && policy.gracePeriodSeconds > 0) return policy.gracePeriodSeconds;
  if (task.killPolicy && task.killPolicy.gracePeriodSeconds > 0) return task.killPolicy.gracePeriodSeconds;
  return m.o.defaultKillGracePeriodSeconds;
}

export function upsertFramework(m: ManagerState, info: FrameworkInfo): FrameworkRecord {
  const id = info.id?.value ?? '';
  let fw = m.frameworks.get(id);
  if (!fw) {
    fw = { id, info };
    m.frameworks.set(id, fw);
  } else {
    fw.info = info;
  }
  return fw;
}
