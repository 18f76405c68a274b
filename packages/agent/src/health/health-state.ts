// The health-check state machine: pure (no I/O, no timers), time as an input. The
// HealthChecker drives it with a clock and real checks; tests drive it with tables.
//
//   started ──delay──▶ check ──interval──▶ check ──interval──▶ ...
//   grace period: from the start until its end or the first success, whichever comes
//   first; failures inside it do not count.
//
// Reports (never the same health twice in a row):
//   healthy=true   on the first success, and on the first success after an unhealthy report;
//   healthy=false  when consecutive counted failures reach the limit.
import type { HealthCheck } from '@meso/sdk-executor';

/** Mesos's defaults for what a scheduler left unset (proto3 sends 0). */
export const HEALTH_CHECK_DEFAULTS = {
  intervalSeconds: 10,
  timeoutSeconds: 20,
  consecutiveFailures: 3,
} as const;

/** How a task's health is checked, in milliseconds. */
export interface HealthPolicy {
  /** From the task's start to the first check. */
  delayMs: number;
  /** From the end of one check to the start of the next. */
  intervalMs: number;
  /** How long one check may take; a check that takes longer fails. */
  timeoutMs: number;
  /** Counted failures in a row that make the task unhealthy (at least 1). */
  consecutiveFailures: number;
  /** From the task's start; failures inside it do not count, the first success ends it. */
  gracePeriodMs: number;
}

/** The policy of a task's health check, with Mesos's defaults for what was left unset. */
export function healthPolicyOf(check: HealthCheck): HealthPolicy {
  const seconds = (value: number | undefined, fallback: number): number => (value !== undefined && value > 0 ? value : fallback);
  return {
    delayMs: Math.max(0, check.delaySeconds) * 1000,
    intervalMs: seconds(check.intervalSeconds, HEALTH_CHECK_DEFAULTS.intervalSeconds) * 1000,
    timeoutMs: seconds(check.timeoutSeconds, HEALTH_CHECK_DEFAULTS.timeoutSeconds) * 1000,
    consecutiveFailures: Math.max(1, Math.floor(seconds(check.consecutiveFailures, HEALTH_CHECK_DEFAULTS.consecutiveFailures))),
    gracePeriodMs: Math.max(0, check.gracePeriodSeconds) * 1000,
  };
}

/** What one check found. */
export interface CheckResult {
  healthy: boolean;
  /** Why, for people: "HTTP 503", "exited with status 1", "timed out after 20 s". */
  message: string;
}

/** A change of health to send (as a TASK_RUNNING update with `healthy` set). */
export interface HealthReport {
  healthy: boolean;
  message: string;
}

/** Where the health of one task stands. */
export interface HealthState {
  /** When the task started (ms); the delay and the grace period count from here. */
  readonly startedAt: number;
  /** When the next check is due (ms). */
  readonly nextCheckAt: number;
  /** Whether a check has succeeded yet (which ends the grace period). */
  readonly succeeded: boolean;
  /** Counted failures since the last success. */
  readonly consecutiveFailures: number;
  /** The health last reported; undefined before the first report. */
  readonly reported: boolean | undefined;
}

/** The outcome of one check. */
export interface HealthStep {
  state: HealthState;
  /** Set when the health changed and must be reported. */
  report?: HealthReport;
  /** Whether a failure counted (false for successes and for failures inside the grace period). */
  counted: boolean;
}

/** The state of a task that started at `now`: the first check is due after the delay. */
export function startHealth(policy: HealthPolicy, now: number): HealthState {
  return { startedAt: now, nextCheckAt: now + policy.delayMs, succeeded: false, consecutiveFailures: 0, reported: undefined };
}

/** Whether failures at `now` are hidden by the grace period. */
export function inGracePeriod(policy: HealthPolicy, state: HealthState, now: number): boolean {
  return !state.succeeded && now < state.startedAt + policy.gracePeriodMs;
}

/** Applies the result of a check that ended at `now`; the next check is due an interval later. */
export function recordCheck(policy: HealthPolicy, state: HealthState, result: CheckResult, now: number): HealthStep {
  const nextCheckAt = now + policy.intervalMs;
  if (result.healthy) {
    const next: HealthState = { ...state, nextCheckAt, succeeded: true, consecutiveFailures: 0, reported: true };
    if (state.reported === true) return { state: next, counted: false };
    return { state: next, report: { healthy: true, message: result.message }, counted: false };
  }
  if (inGracePeriod(policy, state, now)) {
    return { state: { ...state, nextCheckAt }, counted: false };
  }
  const failures = state.consecutiveFailures + 1;
  const unhealthy = failures >= policy.consecutiveFailures;
  const next: HealthState = { ...state, nextCheckAt, consecutiveFailures: failures, reported: unhealthy ? false : state.reported };
  if (!unhealthy || state.reported === false) return { state: next, counted: true };
  return { state: next, report: { healthy: false, message: `${failures} failed health check${failures === 1 ? '' : 's'} in a row; last: ${result.message}` }, counted: true };
}
