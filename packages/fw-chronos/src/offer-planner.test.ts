import { parseResources, silentLogger, type Offer } from '@meso/sdk-scheduler';
import { describe, expect, it } from 'vitest';
import { ChronosMetrics } from './metrics.js';
import { OfferPlanner, type OfferCalls } from './offer-planner.js';

const offer = (id: string): Offer => ({
  id, frameworkId: 'f', agentId: `agent-${id}`, hostname: `host-${id}`, resources: parseResources('cpus:0.3;mem:100;ports:[31000-31009]'), attributes: [], executorIds: [], role: '*', agentEndpoint: '', volumes: [],
});

function planner(holdMs = 15_000) {
  const declines: Array<{ ids: string[]; refuseSeconds?: number }> = [];
  const calls: OfferCalls = {
    decline: async (ids, filters) => void declines.push({ ids: [...ids].sort(), refuseSeconds: filters?.refuseSeconds }),
    revive: async () => undefined,
    suppress: async () => undefined,
  };
  return { p: new OfferPlanner(calls, new ChronosMetrics(), silentLogger, holdMs), declines };
}

describe('OfferPlanner', () => {
  it('declines at once the offers no wanted run would use, and keeps the useful ones until the hold ends', () => {
    const { p, declines } = planner();
    p.add([offer('1'), offer('2'), offer('3')], 0);
    p.plan(true, 0, new Set(['2']));
    expect(declines).toEqual([{ ids: ['1', '3'], refuseSeconds: 5 }]);
    expect(p.offers().map((o) => o.id)).toEqual(['2']);
    p.plan(true, 14_999, new Set(['2']));
    expect(p.size).toBe(1);
    p.plan(true, 15_000, new Set(['2']));
    expect(declines.at(-1)).toEqual({ ids: ['2'], refuseSeconds: 1 });
    expect(p.size).toBe(0);
  });

  it('declines everything for 30 s when no run is wanted', () => {
    const { p, declines } = planner();
    p.add([offer('1'), offer('2')], 0);
    p.plan(false, 0, new Set(['1']));
    expect(declines).toEqual([{ ids: ['1', '2'], refuseSeconds: 30 }]);
    expect(p.size).toBe(0);
  });
});
