import { FakeClock } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { healthPolicyOf, inGracePeriod, recordCheck, startHealth, type HealthPolicy, type HealthState } from './health-state.js';

/** delay 5 s, interval 10 s, timeout 2 s, 3 failures, grace 30 s — in ms. */
const policy = (extra: Partial<HealthPolicy> = {}): HealthPolicy => ({
  delayMs: 5_000,
  intervalMs: 10_000,
  timeoutMs: 2_000,
  consecutiveFailures: 3,
  gracePeriodMs: 30_000,
  ...extra,
});

/**
 * Runs checks at the times the machine schedules them (each check ends when due), with the
 * given results in order; returns each report as `seconds-after-start:healthy`.
 */
function run(p: HealthPolicy, results: boolean[]): { reports: string[]; state: HealthState; checkedAt: number[] } {
  const clock = new FakeClock();
  const start = clock.now();
  let state = startHealth(p, start);
  const reports: string[] = [];
  const checkedAt: number[] = [];
  for (const ok of results) {
    clock.setTime(state.nextCheckAt);
    checkedAt.push((clock.now() - start) / 1000);
    const step = recordCheck(p, state, { healthy: ok, message: ok ? 'HTTP 200' : 'HTTP 503' }, clock.now());
    state = step.state;
    if (step.report) reports.push(`${(clock.now() - start) / 1000}:${step.report.healthy}`);
  }
  return { reports, state, checkedAt };
}

const T = true;
const F = false;

describe('health-check state machine', () => {
  // Checks run at 5, 15, 25, 35, 45, 55, 65 ... s (delay 5, interval 10); grace ends at 30 s.
  const table: Array<{ name: string; p?: Partial<HealthPolicy>; results: boolean[]; reports: string[] }> = [
    { name: 'first success reports healthy once; later successes say nothing', results: [T, T, T, T], reports: ['5:true'] },
    { name: 'failures inside the grace period do not count', results: [F, F, F, T], reports: ['35:true'] },
    { name: 'the first success ends the grace period: failures count at once', results: [T, F, F, F], reports: ['5:true', '35:false'] },
    { name: 'failures after the grace period count without any success', results: [F, F, F, F, F, F], reports: ['55:false'] },
    { name: 'unhealthy is reported once however long it lasts', results: [T, F, F, F, F, F, F], reports: ['5:true', '35:false'] },
    { name: 'recovery reports healthy again; a new run of failures reports unhealthy again', results: [T, F, F, F, T, T, F, F, F], reports: ['5:true', '35:false', '45:true', '85:false'] },
    { name: 'a success resets the count: fewer than the limit in a row is still healthy', results: [T, F, F, T, F, F, T], reports: ['5:true'] },
    { name: 'limit 1: one counted failure is unhealthy', p: { consecutiveFailures: 1 }, results: [T, F, T], reports: ['5:true', '15:false', '25:true'] },
    { name: 'no grace period: the first failures count', p: { gracePeriodMs: 0 }, results: [F, F, F, T], reports: ['25:false', '35:true'] },
    { name: 'no delay: the first check is at once', p: { delayMs: 0, gracePeriodMs: 0 }, results: [T, F, F, F], reports: ['0:true', '30:false'] },
  ];
  for (const row of table) {
    it(row.name, () => {
      expect(run(policy(row.p), row.results).reports).toEqual(row.reports);
    });
  }

  it('schedules the first check after the delay and each next one an interval after the previous ended', () => {
    expect(run(policy(), [F, F, T, T]).checkedAt).toEqual([5, 15, 25, 35]);
    const p = policy();
    const state = startHealth(p, 1_000);
    // A check that ended late (it took its whole timeout): the next is an interval after that.
    expect(recordCheck(p, state, { healthy: true, message: '' }, 8_000).state.nextCheckAt).toBe(18_000);
  });

  it('counts only failures outside the grace period and names the last failure in the report', () => {
    const p = policy({ gracePeriodMs: 10_000, delayMs: 0, consecutiveFailures: 2 });
    let s = startHealth(p, 0);
    const inGrace = recordCheck(p, s, { healthy: false, message: 'refused' }, 9_999);
    expect(inGrace.counted).toBe(false);
    expect(inGrace.report).toBeUndefined();
    expect(inGracePeriod(p, inGrace.state, 9_999)).toBe(true);
    s = recordCheck(p, inGrace.state, { healthy: false, message: 'refused' }, 10_000).state;
    expect(s.consecutiveFailures).toBe(1);
    const second = recordCheck(p, s, { healthy: false, message: 'connection refused' }, 20_000);
    expect(second.report).toEqual({ healthy: false, message: '2 failed health checks in a row; last: connection refused' });
  });

  it("fills Mesos's defaults for what the scheduler left unset; zero delay and grace stay zero", () => {
    expect(healthPolicyOf({ type: 'TCP', port: 1, path: '', delaySeconds: 0, gracePeriodSeconds: 0 })).toEqual({
      delayMs: 0,
      intervalMs: 10_000,
      timeoutMs: 20_000,
      consecutiveFailures: 3,
      gracePeriodMs: 0,
    });
    expect(
      healthPolicyOf({ type: 'HTTP', port: 1, path: '/', delaySeconds: 15, intervalSeconds: 60, timeoutSeconds: 20, consecutiveFailures: 3, gracePeriodSeconds: 300 }),
    ).toEqual({ delayMs: 15_000, intervalMs: 60_000, timeoutMs: 20_000, consecutiveFailures: 3, gracePeriodMs: 300_000 });
  });
});
