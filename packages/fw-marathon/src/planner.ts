import { needsRestart, type AppDefinition, type KillSelection } from './app-definition.js';
import type { Deployment, DeploymentAction, TaskRecord } from './model.js';

/** What `planApp` looks at: one app, its target version, its tasks, and the time. */
export interface AppPlanInput {
  app: AppDefinition;
  version: string;
  tasks: readonly TaskRecord[];
  now: number;
  /** When the next launch may happen (launch backoff), ms. */
  delayUntil?: number;
  /** The app is being removed: every task goes. */
  stopping?: boolean;
  /**
   * Tasks of the app's readiness check not ready yet: they count as not healthy (a rolling
   * upgrade kills no old task for them, a deployment is not done). Defaults to none.
   */
  notReady?: ReadonlySet<string>;
}

/** What to do now for one app, and whether it reached its target. */
export interface AppPlan {
  /** How many new instances of the target version to launch. */
  launch: number;
  /** Tasks to kill, with why. */
  kill: { taskId: string; reason: 'scale' | 'upgrade' | 'unhealthy' | 'stop' }[];
  /** The app runs its target: `instances` tasks of `version`, all healthy, nothing else. */
  done: boolean;
  /** Why it is not done yet when nothing can be done about it here (backoff, health), else undefined. */
  waiting?: string;
  /** The bounds used: healthy instances never go below `floor` by our kills; tasks never above `ceiling`. */
  floor: number;
  ceiling: number;
}

/** Whether a task counts as healthy: running, not being killed, and healthy if the app has checks. */
export function isHealthyTask(task: TaskRecord, app: AppDefinition): boolean {
  if (task.state !== 'TASK_RUNNING' || task.killRequestedAt !== undefined) return false;
  return app.healthChecks.length === 0 || task.healthy === true;
}

/**
 * A task whose agent has been unreachable for `inactiveAfterSeconds`: it no longer counts (it is
 * replaced) but cannot be killed; it is forgotten after `expungeAfterSeconds`.
 */
export function isInactive(task: TaskRecord, app: AppDefinition, now: number): boolean {
  if (task.unreachableSince === undefined || app.unreachableStrategy === 'disabled') return false;
  return now - task.unreachableSince >= app.unreachableStrategy.inactiveAfterSeconds * 1000;
}

/** A running task its executor reported unhealthy: replaced, then killed. */
export function isSick(task: TaskRecord, app: AppDefinition): boolean {
  return app.healthChecks.length > 0 && task.state === 'TASK_RUNNING' && task.healthy === false && task.killRequestedAt === undefined;
}

/**
 * The upgrade bounds of Marathon: keep at least `ceil(instances × minimumHealthCapacity)`
 * healthy and run at most `floor(instances × (1 + maximumOverCapacity))`. When both are equal
 * (minimumHealthCapacity 1, maximumOverCapacity 0) nothing could move, so, as Marathon does,
 * one extra instance is allowed.
 */
export function upgradeBounds(app: AppDefinition): { floor: number; ceiling: number } {
  const n = app.instances;
  const floor = Math.max(0, Math.ceil(n * app.upgradeStrategy.minimumHealthCapacity - 1e-9));
  let ceiling = Math.floor(n * (1 + app.upgradeStrategy.maximumOverCapacity) + 1e-9);
  if (n > 0 && ceiling <= floor) ceiling = floor + 1;
  return { floor, ceiling };
}

/** Orders kill candidates: unhealthy and not-yet-running first, then by `killSelection`. */
export function selectForKill(tasks: readonly TaskRecord[], app: AppDefinition, count: number, selection: KillSelection = app.killSelection): TaskRecord[] {
  if (count <= 0) return [];
  const rank = (t: TaskRecord): number => (isSick(t, app) ? 0 : t.state !== 'TASK_RUNNING' ? 1 : !isHealthyTask(t, app) ? 2 : 3);
  return [...tasks]
    .sort((a, b) => rank(a) - rank(b) || (selection === 'YOUNGEST_FIRST' ? b.stagedAt - a.stagedAt : a.stagedAt - b.stagedAt) || a.taskId.localeCompare(b.taskId))
    .slice(0, count);
}

