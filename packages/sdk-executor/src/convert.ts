// The one place where the SDK's domain types meet the generated wire types of meso.v1.
// Everything public speaks the domain types; everything sent or received speaks the wire.
import {
  type ExecutorEvent_Subscribed,
  FrameworkInfo_Capability,
  frameworkInfo_CapabilityToJSON,
  HealthCheck_Type,
  resourcesFromWire,
  resourcesToWire,
  TaskState as WireTaskState,
  TaskStatus_Reason,
  TaskStatus_Source,
  type CommandInfo as WireCommandInfo,
  type HealthCheck as WireHealthCheck,
  type Label,
  type TaskInfo as WireTaskInfo,
  type TaskStatus as WireTaskStatus,
} from '@meso/proto';
import { TASK_STATES, type TaskState, type TaskStatusReason } from './task-state.js';
import type { CommandInfo, HealthCheck, StatusUpdateRecord, SubscribedInfo, TaskInfo } from './types.js';

/** Domain state → wire enum. */
export function taskStateToWire(state: TaskState): WireTaskState {
  const value = WireTaskState[state];
  if (value === undefined) throw new TypeError(`unknown task state '${String(state)}'`);
  return value;
}

/** Wire enum → domain state; values this SDK does not know read as `TASK_UNKNOWN`. */
export function taskStateFromWire(state: WireTaskState): TaskState {
  const name = WireTaskState[state] as string | undefined;
  return TASK_STATES.includes(name as TaskState) ? (name as TaskState) : 'TASK_UNKNOWN';
}

/** Domain reason → wire enum (`REASON_UNSPECIFIED` when unset). */
export function reasonToWire(reason: TaskStatusReason | undefined): TaskStatus_Reason {
  if (reason === undefined) return TaskStatus_Reason.REASON_UNSPECIFIED;
  const value = TaskStatus_Reason[reason];
  if (value === undefined) throw new TypeError(`unknown reason '${String(reason)}'`);
  return value;
}

/** Wire enum → domain reason (undefined when unspecified or unknown). */
export function reasonFromWire(reason: TaskStatus_Reason): TaskStatusReason | undefined {
  if (reason === TaskStatus_Reason.REASON_UNSPECIFIED || reason === TaskStatus_Reason.UNRECOGNIZED) return undefined;
  return TaskStatus_Reason[reason] as TaskStatusReason | undefined;
}

export function labelsFromWire(labels: readonly Label[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l.key, l.value]));
}

export function labelsToWire(labels: Record<string, string> | undefined): Label[] {
  return Object.entries(labels ?? {}).map(([key, value]) => ({ key, value }));
}

export function commandFromWire(c: WireCommandInfo): CommandInfo {
  return {
    shell: c.shell,
    value: c.value,
    arguments: [...c.arguments],
    env: Object.fromEntries(c.environment.map((e) => [e.name, e.value])),
    user: c.user,
  };
}

export function commandToWire(c: CommandInfo): WireCommandInfo {
  return {
    shell: c.shell ?? false,
    value: c.value,
    arguments: [...c.arguments],
    environment: Object.entries(c.env).map(([name, value]) => ({ name, value })),
    user: c.user,
  };
}

const HEALTH_CHECK_TYPES = {
  [HealthCheck_Type.COMMAND]: 'COMMAND',
  [HealthCheck_Type.HTTP]: 'HTTP',
  [HealthCheck_Type.TCP]: 'TCP',
} as const;

/** Wire health check → domain; undefined when its type is unset or unknown (no check to run). */
export function healthCheckFromWire(h: WireHealthCheck): HealthCheck | undefined {
  const type = HEALTH_CHECK_TYPES[h.type as keyof typeof HEALTH_CHECK_TYPES] as HealthCheck['type'] | undefined;
  if (type === undefined) return undefined;
  // proto3 cannot tell an unset number from 0: 0 leaves interval, timeout and failures to the executor.
  return {
    type,
    ...(h.command ? { command: commandFromWire(h.command) } : {}),
    port: h.port,
    path: h.path,
    delaySeconds: Math.max(0, h.delaySeconds),
    ...(h.intervalSeconds > 0 ? { intervalSeconds: h.intervalSeconds } : {}),
    ...(h.timeoutSeconds > 0 ? { timeoutSeconds: h.timeoutSeconds } : {}),
    ...(h.consecutiveFailures > 0 ? { consecutiveFailures: h.consecutiveFailures } : {}),
    gracePeriodSeconds: Math.max(0, h.gracePeriodSeconds),
  };
}

