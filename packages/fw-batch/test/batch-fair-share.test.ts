import { Cleanup, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatchProcess, startCluster } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('meso-batch fair share', () => {
  it('two users with 3:1 weights on a saturated cluster converge to about 3:1 dominant share; an unschedulable job blocks nothing', async () => {
    const cluster = await startCluster(cleanup, ['cpus:2;mem:4096;disk:1024', 'cpus:2;mem:4096;disk:1024']);
    const batch = await startBatchProcess(cleanup, cluster);
    expect((await batch.api('PUT', '/v1/shares', { alice: 3, bob: 1 })).json).toEqual({ alice: 3, bob: 1 });
    expect((await batch.api('PUT', '/v1/shares', { carol: -1 })).status).toBe(400);
    const task = { cpus: 0.25, mem: 32, command: 'sleep 2', instances: 48 };
    // bob's first job can never run: it must not hold back his others (no head-of-line blocking).
    const res = await batch.api('POST', '/v1/jobs', [
      { id: 'bob-huge', user: 'bob', command: 'true', cpus: 16, priority: 100 },
      { id: 'alice-work', user: 'alice', ...task },
      { id: 'bob-work', user: 'bob', ...task },
    ]);
    expect(res.status).toBe(201);
    const samples: string[] = [];
    const converged = await waitFor('3:1 dominant shares with both users waiting', async () => {
      const u = (await batch.api('GET', '/v1/usage')).json;
      const a = u.users.alice;
      const b = u.users.bob;
      if (!a || !b) return undefined;
      samples.push(`alice ${a.running} (${a.dominantShare}) bob ${b.running} (${b.dominantShare})`);
      if (a.pending === 0 || b.pending === 0 || a.running + b.running < 14 || b.dominantShare === 0) return undefined;
      const ratio = a.dominantShare / b.dominantShare;
      return ratio >= 2.4 && ratio <= 3.6 ? { a, b, ratio } : undefined;
    }, 40_000);
    expect(converged.b.running).toBeGreaterThan(0);
    const why = (await batch.api('GET', '/v1/jobs/bob-huge/why')).json;
    expect(why.reasons.join('\n')).toMatch(/unschedulable: .*cpus: need 16, have 2/);
    const bobWork = (await batch.api('GET', '/v1/jobs/bob-work')).json;
    expect(bobWork.instances.running + bobWork.instances.succeeded).toBeGreaterThan(0);
    expect(samples.length).toBeGreaterThan(0);
  });
});
