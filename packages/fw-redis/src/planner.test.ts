import { describe, expect, it } from 'vitest';
import type { InstanceRecord, MemberRecord } from './model.js';
import { pickPort, planPlacements, type OfferSlot } from './planner.js';

const inst = (over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  name: 'x', capacityMb: 32, replicas: 2, distribution: 1, status: 'CREATING', epoch: 0, members: [], nextSeq: 0, createdAt: 0, failovers: [], ...over,
});
const offer = (agentId: string, memMb = 1024, cpus = 2, ports = 100, volumes?: string[]): OfferSlot => ({ offerId: `o-${agentId}`, agentId, memMb, cpus, ports, ...(volumes ? { volumes } : {}) });
const member = (seq: number, agentId: string, state: MemberRecord['state'] = 'RUNNING', volumeId?: string): MemberRecord => ({
  taskId: `redis.x.${seq}`, seq, agentId, hostname: 'h', ip: '127.0.0.1', port: 7000 + seq, capacityMb: 32, taskMemMb: 64, state, launchedAt: 0, ...(volumeId ? { volumeId } : {}),
});

describe('planPlacements', () => {
  it('places a new instance: one master, then replicas, one per agent under distribution 1', () => {
    const { placements, waiting } = planPlacements([inst()], [offer('a'), offer('b'), offer('c')], 0.1);
    expect(placements.map((p) => p.role)).toEqual(['master', 'replica', 'replica']);
    expect(new Set(placements.map((p) => p.agentId)).size).toBe(3);
    expect(placements[0]).toMatchObject({ capacityMb: 32, taskMemMb: 64 });
    expect(waiting.size).toBe(0);
  });

  it('never puts more than distribution members on an agent, and says why it waits', () => {
    const { placements, waiting } = planPlacements([inst({ distribution: 2 })], [offer('a')], 0.1);
    expect(placements).toHaveLength(2);
    expect(waiting.get('x')).toMatch(/1 more server.*64 MB.*at most 2 per agent/);
  });

  it('counts members already running, and only replaces what is missing (a replica, not a master)', () => {
    const i = inst({ masterTaskId: 'redis.x.0', members: [member(0, 'a'), member(1, 'b', 'ENDED')], nextSeq: 2, status: 'RUNNING', replicas: 1 });
    const { placements } = planPlacements([i], [offer('a'), offer('b')], 0.1);
    expect(placements).toEqual([expect.objectContaining({ role: 'replica', agentId: 'b' })]);
  });

  it('takes memory, cpus and ports of an offer as it places', () => {
    const { placements } = planPlacements([inst({ replicas: 4, distribution: 5 })], [offer('a', 64 * 3 + 10, 2, 100)], 0.1);
    expect(placements).toHaveLength(3);
    expect(planPlacements([inst({ replicas: 4, distribution: 5 })], [offer('a', 1024, 2, 2)], 0.1).placements).toHaveLength(2);
    expect(planPlacements([inst({ replicas: 4, distribution: 5 })], [offer('a', 1024, 0.25, 100)], 0.1).placements).toHaveLength(2);
  });

  it('prefers the agent holding the volume of a member that ended, and mounts it', () => {
    const i = inst({ masterTaskId: 'redis.x.0', members: [member(0, 'a'), member(1, 'c', 'ENDED', 'vol-1')], nextSeq: 2, status: 'RUNNING', replicas: 1, distribution: 2 });
    const { placements } = planPlacements([i], [offer('b', 4096), offer('c', 128, 2, 100, ['vol-1'])], 0.1);
    expect(placements).toEqual([expect.objectContaining({ agentId: 'c', volumeId: 'vol-1' })]);
  });

  it('places nothing for instances being deleted or complete', () => {
    const full = inst({ masterTaskId: 'redis.x.0', replicas: 0, members: [member(0, 'a')], status: 'RUNNING' });
    expect(planPlacements([full, inst({ status: 'DELETING' })], [offer('a')], 0.1).placements).toEqual([]);
  });

  it('launches a new master when the instance has none recorded', () => {
    const i = inst({ replicas: 0, members: [member(0, 'a', 'ENDED')], nextSeq: 1, status: 'RUNNING' });
    expect(planPlacements([i], [offer('a')], 0.1).placements).toEqual([expect.objectContaining({ role: 'master' })]);
  });
});

describe('pickPort', () => {
  it('takes the lowest port not used by our servers on that address', () => {
    expect(pickPort([{ begin: 31000, end: 31002 }], new Set())).toBe(31000);
    expect(pickPort([{ begin: 32000, end: 32001 }, { begin: 31000, end: 31001 }], new Set([31000]))).toBe(31001);
    expect(pickPort([{ begin: 31000, end: 31001 }], new Set([31000, 31001]))).toBeUndefined();
  });
});

describe('planPlacements during a failover', () => {
  it('launches nothing while the recorded master is gone and no successor is chosen', () => {
    const i = inst({ masterTaskId: 'redis.x.0', members: [member(0, 'a', 'ENDED'), member(1, 'b')], nextSeq: 2, status: 'RUNNING', replicas: 1 });
    const { placements, waiting } = planPlacements([i], [offer('a'), offer('c')], 0.1);
    expect(placements).toEqual([]);
    expect(waiting.get('x')).toMatch(/waiting for failover: master redis.x.0 ended/);
  });
});
