import { Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { allocate, isAllocatable } from './allocate.js';
import { dominantShare } from './shares.js';
import type { AllocatorAgent, AllocatorFramework, AllocatorInput } from './types.js';

const NOW = 1_000_000;
const r = (text: Record<string, number>): Resources => Resources.scalars(text);

function agent(id: string, total: Record<string, number>, available = total, active = true): AllocatorAgent {
  return { id, total: r(total), available: r(available), active };
}

function framework(id: string, roles: string[], allocation: Record<string, Record<string, number>> = {}, extra: Partial<AllocatorFramework> = {}): AllocatorFramework {
  return {
    id,
    roles,
    suppressedRoles: new Set(),
    active: true,
    allocation: new Map(Object.entries(allocation).map(([role, res]) => [role, r(res)])),
    ...extra,
  };
}

function input(partial: Partial<AllocatorInput>): AllocatorInput {
  return { agents: [], frameworks: [], filters: [], now: NOW, ...partial };
}

describe('dominantShare', () => {
  const total = r({ cpus: 9, mem: 18 });
  it.each([
    // allocation, expected dominant share: the larger of cpus/9 and mem/18
    [{ cpus: 3, mem: 12 }, 12 / 18], // mem dominates: 0.667
    [{ cpus: 6, mem: 2 }, 6 / 9], // cpus dominate: 0.667
    [{ cpus: 0, mem: 0 }, 0],
    [{ cpus: 9, mem: 18 }, 1],
  ])('of %j is %d', (alloc, expected) => {
    expect(dominantShare(r(alloc), total)).toBeCloseTo(expected, 9);
  });
});

describe('isAllocatable', () => {
  it.each([
    [{ cpus: 0.01 }, true],
    [{ mem: 32 }, true],
    [{ cpus: 0.009, mem: 31 }, false],
    [{ disk: 1000 }, false],
  ])('%j -> %s', (res, expected) => expect(isAllocatable(r(res))).toBe(expected));
});

describe('allocate (hierarchical DRF)', () => {
  it('offers each agent whole to the framework with the lowest dominant share', () => {
    // Cluster <cpus 12, mem 24>. a holds <3, 12>: share max(3/12, 12/24) = 0.5.
    // b holds <3, 1>: share max(3/12, 1/24) = 0.25 -> b is behind and gets the first agent.
    const out = allocate(
      input({
        agents: [agent('s1', { cpus: 6, mem: 12 }, { cpus: 3, mem: 11 }), agent('s2', { cpus: 6, mem: 12 }, { cpus: 6, mem: 12 })],
        frameworks: [framework('a', ['r'], { r: { cpus: 3, mem: 12 } }), framework('b', ['r'], { r: { cpus: 3, mem: 1 } })],
      }),
    );
    // s1 -> b (0.25 < 0.5); b then holds <6, 12>: share max(6/12, 12/24) = 0.5, a = 0.5, tie by id -> a gets s2.
    expect(out.map((d) => [d.agentId, d.frameworkId, d.resources.toString()])).toEqual([
      ['s1', 'b', 'cpus:3;mem:11'],
      ['s2', 'a', 'cpus:6;mem:12'],
    ]);
  });

  it('orders roles by weighted share before frameworks', () => {
    // Cluster <cpus 10, mem 100>. Role "big" holds <4, 0>: share 0.4, weight 4 -> 0.1.
    // Role "small" holds <2, 0>: share 0.2, weight 1 -> 0.2. "big" goes first despite holding more.
    const out = allocate(
      input({
        agents: [agent('s1', { cpus: 10, mem: 100 }, { cpus: 4, mem: 100 })],
        frameworks: [framework('f-big', ['big'], { big: { cpus: 4 } }), framework('f-small', ['small'], { small: { cpus: 2 } })],
        weights: new Map([['big', 4]]),
      }),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ frameworkId: 'f-big', role: 'big' });
  });

  it('within a role, the framework with the lower share in that role goes first', () => {
    // Cluster <cpus 8, mem 80>. x: <2,0> -> 0.25; y: <1,0> -> 0.125. y first.
    const out = allocate(
      input({
        agents: [agent('s1', { cpus: 8, mem: 80 }, { cpus: 5, mem: 80 })],
        frameworks: [framework('x', ['r'], { r: { cpus: 2 } }), framework('y', ['r'], { r: { cpus: 1 } })],
      }),
    );
    expect(out.map((d) => d.frameworkId)).toEqual(['y']);
  });

  it('never offers to a suppressed role or an inactive framework, nor on an inactive agent', () => {
    const agents = [agent('s1', { cpus: 4, mem: 4096 }), agent('s2', { cpus: 4, mem: 4096 }, { cpus: 4, mem: 4096 }, false)];
    expect(allocate(input({ agents, frameworks: [framework('a', ['r'], {}, { suppressedRoles: new Set(['r']) })] }))).toEqual([]);
    expect(allocate(input({ agents, frameworks: [framework('a', ['r'], {}, { active: false })] }))).toEqual([]);
    const out = allocate(input({ agents, frameworks: [framework('a', ['r'])] }));
    expect(out.map((d) => d.agentId)).toEqual(['s1']);
  });

  it('skips amounts below the minimum allocatable', () => {
    const out = allocate(input({ agents: [agent('s1', { cpus: 4, mem: 4096 }, { cpus: 0.005, mem: 16, disk: 100 })], frameworks: [framework('a', ['r'])] }));
    expect(out).toEqual([]);
  });

  it('honours filters until their time, and only for resources they contain', () => {
    const agents = [agent('s1', { cpus: 4, mem: 4096 })];
    const frameworks = [framework('a', ['r']), framework('b', ['r'], { r: { cpus: 1 } })];
    const filter = { frameworkId: 'a', agentId: 's1', resources: r({ cpus: 4, mem: 4096 }), until: NOW + 5000 };
    // a (share 0) is filtered, so b (share 1/4) gets the agent.
    expect(allocate(input({ agents, frameworks, filters: [filter] })).map((d) => d.frameworkId)).toEqual(['b']);
    // Once the filter expires, a is first again.
    expect(allocate(input({ agents, frameworks, filters: [filter], now: NOW + 5000 })).map((d) => d.frameworkId)).toEqual(['a']);
    // A filter on fewer resources than now available does not block the bigger offer.
    const small = { ...filter, resources: r({ cpus: 2, mem: 2048 }) };
    expect(allocate(input({ agents, frameworks, filters: [small] })).map((d) => d.frameworkId)).toEqual(['a']);
  });

  it('offers reserved resources only to their role, unreserved to anyone', () => {
    const total = Resources.of([
      { name: 'cpus', kind: 'scalar', value: 2, role: '*' },
      { name: 'cpus', kind: 'scalar', value: 2, role: 'db' },
      { name: 'mem', kind: 'scalar', value: 1024, role: 'db' },
    ]);
    const out = allocate(
      input({
        agents: [{ id: 's1', total, available: total, active: true }],
        frameworks: [framework('web', ['web'], { web: { cpus: 1 } }), framework('pg', ['db'])],
      }),
    );
    // db share 0 < web share; pg gets everything allocatable to db: unreserved and reserved.
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ frameworkId: 'pg', role: 'db' });
    expect(out[0]?.resources.toString()).toBe('cpus:2;cpus(db):2;mem(db):1024');
  });

  it('never offers resources reserved for a role to another role', () => {
    const total = Resources.of([
      { name: 'cpus', kind: 'scalar', value: 2, role: '*' },
      { name: 'cpus', kind: 'scalar', value: 2, role: 'db' },
    ]);
    const out = allocate(
      input({
        agents: [{ id: 's1', total, available: total, active: true }],
        frameworks: [framework('web', ['web'], { web: { cpus: 1 } }), framework('pg', ['db'], {}, { suppressedRoles: new Set(['db']) })],
      }),
    );
    // pg suppressed -> web takes the unreserved cpus only.
    expect(out.map((d) => [d.frameworkId, d.resources.toString()])).toEqual([['web', 'cpus:2']]);
  });

  it('makes at most one offer per framework and agent in a cycle', () => {
    const out = allocate(
      input({
        agents: [agent('s1', { cpus: 4, mem: 4096 })],
        frameworks: [framework('multi', ['a', 'b'])],
      }),
    );
    expect(out).toHaveLength(1);
  });

  it('reproduces the DRF paper example: <9 cpus, 18 GB>, A tasks <1, 4>, B tasks <3, 1>', () => {
    // Progressive filling with one task accepted per offer: A ends with 3 tasks <3, 12>
    // (share 12/18 = 0.667), B with 2 tasks <6, 2> (share 6/9 = 0.667).
    const total = { cpus: 9, mem: 18 };
    const task = { A: r({ cpus: 1, mem: 4 }), B: r({ cpus: 3, mem: 1 }) };
    const used: Record<'A' | 'B', Resources> = { A: Resources.empty(), B: Resources.empty() };
    for (let cycle = 0; cycle < 20; cycle++) {
      const free = r(total).subtract(used.A).subtract(used.B);
      const out = allocate(
        input({
          agents: [{ id: 's1', total: r(total), available: free, active: true }],
          frameworks: (['A', 'B'] as const).map((id) => framework(id, ['r'], { r: Object.fromEntries(used[id].toList().map((x) => [x.name, x.kind === 'scalar' ? x.value : 0])) })),
        }),
      );
      const d = out[0];
      if (!d) break;
      const id = d.frameworkId as 'A' | 'B';
      if (!d.resources.contains(task[id])) break;
      used[id] = used[id].add(task[id]);
    }
    expect(used.A.toString()).toBe('cpus:3;mem:12');
    expect(used.B.toString()).toBe('cpus:6;mem:2');
    expect(dominantShare(used.A, r(total))).toBeCloseTo(2 / 3, 9);
    expect(dominantShare(used.B, r(total))).toBeCloseTo(2 / 3, 9);
  });
});
