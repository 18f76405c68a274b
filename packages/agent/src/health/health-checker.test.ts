import { FakeClock } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { HealthChecker } from './health-checker.js';
import type { CheckResult, HealthPolicy, HealthReport } from './health-state.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

const policy: HealthPolicy = { delayMs: 1_000, intervalMs: 2_000, timeoutMs: 500, consecutiveFailures: 2, gracePeriodMs: 0 };

/** A checker whose checks the test answers by hand. */
function harness(p: HealthPolicy = policy) {
  const clock = new FakeClock();
  const reports: HealthReport[] = [];
  const calls: Array<{ signal: AbortSignal; answer: (r: CheckResult) => void }> = [];
  const checker = new HealthChecker({
    policy: p,
    clock,
    check: (signal) => new Promise((resolve) => calls.push({ signal, answer: resolve })),
    onReport: (r) => reports.push(r),
  });
  return { clock, reports, calls, checker };
}

describe('HealthChecker', () => {
  it('runs the first check after the delay and the next an interval after it ended', async () => {
    const h = harness();
    h.checker.start();
    h.clock.advance(999);
    expect(h.calls).toHaveLength(0);
    h.clock.advance(1);
    expect(h.calls).toHaveLength(1);
    h.clock.advance(300);
    h.calls[0]?.answer({ healthy: true, message: 'HTTP 200' });
    await flush();
    expect(h.reports).toEqual([{ healthy: true, message: 'HTTP 200' }]);
    h.clock.advance(1_999);
    expect(h.calls).toHaveLength(1);
    h.clock.advance(1);
    expect(h.calls).toHaveLength(2);
  });

  it('fails a check that outlives the timeout, aborts it and ignores its late answer', async () => {
    const h = harness();
    h.checker.start();
    h.clock.advance(1_000);
    h.clock.advance(500);
    expect(h.calls[0]?.signal.aborted).toBe(true);
    h.calls[0]?.answer({ healthy: true, message: 'too late' });
    await flush();
    expect(h.reports).toEqual([]);
    h.clock.advance(2_000);
    h.clock.advance(500);
    await flush();
    expect(h.reports).toEqual([{ healthy: false, message: '2 failed health checks in a row; last: timed out after 0.5 s' }]);
  });

  it('reads a rejected check as a failure', async () => {
    const clock = new FakeClock();
    const reports: HealthReport[] = [];
    const checker = new HealthChecker({ policy: { ...policy, consecutiveFailures: 1 }, clock, check: () => Promise.reject(new Error('boom')), onReport: (r) => reports.push(r) });
    checker.start();
    clock.advance(1_000);
    await flush();
    expect(reports).toEqual([{ healthy: false, message: '1 failed health check in a row; last: boom' }]);
    checker.stop();
  });

  it('stop() aborts the check in flight, drops its result and schedules nothing more', async () => {
    const h = harness();
    h.checker.start();
    h.clock.advance(1_000);
    h.checker.stop();
    expect(h.calls[0]?.signal.aborted).toBe(true);
    h.calls[0]?.answer({ healthy: true, message: 'HTTP 200' });
    await flush();
    h.clock.advance(60_000);
    expect(h.reports).toEqual([]);
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pending()).toBe(0);
  });
});
