import { Resources, SCALAR_SCALE, UNRESERVED_ROLE, type Resource } from '@meso/proto';
import { SchedulerError } from './errors.js';
import { isResources, resourcesOfSpec, taskVolumes, validateExecutor, validateScalarRecord, validateTaskSpec } from './task-spec.js';
import type { ExecutorSpec, Offer, Operation, TaskSpec } from './types.js';
import { afterCreate, afterDestroy, afterReserve, afterUnreserve, reservationResources, volumesResources } from './volumes.js';

/** A task placed in offers: the exact resources it takes (with roles) and the ports picked. */
export interface PlacedTask {
  spec: TaskSpec;
  /** Everything the task takes, picked ports included. */
  resources: Resources;
  /** The host ports picked for `spec.ports`, in order (PORT0, PORT1, ...). */
  ports: number[];
  /** The resources of the task's executor (`spec.executor`), when it has one. */
  executorResources?: Resources;
}

/** What `fitTasks` could place. */
export interface FitResult {
  /** Tasks that fit, in the order given, with their resources. */
  placed: PlacedTask[];
  /** Tasks that did not fit (or were invalid), each with a TASK_DOES_NOT_FIT or INVALID_TASK error. */
  unplaced: { task: TaskSpec; error: SchedulerError }[];
  /** What is left of the offers after the placed tasks. */
  remaining: Resources;
}

const toMillis = (x: number): number => Math.round(x * SCALAR_SCALE);

/** Reserved resources (the offer's role) before unreserved ones, so reservations are used first. */
function reservedFirst(a: Resource, b: Resource): number {
  const ar = a.role === UNRESERVED_ROLE ? 1 : 0;
  const br = b.role === UNRESERVED_ROLE ? 1 : 0;
  return ar - br || a.role.localeCompare(b.role);
}

interface Take {
  taken: Resource[];
  /** Scalar names short, with the amount asked. */
  short: Record<string, number>;
}

/** Takes scalar amounts from `left`, splitting over roles (reserved first). */
function takeScalars(left: Resources, need: Record<string, number>): Take {
  const taken: Resource[] = [];
  const short: Record<string, number> = {};
  const list = left.toList();
  for (const [name, amount] of Object.entries(need)) {
    let rest = toMillis(amount);
    if (rest <= 0) continue;
    // A persistent volume is taken only by name (TaskSpec.volumes), never as plain disk.
    const pools = list
      .filter((r): r is Extract<Resource, { kind: 'scalar' }> => r.name === name && r.kind === 'scalar' && r.volume === undefined)
      .sort(reservedFirst);
    for (const pool of pools) {
      if (rest <= 0) break;
      const t = Math.min(rest, toMillis(pool.value));
      if (t <= 0) continue;
      taken.push({ name, kind: 'scalar', value: t / SCALAR_SCALE, role: pool.role });
      rest -= t;
    }
    if (rest > 0) short[name] = amount;
  }
  return { taken, short };
}

/** Picks `count` ports, lowest first, reserved ranges first. */
function takePorts(left: Resources, count: number): { taken: Resource[]; ports: number[]; available: number } {
  const pools = left
    .toList()
    .filter((r): r is Extract<Resource, { kind: 'ranges' }> => r.name === 'ports' && r.kind === 'ranges')
    .sort(reservedFirst);
  const taken: Resource[] = [];
  const ports: number[] = [];
  let available = 0;
  for (const pool of pools) {
    const picked: number[] = [];
    for (const range of pool.ranges) {
      available += range.end - range.begin + 1;
      for (let p = range.begin; p <= range.end && ports.length + picked.length < count; p++) picked.push(p);
    }
    if (picked.length > 0) {
      taken.push({ name: 'ports', kind: 'ranges', ranges: picked.map((p) => ({ begin: p, end: p })), role: pool.role });
      ports.push(...picked);
    }
  }
  return { taken, ports, available };
}

/**
 * Packs tasks into one or more offers of the same agent, using the one resource arithmetic of
 * `@meso/proto` (`Resources`). Each `add` takes the task's resources out of what is left:
 * scalar records such as `{ cpus: 1, mem: 128 }` are taken from the offer's reserved resources
 * first, then unreserved ones; `ports: n` picks the n lowest free ports. A task that does not fit
 * is refused with a `TASK_DOES_NOT_FIT` error naming the resources short (from
 * `Resources.shortfall`), and leaves the builder unchanged.
 *
 * An executor's own resources are taken once per executor id (and not at all when the offer
 * says the executor already runs on the agent).
 *
 * @example
 * const builder = new OfferBuilder(offer);
 * for (const task of queue) if (builder.tryAdd(task)) queue.delete(task);
 * if (builder.tasks.length > 0) await scheduler.launch(offer, builder.tasks.map((t) => t.spec));
 */
