/**
 * Servers that fail to start (exit before they ever answered: a port taken by another process,
 * a bad redis-server, a full disk) are not relaunched in a tight loop: each instance backs off,
 * doubling from half a second to 30 s, until one of its new servers answers; and the port that
 * failed on that address is not picked again for a minute. Pure bookkeeping; the clock is an input.
 */

/** Consecutive failed starts of one instance. */
export interface FailedStarts {
  count: number;
  lastAt: number;
  message: string;
}

/** Milliseconds to wait after `count` consecutive failed starts. */
export const startBackoffMs = (count: number): number => (count <= 0 ? 0 : Math.min(30_000, 500 * 2 ** (count - 1)));

/** How long a port that failed is avoided on its address. */
export const BAD_PORT_MS = 60_000;

/** Whether an instance may get new servers now, or why not. */
export function backingOff(f: FailedStarts | undefined, nowMs: number): string | undefined {
  if (!f) return undefined;
  const until = f.lastAt + startBackoffMs(f.count);
  if (nowMs >= until) return undefined;
  return `backing off ${((until - nowMs) / 1000).toFixed(1)} s after ${f.count} server(s) failed to start (last: ${f.message})`;
}
