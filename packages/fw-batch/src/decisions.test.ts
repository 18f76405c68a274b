import { describe, expect, it } from 'vitest';
import { fairShareOrder, type PendingTask, type SharePolicy, type UserUsage } from './fair-share.js';
import { placeTasks, unschedulableReason, type OfferView, type PlaceableTask } from './placement.js';
import { planPreemption, type AgentView, type RunningTask } from './preemption.js';
import { findStragglers, quantile, retryDelayMs } from './retry.js';
import { addScalars, dominantShare, fitsIn, type Scalars, ZERO } from './scalars.js';

const s = (cpus: number, mem: number): Scalars => ({ cpus, mem, disk: 0, gpus: 0 });
const noPolicy: SharePolicy = { weights: {}, quotas: {} };
let seq = 0;
const task = (user: string, cpus: number, mem: number, extra: Partial<PlaceableTask> = {}): PlaceableTask => {
  const jobId = extra.jobId ?? `${user}-j${seq++}`;
  const index = extra.index ?? 0;
  return { key: `${jobId}/${index}`, jobId, index, user, priority: 50, submittedAt: 0, resources: s(cpus, mem), ports: 0, constraints: [], group: undefined, ...extra };
};
const offer = (id: string, cpus: number, mem: number, attributes: Record<string, string> = {}): OfferView => ({ offerId: id, agentId: `agent-${id}`, hostname: `host-${id}`, attributes, free: s(cpus, mem), ports: 10 });
const place = (pending: PlaceableTask[], offers: OfferView[], policy = noPolicy, usage = new Map<string, UserUsage>(), total = s(100, 100_000)) =>
  placeTasks({ pending, offers, usage, total, policy, groups: new Map(), attributeValues: new Map() });

