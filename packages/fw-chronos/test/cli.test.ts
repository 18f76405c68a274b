import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, type Proc } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { linesOf, startChronosProcess, startCluster, waitForRuns } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function meso(args: string[]): Promise<{ code: number | null; out: Proc }> {
  const proc = cleanup.meso(args);
  return { code: await proc.exited, out: proc };
}

describe('meso job against meso-chronos', () => {
  it('adds jobs from a file, lists them, runs one, shows its runs and removes them', async () => {
    const cluster = await startCluster(cleanup);
    const chronos = await startChronosProcess(cleanup, cluster);
    const out = join(cluster.dir, 'out.txt');
    const file = join(cluster.dir, 'jobs.json');
    await writeFile(file, JSON.stringify([
      { name: 'backup', command: `echo backup >> ${out}`, schedule: 'R/2099-01-01T02:30:00/P1D', scheduleTimeZone: 'Europe/London', cpus: 0.1, mem: 32, disk: 0 },
      { name: 'report', command: `echo report >> ${out}`, parents: ['backup'], cpus: 0.1, mem: 32, disk: 0 },
    ]));
    const flag = ['--chronos', chronos.address];
    const add = await meso(['job', 'add', file, ...flag]);
    expect(add.code, add.out.stderr).toBe(0);
    expect(add.out.stdout).toContain('job report saved');

    const list = await meso(['job', 'list', ...flag]);
    expect(list.code, list.out.stderr).toBe(0);
    expect(list.out.stdout).toMatch(/backup\s+R\/2099-01-01T02:30:00\/P1D \(Europe\/London\)/);
    expect(list.out.stdout).toMatch(/report\s+after backup/);

    expect((await meso(['job', 'run', 'backup', ...flag])).code).toBe(0);
    await waitForRuns(chronos, 'report', 'the dependent run', (r) => r.some((x) => x.state === 'SUCCEEDED'));
    expect(await linesOf(out)).toEqual(['backup', 'report']);

    const runs = await meso(['job', 'runs', 'backup', ...flag]);
    expect(runs.code, runs.out.stderr).toBe(0);
    expect(runs.out.stdout).toMatch(/manual\s+1\s+SUCCEEDED/);

    const bad = await meso(['job', 'runs', 'nope', ...flag]);
    expect(bad.code).toBe(1);
    expect(bad.out.stderr).toContain("job 'nope' not found");

    expect((await meso(['job', 'remove', 'report', ...flag])).code).toBe(0);
    expect((await meso(['job', 'remove', 'backup', ...flag])).code).toBe(0);
    expect((await chronos.api('GET', '/scheduler/jobs')).json).toEqual([]);
  });
});
