import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FrameworkInfo_Capability, type Event, type KillRequest, type Logger, type MasterMessage, type Offer, type TimerHandle } from '@meso/proto';
import type { StateStore } from '@meso/state';
import { markUnreachable } from './agents/agent-health.js';
import { markGone } from './agents/agent-removal.js';
import { allocate } from './allocator/allocate.js';
import { DeferredCalls } from './calls/deferred-calls.js';
import { removeFramework } from './calls/framework-calls.js';
import { IdGenerator } from './ids.js';
import type { AgentLink, FrameworkLink } from './links.js';
import { apply } from './model/apply.js';
import type { MasterCommand } from './model/commands.js';
import { createModel, type FrameworkRecord, type MasterModel, type OfferRecord } from './model/model.js';
import { Registry } from './model/registry.js';
import { allocatorInput } from './model/snapshots.js';
import { recoverRoles } from './roles/role-recovery.js';
import { MasterMetrics } from './observe/metrics.js';
import { offersToWire } from './observe/wire-views.js';
import type { ResolvedMasterOptions } from './options.js';
import { FaultInjector } from './transport/fault-injection.js';

/** An allocation cycle this long (ms) or longer is followed by as long for other work (see `requestAllocation`). */
const LONG_CYCLE_MS = 20;

/**
 * A call about a task the master cannot answer yet (its agent has not re-registered after a
 * master restart): an explicit reconciliation, or a KILL.
 */
export type DeferredCall =
  | { kind: 'reconcile'; frameworkId: string; taskId: string; agentId?: string }
  | { kind: 'kill'; frameworkId: string; request: KillRequest };

/**
 * A KILL of a task whose agent is away (DISCONNECTED or UNREACHABLE), remembered in memory
 * only (not in the registry) and sent as KillTask when the agent re-registers reporting the
 * task; dropped when it re-registers without it or becomes GONE. As Mesos's
 * `Slave::killedTasks`.
 */
export interface PendingKill {
  agentId: string;
  frameworkId: string;
  taskId: string;
  killPolicy?: KillRequest['killPolicy'];
}

/** Liveness bookkeeping of one connected agent. */
export interface AgentConnection {
  link: AgentLink;
  /** Pings sent but not answered, in a row. */
  missed: number;
  awaitingPong: boolean;
  seq: number;
  pingTimer?: TimerHandle;
}

/**
 * The master's core: the model and its one write path (`commit`), the live links to
 * agents and frameworks, and the timers (allocation, heartbeats, failover, offer
 * timeouts). The calls themselves live in `calls/` and `agents/`, as functions of this
 * core; the transports in `transport/` only translate.
 */
export class Master {
  readonly model: MasterModel;
  readonly ids: IdGenerator;
  readonly metrics = new MasterMetrics();
  readonly frameworkLinks = new Map<string, FrameworkLink>();
  readonly agentConnections = new Map<string, AgentConnection>();
  readonly logger: Logger;
  /** Test-only message faults, applied by the transports (off by default). */
  readonly faults: FaultInjector;
  /** Reconciliations and kills waiting for an agent to re-register after a master restart (or to time out). */
  readonly deferredCalls = new DeferredCalls();
  /** Kills waiting for the task's agent to come back, by task key (see `PendingKill`). */
  readonly pendingKills = new Map<string, PendingKill>();
  /** Links whose registration waits for its registry write (see `registerAgent`); `closed` once the link closed meanwhile. */
  readonly admissions = new Map<AgentLink, { closed: boolean }>();
  /** Agents recovered from the registry as RECOVERING, until seen otherwise (see `recovering`). */
  private readonly recoveredAgents = new Set<string>();
  private readonly removalTimers = new Map<string, TimerHandle>();
  private readonly failoverTimers = new Map<string, TimerHandle>();
  private readonly unreachableTimers = new Map<string, TimerHandle>();
  private readonly offerTimers = new Map<string, TimerHandle>();
  private allocationTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private allocationQueued = false;
  /** A requested cycle held back after a long one (see `requestAllocation`). */
  private allocationDelay: NodeJS.Timeout | undefined;
  /** Allocation cycles this long (ms) or longer yield to other work (see `requestAllocation`); tests lower it. @internal */
  longCycleMs = LONG_CYCLE_MS;
  /** The last computed cycle: when it ended and how long it took (ms, performance.now()). */
  private lastCycle = { endedAt: 0, ms: 0 };
  /** After a cycle that decided nothing: the allocation version it saw, and until when the live filters stay as they were. */
  private idleAllocation: { version: number; until: number } | undefined;
  private readonly observers = new Set<(cmd: MasterCommand) => void>();
  private closed = false;

