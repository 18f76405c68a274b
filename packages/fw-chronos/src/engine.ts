import { isTerminalState, type Clock, type Logger, type Scheduler, type SchedulerEvent, type TaskStatus } from '@meso/sdk-scheduler';
import { readyDependents, type DagNode } from './dag.js';
import { ChronosError } from './errors.js';
import { normalizeJob, startingDeadlineMs, type Job } from './job.js';
import { ChronosMetrics, SampleWindow } from './metrics.js';
import { decideDueRuns } from './missed-runs.js';
import { OfferPlanner } from './offer-planner.js';
import { offersWanted, placeRuns } from './placement.js';
import type { Command, JobRecord, Repository } from './repository.js';
import { isRunFinished, isRunLaunched, runKey, taskIdOf, type RunRecord, type RunTrigger } from './run.js';
import { nextRunAfter, scheduleSpecOf, type ScheduleSpec } from './schedule.js';

/** The scheduler calls the engine makes (a `Scheduler` from `@meso/sdk-scheduler`). */
export type SchedulerCalls = Pick<Scheduler, 'events' | 'launch' | 'decline' | 'revive' | 'suppress' | 'kill' | 'reconcile' | 'acknowledge'>;

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

/**
 * The longest a timer is set for: Node's timers overflow past 2^31 ms (a job due in 2099 would
 * fire at once, in a loop); waking once a minute also follows wall-clock jumps.
 */
const MAX_TIMER_MS = 60_000;

/** Answers to reconciliation meaning the master has no such task. */
const NEVER_LAUNCHED = new Set(['TASK_LOST', 'TASK_UNKNOWN', 'TASK_GONE', 'TASK_DROPPED']);

const NOT_LAUNCHED = new Set(['UNKNOWN_OFFER', 'TASK_DOES_NOT_FIT', 'RESOURCES_EXCEED_OFFER', 'NOT_CONNECTED', 'INVALID_OFFERS']);

/** A copy of a run as it is now, for a write that happens later. */
function snapshot(run: RunRecord): RunRecord {
  return { ...run, attempts: [...run.attempts] };
}

/**
 * The job scheduler: fires due runs off the injected clock, writes each run to the ledger before
 * launching it, places runs in held offers, follows task states, retries, triggers dependents,
 * and plans offers ahead (revive before a run is due, suppress when idle). Decisions are the pure
 * functions of schedule.ts, missed-runs.ts, dag.ts and placement.ts; this class does the I/O.
 *
 * Concurrency model: every state change happens synchronously in memory (so changes never
 * interleave), and starts the durable writes it needs; anything the outside world may act on
 * waits for those writes — a launch waits for the run's STAGING entry (and for the
 * compare-and-set that makes the run the only one for its scheduled time), a status update is
 * acknowledged only once its effects are durable, an API call answers once its write is done.
 * Writes to different keys proceed in parallel.
 */
