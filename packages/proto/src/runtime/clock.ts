/** An opaque timer handle returned by a Clock. */
export interface TimerHandle {
  readonly id: number;
}

/**
 * Time as an input. Everything in Meso that waits, times out, backs off or schedules
 * takes a Clock, so tests drive time with `FakeClock` instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Node fires a timer longer than this (2^31 - 1 ms, about 24.8 days) at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private next = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const due = Date.now() + Math.max(0, ms);
    // Longer waits are chained in steps Node can hold, so a job due in years never fires now.
    const arm = (): void => {
      const wait = Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now()));
      const t = setTimeout(() => {
        if (Date.now() < due) {
          arm();
          return;
        }
        this.timers.delete(id);
        fn();
      }, wait);
      t.unref?.();
      this.timers.set(id, t);
    };
    arm();
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearTimeout(t);
    this.timers.delete(handle.id);
  }
}

/** The real clock. Its timers do not keep the process alive by themselves. */
export const systemClock: Clock = new SystemClock();

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told. `advance(ms)` fires every timer due within that
 * span, in due order (ties in the order they were set), with `now()` at each timer's time.
 */
export class FakeClock implements Clock {
  private time: number;
  private timers: FakeTimer[] = [];
  private nextId = 1;
  private seq = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ id, at: this.time + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  /** Timers waiting to fire. */
  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers (including ones set while advancing). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = target;
  }

  /** Sets the time (forward only) and fires what became due. */
  setTime(ms: number): void {
    if (ms > this.time) this.advance(ms - this.time);
  }
}