  private constructor(
    readonly options: ResolvedMasterOptions,
    private readonly registry: Registry,
    masterId: string,
  ) {
    this.model = createModel(masterId, options.clock.now());
    this.ids = new IdGenerator(masterId);
    this.logger = options.logger.child('core', { masterId });
    this.faults = new FaultInjector(options.faultInjection, Math.random, (action, direction, kind) => {
      this.metrics.countFault(action);
      this.logger.debug('fault injected', { action, direction, kind });
    });
  }

  /** Builds a master over a state store, recovering the registry; starts its timers. */
  static async create(options: ResolvedMasterOptions, store: StateStore, masterId: string = randomUUID()): Promise<Master> {
    const registry = new Registry(store, options.logger);
    const master = new Master(options, registry, masterId);
    await master.recover(registry);
    master.scheduleAllocationTimer();
    master.scheduleHeartbeat();
    return master;
  }

  private async recover(registry: Registry): Promise<void> {
    const recovered = await registry.recover();
    const now = this.now();
    for (const [agentId, a] of recovered.agents) {
      if (a.status === 'GONE') {
        this.commitLocal({ type: 'agentGone', agentId, hostname: a.hostname, at: a.goneTime ?? now });
        continue;
      }
      const unreachable = a.status === 'UNREACHABLE';
      this.commitLocal({
        type: 'agentRecovered',
        agentId,
        hostname: a.hostname,
        endpoint: a.endpoint,
        admittedTime: a.admittedTime,
        status: unreachable ? 'UNREACHABLE' : 'RECOVERING',
        ...(unreachable ? { unreachableTime: a.unreachableTime ?? now } : {}),
        ...(a.maintenance ? { maintenance: a.maintenance } : {}),
      });
      // An admitted agent must re-register within agentReregisterTimeoutMs of this start; an
      // unreachable one keeps the rest of its removal timeout.
      if (!unreachable) this.recoveredAgents.add(agentId);
      if (unreachable) this.startRemovalTimer(agentId, a.unreachableTime ?? now, () => markGone(this, agentId));
      else this.startUnreachableTimer(agentId, this.options.agentReregisterTimeoutMs, () => markUnreachable(this, agentId, 'did not re-register after the master restarted'));
    }
    for (const fw of recovered.frameworks) {
      if (fw.removed) {
        this.commitLocal({ type: 'frameworkRemovalRecovered', frameworkId: fw.id, name: fw.info.name, removedTime: fw.removedTime ?? 0 });
        continue;
      }
      this.commitLocal({
        type: 'frameworkRecovered',
        info: fw.info,
        registeredTime: fw.registeredTime,
        ...(fw.disconnectedTime !== undefined ? { unregisteredTime: fw.disconnectedTime } : {}),
      });
      // The failover timeout survives the master (Mesos forgets it, MESOS-4659): it counts
      // from the real disconnect, persisted. A framework still subscribed when the previous
      // master died lost its link now: that start is its disconnect, persisted in turn so a
      // second restart does not grant it a fresh timeout.
      // It also gets at least agentReregisterTimeoutMs, as agents do: it lost its link through
      // no fault of its own (so even failover_timeout=0 survives a master failover, as in Mesos).
      const wasSubscribed = fw.disconnectedTime === undefined;
      if (wasSubscribed) this.commitLocal({ type: 'frameworkDisconnected', frameworkId: fw.id, at: this.now() });
      this.startFailoverTimer(fw.id, wasSubscribed ? this.options.agentReregisterTimeoutMs : 0);
    }
    recoverRoles(this, this.options.weights, recovered.roles);
    this.logger.info('registry recovered', {
      frameworks: recovered.frameworks.filter((f) => !f.removed).length,
      removedFrameworks: recovered.frameworks.filter((f) => f.removed).length,
      agents: recovered.agents.size,
    });
  }

  /**
   * Whether an agent known from the registry has neither re-registered since this master
   * started nor been given up on (still RECOVERING). Amortized O(1): agents no longer
   * RECOVERING are dropped as they are met.
   */
  get recovering(): boolean {
    for (const id of this.recoveredAgents) {
      if (this.model.agents.get(id)?.status === 'RECOVERING') return true;
      this.recoveredAgents.delete(id);
    }
    return false;
  }

