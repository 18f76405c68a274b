// The parts of a container's isolation: each isolator contributes some of these for one
// container (an executor run: the executor and every process of its tasks).
import type { TaskStatus_Reason } from '@meso/proto';
import type { ContainerLimits } from './limits.js';

/** A container found over one of its limits: it is killed and its tasks fail with `reason`. */
export interface Limitation {
  reason: TaskStatus_Reason;
  message: string;
}

/** What a container used, as far as an isolator can tell. */
export interface UsagePart {
  cpusUserTimeSecs?: number;
  cpusSystemTimeSecs?: number;
  memRssBytes?: number;
  diskUsedBytes?: number;
  processes?: number;
}

/** A program to run: a wrapper returns the program that runs the one it was given. */
export interface Command {
  file: string;
  args: string[];
  argv0?: string;
}

/** One isolator's part of one container. */
export interface ContainerIsolator {
  readonly name: string;
  /** `cgroup.procs` files the executor joins before it runs (no fork can escape). */
  readonly procsFiles?: readonly string[];
  /** Wraps the executor's command (e.g. in a new pid namespace). */
  wrap?(command: Command): Command;
  /** Applies (new) limits; called before the launch and whenever the container's tasks change. */
  update?(limits: ContainerLimits): Promise<void>;
  /** The container's processes, when this isolator knows them (cgroup.procs). */
  pids?(): Promise<number[]>;
  /** Usage; `pids` are the container's processes. */
  usage?(pids: () => Promise<number[]>): Promise<UsagePart>;
  /**
   * Looks for a limitation now. `urgent` checks (memory) also run when a task of the
   * container ends, so a kill by the kernel is reported as the limitation, not as the
   * task's own failure.
   */
  check?(pids: () => Promise<number[]>, limits: ContainerLimits): Promise<Limitation | undefined>;
  readonly urgent?: boolean;
  /** How often `check` runs (ms); 0: never on its own. */
  readonly watchIntervalMs?: number;
  /** Removes what the isolator made (cgroups); the container's processes are gone. */
  cleanup?(): Promise<void>;
}
