import type { RetryPolicy, StragglerPolicy } from './job.js';

/**
 * Milliseconds to wait before the next attempt after `failures` counted failures (≥ 1): the
 * policy's delay (doubled per failure when exponential, capped at maxDelayMs), ± jitter.
 * `random` is an input (0..1) so the function stays pure.
 */
export function retryDelayMs(policy: RetryPolicy, failures: number, random: number): number {
  const n = Math.max(1, failures);
  const base = policy.backoff === 'fixed' ? policy.delayMs : Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.min(n - 1, 40));
  const jittered = base * (1 + policy.jitter * (2 * random - 1));
  return Math.max(0, Math.round(Math.min(jittered, policy.maxDelayMs * (1 + policy.jitter))));
}

/** The q-quantile (0..1) of `values` (nearest rank); undefined for none. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Instances of a group running far slower than the group: longer than `factor` × the
 * `quantile` of the finished instances' runtimes, once `minFinished` have finished. Pure:
 * returns the keys to kill and retry (a straggler's retry is not counted against maxRetries).
 */
export function findStragglers(policy: StragglerPolicy, finishedRuntimesMs: readonly number[], running: readonly { key: string; startedAt: number }[], now: number): string[] {
  if (finishedRuntimesMs.length < policy.minFinished) return [];
  const q = quantile(finishedRuntimesMs, policy.quantile);
  if (q === undefined) return [];
  const limit = Math.max(q * policy.factor, 1);
  return running.filter((r) => now - r.startedAt > limit).map((r) => r.key);
}
