import { Offer_Operation_Type, ValueType } from '@meso/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MasterFixture, refusedWith, scalars, type FakeFramework } from '../master.fixture.js';
import { taskKey } from '../model/model.js';
import { accept, decline } from './offer-calls.js';

let fx: MasterFixture;
let fw: FakeFramework;
let agentId: string;

const command = { shell: true, value: 'true' };
function task(id: string, res: Record<string, number> = { cpus: 1, mem: 128 }, extra: Record<string, unknown> = {}) {
  return { name: id, taskId: { value: id }, resources: scalars(res), command, ...extra };
}
function launch(...tasks: unknown[]) {
  return { type: Offer_Operation_Type.LAUNCH, launch: { taskInfos: tasks } };
}
function offerIds(): string[] {
  return [...fx.master.model.offers.values()].filter((o) => o.frameworkId === fw.id).map((o) => o.id);
}
async function acceptError(req: Record<string, unknown>) {
  return refusedWith(fw.call('ACCEPT', (f, r) => accept(fx.master, f, r), req));
}

beforeEach(async () => {
  fx = await MasterFixture.create();
  agentId = (await await fx.registerAgent()).id;
  fw = await fx.subscribe();
  fx.allocate();
});
afterEach(async () => fx.close());

describe('ACCEPT validation: refused with the field and the reason, nothing allocated', () => {
  afterEach(() => {
    // On every failure the offers stay outstanding and nothing is charged.
    expect(fx.master.model.tasks.size).toBe(0);
    expect(fx.master.model.agents.get(agentId)?.used.isEmpty()).toBe(true);
  });

  it('unknown offer id', async () => {
    const e = await acceptError({ offerIds: [{ value: 'nope' }], operations: [launch(task('a'))] });
    expect(e).toMatchObject({ code: 'UNKNOWN_OFFER', field: 'offer_ids[0]' });
    expect(e.message).toContain("offer 'nope' is not outstanding");
    expect(offerIds()).toHaveLength(1);
  });

  it('an offer used twice in the call', async () => {
    const [id] = offerIds();
    const e = await acceptError({ offerIds: [{ value: id }, { value: id }], operations: [launch(task('a'))] });
    expect(e).toMatchObject({ code: 'DUPLICATE_OFFER', field: 'offer_ids[1]' });
  });

  it("another framework's offer", async () => {
    const other = await fx.subscribe({ name: 'other' });
    const e = await refusedWith(other.call('ACCEPT', (f, r) => accept(fx.master, f, r), { offerIds: [{ value: offerIds()[0] }], operations: [] }));
    expect(e).toMatchObject({ code: 'OFFER_NOT_OWNED', field: 'offer_ids[0]' });
  });

  it('resources beyond the offer, with the shortfall', async () => {
    const e = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a', { cpus: 3, mem: 128 }), task('b', { cpus: 2, mem: 128 }))] });
    expect(e).toMatchObject({ code: 'RESOURCES_EXCEED_OFFER', field: 'operations[0].launch.task_infos[1].resources' });
    expect(e.message).toContain('cpus: need 2, have 1');
    expect(offerIds()).toHaveLength(1);
  });

  it('offers on two agents', async () => {
    await fx.registerAgent({ hostname: 'h2' });
    fx.allocate();
    const ids = offerIds();
    expect(ids).toHaveLength(2);
    const e = await acceptError({ offerIds: ids.map((value) => ({ value })), operations: [launch(task('a'))] });
    expect(e).toMatchObject({ code: 'OFFERS_ON_DIFFERENT_AGENTS', field: 'offer_ids[1]' });
  });

  it('a duplicate task id in the call', async () => {
    const e = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a'), task('a'))] });
    expect(e).toMatchObject({ code: 'DUPLICATE_TASK_ID', field: 'operations[0].launch.task_infos[1].task_id' });
  });

  it('negative and NaN resources', async () => {
    const negative = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a', { cpus: -1, mem: 128 }))] });
    expect(negative).toMatchObject({ code: 'INVALID_RESOURCES', field: 'operations[0].launch.task_infos[0].resources[0].value' });
    expect(negative.message).toContain('must not be negative');
    const nan = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a', { cpus: 1, mem: Number.NaN }))] });
    expect(nan).toMatchObject({ code: 'INVALID_RESOURCES', field: 'operations[0].launch.task_infos[0].resources[1].value' });
    const untyped = await acceptError({
      offerIds: [{ value: offerIds()[0] }],
      operations: [launch(task('a', {}, { resources: [{ name: 'cpus', type: ValueType.VALUE_TYPE_UNSPECIFIED, scalar: 1 }] }))],
    });
    expect(untyped).toMatchObject({ code: 'INVALID_RESOURCES', field: 'operations[0].launch.task_infos[0].resources[0].type' });
  });

  it('invalid task ids', async () => {
    for (const bad of ['', 'has space', 'slash/y']) {
      const e = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task(bad))] });
      expect(e).toMatchObject({ code: 'INVALID_TASK', field: 'operations[0].launch.task_infos[0].task_id' });
    }
  });

  it('a task with neither or both command and executor', async () => {
    const neither = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a', undefined, { command: undefined }))] });
    expect(neither).toMatchObject({ code: 'INVALID_TASK', field: 'operations[0].launch.task_infos[0]' });
    expect(neither.message).toContain('exactly one of command or executor');
    const both = await acceptError({
      offerIds: [{ value: offerIds()[0] }],
      operations: [launch(task('a', undefined, { executor: { executorId: { value: 'e' }, command } }))],
    });
    expect(both).toMatchObject({ code: 'INVALID_TASK', field: 'operations[0].launch.task_infos[0]' });
  });

  it('an executor id reused with a different command', async () => {
    const ex = (value: string) => ({ executorId: { value: 'ex1' }, command: { shell: true, value } });
    const e = await acceptError({
      offerIds: [{ value: offerIds()[0] }],
      operations: [launch(task('a', undefined, { command: undefined, executor: ex('run-a') }), task('b', undefined, { command: undefined, executor: ex('run-b') }))],
    });
    expect(e).toMatchObject({ code: 'INVALID_EXECUTOR', field: 'operations[0].launch.task_infos[1].executor' });
  });

  it.each([
    [Offer_Operation_Type.RESERVE, 'reserve.resources'],
    [Offer_Operation_Type.UNRESERVE, 'unreserve.resources'],
    [Offer_Operation_Type.CREATE, 'create.volumes'],
    [Offer_Operation_Type.DESTROY, 'destroy.volumes'],
  ])('operation %s with no resources', async (type, field) => {
    const e = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a')), { type }] });
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: `operations[1].${field}` });
  });

  it('a negative refuse_seconds', async () => {
    const e = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [], filters: { refuseSeconds: -1 } });
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filters.refuse_seconds' });
  });
});

