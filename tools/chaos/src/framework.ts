import { OfferBuilder, Scheduler, isTerminalState, silentLogger, type Offer, type TaskStatus } from '@meso/sdk-scheduler';

/** One status update as a framework saw it. */
export interface SeenUpdate {
  state: string;
  reason?: string;
  source?: string;
  uuid?: string;
  /** Answer to a reconciliation (not part of the task's reliable update stream). */
  reconciliation: boolean;
  at: number;
}

/** Everything one framework knows about one task it launched. */
export interface TaskRecord {
  taskId: string;
  frameworkId: string;
  framework: string;
  kind: 'short' | 'long';
  command: string;
  launchedAt: number;
  /** Every update, in arrival order, across scheduler incarnations. */
  seen: SeenUpdate[];
  /** Why the ACCEPT failed, when it did (the outcome is then settled by reconciliation). */
  launchError?: string;
  /** A kill was asked for. */
  killed?: boolean;
}

/** States that end a task for a partition-aware framework; LOST/UNKNOWN end it as far as it knows. */
export function endsTask(state: string | undefined): boolean {
  return state !== undefined && (isTerminalState(state as TaskStatus['state']) || state === 'TASK_UNKNOWN' || state === 'TASK_LOST');
}

const LONG = 'echo $$ > task.pid; exec sleep 600';
const SHORT = ['sleep 0.2', 'sleep 0.7', 'true', 'exit 1'];

/**
 * A framework of the soak: keeps launching short and long tasks through the scheduler SDK
 * (checkpoint on, partition-aware, failover timeout of minutes), records every update per
 * task, and can be failed over (closed abruptly, re-connected with the same id).
 */
export class ChaosFramework {
  readonly tasks = new Map<string, TaskRecord>();
  frameworkId = '';
  /** Errors that ended a subscription (e.g. the framework removed): each is a violation. */
  readonly errors: string[] = [];
  launching = true;
  private scheduler: Scheduler | undefined;
  private loop: Promise<void> = Promise.resolve();
  private lastLaunch = 0;
  private seq = 0;
  private lastKill = Date.now();

  constructor(
    readonly name: string,
    private master: string,
    private readonly rnd: () => number,
    private readonly maxLong = 3,
  ) {}

  setMaster(address: string): void {
    this.master = address;
  }

  get connected(): boolean {
    return this.scheduler !== undefined;
  }

  async connect(): Promise<void> {
    const scheduler = await Scheduler.connect({
      master: this.master,
      framework: {
        name: this.name,
        ...(this.frameworkId ? { id: this.frameworkId } : {}),
        failoverTimeoutSeconds: 600,
        checkpoint: true,
        capabilities: ['PARTITION_AWARE'],
      },
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
      connectTimeoutMs: 60_000,
      closeTimeoutMs: 100,
      logger: silentLogger,
    });
    this.frameworkId = scheduler.frameworkId ?? '';
    this.scheduler = scheduler;
    this.loop = this.run(scheduler);
    // A new incarnation knows nothing: ask for the tasks this framework still thinks alive.
    await this.reconcile();
  }

  /** Closes the scheduler without tearing the framework down (a crash, as the master sees it). */
  async crash(): Promise<void> {
    const s = this.scheduler;
    this.scheduler = undefined;
    if (!s) return;
    await s.close().catch(() => undefined);
    await this.loop;
  }

  /** Explicit reconciliation of every task this framework does not know to be over. */
  async reconcile(): Promise<void> {
    const open = [...this.tasks.values()].filter((t) => !endsTask(latest(t)?.state)).map((t) => ({ taskId: t.taskId }));
    if (open.length > 0) await this.scheduler?.reconcile(open).catch(() => undefined);
  }

  private async run(scheduler: Scheduler): Promise<void> {
    try {
      for await (const e of scheduler.events()) {
        if (e.type === 'offers') await this.onOffers(scheduler, e.offers);
        else if (e.type === 'update') this.onUpdate(e.status);
        else if (e.type === 'error') this.errors.push(`${this.name}: the master ended the framework: ${e.code} ${e.message}`);
        if (this.scheduler === scheduler) await this.maybeKill(scheduler);
      }
    } catch (e) {
      this.errors.push(`${this.name}: event loop failed: ${(e as Error).message}`);
    }
    if (this.scheduler === scheduler) this.scheduler = undefined;
  }

  private onUpdate(status: TaskStatus): void {
    const t = this.tasks.get(status.taskId);
    if (!t) return; // e.g. an answer for a task of another incarnation's typo: not ours
    t.seen.push({
      state: status.state,
      ...(status.reason !== undefined ? { reason: status.reason } : {}),
      ...(status.source !== undefined ? { source: status.source } : {}),
      ...(status.uuid ? { uuid: status.uuid } : {}),
      reconciliation: status.reason === 'RECONCILIATION',
      at: Date.now(),
    });
  }

  private async onOffers(scheduler: Scheduler, offers: Offer[]): Promise<void> {
    const decline = async (o: Offer) => scheduler.decline(o.id, { refuseSeconds: 1 }).catch(() => undefined);
    const now = Date.now();
    if (!this.launching || now - this.lastLaunch < 1500) {
      for (const o of offers) await decline(o);
      return;
    }
    const [offer, ...rest] = offers;
    for (const o of rest) await decline(o);
    if (!offer) return;
    const liveLong = [...this.tasks.values()].filter((t) => t.kind === 'long' && !endsTask(latest(t)?.state) && !t.killed).length;
    const n = 1 + Math.floor(this.rnd() * 2);
    const builder = new OfferBuilder(offer);
    const specs = [];
    let longs = liveLong;
    for (let i = 0; i < n; i++) {
      const kind: 'short' | 'long' = longs < this.maxLong && this.rnd() < 0.35 ? 'long' : 'short';
      if (kind === 'long') longs++;
      const command = kind === 'long' ? LONG : (SHORT[Math.floor(this.rnd() * SHORT.length)] ?? 'true');
      const spec = { taskId: `${this.name}-${++this.seq}`, resources: { cpus: 0.1, mem: 32 }, command: { shell: command } };
      if (!builder.tryAdd(spec)) break;
      specs.push(spec);
      this.tasks.set(spec.taskId, { taskId: spec.taskId, frameworkId: this.frameworkId, framework: this.name, kind, command, launchedAt: now, seen: [] });
    }
    if (specs.length === 0) return decline(offer);
    this.lastLaunch = now;
    try {
      await scheduler.launch(offer, specs, { refuseSeconds: 1 });
    } catch (e) {
      for (const s of specs) {
        const t = this.tasks.get(s.taskId);
        if (t) t.launchError = (e as Error).message;
      }
    }
  }

  /** Now and then a long task is killed, so long tasks come and go too. */
  private async maybeKill(scheduler: Scheduler): Promise<void> {
    if (!this.launching || Date.now() - this.lastKill < 8000) return;
    this.lastKill = Date.now();
    const running = [...this.tasks.values()].filter((t) => t.kind === 'long' && !t.killed && latest(t)?.state === 'TASK_RUNNING');
    const victim = running[Math.floor(this.rnd() * running.length)];
    if (!victim) return;
    victim.killed = true;
    await scheduler.kill(victim.taskId).catch(() => {
      victim.killed = false;
    });
  }

  async close(): Promise<void> {
    await this.crash();
  }
}

/** The most recent update a framework saw for a task. */
export function latest(t: TaskRecord): SeenUpdate | undefined {
  return t.seen[t.seen.length - 1];
}
