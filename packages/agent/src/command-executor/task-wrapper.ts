// How the agent starts a command task (pure): through a small shell wrapper that stays the
// task's parent and writes the task's exit status to a file, so an agent that restarted
// (no longer the wrapper's parent) still learns how the task ended.
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { CommandInfo } from '@meso/sdk-executor';
import { keepArgv0 } from '../isolation/container-isolation.js';
import type { Command } from '../isolation/types.js';
import type { CommandExit } from './command-task.js';

/** Where programs are looked for: /usr/bin, /bin, then PATH. */
const programDirs = (): string[] => ['/usr/bin', '/bin', ...(process.env['PATH'] ?? '').split(':').filter(Boolean)];

/** Where a program is in `dirs`; undefined when nowhere. */
function locate(name: string, dirs = programDirs()): string | undefined {
  return dirs.map((d) => `${d}/${name}`).find((p) => existsSync(p));
}
/** util-linux's programs, where this system has them (else left to PATH at run time). */
const SETSID = locate('setsid') ?? 'setsid';
const SETPRIV = locate('setpriv') ?? 'setpriv';

/**
 * The programs the wrapper needs that this system lacks: util-linux's `setsid` always, and
 * `setpriv` when the agent runs as root (it then starts tasks as their users).
 */
export function missingWrapperTools(isRoot: boolean, dirs = programDirs()): string[] {
  return (isRoot ? ['setsid', 'setpriv'] : ['setsid']).filter((name) => locate(name, dirs) === undefined);
}

/** The wrapper's `$0`: what `ps` shows for it. */
export const TASK_WRAPPER_NAME = 'meso-task';

/**
 * `$1` is the status file, the rest the task. The wrapper traps SIGTERM (the kill policy
 * signals the whole process group) so it outlives its task long enough to record how it
 * ended; the task itself gets the default disposition back (a trap is not inherited).
 */
const SCRIPT = 'f=$1; shift; trap : TERM; "$@"; s=$?; echo $s > "$f"; exit $s';

/** The task's own program: `/bin/sh -c value` (shell) or `value` with `arguments` as argv. */
export function taskProgram(c: CommandInfo): Command {
  if (c.shell) return { file: '/bin/sh', args: ['-c', c.value] };
  const argv = c.arguments.length > 0 ? c.arguments : [c.value];
  return keepArgv0({ file: c.value, args: argv.slice(1), ...(argv[0] !== undefined ? { argv0: argv[0] } : {}) });
}

/**
 * The command that runs `program` under the wrapper: the task in a session and process
 * group of its own (`setsid`, as Mesos's command executor does: its pid is its group's id),
 * as `user` when given (`setpriv`, supplementary groups cleared, as Node's spawn does).
 * The wrapper itself stays root, so it can write the status file in the agent's work dir.
 */
export function wrapTask(program: Command, statusFile: string, user?: { uid: number; gid: number }): Command {
  const asUser = user ? [SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'] : [];
  return { file: '/bin/sh', args: ['-c', SCRIPT, TASK_WRAPPER_NAME, statusFile, SETSID, ...asUser, program.file, ...program.args] };
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/**
 * How the task ended, from what the wrapper reports: a shell reports a task killed by
 * signal N as status 128 + N (as Mesos's command executor, which also runs tasks under a
 * shell, cannot tell that from an exit with that status either).
 */
export function taskExit(status: number | null, signal: string | null): CommandExit {
  if (signal) return { code: null, signal: signal as NodeJS.Signals };
  if (status !== null && status > 128) {
    const name = SIGNAL_NAMES.get(status - 128);
    if (name) return { code: null, signal: name };
  }
  return { code: status, signal: null };
}

/** The exit recorded in a status file; undefined when it holds no status (the wrapper was killed first). */
export function parseExitFile(text: string): CommandExit | undefined {
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t)) return undefined;
  return taskExit(Number(t), null);
}
