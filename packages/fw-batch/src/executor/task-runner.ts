import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** What the scheduler puts in a batch task's `data`. */
export interface BatchTaskData {
  command: { shell: string } | { argv: string[] };
  env: Record<string, string>;
}

/** How a task ended. */
export type TaskOutcome = { state: 'TASK_FINISHED' | 'TASK_FAILED' | 'TASK_KILLED'; exitCode?: number; signal?: string; message: string };

/**
 * Whether the command is a no-op the executor runs in-process (`true`, `:`, `exit 0`): such
 * tasks pay for no process at all — the benchmark's no-op tasks and health probes of pipelines.
 */
export function isBuiltinNoop(command: BatchTaskData['command']): boolean {
  if ('shell' in command) return ['true', ':', 'exit 0', '/bin/true'].includes(command.shell.trim());
  return command.argv.length === 1 && ['true', '/bin/true', '/usr/bin/true'].includes(command.argv[0]!);
}

/** Parses and checks a task's data (throws a plain Error with the reason). */
export function parseTaskData(data: Uint8Array): BatchTaskData {
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<BatchTaskData>;
  const c = parsed.command as BatchTaskData['command'] | undefined;
  if (!c || (!('shell' in c) && !('argv' in c))) throw new Error('task data has no command');
  return { command: c, env: parsed.env ?? {} };
}

/**
 * One running task of the batch executor: a child process started from the already-running
 * executor (so the agent starts no executor per task), its output in `dir/stdout` and
 * `dir/stderr`; kill sends SIGTERM to its process group, then SIGKILL after the grace period.
 */
export class TaskProcess {
  private child: ChildProcess | undefined;
  private killedBy: 'kill' | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  readonly outcome: Promise<TaskOutcome>;

  constructor(data: BatchTaskData, dir: string) {
    this.outcome = this.run(data, dir);
  }

  private async run(data: BatchTaskData, dir: string): Promise<TaskOutcome> {
    await mkdir(dir, { recursive: true });
    const stdout = createWriteStream(join(dir, 'stdout'));
    const stderr = createWriteStream(join(dir, 'stderr'));
    const [file, args] = 'shell' in data.command ? ['/bin/sh', ['-c', data.command.shell]] : [data.command.argv[0]!, data.command.argv.slice(1)];
    return new Promise<TaskOutcome>((resolve) => {
      const child = spawn(file, args, { cwd: dir, env: { ...process.env, ...data.env, MESO_SANDBOX: dir }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.child = child;
      child.stdout.pipe(stdout);
      child.stderr.pipe(stderr);
      child.once('error', (e) => resolve({ state: 'TASK_FAILED', message: `could not start: ${e.message}` }));
      child.once('close', (code, signal) => {
        if (this.killTimer) clearTimeout(this.killTimer);
        if (this.killedBy) resolve({ state: 'TASK_KILLED', ...(signal ? { signal } : {}), message: 'killed' });
        else if (code === 0) resolve({ state: 'TASK_FINISHED', exitCode: 0, message: 'exited 0' });
        else resolve({ state: 'TASK_FAILED', ...(code !== null ? { exitCode: code } : {}), ...(signal ? { signal } : {}), message: code !== null ? `exited ${code}` : `killed by ${signal}` });
      });
    });
  }

  /** SIGTERM to the task's process group, SIGKILL after `graceMs`. */
  kill(graceMs: number): void {
    this.killedBy = 'kill';
    const pid = this.child?.pid;
    if (pid === undefined) return;
    const send = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    send('SIGTERM');
    this.killTimer = setTimeout(() => send('SIGKILL'), graceMs);
    this.killTimer.unref();
  }
}
