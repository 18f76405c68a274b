import { describe, expect, it } from 'vitest';
import { normalizeApp, type AppDefinition } from './app-definition.js';
import type { TaskRecord } from './model.js';
import { actionFor, isHealthy, launchDelayMs, planApp, planSteps, selectForKill, upgradeBounds, type AppChange } from './planner.js';

const V1 = 'v1';
const V2 = 'v2';

function app(extra: Record<string, unknown> = {}): AppDefinition {
  return normalizeApp({ id: '/web', cmd: 'serve', instances: 3, ...extra });
}

let seq = 0;
function task(init: Partial<TaskRecord> = {}): TaskRecord {
  seq++;
  return { taskId: `t${seq}`, appId: '/web', version: V1, agentId: 'a1', host: 'h1', attributes: {}, ports: [], state: 'TASK_RUNNING', stagedAt: seq, ...init };
}

describe('upgradeBounds', () => {
  it.each([
    [4, 1, 1, 4, 8],
    [4, 0.5, 0, 2, 4],
    [3, 0.5, 0.5, 2, 4],
    [4, 1, 0, 4, 5], // both equal: one extra so the upgrade can move, as Marathon does
    [0, 1, 1, 0, 0],
  ])('instances %i, minHC %f, maxOC %f → floor %i, ceiling %i', (instances, minimumHealthCapacity, maximumOverCapacity, floor, ceiling) => {
    expect(upgradeBounds(app({ instances, upgradeStrategy: { minimumHealthCapacity, maximumOverCapacity } }))).toEqual({ floor, ceiling });
  });
});

