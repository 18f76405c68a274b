// The pid namespace isolator (namespaces/pid): the executor starts as process 1 of a new
// pid namespace with its own /proc (`unshare --pid --fork --mount-proc`), so its tasks
// cannot see or signal other containers' processes. When it ends the kernel kills every
// process of the namespace; `--kill-child` ties it to the `unshare` process the agent
// watches. Mounts propagate into its mount namespace (`--propagation slave`): a volume
// shown in the sandbox after the executor started is seen there too. The agent still
// finds the processes from outside (their MESO_EXECUTOR_RUN_ID).
import { existsSync } from 'node:fs';
import type { Command, ContainerIsolator } from './types.js';

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'];

/** Whether pid namespaces can be made here; the reason when not. */
export function pidNamespaceSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the agent does not run as root' };
  if (!UNSHARE.some((p) => existsSync(p))) return { ok: false, reason: 'unshare (util-linux) is not installed' };
  return { ok: true };
}

export function pidNamespaceIsolator(): ContainerIsolator {
  const unshare = UNSHARE.find((p) => existsSync(p)) ?? 'unshare';
  return {
    name: 'namespaces/pid',
    wrap: (c: Command): Command => ({ file: unshare, args: ['--pid', '--fork', '--mount-proc', '--propagation', 'slave', '--kill-child', '--', c.file, ...c.args] }),
  };
}