describe('ACCEPT and DECLINE that succeed', () => {
  it('rejects a task id already used by a live task of the framework', async () => {
    await fw.call('ACCEPT', (f, r) => accept(fx.master, f, r), { offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a'))], filters: { refuseSeconds: 0 } });
    fx.allocate();
    const e = await acceptError({ offerIds: [{ value: offerIds()[0] }], operations: [launch(task('a'))] });
    expect(e).toMatchObject({ code: 'DUPLICATE_TASK_ID', field: 'operations[0].launch.task_infos[0].task_id' });
    expect(e.message).toContain('already used by a live task');
  });

  it('charges a custom executor once per agent, command tasks only their own resources', async () => {
    const executor = { executorId: { value: 'ex1' }, command: { shell: true, value: 'my-executor' }, resources: scalars({ cpus: 0.5, mem: 64 }) };
    await fw.call('ACCEPT', (f, r) => accept(fx.master, f, r), {
      offerIds: [{ value: offerIds()[0] }],
      operations: [launch(task('a', { cpus: 1, mem: 128 }, { command: undefined, executor }), task('b', { cpus: 1, mem: 128 }, { command: undefined, executor }), task('c'))],
    });
    // 3 tasks x <1 cpu, 128 mem> + one executor <0.5, 64> = <3.5, 448>
    expect(fx.master.model.agents.get(agentId)?.used.toString()).toBe('cpus:3.5;mem:448');
    expect(fx.master.model.tasks.get(taskKey(fw.id, 'a'))?.state).toBe(1);
    expect(fx.master.model.executors.size).toBe(1);
  });

  it('filters the declined resources for refuse_seconds, then offers them again', async () => {
    await fw.call('DECLINE', (f, r) => decline(fx.master, f, r), { offerIds: [{ value: offerIds()[0] }], filters: { refuseSeconds: 10 } });
    fx.allocate();
    expect(offerIds()).toHaveLength(0);
    fx.clock.advance(10_000);
    fx.allocate();
    expect(offerIds()).toHaveLength(1);
  });

  it('DECLINE refuses unknown offers naming the field', async () => {
    const e = await refusedWith(fw.call('DECLINE', (f, r) => decline(fx.master, f, r), { offerIds: [{ value: offerIds()[0] }, { value: 'x' }] }));
    expect(e).toMatchObject({ code: 'UNKNOWN_OFFER', field: 'offer_ids[1]' });
    expect(offerIds()).toHaveLength(1);
  });
});
