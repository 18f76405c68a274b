import { randomUUID } from 'node:crypto';
import { absoluteId, appToJson, needsRestart, type AppDefinition } from './app-definition.js';
import type { AgentFacts } from './constraints.js';
import { OrphanKills } from './orphan-kills.js';
import { MarathonError } from './errors.js';
import { EventBus } from './event-bus.js';
import { MarathonState, type StateCommand } from './marathon-state.js';
import type { AppRecord, Deployment, TaskPhase, TaskRecord } from './model.js';
import { factsOf, fixedPorts, newTaskId, placeInstances, type LaunchRequest } from './placement.js';
import { launchDelayMs, lockedApps, planApp, planSteps, type AppChange, type AppPlan } from './planner.js';
import { ReadinessTracker, fetchProbe, type ReadinessProbe } from './readiness.js';
import { isTerminalState, type Clock, type Logger, type Offer, type Scheduler, type SchedulerEvent, type TaskStatus } from './sdk.js';

/** Tuning of the scheduler core; every field has a default in `CORE_DEFAULTS`. */
export interface MarathonCoreOptions {
  clock: Clock;
  logger: Logger;
  /** Seconds a deployment may take before it counts as failed. Defaults to 600. */
  deploymentTimeoutSeconds?: number;
  /** Roll a failed (timed-out) deployment back to the previous definitions. Defaults to false. */
  rollbackOnDeadline?: boolean;
  /** How long to wait for the master's answer to startup reconciliation before acting anyway. Defaults to 15_000 ms. */
  reconcileTimeoutMs?: number;
  /** At most this many tasks killed per minute for being unhealthy. Defaults to 10. */
  healthKillsPerMinute?: number;
  /** Filter on declined offers when nothing waits. Defaults to 120 s. */
  declineRefuseSeconds?: number;
  /** How often the planner runs, besides after every change. Defaults to 1_000 ms. */
  tickIntervalMs?: number;
  /** Earlier versions kept per app. Defaults to 20. */
  maxVersions?: number;
  /** How long before a kill that got no terminal update is sent again. Defaults to 30_000 ms. */
  killRetryMs?: number;
  /**
   * A task we have no record of (orphan, or expunged) that an update says lives is killed at
   * most once per wait: this long after the first kill, doubling per kill up to
   * `orphanKillMaxBackoffMs`. Defaults to 5_000 ms.
   */
  orphanKillBackoffMs?: number;
  /** The longest wait between two kills of one orphan. Defaults to 300_000 ms. */
  orphanKillMaxBackoffMs?: number;
  /**
   * Runs one readiness check: GETs `url` and resolves with the HTTP status (0 when it failed).
   * Defaults to `fetch` with the check's timeout.
   */
  readinessProbe?: ReadinessProbe;
}

/** Defaults of MarathonCoreOptions. */
export const CORE_DEFAULTS = {
  deploymentTimeoutSeconds: 600,
  rollbackOnDeadline: false,
  reconcileTimeoutMs: 15_000,
  healthKillsPerMinute: 10,
  declineRefuseSeconds: 120,
  tickIntervalMs: 1_000,
  maxVersions: 20,
  killRetryMs: 30_000,
  orphanKillBackoffMs: 5_000,
  orphanKillMaxBackoffMs: 300_000,
} as const;

/** The answer to every change: Marathon's `{deploymentId, version}`. */
export interface ChangeResult {
  deploymentId: string;
  version: string;
}

/** Instances of an app waiting for an offer. */
export interface QueueEntry {
  appId: string;
  count: number;
  since: number;
}

const PHASES = new Set<string>(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);

/**
 * The scheduler of fw-marathon: owns the state, turns API changes into deployments, runs the
 * planner over every app (on a timer and after every change), places waiting instances into
 * offers and follows task updates. Every state change is persisted (`MarathonState.apply`)
 * before the call to the master that acts on it. All work runs one piece at a time.
 */