describe('planApp', () => {
  it('start: launches every instance', () => {
    expect(planApp({ app: app(), version: V1, tasks: [], now: 0 })).toMatchObject({ launch: 3, kill: [], done: false });
  });

  it('scale up counts staging tasks, so nothing is launched twice', () => {
    const tasks = [task(), task({ state: 'TASK_STAGING' })];
    expect(planApp({ app: app(), version: V1, tasks, now: 0 }).launch).toBe(1);
  });

  it('scale down kills the youngest by default, the oldest on request', () => {
    const tasks = [task({ stagedAt: 1 }), task({ stagedAt: 2 }), task({ stagedAt: 3 }), task({ stagedAt: 4 })];
    expect(planApp({ app: app(), version: V1, tasks, now: 0 }).kill.map((k) => k.taskId)).toEqual([tasks[3]!.taskId]);
    expect(planApp({ app: app({ killSelection: 'OLDEST_FIRST' }), version: V1, tasks, now: 0 }).kill.map((k) => k.taskId)).toEqual([tasks[0]!.taskId]);
  });

  it('scale down kills tasks not yet running first', () => {
    const tasks = [task(), task(), task(), task({ state: 'TASK_STAGING', stagedAt: -1 })];
    expect(planApp({ app: app(), version: V1, tasks, now: 0 }).kill.map((k) => k.taskId)).toEqual([tasks[3]!.taskId]);
  });

  it('a killed task is replaced at once', () => {
    const tasks = [task(), task(), task({ killRequestedAt: 5 })];
    expect(planApp({ app: app(), version: V1, tasks, now: 10 }).launch).toBe(1);
  });

  it('backoff holds launches and says so', () => {
    const plan = planApp({ app: app(), version: V1, tasks: [], now: 1000, delayUntil: 4000 });
    expect(plan.launch).toBe(0);
    expect(plan.waiting).toMatch(/backing off: next launch in 3 s/);
  });

  it('done only when all instances of the version run healthy', () => {
    const hc = app({ healthChecks: [{ protocol: 'HTTP' }] });
    const tasks = [task({ healthy: true }), task({ healthy: true }), task()];
    const plan = planApp({ app: hc, version: V1, tasks, now: 0 });
    expect(plan.done).toBe(false);
    expect(plan.waiting).toMatch(/1 task\(s\) to become healthy/);
    expect(planApp({ app: hc, version: V1, tasks: tasks.map((t) => ({ ...t, healthy: true })), now: 0 }).done).toBe(true);
  });

  it('rolling upgrade with minHC 1: launches new up to the ceiling, kills no old before new are healthy', () => {
    const a = app({ upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.34 } });
    const old = [task(), task(), task()];
    const plan = planApp({ app: a, version: V2, tasks: old, now: 0 });
    expect(plan.launch).toBe(1);
    expect(plan.kill).toEqual([]);
    const withNew = [...old, task({ version: V2 })];
    expect(planApp({ app: a, version: V2, tasks: withNew, now: 0 }).kill.map((k) => k.reason)).toEqual(['upgrade']);
  });

  it('rolling upgrade with minHC 0.5 kills old ones down to the floor at once', () => {
    const a = app({ instances: 4, upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } });
    const plan = planApp({ app: a, version: V2, tasks: [task(), task(), task(), task()], now: 0 });
    expect(plan.kill).toHaveLength(2);
    expect(plan.launch).toBe(0); // ceiling 4: wait for the killed ones to go
  });

  it('old unhealthy tasks go first, whatever the floor', () => {
    const a = app({ healthChecks: [{ protocol: 'TCP' }] });
    const tasks = [task({ healthy: true }), task({ healthy: false }), task({ healthy: true })];
    const plan = planApp({ app: a, version: V2, tasks, now: 0 });
    expect(plan.kill.map((k) => k.taskId)).toEqual([tasks[1]!.taskId]);
  });

  it('an unhealthy task is replaced before it is killed', () => {
    const a = app({ healthChecks: [{ protocol: 'HTTP' }] });
    const tasks = [task({ healthy: true }), task({ healthy: true }), task({ healthy: false })];
    const first = planApp({ app: a, version: V1, tasks, now: 0 });
    expect(first).toMatchObject({ launch: 1, kill: [] });
    const replaced = [...tasks, task({ healthy: true })];
    expect(planApp({ app: a, version: V1, tasks: replaced, now: 0 }).kill).toEqual([{ taskId: tasks[2]!.taskId, reason: 'unhealthy' }]);
  });

  it('tasks not past their readiness check hold the upgrade and the deployment', () => {
    const a = app({ instances: 1, upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 } });
    const old = task();
    const fresh = task({ version: V2 });
    const waiting = planApp({ app: a, version: V2, tasks: [old, fresh], now: 0, notReady: new Set([fresh.taskId]) });
    expect(waiting).toMatchObject({ kill: [], done: false, waiting: 'waiting for 1 task(s) to pass the readiness check' });
    expect(planApp({ app: a, version: V2, tasks: [old, fresh], now: 0 }).kill.map((k) => k.taskId)).toEqual([old.taskId]);
  });

  it('an unreachable task is replaced once inactive, never with the strategy disabled', () => {
    const a = app({ instances: 2, unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 } });
    const tasks = [task(), task({ state: 'TASK_UNREACHABLE', unreachableSince: 0 })];
    expect(planApp({ app: a, version: V1, tasks, now: 59_000 })).toMatchObject({ launch: 0, kill: [] });
    expect(planApp({ app: a, version: V1, tasks, now: 60_000 })).toMatchObject({ launch: 1, kill: [] });
    expect(planApp({ app: app({ instances: 2, unreachableStrategy: 'disabled' }), version: V1, tasks, now: 1e9 }).launch).toBe(0);
  });

  it('stop kills everything and is done when all ended', () => {
    const tasks = [task(), task()];
    expect(planApp({ app: app(), version: V1, tasks, now: 0, stopping: true }).kill).toHaveLength(2);
    expect(planApp({ app: app(), version: V1, tasks: [], now: 0, stopping: true }).done).toBe(true);
  });
});

