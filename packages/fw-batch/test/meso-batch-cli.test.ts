import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, MESO_BIN } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatchProcess, startCluster } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Runs `meso ...` and resolves with its exit code and output. */
function meso(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MESO_BIN, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('meso batch', () => {
  it('submits a DAG file and a command with --wait, lists, shows, explains, kills and reports usage', async () => {
    const cluster = await startCluster(cleanup);
    const batch = await startBatchProcess(cleanup, cluster);
    const b = ['--batch', batch.address];
    const file = join(cluster.dir, 'dag.json');
    await writeFile(file, JSON.stringify([{ id: 'a', user: 'ann', command: 'true', instances: 3 }, { id: 'b', user: 'ann', command: 'echo $MESO_BATCH_INDEX', dependsOn: ['a'] }]));
    const submitted = await meso(['batch', 'submit', file, '--wait', ...b]);
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toContain('submitted a (ann, 3 instances)');
    expect(submitted.stdout).toMatch(/\[#{30}\] 4\/4 instances ended, 0 running — jobs: 2 succeeded/);

    const fromArgs = await meso(['batch', 'submit', '--id', 'c', '--user', 'bob', '--instances', '2', '--max_retries', '1', '--wait', ...b, '--', 'sh', '-c', 'exit 2']);
    expect(fromArgs.code).toBe(1);
    expect(fromArgs.stdout).toContain('c: failed');

    const list = await meso(['batch', 'list', '--user', 'ann', ...b]);
    expect(list.stdout).toMatch(/a\s+ann\s+succeeded\s+3\s+0\s+3\s+0/);
    expect(list.stdout).not.toContain('bob');
    const show = await meso(['batch', 'show', 'c', ...b]);
    expect(show.stdout.match(/FAILED\s+2/g)).toHaveLength(4); // 2 instances × (1 try + 1 retry)

    await meso(['batch', 'submit', '--id', 'huge', '--cpus', '64', ...b, '--', 'true']);
    const why = await meso(['batch', 'why', 'huge', ...b]);
    expect(why.stdout).toMatch(/unschedulable: larger than any agent .*cpus: need 64, have 2/);
    expect((await meso(['batch', 'kill', 'huge', ...b])).stdout).toContain('huge: killed');
    const usage = await meso(['batch', 'usage', ...b]);
    expect(usage.stdout).toMatch(/USER\s+WEIGHT\s+RUNNING/);
    expect(usage.stdout).toMatch(/ann\s+1\s+0\s+0/);
    const bad = await meso(['batch', 'submit', '--id', 'x y', ...b, '--', 'true']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_JOB: jobs[0].id');
  });
});
