import type { Clock, TimerHandle } from '@meso/proto';
import { recordCheck, startHealth, type CheckResult, type HealthPolicy, type HealthReport, type HealthState } from './health-state.js';

/**
 * One check: resolves with what it found and never rejects (a rejection reads as a
 * failure). It must stop its I/O (kill its process, close its socket) when `signal` aborts.
 */
export type CheckRun = (signal: AbortSignal) => Promise<CheckResult>;

/** What a {@link HealthChecker} needs. */
export interface HealthCheckerOptions {
  policy: HealthPolicy;
  clock: Clock;
  /** Runs one check; aborted when it exceeds the policy's timeout or the checker stops. */
  check: CheckRun;
  /** Called on each change of health (never twice in a row with the same health). */
  onReport(report: HealthReport): void;
  log?(message: string): void;
}

/**
 * Runs a task's checks on a clock — one at a time, each bounded by the timeout — and feeds
 * their results to the state machine in health-state.ts. Start it once the task is running;
 * stop it when the task is killed or exits (an in-flight check is aborted and its result
 * dropped).
 */
export class HealthChecker {
  private state: HealthState | undefined;
  private timer: TimerHandle | undefined;
  private inflight: AbortController | undefined;
  private stopped = false;

  constructor(private readonly o: HealthCheckerOptions) {}

  /** Starts the checks; the first runs after the policy's delay. */
  start(): void {
    if (this.state || this.stopped) return;
    this.state = startHealth(this.o.policy, this.o.clock.now());
    this.schedule();
  }

  /** Stops for good: no further check, no further report. */
  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight?.abort();
    this.inflight = undefined;
  }

  private schedule(): void {
    if (this.stopped || !this.state) return;
    const clock = this.o.clock;
    this.timer = clock.setTimeout(() => void this.runOnce(), Math.max(0, this.state.nextCheckAt - clock.now()));
  }

  private async runOnce(): Promise<void> {
    if (this.stopped || !this.state) return;
    const result = await this.checkWithTimeout();
    if (this.stopped || !this.state) return;
    const step = recordCheck(this.o.policy, this.state, result, this.o.clock.now());
    this.state = step.state;
    if (!result.healthy) this.o.log?.(`health check failed${step.counted ? ` (${step.state.consecutiveFailures} in a row)` : ' (in the grace period)'}: ${result.message}`);
    if (step.report) this.o.onReport(step.report);
    this.schedule();
  }

  private checkWithTimeout(): Promise<CheckResult> {
    const clock = this.o.clock;
    const controller = new AbortController();
    this.inflight = controller;
    const timeoutMs = this.o.policy.timeoutMs;
    return new Promise<CheckResult>((resolve) => {
      let settled = false;
      const settle = (result: CheckResult): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        if (this.inflight === controller) this.inflight = undefined;
        resolve(result);
      };
      const timer = clock.setTimeout(() => {
        controller.abort();
        settle({ healthy: false, message: `timed out after ${timeoutMs / 1000} s` });
      }, timeoutMs);
      this.o.check(controller.signal).then(
        (result) => settle(result),
        (e: unknown) => settle({ healthy: false, message: (e as Error)?.message ?? String(e) }),
      );
    });
  }
}
