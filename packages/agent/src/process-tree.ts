import { readdir, readFile } from 'node:fs/promises';

/**
 * Pids of live processes whose environment holds `name=value` (read from
 * /proc/<pid>/environ; processes we may not read are skipped). Empty where /proc does
 * not exist. This is how the posix isolator finds every process of an executor run,
 * including tasks that left the executor's process group or were orphaned.
 */
export async function pidsWithVariable(name: string, value: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const needle = Buffer.from(`\u0000${name}=${value}\u0000`);
  const out: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const pid = Number(e);
        if (pid === process.pid) return;
        try {
          const env = await readFile(`/proc/${e}/environ`);
          if (Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]).includes(needle)) out.push(pid);
        } catch {
          // gone, or not ours to read
        }
      }),
  );
  return out.sort((a, b) => a - b);
}

/** Sends a signal to a process group; false when there is no such group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to one process; false when it does not exist. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The process group of a pid (from /proc/<pid>/stat), or undefined. */
export async function processGroupOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp ... — comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    return Number.isInteger(pgrp) && pgrp > 0 ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

/** The start time of a process (clock ticks since boot, field 22 of /proc/<pid>/stat), or undefined. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after comm start at field 3 (state): starttime (22) is index 19.
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still the process it was: alive (not a zombie) and carrying
 * `name=value` in its environment — or, where its environment cannot be read, started at
 * `startTime`. A pid reused by another process is not.
 */
export async function isSameProcess(pid: number, name: string, value: string, startTime: string | undefined): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return false;
  try {
    const env = await readFile(`/proc/${pid}/environ`);
    return Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]).includes(Buffer.from(`\u0000${name}=${value}\u0000`));
  } catch {
    return startTime !== undefined && fields[19] === startTime;
  }
}
