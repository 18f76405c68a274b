import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@meso/proto';
import { RUN_ID_VARIABLE } from './executor-env.js';
import type { ContainerIsolation } from './isolation/container-isolation.js';
import { currentRunPids } from './isolation/run-processes.js';
import { processGroupOf, signalGroup, signalProcess } from './process-tree.js';

/** How an executor ended. */
export interface Termination {
  /** Exit status when it exited normally. */
  status: number | null;
  /** The signal name when a signal ended it. */
  signal: string | null;
}

/** What to start for one executor run. */
export interface LaunchSpec {
  runId: string;
  /** Working directory; `stdout` and `stderr` files are created (appended) here. */
  sandbox: string;
  file: string;
  args: string[];
  argv0?: string;
  env: Record<string, string>;
  /** The container's isolators (cgroups, pid namespace...): the executor starts inside. */
  isolation?: ContainerIsolation;
}

/** One running executor process and everything it started. */
export interface Container {
  readonly pid: number;
  readonly runId: string;
  /** Resolves when the executor process has exited. */
  readonly exited: Promise<Termination>;
  /** Signals the executor's process group. */
  signal(signal: NodeJS.Signals): void;
  /**
   * SIGKILLs every process of the run: the executor's process group, and every process
   * carrying the run's marker variable together with its process group (tasks the
   * executor put in groups of their own, or left behind). Resolves when none is left
   * (or after a few rounds).
   */
  destroy(): Promise<void>;
  /** Stops watching the process (the agent detaches from it); adopted containers only. */
  release?(): void;
  /** The container's isolation (limits, watchers, usage); none when the agent isolates nothing. */
  isolation?: ContainerIsolation;
}

/**
 * The containerizer: an executor is a detached process (its own session and process
 * group, so it can outlive the agent), its stdout/stderr are the sandbox's files, and
 * every process of the run carries `MESO_EXECUTOR_RUN_ID` in its environment. With an
 * isolation, the executor is started inside the container (its cgroups joined, its pid
 * namespace made) before it runs a line of its own, and `destroy` also kills whatever is
 * in the container's cgroups and removes them.
 */
export async function launchContainer(spec: LaunchSpec, logger: Logger): Promise<Container> {
  const out = openSync(join(spec.sandbox, 'stdout'), 'a');
  const err = openSync(join(spec.sandbox, 'stderr'), 'a');
  let child: ChildProcess;
  try {
    const command = spec.isolation ? spec.isolation.wrap({ file: spec.file, args: spec.args, ...(spec.argv0 !== undefined ? { argv0: spec.argv0 } : {}) }) : spec;
    child = spawn(command.file, command.args, {
      cwd: spec.sandbox,
      env: { ...spec.env, [RUN_ID_VARIABLE]: spec.runId },
      detached: true,
      stdio: ['ignore', out, err],
      ...(command.argv0 !== undefined ? { argv0: command.argv0 } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${spec.file}`);
  child.unref();
  let hasExited = false;
  const exited = new Promise<Termination>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ status: code, signal });
    });
  });
  child.on('error', (e) => logger.warn('executor process error', { pid, error: e.message }));
  const isolation = spec.isolation;
  return {
    pid,
    runId: spec.runId,
    exited,
    signal: (signal) => {
      signalGroup(pid, signal);
    },
    // Once the executor is reaped its pid may be reused: from then on only marked processes are killed.
    destroy: async () => {
      await destroyRun(pid, spec.runId, exited, !hasExited, isolation?.cgroupPids);
      await isolation?.cleanup();
    },
    ...(isolation ? { isolation } : {}),
  };
}

/**
 * Kills an executor run for good. With `trustPid` false (a run of an earlier agent
 * process, whose pid may since have been reused) the executor's group is only killed
 * when that pid still carries the run's marker. The run's processes are those in its
 * cgroup when `cgroupPids` reads them (no scan of every process on the machine), else every
 * process carrying the run's marker.
 */
export async function destroyRun(pid: number, runId: string, exited?: Promise<Termination>, trustPid = true, cgroupPids?: () => Promise<number[]>): Promise<void> {
  const own = await processGroupOf(process.pid);
  for (let round = 0; round < 10; round++) {
    const marked = cgroupPids ? await cgroupPids() : await currentRunPids(runId);
    if (trustPid || marked.includes(pid)) signalGroup(pid, 'SIGKILL');
    for (const p of marked) {
      const group = await processGroupOf(p);
      if (group !== undefined && group !== own && group !== process.pid) signalGroup(group, 'SIGKILL');
      signalProcess(p, 'SIGKILL');
    }
    if (marked.length === 0 && (!trustPid || !groupAlive(pid))) break;
    await new Promise((r) => setTimeout(r, 20 * (round + 1)));
  }
  if (exited) await exited;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
