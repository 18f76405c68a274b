import type { Clock, Logger, TimerHandle } from '@meso/proto';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { TaskTracker } from './task-tracker.js';
import type { ReconcileTask } from './types.js';

/**
 * Explicit reconciliation with truncated exponential backoff, as Mesos asks of every framework:
 * after each (re)subscription, ask the master for the latest state of every tracked task, then
 * ask again — after 1×, 2×, 4×, ... the initial delay, up to the maximum — for those not
 * answered yet, until none is left. Answers are any update for the task (reason RECONCILIATION
 * or newer), fed to the tracker by the scheduler.
 */
export class Reconciler {
  private timer: TimerHandle | undefined;
  private attempt = 0;
  private active = false;

  constructor(
    private readonly tracker: TaskTracker,
    private readonly send: (tasks: ReconcileTask[]) => Promise<void>,
    private readonly clock: Clock,
    private readonly policy: BackoffPolicy,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether a round is in progress (some task not answered yet). */
  get running(): boolean {
    return this.active;
  }

  /** A new round over every tracked task (after a (re)subscription). */
  start(): void {
    this.stop();
    const tasks = this.tracker.beginRound();
    if (tasks.length === 0) return;
    this.active = true;
    this.logger.info('reconciling tracked tasks', { tasks: tasks.length });
    this.fire(tasks);
  }

  /**
   * Adds tasks to reconcile (already marked unanswered in the tracker) and asks now; keeps the
   * round's retry timer if one runs. Resolves or rejects with the first send.
   */
  request(tasks: ReconcileTask[]): Promise<void> {
    const first = this.send(tasks);
    if (!this.active) {
      this.active = true;
      this.attempt = 0;
      this.schedule();
    }
    return first;
  }

  /** Stops retrying (disconnected or closed). Tracked tasks stay tracked. */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.active = false;
    this.attempt = 0;
  }

  private fire(tasks: ReconcileTask[]): void {
    this.send(tasks).catch((e: unknown) => this.logger.warn('reconcile call failed; will retry', { error: e }));
    this.schedule();
  }

  private schedule(): void {
    const delay = backoffDelay(this.policy, this.attempt++, this.random);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const pending = this.tracker.pending();
      if (pending.length === 0) {
        this.active = false;
        this.attempt = 0;
        this.logger.debug('reconciliation complete');
        return;
      }
      this.logger.info('reconciliation: tasks not answered yet, asking again', { tasks: pending.length });
      this.fire(pending);
    }, delay);
  }
}
