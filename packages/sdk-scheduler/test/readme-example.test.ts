// Runs the README's example as a framework author would (a separate node process importing
// the built package) against the gRPC test double of the master, which offers resources and
// answers the launch with RUNNING then FINISHED. The integrator runs the same example from a
// packed tarball against a real cluster.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TaskState } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { TestMaster, wireOffer, wireStatus } from './support/test-master.js';

const run = promisify(execFile);
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(pkgDir, '..', '..');

async function readmeExample(): Promise<string> {
  const text = await readFile(join(pkgDir, 'README.md'), 'utf8');
  const block = /```(?:js|javascript|mjs)\n([\s\S]*?)```/.exec(text)?.[1];
  if (!block) throw new Error('README.md has no ```js example');
  return block;
}

describe('the README example', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('launches echo hello, prints every update and exits 0 once the task finished', async () => {
    const master = new TestMaster();
    const address = await master.start();
    cleanups.push(() => master.stop());
    master.onSubscribed = (stream, frameworkId) => {
      stream.write({ event: { $case: 'offers', value: { offers: [wireOffer('small', frameworkId, undefined)] } } });
    };
    master.policy = (call) => {
      if (call.name !== 'accept') return undefined;
      const info = call.request.operations[0].launch.taskInfos[0];
      const taskId: string = info.taskId.value;
      setImmediate(() => {
        master.stream.write({ event: { $case: 'update', value: { status: wireStatus(taskId, TaskState.TASK_RUNNING, 'u-running') } } });
        master.stream.write({ event: { $case: 'update', value: { status: wireStatus(taskId, TaskState.TASK_FINISHED, 'u-finished') } } });
      });
      return undefined;
    };

    // Under the repository's tmp/ (ignored), so `@meso/sdk-scheduler` resolves to the built package.
    const dir = join(repoRoot, 'tmp', `sdk-scheduler-readme-${process.pid}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const example = (await readmeExample()).replaceAll('127.0.0.1:5050', address);
    expect(example).not.toBe(await readmeExample());
    await writeFile(join(dir, 'example.mjs'), example);

    const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: dir, timeout: 30_000, env: { ...process.env, MESO_LOG_LEVEL: 'warn' } });
    expect(stdout).toMatch(/subscribed as framework fw-1/);
    expect(stdout).toMatch(/TASK_RUNNING/);
    expect(stdout).toMatch(/TASK_FINISHED/);
    const accept = master.callsOf('accept')[0];
    expect(accept.operations[0].launch.taskInfos[0].command).toMatchObject({ shell: true, value: 'echo hello' });
    expect(accept.operations[0].launch.taskInfos[0].resources.map((r: { name: string; scalar: number }) => [r.name, r.scalar])).toEqual([
      ['cpus', 0.1],
      ['mem', 32],
    ]);
    // Both updates were acknowledged, the last one as the loop ended, before close().
    // (in one ACKNOWLEDGE call or two, as they were handled in one turn of the event loop or not).
    const acknowledged = master.callsOf('acknowledge').flatMap((a) => (a.acknowledgements.length > 0 ? a.acknowledgements.map((x: { uuid: string }) => x.uuid) : [a.uuid]));
    expect(acknowledged).toEqual(['u-running', 'u-finished']);
  });
});
