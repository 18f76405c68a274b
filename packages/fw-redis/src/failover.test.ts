import { describe, expect, it } from 'vitest';
import { chooseReplica, decideFailover, type Candidate, type ProbeFailures } from './failover.js';
import type { InstanceRecord, MemberRecord, Observation } from './model.js';

const c = (taskId: string, priority: number, offset: number, runId: string): Candidate => ({ taskId, priority, offset, runId });

describe('chooseReplica (Sentinel: priority, then offset, then run id)', () => {
  const table: Array<{ why: string; candidates: Candidate[]; expected: string | undefined }> = [
    { why: 'no candidates', candidates: [], expected: undefined },
    { why: 'priority 0 is never chosen', candidates: [c('a', 0, 900, 'a')], expected: undefined },
    { why: 'lower priority wins over a larger offset', candidates: [c('a', 100, 900, 'a'), c('b', 10, 100, 'b')], expected: 'b' },
    { why: 'same priority: the largest offset', candidates: [c('a', 100, 100, 'a'), c('b', 100, 300, 'b'), c('c', 100, 200, 'c')], expected: 'b' },
    { why: 'same priority and offset: the smallest run id', candidates: [c('a', 100, 5, 'ffff'), c('b', 100, 5, '0abc'), c('c', 100, 5, '1abc')], expected: 'b' },
    { why: 'priority 0 skipped even with the largest offset', candidates: [c('a', 0, 999, '0'), c('b', 100, 1, '1')], expected: 'b' },
  ];
  for (const t of table) it(t.why, () => expect(chooseReplica(t.candidates)?.taskId).toBe(t.expected));

  it('does not depend on the order given', () => {
    const list = [c('a', 100, 5, 'b'), c('b', 100, 7, 'z'), c('c', 50, 1, 'y'), c('d', 50, 1, 'x')];
    for (let i = 0; i < 10; i++) expect(chooseReplica([...list].sort(() => Math.random() - 0.5))?.taskId).toBe('d');
  });
});

const member = (seq: number, state: MemberRecord['state'] = 'RUNNING'): MemberRecord => ({
  taskId: `redis.x.${seq}`, seq, agentId: `a${seq}`, hostname: 'h', ip: '127.0.0.1', port: 7000 + seq, capacityMb: 32, taskMemMb: 64, state, launchedAt: 0,
});
const instance = (members: MemberRecord[], masterTaskId = 'redis.x.0'): InstanceRecord => ({
  name: 'x', capacityMb: 32, replicas: members.length - 1, distribution: 9, status: 'RUNNING', epoch: 3, masterTaskId, members, nextSeq: members.length, createdAt: 0, failovers: [],
});
const obs = (at: number, role: 'master' | 'slave', offset: number, runId = `r${offset}`, priority = 100): Observation => ({
  at, role, runId, pid: 1, uptimeSeconds: 1, connectedClients: 1, usedMemory: 1, maxmemory: 1, offset, priority, connectedReplicas: 0, ...(role === 'slave' ? { linkUp: true, masterHost: '127.0.0.1', masterPort: 7000 } : {}),
});
const policy = { downAfterMs: 3000, failedProbes: 2 };
const none = new Map<string, ProbeFailures>();

describe('decideFailover', () => {
  it('does nothing while the master answers', () => {
    const i = instance([member(0), member(1)]);
    const o = new Map([['redis.x.0', obs(9000, 'master', 10)], ['redis.x.1', obs(9000, 'slave', 10)]]);
    expect(decideFailover(i, o, none, 10_000, policy)).toEqual({ action: 'none' });
  });

  it('promotes the replica with the largest offset when the master task ended', () => {
    const i = instance([member(0, 'ENDED'), member(1), member(2)]);
    const o = new Map([['redis.x.1', obs(9000, 'slave', 10)], ['redis.x.2', obs(9000, 'slave', 12)]]);
    expect(decideFailover(i, o, none, 10_000, policy)).toMatchObject({ action: 'promote', to: 'redis.x.2' });
  });

  it('promotes when the master failed its probes for down-after, not before, and not on one failure', () => {
    const i = instance([member(0), member(1)]);
    const o = new Map([['redis.x.0', obs(7000, 'master', 10)], ['redis.x.1', obs(9900, 'slave', 10)]]);
    const failing = new Map([['redis.x.0', { since: 7500, count: 5 }]]);
    expect(decideFailover(i, o, failing, 10_000, policy)).toEqual({ action: 'none' });
    expect(decideFailover(i, o, failing, 10_500, policy)).toMatchObject({ action: 'promote', to: 'redis.x.1', reason: 'master redis.x.0 did not answer for 3 s (5 probes)' });
    expect(decideFailover(i, o, new Map([['redis.x.0', { since: 1000, count: 1 }]]), 10_500, policy)).toEqual({ action: 'none' });
  });

  it('does not take an old last answer for silence (a restarted or slow fw-redis)', () => {
    const i = instance([member(0), member(1)]);
    const o = new Map([['redis.x.0', obs(1000, 'master', 10)], ['redis.x.1', obs(9900, 'slave', 10)]]);
    expect(decideFailover(i, o, none, 10_000, policy)).toEqual({ action: 'none' });
  });

  it('skips replicas whose probes fail or that are not replicating', () => {
    const i = instance([member(0, 'ENDED'), member(1), member(2)]);
    const o = new Map([['redis.x.1', obs(1000, 'slave', 99)], ['redis.x.2', obs(9000, 'slave', 5)]]);
    expect(decideFailover(i, o, new Map([['redis.x.1', { since: 2000, count: 3 }]]), 10_000, policy)).toMatchObject({ action: 'promote', to: 'redis.x.2' });
    const o2 = new Map([['redis.x.1', obs(9000, 'master', 99)], ['redis.x.2', obs(9000, 'slave', 5)]]);
    expect(decideFailover(i, o2, none, 10_000, policy)).toMatchObject({ action: 'promote', to: 'redis.x.2' });
  });

  it('keeps a silent master whose task runs when no replica can take over', () => {
    const i = instance([member(0), member(1)]);
    expect(decideFailover(i, new Map(), new Map([['redis.x.0', { since: 0, count: 9 }], ['redis.x.1', { since: 0, count: 9 }]]), 10_000, policy)).toEqual({ action: 'none' });
  });

  it('waits for live replicas to become candidates before replacing a dead master', () => {
    const i = instance([member(0, 'ENDED'), member(1, 'LAUNCHING')]);
    expect(decideFailover(i, new Map(), none, 10_000, policy)).toEqual({ action: 'none' });
  });

  it('replaces a dead master of a single-server instance', () => {
    expect(decideFailover(instance([member(0, 'ENDED')]), new Map(), none, 10_000, policy)).toMatchObject({ action: 'replace-master' });
  });

  it('does nothing for an instance being deleted', () => {
    expect(decideFailover({ ...instance([member(0, 'ENDED'), member(1)]), status: 'DELETING' }, new Map([['redis.x.1', obs(9000, 'slave', 1)]]), none, 10_000, policy)).toEqual({ action: 'none' });
  });
});