  get masterId(): string {
    return this.model.masterId;
  }

  now(): number {
    return this.options.clock.now();
  }

  /** Runs `fn`, logging instead of throwing: timers and event handlers must never crash the master. */
  safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.error(`${what} failed`, { error: e, stack: (e as Error)?.stack });
    }
  }

  /** Applies a command to the model and persists it; resolves when the registry has it. */
  commit(cmd: MasterCommand): Promise<void> {
    apply(this.model, cmd);
    const persisted = this.registry.record(cmd, this.model);
    for (const observer of this.observers) {
      try {
        observer(cmd);
      } catch (e) {
        this.logger.warn('state observer failed', { error: e });
      }
    }
    return persisted;
  }

  /**
   * Writes an agent's admission to the registry ahead of its `agentAdmitted` command (see
   * `Registry.recordAdmissionAhead`); undefined when the registry has it already.
   */
  persistAgentAhead(agent: { id: string; hostname: string; endpoint: string }, at: number): Promise<void> | undefined {
    return this.registry.recordAdmissionAhead(agent, at, this.model);
  }

  /** Resolves when every registry write issued so far has settled (durable or failed). */
  registryWritten(): Promise<void> {
    return this.registry.flush();
  }

  /** The Prometheus text of the master's metrics now. */
  renderMetrics(): string {
    this.metrics.deferredReconciliations = this.deferredCalls.count('reconcile');
    this.metrics.deferredKills = this.deferredCalls.count('kill') + this.pendingKills.size;
    return this.metrics.render(this.model);
  }

  /** Calls `fn` after every applied command (the operator event stream); returns the unsubscribe. */
  observe(fn: (cmd: MasterCommand) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Applies a command and logs (rather than surfaces) a registry failure. */
  commitLocal(cmd: MasterCommand): void {
    this.commit(cmd).catch(() => undefined);
  }

  isPartitionAware(fw: FrameworkRecord | undefined): boolean {
    return !!fw?.info.capabilities.includes(FrameworkInfo_Capability.PARTITION_AWARE);
  }

  /** Sends an event on the framework's stream; false when it is not connected. */
  sendToFramework(frameworkId: string, event: Event): boolean {
    const link = this.frameworkLinks.get(frameworkId);
    if (!link) return false;
    try {
      link.send(event);
      return true;
    } catch (e) {
      this.logger.warn('send to framework failed', { frameworkId, error: e });
      return false;
    }
  }

  /** Sends a message on the agent's link; false when it is not connected. */
  sendToAgent(agentId: string, message: MasterMessage): boolean {
    const conn = this.agentConnections.get(agentId);
    if (!conn) return false;
    try {
      conn.link.send(message);
      return true;
    } catch (e) {
      this.logger.warn('send to agent failed', { agentId, error: e });
      return false;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Allocation.

  /**
   * Asks for an allocation cycle soon; requests coalesce into one cycle. After a short cycle
   * (under LONG_CYCLE_MS) it runs on the next turn of the event loop; after a long one (10k
   * agents) not before as long again has passed, so that however many events ask for cycles,
   * allocation takes at most about half of the master's time and /state, calls and status
   * updates are served in between.
   */
  requestAllocation(): void {
    if (this.allocationQueued || this.closed) return;
    this.allocationQueued = true;
    const run = (): void => {
      this.allocationQueued = false;
      this.allocationDelay = undefined;
      this.runAllocation();
    };
    const wait = this.lastCycle.ms >= this.longCycleMs ? this.lastCycle.endedAt + this.lastCycle.ms - performance.now() : 0;
    if (wait > 0) this.allocationDelay = setTimeout(run, wait);
    else setImmediate(run);
  }

  /** The periodic cycle, every allocationIntervalMs (or, after a long cycle, at least as long as it took). */
  private scheduleAllocationTimer(): void {
    if (this.closed) return;
    const interval = this.options.allocationIntervalMs;
    const delay = this.lastCycle.ms >= this.longCycleMs ? Math.max(interval, this.lastCycle.ms) : interval;
    this.allocationTimer = this.options.clock.setTimeout(() => {
      this.runAllocation(); // never throws: failures are logged inside
      this.scheduleAllocationTimer();
    }, delay);
  }

  /**
   * Runs one allocation cycle now and sends the offers. A cycle is a pure function of the
   * model and of which filters are live, so when neither changed since a cycle that decided
   * nothing (the model's allocationVersion is the same and no filter expired since), it
   * would decide nothing again: it is counted and skipped (at 10k agents, a cycle costs
   * tens of milliseconds of an otherwise idle master, every allocation interval).
   */
  runAllocation(): void {
    if (this.closed) return;
    try {
      const now = this.now();
      const idle = this.idleAllocation;
      if (idle && idle.version === this.model.allocationVersion && now < idle.until) {
        this.metrics.countSkippedAllocation();
        return;
      }
      const started = performance.now();
      try {
        this.allocateAndOffer(now);
      } finally {
        const endedAt = performance.now();
        this.lastCycle = { endedAt, ms: endedAt - started };
      }
    } catch (e) {
      this.logger.error('allocation cycle failed', { error: e });
    }
  }

  private allocateAndOffer(now: number): void {
    const started = performance.now();
    const version = this.model.allocationVersion;
    const decisions = allocate(allocatorInput(this.model, now));
    const decidedIn = performance.now() - started;
    this.metrics.observeAllocation(decidedIn / 1000);
    this.idleAllocation = decisions.length === 0 ? { version, until: this.model.filters.nextExpiry(now) } : undefined;
    if (decisions.length === 0) return;
    const offers: OfferRecord[] = decisions.map((d) => ({ id: this.ids.offerId(), ...d, createdAt: now }));
    this.commitLocal({ type: 'offersCreated', offers });
    const made = offers.filter((o) => this.model.offers.has(o.id));
    for (const o of made) this.startOfferTimer(o.id);
    // After a long cycle the offers go out on the next turn of the event loop, so that what
    // arrived meanwhile (/state, calls) waits for half the work, not all of it.
    if (decidedIn >= this.longCycleMs) setImmediate(() => this.sendOffers(made));
    else this.sendOffers(made);
  }

  /** Sends offers to their frameworks, those still outstanding; a framework not connected has its offers rescinded. */
  private sendOffers(offers: readonly OfferRecord[]): void {
    if (this.closed) return;
    try {
      const live = offers.filter((o) => this.model.offers.has(o.id));
      const wire = offersToWire(this.model, live);
      const byFramework = new Map<string, { ids: string[]; wire: Offer[] }>();
      live.forEach((o, i) => {
        let group = byFramework.get(o.frameworkId);
        if (!group) byFramework.set(o.frameworkId, (group = { ids: [], wire: [] }));
        group.ids.push(o.id);
        group.wire.push(wire[i] as Offer);
      });
      for (const [frameworkId, group] of byFramework) {
        if (!this.sendToFramework(frameworkId, { event: { $case: 'offers', value: { offers: group.wire } } })) {
          this.rescindOffers(group.ids, 'framework not connected');
        }
      }
    } catch (e) {
      this.logger.error('sending offers failed', { error: e });
    }
  }


  private startOfferTimer(offerId: string): void {
    const timeout = this.options.offerTimeoutMs;
    if (timeout === undefined) return;
    this.offerTimers.set(
      offerId,
      this.options.clock.setTimeout(() => {
        this.offerTimers.delete(offerId);
        if (!this.model.offers.has(offerId)) return;
        this.rescindOffers([offerId], 'offer timed out');
        this.requestAllocation();
      }, timeout),
    );
  }

  /** Offers leave the model (consumed, declined, rescinded): stop their timers. */
  forgetOfferTimers(offerIds: Iterable<string>): void {
    for (const id of offerIds) {
      this.options.clock.clearTimeout(this.offerTimers.get(id));
      this.offerTimers.delete(id);
    }
  }

  /** Takes offers back and tells their frameworks (RESCIND). */
  rescindOffers(offerIds: readonly string[], reason: string): void {
    const offers = offerIds.map((id) => this.model.offers.get(id)).filter((o): o is OfferRecord => !!o);
    if (offers.length === 0) return;
    this.forgetOfferTimers(offers.map((o) => o.id));
    this.commitLocal({ type: 'offersRemoved', offerIds: offers.map((o) => o.id), filters: [], at: this.now() });
    for (const o of offers) {
      this.sendToFramework(o.frameworkId, { event: { $case: 'rescind', value: { offerId: { value: o.id }, reason } } });
    }
  }

  /** Rescinds every outstanding offer matching the predicate. */
  rescindWhere(predicate: (o: OfferRecord) => boolean, reason: string): void {
    this.rescindOffers([...this.model.offers.values()].filter(predicate).map((o) => o.id), reason);
  }

  // ---------------------------------------------------------------------------------------
  // Timers of frameworks and agents.

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.heartbeatTimer = this.options.clock.setTimeout(() => {
      for (const frameworkId of [...this.frameworkLinks.keys()]) {
        this.sendToFramework(frameworkId, { event: { $case: 'heartbeat', value: {} } });
      }
      this.scheduleHeartbeat();
    }, this.options.heartbeatIntervalSeconds * 1000);
  }

  /**
   * After failover_timeout without a re-subscription the framework is removed. The timeout
   * counts from the framework's disconnect (`unregisteredTime`, kept in the registry), so a
   * master restart does not reset it; `atLeastMs` is a floor (the grace after a restart).
   */
  startFailoverTimer(frameworkId: string, atLeastMs = 0): void {
    this.cancelFailoverTimer(frameworkId);
    const fw = this.model.frameworks.get(frameworkId);
    if (!fw) return;
    const since = fw.unregisteredTime ?? this.now();
    const ms = Math.max(atLeastMs, fw.info.failoverTimeout * 1000 - (this.now() - since));
    this.failoverTimers.set(
      frameworkId,
      this.options.clock.setTimeout(() => {
        this.failoverTimers.delete(frameworkId);
        const current = this.model.frameworks.get(frameworkId);
        if (!current || current.connected) return;
        this.logger.info('framework failover timeout expired', { frameworkId });
        removeFramework(this, frameworkId, 'failover timeout expired').catch((e: unknown) =>
          this.logger.error('removing framework failed', { frameworkId, error: e }),
        );
      }, ms),
    );
  }

  cancelFailoverTimer(frameworkId: string): void {
    this.options.clock.clearTimeout(this.failoverTimers.get(frameworkId));
    this.failoverTimers.delete(frameworkId);
  }

  /** The window a disconnected agent has to re-register: ping interval × max missed pings. */
  get agentReconnectWindowMs(): number {
    return this.options.agentPingIntervalSeconds * 1000 * this.options.maxMissedPings;
  }

  /** Schedules `fn` after `ms` unless the agent re-registers (which cancels it). */
  startUnreachableTimer(agentId: string, ms: number, fn: () => void): void {
    this.cancelUnreachableTimer(agentId);
    this.unreachableTimers.set(
      agentId,
      this.options.clock.setTimeout(() => {
        this.unreachableTimers.delete(agentId);
        this.safely('agent re-registration timeout', fn);
      }, ms),
    );
  }

  cancelUnreachableTimer(agentId: string): void {
    this.options.clock.clearTimeout(this.unreachableTimers.get(agentId));
    this.unreachableTimers.delete(agentId);
  }

  /** Schedules `fn` when the agent's removal timeout (counted from `since`) passes, unless it returns. */
  startRemovalTimer(agentId: string, since: number, fn: () => void): void {
    this.cancelRemovalTimer(agentId);
    const ms = Math.max(0, this.options.agentRemovalTimeoutMs - (this.now() - since));
    this.removalTimers.set(
      agentId,
      this.options.clock.setTimeout(() => {
        this.removalTimers.delete(agentId);
        this.safely('agent removal timeout', fn);
      }, ms),
    );
  }

  cancelRemovalTimer(agentId: string): void {
    this.options.clock.clearTimeout(this.removalTimers.get(agentId));
    this.removalTimers.delete(agentId);
  }

  /** Stops the timers and drops the links; waits for queued registry writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const clock = this.options.clock;
    clock.clearTimeout(this.allocationTimer);
    clearTimeout(this.allocationDelay);
    clock.clearTimeout(this.heartbeatTimer);
    for (const t of [...this.failoverTimers.values(), ...this.unreachableTimers.values(), ...this.removalTimers.values(), ...this.offerTimers.values()]) clock.clearTimeout(t);
    for (const conn of this.agentConnections.values()) {
      clock.clearTimeout(conn.pingTimer);
      try {
        conn.link.close();
      } catch {
        /* already closed */
      }
    }
    for (const link of this.frameworkLinks.values()) {
      try {
        link.close();
      } catch {
        /* already closed */
      }
    }
    this.agentConnections.clear();
    this.frameworkLinks.clear();
    await this.registry.flush();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
