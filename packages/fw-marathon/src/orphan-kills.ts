/**
 * When to kill a task fw-marathon has no record of (an orphan, or a task it expunged) again.
 *
 * Every update that says such a task lives is a reason to kill it, but the master answers a
 * kill of a task on an unreachable agent with the task's state (TASK_UNREACHABLE): killing on
 * each answer would loop with the master as fast as both can go. So a task is killed at most
 * once per backoff window: the first kill at once, the next no sooner than `firstWaitMs`
 * later, each wait doubling up to `maxWaitMs`. Pure: the caller passes the time.
 */
export class OrphanKills {
  private readonly entries = new Map<string, { at: number; waitMs: number }>();

  constructor(
    private readonly firstWaitMs: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Whether to kill `taskId` now; when true the kill is recorded and the next wait doubles. */
  due(taskId: string, now: number): boolean {
    const e = this.entries.get(taskId);
    if (e && now < e.at + e.waitMs) return false;
    this.record(taskId, now);
    return true;
  }

  /** Records a kill sent outside `due` (a task just forgotten: expunged). */
  record(taskId: string, now: number): void {
    const e = this.entries.get(taskId);
    this.entries.set(taskId, { at: now, waitMs: e ? Math.min(e.waitMs * 2, this.maxWaitMs) : this.firstWaitMs });
  }

  /** The task ended (a terminal or unknown state): nothing more to kill. */
  forget(taskId: string): void {
    this.entries.delete(taskId);
  }

  /** Drops the tasks killed longer than twice the longest wait ago (no longer reported). */
  prune(now: number): void {
    for (const [id, e] of this.entries) if (now - e.at > 2 * this.maxWaitMs) this.entries.delete(id);
  }

  /** How many tasks are remembered. */
  get size(): number {
    return this.entries.size;
  }
}
