import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock, MAX_TIMER_MS, systemClock } from './clock.js';

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

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out delays longer than Node can hold in one timer, instead of firing at once', () => {
    vi.useFakeTimers({ now: 0 });
    let fired = 0;
    systemClock.setTimeout(() => fired++, MAX_TIMER_MS + 60_000);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(MAX_TIMER_MS - 1000);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(fired).toBe(1);
  });

  it('cancels a chained timer', () => {
    vi.useFakeTimers({ now: 0 });
    let fired = 0;
    const handle = systemClock.setTimeout(() => fired++, MAX_TIMER_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    systemClock.clearTimeout(handle);
    vi.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(fired).toBe(0);
  });
});