/**
 * Decides, for one app, what to launch and what to kill now. Pure: a function of the app, its
 * tasks and the time. Covers every deployment action the same way:
 * - start / scale: launch or kill (by `killSelection`) until `instances` tasks of the version run;
 * - restart / rolling upgrade: launch new-version tasks up to the ceiling, kill old ones only as
 *   far as the healthy count stays at or above the floor (unhealthy old ones first);
 * - stop: kill everything;
 * - health: a task its executor reports unhealthy is replaced first and killed once the
 *   replacement is healthy (or at once when the ceiling leaves no room for a replacement).
 */
export function planApp(input: AppPlanInput): AppPlan {
  const { version, now } = input;
  const tasks = input.tasks.filter((t) => !isInactive(t, input.app, now));
  const notReady = input.notReady;
  const app = input.app;
  const isHealthy = (t: TaskRecord, a: AppDefinition): boolean => isHealthyTask(t, a) && !(notReady?.has(t.taskId) ?? false);
  const n = input.stopping ? 0 : app.instances;
  const { floor, ceiling } = input.stopping ? { floor: 0, ceiling: 0 } : upgradeBounds(app);
  const live = tasks.filter((t) => t.killRequestedAt === undefined);
  const dying = tasks.length - live.length;
  const kill: AppPlan['kill'] = [];
  if (n === 0) {
    for (const t of live) kill.push({ taskId: t.taskId, reason: input.stopping ? 'stop' : 'scale' });
    return { launch: 0, kill, done: tasks.length === 0, floor, ceiling };
  }
  const current = live.filter((t) => t.version === version);
  const old = live.filter((t) => t.version !== version);
  const sick = current.filter((t) => isSick(t, app));
  const well = current.length - sick.length;
  const rolling = old.length > 0 || sick.length > 0;
  // Tasks being killed still run until their terminal update: they count against the ceiling.
  const used = tasks.length;
  const limit = Math.max(ceiling, n);
  let launch = Math.max(0, Math.min(n - well, limit - used));

  // Scale down: too many of the current version (only when nothing else is going on).
  if (!rolling && current.length > n) {
    for (const t of selectForKill(current, app, current.length - n)) kill.push({ taskId: t.taskId, reason: 'scale' });
  }

  let healthy = live.filter((t) => isHealthy(t, app)).length;
  // Unhealthy tasks: kill once a replacement is healthy, or at once if none can be started.
  const currentHealthy = current.filter((t) => isHealthy(t, app)).length;
  sick.forEach((t, i) => {
    if (currentHealthy >= n || (launch === 0 && well + i < n && used >= limit)) kill.push({ taskId: t.taskId, reason: 'unhealthy' });
  });
  // Rolling upgrade: old tasks that are not healthy go at once (they hold no capacity the floor
  // counts), healthy ones only as far as the floor allows.
  for (const t of old.filter((x) => !isHealthy(x, app))) kill.push({ taskId: t.taskId, reason: 'upgrade' });
  const oldHealthy = selectForKill(old.filter((x) => isHealthy(x, app)), app, old.length, 'OLDEST_FIRST');
  for (const t of oldHealthy) {
    if (healthy - 1 < floor) break;
    kill.push({ taskId: t.taskId, reason: 'upgrade' });
    healthy -= 1;
  }

  let waiting: string | undefined;
  if (launch > 0 && input.delayUntil !== undefined && input.delayUntil > now) {
    waiting = `backing off: next launch in ${Math.ceil((input.delayUntil - now) / 1000)} s after task failures`;
    launch = 0;
  }
  const done = old.length === 0 && dying === 0 && current.length === n && current.every((t) => isHealthy(t, app));
  if (!done && waiting === undefined && launch === 0 && kill.length === 0) {
    const unready = current.filter((t) => isHealthyTask(t, app) && notReady?.has(t.taskId)).length;
    const unhealthy = current.filter((t) => t.state === 'TASK_RUNNING' && !isHealthyTask(t, app)).length;
    const starting = current.filter((t) => t.state !== 'TASK_RUNNING').length;
    if (unready > 0) waiting = `waiting for ${unready} task(s) to pass the readiness check`;
    else if (unhealthy > 0) waiting = `waiting for ${unhealthy} task(s) to become healthy`;
    else if (starting > 0) waiting = `waiting for ${starting} task(s) to start`;
    else if (dying > 0) waiting = `waiting for ${dying} killed task(s) to end`;
    else if (used >= limit) waiting = `at the capacity ceiling (${limit}); waiting for old tasks to go`;
  }
  return { launch, kill, done, ...(waiting === undefined ? {} : { waiting }), floor, ceiling };
}

