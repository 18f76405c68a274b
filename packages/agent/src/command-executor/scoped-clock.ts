import type { Clock, TimerHandle } from '@meso/proto';

/**
 * A clock whose timers can all be cancelled at once: an executor hosted in the agent
 * process is dropped (the agent detaches from its task) by disposing of its clock, so none
 * of its timers (heartbeat, kill grace, health checks) fires afterwards.
 */
export class ScopedClock implements Clock {
  private readonly live = new Set<TimerHandle>();
  private disposed = false;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (this.disposed) return { id: -1 };
    const handle = this.base.setTimeout(() => {
      this.live.delete(handle);
      fn();
    }, ms);
    this.live.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.live.delete(handle);
    this.base.clearTimeout(handle);
  }

  /** Cancels every pending timer; later ones never fire. */
  dispose(): void {
    this.disposed = true;
    for (const h of this.live) this.base.clearTimeout(h);
    this.live.clear();
  }
}
