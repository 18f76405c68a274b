import { isRetryableCode, isTerminalState, SchedulerError, type Clock, type Logger, type Offer, type Scheduler, type TaskStatus } from '@meso/sdk-scheduler';
import { volumeSizeFor } from './data-dir.js';
import { RedisFwError } from './errors.js';
import { planConvergence } from './converge.js';
import { decideFailover, type DetectionPolicy, type ProbeFailures } from './failover.js';
import { activeMembers, isLiveMember, masterOf, type InstanceRecord, type MemberRecord, type Observation } from './model.js';
import { missingMembers, planPlacements, type OfferSlot, type Placement } from './planner.js';
import { UNRESERVED } from './offer-ledger.js';
import { addressOf, planLaunch, planRelease } from './offer-operations.js';
import { Prober } from './prober.js';
import { checkCapacity, checkFeasible, checkReplicas, taskMemFor, V1_FIELDS, type AgentCapacity, type CreateRequest, type FieldNames } from './sizing.js';
import type { RedisState } from './state.js';
import { BAD_PORT_MS, backingOff, type FailedStarts } from './start-failures.js';

/** Tuning of the engine (all have defaults in {@link ENGINE_DEFAULTS}). */
export interface EngineTuning {
  /** The redis-server program on the agents. Defaults to `$MESO_REDIS_SERVER`, else `redis-server` on the PATH. */
  redisServer?: string;
  /** cpus of each server task. Defaults to 0.1. */
  taskCpus?: number;
  /** Milliseconds between rounds of INFO to every server. Defaults to 500. */
  monitorIntervalMs?: number;
  /** A master silent this long is down (Sentinel's down-after-milliseconds, 30 s there). Defaults to 3000. */
  downAfterMs?: number;
  /** Milliseconds a probe or command may take. Defaults to 1000. */
  probeTimeoutMs?: number;
  /** Seconds an offer left unused is refused while servers wait to be placed. Defaults to 1. */
  refuseSeconds?: number;
  /** The role fw-redis subscribes with and reserves for. Defaults to `redis`. */
  role?: string;
  /**
   * Keep each server's data on a persistent volume (resources reserved for `role`), so a server
   * restarted on the same agent finds its data. Needs a master that carries out RESERVE and
   * CREATE. Defaults to true; false keeps data in the sandbox (a replacement starts empty).
   */
  persistentVolumes?: boolean;
}

/** Defaults of {@link EngineTuning}. */
export const ENGINE_DEFAULTS = {
  redisServer: process.env['MESO_REDIS_SERVER'] || 'redis-server',
  taskCpus: 0.1,
  monitorIntervalMs: 500,
  downAfterMs: 3000,
  probeTimeoutMs: 1000,
  refuseSeconds: 1,
  role: 'redis',
  persistentVolumes: true,
} as const;

/** The calls the engine makes (a `Scheduler` has them all). */
export type SchedulerCalls = Pick<Scheduler, 'accept' | 'decline' | 'kill' | 'revive' | 'suppress' | 'reconcile' | 'events'>;

/** A promotion, as announced on `+switch-master`. */
export interface SwitchMaster {
  name: string;
  from?: { ip: string; port: number };
  to: { ip: string; port: number };
  epoch: number;
}

/** Counters shown by /metrics. */
export interface EngineCounters {
  launched: number;
  failovers: number;
  demotions: number;
  offersReceived: number;
  offersDeclined: number;
}

/** Members whose task may still be running (FENCED: killed by us, end not yet confirmed). */
const mayRun = (m: MemberRecord): boolean => m.state !== 'ENDED';
const withoutMaster = ({ masterTaskId: _, ...rest }: InstanceRecord): InstanceRecord => rest;
const instanceOfTask = (taskId: string): string | undefined => /^redis\.(.+)\.\d+$/.exec(taskId)?.[1];

/**
 * The scheduler loop of fw-redis. Offers in → placements (the pure {@link planPlacements}) out;
 * status updates move members along; a monitor round (INFO to every server) feeds the pure
 * {@link decideFailover} and converges every server to the recorded topology (the recorded
 * master is a master, everyone else replicates from it). Every change goes through
 * {@link RedisState.apply} (durable before acting) inside one serial section.
 */
