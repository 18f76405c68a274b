import { describe, expect, it } from 'vitest';
import { planConvergence, type ConvergePolicy } from './converge.js';
import type { InstanceRecord, MemberRecord, Observation } from './model.js';

const MB = 1024 * 1024;
const member = (seq: number, state: MemberRecord['state'] = 'RUNNING'): MemberRecord => ({
  taskId: `t${seq}`, seq, agentId: `a${seq}`, hostname: 'h', ip: '10.0.0.1', port: 7000 + seq, capacityMb: 32, taskMemMb: 64, state, launchedAt: 0,
});
const inst = (members: MemberRecord[], over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  name: 'x', capacityMb: 32, replicas: members.length - 1, distribution: 9, status: 'RUNNING', epoch: 1, masterTaskId: 't0', members, nextSeq: members.length, createdAt: 0, failovers: [], ...over,
});
const master = (at = 9000, maxmemory = 32 * MB): Observation => ({ at, role: 'master', runId: 'm', pid: 1, uptimeSeconds: 1, connectedClients: 1, usedMemory: 1, maxmemory, offset: 10, priority: 100, connectedReplicas: 1 });
const replicaOf = (port: number, linkUp = true, at = 9000): Observation => ({ ...master(at), role: 'slave', masterHost: '10.0.0.1', masterPort: port, linkUp });
const policy: ConvergePolicy = { downAfterMs: 3000, rekillAfterMs: 5000, lastKillAt: () => 0 };

describe('planConvergence', () => {
  it('does nothing when every server agrees', () => {
    const i = inst([member(0), member(1)]);
    expect(planConvergence(i, new Map([['t0', master()], ['t1', replicaOf(7000)]]), 10_000, policy)).toEqual([]);
  });

  it('promotes the recorded master that still answers as a replica (after a restart mid-failover)', () => {
    const i = inst([member(0), member(1)]);
    expect(planConvergence(i, new Map([['t0', replicaOf(7001)], ['t1', replicaOf(7000)]]), 10_000, policy)).toEqual([{ type: 'promote', taskId: 't0' }]);
  });

  it('demotes a second master and re-points a replica of another', () => {
    const i = inst([member(0), member(1), member(2)]);
    expect(planConvergence(i, new Map([['t0', master()], ['t1', master()], ['t2', replicaOf(7009)]]), 10_000, policy)).toEqual([
      { type: 'replicate', taskId: 't1', to: { ip: '10.0.0.1', port: 7000 }, wasMaster: true },
      { type: 'replicate', taskId: 't2', to: { ip: '10.0.0.1', port: 7000 }, wasMaster: false },
    ]);
  });

  it('makes a fenced old master that answers again a replica, and kills it again', () => {
    const i = inst([member(0), member(1, 'FENCED')]);
    expect(planConvergence(i, new Map([['t0', master()], ['t1', master()]]), 10_000, policy)).toEqual([
      { type: 'kill', taskId: 't1' },
      { type: 'replicate', taskId: 't1', to: { ip: '10.0.0.1', port: 7000 }, wasMaster: true },
    ]);
    expect(planConvergence(i, new Map([['t0', master()], ['t1', master()]]), 10_000, { ...policy, lastKillAt: () => 8000 })).toEqual([
      { type: 'replicate', taskId: 't1', to: { ip: '10.0.0.1', port: 7000 }, wasMaster: true },
    ]);
  });

  it('acts on nothing it has not heard from lately', () => {
    const i = inst([member(0), member(1)]);
    expect(planConvergence(i, new Map([['t0', master()], ['t1', master(5000)]]), 10_000, policy)).toEqual([]);
  });

  it('sets maxmemory where it differs, except on fenced servers', () => {
    const i = inst([member(0), member(1, 'FENCED')], { capacityMb: 24 });
    expect(planConvergence(i, new Map([['t0', master(9000, 32 * MB)], ['t1', replicaOf(7000, true)]]), 10_000, { ...policy, lastKillAt: () => 9000 })).toEqual([{ type: 'maxmemory', taskId: 't0', mb: 24 }]);
  });

  it('marks a new instance RUNNING once every replica replicates from the master with its link up', () => {
    const i = inst([member(0), member(1), member(2)], { status: 'CREATING' });
    expect(planConvergence(i, new Map([['t0', master()], ['t1', replicaOf(7000)], ['t2', replicaOf(7000, false)]]), 10_000, policy)).toEqual([]);
    expect(planConvergence(i, new Map([['t0', master()], ['t1', replicaOf(7000)], ['t2', replicaOf(7000)]]), 10_000, policy)).toEqual([{ type: 'running' }]);
    expect(planConvergence({ ...i, replicas: 3 }, new Map([['t0', master()], ['t1', replicaOf(7000)], ['t2', replicaOf(7000)]]), 10_000, policy)).toEqual([]);
  });

  it('while deleting, only kills fenced servers that still answer', () => {
    const i = inst([member(0, 'FENCED'), member(1, 'FENCED')], { status: 'DELETING' });
    expect(planConvergence(i, new Map([['t0', master()], ['t1', replicaOf(7009)]]), 10_000, policy)).toEqual([{ type: 'kill', taskId: 't0' }, { type: 'kill', taskId: 't1' }]);
  });
});
