/** Truncated exponential backoff: the delay doubles from `initialDelayMs` up to `maxDelayMs`. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): the truncated exponential
 * `min(max, initial × 2^attempt)`, with "equal jitter" — a uniformly random point in its upper
 * half — so that many schedulers losing one master do not come back in step.
 * `random` returns a number in [0, 1) (`Math.random` by default; tests pass a constant).
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 52));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