export class OfferBuilder {
  /** The offers packed (all on one agent). */
  readonly offers: readonly Offer[];
  private left: Resources;
  private readonly placed: PlacedTask[] = [];
  private readonly executors = new Map<string, Resources>();
  private readonly runningExecutors: ReadonlySet<string>;
  /** Whether what is left may hold persistent volumes (else tasks skip setting them apart). */
  private hasVolumes: boolean;

  constructor(offers: Offer | readonly Offer[]) {
    const list: readonly Offer[] = Array.isArray(offers) ? offers : [offers as Offer];
    if (list.length === 0) throw new SchedulerError('INVALID_ARGUMENT', 'offers: at least one offer is needed', { field: 'offers' });
    const agentId = list[0]!.agentId;
    list.forEach((o, i) => {
      if (o.agentId !== agentId) {
        throw new SchedulerError(
          'OFFERS_ON_DIFFERENT_AGENTS',
          `offers[${i}]: offer ${o.id} is on agent ${o.agentId}, not ${agentId}; all offers of one launch must be on one agent`,
          { field: `offers[${i}]` },
        );
      }
    });
    this.offers = list;
    this.left = list.reduce((acc, o) => acc.add(o.resources), Resources.empty());
    this.hasVolumes = this.left.toList().some((r) => r.kind === 'scalar' && r.volume !== undefined);
    this.runningExecutors = new Set(list.flatMap((o) => o.executorIds));
  }

  /** The agent of the offers. */
  get agentId(): string {
    return this.offers[0]!.agentId;
  }

  /** The ids of the offers. */
  get offerIds(): string[] {
    return this.offers.map((o) => o.id);
  }

  /** What is left after the tasks added so far. */
  get remaining(): Resources {
    return this.left;
  }

  /** The tasks added so far, in order. */
  get tasks(): readonly PlacedTask[] {
    return this.placed;
  }

