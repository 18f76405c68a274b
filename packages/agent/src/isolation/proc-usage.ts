// Usage of a set of processes from /proc (the posix isolators' view of a container).
import { readFile } from 'node:fs/promises';
import { USER_HZ } from './cgroup-files.js';

/** Cpu times (s) and resident memory (bytes) of one process; undefined when it is gone. */
export interface ProcessUsage {
  userSecs: number;
  systemSecs: number;
  rssBytes: number;
}

/** utime and stime (fields 14, 15 of /proc/<pid>/stat, in USER_HZ ticks) in seconds. Pure. */
export function parseStatTimes(stat: string): { userSecs: number; systemSecs: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { userSecs: utime / USER_HZ, systemSecs: stime / USER_HZ };
}

/**
 * The resident memory a process holds of its own, from /proc/<pid>/status, in bytes:
 * RssAnon + RssShmem — what a memory cgroup charges it for. Mapped files (the program's
 * binary and libraries: 40 MB for Node) are shared and reclaimable, and not counted.
 * VmRSS where the kernel gives no split (before 4.5); 0 for kernel threads and zombies. Pure.
 */
export function parseStatusRss(status: string): number {
  const kb = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
    return m ? Number(m[1]) : undefined;
  };
  const anon = kb('RssAnon');
  const total = anon !== undefined ? anon + (kb('RssShmem') ?? 0) : (kb('VmRSS') ?? 0);
  return total * 1024;
}

export async function processUsage(pid: number): Promise<ProcessUsage | undefined> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    const t = parseStatTimes(stat);
    return t ? { ...t, rssBytes: parseStatusRss(status) } : undefined;
  } catch {
    return undefined;
  }
}

/** The summed usage of `pids` (processes gone meanwhile count as nothing). */
export async function processesUsage(pids: number[]): Promise<ProcessUsage & { processes: number }> {
  const all = (await Promise.all(pids.map(processUsage))).filter((u): u is ProcessUsage => u !== undefined);
  return {
    userSecs: all.reduce((s, u) => s + u.userSecs, 0),
    systemSecs: all.reduce((s, u) => s + u.systemSecs, 0),
    rssBytes: all.reduce((s, u) => s + u.rssBytes, 0),
    processes: all.length,
  };
}
