import { Offer_Operation_Type, parseResources, resourcesFromWire, silentLogger } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerError } from './errors.js';
import { FakeSchedulerTransport } from './fake-transport.js';
import { OfferBuilder } from './offer-builder.js';
import { Scheduler } from './scheduler.js';
import { validateTaskSpec } from './task-spec.js';
import type { Offer, TaskSpec, VolumeSpec } from './types.js';

const DATA: VolumeSpec = { id: 'data-1', containerPath: 'data', sizeMb: 512, role: 'redis' };

function offer(resources: string): Offer {
  const r = parseResources(resources);
  return { id: 'o1', frameworkId: 'f1', agentId: 'a1', hostname: 'h1', resources: r, volumes: [], attributes: [], executorIds: [], role: 'redis', agentEndpoint: '' };
}

function caught(fn: () => unknown): SchedulerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SchedulerError);
    return e as SchedulerError;
  }
  throw new Error('expected a SchedulerError');
}

const task = (extra: Partial<TaskSpec> = {}): TaskSpec => ({ taskId: 't1', resources: { cpus: 1, mem: 256 }, command: { shell: 'true' }, ...extra });

describe('persistent volumes and reservations in the SDK', () => {
  it('refuses bad volume specs naming the field', () => {
    expect(caught(() => validateTaskSpec(task({ volumes: [{ ...DATA, role: '*' }] }), 'task')).field).toBe('task.volumes[0].role');
    expect(caught(() => validateTaskSpec(task({ volumes: [{ ...DATA, sizeMb: 0 }] }), 'task')).field).toBe('task.volumes[0].sizeMb');
    const badPath = caught(() => validateTaskSpec(task({ volumes: [{ ...DATA, containerPath: '../x' }] }), 'task'));
    expect(badPath.code).toBe('INVALID_TASK');
    expect(badPath.field).toBe('task.volumes[0].containerPath');
    expect(caught(() => validateTaskSpec(task({ volumes: [{ ...DATA, id: 'a b' }] }), 'task')).field).toBe('task.volumes[0].id');
    expect(caught(() => validateTaskSpec(task({ volumes: [DATA, DATA] }), 'task')).field).toBe('task.volumes[1].id');
  });

  it('reserve, create and launch with the volume in one ACCEPT, in order', () => {
    const b = new OfferBuilder(offer('cpus:4;mem:4096;disk:10000'));
    b.apply({ type: 'reserve', resources: parseResources('cpus(redis):1;mem(redis):256;disk(redis):512') }, 'operations[0]');
    b.apply({ type: 'create', volumes: [DATA] }, 'operations[1]');
    const placed = b.add(task({ volumes: [DATA] }));
    expect(placed.resources.toString()).toBe('cpus(redis):1;disk(redis)[data-1:data]:512;mem(redis):256');
    expect(b.remaining.toString()).toBe('cpus:3;disk:9488;mem:3840');
  });

  it('refuses operations the offer cannot carry, leaving the builder unchanged', () => {
    const b = new OfferBuilder(offer('cpus:1;mem:256;disk(redis):100'));
    const tooMuch = caught(() => b.apply({ type: 'reserve', resources: parseResources('cpus(redis):2') }, 'operations[0]'));
    expect(tooMuch.code).toBe('RESOURCES_EXCEED_OFFER');
    expect(tooMuch.field).toBe('operations[0].resources');
    expect(tooMuch.message).toContain('cpus: need 2, have 1');
    const noRole = caught(() => b.apply({ type: 'reserve', resources: parseResources('mem(redis):1;cpus:1') }, 'operations[0]'));
    expect(noRole.field).toBe('operations[0].resources[0]');
    expect(caught(() => b.apply({ type: 'create', volumes: [DATA] }, 'operations[1]')).message).toContain('disk(redis): need 512, have 100');
    expect(caught(() => b.apply({ type: 'destroy', volumes: [DATA] }, 'operations[2]')).field).toBe('operations[2].volumes');
    expect(b.remaining.toString()).toBe('cpus:1;disk(redis):100;mem:256');
  });

  it('takes plain disk never from a volume, and a volume only when the task names it', () => {
    const b = new OfferBuilder(offer('cpus:2;mem:512;disk(redis)[data-1:data]:512'));
    expect(caught(() => b.add(task({ resources: { cpus: 1, disk: 10 } }))).code).toBe('TASK_DOES_NOT_FIT');
    const other = caught(() => b.add(task({ volumes: [{ ...DATA, id: 'data-2' }] })));
    expect(other.code).toBe('TASK_DOES_NOT_FIT');
    expect(other.field).toBe('task.volumes');
    b.add(task({ volumes: [DATA] }));
    expect(b.remaining.toString()).toBe('cpus:1;mem:256');
  });

  const open: Scheduler[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('sends RESERVE, CREATE, LAUNCH and DESTROY on the wire; offers list their volumes', async () => {
    const master = new FakeSchedulerTransport();
    const scheduler = await Scheduler.connect({ framework: { name: 'vol', roles: ['redis'] }, transport: master, logger: silentLogger });
    open.push(scheduler);
    const events = scheduler.events()[Symbol.asyncIterator]();
    master.offer({ id: 'o1', role: 'redis', resources: 'cpus:2;mem:1024;disk:2000;disk(redis)[old:data]:64' });
    let next = await events.next();
    while (!next.done && next.value.type !== 'offers') next = await events.next();
    const seen = next.value.type === 'offers' ? next.value.offers[0]! : undefined;
    expect(seen?.volumes).toEqual([{ id: 'old', containerPath: 'data', sizeMb: 64, role: 'redis', mode: 'rw' }]);
    await scheduler.accept(['o1'], [
      { type: 'reserve', resources: parseResources('cpus(redis):1;disk(redis):512') },
      { type: 'create', volumes: [DATA] },
      { type: 'launch', tasks: [task({ volumes: [DATA] })] },
      { type: 'destroy', volumes: [seen!.volumes[0]!] },
    ]);
    const ops = master.callsOf('accept')[0]!.operations;
    expect(ops.map((o) => o.type)).toEqual([
      Offer_Operation_Type.RESERVE,
      Offer_Operation_Type.CREATE,
      Offer_Operation_Type.LAUNCH,
      Offer_Operation_Type.DESTROY,
    ]);
    expect(resourcesFromWire(ops[0]!.reserve!.resources).toString()).toBe('cpus(redis):1;disk(redis):512');
    expect(resourcesFromWire(ops[1]!.create!.volumes).toString()).toBe('disk(redis)[data-1:data]:512');
    expect(resourcesFromWire(ops[2]!.launch!.taskInfos[0]!.resources).toString()).toBe('cpus(redis):1;disk(redis)[data-1:data]:512;mem:256');
    expect(resourcesFromWire(ops[3]!.destroy!.volumes).toString()).toBe('disk(redis)[old:data]:64');
  });
});
