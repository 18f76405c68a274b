import { Offer_Operation_Type, Resources } from '@meso/proto';
import { MemoryStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { accept } from '../calls/offer-calls.js';
import { MasterFixture, refusedWith, scalars } from '../master.fixture.js';
import { resolveMasterOptions } from '../options.js';
import { checkQuotaLimits, checkWeights } from './role-config.js';
import { setQuota, updateWeights } from './role-operations.js';
import { roleViews } from './role-views.js';

let fx: MasterFixture | undefined;
afterEach(async () => fx?.close());

const weightsOf = (f: MasterFixture) => Object.fromEntries([...f.master.model.weights].map(([r, w]) => [r, w.weight]));

describe('weights', () => {
  it.each([
    [[{ role: 'prod', weight: 3 }, { role: 'dev', weight: 0 }], 'weights[1].weight', 'a weight must be a number > 0, got 0'],
    [[{ role: 'dev', weight: -1 }], 'weights[0].weight', 'got -1'],
    [[{ role: 'dev', weight: Number.NaN }], 'weights[0].weight', 'got NaN'],
    [[{ role: 'dev', weight: '2' }], 'weights[0].weight', 'got 2'],
    [[{ role: 'bad role', weight: 1 }], 'weights[0].role', 'not a valid role name'],
    [[{ role: '*', weight: 1 }], 'weights[0].role', 'unreserved role'],
    [[{ role: 'a/../b', weight: 1 }], 'weights[0].role', 'not a valid role name'],
    [[{ role: 'a', weight: 1 }, { role: 'a', weight: 2 }], 'weights[1].role', 'given twice'],
    [[], 'weights', 'at least one'],
  ])('refuses %j naming %s', (list, field, message) => {
    let error: unknown;
    try {
      checkWeights(list as never);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
    expect((error as Error).message).toContain(message);
  });

  it('start-flag weights are validated as options naming the role', () => {
    expect(() => resolveMasterOptions({ workDir: 'x', weights: { prod: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'weights.prod' }));
    expect(resolveMasterOptions({ workDir: 'x', weights: { prod: 3, 'eng/dev': 1.5 } }).weights).toEqual([
      { role: 'prod', weight: 3 },
      { role: 'eng/dev', weight: 1.5 },
    ]);
  });

  it('reach the allocator; operator weights survive a restart and win over start flags, role by role', async () => {
    const store = new MemoryStateStore();
    fx = await MasterFixture.create({ weights: { prod: 3, dev: 1 } }, store);
    expect(weightsOf(fx)).toEqual({ prod: 3, dev: 1 });
    await updateWeights(fx.master, checkWeights([{ role: 'prod', weight: 5 }, { role: 'ops', weight: 2 }]));
    expect(weightsOf(fx)).toEqual({ prod: 5, dev: 1, ops: 2 });
    await fx.close();
    fx = await MasterFixture.create({ weights: { prod: 3, dev: 4 } }, store);
    expect(weightsOf(fx)).toEqual({ prod: 5, dev: 4, ops: 2 });
    expect(roleViews(fx.master.model).map((r) => [r.name, r.weight])).toEqual([['dev', 4], ['ops', 2], ['prod', 5]]);
  });
});

describe('quota', () => {
  it.each([
    [{ cpus: -1 }, 'limits.cpus', 'got -1'],
    [{ cpus: 0 }, 'limits.cpus', 'got 0'],
    [{ mem: Number.POSITIVE_INFINITY }, 'limits.mem', 'got Infinity'],
    [{ ports: 10 }, 'limits.ports', 'only cpus, mem, disk, gpus'],
  ])('refuses %j naming %s', (limits, field, message) => {
    expect(() => checkQuotaLimits(new Map(Object.entries(limits)))).toThrow(expect.objectContaining({ field, message: expect.stringContaining(message) }));
  });

  it('below what the role uses is refused naming the resource, nothing changed; above it rescinds offers that go over', async () => {
    fx = await MasterFixture.create();
    await fx.registerAgent({ resources: scalars({ cpus: 4, mem: 4096 }) });
    const fw = await fx.subscribe({ roles: ['dev'] });
    fx.allocate();
    const offer = [...fx.master.model.offers.values()][0];
    await fw.call('ACCEPT', (f, r) => accept(fx!.master, f, r), {
      offerIds: [{ value: offer?.id }],
      operations: [{ type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: [{ name: 't', taskId: { value: 't' }, resources: scalars({ cpus: 3, mem: 512 }), command: { value: 'x' } }] } }],
      filters: { refuseSeconds: 0 },
    });
    fx.allocate(); // the rest (1 cpu) is offered again
    expect(fx.master.model.offers.size).toBe(1);

    const refused = await refusedWith(setQuota(fx.master, 'dev', checkQuotaLimits(new Map([['cpus', 2], ['mem', 1024]]))));
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'limits.cpus' });
    expect(refused.message).toBe('limits.cpus: role dev uses 3, limit 2: stop tasks first or set a higher limit');
    expect(fx.master.model.quotas.size).toBe(0);
    expect(fx.master.model.offers.size).toBe(1);

    await setQuota(fx.master, 'dev', checkQuotaLimits(new Map([['cpus', 3.5]])));
    expect(fx.master.model.offers.size).toBe(0); // 3 used + 1 offered > 3.5: rescinded
    expect(fw.link.take('rescind')).toHaveLength(1);
    fx.allocate();
    expect([...fx.master.model.offers.values()].map((o) => o.resources.scalar('cpus'))).toEqual([0.5]);
    expect(roleViews(fx.master.model).find((r) => r.name === 'dev')).toMatchObject({ quota: Resources.scalars({ cpus: 3.5 }), frameworks: [fw.id] });
  });

  it('persists, and empty limits remove it', async () => {
    const store = new MemoryStateStore();
    fx = await MasterFixture.create({}, store);
    await setQuota(fx.master, 'dev', checkQuotaLimits(new Map([['cpus', 2], ['mem', 1024]])));
    await setQuota(fx.master, 'ops', checkQuotaLimits(new Map([['gpus', 1]])));
    await setQuota(fx.master, 'ops', Resources.empty());
    await fx.close();
    fx = await MasterFixture.create({}, store);
    expect([...fx.master.model.quotas].map(([role, r]) => [role, r.toString()])).toEqual([['dev', 'cpus:2;mem:1024']]);
    expect(await refusedWith(setQuota(fx.master, 'bad role', Resources.empty()))).toMatchObject({ field: 'role' });
  });
});
