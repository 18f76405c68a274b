import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { Tenant, TASK, waitForSaturation } from './roles-quota.fixture.js';

const meso = (cleanup: Cleanup, args: string[]) => cleanup.mesoRun(args);

describe('roles and quota on a real cluster', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('two frameworks in roles weighted 3:1 (--weights) on a saturated cluster converge to a 3:1 split of cpus', async () => {
    const master = await startMasterProcess(cleanup, ['--weights', 'prod=3,dev=1']);
    await startAgentProcess(cleanup, master.address, 'cpus:4;mem:4096');
    await startAgentProcess(cleanup, master.address, 'cpus:4;mem:4096');
    const started = Date.now();
    // Each takes one task per offer and gives the rest back: the allocator's order decides the split.
    const dev = await Tenant.start(cleanup, master.address, 'dev', 'one');
    const prod = await Tenant.start(cleanup, master.address, 'prod', 'one');
    const split = (await waitForSaturation(master.address, [prod, dev], 8, 180_000)) as { prod: number; dev: number };
    const seconds = (Date.now() - started) / 1000;
    // The split is real processes: every task reaches TASK_RUNNING.
    await waitFor('16 tasks running', () => prod.running.size + dev.running.size === 16 || undefined, 180_000);
    const runningSeconds = (Date.now() - started) / 1000;
    console.log(
      `weighted DRF 3:1: prod ${split.prod} cpus, dev ${split.dev} cpus (ratio ${(split.prod / split.dev).toFixed(2)}) allocated after ${seconds.toFixed(1)} s, all running after ${runningSeconds.toFixed(1)} s`,
    );
    // Exactly 3:1 is 6 and 2 cpus; one task (0.5 cpu) either way is the tolerance.
    expect(split.prod / split.dev).toBeGreaterThanOrEqual(5.5 / 2.5);
    expect(split.prod / split.dev).toBeLessThanOrEqual(6.5 / 1.5);
    expect(Math.abs(split.prod - 6)).toBeLessThanOrEqual(TASK.cpus);
    expect([...prod.failures, ...dev.failures]).toEqual([]);

    const roles = await meso(cleanup, ['roles', '--master', master.address]);
    expect(roles.code).toBe(0);
    expect(roles.stdout).toMatch(/^\s*ROLE\s+WEIGHT\s+QUOTA\s+ALLOCATED\s+RESERVED\s+FRAMEWORKS/m);
    expect(roles.stdout).toMatch(new RegExp(`^\\s*dev\\s+1\\s+-\\s+\\S*cpus:${split.dev}\\S*\\s+-\\s+${dev.id}\\s*$`, 'm'));
    expect(roles.stdout).toMatch(new RegExp(`^\\s*prod\\s+3\\s+-\\s+\\S*cpus:${split.prod}\\S*\\s+-\\s+${prod.id}\\s*$`, 'm'));
  });

  it('quota caps a role while another role takes the rest; a limit below what a role uses is refused naming it', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const set = await meso(cleanup, ['quota', 'set', 'dev', '--cpus', '1', '--mem', '512', '--master', master.address]);
    expect(set).toMatchObject({ code: 0, stdout: 'quota of dev: cpus:1;mem:512\n' });
    // dev subscribes first and takes all it is offered: only the quota holds it back.
    const dev = await Tenant.start(cleanup, master.address, 'dev', 'all');
    const prod = await Tenant.start(cleanup, master.address, 'prod', 'all');
    const split = await waitForSaturation(master.address, [prod, dev], 4, 120_000);
    expect(split).toEqual({ dev: 1, prod: 3 });
    expect(dev.offers.length).toBeGreaterThan(0);
    expect(dev.offers.every((o) => o.resources.scalar('cpus') <= 1 && o.resources.scalar('mem') <= 512)).toBe(true);
    expect([...prod.failures, ...dev.failures]).toEqual([]);

    const list = await meso(cleanup, ['quota', '--master', master.address]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^\s*dev\s+1\s+512\s+-\s+-\s*$/m);
    const below = await meso(cleanup, ['quota', 'set', 'prod', '--cpus', '2', '--master', master.address]);
    expect(below.code).toBe(1);
    expect(below.stderr).toContain('INVALID_ARGUMENT at limits.cpus: role prod uses 3, limit 2');
    expect((await meso(cleanup, ['quota', '--master', master.address])).stdout).not.toMatch(/^\s*prod/m);
    const removed = await meso(cleanup, ['quota', 'remove', 'dev', '--master', master.address]);
    expect(removed).toMatchObject({ code: 0, stdout: 'quota of dev removed\n' });
    expect((await meso(cleanup, ['quota', '--master', master.address])).stdout).toContain('(none)');
  });

  it('meso roles weight and bad weights: refused with the item named, nothing changed', async () => {
    const badFlag = await meso(cleanup, ['master', '--port', '0', '--work_dir', await cleanup.tempDir(), '--weights', 'prod=0']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("--weights: 'prod=0': the weight of prod must be a number > 0");
    const master = await startMasterProcess(cleanup, ['--weights', 'prod=3']);
    const set = await meso(cleanup, ['roles', 'weight', 'prod=2', 'dev=0.5', '--master', master.address]);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^\s*dev\s+0\.5\s*$/m);
    const negative = await meso(cleanup, ['roles', 'weight', 'ops=1', 'dev=-1', '--master', master.address]);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain("'dev=-1': the weight of dev must be a number > 0");
    const star = await meso(cleanup, ['roles', 'weight', 'ops=1', '*=2', '--master', master.address]);
    expect(star.code).toBe(1);
    expect(star.stderr).toContain('INVALID_ARGUMENT at weights[1].role');
    const weights = (await (await fetch(`http://${master.address}/weights`)).json()) as unknown;
    expect(weights).toEqual([{ role: 'dev', weight: 0.5 }, { role: 'prod', weight: 2 }]);
    const noQuota = await meso(cleanup, ['quota', 'set', 'dev', '--master', master.address]);
    expect(noQuota.code).toBe(2);
    expect(noQuota.stderr).toContain('needs at least one of --cpus');
  });
});
