import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatchProcess, startCluster, waitForJob } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('meso-batch restart', () => {
  it('killed -9 mid-run and restarted, loses and duplicates nothing', async () => {
    const cluster = await startCluster(cleanup);
    const workDir = join(cluster.dir, 'batch');
    const first = await startBatchProcess(cleanup, cluster, workDir);
    const out = join(cluster.dir, 'out');
    const body = (executor: string) => ({ id: `arr-${executor}`, user: 'u', command: `sleep 1; echo $MESO_BATCH_INDEX >> ${out}-${executor}`, instances: 24, cpus: 0.25, mem: 32, executor });
    expect((await first.api('POST', '/v1/jobs', [body('batch'), body('command')])).status).toBe(201);
    await waitForJob(first, 'arr-batch', 'some running and some done', (j) => j.instances.succeeded >= 3 && j.instances.running > 0, 30_000);
    await first.proc.kill9();

    const second = await startBatchProcess(cleanup, cluster, workDir);
    for (const executor of ['batch', 'command']) {
      const job = await waitForJob(second, `arr-${executor}`, 'succeeded after the restart', (j) => j.state === 'succeeded', 90_000);
      expect(job.instances.succeeded).toBe(24);
      // None ran twice: one FINISHED attempt per instance; any other attempt is a launch the
      // master never saw (persisted LAUNCHING just before the kill -9, reconciled as lost).
      for (const t of job.tasks) {
        expect(t.attempts.filter((a: any) => a.state === 'FINISHED')).toHaveLength(1);
        for (const a of t.attempts.filter((x: any) => x.state !== 'FINISHED')) expect(a).toMatchObject({ state: 'LOST', counted: false });
        for (const a of t.attempts.filter((x: any) => x.state !== 'FINISHED')) expect(a.startedAt).toBeUndefined();
      }
      const lines = (await readFile(`${out}-${executor}`, 'utf8')).trim().split('\n');
      expect(lines.sort()).toEqual(Array.from({ length: 24 }, (_, i) => String(i)).sort());
    }
  });
});
