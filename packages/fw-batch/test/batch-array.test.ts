import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatchProcess, startCluster, waitForJob } from './support.js';

// Real `meso master`, `meso agent`s and `meso-batch` processes on loopback.

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('meso-batch arrays', () => {
  it('completes an array of 200 short tasks through the long-lived executor; failures are retried up to maxRetries', async () => {
    const cluster = await startCluster(cleanup, ['cpus:2;mem:2048;disk:1024', 'cpus:2;mem:2048;disk:1024']);
    const batch = await startBatchProcess(cleanup, cluster);
    const marks = join(cluster.dir, 'marks');
    // Every 10th instance fails on its first attempt (it leaves a mark) and succeeds on the second.
    const flaky = `f=${marks}-$MESO_BATCH_INDEX; if [ $((MESO_BATCH_INDEX % 10)) -eq 0 ] && [ ! -e $f ]; then touch $f; exit 3; fi; echo $MESO_BATCH_INDEX >> ${marks}-done`;
    const res = await batch.api('POST', '/v1/jobs', { id: 'arr', user: 'alice', command: flaky, instances: 200, cpus: 0.05, mem: 16, maxRetries: 1, retry: { backoff: 'fixed', delayMs: 100, jitter: 0 } });
    expect(res.status).toBe(201);
    // idempotent: the same id and definition again is a no-op, another definition a conflict
    expect((await batch.api('POST', '/v1/jobs', { id: 'arr', user: 'alice', command: flaky, instances: 200, cpus: 0.05, mem: 16, maxRetries: 1, retry: { backoff: 'fixed', delayMs: 100, jitter: 0 } })).status).toBe(201);
    expect((await batch.api('POST', '/v1/jobs', { id: 'arr', command: 'true' })).json.code).toBe('JOB_CONFLICT');
    // Always failing: retried exactly maxRetries times.
    await batch.api('POST', '/v1/jobs', { id: 'bad', user: 'alice', command: 'exit 7', maxRetries: 2, retry: { backoff: 'fixed', delayMs: 100, jitter: 0 } });

    const job = await waitForJob(batch, 'arr', 'all 200 succeeded', (j) => j.state === 'succeeded', 90_000);
    expect(job.instances.succeeded).toBe(200);
    expect(job.attempts).toBe(220);
    const done = (await readFile(`${marks}-done`, 'utf8')).trim().split('\n');
    expect(done).toHaveLength(200);
    expect(new Set(done).size).toBe(200);
    const t0 = job.tasks.find((t: any) => t.index === 0);
    expect(t0.attempts.map((a: any) => [a.state, a.exitCode ?? null])).toEqual([['FAILED', 3], ['FINISHED', 0]]);

    // One long-lived executor per agent ran them all: 220 attempts, at most 2 sandboxes (2 agents),
    // each task's output in its own directory of that sandbox.
    const attempts = job.tasks.flatMap((t: any) => t.attempts);
    const sandboxes = new Set(attempts.map((a: any) => a.sandbox));
    expect(sandboxes.size).toBeLessThanOrEqual(2);
    expect([...sandboxes].every((s) => typeof s === 'string')).toBe(true);
    const a7 = job.tasks.find((t: any) => t.index === 7).attempts[0];
    expect((await readFile(join(a7.sandbox, 'tasks', a7.taskId, 'stdout'), 'utf8')).trim()).toBe('');
    expect(job.tasks.find((t: any) => t.index === 7).attempts[0].executor).toBe('batch');

    const bad = await waitForJob(batch, 'bad', 'failed', (j) => j.state === 'failed');
    expect(bad.tasks[0].attempts.map((a: any) => a.state)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(bad.tasks[0].failures).toBe(3);
    const list = await batch.api('GET', '/v1/jobs?user=alice&state=failed');
    expect(list.json.jobs.map((j: any) => j.id)).toEqual(['bad']);
  });
});