/** A small deterministic random source (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('rolling upgrade property', () => {
  it('never goes below the healthy floor by its own kills, never above the ceiling, and finishes', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const instances = 1 + Math.floor(r() * 8);
      const minimumHealthCapacity = [0, 0.25, 0.5, 0.75, 1][Math.floor(r() * 5)]!;
      const maximumOverCapacity = [0, 0.25, 0.5, 1][Math.floor(r() * 4)]!;
      const a = app({ instances, healthChecks: [{ protocol: 'HTTP' }], upgradeStrategy: { minimumHealthCapacity, maximumOverCapacity } });
      const { floor, ceiling } = upgradeBounds(a);
      let tasks: TaskRecord[] = Array.from({ length: instances }, () => task({ healthy: true }));
      let rounds = 0;
      for (;;) {
        const plan = planApp({ app: a, version: V2, tasks, now: rounds });
        if (plan.done) break;
        expect(++rounds, `seed ${seed} did not finish`).toBeLessThan(500);
        const healthyBefore = tasks.filter((t) => isHealthy(t, a)).length;
        const killed = new Set(plan.kill.map((k) => k.taskId));
        tasks = tasks.map((t) => (killed.has(t.taskId) ? { ...t, killRequestedAt: rounds } : t));
        const healthyAfter = tasks.filter((t) => isHealthy(t, a)).length;
        if (healthyBefore >= floor) expect(healthyAfter, `seed ${seed}: below the floor ${floor}`).toBeGreaterThanOrEqual(floor);
        for (let i = 0; i < plan.launch; i++) tasks.push(task({ version: V2, state: 'TASK_STAGING' }));
        expect(tasks.length, `seed ${seed}: above the ceiling ${ceiling}`).toBeLessThanOrEqual(Math.max(ceiling, instances));
        // The world moves: some tasks start and turn healthy, some killed ones end.
        tasks = tasks
          .filter((t) => t.killRequestedAt === undefined || r() < 0.5)
          .map((t) => (t.state === 'TASK_STAGING' && r() < 0.6 ? { ...t, state: 'TASK_RUNNING' as const } : t))
          .map((t) => (t.state === 'TASK_RUNNING' && t.healthy === undefined && r() < 0.6 ? { ...t, healthy: true } : t));
      }
      expect(tasks.every((t) => t.version === V2)).toBe(true);
    }
  });
});

describe('selectForKill', () => {
  it('sick first, then by age', () => {
    const a = app({ healthChecks: [{ protocol: 'HTTP' }] });
    const ts = [task({ healthy: true, stagedAt: 1 }), task({ healthy: false, stagedAt: 2 }), task({ healthy: true, stagedAt: 3 })];
    expect(selectForKill(ts, a, 2).map((t) => t.stagedAt)).toEqual([2, 3]);
  });
});

describe('launchDelayMs', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 1150],
    [3, 1322],
    [100, 300_000],
  ])('after %i failures waits %i ms', (failures, ms) => {
    expect(launchDelayMs({ backoffSeconds: 1, backoffFactor: 1.15, maxLaunchDelaySeconds: 300 }, failures)).toBe(ms);
  });
});

describe('deployment steps', () => {
  const db = normalizeApp({ id: '/prod/db', cmd: 'db' });
  const web = normalizeApp({ id: '/prod/web', cmd: 'web', dependencies: ['/prod/db'] });
  const lb = normalizeApp({ id: '/prod/lb', cmd: 'lb', dependencies: ['web'] });

  it('actions per change', () => {
    expect(actionFor({ from: null, to: db })).toBe('StartApplication');
    expect(actionFor({ from: db, to: null })).toBe('StopApplication');
    expect(actionFor({ from: db, to: { ...db, instances: 5 } })).toBe('ScaleApplication');
    expect(actionFor({ from: db, to: { ...db, cmd: 'db2' } })).toBe('RestartApplication');
    expect(actionFor({ from: db, to: db, restart: true })).toBe('RestartApplication');
    expect(actionFor({ from: db, to: db })).toBeUndefined();
  });

  it('dependencies start first', () => {
    const changes = new Map<string, AppChange>([['/prod/lb', { from: null, to: lb }], ['/prod/web', { from: null, to: web }], ['/prod/db', { from: null, to: db }]]);
    expect(planSteps(changes).map((s) => s.actions.map((a) => a.app))).toEqual([['/prod/db'], ['/prod/web'], ['/prod/lb']]);
  });

  it('and stop last', () => {
    const changes = new Map<string, AppChange>([['/prod/db', { from: db, to: null }], ['/prod/web', { from: web, to: null }]]);
    expect(planSteps(changes).map((s) => s.actions.map((a) => a.app))).toEqual([['/prod/web'], ['/prod/db']]);
  });

  it('a cycle is refused', () => {
    const a = normalizeApp({ id: '/a', cmd: 'x', dependencies: ['/b'] });
    const b = normalizeApp({ id: '/b', cmd: 'x', dependencies: ['/a'] });
    expect(() => planSteps(new Map([['/a', { from: null, to: a }], ['/b', { from: null, to: b }]]))).toThrow(/cycle/);
  });
});
