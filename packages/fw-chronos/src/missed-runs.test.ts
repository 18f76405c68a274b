import { describe, expect, it } from 'vitest';
import { decideDueRuns } from './missed-runs.js';
import { scheduleSpecOf } from './schedule.js';

const spec = scheduleSpecOf({ schedule: 'R/2026-01-01T00:00:00Z/PT10S' })!;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const s = (n: number): number => T0 + n * 1000;

describe('decideDueRuns', () => {
  it.each([
    // policy, cursor, now, deadline → fire, skipped, cursor
    ['runOnce', 0, 10.2, 60, [10], 0, 10], // on time: the due run
    ['skip', 0, 10.2, 60, [10], 0, 10],
    ['catchUp', 0, 10.2, 60, [10], 0, 10],
    ['runOnce', 10, 15, 60, [], 0, 10], // nothing due
    ['runOnce', 0, 95, 5, [90], 0, 90], // 9 missed, one run for all of them
    ['skip', 0, 95, 5, [90], 8, 90], // exactly at the deadline is still on time
    ['skip', 0, 96, 5, [], 9, 90], // 6 s late: skipped, all 9 counted
    ['skip', 0, 92, 5, [90], 8, 90], // latest on time, 8 older skipped
    ['catchUp', 0, 95, 5, [10, 20, 30, 40, 50, 60, 70, 80, 90], 0, 90],
  ] as const)('%s cursor=%ss now=%ss deadline=%ss', (policy, cursor, now, deadline, fire, skipped, newCursor) => {
    const d = decideDueRuns({ spec, cursor: s(cursor), now: s(now), policy, startingDeadlineMs: deadline * 1000 });
    expect(d.fire).toEqual(fire.map(s));
    expect(d.skipped).toBe(skipped);
    expect(d.cursor).toBe(s(newCursor));
  });

  it('catchUp stops at maxCatchUp and counts the rest as skipped', () => {
    const d = decideDueRuns({ spec, cursor: s(0), now: s(100), policy: 'catchUp', startingDeadlineMs: 0, maxCatchUp: 3 });
    expect(d.fire).toEqual([s(10), s(20), s(30)]);
    expect(d.skipped).toBe(7);
    expect(d.latestSkipped).toBe(s(100));
    expect(d.cursor).toBe(s(100));
  });

  it('skip names the latest skipped time for the ledger', () => {
    expect(decideDueRuns({ spec, cursor: s(0), now: s(92), policy: 'skip', startingDeadlineMs: 5000 }).latestSkipped).toBe(s(80));
    expect(decideDueRuns({ spec, cursor: s(0), now: s(99), policy: 'skip', startingDeadlineMs: 5000 }).latestSkipped).toBe(s(90));
  });
});
