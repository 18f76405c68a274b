import { fileURLToPath } from 'node:url';
import { attributeText, isTerminalState, type Clock, type ExecutorSpec, type Logger, type Offer, type Scheduler, type TaskSpec, type TaskStatus } from '@meso/sdk-scheduler';
import { BatchError } from './errors.js';
import type { PendingTask, UserUsage } from './fair-share.js';
import { checkGraph, sameJob, validateJob, type Job } from './job.js';
import { placeTasks, unschedulableReason, type GroupState, type OfferView, type PlaceableTask } from './placement.js';
import { planPreemption, type RunningTask } from './preemption.js';
import { findStragglers, retryDelayMs } from './retry.js';
import { addScalars, type Scalars, ZERO } from './scalars.js';
import { BatchState, isLive, taskIdOf, type EndReason, type InstanceRecord, type JobRecord, type TaskRecord } from './state.js';

/** Tuning of the engine (all have defaults in {@link ENGINE_DEFAULTS}). */
export interface EngineTuning {
  /** Kill tasks of over-served users when that makes a waiting task of an under-served user fit. Defaults to false. */
  preemption?: boolean;
  /** Milliseconds between checks of max runtimes, stragglers and backoffs. Defaults to 250. */
  tickMs?: number;
  /** Seconds an offer left unused is refused while work waits. Defaults to 1. */
  refuseSeconds?: number;
  /** Launches per offer round at most. Defaults to 500. */
  maxLaunchesPerRound?: number;
  /** Absolute path of the built batch executor program. Defaults to this package's `dist/executor/main.js`. */
  executorPath?: string;
  /**
   * Cpus of the batch executor itself (one per agent, beside its tasks' resources). Defaults
   * to 0.1.
   */
  executorCpus?: number;
  /**
   * Memory (MB) of the batch executor itself. The agent's memory isolator holds the executor
   * and its tasks to the sum of their memory, and the executor is a Node process of about
   * 50-60 MB resident with a few tasks: below that it is killed with its tasks. Defaults to 128.
   */
  executorMemMb?: number;
}

/** Defaults of {@link EngineTuning}. */
export const ENGINE_DEFAULTS = {
  preemption: false,
  tickMs: 250,
  refuseSeconds: 1,
  maxLaunchesPerRound: 500,
  executorPath: fileURLToPath(new URL('./executor/main.js', import.meta.url)),
  executorCpus: 0.1,
  executorMemMb: 128,
} as const;

/** The executor id of the batch executor (one per agent). */
export const BATCH_EXECUTOR_ID = 'meso-batch-executor';

/** The calls the engine makes (a `Scheduler` has them all). */
export type SchedulerCalls = Pick<Scheduler, 'launch' | 'decline' | 'kill' | 'revive' | 'suppress' | 'reconcile' | 'events'>;

/** An agent as fw-batch learnt it from offers: capacity = the most it ever saw free plus its own use there. */
interface AgentInfo {
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
  capacity: Scalars;
  ports: number;
}

const scalarsOf = (r: { cpus: number; mem: number; disk: number; gpus: number }): Scalars => ({ cpus: r.cpus, mem: r.mem, disk: r.disk, gpus: r.gpus });
const maxScalars = (a: Scalars, b: Scalars): Scalars => ({ cpus: Math.max(a.cpus, b.cpus), mem: Math.max(a.mem, b.mem), disk: Math.max(a.disk, b.disk), gpus: Math.max(a.gpus, b.gpus) });

/** Counters shown by /metrics. */
export interface EngineCounters {
  launched: number;
  finished: number;
  failed: number;
  retried: number;
  preempted: number;
  stragglersKilled: number;
  maxRuntimeKills: number;
  offersReceived: number;
  offersDeclined: number;
}

/**
 * The scheduler loop of fw-batch: offers in, placements (the pure {@link placeTasks}) out;
 * status updates move attempts and tasks along; a tick enforces max runtimes, kills stragglers
 * and revives offers when backoffs expire. Every change goes through {@link BatchState.apply}
 * (durable before acting) inside one serial section, so decisions see a consistent snapshot.
 */