  /** Whether the task would fit in what is left (does not add it). */
  fits(task: TaskSpec): boolean {
    try {
      this.plan(task, 'task');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Adds a task, taking its resources. Throws TASK_DOES_NOT_FIT (naming what is short) or
   * INVALID_TASK (naming the field); the builder is unchanged then. `field` prefixes error fields.
   */
  add(task: TaskSpec, field = 'task'): PlacedTask {
    const { placed, left, executor } = this.plan(task, field);
    this.left = left;
    if (executor) this.executors.set(executor.id, executor.resources);
    this.placed.push(placed);
    return placed;
  }

  /** Adds the task if it fits; returns undefined (builder unchanged) if it does not. */
  tryAdd(task: TaskSpec): PlacedTask | undefined {
    try {
      return this.add(task);
    } catch (e) {
      if (e instanceof SchedulerError && e.code === 'TASK_DOES_NOT_FIT') return undefined;
      throw e;
    }
  }

  /**
   * Takes an executor's own resources (once per executor id; nothing if it already runs on the
   * agent) and returns them. Used for LAUNCH_GROUP, whose executor is named apart from the tasks.
   */
  addExecutor(executor: ExecutorSpec, field = 'executor'): Resources {
    validateExecutor(executor, field);
    const known = this.executors.get(executor.executorId);
    if (known) return known;
    const { resources, left } = this.takeExecutor(executor, this.left, field);
    this.left = left;
    this.executors.set(executor.executorId, resources);
    return resources;
  }

  private takeExecutor(executor: ExecutorSpec, left: Resources, field: string): { resources: Resources; left: Resources } {
    const known = this.executors.get(executor.executorId);
    if (known) return { resources: known, left };
    // A running executor's resources are already in use on the agent, not in the offer.
    if (this.runningExecutors.has(executor.executorId)) {
      return { resources: resourcesOfSpec(executor.resources, `${field}.resources`), left };
    }
    const resources = this.take(executor.resources ?? {}, 0, left, `${field}.resources`, `executor ${executor.executorId}`).resources;
    return { resources, left: left.subtract(resources) };
  }

  private plan(task: TaskSpec, field: string): { placed: PlacedTask; left: Resources; executor?: { id: string; resources: Resources } } {
    validateTaskSpec(task, field);
    let left = this.left;
    let executor: { id: string; resources: Resources } | undefined;
    if (task.executor) {
      const taken = this.takeExecutor(task.executor, left, `${field}.executor`);
      left = taken.left;
      executor = { id: task.executor.executorId, resources: taken.resources };
    }
    const taken = this.take(task.resources, task.ports ?? 0, this.hasVolumes ? left.withoutVolumes() : left, `${field}.resources`, `task ${task.taskId}`);
    let resources = taken.resources;
    if (task.volumes !== undefined) {
      const volumes = taskVolumes(task, field);
      const missing = left.shortfall(volumes);
      if (missing.length > 0) throw this.doesNotFit(`${field}.volumes`, `task ${task.taskId}`, missing);
      resources = resources.add(volumes);
    }
    const ports = taken.ports;
    left = left.subtract(resources);
    const placed: PlacedTask = { spec: task, resources, ports, ...(executor ? { executorResources: executor.resources } : {}) };
    return { placed, left, ...(executor ? { executor } : {}) };
  }

  /** Takes a resource spec plus `portCount` ports out of `left`, or throws TASK_DOES_NOT_FIT. */
  private take(
    spec: TaskSpec['resources'],
    portCount: number,
    left: Resources,
    field: string,
    what: string,
  ): { resources: Resources; ports: number[] } {
    const problems: string[] = [];
    let taken: Resource[] = [];
    if (isResources(spec)) {
      problems.push(...left.shortfall(spec));
      taken = spec.toList();
    } else {
      validateScalarRecord(spec, field);
      const scalars = takeScalars(left, spec);
      taken = scalars.taken;
      if (Object.keys(scalars.short).length > 0) {
        // Compare with everything the offers hold of each name, whatever the role.
        problems.push(...left.withRole(UNRESERVED_ROLE).shortfall(Resources.scalars(scalars.short)));
      }
    }
    let ports: number[] = [];
    if (portCount > 0) {
      const rest = left.subtract(Resources.of(taken));
      const picked = takePorts(rest, portCount);
      if (picked.ports.length < portCount) problems.push(`ports: need ${portCount}, have ${picked.available}`);
      taken = [...taken, ...picked.taken];
      ports = picked.ports;
    }
    if (problems.length > 0) throw this.doesNotFit(field, what, problems);
    return { resources: Resources.of(taken), ports };
  }

  private doesNotFit(field: string, what: string, problems: string[]): SchedulerError {
    const where = this.offers.length === 1 ? `offer ${this.offers[0]!.id}` : `offers ${this.offerIds.join(', ')}`;
    return new SchedulerError('TASK_DOES_NOT_FIT', `${what} does not fit in ${where} on ${this.offers[0]!.hostname || this.agentId}: ${problems.join('; ')}`, {
      field,
    });
  }

  /**
   * Applies a reservation or volume operation to what is left (as the master will, in order):
   * tasks added after it see the reserved resources / volumes. Throws INVALID_ARGUMENT or
   * RESOURCES_EXCEED_OFFER naming `field`; the builder is unchanged then. Returns the
   * operation's resources (reserve / unreserve) or volumes (create / destroy).
   */
  apply(op: Exclude<Operation, { type: 'launch' | 'launchGroup' }>, field: string): Resources {
    switch (op.type) {
      case 'reserve': {
        const resources = reservationResources(op.resources, `${field}.resources`);
        this.left = afterReserve(this.left, resources, `${field}.resources`);
        return resources;
      }
      case 'unreserve': {
        const resources = reservationResources(op.resources, `${field}.resources`);
        this.left = afterUnreserve(this.left, resources, `${field}.resources`);
        return resources;
      }
      case 'create': {
        const volumes = volumesResources(op.volumes, `${field}.volumes`);
        this.left = afterCreate(this.left, volumes, `${field}.volumes`);
        this.hasVolumes = true;
        return volumes;
      }
      case 'destroy': {
        const volumes = volumesResources(op.volumes, `${field}.volumes`);
        this.left = afterDestroy(this.left, volumes, `${field}.volumes`);
        return volumes;
      }
    }
  }
}

/**
 * Places tasks into offers of one agent, greedily in the order given; a task that does not fit
 * is skipped (later, smaller tasks may still fit). Pure: the offers are not changed.
 */
export function fitTasks(offers: Offer | readonly Offer[], tasks: readonly TaskSpec[]): FitResult {
  const builder = new OfferBuilder(offers);
  const unplaced: FitResult['unplaced'] = [];
  tasks.forEach((task, i) => {
    try {
      builder.add(task, `tasks[${i}]`);
    } catch (e) {
      if (e instanceof SchedulerError) unplaced.push({ task, error: e });
      else throw e;
    }
  });
  return { placed: [...builder.tasks], unplaced, remaining: builder.remaining };
}

/**
 * @internal A task launched on offers the SDK does not know (ids only): its resources as given
 * (scalar records as unreserved), no port picking.
 */
export function placeWithoutOffer(task: TaskSpec, field: string): PlacedTask {
  validateTaskSpec(task, field);
  if ((task.ports ?? 0) > 0) {
    throw new SchedulerError('INVALID_TASK', `${field}.ports: picking ports needs the offer; use launch(offer, tasks)`, {
      field: `${field}.ports`,
    });
  }
  const resources = resourcesOfSpec(task.resources, `${field}.resources`).add(taskVolumes(task, field));
  const executorResources = task.executor ? resourcesOfSpec(task.executor.resources, `${field}.executor.resources`) : undefined;
  return { spec: task, resources, ports: [], ...(executorResources ? { executorResources } : {}) };
}
