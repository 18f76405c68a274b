import { Scheduler, silentLogger, type Offer, type TaskSpec } from '@meso/sdk-scheduler';

/** What a load framework places and how. */
export interface LoadFrameworkOptions {
  name: string;
  master: string;
  /** Tasks to place in all. */
  tasks: number;
  /** Resources of each task. */
  cpus: number;
  mem: number;
  /** The task's shell command. */
  command: string;
  /** At most this many tasks per offer (spreads tasks over agents). Defaults to as many as fit. */
  maxPerOffer?: number;
  /**
   * Offers not needed are declined for this many seconds. Defaults to 3600, and the framework
   * suppresses once its tasks are placed; with 0 it declines at once and never suppresses
   * (keeping the allocator busy).
   */
  declineSeconds?: number;
}

/**
 * A framework of the benchmarks, on the scheduler SDK like any other: launches its tasks
 * into every offer until all are placed (then declines for an hour and suppresses), and
 * records when each task was accepted, RUNNING and terminal, and every SUBSCRIBED.
 */
export class LoadFramework {
  readonly acceptedAt = new Map<string, number>();
  readonly runningAt = new Map<string, number>();
  readonly endedAt = new Map<string, number>();
  readonly subscribedAt: number[] = [];
  readonly errors: string[] = [];
  private placed = 0;
  private seq = 0;
  private loop: Promise<void> = Promise.resolve();
  private suppressed = false;

  private constructor(
    readonly o: LoadFrameworkOptions,
    readonly scheduler: Scheduler,
  ) {}

  static async start(o: LoadFrameworkOptions): Promise<LoadFramework> {
    const scheduler = await Scheduler.connect({
      master: o.master,
      framework: { name: o.name, failoverTimeoutSeconds: 3600 },
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      connectTimeoutMs: 120_000,
      callTimeoutMs: 120_000,
      closeTimeoutMs: 200,
      logger: silentLogger,
    });
    const fw = new LoadFramework(o, scheduler);
    fw.loop = fw.run();
    return fw;
  }

  get frameworkId(): string {
    return this.scheduler.frameworkId;
  }

  private async run(): Promise<void> {
    try {
      for await (const e of this.scheduler.events()) {
        const now = performance.now();
        if (e.type === 'subscribed') this.subscribedAt.push(now);
        else if (e.type === 'offers') this.onOffers(e.offers, now);
        else if (e.type === 'update') {
          const id = e.status.taskId;
          if (e.status.state === 'TASK_RUNNING' && !this.runningAt.has(id)) this.runningAt.set(id, now);
          else if (['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED'].includes(e.status.state) && !this.endedAt.has(id)) {
            this.endedAt.set(id, now);
            if (e.status.state !== 'TASK_FINISHED' && e.status.state !== 'TASK_KILLED') this.errors.push(`${id}: ${e.status.state} ${e.status.message ?? ''}`);
          }
        } else if (e.type === 'error') this.errors.push(`${this.o.name}: ${e.code} ${e.message}`);
      }
    } catch (e) {
      this.errors.push(`${this.o.name}: event loop: ${(e as Error).message}`);
    }
  }

  private onOffers(offers: Offer[], now: number): void {
    const spare: string[] = [];
    for (const offer of offers) {
      const left = this.o.tasks - this.placed;
      const fit = Math.floor(Math.min(offer.resources.scalar('cpus') / this.o.cpus, offer.resources.scalar('mem') / this.o.mem) + 1e-9);
      const n = Math.min(left, fit, this.o.maxPerOffer ?? Number.POSITIVE_INFINITY);
      if (n <= 0) {
        spare.push(offer.id);
        continue;
      }
      const specs: TaskSpec[] = [];
      for (let i = 0; i < n; i++) {
        const taskId = `${this.o.name}-${++this.seq}`;
        specs.push({ taskId, resources: { cpus: this.o.cpus, mem: this.o.mem }, command: { shell: this.o.command } });
        this.acceptedAt.set(taskId, now);
      }
      this.placed += n;
      this.scheduler.launch(offer, specs, { refuseSeconds: 0.05 }).catch((e: unknown) => this.errors.push(`launch: ${(e as Error).message}`));
    }
    const declineSeconds = this.o.declineSeconds ?? 3600;
    if (spare.length > 0) this.scheduler.decline(spare, { refuseSeconds: declineSeconds }).catch(() => undefined);
    if (this.placed >= this.o.tasks && !this.suppressed && declineSeconds > 0) {
      this.suppressed = true;
      this.scheduler.suppress().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.scheduler.close().catch(() => undefined);
    await this.loop;
  }
}
