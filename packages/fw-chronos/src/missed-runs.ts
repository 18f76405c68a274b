import { runsBetween, type ScheduleSpec } from './schedule.js';

/**
 * What to do with runs whose time passed while they could not start (fw-chronos was down, the
 * timer fired late, ...):
 * - `skip`: only the latest due run may start, and only within the starting deadline (Chronos 2);
 * - `runOnce`: one run for any number of missed times (Chronos 3; the default);
 * - `catchUp`: every missed run, oldest first (up to `maxCatchUp`).
 * Nothing is dropped silently: every skipped time is counted and recorded in the ledger.
 */
export type MissedRunPolicy = 'skip' | 'runOnce' | 'catchUp';

/** The missed-run policies, for validation. */
export const MISSED_RUN_POLICIES: readonly MissedRunPolicy[] = ['skip', 'runOnce', 'catchUp'];

/** The decision for one job at one instant. */
export interface DueDecision {
  /** Scheduled times to start now, oldest first. */
  fire: number[];
  /** How many scheduled times are given up. */
  skipped: number;
  /** The latest of them (for the ledger), if any. */
  latestSkipped: number | undefined;
  /** The new cursor: the latest scheduled time now handled (unchanged when nothing was due). */
  cursor: number | undefined;
}

/**
 * Decides which runs to start at `now` given the last handled scheduled time (`cursor`),
 * the policy and the starting deadline. Pure: same inputs, same answer.
 */
export function decideDueRuns(input: {
  spec: ScheduleSpec;
  cursor: number;
  now: number;
  policy: MissedRunPolicy;
  startingDeadlineMs: number;
  maxCatchUp?: number;
}): DueDecision {
  const { spec, cursor, now, policy, startingDeadlineMs } = input;
  const maxCatchUp = input.maxCatchUp ?? 100;
  const due = runsBetween(spec, cursor, now, policy === 'catchUp' ? maxCatchUp : 0);
  if (due.count === 0 || due.latest === undefined) return { fire: [], skipped: 0, latestSkipped: undefined, cursor };
  const latest = due.latest;
  switch (policy) {
    case 'skip': {
      const onTime = now - latest <= startingDeadlineMs;
      const fire = onTime ? [latest] : [];
      const skipped = due.count - fire.length;
      const latestSkipped = skipped === 0 ? undefined : onTime ? runsBetween(spec, cursor, latest - 1, 0).latest : latest;
      return { fire, skipped, latestSkipped, cursor: latest };
    }
    case 'runOnce':
      return { fire: [latest], skipped: 0, latestSkipped: undefined, cursor: latest };
    case 'catchUp': {
      const fire = due.times.slice(0, maxCatchUp);
      const skipped = due.count - fire.length;
      return { fire, skipped, latestSkipped: skipped > 0 ? latest : undefined, cursor: latest };
    }
  }
}

