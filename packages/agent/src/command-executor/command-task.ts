import { spawn, type ChildProcess } from 'node:child_process';
import type { CommandInfo } from '@meso/sdk-executor';

/** How a command task ended. */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What to run and how. */
export interface CommandSpec {
  command: CommandInfo;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

/** A started task process, as the command executor drives it. */
export interface TaskProcess {
  readonly pid: number;
  /** Signals the task's whole process group. */
  signalGroup(signal: NodeJS.Signals): void;
}

/** Starts a task's process; rejects when it cannot be started. */
export type StartTask = (spec: CommandSpec) => Promise<{ task: TaskProcess; exited: Promise<CommandExit> }>;

/**
 * One command task process: `/bin/sh -c value` (shell) or `value` with `arguments` as
 * argv (no shell), in its own process group (so a kill reaches everything it started),
 * with stdout/stderr inherited from the executor (the sandbox's files).
 */
export class CommandTask implements TaskProcess {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts the process; rejects when it cannot be started (no such program, ...). */
  static async start(spec: CommandSpec): Promise<{ task: CommandTask; exited: Promise<CommandExit> }> {
    const c = spec.command;
    const argv = c.arguments.length > 0 ? c.arguments : [c.value];
    const [file, args, argv0] = c.shell ? ['/bin/sh', ['-c', c.value], undefined] : [c.value, argv.slice(1), argv[0]];
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      ...(argv0 !== undefined ? { argv0 } : {}),
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
    const exited = new Promise<CommandExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return { task: new CommandTask(child), exited };
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Signals the task's whole process group. */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  }
}
