import { readdir, readFile } from 'node:fs/promises';

/**
 * Fault helpers for process-level tests: signals to a pid, liveness, and finding the
 * processes a test left behind (executors and tasks run detached, so killing an agent
 * with SIGKILL orphans them; they still carry their sandbox path in MESO_SANDBOX).
 */

/** True when a process with this pid exists (and is not a zombie we could reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

/** Sends `signal` to `pid`; false when there is no such process. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Pids of this user's live processes whose environment mentions `needle` (e.g. a work dir). */
export async function pidsWithEnvironment(needle: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const bytes = Buffer.from(needle);
  const out: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
      .map(async (e) => {
        try {
          const env = await readFile(`/proc/${e}/environ`);
          if (env.includes(bytes)) out.push(Number(e));
        } catch {
          // gone, or not ours to read
        }
      }),
  );
  return out.sort((a, b) => a - b);
}

/** SIGKILLs every process whose environment mentions one of `dirs`; returns how many. */
export async function killStrays(dirs: readonly string[]): Promise<number> {
  let n = 0;
  for (const dir of dirs) {
    for (const pid of await pidsWithEnvironment(dir)) if (signal(pid, 'SIGKILL')) n++;
  }
  return n;
}