export class RedisEngine {
  readonly counters: EngineCounters = { launched: 0, failovers: 0, demotions: 0, offersReceived: 0, offersDeclined: 0 };
  /** What each server last said, by task id. */
  readonly observations = new Map<string, Observation>();
  /** Agents learnt from offers: the most they could hold for us. */
  readonly agents = new Map<string, AgentCapacity>();
  /** Why an instance still short of members waits. */
  readonly waiting = new Map<string, string>();
  /** Seconds from the master's loss to the promotion's REPLICAOF NO ONE, per instance (last). */
  readonly lastFailoverMs = new Map<string, number>();
  private readonly o: Required<EngineTuning>;
  private readonly prober: Prober;
  private readonly listeners = new Set<(s: SwitchMaster) => void>();
  private readonly lastKill = new Map<string, number>();
  /** Per instance: servers that ended before they ever answered (see start-failures.ts). */
  private readonly failedStarts = new Map<string, FailedStarts>();
  /** `ip:port` → until when the port is not picked again (a server failed to start on it). */
  private readonly badPorts = new Map<string, number>();
  private serialTail: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private monitoring = false;
  private suppressed = false;
  private closed = false;
  /** Servers whose probes fail: since when (the first failure after their last answer), how many. */
  readonly failing = new Map<string, ProbeFailures>();
  /** Resolves when the event loop ended. */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly scheduler: SchedulerCalls,
    readonly state: RedisState,
    private readonly clock: Clock,
    private readonly log: Logger,
    tuning: EngineTuning = {},
  ) {
    this.o = { ...ENGINE_DEFAULTS, ...Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)) } as Required<EngineTuning>;
    this.prober = new Prober(this.o.probeTimeoutMs);
  }

  /** The policy of failure detection in force. */
  get detection(): DetectionPolicy {
    return { downAfterMs: this.o.downAfterMs, failedProbes: 2 };
  }

  /** Reconciles the members that may run, then runs the loop and the monitor. */
  async start(): Promise<void> {
    const tasks = [...this.state.instances.values()].flatMap((i) => i.members.filter(mayRun).map((m) => ({ taskId: m.taskId, agentId: m.agentId })));
    if (tasks.length > 0) {
      this.log.info(`reconciling ${tasks.length} servers from before the restart`);
      await this.scheduler.reconcile(tasks).catch((e: unknown) => this.log.warn(`reconcile failed: ${(e as Error).message}`));
    }
    this.done = this.loop();
    this.timer = setInterval(() => void this.monitor(), this.o.monitorIntervalMs);
    this.timer.unref();
  }

  /** Stops the monitor and closes the connections; the loop ends when the scheduler closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.serialTail.catch(() => undefined);
    this.prober.close();
  }

  /** Calls `listener` on every promotion (the discovery server publishes `+switch-master`). */
  onSwitchMaster(listener: (s: SwitchMaster) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `fn` after every earlier serial section: the one place state changes. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.serialTail.then(fn);
    this.serialTail = next.catch(() => undefined);
    return next;
  }

  nowMs(): number {
    return this.clock.now();
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

  // ---- the API's writes -----------------------------------------------------------------

  /**
   * Creates an instance (validated against the agents known); launches follow from offers.
   * `fields` names the request's fields in errors (MrRedis's names by default).
   */
  create(req: CreateRequest, fields: FieldNames = V1_FIELDS): Promise<InstanceRecord> {
    return this.serial(async () => {
      const existing = this.state.instances.get(req.name);
      if (existing && existing.status !== 'DELETED') throw new RedisFwError('INSTANCE_EXISTS', `instance ${req.name} exists (${existing.status})`, { field: 'name' });
      checkFeasible([...this.agents.values()], req.capacityMb, 1 + req.replicas, req.distribution, this.o.taskCpus, fields, this.volumeMb(req.capacityMb));
      const record: InstanceRecord = {
        name: req.name,
        capacityMb: req.capacityMb,
        replicas: req.replicas,
        distribution: req.distribution,
        status: 'CREATING',
        epoch: 0,
        members: [],
        nextSeq: (existing?.nextSeq ?? 0) + (existing ? 1 : 0),
        createdAt: this.clock.now(),
        failovers: [],
      };
      await this.state.apply({ type: 'putInstance', record });
      this.waiting.set(req.name, 'waiting for offers');
      await this.wake();
      return this.state.instances.get(req.name)!;
    });
  }

  /** Deletes an instance: every server is killed; the record stays as DELETED. */
  remove(name: string): Promise<InstanceRecord> {
    return this.serial(async () => {
      const inst = this.mustGet(name);
      if (inst.status === 'DELETED') return inst;
      const members = inst.members.map((m) => (isLiveMember(m) ? { ...m, state: 'FENCED' as const } : m));
      await this.put({ ...inst, status: 'DELETING', members });
      this.waiting.delete(name);
      for (const m of members.filter(mayRun)) await this.killMember(m);
      await this.wake(); // offers again, to give back its volumes and reservations
      return this.finishDeleteIfDone(name);
    });
  }

  /** Changes the number of replicas: new ones from offers, surplus ones (newest first) killed. */
  scale(name: string, replicasInput: unknown, fields: FieldNames = V1_FIELDS): Promise<InstanceRecord> {
    return this.serial(async () => {
      const replicas = checkReplicas(replicasInput, fields.replicas);
      const inst = this.mustLive(name);
      if (replicas > inst.replicas) checkFeasible([...this.agents.values()], inst.capacityMb, 1 + replicas, inst.distribution, this.o.taskCpus, fields, this.volumeMb(inst.capacityMb));
      const active = activeMembers(inst);
      const surplus = active.filter((m) => m.taskId !== inst.masterTaskId).sort((a, b) => b.seq - a.seq).slice(0, Math.max(0, active.length - 1 - replicas));
      const ids = new Set(surplus.map((m) => m.taskId));
      await this.put({ ...inst, replicas, members: inst.members.map((m) => (ids.has(m.taskId) ? { ...m, state: 'FENCED' as const } : m)) });
      for (const m of surplus) await this.killMember(m);
      await this.wake();
      return this.state.instances.get(name)!;
    });
  }

  /** Changes `maxmemory` of every server (CONFIG SET), within the memory their tasks were given. */
  updateMemory(name: string, mbInput: unknown, fields: FieldNames = V1_FIELDS): Promise<InstanceRecord> {
    return this.serial(async () => {
      const mb = checkCapacity(mbInput, fields.capacityMb);
      const inst = this.mustLive(name);
      const room = Math.min(...activeMembers(inst).map((m) => m.taskMemMb - taskMemFor(0)), Number.POSITIVE_INFINITY);
      if (mb > room) throw new RedisFwError('UNSATISFIABLE', `${fields.capacityMb}: ${mb} MB is above what the running servers' tasks were given (${room} MB); recreate the instance to grow it`, { field: fields.capacityMb });
      await this.put({ ...inst, capacityMb: mb });
      return this.state.instances.get(name)!;
    });
  }

  /** The volume a new server of this capacity gets (0 without volumes). */
  private volumeMb(capacityMb: number): number {
    return this.o.persistentVolumes ? volumeSizeFor(capacityMb) : 0;
  }

  private mustGet(name: string): InstanceRecord {
    const inst = this.state.instances.get(name);
    if (!inst) throw new RedisFwError('INSTANCE_NOT_FOUND', `no instance named ${name}`, { field: 'name' });
    return inst;
  }

  private mustLive(name: string): InstanceRecord {
    const inst = this.mustGet(name);
    if (inst.status === 'DELETING' || inst.status === 'DELETED') throw new RedisFwError('INVALID_STATE', `instance ${name} is ${inst.status}`, { field: 'name' });
    return inst;
  }

  private async put(record: InstanceRecord): Promise<void> {
    await this.state.apply({ type: 'putInstance', record });
  }

  private async wake(): Promise<void> {
    if (this.suppressed) {
      this.suppressed = false;
      await this.scheduler.revive().catch(() => undefined);
    }
  }

  private async finishDeleteIfDone(name: string): Promise<InstanceRecord> {
    const inst = this.state.instances.get(name)!;
    if (inst.status === 'DELETING' && !inst.members.some(mayRun)) {
      await this.put({ ...withoutMaster(inst), status: 'DELETED' });
      for (const m of inst.members) this.forget(m.taskId);
    }
    return this.state.instances.get(name)!;
  }

  private forget(taskId: string): void {
    this.prober.drop(taskId);
    this.observations.delete(taskId);
    this.failing.delete(taskId);
    this.lastKill.delete(taskId);
  }

  private async killMember(m: MemberRecord): Promise<void> {
    this.lastKill.set(m.taskId, this.clock.now());
    await this.scheduler.kill(m.taskId, { agentId: m.agentId }).catch((e: unknown) => this.log.warn(`kill ${m.taskId}: ${(e as Error).message}`));
  }

  // ---- offers and updates ---------------------------------------------------------------

  private learnAgent(offer: Offer): void {
    const mine = [...this.state.instances.values()].flatMap((i) => i.members.filter((m) => mayRun(m) && m.agentId === offer.agentId));
    const memMb = offer.resources.scalar('mem') + mine.reduce((s, m) => s + m.taskMemMb, 0);
    const cpus = offer.resources.scalar('cpus') + mine.length * this.o.taskCpus;
    // Disk: what is offered (free, reserved for us, our idle volumes) and the volumes our running servers hold.
    const diskMb = offer.resources.scalar('disk') + mine.reduce((s, m) => s + (m.volumeId ? volumeSizeFor(m.capacityMb) : 0), 0);
    const known = this.agents.get(offer.agentId);
    this.agents.set(offer.agentId, { agentId: offer.agentId, memMb: Math.max(memMb, known?.memMb ?? 0), cpus: Math.max(cpus, known?.cpus ?? 0), diskMb: Math.max(diskMb, known?.diskMb ?? 0) });
  }

  private async handleOffers(offers: Offer[]): Promise<void> {
    this.counters.offersReceived += offers.length;
    for (const offer of offers) this.learnAgent(offer);
    const now = this.clock.now();
    const short = [...this.state.instances.values()].filter((i) => missingMembers(i) > 0);
    const live = short.filter((i) => !backingOff(this.failedStarts.get(i.name), now));
    const slots: OfferSlot[] = offers.map((o) => ({
      offerId: o.id,
      agentId: o.agentId,
      memMb: o.resources.scalar('mem'),
      cpus: o.resources.scalar('cpus'),
      // (ports already used by our servers on a shared host are skipped when launching)
      ports: o.resources.ranges('ports').reduce((s, r) => s + r.end - r.begin + 1, 0),
      volumes: o.volumes.map((v) => v.id),
      diskMb: o.resources.scalar('disk', UNRESERVED),
    }));
    const { placements, waiting } = planPlacements(live, slots, this.o.taskCpus, this.o.persistentVolumes ? volumeSizeFor : undefined);
    for (const i of short) {
      const why = backingOff(this.failedStarts.get(i.name), now);
      if (why) waiting.set(i.name, why);
    }
    for (const i of live) if (!waiting.has(i.name)) this.waiting.delete(i.name);
    for (const [name, why] of waiting) this.waiting.set(name, why);
    const byOffer = new Map<string, Placement[]>();
    for (const p of placements) byOffer.set(p.offerId, [...(byOffer.get(p.offerId) ?? []), p]);
    const unused: string[] = [];
    for (const offer of offers) {
      const list = byOffer.get(offer.id);
      if (list) await this.launchIn(offer, list);
      else if (waiting.size > 0 || !(await this.releaseUnneeded(offer))) unused.push(offer.id);
    }
    if (unused.length > 0) {
      this.counters.offersDeclined += unused.length;
      await this.scheduler.decline(unused, { refuseSeconds: waiting.size > 0 ? this.o.refuseSeconds : 30 }).catch(() => undefined);
    }
    // Offers stop once nothing waits — unless they still hold volumes or reservations of ours to give back.
    const releasable = this.o.persistentVolumes && offers.some((o) => o.volumes.length > 0 || !o.resources.reservedFor(this.o.role).isEmpty());
    if (waiting.size === 0 && !releasable && ![...this.state.instances.values()].some((i) => missingMembers(i) > 0) && !this.suppressed) {
      this.suppressed = true;
      await this.scheduler.suppress().catch(() => undefined);
    }
  }

  /**
   * Records the members placed in one offer (LAUNCHING, durable), then launches them in one
   * ACCEPT: with persistent volumes, RESERVE (for the role) and CREATE (a volume per new server)
   * come first, and a replacement mounts the volume an ended server left on the agent.
   */
  private async launchIn(offer: Offer, placements: Placement[]): Promise<void> {
    const ip = addressOf(offer);
    const taken = new Set([...this.state.instances.values()].flatMap((i) => i.members.filter((m) => mayRun(m) && m.ip === ip).map((m) => m.port)));
    for (const [key, until] of this.badPorts) {
      if (until <= this.clock.now()) this.badPorts.delete(key);
      else if (key.startsWith(`${ip}:`)) taken.add(Number(key.slice(ip.length + 1)));
    }
    const plan = planLaunch(offer, placements, this.state.instances, { role: this.o.role, persistentVolumes: this.o.persistentVolumes, redisServer: this.o.redisServer, taskCpus: this.o.taskCpus, nowMs: this.clock.now(), takenPorts: taken });
    if (!plan) {
      await this.scheduler.decline(offer.id, { refuseSeconds: this.o.refuseSeconds }).catch(() => undefined);
      return;
    }
    for (const inst of plan.instances) await this.put(inst);
    try {
      await this.scheduler.accept([offer.id], plan.operations, { refuseSeconds: this.o.refuseSeconds });
      this.counters.launched += plan.specs.length;
    } catch (e) {
      // A refusal that will not be retried: these servers never start (a retryable failure is
      // reconciled by the SDK, and the master answers for each task).
      const retryable = e instanceof SchedulerError && isRetryableCode(e.code);
      this.log.warn(`launch of ${plan.specs.map((t) => t.taskId).join(', ')} on ${offer.agentId} failed: ${(e as Error).message}`);
      if (retryable) return;
      const ids = new Set(plan.specs.map((t) => t.taskId));
      for (const { name } of plan.instances) {
        const inst = this.state.instances.get(name)!;
        await this.put({ ...inst, members: inst.members.map((m) => (ids.has(m.taskId) ? { ...m, state: 'ENDED', endedAt: this.clock.now(), message: `launch refused: ${(e as Error).message}` } : m)) });
        this.waiting.set(name, `the last launch was refused: ${(e as Error).message}`);
      }
    }
  }

  /**
   * Gives back what fw-redis no longer needs in an offer: volumes of deleted instances or of
   * servers that ended and were replaced (DESTROY), and the role's reservations left unused
   * (UNRESERVE). Only when no instance waits for servers. Returns whether it used the offer.
   */
  private async releaseUnneeded(offer: Offer): Promise<boolean> {
    if (!this.o.persistentVolumes || offer.role !== this.o.role) return false;
    if ([...this.state.instances.values()].some((i) => missingMembers(i) > 0)) return false;
    const plan = planRelease(offer, this.state.instances.values(), this.o.role);
    if (!plan) return false;
    try {
      await this.scheduler.accept([offer.id], plan.operations, { refuseSeconds: this.o.refuseSeconds });
      this.log.info(`released on ${offer.agentId}: ${plan.destroyed.length} volume(s) (${plan.destroyed.map((v) => v.id).join(', ') || '-'}), reservations ${plan.unreserved.toString()}`);
      return true;
    } catch (e) {
      this.log.warn(`releasing on ${offer.agentId} failed: ${(e as Error).message}`);
      return false;
    }
  }

  private async handleUpdate(status: TaskStatus): Promise<void> {
    const name = instanceOfTask(status.taskId);
    const inst = name ? this.state.instances.get(name) : undefined;
    const member = inst?.members.find((m) => m.taskId === status.taskId);
    if (!inst || !member) {
      if (!isTerminalState(status.state) && name) {
        this.log.warn(`killing ${status.taskId}: a server fw-redis does not know`);
        await this.scheduler.kill(status.taskId, status.agentId ? { agentId: status.agentId } : {}).catch(() => undefined);
      }
      return;
    }
    if (isTerminalState(status.state)) {
      if (member.state === 'ENDED') return;
      const message = `${status.state}${status.message ? `: ${status.message}` : ''}`;
      this.log.info(`${member.taskId} (${inst.name}${member.taskId === inst.masterTaskId ? ', master' : ''}) ended: ${message}`);
      if (status.state === 'TASK_FAILED' && member.state !== 'FENCED' && !this.observations.has(member.taskId)) {
        // It never answered: do not relaunch in a tight loop, nor on the same port.
        const f = this.failedStarts.get(inst.name);
        this.failedStarts.set(inst.name, { count: (f?.count ?? 0) + 1, lastAt: this.clock.now(), message });
        this.badPorts.set(`${member.ip}:${member.port}`, this.clock.now() + BAD_PORT_MS);
      }
      await this.put({ ...inst, members: inst.members.map((m) => (m.taskId === member.taskId ? { ...m, state: 'ENDED', endedAt: this.clock.now(), message } : m)) });
      this.forget(member.taskId);
      if (inst.status === 'DELETING') await this.finishDeleteIfDone(inst.name);
      else if (member.taskId === inst.masterTaskId) await this.checkFailover(inst.name);
      await this.wake();
      return;
    }
    if (status.state === 'TASK_RUNNING' && member.state === 'LAUNCHING') {
      await this.put({ ...inst, members: inst.members.map((m) => (m.taskId === member.taskId ? { ...m, state: 'RUNNING' } : m)) });
    } else if (member.state === 'FENCED' && this.clock.now() - (this.lastKill.get(member.taskId) ?? 0) > 2000) {
      await this.killMember(member);
    }
  }

  // ---- monitoring, failover and convergence ------------------------------------------------

  /** One monitor round: INFO from every server that may run, then decisions per instance. */
  private async monitor(): Promise<void> {
    if (this.monitoring || this.closed) return;
    this.monitoring = true;
    const started = this.clock.now();
    try {
      const targets = [...this.state.instances.values()].flatMap((i) => i.members.filter((m) => mayRun(m) && m.port > 0));
      const seen = await Promise.all(targets.map(async (m) => [m.taskId, await this.prober.probe(m.taskId, m, () => this.clock.now())] as const));
      const at = this.clock.now();
      for (const [taskId, o] of seen) {
        if (o.ok) {
          const f = this.failing.get(taskId);
          if (f) this.log.info(`${taskId} answers again after ${f.count} failed probe(s)`);
          this.observations.set(taskId, o.observation);
          this.failing.delete(taskId);
        } else {
          const f = this.failing.get(taskId);
          if (!f) this.log.info(`probe of ${taskId} failed: ${o.reason}`);
          this.failing.set(taskId, { since: f?.since ?? at, count: (f?.count ?? 0) + 1 });
        }
      }
      // A server launched after the last failed start answers: the instance's backoff ends.
      for (const [name, f] of this.failedStarts) {
        if (targets.some((m) => instanceOfTask(m.taskId) === name && m.launchedAt >= f.lastAt && this.observations.has(m.taskId))) this.failedStarts.delete(name);
      }
      for (const name of [...this.state.instances.keys()]) {
        await this.serial(async () => {
          await this.checkFailover(name);
          await this.converge(name);
        }).catch((e: unknown) => this.log.warn(`monitoring ${name}: ${(e as Error).message}`));
      }
    } finally {
      this.monitoring = false;
      const took = this.clock.now() - started;
      if (took > this.o.probeTimeoutMs + this.o.monitorIntervalMs) this.log.warn(`a monitor round took ${took} ms (down-after is ${this.o.downAfterMs} ms): fw-redis or the machine is overloaded`);
    }
  }

  /** Decides (pure) and, when needed, records then carries out a failover. */
  private async checkFailover(name: string): Promise<void> {
    const inst = this.state.instances.get(name);
    if (!inst) return;
    const decision = decideFailover(inst, this.observations, this.failing, this.clock.now(), this.detection);
    if (decision.action === 'none') return;
    const old = masterOf(inst);
    const epoch = inst.epoch + 1;
    const fence = (m: MemberRecord): MemberRecord => (old && m.taskId === old.taskId && isLiveMember(m) ? { ...m, state: 'FENCED' } : m);
    const lostAt = old?.endedAt ?? this.failing.get(old?.taskId ?? '')?.since ?? this.clock.now();
    if (decision.action === 'replace-master') {
      this.log.warn(`${name}: ${decision.reason}; launching a new master (epoch ${epoch})`);
      await this.put({ ...withoutMaster(inst), epoch, members: inst.members.map(fence), failovers: [...inst.failovers, { epoch, at: this.clock.now(), ...(old ? { from: old.taskId } : {}), to: '(new master)', reason: decision.reason }].slice(-10) });
      await this.wake();
      return;
    }
    const to = inst.members.find((m) => m.taskId === decision.to)!;
    // Persist first: the epoch and the new master are durable before any server is touched.
    await this.put({ ...inst, epoch, masterTaskId: to.taskId, members: inst.members.map(fence), failovers: [...inst.failovers, { epoch, at: this.clock.now(), ...(old ? { from: old.taskId } : {}), to: to.taskId, reason: decision.reason }].slice(-10) });
    this.log.warn(`${name}: ${decision.reason}; promoting ${to.taskId} at ${to.ip}:${to.port} (epoch ${epoch})`);
    if (old && mayRun(old)) await this.killMember(old);
    await this.prober.command(to.taskId, to, 'REPLICAOF', 'NO', 'ONE').catch((e: unknown) => this.log.warn(`${name}: REPLICAOF NO ONE on ${to.taskId}: ${(e as Error).message} (retried by convergence)`));
    this.lastFailoverMs.set(name, this.clock.now() - lostAt);
    this.counters.failovers++;
    const current = this.state.instances.get(name)!;
    for (const m of activeMembers(current)) {
      if (m.taskId === to.taskId || m.state !== 'RUNNING') continue;
      await this.prober.command(m.taskId, m, 'REPLICAOF', to.ip, to.port).catch(() => undefined);
    }
    const event: SwitchMaster = { name, to: { ip: to.ip, port: to.port }, epoch, ...(old ? { from: { ip: old.ip, port: old.port } } : {}) };
    for (const l of this.listeners) l(event);
    await this.wake();
  }

  /** Carries out {@link planConvergence}: every answering server made to agree with the recorded topology. */
  private async converge(name: string): Promise<void> {
    const inst = this.state.instances.get(name);
    if (!inst) return;
    const actions = planConvergence(inst, this.observations, this.clock.now(), { downAfterMs: this.o.downAfterMs, rekillAfterMs: 5000, lastKillAt: (id) => this.lastKill.get(id) ?? 0 });
    const member = (taskId: string): MemberRecord => inst.members.find((m) => m.taskId === taskId)!;
    for (const a of actions) {
      if (a.type === 'running') {
        const master = masterOf(inst)!;
        this.log.info(`${name}: RUNNING (master ${master.ip}:${master.port}, ${inst.replicas} replicas in sync)`);
        await this.put({ ...inst, status: 'RUNNING' });
        this.waiting.delete(name);
        continue;
      }
      const m = member(a.taskId);
      if (a.type === 'kill') await this.killMember(m);
      else if (a.type === 'promote') await this.prober.command(m.taskId, m, 'REPLICAOF', 'NO', 'ONE').catch(() => undefined);
      else if (a.type === 'maxmemory') await this.prober.command(m.taskId, m, 'CONFIG', 'SET', 'maxmemory', `${a.mb}mb`).catch(() => undefined);
      else {
        if (a.wasMaster) {
          this.counters.demotions++;
          this.log.info(`${name}: ${m.taskId} answers as a master; making it a replica of ${a.to.ip}:${a.to.port}`);
        }
        await this.prober.command(m.taskId, m, 'REPLICAOF', a.to.ip, a.to.port).catch(() => undefined);
      }
    }
  }
}
