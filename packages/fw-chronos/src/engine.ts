import { isTerminalState, type Clock, type Logger, type Offer, type Scheduler, type SchedulerEvent, type TaskStatus } from '@meso/sdk-scheduler';
import { readyDependents, type DagNode } from './dag.js';
import { ChronosError } from './errors.js';
import { normalizeJob, startingDeadlineMs, type Job } from './job.js';
import { ChronosMetrics, SampleWindow } from './metrics.js';
import { decideDueRuns } from './missed-runs.js';
import { placeRuns } from './placement.js';
import type { JobRecord, Repository } from './repository.js';
import { isRunFinished, isRunLaunched, runKey, taskIdOf, type RunRecord, type RunTrigger } from './run.js';
import { nextRunAfter, scheduleSpecOf, type ScheduleSpec } from './schedule.js';

/** The scheduler calls the engine makes (a `Scheduler` from `@meso/sdk-scheduler`). */
export type SchedulerCalls = Pick<Scheduler, 'events' | 'launch' | 'decline' | 'revive' | 'suppress' | 'kill' | 'reconcile'>;

/** Tuning of the engine; every field has a default in {@link ENGINE_DEFAULTS}. */
export interface EngineTuning {
  /** Revive offers this long before a run is due, so the launch does not wait for an offer cycle. Defaults to 5000 ms. */
  reviveLeadMs?: number;
  /** How long to wait for the master's answers to the start-up reconciliation before firing anyway. Defaults to 15000 ms. */
  reconcileTimeoutMs?: number;
  /** Offers are kept at most this long while work is expected, then declined for fresh ones. Defaults to 15000 ms. */
  offerHoldMs?: number;
  /** Finished runs kept per job in the ledger. Defaults to 100. */
  historyLimit?: number;
  /** At most this many missed runs are started by `catchUp` at once. Defaults to 100. */
  maxCatchUp?: number;
}

/** Defaults of {@link EngineTuning}. */
export const ENGINE_DEFAULTS: Required<EngineTuning> = {
  reviveLeadMs: 5000,
  reconcileTimeoutMs: 15_000,
  offerHoldMs: 15_000,
  historyLimit: 100,
  maxCatchUp: 100,
};

const NOT_LAUNCHED = new Set(['UNKNOWN_OFFER', 'TASK_DOES_NOT_FIT', 'RESOURCES_EXCEED_OFFER', 'NOT_CONNECTED', 'INVALID_OFFERS']);

/**
 * The job scheduler: fires due runs off the injected clock, writes each run to the ledger before
 * launching it, places runs in held offers, follows task states, retries, triggers dependents,
 * and plans offers ahead (revive before a run is due, suppress when idle). Decisions are the pure
 * functions of schedule.ts, missed-runs.ts, dag.ts and placement.ts; this class does the I/O.
 * Every event, timer and API call runs through one serial queue, so state changes never interleave.
 */