export function healthCheckToWire(h: HealthCheck): WireHealthCheck {
  return {
    type: HealthCheck_Type[h.type],
    command: h.command ? commandToWire(h.command) : undefined,
    port: h.port,
    path: h.path,
    delaySeconds: h.delaySeconds,
    intervalSeconds: h.intervalSeconds ?? 0,
    timeoutSeconds: h.timeoutSeconds ?? 0,
    consecutiveFailures: h.consecutiveFailures ?? 0,
    gracePeriodSeconds: h.gracePeriodSeconds,
  };
}

/** Wire task → domain task. Throws a ResourceError when the resources are malformed. */
export function taskInfoFromWire(t: WireTaskInfo): TaskInfo {
  const grace = t.killPolicy?.gracePeriodSeconds;
  const healthCheck = t.healthCheck ? healthCheckFromWire(t.healthCheck) : undefined;
  return {
    taskId: t.taskId?.value ?? '',
    name: t.name,
    resources: resourcesFromWire(t.resources, `task ${t.taskId?.value ?? ''} resources`),
    ...(t.command ? { command: commandFromWire(t.command) } : {}),
    data: new Uint8Array(t.data),
    ...(grace !== undefined && grace > 0 ? { killGracePeriodSeconds: grace } : {}),
    ...(healthCheck ? { healthCheck } : {}),
    labels: labelsFromWire(t.labels),
  };
}

/** Domain task → wire task (the executor field is not part of the domain type). */
export function taskInfoToWire(t: TaskInfo): WireTaskInfo {
  return {
    name: t.name,
    taskId: { value: t.taskId },
    agentId: undefined,
    resources: resourcesToWire(t.resources),
    command: t.command ? commandToWire(t.command) : undefined,
    executor: undefined,
    data: Buffer.from(t.data),
    killPolicy: t.killGracePeriodSeconds !== undefined ? { gracePeriodSeconds: t.killGracePeriodSeconds } : undefined,
    healthCheck: t.healthCheck ? healthCheckToWire(t.healthCheck) : undefined,
    labels: labelsToWire(t.labels),
  };
}

function dataToBuffer(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

/** A recorded update → the wire status the executor sends. */
export function statusToWire(update: StatusUpdateRecord, frameworkId: string, executorId: string): WireTaskStatus {
  const o = update.options;
  return {
    taskId: { value: update.taskId },
    state: taskStateToWire(update.state),
    message: o.message ?? '',
    source: TaskStatus_Source.SOURCE_EXECUTOR,
    reason: reasonToWire(o.reason),
    data: dataToBuffer(o.data),
    agentId: undefined,
    executorId: { value: executorId },
    timestamp: update.timestamp,
    uuid: update.uuid,
    ...(o.healthy !== undefined ? { healthy: o.healthy } : {}),
    ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
    signal: o.signal ?? '',
    frameworkId: { value: frameworkId },
    labels: labelsToWire(o.labels),
    containerStatus: undefined,
  };
}

/** The SUBSCRIBED event → domain info. */
export function subscribedFromWire(s: ExecutorEvent_Subscribed): SubscribedInfo {
  const e = s.executorInfo;
  const f = s.frameworkInfo;
  const a = s.agentInfo;
  return {
    executor: {
      executorId: e?.executorId?.value ?? '',
      frameworkId: e?.frameworkId?.value ?? f?.id?.value ?? '',
      name: e?.name ?? '',
      resources: resourcesFromWire(e?.resources ?? [], 'executor resources'),
    },
    framework: {
      frameworkId: f?.id?.value ?? '',
      name: f?.name ?? '',
      user: f?.user ?? '',
      checkpoint: f?.checkpoint ?? false,
      capabilities: (f?.capabilities ?? [])
        .filter((c) => c !== FrameworkInfo_Capability.CAPABILITY_UNSPECIFIED)
        .map((c) => frameworkInfo_CapabilityToJSON(c)),
    },
    agent: { agentId: a?.id?.value ?? '', hostname: a?.hostname ?? '', endpoint: a?.endpoint ?? '' },
  };
}
