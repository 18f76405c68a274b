import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '@meso/testing';
import { startCluster, startMarathonProcess } from './harness.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

describe('meso app', () => {
  it('deploys a file with live progress, lists, shows, scales, restarts and removes', async () => {
    const { master } = await startCluster(cleanup, 1);
    const marathon = await startMarathonProcess(cleanup, master.address, join(await cleanup.tempDir('marathon-'), 'work'));
    const address = marathon.url.replace('http://', '');
    const dir = await cleanup.tempDir('meso-app-');
    const run = async (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
      const proc = cleanup.meso(['app', ...args, '--marathon', address]);
      const code = await proc.exited;
      return { code, out: proc.stdout, err: proc.stderr };
    };
    const file = join(dir, 'web.json');
    await writeFile(file, JSON.stringify({ id: '/shop/web', cmd: 'exec sleep 600', cpus: 0.1, mem: 16, instances: 2 }));

    const deploy = await run('deploy', file);
    expect(deploy.code, deploy.err).toBe(0);
    expect(deploy.out).toMatch(/^deployment \S+ \(version /m);
    expect(deploy.out).toMatch(/finished: \/shop\/web running 2\/2/);

    const list = await run('list');
    expect(list.out).toMatch(/\/shop\/web\s+2\s+2\s+-\s+0\.1\s+16\s+0\s+exec sleep 600/);

    const scale = await run('scale', '/shop/web', '3');
    expect(scale.code, scale.err).toBe(0);
    expect(scale.out).toMatch(/running 3\/3/);

    const show = await run('show', 'shop/web');
    expect(show.out).toMatch(/instances {2}3 \(running 3, staged 0, healthy -\)/);
    expect(show.out.match(/TASK_RUNNING/g)).toHaveLength(3);

    const restart = await run('restart', '/shop/web');
    expect(restart.code, restart.err).toBe(0);
    expect(restart.out).toMatch(/step 1\/1 RestartApplication|finished/);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ id: '/shop/bad', cmd: 'x', args: ['y'], instances: -1 }));
    const invalid = await run('deploy', bad);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/HTTP 422: Object is not valid/);
    expect(invalid.err).toMatch(/\/instances: must be greater than or equal to 0/);

    const remove = await run('remove', '/shop/web');
    expect(remove.code, remove.err).toBe(0);
    expect(remove.out).toMatch(/\/shop\/web removed/);
    expect((await run('list')).out).toMatch(/\(none\)/);
  });
});
