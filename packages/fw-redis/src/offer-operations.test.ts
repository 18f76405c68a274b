import { parseResources, type Offer } from '@meso/sdk-scheduler';
import { describe, expect, it } from 'vitest';
import type { InstanceRecord } from './model.js';
import { planLaunch, planRelease } from './offer-operations.js';

const offer = (resources: string, volumes: Offer['volumes'] = []): Offer => ({
  id: 'o1', frameworkId: 'f', agentId: 'a1', hostname: 'h1', resources: parseResources(resources), attributes: [], executorIds: [], role: 'redis', agentEndpoint: '127.0.0.1:5051', volumes,
});
const inst = (over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  name: 'x', capacityMb: 32, replicas: 1, distribution: 2, status: 'CREATING', epoch: 0, members: [], nextSeq: 0, createdAt: 0, failovers: [], ...over,
});
const opts = { role: 'redis', persistentVolumes: true, redisServer: 'redis-server', taskCpus: 0.1, nowMs: 5, takenPorts: new Set([31000]) };

describe('planLaunch', () => {
  it('reserves, creates a volume per new server and launches them, the replica replicating from the master', () => {
    const plan = planLaunch(offer('cpus:1;mem:512;disk:1024;ports:[31000-31010]'), [
      { instance: 'x', offerId: 'o1', agentId: 'a1', role: 'master', capacityMb: 32, taskMemMb: 64, newVolumeMb: 128 },
      { instance: 'x', offerId: 'o1', agentId: 'a1', role: 'replica', capacityMb: 32, taskMemMb: 64, newVolumeMb: 128 },
    ], new Map([['x', inst()]]), opts)!;
    expect(plan.operations.map((o) => o.type)).toEqual(['reserve', 'create', 'launch']);
    const [reserve, create] = plan.operations as unknown as [{ resources: { toString(): string } }, { volumes: unknown[] }];
    expect(reserve.resources.toString()).toBe(parseResources('cpus(redis):0.2;mem(redis):128;disk(redis):256').toString());
    expect(create.volumes).toEqual([
      { id: 'redis.x.0', containerPath: 'redis-data', sizeMb: 128, role: 'redis', mode: 'rw' },
      { id: 'redis.x.1', containerPath: 'redis-data', sizeMb: 128, role: 'redis', mode: 'rw' },
    ]);
    const [x] = plan.instances;
    expect(x).toMatchObject({ masterTaskId: 'redis.x.0', nextSeq: 2 });
    expect(x!.members.map((m) => [m.taskId, m.port, m.state, m.volumeId, m.launchedAt])).toEqual([['redis.x.0', 31001, 'LAUNCHING', 'redis.x.0', 5], ['redis.x.1', 31002, 'LAUNCHING', 'redis.x.1', 5]]);
    expect(plan.specs[1]!.command?.shell).toContain("--replicaof '127.0.0.1' 31001");
    expect(plan.specs[0]!.command?.shell).not.toContain('--replicaof');
  });

  it('mounts an existing volume without creating one, and stops when ports run out', () => {
    const vol = { id: 'redis.x.0', containerPath: 'redis-data', sizeMb: 128, role: 'redis', mode: 'rw' as const };
    const plan = planLaunch(offer('cpus(redis):0.1;mem(redis):64;cpus:1;mem:512;ports:[31000-31001]', [vol]), [
      { instance: 'x', offerId: 'o1', agentId: 'a1', role: 'master', capacityMb: 32, taskMemMb: 64, volumeId: 'redis.x.0' },
      { instance: 'x', offerId: 'o1', agentId: 'a1', role: 'replica', capacityMb: 32, taskMemMb: 64, newVolumeMb: 128 },
    ], new Map([['x', inst({ nextSeq: 1 })]]), opts)!;
    expect(plan.operations.map((o) => o.type)).toEqual(['launch']);
    expect(plan.specs).toHaveLength(1);
    expect(plan.specs[0]!.volumes).toEqual([vol]);
    expect(planLaunch(offer('cpus:1;mem:512;ports:[31000-31000]'), [{ instance: 'x', offerId: 'o1', agentId: 'a1', role: 'master', capacityMb: 32, taskMemMb: 64 }], new Map([['x', inst()]]), opts)).toBeUndefined();
  });
});

describe('planRelease', () => {
  const vol = (id: string) => ({ id, containerPath: 'redis-data', sizeMb: 128, role: 'redis', mode: 'rw' as const });
  it('destroys volumes no live server holds and unreserves the role, keeping volumes in use', () => {
    const live = inst({ members: [{ taskId: 'redis.x.1', seq: 1, agentId: 'a1', hostname: 'h', ip: 'i', port: 1, capacityMb: 32, taskMemMb: 64, volumeId: 'redis.x.1', state: 'RUNNING', launchedAt: 0 }] });
    const plan = planRelease(offer('cpus(redis):0.1;mem(redis):64;cpus:1', [vol('redis.x.0')]), [live], 'redis')!;
    expect(plan.destroyed.map((v) => v.id)).toEqual(['redis.x.0']);
    expect(plan.unreserved.toString()).toBe(parseResources('cpus(redis):0.1;mem(redis):64;disk(redis):128').toString());
    expect(plan.operations.map((o) => o.type)).toEqual(['destroy', 'unreserve']);
    expect(planRelease(offer('cpus:1', [vol('redis.x.1')]), [live], 'redis')).toBeUndefined();
  });
});
