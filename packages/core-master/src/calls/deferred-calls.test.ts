import { KillRequest } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { taskKey } from '../model/model.js';
import { DeferredCalls } from './deferred-calls.js';

const rec = (taskId: string, agentId?: string) => ({ kind: 'reconcile' as const, frameworkId: 'f', taskId, ...(agentId ? { agentId } : {}) });
const killOf = (taskId: string, agentId?: string) => ({
  kind: 'kill' as const,
  frameworkId: 'f',
  request: KillRequest.fromPartial({ taskId: { value: taskId }, ...(agentId ? { agentId: { value: agentId } } : {}) }),
});

describe('DeferredCalls', () => {
  it('an agent re-registering takes only the calls naming it or its tasks, in arrival order, each once', () => {
    const d = new DeferredCalls();
    const [a1, b1, k, unnamed, b2] = [rec('t1', 'A'), rec('t2', 'B'), killOf('t3', 'A'), rec('t4'), rec('t5', 'B')];
    for (const c of [a1, b1, k, unnamed, b2]) d.add(c);
    expect(d.size).toBe(5);
    expect(d.count('kill')).toBe(1);
    // A reports t5 (asked about on B): answered now too; t1 named A and is one of A's tasks: once.
    expect(d.take('A', [taskKey('f', 't5'), taskKey('f', 't1')], false)).toEqual([a1, k, b2]);
    expect(d.size).toBe(2);
    expect(d.take('A', [], false)).toEqual([]);
  });

  it('calls naming no agent are taken only when asked for, or by their task', () => {
    const d = new DeferredCalls();
    const [u1, u2, b] = [rec('t1'), killOf('t2'), rec('t3', 'B')];
    for (const c of [u1, u2, b]) d.add(c);
    expect(d.hasUnnamed()).toBe(true);
    expect(d.take('A', [taskKey('f', 't2')], false)).toEqual([u2]);
    expect(d.take('A', [], true)).toEqual([u1]);
    expect(d.hasUnnamed()).toBe(false);
    expect(d.takeAll()).toEqual([b]);
    expect(d.size).toBe(0);
  });
});
