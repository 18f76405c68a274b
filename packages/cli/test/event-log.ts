import type { Offer, Scheduler, SchedulerEvent, TaskStatus } from '@meso/sdk-scheduler';
import { waitFor } from '@meso/testing';

/** Collects a scheduler's events so a test can wait for the one it needs. */
export class EventLog {
  readonly events: SchedulerEvent[] = [];
  private readonly done: Promise<void>;

  constructor(readonly scheduler: Scheduler) {
    this.done = (async () => {
      for await (const e of scheduler.events()) this.events.push(e);
    })();
  }

  offers(): Offer[] {
    return this.events.flatMap((e) => (e.type === 'offers' ? e.offers : []));
  }

  async offer(what: string, match: (o: Offer) => boolean): Promise<Offer> {
    return waitFor(what, () => this.offers().find(match));
  }

  async status(taskId: string, state: TaskStatus['state']): Promise<TaskStatus> {
    return waitFor(`${taskId} ${state}`, () =>
      this.events.flatMap((e) => (e.type === 'update' ? [e.status] : [])).find((s) => s.taskId === taskId && s.state === state),
    );
  }

  async close(): Promise<void> {
    await this.scheduler.close();
    await this.done;
  }
}