export class MarathonCore {
  readonly bus: EventBus;
  private readonly opts: Required<Omit<MarathonCoreOptions, 'clock' | 'logger' | 'readinessProbe'>>;
  private readonly readinessTracker: ReadinessTracker;
  private scheduler: Scheduler | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private ready = false;
  private reconciling = new Set<string>();
  private reconcileTimer: unknown;
  private tickTimer: unknown;
  private kickQueued = false;
  private suppressed: boolean | undefined;
  private closed = false;
  private readonly pending = new Map<string, QueueEntry>();
  private readonly blocked = new Map<string, string>();
  private readonly killSentAt = new Map<string, number>();
  private readonly orphanKills: OrphanKills;
  private readonly healthKills: number[] = [];
  private readonly agents = new Map<string, AgentFacts>();
  private lastVersion = 0;
  /** Counters for /metrics. */
  readonly counters = { launched: 0, killed: 0, failed: 0, offersDeclined: 0, offersUsed: 0, deploymentsSucceeded: 0, deploymentsFailed: 0 };

  constructor(readonly state: MarathonState, private readonly options: MarathonCoreOptions) {
    this.opts = {
      deploymentTimeoutSeconds: options.deploymentTimeoutSeconds ?? CORE_DEFAULTS.deploymentTimeoutSeconds,
      rollbackOnDeadline: options.rollbackOnDeadline ?? CORE_DEFAULTS.rollbackOnDeadline,
      reconcileTimeoutMs: options.reconcileTimeoutMs ?? CORE_DEFAULTS.reconcileTimeoutMs,
      healthKillsPerMinute: options.healthKillsPerMinute ?? CORE_DEFAULTS.healthKillsPerMinute,
      declineRefuseSeconds: options.declineRefuseSeconds ?? CORE_DEFAULTS.declineRefuseSeconds,
      tickIntervalMs: options.tickIntervalMs ?? CORE_DEFAULTS.tickIntervalMs,
      maxVersions: options.maxVersions ?? CORE_DEFAULTS.maxVersions,
      killRetryMs: options.killRetryMs ?? CORE_DEFAULTS.killRetryMs,
      orphanKillBackoffMs: options.orphanKillBackoffMs ?? CORE_DEFAULTS.orphanKillBackoffMs,
      orphanKillMaxBackoffMs: options.orphanKillMaxBackoffMs ?? CORE_DEFAULTS.orphanKillMaxBackoffMs,
    };
    this.orphanKills = new OrphanKills(this.opts.orphanKillBackoffMs, this.opts.orphanKillMaxBackoffMs);
    this.bus = new EventBus(10_000, () => this.clock.now());
    this.readinessTracker = new ReadinessTracker(options.readinessProbe ?? fetchProbe, options.clock, (task, name) => {
      if (!this.state.tasks.has(task.taskId)) return;
      this.bus.publish('readiness_check_result', { appId: task.appId, taskId: task.taskId, name, ready: true });
      this.kick();
    });
    this.scheduleTick();
  }

  private get clock(): Clock {
    return this.options.clock;
  }
  private get log(): Logger {
    return this.options.logger;
  }

  /** Whether startup reconciliation is over and the scheduler acts. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Whether offers are suppressed (nothing waits). */
  get isSuppressed(): boolean {
    return this.suppressed === true;
  }

  /** Runs `fn` after everything queued before it: the one-at-a-time rule. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Consumes a connected scheduler's events until they end. */
  async consume(scheduler: Scheduler): Promise<void> {
    this.scheduler = scheduler;
    for await (const event of scheduler.events()) {
      await this.serial(() => this.handle(event));
      if (this.closed) break;
    }
  }