/** A small deterministic PRNG for property tests. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('dominant resource fairness', () => {
  it('orders users by dominant share ÷ weight (expected shares beside each step)', () => {
    // total cpus 10, mem 1000. alice runs 4 cpus (share 0.4), bob runs 100 mem (0.1) → bob first.
    const usage = new Map<string, UserUsage>([
      ['alice', { resources: s(4, 0), count: 4 }],
      ['bob', { resources: s(0, 100), count: 1 }],
    ]);
    const pending: PendingTask[] = [task('alice', 1, 10), task('bob', 1, 10), task('bob', 1, 10), task('bob', 1, 10)];
    const { order } = fairShareOrder(pending, usage, s(10, 1000), noPolicy);
    // bob 0.1 → 0.2 → 0.3 → then alice (0.4) vs bob(0.4): tie by name → alice.
    expect(order.map((t) => t.user)).toEqual(['bob', 'bob', 'bob', 'alice']);
    // with alice weighted 4, her weighted share is 0.1: alice goes first (tie with bob by name).
    const weighted = fairShareOrder(pending, usage, s(10, 1000), { weights: { alice: 4 }, quotas: {} });
    expect(weighted.order[0]!.user).toBe('alice');
  });

  it('quotas are hard caps and name what is over', () => {
    const usage = new Map<string, UserUsage>([['alice', { resources: s(2, 0), count: 2 }]]);
    const { order, overQuota } = fairShareOrder([task('alice', 1, 1), task('alice', 2, 1)], usage, s(10, 1000), { weights: {}, quotas: { alice: { cpus: 3 } } });
    expect(order).toHaveLength(1);
    expect([...overQuota.values()][0]).toBe('cpus: quota 3, running 3, needs 2');
  });

  it('property: on a saturated cluster the placed dominant shares converge to the weights', () => {
    const r = rng(42);
    for (let round = 0; round < 20; round++) {
      const wa = 1 + Math.floor(r() * 4);
      const wb = 1 + Math.floor(r() * 4);
      const pending: PlaceableTask[] = [];
      for (let i = 0; i < 300; i++) pending.push(task('a', 1, 10, { jobId: 'ja', index: i }), task('b', 1, 10, { jobId: 'jb', index: i }));
      const { placements } = place(pending, [offer('1', 100, 100_000)], { weights: { a: wa, b: wb }, quotas: {} });
      const a = placements.filter((p) => p.task.user === 'a').length;
      const b = placements.filter((p) => p.task.user === 'b').length;
      expect(a + b).toBe(100);
      expect(Math.abs(a / b - wa / wb)).toBeLessThan(0.15 * (wa / wb) + 0.05);
    }
  });
});

describe('placeTasks', () => {
  it('packs many tasks into one offer and never overcommits it', () => {
    const { placements } = place([task('u', 1, 100), task('u', 1, 100), task('u', 1, 100)], [offer('1', 2.5, 1000)]);
    expect(placements).toHaveLength(2);
  });

  it('a task that fits nowhere does not block the same user\'s smaller tasks (no head-of-line blocking)', () => {
    const big = task('u', 64, 100, { priority: 100 });
    const { placements, unplaced } = place([big, task('u', 1, 10), task('u', 1, 10)], [offer('1', 4, 1000)]);
    expect(placements.map((p) => p.task.resources.cpus)).toEqual([1, 1]);
    expect(unplaced.get(big.key)).toBe('no offer fits: host-1: cpus: need 64, have 4');
  });

  it('applies constraints and names the attribute', () => {
    const t = task('u', 1, 10, { constraints: [['rack', 'EQUALS', 'r2']] });
    const res = place([t], [offer('1', 4, 1000, { rack: 'r1' }), offer('2', 4, 1000, { rack: 'r2' })]);
    expect(res.placements[0]!.offerId).toBe('2');
    const none = place([t], [offer('1', 4, 1000, { rack: 'r1' })]);
    expect(none.unplaced.get(t.key)).toContain('constraint rack EQUALS r2 (has r1)');
  });

  it.each([
    ['unique-host', { type: 'unique-host' } as const, [1, 1, 1, 0]],
    ['balanced', { type: 'balanced', attribute: 'rack' } as const, [2, 2, 0, 0]],
  ])('group placement %s', (_name, group, _expected) => {
    const tasks = [0, 1, 2, 3].map((i) => task('u', 1, 10, { jobId: 'arr', index: i, group }));
    const offers = [offer('1', 10, 1000, { rack: 'r1' }), offer('2', 10, 1000, { rack: 'r2' }), offer('3', 10, 1000, { rack: 'r2' })];
    const res = placeTasks({ pending: tasks, offers, usage: new Map(), total: s(30, 3000), policy: noPolicy, groups: new Map(), attributeValues: new Map([['rack', new Set(['r1', 'r2'])]]) });
    if (group.type === 'unique-host') {
      expect(new Set(res.placements.map((p) => p.hostname)).size).toBe(3);
      expect(res.unplaced.get('arr/3')).toContain('already runs');
    } else {
      const perRack = res.placements.reduce((m, p) => m.set(p.groupValue!, (m.get(p.groupValue!) ?? 0) + 1), new Map<string, number>());
      expect([perRack.get('r1'), perRack.get('r2')]).toEqual([2, 2]);
    }
  });

  it('group same: all instances on the attribute value of the first', () => {
    const group = { type: 'same', attribute: 'rack' } as const;
    const tasks = [0, 1, 2].map((i) => task('u', 1, 10, { jobId: 'arr', index: i, group }));
    const res = place(tasks, [offer('1', 1, 1000, { rack: 'r1' }), offer('2', 10, 1000, { rack: 'r2' })]);
    expect(res.placements.map((p) => p.groupValue)).toEqual(['r1']);
    expect(res.unplaced.get('arr/1')).toContain('instances are on r1');
  });

  it('unschedulableReason: larger than any agent', () => {
    const agents = [{ hostname: 'h1', attributes: {}, capacity: s(2, 1000), ports: 100 }];
    expect(unschedulableReason({ resources: s(4, 10), ports: 0, constraints: [] }, agents)).toBe('larger than any agent or refused by constraints: h1: cpus: need 4, have 2');
    expect(unschedulableReason({ resources: s(1, 10), ports: 0, constraints: [] }, agents)).toBeUndefined();
  });

  it('property: placements never exceed any offer and respect quotas', () => {
    const r = rng(7);
    for (let round = 0; round < 50; round++) {
      const offers = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => offer(String(i), Math.floor(r() * 8), Math.floor(r() * 4000)));
      const pending = Array.from({ length: Math.floor(r() * 40) }, () => task(['a', 'b', 'c'][Math.floor(r() * 3)]!, Math.round(r() * 30) / 10, Math.floor(r() * 800)));
      const policy: SharePolicy = { weights: { a: 2 }, quotas: { c: { cpus: 3 } } };
      const { placements } = place(pending, offers, policy);
      for (const o of offers) {
        const used = placements.filter((p) => p.offerId === o.offerId).reduce((acc, p) => addScalars(acc, p.task.resources), ZERO);
        expect(fitsIn(o.free, used)).toBe(true);
      }
      const cCpus = placements.filter((p) => p.task.user === 'c').reduce((n, p) => n + p.task.resources.cpus, 0);
      expect(cCpus).toBeLessThanOrEqual(3 + 1e-9);
    }
  });
});

describe('planPreemption', () => {
  const total = s(8, 8000);
  const agent = (free: Scalars): AgentView => ({ agentId: 'a1', hostname: 'h1', attributes: {}, free });
  const run = (i: number, user: string, cpus: number, startedAt = i): RunningTask => ({ key: `k${i}`, taskId: `t${i}`, user, agentId: 'a1', resources: s(cpus, 100), startedAt });

  it('preempts the newest tasks of the over-served user until the waiting task fits', () => {
    const running = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => run(i, 'hog', 1));
    const usage = new Map<string, UserUsage>([['hog', { resources: s(8, 800), count: 8 }]]);
    const plan = planPreemption({ key: 'w', user: 'poor', resources: s(2, 100), constraints: [] }, running, [agent(ZERO)], usage, total, noPolicy);
    expect(plan?.victims.map((v) => v.key)).toEqual(['k7', 'k6']);
  });

  it('does not preempt when the task would not fit anyway', () => {
    const running = [run(0, 'hog', 1)];
    const usage = new Map<string, UserUsage>([['hog', { resources: s(1, 100), count: 1 }]]);
    expect(planPreemption({ key: 'w', user: 'poor', resources: s(4, 100), constraints: [] }, running, [agent(s(1, 1000))], usage, total, noPolicy)).toBeUndefined();
  });

  it('does not preempt a user that would fall below the waiting user', () => {
    const running = [run(0, 'x', 2), run(1, 'x', 2)];
    const usage = new Map<string, UserUsage>([['x', { resources: s(4, 200), count: 2 }], ['y', { resources: s(4, 400), count: 2 }]]);
    expect(planPreemption({ key: 'w', user: 'y', resources: s(2, 100), constraints: [] }, running, [agent(ZERO)], usage, total, noPolicy)).toBeUndefined();
  });

  it('property: a plan always makes the task fit, and never plans when it would not', () => {
    const r = rng(99);
    for (let round = 0; round < 200; round++) {
      const running = Array.from({ length: Math.floor(r() * 10) }, (_, i) => run(i, ['a', 'b'][Math.floor(r() * 2)]!, 0.5 + Math.floor(r() * 4) / 2));
      const usage = new Map<string, UserUsage>();
      for (const t of running) {
        const u = usage.get(t.user) ?? { resources: ZERO, count: 0 };
        usage.set(t.user, { resources: addScalars(u.resources, t.resources), count: u.count + 1 });
      }
      const free = s(Math.floor(r() * 3), 5000);
      const need = s(0.5 + Math.floor(r() * 8) / 2, 100);
      const plan = planPreemption({ key: 'w', user: 'c', resources: need, constraints: [] }, running, [agent(free)], usage, total, noPolicy);
      const everything = running.reduce((acc, t) => addScalars(acc, t.resources), free);
      if (plan) {
        const after = plan.victims.reduce((acc, v) => addScalars(acc, v.resources), free);
        expect(fitsIn(after, need)).toBe(true);
        expect(fitsIn(free, need)).toBe(false);
      } else if (!fitsIn(everything, need) || fitsIn(free, need)) {
        expect(plan).toBeUndefined();
      }
      if (!fitsIn(everything, need)) expect(plan).toBeUndefined();
    }
  });
});

describe('retries and stragglers', () => {
  const policy = { backoff: 'exponential' as const, delayMs: 100, maxDelayMs: 1000, jitter: 0 };
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [5, 1000],
    [50, 1000],
  ])('exponential backoff after %i failures: %i ms', (n, ms) => expect(retryDelayMs(policy, n, 0.5)).toBe(ms));
  it('fixed backoff with jitter stays within ± jitter', () => {
    const p = { ...policy, backoff: 'fixed' as const, jitter: 0.2 };
    expect(retryDelayMs(p, 3, 0)).toBe(80);
    expect(retryDelayMs(p, 3, 1)).toBe(120);
  });
  it('stragglers: far slower than the group quantile, once enough finished', () => {
    const sp = { quantile: 0.5, factor: 3, minFinished: 3 };
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    const running = [{ key: 'a', startedAt: 0 }, { key: 'b', startedAt: 995 }];
    expect(findStragglers(sp, [100, 100, 120], running, 1000)).toEqual(['a']);
    expect(findStragglers(sp, [100, 100], running, 1000)).toEqual([]);
  });
  it('dominantShare ignores resources the cluster has none of', () => {
    expect(dominantShare(s(1, 500), s(4, 1000))).toBe(0.5);
    expect(dominantShare({ cpus: 0, mem: 0, disk: 0, gpus: 1 }, s(4, 1000))).toBe(0);
  });
});
