// The one place where the SDK's domain types meet the generated wire types of meso.v1.
// Everything else in the SDK (and every user of it) speaks domain types only.
import {
  attributesFromWire,
  attributesToWire,
  ExecutorInfo_Type,
  FrameworkInfo_Capability,
  frameworkInfo_CapabilityFromJSON,
  HealthCheck_Type,
  Offer_Operation_Type,
  resourcesFromWire,
  resourcesToWire,
  TaskState as WireTaskState,
  taskStateFromJSON,
  taskStateToJSON,
  TaskStatus_Reason,
  taskStatus_ReasonFromJSON,
  taskStatus_ReasonToJSON,
  TaskStatus_Source,
  type CommandInfo,
  type Event as WireEvent,
  type ExecutorInfo,
  type Filters as WireFilters,
  type FrameworkInfo,
  type HealthCheck,
  type Label,
  type Offer as WireOffer,
  type Offer_Operation,
  type Resources,
  type TaskInfo,
  type TaskStatus as WireTaskStatus,
} from '@meso/proto';
import { codeFromWire, SchedulerError } from './errors.js';
import type { SchedulerEvent } from './events.js';
import type { PlacedTask } from './offer-builder.js';
import { volumeSpecsOf } from './volumes.js';
import { TASK_STATES, type TaskState } from './task-state.js';
import type {
  CommandSpec,
  ExecutorSpec,
  Filters,
  FrameworkCapability,
  FrameworkSpec,
  HealthCheckSpec,
  Offer,
  TaskStatus,
  TaskStatusSource,
} from './types.js';

const REASON_PREFIX = 'REASON_';

function labelsFromWire(labels: readonly Label[]): Record<string, string> | undefined {
  if (labels.length === 0) return undefined;
  return Object.fromEntries(labels.map((l) => [l.key, l.value]));
}

function labelsToWire(labels: Record<string, string> | undefined): Label[] {
  return Object.entries(labels ?? {}).map(([key, value]) => ({ key, value }));
}

