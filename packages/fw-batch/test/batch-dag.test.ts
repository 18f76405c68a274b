import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatchProcess, startCluster, waitForJob } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('meso-batch DAGs and bad input', () => {
  it('runs a 3-level DAG in dependency order; a failing node holds its dependents', async () => {
    const cluster = await startCluster(cleanup);
    const batch = await startBatchProcess(cleanup, cluster);
    const log = join(cluster.dir, 'order');
    const step = (id: string, dependsOn: string[] = []) => ({ id, user: 'etl', command: `echo start-${id} >> ${log}; sleep 0.3; echo end-${id} >> ${log}`, dependsOn, onDependencyFailure: 'hold' });
    // one request: extract → (clean, enrich) → load
    const res = await batch.api('POST', '/v1/jobs', [step('load', ['clean', 'enrich']), step('clean', ['extract']), step('enrich', ['extract']), step('extract')]);
    expect(res.status).toBe(201);
    expect((await batch.api('GET', '/v1/jobs/load/why')).json.reasons[0]).toMatch(/^waiting for dependencies: clean \(waiting\), enrich \(waiting\)/);
    await waitForJob(batch, 'load', 'succeeded', (j) => j.state === 'succeeded');
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    const at = (l: string): number => lines.indexOf(l);
    expect(at('end-extract')).toBeLessThan(at('start-clean'));
    expect(at('end-extract')).toBeLessThan(at('start-enrich'));
    expect(at('end-clean')).toBeLessThan(at('start-load'));
    expect(at('end-enrich')).toBeLessThan(at('start-load'));

    // A failing middle node holds its dependents (transitively); nothing of theirs runs.
    await batch.api('POST', '/v1/jobs', [
      { id: 'x', user: 'etl', command: 'exit 1' },
      { id: 'y', user: 'etl', command: `echo y >> ${log}`, dependsOn: ['x'], onDependencyFailure: 'hold' },
      { id: 'z', user: 'etl', command: `echo z >> ${log}`, dependsOn: ['y'], onDependencyFailure: 'hold' },
      { id: 'w', user: 'etl', command: `echo w >> ${log}`, dependsOn: ['x'], onDependencyFailure: 'fail' },
    ]);
    await waitForJob(batch, 'x', 'failed', (j) => j.state === 'failed');
    const y = await waitForJob(batch, 'y', 'held', (j) => j.state === 'held');
    expect(y.attempts).toBe(0);
    expect((await waitForJob(batch, 'z', 'held', (j) => j.state === 'held')).attempts).toBe(0);
    expect((await waitForJob(batch, 'w', 'failed', (j) => j.state === 'failed')).message).toBe('dependency x failed');
    expect((await batch.api('GET', '/v1/jobs/z/why')).json.reasons).toEqual(['held: dependency y is held']);
    expect(await readFile(log, 'utf8')).not.toMatch(/^[yzw]$/m);
  });

  it('refuses bad input precisely, stores nothing of a refused request, and reports a too-large job as unschedulable', async () => {
    const cluster = await startCluster(cleanup);
    const batch = await startBatchProcess(cleanup, cluster);
    const cases: [unknown, string, string][] = [
      [{ id: 'a', command: 'true', cpus: -1 }, 'jobs[0].cpus', 'must be >= 0'],
      [{ id: 'a', command: 'true', mem: 'lots' }, 'jobs[0].mem', 'must be a number'],
      [{ id: 'a', command: 'true', dependsOn: ['ghost'] }, 'jobs[0].dependsOn', 'unknown job ghost'],
      [[{ id: 'a', command: 'true', dependsOn: ['b'] }, { id: 'b', command: 'true', dependsOn: ['a'] }], 'jobs[0].dependsOn', 'cycle: a -> b -> a'],
      [[{ id: 'ok', command: 'true' }, { id: 'b', command: 42 }], 'jobs[1].command', 'must be a non-empty shell string'],
    ];
    for (const [body, field, message] of cases) {
      const res = await batch.api('POST', '/v1/jobs', body);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('INVALID_JOB');
      expect(res.json.field).toBe(field);
      expect(res.json.message).toContain(message);
    }
    expect((await batch.api('GET', '/v1/jobs/ok')).status).toBe(404); // nothing half-stored
    expect((await batch.api('GET', '/v1/jobs')).json.total).toBe(0);

    const big = await batch.api('POST', '/v1/jobs', { id: 'huge', command: 'true', cpus: 64 });
    expect(big.status).toBe(201);
    const shown = await waitForJob(batch, 'huge', 'reported unschedulable', (j) => typeof j.unschedulable === 'string', 20_000);
    expect(shown.unschedulable).toMatch(/cpus: need 64, have 2/);
    const why = await batch.api('GET', '/v1/jobs/huge/why');
    expect(why.json.reasons.join('\n')).toMatch(/unschedulable: larger than any agent .*cpus: need 64, have 2/);
  });
});
