// The disk isolator (disk/du, Mesos's posix/disk): the container's sandbox and its
// persistent volumes are measured at an interval, `du`-like (allocated blocks, symlinks
// not followed, at most MAX_ENTRIES entries per walk); a sandbox over the container's
// disk, or a volume over its size, gets the container killed. A disk of 0 is not enforced.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskStatus_Reason } from '@meso/proto';
import type { ContainerLimits } from './limits.js';
import type { ContainerIsolator, Limitation, UsagePart } from './types.js';

/** A walk stops after this many entries (its figure is then a lower bound): bounded cost per sample. */
export const MAX_ENTRIES = 100_000;
const MB = 1024 * 1024;

/** Bytes allocated under `path` (like `du -s`); 0 when it does not exist. */
export async function diskUsage(path: string, skip: ReadonlySet<string> = new Set(), budget = { left: MAX_ENTRIES }): Promise<number> {
  let total = 0;
  const stack = [path];
  while (stack.length > 0 && budget.left > 0) {
    const p = stack.pop() as string;
    budget.left--;
    if (skip.has(p)) continue;
    let st;
    try {
      st = await lstat(p);
    } catch {
      continue;
    }
    total += st.blocks * 512;
    if (!st.isDirectory()) continue;
    try {
      for (const name of await readdir(p)) stack.push(join(p, name));
    } catch {
      // unreadable: counted as its own size only
    }
  }
  return total;
}

export function diskIsolator(o: { sandbox: string; watchIntervalMs: number }): ContainerIsolator {
  let last: { sandbox: number; volumes: number } | undefined;
  const measure = async (limits: ContainerLimits | undefined): Promise<{ sandbox: number; volumes: Array<{ path: string; used: number; bytes: number }> }> => {
    // Volumes shown in the sandbox (bind mounts) count as the volumes', not the sandbox's.
    const sandbox = await diskUsage(o.sandbox, new Set((limits?.volumes ?? []).map((v) => join(o.sandbox, v.containerPath))));
    const volumes = await Promise.all((limits?.volumes ?? []).map(async (v) => ({ ...v, used: await diskUsage(v.path) })));
    last = { sandbox, volumes: volumes.reduce((s, v) => s + v.used, 0) };
    return { sandbox, volumes };
  };
  let limitsSeen: ContainerLimits | undefined;
  return {
    name: 'disk/du',
    watchIntervalMs: o.watchIntervalMs,
    update: async (limits) => {
      limitsSeen = limits;
    },
    async usage(): Promise<UsagePart> {
      if (!last) await measure(limitsSeen);
      return { diskUsedBytes: (last?.sandbox ?? 0) + (last?.volumes ?? 0) };
    },
    async check(_pids, limits): Promise<Limitation | undefined> {
      const m = await measure(limits);
      if (limits.diskBytes > 0 && m.sandbox > limits.diskBytes) {
        return {
          reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION_DISK,
          message: `Disk usage (${(m.sandbox / MB).toFixed(1)} MB) exceeds the container's disk of ${(limits.diskBytes / MB).toFixed(0)} MB in its sandbox`,
        };
      }
      const over = m.volumes.find((v) => v.bytes > 0 && v.used > v.bytes);
      if (over) {
        return {
          reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION_DISK,
          message: `Disk usage of persistent volume ${over.path} (${(over.used / MB).toFixed(1)} MB) exceeds its size of ${(over.bytes / MB).toFixed(0)} MB`,
        };
      }
      return undefined;
    },
  };
}
