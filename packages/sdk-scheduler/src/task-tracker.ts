import { isTerminalState, type TaskState } from './task-state.js';
import type { ReconcileTask, TaskStatus } from './types.js';

/** A task the SDK keeps an eye on for reconciliation. */
export interface TrackedTask {
  taskId: string;
  agentId?: string;
  /** The latest state seen (TASK_STAGING right after launch). */
  state: TaskState;
  /** Whether the master answered since the last reconciliation round asked about it. */
  answered: boolean;
}

/**
 * The framework's live tasks as the SDK knows them: every task it launched or saw a
 * non-terminal update for. A terminal update (or TASK_UNKNOWN: the master never heard of it)
 * forgets the task. Pure bookkeeping; `Reconciler` drives the rounds.
 */
export class TaskTracker {
  private readonly tasks = new Map<string, TrackedTask>();

  /** Starts tracking (or refreshes) a task; `answered: false` puts it into the next round. */
  track(taskId: string, options: { agentId?: string; state?: TaskState; answered?: boolean } = {}): void {
    const prev = this.tasks.get(taskId);
    if (!prev) {
      this.tasks.set(taskId, {
        taskId,
        ...(options.agentId ? { agentId: options.agentId } : {}),
        state: options.state ?? 'TASK_STAGING',
        answered: options.answered ?? true,
      });
      return;
    }
    // Updated in place: called for every status update, so no copy per call.
    if (options.agentId) prev.agentId = options.agentId;
    if (options.state) prev.state = options.state;
    if (options.answered !== undefined) prev.answered = options.answered;
  }

  untrack(taskId: string): void {
    this.tasks.delete(taskId);
  }

  /** Takes a status update (from the stream): it answers any question about the task. */
  observe(status: TaskStatus): void {
    if (isTerminalState(status.state) || status.state === 'TASK_UNKNOWN') {
      this.tasks.delete(status.taskId);
      return;
    }
    this.track(status.taskId, { ...(status.agentId ? { agentId: status.agentId } : {}), state: status.state, answered: true });
  }

  get(taskId: string): TrackedTask | undefined {
    const t = this.tasks.get(taskId);
    return t ? { ...t } : undefined;
  }

  /** Every tracked task. */
  list(): TrackedTask[] {
    return [...this.tasks.values()].map((t) => ({ ...t }));
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Marks every tracked task unanswered and returns them all (a new reconciliation round). */
  beginRound(): ReconcileTask[] {
    for (const t of this.tasks.values()) t.answered = false;
    return this.pending();
  }

  /** Tasks asked about and not answered yet. */
  pending(): ReconcileTask[] {
    return [...this.tasks.values()].filter((t) => !t.answered).map((t) => ({ taskId: t.taskId, ...(t.agentId ? { agentId: t.agentId } : {}) }));
  }
}
