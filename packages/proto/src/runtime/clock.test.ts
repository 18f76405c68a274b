import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';

describe('FakeClock', () => {
  it('fires timers in due order with now() at their time, including ones set while advancing', () => {
    const clock = new FakeClock(0);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 20);
    clock.setTimeout(() => {
      seen.push(['a', clock.now()]);
      clock.setTimeout(() => seen.push(['c', clock.now()]), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => seen.push(['x', clock.now()]), 15);
    clock.clearTimeout(cancelled);
    clock.advance(30);
    expect(seen).toEqual([
      ['a', 10],
      ['c', 15],
      ['b', 20],
    ]);
    expect(clock.now()).toBe(30);
    expect(clock.pending()).toBe(0);
  });
});
