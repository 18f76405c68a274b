import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, startAgentProcess, startMasterProcess, type RunningMaster } from '@meso/testing';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The first ```js block of a README: the example an author would copy. */
async function readmeExample(pkgDir: string): Promise<string> {
  const text = await readFile(join(root, 'packages', pkgDir, 'README.md'), 'utf8');
  const block = /```(?:js|javascript|mjs)\n([\s\S]*?)```/.exec(text)?.[1];
  if (!block) throw new Error(`packages/${pkgDir}/README.md has no \`\`\`js example`);
  return block;
}

// What a framework author does: npm-install the packed SDKs into an empty project and run
// the README's example against a real cluster.
describe('the SDKs installed from packed tarballs', () => {
  const cleanup = new Cleanup();
  let project = '';
  let master: RunningMaster;

  beforeAll(async () => {
    const packs = await cleanup.tempDir('meso-packs-');
    await run('npm', ['pack', '--silent', '--pack-destination', packs, '--workspace', '@meso/proto', '--workspace', '@meso/sdk-scheduler', '--workspace', '@meso/sdk-executor'], { cwd: root });
    const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).map((f) => join(packs, f));
    expect(tarballs).toHaveLength(3);
    project = await cleanup.tempDir('meso-author-');
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-framework', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], { cwd: project, timeout: 240_000 });
    master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:2048');
  }, 300_000);
  afterAll(() => cleanup.run());

  it('installs only the public entry points (no deep imports)', async () => {
    const pkg = JSON.parse(await readFile(join(project, 'node_modules/@meso/sdk-scheduler/package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports)).toEqual(['.']);
    const deepPath = ['@meso/sdk-scheduler', 'dist', 'index.js'].join('/');
    await expect(run(process.execPath, ['--input-type=module', '-e', `await import('${deepPath}')`], { cwd: project })).rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("runs the scheduler SDK README's example to a finished task", async () => {
    const example = (await readmeExample('sdk-scheduler')).replaceAll('127.0.0.1:5050', master.address);
    await writeFile(join(project, 'example.mjs'), example);
    const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: project, timeout: 60_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\n--- master log:\n${master.proc.stderr.slice(-4000)}`);
    });
    expect(stdout).toMatch(/TASK_FINISHED/);
  });
});