/** Launch backoff: `backoffSeconds × backoffFactor^(failures-1)`, capped at `maxLaunchDelaySeconds`, in ms. */
export function launchDelayMs(app: Pick<AppDefinition, 'backoffSeconds' | 'backoffFactor' | 'maxLaunchDelaySeconds'>, failures: number): number {
  if (failures <= 0) return 0;
  const seconds = Math.min(app.backoffSeconds * Math.pow(app.backoffFactor, failures - 1), app.maxLaunchDelaySeconds);
  return Math.round(seconds * 1000);
}

/** One app's change in a deployment: from (null = new) to (null = removed). */
export interface AppChange {
  from: AppDefinition | null;
  to: AppDefinition | null;
  /** Force a restart even if the definition did not change (`/restart`). */
  restart?: boolean;
}

/** The action a change needs, or undefined when nothing changes. */
export function actionFor(change: AppChange): DeploymentAction['action'] | undefined {
  if (change.from === null && change.to === null) return undefined;
  if (change.from === null) return 'StartApplication';
  if (change.to === null) return 'StopApplication';
  if (change.restart || needsRestart(change.from, change.to)) return 'RestartApplication';
  if (change.from.instances !== change.to.instances) return 'ScaleApplication';
  return undefined;
}

/**
 * Orders a deployment's actions in steps. Pure. Apps start (or scale, or restart) after the
 * apps they depend on, in dependency levels; removed apps stop last, dependents before their
 * dependencies. Throws on a dependency cycle.
 */
export function planSteps(changes: ReadonlyMap<string, AppChange>): { actions: DeploymentAction[] }[] {
  const up: DeploymentAction[] = [];
  const down: DeploymentAction[] = [];
  for (const [app, change] of changes) {
    const action = actionFor(change);
    if (!action) continue;
    (action === 'StopApplication' ? down : up).push({ action, app });
  }
  const deps = (id: string): string[] => {
    const c = changes.get(id);
    return (c?.to ?? c?.from)?.dependencies ?? [];
  };
  const levels = (actions: DeploymentAction[]): DeploymentAction[][] => {
    const ids = new Set(actions.map((a) => a.app));
    const level = new Map<string, number>();
    const visiting = new Set<string>();
    const depth = (id: string): number => {
      const known = level.get(id);
      if (known !== undefined) return known;
      if (visiting.has(id)) throw new Error(`dependency cycle through ${id}`);
      visiting.add(id);
      const d = Math.max(-1, ...deps(id).filter((x) => ids.has(x)).map(depth)) + 1;
      visiting.delete(id);
      level.set(id, d);
      return d;
    };
    const out: DeploymentAction[][] = [];
    for (const a of actions) (out[depth(a.app)] ??= []).push(a);
    return out.filter((l) => l.length > 0).map((l) => l.sort((x, y) => x.app.localeCompare(y.app)));
  };
  return [...levels(up), ...levels(down).reverse()].map((actions) => ({ actions }));
}

/** The apps a deployment is still to touch (its current and later steps). */
export function lockedApps(d: Deployment): string[] {
  return d.steps.slice(d.currentStep).flatMap((s) => s.actions.map((a) => a.app));
}

/** Alias of `isHealthyTask`. */
export const isHealthy = isHealthyTask;
