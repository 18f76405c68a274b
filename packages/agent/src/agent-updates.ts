import { randomUUID } from 'node:crypto';
import {
  FrameworkInfo_Capability,
  TaskState,
  TaskStatus_Source,
  type FrameworkInfo,
  type StatusUpdate,
  type TaskStatus,
  type TaskStatus_Reason,
} from '@meso/proto';

/** The fields of an update the agent writes itself (executor gone, task killed before launch, ...). */
export interface AgentUpdateInput {
  agentId: string;
  frameworkId: string;
  executorId: string;
  taskId: string;
  state: TaskState;
  reason: TaskStatus_Reason;
  message: string;
  /** Seconds since the epoch. */
  timestamp: number;
  sandbox?: string;
  executorPid?: number;
}

/** A status update with source SOURCE_AGENT and a fresh uuid. */
export function agentUpdate(i: AgentUpdateInput): StatusUpdate {
  const status: TaskStatus = {
    taskId: { value: i.taskId },
    state: i.state,
    message: i.message,
    source: TaskStatus_Source.SOURCE_AGENT,
    reason: i.reason,
    data: Buffer.alloc(0),
    agentId: { value: i.agentId },
    executorId: { value: i.executorId },
    timestamp: i.timestamp,
    uuid: randomUUID(),
    signal: '',
    frameworkId: { value: i.frameworkId },
    labels: [],
    containerStatus: i.sandbox !== undefined ? { sandbox: i.sandbox, executorPid: i.executorPid ?? 0 } : undefined,
  };
  return { frameworkId: { value: i.frameworkId }, executorId: { value: i.executorId }, status, latestState: i.state };
}

/** How an executor's end reads in a task's message: `exited with status 1`, `terminated by signal SIGKILL`. */
export function describeTermination(status: number | null, signal: string | null): string {
  if (signal) return `terminated by signal ${signal}`;
  if (status !== null) return `exited with status ${status}`;
  return 'terminated';
}

/** The state for a task the agent cannot run: TASK_DROPPED for partition-aware frameworks, else TASK_LOST (as Mesos). */
export function lostState(framework: FrameworkInfo | undefined): TaskState {
  return framework?.capabilities.includes(FrameworkInfo_Capability.PARTITION_AWARE) ? TaskState.TASK_DROPPED : TaskState.TASK_LOST;
}