export class BatchEngine {
  readonly counters: EngineCounters = { launched: 0, finished: 0, failed: 0, retried: 0, preempted: 0, stragglersKilled: 0, maxRuntimeKills: 0, offersReceived: 0, offersDeclined: 0 };
  /** Why each pending task was not placed in the last offer round. */
  readonly lastReasons = new Map<string, string>();
  readonly agents = new Map<string, AgentInfo>();
  private readonly o: Required<EngineTuning>;
  private suppressed = false;
  private serialTail: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Resolves when the event loop ended. */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly scheduler: SchedulerCalls,
    readonly state: BatchState,
    private readonly clock: Clock,
    private readonly log: Logger,
    tuning: EngineTuning = {},
    private readonly random: () => number = Math.random,
  ) {
    this.o = { ...ENGINE_DEFAULTS, ...Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)) } as Required<EngineTuning>;
  }

  /** Reconciles the attempts that were live when the last process stopped, then runs the loop. */
  async start(): Promise<void> {
    const live = [...this.state.byTaskId.values()].filter(({ instance }) => isLive(instance));
    if (live.length > 0) {
      this.log.info(`reconciling ${live.length} attempts from before the restart`);
      await this.scheduler.reconcile(live.map(({ instance }) => ({ taskId: instance.taskId, ...(instance.agentId ? { agentId: instance.agentId } : {}) }))).catch((e: unknown) => this.log.warn(`reconcile failed: ${(e as Error).message}`));
    }
    this.done = this.loop();
    this.timer = setInterval(() => void this.serial(() => this.tick()).catch((e: unknown) => this.log.error(`tick failed: ${(e as Error).message}`)), this.o.tickMs);
    this.timer.unref();
  }

  /** The engine's clock, read. */
  nowMs(): number {
    return this.clock.now();
  }

  /** Stops the tick; the loop ends when the scheduler closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.serialTail.catch(() => undefined);
    await this.state.flush();
  }

  /** Runs `fn` after every earlier serial section: the one place state changes. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.serialTail.then(fn);
    this.serialTail = next.catch(() => undefined);
    return next;
  }

  private async loop(): Promise<void> {
    for await (const event of this.scheduler.events()) {
      try {
        if (event.type === 'offers') await this.serial(() => this.handleOffers(event.offers));
        else if (event.type === 'update') await this.serial(() => this.handleUpdate(event.status));
        else if (event.type === 'subscribed' && event.reconnected) {
          this.suppressed = false;
          await this.scheduler.revive().catch(() => undefined);
        } else if (event.type === 'error') this.log.error(`the master ended the framework: ${event.code} ${event.message}`);
      } catch (e) {
        this.log.error(`handling ${event.type} failed: ${(e as Error).message}`);
      }
    }
  }

  // ---- submission and the API's writes -------------------------------------------------

  /**
   * Submits jobs (validated together: a DAG may come in one request). A job whose id exists with
   * the same definition is returned as is (idempotent); with another definition it is refused
   * (JOB_CONFLICT). Nothing is stored unless everything is valid.
   */
  submit(inputs: unknown[]): Promise<JobRecord[]> {
    return this.serial(async () => {
      const jobs = inputs.map((x, i) => validateJob(x, `jobs[${i}]`));
      const seen = new Set<string>();
      jobs.forEach((j, i) => {
        if (seen.has(j.id)) throw new BatchError('INVALID_JOB', `jobs[${i}].id: ${j.id} appears twice`, { field: `jobs[${i}].id` });
        seen.add(j.id);
      });
      const fresh: Job[] = [];
      for (const j of jobs) {
        const existing = this.state.jobs.get(j.id);
        if (!existing) fresh.push(j);
        else if (!sameJob(existing.job, j)) throw new BatchError('JOB_CONFLICT', `job ${j.id} exists with another definition`, { field: 'id' });
      }
      checkGraph(fresh, (id) => this.state.jobs.get(id)?.job);
      const now = this.clock.now();
      // Tasks first, then jobs: a job record is only visible once all its tasks are durable.
      await Promise.all(fresh.flatMap((j) => Array.from({ length: j.instances }, (_, index) => this.state.apply({ type: 'putTask', record: { jobId: j.id, index, state: 'pending', failures: 0, notBefore: 0, attempts: [] } }))));
      for (const j of fresh) await this.state.apply({ type: 'putJob', record: { job: j, submittedAt: now, status: 'active', held: false } });
      for (const j of fresh) await this.settleDependents(j.id);
      await this.wake();
      return jobs.map((j) => this.state.jobs.get(j.id)!);
    });
  }

  /** Kills a job: pending instances end at once, running ones are killed; dependents fail or hold. */
  kill(jobId: string): Promise<JobRecord> {
    return this.serial(async () => {
      const rec = this.mustJob(jobId);
      if (rec.status !== 'active') return rec;
      for (const t of this.state.tasksOf(jobId)) {
        if (t.state === 'pending') await this.putTask({ ...t, state: 'killed' });
        for (const i of t.attempts.filter(isLive)) await this.endAttempt(t, i, 'killed');
      }
      await this.finishJobIfDone(jobId, 'killed');
      return this.state.jobs.get(jobId)!;
    });
  }

  /** Retries a failed or killed job: its failed/killed instances start over (counters reset); held dependents are released. */
  retry(jobId: string): Promise<JobRecord> {
    return this.serial(async () => {
      const rec = this.mustJob(jobId);
      if (rec.status === 'active' && rec.held) throw new BatchError('INVALID_STATE', `job ${jobId} is held by a failed dependency: retry the dependency (${rec.message ?? 'held'})`);
      if (rec.status === 'active') throw new BatchError('INVALID_STATE', `job ${jobId} is still active`);
      if (rec.status === 'succeeded') throw new BatchError('INVALID_STATE', `job ${jobId} succeeded`);
      for (const t of this.state.tasksOf(jobId)) if (t.state === 'failed' || t.state === 'killed') await this.putTask({ ...t, state: 'pending', failures: 0, notBefore: 0 });
      const { endedAt: _e, message: _m, ...rest } = rec;
      await this.state.apply({ type: 'putJob', record: { ...rest, status: 'active', held: false } });
      await this.releaseHolds(jobId);
      await this.wake();
      return this.state.jobs.get(jobId)!;
    });
  }

  /** Sets a user's weight (> 0) or quota; `undefined` removes it. */
  setPolicy(kind: 'weights' | 'quotas', values: Record<string, unknown>): Promise<void> {
    return this.serial(async () => {
      const policy = structuredClone(this.state.policy);
      const target = policy[kind] as Record<string, unknown>;
      for (const [user, v] of Object.entries(values)) {
        if (v === null) delete target[user];
        else target[user] = v;
      }
      await this.state.apply({ type: 'putPolicy', record: policy });
      await this.wake();
    });
  }

  private mustJob(id: string): JobRecord {
    const rec = this.state.jobs.get(id);
    if (!rec) throw new BatchError('JOB_NOT_FOUND', `no job ${id}`);
    return rec;
  }

  // ---- derived views -------------------------------------------------------------------

  /** What each user runs now. */
  usage(): Map<string, UserUsage> {
    const out = new Map<string, UserUsage>();
    for (const { task, instance } of this.state.byTaskId.values()) {
      if (!isLive(instance)) continue;
      const rec = this.state.jobs.get(task.jobId);
      if (!rec) continue;
      const u = out.get(rec.job.user) ?? { resources: ZERO, count: 0 };
      out.set(rec.job.user, { resources: addScalars(u.resources, scalarsOf(rec.job.resources)), count: u.count + 1 });
    }
    return out;
  }

  /** The cluster's size as learnt from offers. */
  total(): Scalars {
    let t = ZERO;
    for (const a of this.agents.values()) t = addScalars(t, a.capacity);
    return t;
  }

  /** Whether every dependency of the job succeeded. */
  depsReady(job: Job): boolean {
    return job.dependsOn.every((d) => this.state.jobs.get(d)?.status === 'succeeded');
  }

  /** Why the job can never run on the known agents, if so. */
  unschedulable(job: Job): string | undefined {
    return unschedulableReason({ resources: scalarsOf(job.resources), ports: job.resources.ports, constraints: job.constraints }, [...this.agents.values()]);
  }

  /** Instances that may be placed now (dependencies done, not held, backoff over). */
  pending(now = this.clock.now()): PlaceableTask[] {
    const out: PlaceableTask[] = [];
    for (const rec of this.state.jobs.values()) {
      if (rec.status !== 'active' || rec.held || !this.depsReady(rec.job)) continue;
      for (const t of this.state.tasksOf(rec.job.id)) {
        if (t.state !== 'pending' || t.notBefore > now) continue;
        out.push({ key: `${t.jobId}/${t.index}`, jobId: t.jobId, index: t.index, user: rec.job.user, priority: rec.job.priority, submittedAt: rec.submittedAt, resources: scalarsOf(rec.job.resources), ports: rec.job.resources.ports, constraints: rec.job.constraints, group: rec.job.group });
      }
    }
    return out;
  }

  /** Whether any instance waits (now or after a backoff) — revive while so, suppress otherwise. */
  private hasWork(): boolean {
    for (const rec of this.state.jobs.values()) {
      if (rec.status !== 'active' || rec.held || !this.depsReady(rec.job)) continue;
      if (this.state.tasksOf(rec.job.id).some((t) => t.state === 'pending')) return true;
    }
    return false;
  }

  private groupStates(): Map<string, GroupState> {
    const out = new Map<string, GroupState>();
    for (const rec of this.state.jobs.values()) {
      if (rec.status !== 'active' || !rec.job.group) continue;
      const g: GroupState = { hosts: new Set(), counts: new Map() };
      for (const t of this.state.tasksOf(rec.job.id))
        for (const i of t.attempts)
          if (isLive(i) || i.state === 'FINISHED') {
            if (isLive(i)) g.hosts.add(i.hostname);
            if (i.groupValue !== undefined) g.counts.set(i.groupValue, (g.counts.get(i.groupValue) ?? 0) + 1);
          }
      out.set(rec.job.id, g);
    }
    return out;
  }

  // ---- offers ---------------------------------------------------------------------------

  /** The offer as placement sees it; less the batch executor's own resources when `forExecutor` and it does not run there yet. */
  private offerView(offer: Offer, forExecutor: boolean): OfferView {
    const attributes: Record<string, string> = {};
    for (const a of offer.attributes) attributes[a.name] = attributeText(a);
    const r = offer.resources.allocatableTo(offer.role);
    const ports = r.ranges('ports').reduce((n, x) => n + Number(x.end) - Number(x.begin) + 1, 0);
    const ex = forExecutor && !offer.executorIds.includes(BATCH_EXECUTOR_ID) ? { cpus: this.o.executorCpus, mem: this.o.executorMemMb } : { cpus: 0, mem: 0 };
    const free = { cpus: Math.max(0, r.scalar('cpus') - ex.cpus), mem: Math.max(0, r.scalar('mem') - ex.mem), disk: r.scalar('disk'), gpus: r.scalar('gpus') };
    return { offerId: offer.id, agentId: offer.agentId, hostname: offer.hostname, attributes, free, ports };
  }

  private learnAgents(views: OfferView[]): void {
    const mine = new Map<string, Scalars>();
    for (const { task, instance } of this.state.byTaskId.values()) {
      if (!isLive(instance)) continue;
      const job = this.state.jobs.get(task.jobId)?.job;
      if (job) mine.set(instance.agentId, addScalars(mine.get(instance.agentId) ?? ZERO, scalarsOf(job.resources)));
    }
    for (const v of views) {
      const seen = addScalars(v.free, mine.get(v.agentId) ?? ZERO);
      const prev = this.agents.get(v.agentId);
      this.agents.set(v.agentId, { agentId: v.agentId, hostname: v.hostname, attributes: v.attributes, capacity: prev ? maxScalars(prev.capacity, seen) : seen, ports: Math.max(prev?.ports ?? 0, v.ports) });
    }
  }

  private async handleOffers(offers: Offer[]): Promise<void> {
    this.counters.offersReceived += offers.length;
    const now = this.clock.now();
    const pending = this.pending(now);
    const forExecutor = pending.some((p) => this.state.jobs.get(p.jobId)?.job.executor === 'batch');
    const views = offers.map((o) => this.offerView(o, forExecutor));
    this.learnAgents(views);
    const usage = this.usage();
    const result = placeTasks({ pending, offers: views, usage, total: this.total(), policy: this.state.policy, groups: this.groupStates(), attributeValues: this.attributeValues(), maxLaunches: this.o.maxLaunchesPerRound });
    this.lastReasons.clear();
    for (const [k, why] of result.unplaced) this.lastReasons.set(k, why);
    // Persist every attempt before anything is sent.
    const byOffer = new Map<string, { offer: Offer; specs: TaskSpec[]; attempts: { task: TaskRecord; instance: InstanceRecord }[] }>();
    for (const p of result.placements) {
      const t = this.state.tasks.get(p.task.key)!;
      const job = this.state.jobs.get(t.jobId)!.job;
      const attempt = t.attempts.length;
      const instance: InstanceRecord = { taskId: taskIdOf(t.jobId, t.index, attempt), attempt, agentId: p.agentId, hostname: p.hostname, executor: job.executor, state: 'LAUNCHING', launchedAt: now, ...(p.groupValue !== undefined ? { groupValue: p.groupValue } : {}) };
      const next: TaskRecord = { ...t, state: 'running', attempts: [...t.attempts, instance] };
      let entry = byOffer.get(p.offerId);
      if (!entry) byOffer.set(p.offerId, (entry = { offer: offers.find((o) => o.id === p.offerId)!, specs: [], attempts: [] }));
      entry.specs.push(this.taskSpec(job, t.index, instance.taskId));
      entry.attempts.push({ task: next, instance });
    }
    await Promise.all([...byOffer.values()].flatMap((e) => e.attempts.map((a) => this.putTask(a.task))));
    const work = this.hasWork();
    await Promise.all(
      [...byOffer.values()].map(async (e) => {
        try {
          await this.scheduler.launch(e.offer, e.specs, { refuseSeconds: work ? this.o.refuseSeconds : 30 });
          this.counters.launched += e.specs.length;
        } catch (err) {
          this.log.warn(`launch of ${e.specs.length} tasks on ${e.offer.hostname} failed: ${(err as Error).message}`);
          for (const a of e.attempts) {
            const t = this.state.tasks.get(`${a.task.jobId}/${a.task.index}`)!;
            const i = t.attempts.find((x) => x.taskId === a.instance.taskId);
            if (i && i.state === 'LAUNCHING') await this.attemptEnded(t, { ...i, endReason: 'launch-failed' }, 'LOST', { message: (err as Error).message });
          }
        }
      }),
    );
    const unused = offers.filter((o) => !byOffer.has(o.id));
    if (unused.length > 0) {
      this.counters.offersDeclined += unused.length;
      await this.scheduler.decline(unused.map((o) => o.id), { refuseSeconds: work ? this.o.refuseSeconds : 30 }).catch(() => undefined);
    }
    if (this.o.preemption) await this.preempt(result.unplaced, views.filter((v) => !byOffer.has(v.offerId)), now);
    if (!this.hasWork() && !this.suppressed) {
      this.suppressed = true;
      await this.scheduler.suppress().catch(() => {
        this.suppressed = false;
      });
    }
  }

  private attributeValues(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const a of this.agents.values())
      for (const [k, v] of Object.entries({ ...a.attributes, hostname: a.hostname })) {
        let s = out.get(k);
        if (!s) out.set(k, (s = new Set()));
        s.add(v);
      }
    return out;
  }

  private executorSpec(): ExecutorSpec {
    return {
      executorId: BATCH_EXECUTOR_ID,
      name: 'meso-batch executor',
      command: { argv: [process.execPath, this.o.executorPath] },
      resources: { cpus: this.o.executorCpus, mem: this.o.executorMemMb },
    };
  }

  private taskSpec(job: Job, index: number, taskId: string): TaskSpec {
    const resources: Record<string, number> = {};
    for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) if (job.resources[k] > 0) resources[k] = job.resources[k];
    const env = { ...job.env, MESO_BATCH_JOB: job.id, MESO_BATCH_INDEX: String(index) };
    const base = { taskId, name: `${job.id}[${index}]`, resources, ...(job.resources.ports > 0 ? { ports: job.resources.ports } : {}), labels: { ...job.labels, 'meso-batch/user': job.user } };
    if (job.executor === 'command') return { ...base, command: { ...job.command, env } as TaskSpec['command'] & object };
    return { ...base, executor: this.executorSpec(), data: JSON.stringify({ command: job.command, env }) };
  }

  private async preempt(unplaced: Map<string, string>, freeOffers: OfferView[], now: number): Promise<void> {
    if ([...this.state.byTaskId.values()].some(({ instance }) => isLive(instance) && instance.endReason === 'preempted')) return; // one plan at a time
    const usage = this.usage();
    const total = this.total();
    const running: RunningTask[] = [];
    for (const { task, instance } of this.state.byTaskId.values()) {
      if (instance.state !== 'RUNNING' || instance.endReason) continue;
      const job = this.state.jobs.get(task.jobId)!.job;
      running.push({ key: `${task.jobId}/${task.index}`, taskId: instance.taskId, user: job.user, agentId: instance.agentId, resources: scalarsOf(job.resources), startedAt: instance.startedAt ?? now });
    }
    const agents = [...this.agents.values()].map((a) => ({ agentId: a.agentId, hostname: a.hostname, attributes: a.attributes, free: freeOffers.filter((o) => o.agentId === a.agentId).reduce((acc, o) => addScalars(acc, o.free), ZERO) }));
    for (const p of this.pending(now)) {
      if (!unplaced.get(p.key)?.startsWith('no offer fits')) continue;
      const plan = planPreemption({ key: p.key, user: p.user, resources: p.resources, constraints: p.constraints }, running, agents, usage, total, this.state.policy);
      if (!plan) continue;
      this.log.info(`preempting ${plan.victims.map((v) => v.taskId).join(', ')} so that ${p.key} fits on ${plan.agentId}`);
      for (const v of plan.victims) {
        const entry = this.state.byTaskId.get(v.taskId)!;
        await this.endAttempt(entry.task, entry.instance, 'preempted');
        this.counters.preempted++;
      }
      return;
    }
  }

  // ---- updates ----------------------------------------------------------------------------

  private async handleUpdate(status: TaskStatus): Promise<void> {
    const entry = this.state.byTaskId.get(status.taskId);
    if (!entry) return;
    const t = this.state.tasks.get(`${entry.task.jobId}/${entry.task.index}`)!;
    const i = t.attempts.find((x) => x.taskId === status.taskId)!;
    if (!isLive(i)) {
      // An attempt fw-batch already gave up on came back (e.g. a launch thought failed): never let it run twice.
      if (!isTerminalState(status.state)) await this.scheduler.kill(status.taskId, status.agentId ? { agentId: status.agentId } : {}).catch(() => undefined);
      return;
    }
    const now = this.clock.now();
    const extra = { ...(status.sandbox ? { sandbox: status.sandbox } : {}), ...(status.message ? { message: status.message } : {}) };
    if (!isTerminalState(status.state)) {
      if (i.state === 'LAUNCHING' && (status.state === 'TASK_RUNNING' || status.state === 'TASK_STARTING')) {
        await this.replaceAttempt(t, { ...i, ...extra, state: 'RUNNING', startedAt: now, ...(status.agentId ? { agentId: status.agentId } : {}) });
      }
      return;
    }
    const s = status.state;
    const target: InstanceRecord['state'] = s === 'TASK_FINISHED' ? 'FINISHED' : s === 'TASK_KILLED' ? 'KILLED' : s === 'TASK_FAILED' ? 'FAILED' : 'LOST';
    await this.attemptEnded(t, i, target, { ...extra, ...(status.exitCode !== undefined ? { exitCode: status.exitCode } : {}) });
  }

  private async replaceAttempt(t: TaskRecord, i: InstanceRecord, taskState: TaskRecord['state'] = t.state, more: Partial<TaskRecord> = {}): Promise<void> {
    await this.putTask({ ...t, ...more, state: taskState, attempts: t.attempts.map((x) => (x.taskId === i.taskId ? i : x)) });
  }

  private putTask(t: TaskRecord): Promise<void> {
    return this.state.apply({ type: 'putTask', record: t });
  }

  /** Asks the master to kill a live attempt, remembering why (the update settles it). */
  private async endAttempt(t: TaskRecord, i: InstanceRecord, reason: EndReason): Promise<void> {
    const current = this.state.tasks.get(`${t.jobId}/${t.index}`)!;
    await this.replaceAttempt(current, { ...i, endReason: reason });
    await this.scheduler.kill(i.taskId, i.agentId ? { agentId: i.agentId } : {}).catch((e: unknown) => this.log.warn(`kill ${i.taskId}: ${(e as Error).message}`));
  }

  /**
   * An attempt ended: decide the instance's fate. Preemption and straggler kills, and attempts
   * that never started (lost launches), are not counted against maxRetries; a user's kill ends
   * the instance; anything else failing counts and is retried after a backoff while retries remain.
   */
  private async attemptEnded(t: TaskRecord, i: InstanceRecord, state: InstanceRecord['state'], extra: Partial<InstanceRecord>): Promise<void> {
    const job = this.state.jobs.get(t.jobId)!;
    const now = this.clock.now();
    const ended: InstanceRecord = { ...i, ...extra, state, endedAt: now };
    if (state === 'FINISHED') {
      this.counters.finished++;
      await this.replaceAttempt(t, ended, 'succeeded');
      await this.finishJobIfDone(t.jobId);
      return;
    }
    const reason = i.endReason;
    if (reason === 'killed' || job.status === 'killed') {
      await this.replaceAttempt(t, ended, 'killed');
      await this.finishJobIfDone(t.jobId);
      return;
    }
    const neverRan = i.state === 'LAUNCHING' && state === 'LOST';
    const counted = !(reason === 'preempted' || reason === 'straggler' || reason === 'launch-failed' || neverRan);
    const failures = t.failures + (counted ? 1 : 0);
    const final: InstanceRecord = { ...ended, counted, ...(reason ? {} : state === 'LOST' ? { endReason: 'lost' as const } : {}) };
    if (counted) this.counters.failed++;
    if (failures > job.job.maxRetries) {
      await this.replaceAttempt(t, final, 'failed', { failures });
      await this.finishJobIfDone(t.jobId);
      return;
    }
    this.counters.retried++;
    const delay = counted ? retryDelayMs(job.job.retry, failures, this.random()) : 0;
    await this.replaceAttempt(t, final, 'pending', { failures, notBefore: now + delay });
    await this.wake();
  }

  /** Ends the job once every instance ended; then its dependents move (start, fail or hold). */
  private async finishJobIfDone(jobId: string, forced?: 'killed'): Promise<void> {
    const rec = this.state.jobs.get(jobId)!;
    if (rec.status !== 'active') return;
    const tasks = this.state.tasksOf(jobId);
    if (!tasks.every((t) => t.state === 'succeeded' || t.state === 'failed' || t.state === 'killed')) return;
    const status = forced ?? (tasks.every((t) => t.state === 'succeeded') ? 'succeeded' : tasks.some((t) => t.state === 'failed') ? 'failed' : 'killed');
    await this.state.apply({ type: 'putJob', record: { ...rec, status, endedAt: this.clock.now() } });
    await this.settleDependents(jobId);
    await this.wake();
  }

  /** Applies the dependency failure policy to the dependents of `jobId` (transitively for `fail`). */
  private async settleDependents(jobId: string): Promise<void> {
    const rec = this.state.jobs.get(jobId);
    if (!rec) return;
    const failed = rec.status === 'failed' || rec.status === 'killed' || (rec.status === 'active' && rec.held);
    if (!failed) return;
    for (const d of this.state.jobs.values()) {
      if (d.status !== 'active' || !d.job.dependsOn.includes(jobId)) continue;
      if (d.job.onDependencyFailure === 'hold') {
        if (!d.held) {
          await this.state.apply({ type: 'putJob', record: { ...d, held: true, message: `held: dependency ${jobId} ${rec.status === 'active' ? 'is held' : rec.status}` } });
          await this.settleDependents(d.job.id);
        }
      } else {
        for (const t of this.state.tasksOf(d.job.id)) if (t.state === 'pending') await this.putTask({ ...t, state: 'failed' });
        await this.state.apply({ type: 'putJob', record: { ...d, status: 'failed', endedAt: this.clock.now(), message: `dependency ${jobId} ${rec.status === 'active' ? 'is held' : rec.status}` } });
        await this.settleDependents(d.job.id);
      }
    }
  }

  private async releaseHolds(jobId: string): Promise<void> {
    for (const d of this.state.jobs.values()) {
      if (!d.held || !d.job.dependsOn.includes(jobId)) continue;
      const stillFailed = d.job.dependsOn.some((x) => {
        const r = this.state.jobs.get(x);
        return r && (r.status === 'failed' || r.status === 'killed' || (r.status === 'active' && r.held));
      });
      if (stillFailed) continue;
      const { message: _m, ...rest } = d;
      await this.state.apply({ type: 'putJob', record: { ...rest, held: false } });
      await this.releaseHolds(d.job.id);
    }
  }

  /** Revives offers when work waits and offers are suppressed. */
  private async wake(): Promise<void> {
    if (this.suppressed && this.hasWork()) {
      this.suppressed = false;
      await this.scheduler.revive().catch(() => {
        this.suppressed = true;
      });
    }
  }

  // ---- the tick ----------------------------------------------------------------------------

  private async tick(): Promise<void> {
    if (this.closed) return;
    const now = this.clock.now();
    for (const rec of this.state.jobs.values()) {
      if (rec.status !== 'active') continue;
      const job = rec.job;
      const tasks = this.state.tasksOf(job.id);
      if (job.maxRuntimeMs > 0)
        for (const t of tasks)
          for (const i of t.attempts)
            if (i.state === 'RUNNING' && !i.endReason && now - (i.startedAt ?? i.launchedAt) > job.maxRuntimeMs) {
              this.counters.maxRuntimeKills++;
              await this.endAttempt(t, i, 'max-runtime');
            }
      if (job.stragglers && job.instances > 1) {
        const finished = tasks.flatMap((t) => t.attempts.filter((i) => i.state === 'FINISHED' && i.startedAt !== undefined).map((i) => i.endedAt! - i.startedAt!));
        const running = tasks.flatMap((t) => t.attempts.filter((i) => i.state === 'RUNNING' && !i.endReason).map((i) => ({ key: i.taskId, startedAt: i.startedAt ?? i.launchedAt })));
        for (const id of findStragglers(job.stragglers, finished, running, now)) {
          const e = this.state.byTaskId.get(id)!;
          this.counters.stragglersKilled++;
          await this.endAttempt(e.task, e.instance, 'straggler');
        }
      }
    }
    await this.wake();
  }
}