export class JobEngine {
  readonly metrics = new ChronosMetrics();
  private readonly tuning: Required<EngineTuning>;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly specs = new Map<string, ScheduleSpec | undefined>();
  private readonly nextDue = new Map<string, number>();
  private readonly active = new Map<string, RunRecord>();
  private readonly byTask = new Map<string, string>();
  private readonly history = new Map<string, number[]>();
  private readonly durations = new Map<string, SampleWindow>();
  private readonly offers = new Map<string, { offer: Offer; since: number }>();
  private readonly killRequested = new Set<string>();
  private readonly timedOut = new Set<string>();
  private readonly completionTimers = new Map<string, ReturnType<Clock['setTimeout']>>();
  private readonly awaitingReconcile = new Set<string>();
  private serialChain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private timerAt: number | undefined;
  private gateOpen = false;
  private gateDeadline = 0;
  /** Whether offers are suppressed; undefined until the first decision (a new subscription starts unsuppressed, but declines of an earlier process may still filter offers, so the first wish for offers always revives). */
  private suppressed: boolean | undefined = undefined;
  private closed = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly scheduler: SchedulerCalls,
    private readonly repo: Repository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    tuning: EngineTuning = {},
  ) {
    this.tuning = { ...ENGINE_DEFAULTS, ...tuning };
  }

  /**
   * Loads jobs and the ledger, asks the master about every run that may hold a task, and starts
   * following events. Nothing is fired or launched until the master answered (or
   * `reconcileTimeoutMs` passed).
   */
  async start(): Promise<void> {
    for (const record of await this.repo.loadJobs()) this.indexJob(record);
    for (const run of await this.repo.loadRuns()) {
      if (isRunFinished(run.state)) {
        if (run.state === 'SUCCEEDED' && run.start !== undefined && run.end !== undefined) this.durationWindow(run.job).add(run.end - run.start);
        this.remember(run);
        continue;
      }
      this.track(run);
    }
    const toReconcile = [...this.active.values()].filter((r) => isRunLaunched(r.state) && r.taskId);
    for (const r of toReconcile) this.awaitingReconcile.add(r.taskId!);
    this.loop = this.consume();
    if (toReconcile.length > 0) {
      this.logger.info(`reconciling ${toReconcile.length} task(s) from the ledger before firing anything`);
      this.gateDeadline = this.clock.now() + this.tuning.reconcileTimeoutMs;
      await this.scheduler.reconcile(toReconcile.map((r) => ({ taskId: r.taskId!, ...(r.agentId ? { agentId: r.agentId } : {}) }))).catch((e) => this.logger.warn(`reconcile failed: ${(e as Error).message}`));
    } else {
      this.gateOpen = true;
    }
    await this.serial(() => this.tick());
  }

  /** Stops timers and the event loop (the scheduler itself is closed by the caller). */
  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    for (const t of this.completionTimers.values()) this.clock.clearTimeout(t);
    await this.serialChain.catch(() => undefined);
    await this.repo.flush();
  }

  /** Resolves when the event loop ended (after the scheduler closed). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  // ---- API ---------------------------------------------------------------------------------

  /** Creates or replaces a job (POST /iso8601, /dependency). Throws INVALID_JOB; nothing stored then. */
  upsertJob(input: unknown, kind?: 'scheduled' | 'dependent'): Promise<Job> {
    return this.serial(async () => {
      const now = this.clock.now();
      const name = (input as { name?: unknown })?.name;
      const previous = typeof name === 'string' ? this.jobs.get(name) : undefined;
      const existing = new Map([...this.jobs].filter(([n]) => n !== name).map(([n, r]) => [n, r.job]));
      const job = normalizeJob(input, { existing, now, ...(previous ? { previous: previous.job } : {}), ...(kind ? { kind } : {}) });
      const record: JobRecord = previous
        ? { ...previous, job, cursor: Math.max(previous.cursor, now - 1) }
        : { job, createdAt: now, cursor: now - 1, dependencyCursor: now };
      await this.repo.apply({ type: 'putJob', record });
      this.indexJob(record);
      await this.tick();
      return job;
    });
  }

  /** Deletes a job and its ledger (DELETE /job/{name}); kills its running tasks. */
  deleteJob(name: string): Promise<void> {
    return this.serial(async () => {
      this.requireJob(name);
      const dependents = [...this.jobs.values()].filter((r) => r.job.parents.includes(name)).map((r) => r.job.name);
      if (dependents.length > 0) throw new ChronosError('HAS_DEPENDENTS', `job '${name}' has dependents (${dependents.join(', ')}); delete them first`);
      for (const [key, run] of [...this.active]) {
        if (run.job !== name) continue;
        if (run.taskId && isRunLaunched(run.state)) await this.scheduler.kill(run.taskId).catch(() => undefined);
        this.untrack(key, run);
      }
      await this.repo.apply({ type: 'deleteJob', name });
      this.jobs.delete(name);
      this.specs.delete(name);
      this.nextDue.delete(name);
      this.history.delete(name);
      this.durations.delete(name);
      this.armTimer();
    });
  }

  /** Starts a run now (PUT /job/{name}), optionally with other arguments. */
  runNow(name: string, args?: string[]): Promise<RunRecord> {
    return this.serial(async () => {
      this.requireJob(name);
      const run = await this.createRun(name, this.clock.now(), 'manual', args);
      await this.tick();
      return run;
    });
  }

  /** Marks the job's latest run a success and fires its dependents (PUT /job/success/{name}). */
  markSuccess(name: string): Promise<void> {
    return this.serial(async () => {
      this.requireJob(name);
      await this.countSuccess(name);
      await this.tick();
    });
  }

  /** Kills the job's running tasks (DELETE /task/kill/{name}); they are not retried. */
  killTasks(name: string): Promise<number> {
    return this.serial(async () => {
      this.requireJob(name);
      let killed = 0;
      for (const [key, run] of [...this.active]) {
        if (run.job !== name) continue;
        if (run.taskId && isRunLaunched(run.state)) {
          this.killRequested.add(run.taskId);
          await this.scheduler.kill(run.taskId).catch((e) => this.logger.warn(`kill ${run.taskId}: ${(e as Error).message}`));
          killed++;
        } else {
          run.state = 'FAILED';
          run.message = 'killed before launch';
          run.end = this.clock.now();
          await this.repo.apply({ type: 'updateRun', run });
          this.untrack(key, run);
          this.remember(run);
        }
      }
      return killed;
    });
  }

  listJobs(): Job[] {
    return [...this.jobs.values()].map((r) => r.job).sort((a, b) => a.name.localeCompare(b.name));
  }

  getJob(name: string): Job | undefined {
    return this.jobs.get(name)?.job;
  }

  /** The job's runs from the ledger, oldest first. */
  async runsOf(name: string): Promise<RunRecord[]> {
    this.requireJob(name);
    await this.repo.flush();
    return this.repo.loadRuns(name);
  }

  /** Durations (ms) of the job's latest successful runs. */
  durationsOf(name: string): readonly number[] {
    return this.durations.get(name)?.values() ?? [];
  }

  /** The next scheduled time of a job, if any. */
  nextRunOf(name: string): number | undefined {
    return this.nextDue.get(name);
  }

  /** Point-in-time gauges for /metrics. */
  gauges(): Record<string, number> {
    const runs = [...this.active.values()];
    return {
      chronos_jobs: this.jobs.size,
      chronos_runs_queued: runs.filter((r) => r.state === 'QUEUED').length,
      chronos_runs_retry_wait: runs.filter((r) => r.state === 'RETRY_WAIT').length,
      chronos_runs_launched: runs.filter((r) => isRunLaunched(r.state)).length,
      chronos_offers_held: this.offers.size,
      chronos_suppressed: this.suppressed ? 1 : 0,
      chronos_reconciled: this.gateOpen ? 1 : 0,
    };
  }

  // ---- the serial queue, timers ------------------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serialChain.then(fn);
    this.serialChain = next.catch(() => undefined);
    return next;
  }

  private armTimer(): void {
    if (this.closed) return;
    const now = this.clock.now();
    let at = Infinity;
    if (!this.gateOpen) at = this.gateDeadline;
    else {
      for (const t of this.nextDue.values()) at = Math.min(at, this.suppressed !== false ? t - this.tuning.reviveLeadMs : t);
      for (const r of this.active.values()) {
        if (r.state === 'RETRY_WAIT') at = Math.min(at, (r.notBefore ?? now) - (this.suppressed !== false ? this.tuning.reviveLeadMs : 0), r.notBefore ?? now);
        if (r.state === 'QUEUED' && r.trigger === 'schedule' && r.attempt === 1 && this.jobs.get(r.job)?.job.missedRunPolicy === 'skip') {
          at = Math.min(at, r.scheduledFor + this.deadlineOf(r.job) + 1);
        }
      }
      for (const o of this.offers.values()) at = Math.min(at, o.since + this.tuning.offerHoldMs);
    }
    if (at === this.timerAt && this.timer) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      void this.serial(() => this.tick()).catch((e) => this.logger.error(`tick failed: ${(e as Error).stack ?? String(e)}`));
    }, Math.max(0, at - now));
  }

  /** Fires what is due, starts retries, places queued runs, plans offers, re-arms the timer. */
  private async tick(): Promise<void> {
    if (this.closed) return;
    const now = this.clock.now();
    if (!this.gateOpen && now >= this.gateDeadline && this.gateDeadline > 0) {
      this.logger.warn(`no answer from the master for ${this.awaitingReconcile.size} task(s) after ${this.tuning.reconcileTimeoutMs} ms; firing anyway`);
      this.openGate();
    }
    if (this.gateOpen) {
      const due = [...this.nextDue].filter(([, t]) => t <= now).map(([name]) => name);
      await Promise.all(due.map((name) => this.fireDue(name, now)));
      for (const run of this.active.values()) {
        if (run.state === 'RETRY_WAIT' && (run.notBefore ?? 0) <= now) {
          run.state = 'QUEUED';
          await this.repo.apply({ type: 'updateRun', run });
        }
      }
      await this.expireSkippable(now);
      await this.placeQueued(now);
    }
    await this.planOffers(now);
    this.armTimer();
  }

  private openGate(): void {
    this.gateOpen = true;
    this.awaitingReconcile.clear();
  }

  // ---- firing ------------------------------------------------------------------------------

  private deadlineOf(name: string): number {
    const job = this.jobs.get(name)?.job;
    return job ? startingDeadlineMs(job) : 0;
  }

  private async fireDue(name: string, now: number): Promise<void> {
    const record = this.jobs.get(name);
    const spec = this.specs.get(name);
    if (!record || !spec) return;
    const job = record.job;
    const decision = decideDueRuns({ spec, cursor: record.cursor, now, policy: job.missedRunPolicy, startingDeadlineMs: startingDeadlineMs(job), maxCatchUp: this.tuning.maxCatchUp });
    if (decision.skipped > 0) {
      const at = decision.latestSkipped ?? record.cursor + 1;
      const skipped: RunRecord = { job: name, scheduledFor: at, trigger: 'schedule', attempt: 1, state: 'SKIPPED', skippedCount: decision.skipped, end: now, message: `missed ${decision.skipped} scheduled run(s) (policy ${job.missedRunPolicy}, starting deadline ${job.epsilon})`, attempts: [] };
      if (await this.repo.apply({ type: 'createRun', run: skipped })) this.remember(skipped);
      job.skippedCount += decision.skipped;
      this.metrics.counters.runsSkipped += decision.skipped;
      this.logger.warn(`job ${name}: ${skipped.message}`);
    }
    await Promise.all(decision.fire.map((t) => this.createRun(name, t, 'schedule')));
    record.cursor = decision.cursor ?? record.cursor;
    await this.repo.apply({ type: 'putJob', record });
    this.updateNextDue(name);
  }

  /** Writes a new run to the ledger (refused if one exists for that time: never twice) and queues it. */
  private async createRun(name: string, scheduledFor: number, trigger: RunTrigger, args?: string[]): Promise<RunRecord> {
    let at = scheduledFor;
    for (let i = 0; ; i++) {
      const run: RunRecord = { job: name, scheduledFor: at, trigger, attempt: 1, state: 'QUEUED', attempts: [], ...(args ? { arguments: args } : {}) };
      if (await this.repo.apply({ type: 'createRun', run })) {
        this.track(run);
        this.metrics.counters.runsStarted++;
        return run;
      }
      // A scheduled time already in the ledger was fired before (e.g. before a crash): never again.
      if (trigger === 'schedule' || i >= 10) return run;
      at++; // manual and dependency runs at the same millisecond: take the next one
    }
  }

  /** Queued runs under `skip` that missed their starting deadline are given up, on the record. */
  private async expireSkippable(now: number): Promise<void> {
    for (const [key, run] of [...this.active]) {
      if (run.state !== 'QUEUED' || run.trigger !== 'schedule' || run.attempt !== 1) continue;
      const job = this.jobs.get(run.job)?.job;
      if (!job || job.missedRunPolicy !== 'skip' || now - run.scheduledFor <= startingDeadlineMs(job)) continue;
      run.state = 'SKIPPED';
      run.skippedCount = 1;
      run.end = now;
      run.message = `could not start within the starting deadline ${job.epsilon}`;
      await this.repo.apply({ type: 'updateRun', run });
      job.skippedCount++;
      this.metrics.counters.runsSkipped++;
      this.untrack(key, run);
      this.remember(run);
      await this.saveJob(run.job);
    }
  }

  // ---- offers and launches -----------------------------------------------------------------

  private async placeQueued(now: number): Promise<void> {
    if (this.offers.size === 0) return;
    const busy = new Set([...this.active.values()].filter((r) => isRunLaunched(r.state)).map((r) => r.job));
    const candidates: RunRecord[] = [];
    for (const run of [...this.active.values()].sort((a, b) => a.scheduledFor - b.scheduledFor)) {
      if (run.state !== 'QUEUED' || (run.notBefore ?? 0) > now) continue;
      const job = this.jobs.get(run.job)?.job;
      if (!job) continue;
      if (!job.concurrent) {
        if (busy.has(run.job)) continue;
        busy.add(run.job);
      }
      candidates.push(run);
    }
    if (candidates.length === 0) return;
    const placements = placeRuns(candidates, [...this.offers.values()].map((o) => o.offer), (n) => this.jobs.get(n)?.job);
    await Promise.all(
      placements.map(async (p) => {
        this.offers.delete(p.offer.id);
        for (const run of p.runs) {
          run.state = 'STAGING';
          run.taskId = taskIdOf(run);
          run.agentId = p.offer.agentId;
          run.launchedAt = now;
          this.byTask.set(run.taskId, runKey(run.job, run.scheduledFor));
        }
        // The ledger says STAGING with the task id before the master hears of the task.
        await Promise.all(p.runs.map((run) => this.repo.apply({ type: 'updateRun', run })));
        this.metrics.counters.launches += p.tasks.length;
        try {
          await this.scheduler.launch(p.offer, p.tasks, { refuseSeconds: 1 });
        } catch (e) {
          const code = (e as { code?: string }).code ?? '';
          this.logger.warn(`launch of ${p.tasks.map((t) => t.taskId).join(', ')} failed: ${code} ${(e as Error).message}`);
          if (!NOT_LAUNCHED.has(code)) return; // outcome unknown: the SDK reconciles these tasks
          for (const run of p.runs) {
            this.byTask.delete(run.taskId!);
            run.state = 'QUEUED';
            delete run.taskId;
            await this.repo.apply({ type: 'updateRun', run });
          }
        }
      }),
    );
  }

  /** Revive a little before work is due, hold offers while it is, decline and suppress when idle. */
  private async planOffers(now: number): Promise<void> {
    const lead = this.tuning.reviveLeadMs;
    let wanted = false;
    if (this.gateOpen) {
      for (const r of this.active.values()) {
        if (r.state === 'QUEUED' || (r.state === 'RETRY_WAIT' && (r.notBefore ?? 0) - now <= lead)) wanted = true;
      }
      if (!wanted) for (const t of this.nextDue.values()) if (t - now <= lead) wanted = true;
    }
    const stale = [...this.offers.values()].filter((o) => !wanted || now - o.since >= this.tuning.offerHoldMs).map((o) => o.offer.id);
    if (stale.length > 0) {
      for (const id of stale) this.offers.delete(id);
      await this.scheduler.decline(stale, { refuseSeconds: wanted ? 1 : 30 }).catch(() => undefined);
    }
    if (wanted && this.suppressed !== false) {
      await this.scheduler.revive().then(() => {
        this.suppressed = false;
        this.metrics.counters.revives++;
      }, (e) => this.logger.warn(`revive failed: ${(e as Error).message}`));
    } else if (!wanted && this.suppressed !== true) {
      await this.scheduler.suppress().then(() => {
        this.suppressed = true;
        this.metrics.counters.suppresses++;
      }, (e) => this.logger.warn(`suppress failed: ${(e as Error).message}`));
    }
  }

  // ---- events ------------------------------------------------------------------------------

  private async consume(): Promise<void> {
    try {
      for await (const event of this.scheduler.events()) {
        if (this.closed) break;
        await this.serial(() => this.onEvent(event)).catch((e) => this.logger.error(`handling ${event.type} failed: ${(e as Error).stack ?? String(e)}`));
      }
    } catch (e) {
      if (!this.closed) this.logger.error(`event stream failed: ${(e as Error).message}`);
    }
  }

  private async onEvent(event: SchedulerEvent): Promise<void> {
    const now = this.clock.now();
    switch (event.type) {
      case 'offers':
        for (const offer of event.offers) this.offers.set(offer.id, { offer, since: now });
        if (this.gateOpen) await this.placeQueued(now);
        await this.planOffers(now);
        this.armTimer();
        return;
      case 'rescind':
        this.offers.delete(event.offerId);
        return;
      case 'update':
        await this.onStatus(event.status);
        return;
      case 'subscribed':
      case 'disconnected':
        this.offers.clear(); // offers from before are void
        if (event.type === 'subscribed' && event.reconnected) await this.tick();
        return;
      case 'error':
        this.logger.error(`the master ended the framework: ${event.code} ${event.message}`);
        return;
      default:
        return;
    }
  }

  private async onStatus(status: TaskStatus): Promise<void> {
    const now = this.clock.now();
    const { taskId, state } = status;
    if (this.awaitingReconcile.delete(taskId) && this.awaitingReconcile.size === 0 && !this.gateOpen) {
      this.logger.info('start-up reconciliation answered; firing');
      this.openGate();
      queueMicrotask(() => void this.serial(() => this.tick()));
    }
    const key = this.byTask.get(taskId);
    const run = key ? this.active.get(key) : undefined;
    if (!run || run.taskId !== taskId) {
      if (!isTerminalState(state)) {
        this.logger.warn(`killing task ${taskId}: no run of a known job holds it`);
        await this.scheduler.kill(taskId, status.agentId ? { agentId: status.agentId } : {}).catch(() => undefined);
      }
      return;
    }
    if (status.agentId) run.agentId = status.agentId;
    if (state === 'TASK_RUNNING') {
      if (run.state === 'RUNNING') return;
      run.state = 'RUNNING';
      run.start = now;
      if (run.attempt === 1 && run.lateMs === undefined && run.trigger === 'schedule') {
        run.lateMs = now - run.scheduledFor;
        this.metrics.recordLateness(run.job, run.lateMs);
      }
      await this.repo.apply({ type: 'updateRun', run });
      const job = this.jobs.get(run.job)?.job;
      if (job && job.maxCompletionTime > 0) {
        this.completionTimers.set(taskId, this.clock.setTimeout(() => {
          this.completionTimers.delete(taskId);
          this.timedOut.add(taskId);
          this.logger.warn(`task ${taskId} exceeded maxCompletionTime ${job.maxCompletionTime} s; killing it`);
          void this.scheduler.kill(taskId).catch(() => undefined);
        }, job.maxCompletionTime * 1000));
      }
      return;
    }
    if (!isTerminalState(state)) return;
    // A task the master never heard of, found by start-up reconciliation: the launch never
    // happened (we crashed between writing STAGING and launching). Launch the same attempt again.
    if (run.state === 'STAGING' && status.reason === 'RECONCILIATION' && (state === 'TASK_LOST' || state === 'TASK_UNKNOWN' || state === 'TASK_GONE' || state === 'TASK_DROPPED')) {
      this.byTask.delete(taskId);
      run.state = 'QUEUED';
      delete run.taskId;
      await this.repo.apply({ type: 'updateRun', run });
      await this.tick();
      return;
    }
    await this.finishAttempt(key!, run, status, now);
  }

  private async finishAttempt(key: string, run: RunRecord, status: TaskStatus, now: number): Promise<void> {
    const taskId = status.taskId;
    this.clock.clearTimeout(this.completionTimers.get(taskId));
    this.completionTimers.delete(taskId);
    this.byTask.delete(taskId);
    const timedOut = this.timedOut.delete(taskId);
    const killed = this.killRequested.delete(taskId);
    const success = status.state === 'TASK_FINISHED' && !timedOut;
    const message = timedOut ? 'maxCompletionTime exceeded' : status.message;
    run.attempts.push({ attempt: run.attempt, taskId, state: status.state, ...(run.start !== undefined ? { start: run.start } : {}), end: now, ...(status.exitCode !== undefined ? { exitStatus: status.exitCode } : {}), ...(message ? { message } : {}) });
    run.end = now;
    if (status.exitCode !== undefined) run.exitStatus = status.exitCode;
    if (message) run.message = message;
    const record = this.jobs.get(run.job);
    const job = record?.job;
    if (success) {
      run.state = 'SUCCEEDED';
      await this.repo.apply({ type: 'updateRun', run });
      this.untrack(key, run);
      this.remember(run);
      if (run.start !== undefined) this.durationWindow(run.job).add(now - run.start);
      this.metrics.counters.runsSucceeded++;
      await this.countSuccess(run.job);
    } else if (job && !killed && !job.disabled && run.attempt <= job.retries) {
      this.metrics.counters.attemptsFailed++;
      this.metrics.counters.retries++;
      const delay = job.retryDelaySeconds * 1000 * job.retryBackoff ** (run.attempt - 1);
      run.attempt++;
      run.state = 'RETRY_WAIT';
      run.notBefore = now + delay;
      delete run.taskId;
      delete run.start;
      await this.repo.apply({ type: 'updateRun', run });
      job.retryCount++;
      await this.saveJob(run.job);
      this.logger.info(`job ${run.job}: attempt ${run.attempt - 1} ended ${status.state}; retry ${run.attempt - 1}/${job.retries} in ${delay} ms`);
    } else {
      this.metrics.counters.attemptsFailed++;
      this.metrics.counters.runsFailed++;
      run.state = 'FAILED';
      await this.repo.apply({ type: 'updateRun', run });
      this.untrack(key, run);
      this.remember(run);
      if (job) {
        job.errorCount++;
        job.errorsSinceLastSuccess++;
        job.lastError = new Date(now).toISOString();
        if (job.disableAfterFailures > 0 && job.errorsSinceLastSuccess >= job.disableAfterFailures && !job.disabled) {
          job.disabled = true;
          this.logger.warn(`job ${run.job} disabled after ${job.errorsSinceLastSuccess} failed runs in a row`);
        }
        await this.saveJob(run.job);
      }
    }
    await this.tick();
  }

  /** Success counters, then the dependents whose parents all succeeded since their last run. */
  private async countSuccess(name: string): Promise<void> {
    const record = this.jobs.get(name);
    if (!record) return;
    const now = this.clock.now();
    record.job.successCount++;
    record.job.errorsSinceLastSuccess = 0;
    record.job.lastSuccess = new Date(now).toISOString();
    await this.saveJob(name);
    const nodes = new Map<string, DagNode>([...this.jobs].map(([n, r]) => [n, this.dagNode(r)]));
    for (const child of readyDependents(name, nodes)) {
      const childRecord = this.jobs.get(child)!;
      childRecord.dependencyCursor = now;
      await this.saveJob(child);
      this.logger.info(`job ${child}: all parents succeeded; running it`);
      await this.createRun(child, now, 'dependency');
    }
  }

  private dagNode(r: JobRecord): DagNode {
    const t = (iso: string): number | undefined => (iso ? Date.parse(iso) : undefined);
    return { name: r.job.name, parents: r.job.parents, disabled: r.job.disabled, lastSuccessAt: t(r.job.lastSuccess), lastErrorAt: t(r.job.lastError), dependencyCursor: r.dependencyCursor };
  }

  // ---- bookkeeping -------------------------------------------------------------------------

  private requireJob(name: string): JobRecord {
    const r = this.jobs.get(name);
    if (!r) throw new ChronosError('JOB_NOT_FOUND', `job '${name}' not found`);
    return r;
  }

  private async saveJob(name: string): Promise<void> {
    const record = this.jobs.get(name);
    if (record) await this.repo.apply({ type: 'putJob', record });
  }

  private indexJob(record: JobRecord): void {
    this.jobs.set(record.job.name, record);
    let spec: ScheduleSpec | undefined;
    try {
      spec = scheduleSpecOf(record.job);
    } catch (e) {
      this.logger.error(`job ${record.job.name}: stored schedule no longer parses: ${(e as Error).message}`);
    }
    this.specs.set(record.job.name, spec);
    this.updateNextDue(record.job.name);
  }

  private updateNextDue(name: string): void {
    const record = this.jobs.get(name);
    const spec = this.specs.get(name);
    const next = record && spec && !record.job.disabled ? nextRunAfter(spec, record.cursor) : undefined;
    if (next === undefined) this.nextDue.delete(name);
    else this.nextDue.set(name, next);
  }

  private track(run: RunRecord): void {
    const key = runKey(run.job, run.scheduledFor);
    this.active.set(key, run);
    if (run.taskId) this.byTask.set(run.taskId, key);
  }

  private untrack(key: string, run: RunRecord): void {
    this.active.delete(key);
    if (run.taskId) this.byTask.delete(run.taskId);
  }

  private durationWindow(name: string): SampleWindow {
    let w = this.durations.get(name);
    if (!w) this.durations.set(name, (w = new SampleWindow(100)));
    return w;
  }

  /** Notes a finished run and trims the job's ledger to `historyLimit` finished runs. */
  private remember(run: RunRecord): void {
    let list = this.history.get(run.job);
    if (!list) this.history.set(run.job, (list = []));
    list.push(run.scheduledFor);
    while (list.length > this.tuning.historyLimit) {
      const old = list.shift()!;
      void this.repo.apply({ type: 'deleteRun', job: run.job, scheduledFor: old }).catch(() => undefined);
    }
  }
}