function bytes(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

// ---------------------------------------------------------------------------
// Task states and statuses.

/** A wire task state as its Mesos name; throws for UNSPECIFIED/unrecognized. */
export function taskStateFromWire(state: WireTaskState): TaskState {
  const name = taskStateToJSON(state);
  if (!(TASK_STATES as readonly string[]).includes(name)) {
    throw new SchedulerError('INVALID_ARGUMENT', `task status has no valid state (${state})`, { field: 'status.state' });
  }
  return name as TaskState;
}

/** @internal A Mesos state name as the wire enum. */
export function taskStateToWire(state: TaskState): WireTaskState {
  return taskStateFromJSON(state);
}

const SOURCE_FROM_WIRE: Partial<Record<TaskStatus_Source, TaskStatusSource>> = {
  [TaskStatus_Source.SOURCE_MASTER]: 'MASTER',
  [TaskStatus_Source.SOURCE_AGENT]: 'AGENT',
  [TaskStatus_Source.SOURCE_EXECUTOR]: 'EXECUTOR',
};

const SOURCE_TO_WIRE: Record<TaskStatusSource, TaskStatus_Source> = {
  MASTER: TaskStatus_Source.SOURCE_MASTER,
  AGENT: TaskStatus_Source.SOURCE_AGENT,
  EXECUTOR: TaskStatus_Source.SOURCE_EXECUTOR,
};

function reasonFromWire(reason: TaskStatus_Reason): string | undefined {
  if (reason === TaskStatus_Reason.REASON_UNSPECIFIED) return undefined;
  const name = taskStatus_ReasonToJSON(reason);
  if (name === 'UNRECOGNIZED') return undefined;
  return name.startsWith(REASON_PREFIX) ? name.slice(REASON_PREFIX.length) : name;
}

/** @internal A wire TaskStatus as the domain TaskStatus (empty fields left out, seconds to ms, REASON_ prefix dropped). */
export function taskStatusFromWire(s: WireTaskStatus): TaskStatus {
  const taskId = s.taskId?.value ?? '';
  if (taskId === '') throw new SchedulerError('INVALID_ARGUMENT', 'task status has no task id', { field: 'status.task_id' });
  const out: TaskStatus = { taskId, state: taskStateFromWire(s.state), timestamp: Math.round(s.timestamp * 1000) };
  const source = SOURCE_FROM_WIRE[s.source];
  const reason = reasonFromWire(s.reason);
  const labels = labelsFromWire(s.labels);
  if (s.message) out.message = s.message;
  if (source) out.source = source;
  if (reason) out.reason = reason;
  if (s.agentId?.value) out.agentId = s.agentId.value;
  if (s.executorId?.value) out.executorId = s.executorId.value;
  if (s.uuid) out.uuid = s.uuid;
  if (s.healthy !== undefined) out.healthy = s.healthy;
  if (s.exitCode !== undefined) out.exitCode = s.exitCode;
  if (s.signal) out.signal = s.signal;
  if (s.containerStatus?.sandbox) out.sandbox = s.containerStatus.sandbox;
  if (s.data.length > 0) out.data = new Uint8Array(s.data);
  if (labels) out.labels = labels;
  return out;
}

/** @internal The inverse of taskStatusFromWire (for test doubles). */
export function taskStatusToWire(s: TaskStatus, frameworkId = ''): WireTaskStatus {
  return {
    taskId: { value: s.taskId },
    state: taskStateToWire(s.state),
    message: s.message ?? '',
    source: s.source ? SOURCE_TO_WIRE[s.source] : TaskStatus_Source.SOURCE_UNSPECIFIED,
    reason: s.reason ? taskStatus_ReasonFromJSON(`${REASON_PREFIX}${s.reason}`) : TaskStatus_Reason.REASON_UNSPECIFIED,
    data: bytes(s.data),
    agentId: s.agentId ? { value: s.agentId } : undefined,
    executorId: s.executorId ? { value: s.executorId } : undefined,
    timestamp: s.timestamp / 1000,
    uuid: s.uuid ?? '',
    healthy: s.healthy,
    exitCode: s.exitCode,
    signal: s.signal ?? '',
    frameworkId: frameworkId ? { value: frameworkId } : undefined,
    labels: labelsToWire(s.labels),
    containerStatus: s.sandbox ? { sandbox: s.sandbox, executorPid: 0 } : undefined,
  };
}

// ---------------------------------------------------------------------------
// Offers.

/** @internal A wire Offer as the domain Offer; throws for an offer without id or with bad resources. */
export function offerFromWire(o: WireOffer, index = 0): Offer {
  const field = `offers[${index}]`;
  const id = o.id?.value ?? '';
  if (id === '') throw new SchedulerError('INVALID_ARGUMENT', `${field} has no id`, { field: `${field}.id` });
  const resources = resourcesFromWire(o.resources, `${field}.resources`);
  return {
    id,
    frameworkId: o.frameworkId?.value ?? '',
    agentId: o.agentId?.value ?? '',
    hostname: o.hostname,
    resources,
    volumes: volumeSpecsOf(resources),
    attributes: attributesFromWire(o.attributes),
    executorIds: o.executorIds.map((e) => e.value),
    role: o.allocationRole,
    agentEndpoint: o.agentEndpoint,
  };
}

/** @internal The inverse of offerFromWire (for test doubles). */
export function offerToWire(o: Offer): WireOffer {
  return {
    id: { value: o.id },
    frameworkId: { value: o.frameworkId },
    agentId: { value: o.agentId },
    hostname: o.hostname,
    resources: resourcesToWire(o.resources),
    attributes: attributesToWire(o.attributes),
    executorIds: o.executorIds.map((value) => ({ value })),
    allocationRole: o.role,
    agentEndpoint: o.agentEndpoint,
  };
}

// ---------------------------------------------------------------------------
// Events (all but SUBSCRIBED, which the connection handles itself).

/** A wire event as the domain event the user sees; undefined for an empty or SUBSCRIBED event. */
export function eventFromWire(e: WireEvent): SchedulerEvent | undefined {
  const ev = e.event;
  switch (ev?.$case) {
    case undefined:
    case 'subscribed':
      return undefined;
    case 'offers':
      return { type: 'offers', offers: ev.value.offers.map((o, i) => offerFromWire(o, i)) };
    case 'rescind':
      return { type: 'rescind', offerId: ev.value.offerId?.value ?? '', ...(ev.value.reason ? { reason: ev.value.reason } : {}) };
    case 'update': {
      if (!ev.value.status) throw new SchedulerError('INVALID_ARGUMENT', 'update event has no status', { field: 'update.status' });
      return { type: 'update', status: taskStatusFromWire(ev.value.status) };
    }
    case 'message':
      return {
        type: 'message',
        agentId: ev.value.agentId?.value ?? '',
        executorId: ev.value.executorId?.value ?? '',
        data: new Uint8Array(ev.value.data),
      };
    case 'failure':
      return {
        type: 'failure',
        agentId: ev.value.agentId?.value ?? '',
        ...(ev.value.executorId?.value ? { executorId: ev.value.executorId.value } : {}),
        ...(ev.value.status !== undefined ? { status: ev.value.status } : {}),
      };
    case 'error':
      return { type: 'error', code: codeFromWire(ev.value.code), message: ev.value.message };
    case 'heartbeat':
      return { type: 'heartbeat' };
  }
}

// ---------------------------------------------------------------------------
// Framework info.

const CAPABILITY_NAMES: readonly FrameworkCapability[] = ['MULTI_ROLE', 'PARTITION_AWARE', 'TASK_KILLING_STATE', 'GPU_RESOURCES'];

/** @internal The wire FrameworkInfo of a framework spec; `id` overrides `f.id`. */
export function frameworkInfoToWire(f: FrameworkSpec, id?: string): FrameworkInfo {
  const frameworkId = id ?? f.id;
  return {
    id: frameworkId ? { value: frameworkId } : undefined,
    name: f.name,
    user: f.user ?? '',
    roles: [...(f.roles ?? [])],
    failoverTimeout: f.failoverTimeoutSeconds ?? 0,
    checkpoint: f.checkpoint ?? false,
    hostname: f.hostname ?? '',
    principal: f.principal ?? '',
    capabilities: (f.capabilities ?? []).map((c) => {
      const wire = frameworkInfo_CapabilityFromJSON(c);
      if (wire === FrameworkInfo_Capability.UNRECOGNIZED || !CAPABILITY_NAMES.includes(c)) {
        throw new SchedulerError('INVALID_ARGUMENT', `framework.capabilities: unknown capability '${String(c)}'`, {
          field: 'framework.capabilities',
        });
      }
      return wire;
    }),
    labels: labelsToWire(f.labels),
    webuiUrl: f.webuiUrl ?? '',
  };
}

// ---------------------------------------------------------------------------
// Commands, executors, tasks, operations.

/** Extra environment for a command, e.g. PORT0..n. */
export function commandToWire(c: CommandSpec, extraEnv: Record<string, string> = {}): CommandInfo {
  const env = { ...extraEnv, ...(c.env ?? {}) };
  const environment = Object.entries(env).map(([name, value]) => ({ name, value }));
  if (c.shell !== undefined) return { shell: true, value: c.shell, arguments: [], environment, user: c.user ?? '' };
  const argv = c.argv ?? [];
  return { shell: false, value: argv[0] ?? '', arguments: [...argv], environment, user: c.user ?? '' };
}

/** @internal The wire ExecutorInfo, with the executor's placed resources. */
export function executorInfoToWire(e: ExecutorSpec, resources: Resources, frameworkId: string): ExecutorInfo {
  return {
    executorId: { value: e.executorId },
    frameworkId: frameworkId ? { value: frameworkId } : undefined,
    command: commandToWire(e.command),
    resources: resourcesToWire(resources),
    name: e.name ?? e.executorId,
    source: e.source ?? '',
    type: e.type === 'DEFAULT' ? ExecutorInfo_Type.DEFAULT : ExecutorInfo_Type.CUSTOM,
  };
}

/** Mesos's defaults the wire cannot leave to the agent: there, 0 means no delay and no grace period. */
const HEALTH_CHECK_DELAY_SECONDS = 15;
const HEALTH_CHECK_GRACE_PERIOD_SECONDS = 10;

function healthCheckToWire(h: HealthCheckSpec, ports: number[]): HealthCheck {
  const portOf = (port: number | undefined, portIndex: number | undefined): number => port ?? ports[portIndex ?? 0] ?? 0;
  const common = {
    delaySeconds: h.delaySeconds ?? HEALTH_CHECK_DELAY_SECONDS,
    intervalSeconds: h.intervalSeconds ?? 0,
    timeoutSeconds: h.timeoutSeconds ?? 0,
    consecutiveFailures: h.consecutiveFailures ?? 0,
    gracePeriodSeconds: h.gracePeriodSeconds ?? HEALTH_CHECK_GRACE_PERIOD_SECONDS,
  };
  switch (h.type) {
    case 'command':
      return { type: HealthCheck_Type.COMMAND, command: commandToWire(h.command), port: 0, path: '', ...common };
    case 'http':
      return { type: HealthCheck_Type.HTTP, command: undefined, port: portOf(h.port, h.portIndex), path: h.path ?? '/', ...common };
    case 'tcp':
      return { type: HealthCheck_Type.TCP, command: undefined, port: portOf(h.port, h.portIndex), path: '', ...common };
  }
}

/** The environment telling a task its picked ports: PORT0..n and PORTS. */
export function portEnvironment(ports: readonly number[]): Record<string, string> {
  if (ports.length === 0) return {};
  const env: Record<string, string> = { PORTS: ports.join(',') };
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  return env;
}

/** @internal The wire TaskInfo of a placed task (PORTn env, health check port resolved). */
export function taskInfoToWire(t: PlacedTask, agentId: string, frameworkId: string): TaskInfo {
  const spec = t.spec;
  return {
    name: spec.name ?? spec.taskId,
    taskId: { value: spec.taskId },
    agentId: agentId ? { value: agentId } : undefined,
    resources: resourcesToWire(t.resources),
    command: spec.command ? commandToWire(spec.command, portEnvironment(t.ports)) : undefined,
    executor: spec.executor ? executorInfoToWire(spec.executor, t.executorResources ?? emptyOf(t.resources), frameworkId) : undefined,
    data: bytes(spec.data),
    killPolicy: spec.killGracePeriodSeconds !== undefined ? { gracePeriodSeconds: spec.killGracePeriodSeconds } : undefined,
    healthCheck: spec.healthCheck ? healthCheckToWire(spec.healthCheck, t.ports) : undefined,
    labels: labelsToWire(spec.labels),
  };
}

function emptyOf(r: Resources): Resources {
  return r.filter(() => false);
}

/** A placed operation, ready for the wire. */
export type PlacedOperation =
  | { type: 'launch'; tasks: PlacedTask[] }
  | { type: 'launchGroup'; executor: ExecutorSpec; executorResources: Resources; tasks: PlacedTask[] }
  | { type: 'reserve' | 'unreserve'; resources: Resources }
  | { type: 'create' | 'destroy'; volumes: Resources };

/** The task ids an operation launches. */
export function operationTaskIds(op: PlacedOperation): string[] {
  return op.type === 'launch' || op.type === 'launchGroup' ? op.tasks.map((t) => t.spec.taskId) : [];
}

/** @internal The wire Offer.Operation of a placed operation. */
export function operationToWire(op: PlacedOperation, agentId: string, frameworkId: string): Offer_Operation {
  const base: Offer_Operation = {
    type: Offer_Operation_Type.TYPE_UNSPECIFIED,
    launch: undefined,
    launchGroup: undefined,
    reserve: undefined,
    unreserve: undefined,
    create: undefined,
    destroy: undefined,
  };
  switch (op.type) {
    case 'launch':
      return { ...base, type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: op.tasks.map((t) => taskInfoToWire(t, agentId, frameworkId)) } };
    case 'reserve':
      return { ...base, type: Offer_Operation_Type.RESERVE, reserve: { resources: resourcesToWire(op.resources) } };
    case 'unreserve':
      return { ...base, type: Offer_Operation_Type.UNRESERVE, unreserve: { resources: resourcesToWire(op.resources) } };
    case 'create':
      return { ...base, type: Offer_Operation_Type.CREATE, create: { volumes: resourcesToWire(op.volumes) } };
    case 'destroy':
      return { ...base, type: Offer_Operation_Type.DESTROY, destroy: { volumes: resourcesToWire(op.volumes) } };
    case 'launchGroup':
      break;
  }
  const executor = executorInfoToWire(op.executor, op.executorResources, frameworkId);
  return {
    ...base,
    type: Offer_Operation_Type.LAUNCH_GROUP,
    launchGroup: { executor, taskGroup: { tasks: op.tasks.map((t) => ({ ...taskInfoToWire(t, agentId, frameworkId), executor: undefined })) } },
  };
}

/** @internal Filters on the wire; unset means the master's default. */
export function filtersToWire(f: Filters | undefined): WireFilters | undefined {
  if (!f || f.refuseSeconds === undefined) return undefined;
  return { refuseSeconds: f.refuseSeconds };
}
