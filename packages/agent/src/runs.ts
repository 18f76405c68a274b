import type {
  ExecutorInfo,
  FrameworkInfo,
  KillPolicy,
  TaskInfo,
  TaskState,
  TaskStatus_Reason,
  TimerHandle,
} from '@meso/proto';
import type { Container } from './containerizer.js';
import type { EventSink } from './executor-server.js';
import type { Limitation } from './isolation/types.js';

/** A task on this agent, from RunTask until its terminal update. */
export interface TaskRecord {
  frameworkId: string;
  executorId: string;
  info: TaskInfo;
  /** The latest state the agent knows (STAGING until the executor reports). */
  state: TaskState;
  /** Sent to the executor (LAUNCH / LAUNCH_GROUP). */
  launched: boolean;
}

/** What a launch waits on until the executor subscribes. */
export type QueuedLaunch = { kind: 'task'; taskId: string } | { kind: 'group'; taskIds: string[] };

/** Why the agent ended an executor run, applied to tasks it left non-terminal. */
export interface PendingTermination {
  state: TaskState;
  reason: TaskStatus_Reason;
  message: string;
}

/**
 * One run of an executor (Mesos: an executor's container). A run is created by the first
 * task for the executor and ends when its process exits.
 */
export interface ExecutorRun {
  frameworkId: string;
  executorId: string;
  runId: string;
  info: ExecutorInfo;
  /** `command`: the agent's command executor (one per task); `custom`: the framework's. */
  kind: 'command' | 'custom';
  sandbox: string;
  token: string;
  container: Container | undefined;
  /** The executor process's start time (/proc), checkpointed to tell a reused pid. */
  startTime: string | undefined;
  /**
   * launching: started, waiting for SUBSCRIBE; recovering: a run of the previous agent
   * process, waiting for its executor to re-subscribe; registered: subscribed at least once;
   * terminating: SHUTDOWN sent or being killed; terminated: the process is gone.
   */
  phase: 'launching' | 'recovering' | 'registered' | 'terminating' | 'terminated';
  /** Called once a recovering run is settled (re-subscribed, or gone). */
  onRecovered: (() => void) | undefined;
  sink: EventSink | undefined;
  queue: QueuedLaunch[];
  /** Kills that wait for the executor to (re)subscribe. */
  pendingKills: Map<string, KillPolicy>;
  /** Non-terminal tasks of this run. */
  tasks: Map<string, TaskRecord>;
  termination: PendingTermination | undefined;
  /** The limit the container went over (it is being killed, its tasks failed with the limitation's reason). */
  limitation?: Limitation;
  registrationTimer: TimerHandle | undefined;
  shutdownTimer: TimerHandle | undefined;
  /** Executor calls being handled (an exit waits for them before judging the tasks). */
  inflight: Set<Promise<unknown>>;
  /** Resolves once the run is terminated and its tasks are settled. */
  terminated: Promise<void>;
  markTerminated: () => void;
}

/** A framework with something on this agent. */
export interface FrameworkRecord {
  id: string;
  info: FrameworkInfo;
}

/** Map key of a (framework, id) pair. */
export function pairKey(frameworkId: string, id: string): string {
  return `${frameworkId}\u0000${id}`;
}
