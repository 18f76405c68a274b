import { describe, expect, it } from 'vitest';
import { OrphanKills } from './orphan-kills.js';

describe('OrphanKills', () => {
  it('kills at once, then waits 5 s, 10 s, 20 s ... up to the cap between kills', () => {
    const k = new OrphanKills(5_000, 20_000);
    const killedAt: number[] = [];
    for (let now = 0; now <= 100_000; now += 100) if (k.due('t', now)) killedAt.push(now);
    // waits: 5 s, 10 s, 20 s (cap), 20 s, ...
    expect(killedAt).toEqual([0, 5_000, 15_000, 35_000, 55_000, 75_000, 95_000]);
  });

  it('an update every millisecond does not kill more often', () => {
    const k = new OrphanKills(5_000, 300_000);
    let kills = 0;
    for (let now = 0; now < 4_000; now++) if (k.due('t', now)) kills++;
    expect(kills).toBe(1);
  });

  it('a recorded kill (expunge) counts: the next update within the wait does not kill', () => {
    const k = new OrphanKills(5_000, 300_000);
    k.record('t', 0);
    expect(k.due('t', 10)).toBe(false);
    expect(k.due('t', 5_000)).toBe(true);
  });

  it('tasks are independent; forget restarts the backoff; prune drops tasks no longer reported', () => {
    const k = new OrphanKills(5_000, 20_000);
    expect(k.due('a', 0)).toBe(true);
    expect(k.due('b', 1)).toBe(true);
    k.forget('a');
    expect(k.due('a', 2)).toBe(true);
    k.prune(40_001);
    expect(k.size).toBe(2);
    k.prune(40_002);
    expect(k.size).toBe(1);
    k.prune(40_003);
    expect(k.size).toBe(0);
  });
});