  /** Stops timers; the caller closes the scheduler. */
  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.tickTimer as never);
    this.clock.clearTimeout(this.reconcileTimer as never);
  }

  // ---------------------------------------------------------------- events from the master

  private async handle(event: SchedulerEvent): Promise<void> {
    switch (event.type) {
      case 'subscribed':
        if (this.state.frameworkId !== event.frameworkId) await this.state.apply([{ type: 'setFrameworkId', frameworkId: event.frameworkId }]);
        this.suppressed = undefined;
        if (!event.reconnected) await this.startReconciliation();
        else this.kick();
        return;
      case 'offers':
        await this.onOffers(event.offers);
        return;
      case 'update':
        await this.onUpdate(event.status);
        return;
      case 'failure':
        if (!event.executorId) this.log.info('agent lost', { agentId: event.agentId });
        return;
      case 'error':
        this.log.error('the master ended the framework', { code: event.code, message: event.message });
        return;
      case 'disconnected':
        this.suppressed = undefined;
        return;
      default:
        return;
    }
  }

  /** Asks the master about every persisted task; acts only once all answered (or a timeout). */
  private async startReconciliation(): Promise<void> {
    const tasks = [...this.state.tasks.values()];
    if (tasks.length === 0) {
      this.finishReconciliation();
      return;
    }
    this.ready = false;
    this.reconciling = new Set(tasks.map((t) => t.taskId));
    this.log.info('reconciling persisted tasks before acting', { tasks: tasks.length });
    try {
      await this.scheduler!.reconcile(tasks.map((t) => (t.agentId ? { taskId: t.taskId, agentId: t.agentId } : { taskId: t.taskId })));
    } catch (e) {
      this.log.warn('reconcile failed; the SDK retries', { error: (e as Error).message });
    }
    this.clock.clearTimeout(this.reconcileTimer as never);
    this.reconcileTimer = this.clock.setTimeout(() => {
      void this.serial(() => {
        if (!this.ready) {
          this.log.warn('reconciliation timed out; acting on what we know', { unanswered: this.reconciling.size });
          this.finishReconciliation();
        }
      });
    }, this.opts.reconcileTimeoutMs);
  }

  private finishReconciliation(): void {
    this.ready = true;
    this.reconciling.clear();
    this.clock.clearTimeout(this.reconcileTimer as never);
    this.kick();
  }

  private async onUpdate(s: TaskStatus): Promise<void> {
    if (this.reconciling.delete(s.taskId) && this.reconciling.size === 0 && !this.ready) this.finishReconciliation();
    const t = this.state.tasks.get(s.taskId);
    const now = this.clock.now();
    const ended = isTerminalState(s.state) || s.state === 'TASK_UNKNOWN';
    if (!t) {
      // Killed at most once per backoff window: the master answers a kill of a task on an
      // unreachable agent with TASK_UNREACHABLE, which must not provoke the next kill at once.
      if (ended) this.orphanKills.forget(s.taskId);
      else if (this.orphanKills.due(s.taskId, now)) {
        this.log.warn('killing a task fw-marathon does not know (orphan)', { taskId: s.taskId, state: s.state });
        await this.killQuietly(s.taskId, s.agentId);
      } else this.log.debug('orphan already killed; the next kill waits for its backoff', { taskId: s.taskId, state: s.state });
      return;
    }
    this.bus.publish('status_update_event', {
      slaveId: t.agentId, taskId: t.taskId, taskStatus: s.state, message: s.message ?? '', appId: t.appId, host: t.host, ports: t.ports, version: t.version,
    });
    if (ended) {
      this.killSentAt.delete(t.taskId);
      this.readinessTracker.forget(t.taskId);
      const commands: StateCommand[] = [{ type: 'deleteTask', taskId: t.taskId }];
      const rec = this.state.apps.get(t.appId);
      // A task that ended by itself is a failure for backoff, but exit 0 (FINISHED) is not.
      const failure = t.killRequestedAt === undefined && s.state !== 'TASK_FINISHED';
      if (rec && failure) {
        this.counters.failed++;
        const failures = rec.backoff.failures + 1;
        commands.push({
          type: 'putApp',
          record: {
            ...rec,
            backoff: { failures, delayUntil: now + launchDelayMs(rec.app, failures) },
            lastTaskFailure: { appId: t.appId, taskId: t.taskId, state: s.state, message: s.message ?? '', host: t.host, timestamp: new Date(s.timestamp || now).toISOString(), version: t.version },
          },
        });
      }
      await this.state.apply(commands);
      this.bus.publish('instance_changed_event', { instanceId: t.taskId, appId: t.appId, condition: s.state, host: t.host });
      this.kick();
      return;
    }
    const next: TaskRecord = { ...t };
    if (PHASES.has(s.state)) next.state = s.state as TaskPhase;
    if (s.healthy !== undefined) next.healthy = s.healthy;
    if (s.state === 'TASK_RUNNING' && next.startedAt === undefined) next.startedAt = s.timestamp || now;
    if (s.agentId && !next.agentId) next.agentId = s.agentId;
    // Unreachable: replaced once inactive, forgotten once expunged (see planApp and tick); back
    // again: an ordinary task (a scale-down removes any extra).
    if (s.state === 'TASK_UNREACHABLE') next.unreachableSince = t.unreachableSince ?? now;
    else delete next.unreachableSince;
    if (JSON.stringify(next) !== JSON.stringify(t)) await this.state.apply([{ type: 'putTask', task: next }]);
    if (t.healthy !== next.healthy && next.healthy !== undefined) {
      this.bus.publish('health_status_changed_event', { appId: t.appId, taskId: t.taskId, instanceId: t.taskId, version: t.version, alive: next.healthy });
      if (!next.healthy) this.bus.publish('failed_health_check_event', { appId: t.appId, taskId: t.taskId, instanceId: t.taskId });
    }
    this.kick();
  }

  private knownValues = (field: string): string[] => {
    const out = new Set<string>();
    for (const a of this.agents.values()) {
      const v = field === 'hostname' ? a.host : a.attributes[field];
      if (v !== undefined) out.add(v);
    }
    return [...out];
  };

  private async onOffers(offers: Offer[]): Promise<void> {
    for (const o of offers) this.agents.set(o.agentId, factsOf(o));
    const sched = this.scheduler!;
    if (!this.ready || this.pending.size === 0) {
      await this.declineQuietly(offers.map((o) => o.id), this.opts.declineRefuseSeconds);
      return;
    }
    const requests: LaunchRequest[] = [];
    for (const q of this.pending.values()) {
      const rec = this.state.apps.get(q.appId);
      if (!rec || rec.stopping) continue;
      const placed = this.state.tasksOf(q.appId).filter((t) => t.killRequestedAt === undefined).map((t) => ({ host: t.host, attributes: t.attributes }));
      requests.push({ app: rec.app, version: rec.lastConfigChangeAt, count: q.count, placed });
    }
    const result = placeInstances(offers, requests, (appId) => newTaskId(appId, randomUUID()), this.knownValues);
    const now = this.clock.now();
    const records: TaskRecord[] = result.launches.flatMap((l) =>
      l.tasks.map((p) => ({
        taskId: p.spec.taskId, appId: p.appId, version: p.version, agentId: l.offer.agentId, host: p.facts.host, attributes: p.facts.attributes,
        ...(l.offer.agentEndpoint ? { agentIp: l.offer.agentEndpoint.replace(/:\d+$/, '') } : {}),
        ports: fixedPorts(this.state.apps.get(p.appId)!.app) ?? [], state: 'TASK_STAGING' as const, stagedAt: now,
      })),
    );
    // Persist first: a crash after this line leaves records the next start reconciles.
    await this.state.apply(records.map((task) => ({ type: 'putTask', task })));
    for (const l of result.launches) {
      try {
        const placed = await sched.launch(l.offer, l.tasks.map((p) => p.spec), { refuseSeconds: 5 });
        this.counters.launched += placed.length;
        this.counters.offersUsed++;
        const updates: StateCommand[] = [];
        for (const p of placed) {
          const rec = this.state.tasks.get(p.spec.taskId);
          if (rec && p.ports.length > 0) updates.push({ type: 'putTask', task: { ...rec, ports: p.ports } });
        }
        await this.state.apply(updates);
      } catch (e) {
        this.log.warn('launch failed', { offer: l.offer.id, error: (e as Error).message });
        // The outcome may be unknown; the SDK reconciles these tasks and an unknown one is killed.
        await this.state.apply(l.tasks.map((p) => ({ type: 'deleteTask', taskId: p.spec.taskId })));
      }
    }
    for (const p of result.launches.flatMap((l) => l.tasks)) {
      const q = this.pending.get(p.appId);
      if (q && --q.count <= 0) this.pending.delete(p.appId);
    }
    for (const [appId, why] of result.blocked) this.blocked.set(appId, why);
    for (const r of requests) if (!result.blocked.has(r.app.id)) this.blocked.delete(r.app.id);
    // Something still waits but did not fit: a short filter, so the offer comes back soon.
    await this.declineQuietly(result.unused.map((o) => o.id), result.blocked.size > 0 ? 5 : this.opts.declineRefuseSeconds);
  }

  private async declineQuietly(ids: string[], refuseSeconds: number): Promise<void> {
    if (ids.length === 0) return;
    this.counters.offersDeclined += ids.length;
    try {
      await this.scheduler!.decline(ids, { refuseSeconds });
    } catch (e) {
      this.log.debug('decline failed', { error: (e as Error).message });
    }
  }

  private async killQuietly(taskId: string, agentId: string | undefined, gracePeriodSeconds?: number): Promise<void> {
    if (!this.scheduler) return;
    // Retries of kills of known tasks only (orphans back off in `orphanKills`).
    if (this.state.tasks.has(taskId)) this.killSentAt.set(taskId, this.clock.now());
    this.counters.killed++;
    try {
      await this.scheduler.kill(taskId, { ...(agentId ? { agentId } : {}), ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
    } catch (e) {
      this.log.debug('kill failed; retried later', { taskId, error: (e as Error).message });
    }
  }

  // ---------------------------------------------------------------- the planner loop

  private scheduleTick(): void {
    if (this.closed) return;
    this.tickTimer = this.clock.setTimeout(() => {
      void this.serial(() => this.tick()).finally(() => this.scheduleTick());
    }, this.opts.tickIntervalMs);
  }

  /** Runs the planner soon (after the work queued now). */
  kick(): void {
    if (this.kickQueued || this.closed) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      void this.serial(async () => {
        this.kickQueued = false;
        await this.tick();
      });
    });
  }

  /** The plan of one app now. */
  planOf(rec: AppRecord, now = this.clock.now()): AppPlan {
    const notReady = this.notReady(rec);
    return planApp({
      app: rec.app, version: rec.lastConfigChangeAt, tasks: this.state.tasksOf(rec.app.id), now, delayUntil: rec.backoff.delayUntil,
      ...(rec.stopping ? { stopping: true } : {}),
      ...(notReady.size > 0 ? { notReady } : {}),
    });
  }

  private notReady(rec: AppRecord): Set<string> {
    return this.readinessTracker.notReady(rec, this.state.tasksOf(rec.app.id));
  }

  /** Whether a task passed its app's readiness check (undefined: the app has none). */
  readiness(task: TaskRecord): boolean | undefined {
    const rec = this.state.apps.get(task.appId);
    if (!rec || rec.app.readinessChecks.length === 0) return undefined;
    return this.readinessTracker.isReady(task.taskId);
  }

  /** One round of the planner: deployments, kills, the launch queue, suppress/revive. @internal */
  async tick(): Promise<void> {
    if (!this.ready || this.closed) return;
    const now = this.clock.now();
    for (const d of this.state.deploymentList()) await this.progress(d, now);
    const later = new Set(this.state.deploymentList().flatMap((d) => d.steps.slice(d.currentStep + 1).flatMap((s) => s.actions.map((a) => a.app))));
    const current = new Set(this.state.deploymentList().flatMap((d) => (d.steps[d.currentStep]?.actions ?? []).map((a) => a.app)));
    const kills: { task: TaskRecord; reason: string; grace?: number }[] = [];
    for (const rec of this.state.apps.values()) {
      const id = rec.app.id;
      if (later.has(id) && !current.has(id)) continue;
      this.readinessTracker.probeDue(rec, this.state.tasksOf(id), now);
      const plan = this.planOf(rec, now);
      for (const k of plan.kill) {
        const task = this.state.tasks.get(k.taskId);
        if (!task) continue;
        if (k.reason === 'unhealthy') {
          while (this.healthKills.length > 0 && this.healthKills[0]! < now - 60_000) this.healthKills.shift();
          if (this.healthKills.length >= this.opts.healthKillsPerMinute) {
            this.blocked.set(id, `unhealthy tasks wait to be killed: kill rate limit of ${this.opts.healthKillsPerMinute}/min reached`);
            continue;
          }
          this.healthKills.push(now);
          this.bus.publish('unhealthy_task_kill_event', { appId: id, taskId: task.taskId, instanceId: task.taskId, version: task.version, reason: 'unhealthy', host: task.host });
        }
        kills.push({ task, reason: k.reason, ...(rec.app.taskKillGracePeriodSeconds !== undefined ? { grace: rec.app.taskKillGracePeriodSeconds } : {}) });
      }
      if (plan.launch > 0) {
        const prev = this.pending.get(id);
        this.pending.set(id, { appId: id, count: plan.launch, since: prev?.since ?? now });
      } else this.pending.delete(id);
      if (plan.waiting) this.blocked.set(id, plan.waiting);
      else if (plan.launch === 0 && !kills.some((k) => k.task.appId === id && k.reason === 'unhealthy')) this.blocked.delete(id);
    }
    for (const id of this.pending.keys()) if (!this.state.apps.has(id)) this.pending.delete(id);
    if (kills.length > 0) {
      await this.state.apply(kills.map((k) => ({ type: 'putTask', task: { ...k.task, killRequestedAt: now, killReason: k.reason } })));
      for (const k of kills) await this.killQuietly(k.task.taskId, k.task.agentId, k.grace);
    }
    // Unreachable past expungeAfterSeconds: forget it (and try to kill it, should it come back).
    const expunged = [...this.state.tasks.values()].filter((t) => {
      const strategy = this.state.apps.get(t.appId)?.app.unreachableStrategy;
      return t.unreachableSince !== undefined && strategy !== undefined && strategy !== 'disabled' && now - t.unreachableSince >= strategy.expungeAfterSeconds * 1000;
    });
    if (expunged.length > 0) {
      await this.state.apply(expunged.map((t) => ({ type: 'deleteTask', taskId: t.taskId })));
      for (const t of expunged) {
        this.bus.publish('instance_changed_event', { instanceId: t.taskId, appId: t.appId, condition: 'Expunged', host: t.host });
        this.killSentAt.delete(t.taskId);
        this.orphanKills.record(t.taskId, now);
        await this.killQuietly(t.taskId, t.agentId);
      }
    }
    this.orphanKills.prune(now);
    // Kills that got no answer (or were persisted before a restart) go again.
    for (const t of this.state.tasks.values()) {
      if (t.killRequestedAt === undefined || kills.some((k) => k.task.taskId === t.taskId)) continue;
      const sent = this.killSentAt.get(t.taskId);
      if (sent === undefined || now - sent >= this.opts.killRetryMs) await this.killQuietly(t.taskId, t.agentId);
    }
    await this.updateSuppression();
  }

  private async updateSuppression(): Promise<void> {
    const sched = this.scheduler;
    if (!sched) return;
    const want = this.pending.size > 0;
    try {
      if (want && this.suppressed !== false) {
        await sched.revive();
        this.suppressed = false;
      } else if (!want && this.suppressed !== true) {
        await sched.suppress();
        this.suppressed = true;
      }
    } catch (e) {
      this.log.debug('suppress/revive failed; retried next round', { error: (e as Error).message });
    }
  }

  private async progress(d: Deployment, now: number): Promise<void> {
    const step = d.steps[d.currentStep];
    const doneApp = (app: string, action: string): boolean => {
      const rec = this.state.apps.get(app);
      if (action === 'StopApplication') return !rec || this.state.tasksOf(app).length === 0;
      return rec !== undefined && this.planOf(rec, now).done;
    };
    if (step && step.actions.every((a) => doneApp(a.app, a.action))) {
      const commands: StateCommand[] = [];
      for (const a of step.actions) {
        const rec = this.state.apps.get(a.app);
        if (a.action === 'StopApplication' && rec?.stopping) commands.push({ type: 'deleteApp', appId: a.app });
      }
      const next: Deployment = { ...d, currentStep: d.currentStep + 1 };
      const finished = next.currentStep >= d.steps.length;
      commands.push(finished ? { type: 'deleteDeployment', id: d.id } : { type: 'putDeployment', deployment: next });
      await this.state.apply(commands);
      this.bus.publish('deployment_step_success', { plan: this.planJson(d), currentStep: { actions: step.actions } });
      for (const a of step.actions) {
        if (a.action === 'StopApplication') this.bus.publish('app_terminated_event', { appId: a.app });
        this.blocked.delete(a.app);
      }
      if (finished) {
        this.counters.deploymentsSucceeded++;
        this.bus.publish('deployment_success', { id: d.id, plan: this.planJson(d) });
      }
      return;
    }
    if (!step) {
      await this.state.apply([{ type: 'deleteDeployment', id: d.id }]);
      return;
    }
    if (now > d.deadline) {
      this.counters.deploymentsFailed++;
      const reason = this.whyBlocked(d) ?? 'did not finish in time';
      this.log.warn('deployment passed its deadline', { id: d.id, reason });
      this.bus.publish('deployment_failed', { id: d.id, plan: this.planJson(d), reason });
      await this.state.apply([{ type: 'deleteDeployment', id: d.id }]);
      if (d.rollbackOnDeadline) await this.rollback(d);
    }
  }

  private async rollback(d: Deployment): Promise<ChangeResult> {
    const changes = new Map<string, AppChange>();
    for (const [id, prev] of Object.entries(d.previous)) {
      const rec = this.state.apps.get(id);
      changes.set(id, { from: rec && !rec.stopping ? rec.app : null, to: prev });
    }
    return this.deploy(changes, { force: true });
  }

  // ---------------------------------------------------------------- changes from the API

  private nextVersion(): string {
    const t = Math.max(this.clock.now(), this.lastVersion + 1);
    this.lastVersion = t;
    return new Date(t).toISOString();
  }

  /** The deployments that lock an app. */
  locksOf(appId: string): Deployment[] {
    return this.state.deploymentList().filter((d) => lockedApps(d).includes(appId));
  }

  /**
   * Turns changes of apps into a deployment: checks locks (409 unless `force`, which cancels
   * the locking deployments), persists the new app records and the deployment, then lets the
   * planner drive it.
   */
  async deploy(changes: ReadonlyMap<string, AppChange>, options: { force?: boolean; rollbackOnDeadline?: boolean } = {}): Promise<ChangeResult> {
    const locking = new Map<string, Deployment>();
    for (const id of changes.keys()) for (const d of this.locksOf(id)) locking.set(d.id, d);
    if (locking.size > 0 && !options.force) {
      throw new MarathonError('APP_LOCKED', `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`, {
        deployments: [...locking.keys()],
      });
    }
    let steps;
    try {
      steps = planSteps(changes);
    } catch (e) {
      throw new MarathonError('INVALID_OBJECT', 'Object is not valid', { details: [{ path: '/dependencies', errors: [(e as Error).message] }] });
    }
    const version = this.nextVersion();
    const now = this.clock.now();
    const commands: StateCommand[] = [...locking.keys()].map((id) => ({ type: 'deleteDeployment', id }) as const);
    const previous: Record<string, AppDefinition | null> = {};
    for (const [id, change] of changes) {
      const rec = this.state.apps.get(id);
      previous[id] = change.from;
      if (change.to === null) {
        if (rec) commands.push({ type: 'putApp', record: { ...rec, stopping: true } });
        continue;
      }
      const action = steps.flatMap((s) => s.actions).find((a) => a.app === id)?.action;
      const configChanged = !rec || rec.stopping || action === 'RestartApplication' || action === 'StartApplication';
      const history = rec ? [{ version: rec.version, app: rec.app, configVersion: rec.lastConfigChangeAt }, ...rec.history].slice(0, this.opts.maxVersions) : [];
      // Back to a definition whose tasks may still run (a rollback): keep their config version,
      // so they count as current and are not restarted. `/restart` always gets a new one.
      const same = change.restart ? undefined : history.find((h) => h.configVersion !== undefined && !needsRestart(h.app, change.to!));
      const configVersion = !configChanged ? rec!.lastConfigChangeAt : same?.configVersion ?? version;
      const record: AppRecord = {
        ...(rec ?? {}),
        app: change.to,
        version,
        lastScalingAt: version,
        lastConfigChangeAt: configVersion,
        history,
        backoff: configChanged || !rec ? { failures: 0, delayUntil: 0 } : rec.backoff,
      };
      delete record.stopping;
      commands.push({ type: 'putApp', record });
    }
    const deployment: Deployment = {
      id: randomUUID(),
      version,
      affectedApps: [...changes.keys()],
      steps,
      currentStep: 0,
      previous,
      createdAt: now,
      deadline: now + this.opts.deploymentTimeoutSeconds * 1000,
      rollbackOnDeadline: options.rollbackOnDeadline ?? this.opts.rollbackOnDeadline,
    };
    if (steps.length > 0) commands.push({ type: 'putDeployment', deployment });
    await this.state.apply(commands);
    for (const [id, change] of changes) {
      if (change.to) this.bus.publish('api_post_event', { appDefinition: { ...appToJson(change.to), version }, uri: `/v2/apps${id}` });
    }
    for (const d of locking.values()) this.bus.publish('deployment_failed', { id: d.id, plan: this.planJson(d), reason: `replaced by ${deployment.id} (force)` });
    if (steps.length > 0) this.bus.publish('deployment_info', { plan: this.planJson(deployment), currentStep: steps[0] });
    this.kick();
    return { deploymentId: deployment.id, version };
  }

  /** The app record, or 404. Apps being removed count as gone. */
  getApp(appId: string): AppRecord {
    const rec = this.state.apps.get(absoluteId(appId));
    if (!rec || rec.stopping) throw new MarathonError('NOT_FOUND', `App '${absoluteId(appId)}' does not exist`);
    return rec;
  }

  /** Visible apps, sorted by id. */
  listApps(): AppRecord[] {
    return [...this.state.apps.values()].filter((r) => !r.stopping).sort((a, b) => a.app.id.localeCompare(b.app.id));
  }

  /** Kills tasks of an app; with `scale`, lowers `instances` by as many in a deployment. */
  async killTasks(taskIds: string[], options: { scale?: boolean; force?: boolean } = {}): Promise<{ tasks: TaskRecord[]; result?: ChangeResult }> {
    const tasks = taskIds.map((id) => this.state.tasks.get(id)).filter((t): t is TaskRecord => t !== undefined);
    const now = this.clock.now();
    let result: ChangeResult | undefined;
    if (options.scale) {
      const byApp = new Map<string, number>();
      for (const t of tasks) if (t.killRequestedAt === undefined) byApp.set(t.appId, (byApp.get(t.appId) ?? 0) + 1);
      const changes = new Map<string, AppChange>();
      for (const [appId, n] of byApp) {
        const rec = this.getApp(appId);
        changes.set(appId, { from: rec.app, to: { ...rec.app, instances: Math.max(0, rec.app.instances - n) } });
      }
      // Mark the tasks first, so the scale-down kills exactly these.
      await this.state.apply(tasks.map((t) => ({ type: 'putTask', task: { ...t, killRequestedAt: t.killRequestedAt ?? now, killReason: 'api' } })));
      result = await this.deploy(changes, { force: options.force ?? false });
    } else {
      await this.state.apply(tasks.map((t) => ({ type: 'putTask', task: { ...t, killRequestedAt: t.killRequestedAt ?? now, killReason: 'api' } })));
    }
    for (const t of tasks) {
      const grace = this.state.apps.get(t.appId)?.app.taskKillGracePeriodSeconds;
      await this.killQuietly(t.taskId, t.agentId, grace);
    }
    this.kick();
    return { tasks, ...(result ? { result } : {}) };
  }

  /** Cancels a deployment: with `force` it just stops; otherwise a rollback deployment starts. */
  async cancelDeployment(id: string, force: boolean): Promise<ChangeResult | undefined> {
    const d = this.state.deployments.get(id);
    if (!d) throw new MarathonError('NOT_FOUND', `DeploymentPlan ${id} does not exist`);
    await this.state.apply([{ type: 'deleteDeployment', id }]);
    this.bus.publish('deployment_failed', { id, plan: this.planJson(d), reason: force ? 'canceled (force)' : 'canceled; rolling back' });
    if (force) return undefined;
    return this.rollback(d);
  }

  /** The core's clock, in ms. */
  now(): number {
    return this.clock.now();
  }

  /** Clears an app's launch backoff (`DELETE /v2/queue/{id}/delay`). */
  async resetDelay(appId: string): Promise<void> {
    const rec = this.getApp(appId);
    await this.state.apply([{ type: 'putApp', record: { ...rec, backoff: { failures: 0, delayUntil: 0 } } }]);
    this.kick();
  }

  // ---------------------------------------------------------------- views

  /** Instances waiting for offers, with why they are blocked. */
  queue(): (QueueEntry & { delayUntil: number; whyBlocked?: string })[] {
    const out: (QueueEntry & { delayUntil: number; whyBlocked?: string })[] = [];
    const now = this.clock.now();
    for (const rec of this.listApps()) {
      const q = this.pending.get(rec.app.id);
      const plan = this.planOf(rec, now);
      const backingOff = rec.backoff.delayUntil > now;
      if (!q && !(backingOff && !plan.done)) continue;
      const why = this.blocked.get(rec.app.id);
      out.push({ appId: rec.app.id, count: q?.count ?? Math.max(0, rec.app.instances - this.state.tasksOf(rec.app.id).length), since: q?.since ?? now, delayUntil: rec.backoff.delayUntil, ...(why ? { whyBlocked: why } : {}) });
    }
    return out;
  }

  /** Why a deployment does not progress (its current step's apps), or undefined. */
  whyBlocked(d: Deployment): string | undefined {
    const step = d.steps[d.currentStep];
    const reasons = (step?.actions ?? []).map((a) => {
      const why = this.blocked.get(a.app);
      return why ? `${a.app}: ${why}` : undefined;
    }).filter((x): x is string => x !== undefined);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  /** The reason an app is blocked, if any. */
  blockedReason(appId: string): string | undefined {
    return this.blocked.get(appId);
  }

  /** Marathon's deployment plan JSON. */
  planJson(d: Deployment): Record<string, unknown> {
    return { id: d.id, version: d.version, steps: d.steps, original: {}, target: {} };
  }
}

