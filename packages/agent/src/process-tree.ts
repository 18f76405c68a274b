import { readdir, readFile } from 'node:fs/promises';

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

/** The descendants of `pid` (from /proc/<pid>/task/<tid>/children), nearest first; empty where that is not available. */
export async function descendantsOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0 && out.length < 10_000) {
    const p = queue.shift() as number;
    const tids = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const tid of tids) {
      const children = await readFile(`/proc/${p}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const c of children.split(' ')) {
        const child = Number(c);
        if (!Number.isInteger(child) || child <= 1 || seen.has(child)) continue;
        seen.add(child);
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/**
 * Signals the process groups of `pid`'s descendants that carry `name=value` (a command
 * task is the leader of a group of its own, below the wrapper that records its exit).
 */
export async function signalDescendantGroups(pid: number, name: string, value: string, signal: NodeJS.Signals): Promise<void> {
  const needle = Buffer.from(`\u0000${name}=${value}\u0000`);
  const groups = new Set<number>();
  for (const p of await descendantsOf(pid)) {
    const env = await readFile(`/proc/${p}/environ`).catch(() => undefined);
    if (!env || !Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]).includes(needle)) continue;
    const group = await processGroupOf(p);
    if (group !== undefined && group !== pid) groups.add(group);
  }
  for (const g of groups) signalGroup(g, signal);
}