export class JobEngine {
  readonly metrics = new ChronosMetrics();
  private readonly tuning: Required<EngineTuning>;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly specs = new Map<string, ScheduleSpec | undefined>();
  private readonly nextDue = new Map<string, number>();
  private readonly active = new Map<string, RunRecord>();
  /** Outcome of the compare-and-set that created each active run's ledger entry. */
  private readonly created = new Map<string, Promise<boolean>>();
  private readonly byTask = new Map<string, string>();
  private readonly history = new Map<string, number[]>();
  private readonly durations = new Map<string, SampleWindow>();
  private readonly offers: OfferPlanner;
  private readonly killRequested = new Set<string>();
  private readonly timedOut = new Set<string>();
  private readonly completionTimers = new Map<string, ReturnType<Clock['setTimeout']>>();
  private readonly awaitingReconcile = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private timerAt: number | undefined;
  private gateOpen = false;
  private gateDeadline = 0;
  private closed = false;
  private tickRequested = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly scheduler: SchedulerCalls,
    private readonly repo: Repository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    tuning: EngineTuning = {},
  ) {
    this.tuning = { ...ENGINE_DEFAULTS, ...tuning };
    this.offers = new OfferPlanner(scheduler, this.metrics, logger, this.tuning.offerHoldMs);
  }

  /**
   * Loads jobs and the ledger, asks the master about every run that may hold a task, and starts
   * following events (acknowledging each update once its effects are durable: connect the
   * scheduler with `autoAcknowledge: false`). Nothing is fired or launched until the master
   * answered (or `reconcileTimeoutMs` passed).
   */
  async start(): Promise<void> {
    for (const record of await this.repo.loadJobs()) this.indexJob(record);
    for (const run of await this.repo.loadRuns()) {
      const record = this.jobs.get(run.job);
      if (record && run.trigger === 'schedule' && run.scheduledFor > record.cursor) record.cursor = run.scheduledFor;
      if (isRunFinished(run.state)) {
        if (run.state === 'SUCCEEDED' && run.start !== undefined && run.end !== undefined) this.durationWindow(run.job).add(run.end - run.start);
        this.remember(run);
        continue;
      }
      this.track(run);
      this.created.set(runKey(run.job, run.scheduledFor), Promise.resolve(true));
    }
    for (const name of this.jobs.keys()) this.updateNextDue(name);
    const toReconcile = [...this.active.values()].filter((r) => (isRunLaunched(r.state) || r.state === 'QUEUED') && r.taskId);
    for (const r of toReconcile) this.awaitingReconcile.add(r.taskId!);
    this.loop = this.consume();
    if (toReconcile.length > 0) {
      this.logger.info(`reconciling ${toReconcile.length} task(s) from the ledger before firing anything`);
      this.gateDeadline = this.clock.now() + this.tuning.reconcileTimeoutMs;
      await this.scheduler.reconcile(toReconcile.map((r) => ({ taskId: r.taskId!, ...(r.agentId ? { agentId: r.agentId } : {}) }))).catch((e) => this.logger.warn(`reconcile failed: ${(e as Error).message}`));
    } else {
      this.gateOpen = true;
    }
    this.tick();
  }

  /** Stops timers and waits for pending writes (the scheduler itself is closed by the caller). */
  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    for (const t of this.completionTimers.values()) this.clock.clearTimeout(t);
    await this.flush();
  }

  /** Resolves when the event loop ended (after the scheduler closed). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Waits for every write started so far. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.repo.flush();
  }

  // ---- API ---------------------------------------------------------------------------------

  /** Creates or replaces a job (POST /iso8601, /dependency). Throws INVALID_JOB; nothing stored then. */
  async upsertJob(input: unknown, kind?: 'scheduled' | 'dependent'): Promise<Job> {
    const now = this.clock.now();
    const name = (input as { name?: unknown })?.name;
    const previous = typeof name === 'string' ? this.jobs.get(name) : undefined;
    const existing = new Map([...this.jobs].filter(([n]) => n !== name).map(([n, r]) => [n, r.job]));
    const job = normalizeJob(input, { existing, now, ...(previous ? { previous: previous.job } : {}), ...(kind ? { kind } : {}) });
    const record: JobRecord = previous
      ? { ...previous, job, cursor: Math.max(previous.cursor, now - 1) }
      : { job, createdAt: now, cursor: now - 1, dependencyCursor: now };
    if (previous) {
      // Runs prepared ahead under the old definition are withdrawn (never launched: their time is still ahead).
      for (const [key, run] of [...this.active]) {
        if (run.job !== job.name || !this.isUnlaunched(run) || run.scheduledFor <= now) continue;
        this.untrack(key, run);
        const created = this.created.get(key) ?? Promise.resolve(true);
        this.created.delete(key);
        void created.then((ok) => ok && this.write({ type: 'deleteRun', job: run.job, scheduledFor: run.scheduledFor }));
      }
    }
    this.indexJob(record);
    try {
      await this.repo.apply({ type: 'putJob', record });
    } catch (e) {
      if (previous) this.indexJob(previous);
      else this.forgetJob(job.name);
      throw new ChronosError('INTERNAL', `could not store job ${job.name}: ${(e as Error).message}`, { cause: e });
    }
    this.tick();
    return job;
  }

  /** Deletes a job and its ledger (DELETE /job/{name}); kills its running tasks. */
  async deleteJob(name: string): Promise<void> {
    this.requireJob(name);
    const dependents = [...this.jobs.values()].filter((r) => r.job.parents.includes(name)).map((r) => r.job.name);
    if (dependents.length > 0) throw new ChronosError('HAS_DEPENDENTS', `job '${name}' has dependents (${dependents.join(', ')}); delete them first`);
    for (const [key, run] of [...this.active]) {
      if (run.job !== name) continue;
      if (run.taskId && isRunLaunched(run.state)) void this.scheduler.kill(run.taskId).catch(() => undefined);
      this.untrack(key, run);
    }
    this.forgetJob(name);
    this.armTimer();
    await this.flush();
    await this.repo.apply({ type: 'deleteJob', name });
  }

  /** Starts a run now (PUT /job/{name}), optionally with other arguments. */
  async runNow(name: string, args?: string[]): Promise<RunRecord> {
    this.requireJob(name);
    const run = this.newRun(name, this.clock.now(), 'manual', args)!;
    const created = this.persistRun(run);
    this.tick();
    await created;
    return run;
  }

  /** Counts a success for the job and fires its dependents (PUT /job/success/{name}). */
  async markSuccess(name: string): Promise<void> {
    this.requireJob(name);
    const writes = this.countSuccess(name);
    this.tick();
    await writes;
  }

  /** Kills the job's running tasks (DELETE /task/kill/{name}); they are not retried. */
  async killTasks(name: string): Promise<number> {
    this.requireJob(name);
    let killed = 0;
    const writes: Promise<unknown>[] = [];
    for (const [key, run] of [...this.active]) {
      if (run.job !== name) continue;
      if (run.taskId && isRunLaunched(run.state)) {
        this.killRequested.add(run.taskId);
        void this.scheduler.kill(run.taskId).catch((e) => this.logger.warn(`kill ${run.taskId}: ${(e as Error).message}`));
        killed++;
      } else {
        run.state = 'FAILED';
        run.message = 'killed before launch';
        run.end = this.clock.now();
        writes.push(this.persistRun(run));
        this.untrack(key, run);
        this.remember(run);
      }
    }
    this.tick();
    await Promise.all(writes);
    return killed;
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
    await this.flush();
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
      chronos_suppressed: this.offers.suppressed ? 1 : 0,
      chronos_reconciled: this.gateOpen ? 1 : 0,
    };
  }

  // ---- writes, timers ----------------------------------------------------------------------

  /** Starts a durable write; resolves false (after logging) if it failed. */
  private write(command: Command): Promise<boolean> {
    const p = this.repo.apply(command).catch((e) => {
      this.logger.error(`state write ${command.type} failed: ${(e as Error).message}`);
      return false;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  /**
   * Writes a run as it is now. Its first write creates the ledger entry with compare-and-set;
   * if an entry already existed for that (job, scheduled time) the run is dropped — it was
   * fired before — and every later write of it is refused too. Resolves true once durable.
   */
  private persistRun(run: RunRecord): Promise<boolean> {
    const key = runKey(run.job, run.scheduledFor);
    const snap = snapshot(run);
    const created = this.created.get(key);
    if (!created) {
      const p = this.write({ type: 'createRun', run: snap });
      this.created.set(key, p);
      void p.then((ok) => {
        if (!ok && this.active.get(key) === run) {
          this.logger.warn(`job ${run.job}: a run for ${new Date(run.scheduledFor).toISOString()} is already in the ledger; not running it again`);
          this.untrack(key, run);
          this.metrics.counters.runsStarted--;
          this.armTimer();
        }
      });
      return p;
    }
    return created.then((ok) => (ok ? this.write({ type: 'updateRun', run: snap }) : false));
  }

  private saveJob(name: string): Promise<boolean> {
    const record = this.jobs.get(name);
    return record ? this.write({ type: 'putJob', record }) : Promise.resolve(false);
  }

  private armTimer(): void {
    if (this.closed) return;
    const now = this.clock.now();
    const ahead = this.offers.suppressed !== false ? this.tuning.reviveLeadMs : 0;
    let at = Infinity;
    if (!this.gateOpen) at = this.gateDeadline;
    else {
      // Wake at the revive lead before a due time, unless that is already past (then at the time).
      const wake = (t: number): number => (t - ahead > now ? t - ahead : t);
      for (const t of this.nextDue.values()) at = Math.min(at, wake(t));
      for (const r of this.active.values()) {
        if (r.state === 'RETRY_WAIT') at = Math.min(at, wake(r.notBefore ?? now));
        if (r.state === 'QUEUED' && r.trigger === 'schedule' && r.attempt === 1 && this.jobs.get(r.job)?.job.missedRunPolicy === 'skip') {
          at = Math.min(at, r.scheduledFor + this.deadlineOf(r.job) + 1);
        }
      }
      at = Math.min(at, this.offers.nextExpiry() ?? Infinity);
    }
    // Work due before now (e.g. the revive lead already passed) needs no earlier wake-up than now.
    if (at !== Infinity) at = Math.max(at, now);
    if (at === this.timerAt && this.timer) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      try {
        this.tick();
      } catch (e) {
        this.logger.error(`tick failed: ${(e as Error).stack ?? String(e)}`);
      }
    }, Math.min(at - now, MAX_TIMER_MS));
  }

  /** Fires what is due, starts retries, places queued runs, plans offers, re-arms the timer. */
  private tick(): void {
    if (this.closed) return;
    const now = this.clock.now();
    if (!this.gateOpen && this.gateDeadline > 0 && now >= this.gateDeadline) {
      this.logger.warn(`no answer from the master for ${this.awaitingReconcile.size} task(s) after ${this.tuning.reconcileTimeoutMs} ms; firing anyway`);
      this.openGate();
    }
    if (this.gateOpen) {
      for (const [name, t] of this.nextDue) {
        if (t <= now) this.fireDue(name, now);
        else if (t - now <= this.tuning.reviveLeadMs) this.prepareRun(name, t);
      }
      for (const run of this.active.values()) {
        if (run.state === 'RETRY_WAIT' && (run.notBefore ?? 0) <= now) {
          run.state = 'QUEUED';
          void this.persistRun(run);
        }
      }
      this.expireSkippable(now);
      this.placeQueued(now);
      // Due runs that found no offer are made durable as QUEUED.
      for (const run of this.active.values()) if (!this.created.has(runKey(run.job, run.scheduledFor))) void this.persistRun(run);
    }
    this.planOffers(now);
    this.armTimer();
  }

  /** One tick after the current burst of events (a thousand updates cost one pass, not a thousand). */
  private requestTick(): void {
    if (this.tickRequested) return;
    this.tickRequested = true;
    setImmediate(() => {
      this.tickRequested = false;
      this.tick();
    });
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

  private fireDue(name: string, now: number): void {
    const record = this.jobs.get(name);
    const spec = this.specs.get(name);
    if (!record || !spec) return;
    const job = record.job;
    const decision = decideDueRuns({ spec, cursor: record.cursor, now, policy: job.missedRunPolicy, startingDeadlineMs: startingDeadlineMs(job), maxCatchUp: this.tuning.maxCatchUp });
    if (decision.skipped > 0) {
      const at = decision.latestSkipped ?? record.cursor + 1;
      const message = `missed ${decision.skipped} scheduled run(s) (policy ${job.missedRunPolicy}, starting deadline ${job.epsilon})`;
      const key = runKey(name, at);
      const waiting = this.active.get(key);
      if (waiting && this.isUnlaunched(waiting)) {
        // Prepared ahead but not started in time (e.g. the process was stalled): this entry records the skip.
        Object.assign(waiting, { state: 'SKIPPED', skippedCount: decision.skipped, end: now, message });
        void this.persistRun(waiting);
        this.untrack(key, waiting);
        this.remember(waiting);
      } else if (!this.knownRun(name, at)) {
        const skipped: RunRecord = { job: name, scheduledFor: at, trigger: 'schedule', attempt: 1, state: 'SKIPPED', skippedCount: decision.skipped, end: now, message, attempts: [] };
        void this.persistRun(skipped);
        this.remember(skipped);
      }
      job.skippedCount += decision.skipped;
      this.metrics.counters.runsSkipped += decision.skipped;
      this.logger.warn(`job ${name}: ${message}`);
    }
    const firstFired = decision.fire[0];
    if (firstFired !== undefined && job.missedRunPolicy !== 'catchUp') {
      // An older scheduled run still waiting (prepared before a restart, or queued behind a
      // non-concurrent run) is superseded by the newer one: one run for any number of missed times.
      for (const [key, run] of [...this.active]) {
        if (run.job !== name || !this.isUnlaunched(run) || run.scheduledFor >= firstFired) continue;
        run.state = 'SKIPPED';
        run.skippedCount = 1;
        run.end = now;
        run.message = `superseded by the run of ${new Date(firstFired).toISOString()} (policy ${job.missedRunPolicy})`;
        void this.persistRun(run);
        this.untrack(key, run);
        this.remember(run);
        job.skippedCount++;
        this.metrics.counters.runsSkipped++;
      }
    }
    for (const t of decision.fire) this.newRun(name, t, 'schedule');
    record.cursor = decision.cursor ?? record.cursor;
    // The cursor is written with the job's next counter change, not on every firing: the ledger
    // entries are the durable truth, and start() moves each cursor up to its latest entry.
    if (decision.skipped > 0) void this.saveJob(name);
    this.updateNextDue(name);
  }

  private knownRun(job: string, at: number): boolean {
    return this.active.has(runKey(job, at)) || (this.history.get(job)?.includes(at) ?? false);
  }

  /**
   * A new run in memory, QUEUED (its ledger entry is written by the next persistRun). A
   * scheduled time this process already knows is never run again; manual and dependency runs at
   * a taken millisecond move to the next one.
   */
  private newRun(name: string, scheduledFor: number, trigger: RunTrigger, args?: string[]): RunRecord | undefined {
    let at = scheduledFor;
    while (this.knownRun(name, at)) {
      if (trigger === 'schedule') return undefined;
      at++;
    }
    const run: RunRecord = { job: name, scheduledFor: at, trigger, attempt: 1, state: 'QUEUED', attempts: [], ...(args ? { arguments: args } : {}) };
    this.track(run);
    this.metrics.counters.runsStarted++;
    return run;
  }

  /**
   * Writes the ledger entry of a scheduled run ahead of its time (with the revive lead), task id
   * included, so that at the due time the launch waits for no write: the compare-and-set that
   * makes it the only run for its time and the task id are already durable. A restart reconciles
   * such an entry like a launched one before deciding anything about it.
   */
  private prepareRun(name: string, at: number): void {
    if (this.knownRun(name, at)) return;
    const run = this.newRun(name, at, 'schedule');
    if (!run) return;
    run.notBefore = at;
    run.taskId = taskIdOf(run);
    this.byTask.set(run.taskId, runKey(name, at));
    void this.persistRun(run);
  }

  /** A run prepared ahead or queued that has not been sent to the master by this process. */
  private isUnlaunched(run: RunRecord): boolean {
    return run.state === 'QUEUED' && run.trigger === 'schedule' && run.attempt === 1 && run.launchedAt === undefined;
  }

  /** Queued runs under `skip` that missed their starting deadline are given up, on the record. */
  private expireSkippable(now: number): void {
    for (const [key, run] of [...this.active]) {
      if (run.state !== 'QUEUED' || run.trigger !== 'schedule' || run.attempt !== 1) continue;
      const job = this.jobs.get(run.job)?.job;
      if (!job || job.missedRunPolicy !== 'skip' || now - run.scheduledFor <= startingDeadlineMs(job)) continue;
      run.state = 'SKIPPED';
      run.skippedCount = 1;
      run.end = now;
      run.message = `could not start within the starting deadline ${job.epsilon}`;
      void this.persistRun(run);
      job.skippedCount++;
      this.metrics.counters.runsSkipped++;
      this.untrack(key, run);
      this.remember(run);
      void this.saveJob(run.job);
    }
  }

  // ---- offers and launches -----------------------------------------------------------------

  private placeQueued(now: number): void {
    if (this.offers.size === 0) return;
    const busy = new Set<string>();
    for (const r of this.active.values()) if (isRunLaunched(r.state)) busy.add(r.job);
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
    const preparedKeys = new Set(candidates.filter((r) => r.taskId === taskIdOf(r) && this.created.has(runKey(r.job, r.scheduledFor))).map((r) => runKey(r.job, r.scheduledFor)));
    const placements = placeRuns(candidates, this.offers.offers(), (n) => this.jobs.get(n)?.job);
    for (const p of placements) {
      this.offers.remove(p.offer.id);
      for (const run of p.runs) {
        run.state = 'STAGING';
        run.taskId = taskIdOf(run);
        run.agentId = p.offer.agentId;
        run.launchedAt = now;
        this.byTask.set(run.taskId, runKey(run.job, run.scheduledFor));
      }
      // The ledger holds the run with its task id before the master hears of the task: written
      // now (STAGING), or ahead of time by prepareRun — then the launch waits for no new write,
      // and the STAGING write follows it.
      const later: RunRecord[] = [];
      const durable = p.runs.map((run) => {
        const key = runKey(run.job, run.scheduledFor);
        if (preparedKeys.has(key)) {
          later.push(run);
          return this.created.get(key)!;
        }
        return this.persistRun(run);
      });
      void Promise.all(durable).then(async (oks) => {
        const tasks = p.tasks.filter((_, i) => oks[i]);
        if (tasks.length === 0) {
          await this.scheduler.decline(p.offer.id, { refuseSeconds: 1 }).catch(() => undefined);
          return;
        }
        this.metrics.counters.launches += tasks.length;
        const launched = this.scheduler.launch(p.offer, tasks, { refuseSeconds: 1 });
        for (const run of later) void this.persistRun(run);
        try {
          await launched;
        } catch (e) {
          this.launchFailed(p.runs.filter((_, i) => oks[i]), e);
        }
      });
    }
  }

  private launchFailed(runs: RunRecord[], e: unknown): void {
    const code = (e as { code?: string }).code ?? '';
    this.logger.warn(`launch of ${runs.map((r) => r.taskId).join(', ')} failed: ${code} ${(e as Error).message}`);
    if (!NOT_LAUNCHED.has(code)) return; // outcome unknown: the SDK reconciles these tasks
    for (const run of runs) {
      if (run.state !== 'STAGING' || !run.taskId) continue;
      this.byTask.delete(run.taskId);
      run.state = 'QUEUED';
      delete run.taskId;
      void this.persistRun(run);
    }
    this.tick();
  }

  /**
   * Tells the offer planner whether offers are wanted now (a run queued, or one due within the
   * revive lead) and which held offers those runs would use.
   */
  private planOffers(now: number): void {
    const lead = this.tuning.reviveLeadMs;
    const soon: Job[] = [];
    if (this.gateOpen) {
      for (const r of this.active.values()) {
        if (r.state === 'QUEUED' || (r.state === 'RETRY_WAIT' && (r.notBefore ?? 0) - now <= lead)) {
          const job = this.jobs.get(r.job)?.job;
          if (job) soon.push(job);
        }
      }
      for (const [name, t] of this.nextDue) {
        const job = this.jobs.get(name)?.job;
        if (job && t - now <= lead) soon.push(job);
      }
    }
    this.offers.plan(soon.length > 0, now, offersWanted(soon, this.offers.offers()));
  }

  // ---- events ------------------------------------------------------------------------------

  private async consume(): Promise<void> {
    try {
      for await (const event of this.scheduler.events()) {
        if (this.closed) break;
        let effects: Promise<unknown> = Promise.resolve();
        try {
          effects = this.onEvent(event);
        } catch (e) {
          this.logger.error(`handling ${event.type} failed: ${(e as Error).stack ?? String(e)}`);
        }
        if (event.type === 'update' && event.status.uuid) {
          const status = event.status;
          // Acknowledged once its effects are durable: a crash before that gets it again.
          void effects.then(() => this.scheduler.acknowledge(status)).catch((e) => this.logger.debug(`acknowledge ${status.taskId}: ${(e as Error).message}`));
        }
      }
    } catch (e) {
      if (!this.closed) this.logger.error(`event stream failed: ${(e as Error).message}`);
    }
  }

  private onEvent(event: SchedulerEvent): Promise<unknown> {
    const now = this.clock.now();
    switch (event.type) {
      case 'offers':
        this.offers.add(event.offers, now);
        this.tick();
        return Promise.resolve();
      case 'rescind':
        this.offers.remove(event.offerId);
        return Promise.resolve();
      case 'update':
        return this.onStatus(event.status);
      case 'subscribed':
      case 'disconnected':
        this.offers.clear(); // offers from before are void
        if (event.type === 'subscribed' && event.reconnected) this.tick();
        return Promise.resolve();
      case 'error':
        this.logger.error(`the master ended the framework: ${event.code} ${event.message}`);
        return Promise.resolve();
      default:
        return Promise.resolve();
    }
  }

  private onStatus(status: TaskStatus): Promise<unknown> {
    const now = this.clock.now();
    const { taskId, state } = status;
    if (this.awaitingReconcile.delete(taskId) && this.awaitingReconcile.size === 0 && !this.gateOpen) {
      this.logger.info('start-up reconciliation answered; firing');
      this.openGate();
      queueMicrotask(() => this.tick());
    }
    const key = this.byTask.get(taskId);
    const run = key ? this.active.get(key) : undefined;
    if (!run || run.taskId !== taskId) {
      if (!isTerminalState(state)) {
        this.logger.warn(`killing task ${taskId}: no run of a known job holds it`);
        void this.scheduler.kill(taskId, status.agentId ? { agentId: status.agentId } : {}).catch(() => undefined);
      }
      return Promise.resolve();
    }
    if (status.agentId) run.agentId = status.agentId;
    if (run.state === 'QUEUED') {
      // A prepared run (task id written ahead) found by start-up reconciliation.
      if (status.reason === 'RECONCILIATION' && NEVER_LAUNCHED.has(state)) return Promise.resolve(); // launched by nobody: stays queued
      // The master knows the task: it was launched before a crash, so it is this run's attempt.
      run.state = 'STAGING';
      run.launchedAt ??= now;
      if (!isTerminalState(state) && state !== 'TASK_RUNNING') return this.persistRun(run);
    }
    if (state === 'TASK_RUNNING') {
      if (run.state === 'RUNNING') return Promise.resolve();
      run.state = 'RUNNING';
      run.start = now;
      if (run.attempt === 1 && run.lateMs === undefined && run.trigger === 'schedule') {
        run.lateMs = now - run.scheduledFor;
        this.metrics.recordLateness(run.job, run.lateMs);
      }
      const job = this.jobs.get(run.job)?.job;
      if (job && job.maxCompletionTime > 0) {
        this.completionTimers.set(taskId, this.clock.setTimeout(() => {
          this.completionTimers.delete(taskId);
          this.timedOut.add(taskId);
          this.logger.warn(`task ${taskId} exceeded maxCompletionTime ${job.maxCompletionTime} s; killing it`);
          void this.scheduler.kill(taskId).catch(() => undefined);
        }, job.maxCompletionTime * 1000));
      }
      return this.persistRun(run);
    }
    if (!isTerminalState(state)) return Promise.resolve();
    // A task the master never heard of, found by start-up reconciliation: the launch never
    // happened (we crashed between writing STAGING and launching). Launch the same attempt again.
    if (run.state === 'STAGING' && status.reason === 'RECONCILIATION' && NEVER_LAUNCHED.has(state)) {
      this.byTask.delete(taskId);
      run.state = 'QUEUED';
      delete run.taskId;
      const w = this.persistRun(run);
      this.tick();
      return w;
    }
    const writes = this.finishAttempt(key!, run, status, now);
    this.requestTick();
    return writes;
  }

  private finishAttempt(key: string, run: RunRecord, status: TaskStatus, now: number): Promise<unknown> {
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
    const job = this.jobs.get(run.job)?.job;
    const writes: Promise<unknown>[] = [];
    if (success) {
      run.state = 'SUCCEEDED';
      writes.push(this.persistRun(run));
      this.untrack(key, run);
      this.remember(run);
      if (run.start !== undefined) this.durationWindow(run.job).add(now - run.start);
      this.metrics.counters.runsSucceeded++;
      writes.push(this.countSuccess(run.job));
    } else if (job && !killed && !job.disabled && run.attempt <= job.retries) {
      this.metrics.counters.attemptsFailed++;
      this.metrics.counters.retries++;
      const delay = job.retryDelaySeconds * 1000 * job.retryBackoff ** (run.attempt - 1);
      run.attempt++;
      run.state = 'RETRY_WAIT';
      run.notBefore = now + delay;
      delete run.taskId;
      delete run.start;
      writes.push(this.persistRun(run));
      job.retryCount++;
      writes.push(this.saveJob(run.job));
      this.logger.info(`job ${run.job}: attempt ${run.attempt - 1} ended ${status.state}; retry ${run.attempt - 1}/${job.retries} in ${delay} ms`);
    } else {
      this.metrics.counters.attemptsFailed++;
      this.metrics.counters.runsFailed++;
      run.state = 'FAILED';
      writes.push(this.persistRun(run));
      this.untrack(key, run);
      this.remember(run);
      if (job) {
        job.errorCount++;
        job.errorsSinceLastSuccess++;
        job.lastError = new Date(now).toISOString();
        if (job.disableAfterFailures > 0 && job.errorsSinceLastSuccess >= job.disableAfterFailures && !job.disabled) {
          job.disabled = true;
          this.updateNextDue(run.job);
          this.logger.warn(`job ${run.job} disabled after ${job.errorsSinceLastSuccess} failed runs in a row`);
        }
        writes.push(this.saveJob(run.job));
      }
    }
    return Promise.all(writes);
  }

  /** Success counters, then the dependents whose parents all succeeded since their last run. */
  private countSuccess(name: string): Promise<unknown> {
    const record = this.jobs.get(name);
    if (!record) return Promise.resolve();
    const now = this.clock.now();
    record.job.successCount++;
    record.job.errorsSinceLastSuccess = 0;
    record.job.lastSuccess = new Date(now).toISOString();
    const writes: Promise<unknown>[] = [this.saveJob(name)];
    // Only the dependents of this job and their parents matter (not the whole DAG per success).
    const nodes = new Map<string, DagNode>();
    for (const r of this.jobs.values()) {
      if (!r.job.parents.includes(name)) continue;
      nodes.set(r.job.name, this.dagNode(r));
      for (const p of r.job.parents) {
        const pr = this.jobs.get(p);
        if (pr && !nodes.has(p)) nodes.set(p, this.dagNode(pr));
      }
    }
    for (const child of nodes.size === 0 ? [] : readyDependents(name, nodes)) {
      this.jobs.get(child)!.dependencyCursor = now;
      writes.push(this.saveJob(child));
      this.logger.info(`job ${child}: all parents succeeded; running it`);
      const run = this.newRun(child, now, 'dependency');
      if (run) writes.push(this.persistRun(run));
    }
    return Promise.all(writes);
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

  private forgetJob(name: string): void {
    this.jobs.delete(name);
    this.specs.delete(name);
    this.nextDue.delete(name);
    this.history.delete(name);
    this.durations.delete(name);
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
    if (run.taskId && this.byTask.get(run.taskId) === key) this.byTask.delete(run.taskId);
  }

  private durationWindow(name: string): SampleWindow {
    let w = this.durations.get(name);
    if (!w) this.durations.set(name, (w = new SampleWindow(100)));
    return w;
  }

  /** Notes a finished run and trims the job's ledger to `historyLimit` finished runs. */
  private remember(run: RunRecord): void {
    // Its last write has read the creation outcome already (persistRun comes first everywhere);
    // the repository keeps writes to one key in order, so the entry can go.
    this.created.delete(runKey(run.job, run.scheduledFor));
    let list = this.history.get(run.job);
    if (!list) this.history.set(run.job, (list = []));
    list.push(run.scheduledFor);
    while (list.length > this.tuning.historyLimit) {
      const old = list.shift()!;
      void this.write({ type: 'deleteRun', job: run.job, scheduledFor: old });
    }
  }
}
