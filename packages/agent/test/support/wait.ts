import { readdirSync, readFileSync } from 'node:fs';

/** Polls `probe` until it returns something other than undefined/false, or fails after the deadline. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: { timeoutMs?: number; what: string; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}

/**
 * Whether a process group still has a live member (zombies, dead but not yet reaped by
 * init, do not count). Reads /proc.
 */
export function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** Whether a process exists (zombies count as gone only once reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
