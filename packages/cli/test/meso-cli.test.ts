import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, type Proc } from '@meso/testing';

describe('meso local, execute and state (the README quick start)', () => {
  const cleanup = new Cleanup();
  let master = '';
  const frameworks: Record<string, string> = {};

  beforeAll(async () => {
    const dataDir = await cleanup.tempDir('meso-local-');
    const local = cleanup.meso(['local', '--port', '0', '--agents', '2', '--data_dir', dataDir, '--allocation_interval', '100ms', '--resources', 'cpus:2;mem:2048']);
    [, master = ''] = await local.line(/^master:\s+(\S+)/m);
    await local.line(/cluster ready \(2 agents and marathon, chronos, batch/);
    for (const name of ['marathon', 'chronos', 'batch', 'redis']) [, frameworks[name] = ''] = await local.line(new RegExp(`^${name}:\\s+http://(\\S+)`, 'm'));
  });
  afterAll(() => cleanup.run());

  async function execute(args: string[]): Promise<Proc> {
    const proc = cleanup.meso(['execute', '--master', master, ...args]);
    await proc.exited;
    return proc;
  }

  it("runs `sh -c 'echo hello'`: RUNNING, FINISHED, a sandbox whose stdout holds hello, exit 0", async () => {
    const run = await execute(['--', 'sh', '-c', 'echo hello']);
    expect(run.stdout).toMatch(/TASK_RUNNING/);
    expect(run.stdout).toMatch(/TASK_FINISHED/);
    expect(run.exitCode).toBe(0);
    const sandbox = /^sandbox: (.+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(await readFile(join(sandbox, 'stdout'), 'utf8')).toContain('hello');
  });

  it("ends `sh -c 'exit 3'` TASK_FAILED and exits with the task's status", async () => {
    const run = await execute(['--resources', 'cpus:0.5;mem:64', '--', 'sh', '-c', 'exit 3']);
    expect(run.stdout).toMatch(/TASK_FAILED/);
    expect(run.exitCode).toBe(3);
  });

  it('refuses bad resources before contacting anyone, naming the fragment', async () => {
    const run = await execute(['--resources', 'cpus:-1;mem:64', '--', 'true']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("'cpus:-1'");
    expect(run.stderr).toContain('must not be negative');
  });

  it('runs Marathon, Chronos, batch and Redis beside the cluster, registered as frameworks', async () => {
    expect((await (await fetch(`http://${frameworks['marathon']}/ping`)).text()).trim()).toBe('pong');
    expect((await (await fetch(`http://${frameworks['chronos']}/ping`)).text()).trim()).toBe('pong');
    expect((await (await fetch(`http://${frameworks['batch']}/ping`)).text()).trim()).toBe('pong');
    expect((await (await fetch(`http://${frameworks['redis']}/ping`)).text()).trim()).toBe('pong');
    const state = (await (await fetch(`http://${master}/state`)).json()) as { frameworks: Array<{ name: string; connected: boolean }> };
    expect(state.frameworks.filter((f) => f.connected).map((f) => f.name).sort()).toEqual(['batch', 'chronos', 'marathon', 'redis']);
  });

  it('serves /state and /metrics, and meso state shows the agents', async () => {
    const state = (await (await fetch(`http://${master}/state`)).json()) as { agents: Array<{ resources: { total: { cpus: number } } }> };
    expect(state.agents).toHaveLength(2);
    expect(state.agents.every((a) => a.resources.total.cpus === 2)).toBe(true);
    const metrics = await (await fetch(`http://${master}/metrics`)).text();
    expect(metrics).toMatch(/^# TYPE \S+ (gauge|counter)/m);
    expect(metrics).toMatch(/agents?\S*\s+2$/m);
    const table = await execute(['--help']);
    expect(table.exitCode).toBe(0);
    const shown = cleanup.meso(['state', '--master', master]);
    await shown.exited;
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/AGENTS \(2\)/);
  });
});

describe('meso agent with bad flags', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('exits non-zero naming the malformed --resources fragment', async () => {
    const workDir = await cleanup.tempDir();
    const agent = cleanup.meso(['agent', '--master', '127.0.0.1:1', '--port', '0', '--work_dir', workDir, '--resources', 'cpus:abc;mem:64']);
    expect(await agent.exited).not.toBe(0);
    expect(agent.stderr).toContain("--resources 'cpus:abc': 'abc' is not a number");
  });
});
