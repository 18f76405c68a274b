import { parseResources, Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { SchedulerError } from './errors.js';
import { fitTasks, OfferBuilder } from './offer-builder.js';
import type { Offer, TaskSpec } from './types.js';

function offer(resources: string, init: Partial<Offer> = {}): Offer {
  return {
    id: 'o1',
    frameworkId: 'f1',
    agentId: 'a1',
    hostname: 'h1',
    resources: parseResources(resources),
    volumes: [],
    attributes: [],
    executorIds: [],
    role: 'web',
    agentEndpoint: '127.0.0.1:5051',
    ...init,
  };
}

const task = (taskId: string, resources: TaskSpec['resources'], extra: Partial<TaskSpec> = {}): TaskSpec => ({
  taskId,
  resources,
  command: { shell: 'true' },
  ...extra,
});

function thrown(fn: () => unknown): SchedulerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SchedulerError);
    return e as SchedulerError;
  }
  throw new Error('expected a SchedulerError');
}

describe('OfferBuilder', () => {
  it('takes scalar records out of the offer and tracks what is left', () => {
    const b = new OfferBuilder(offer('cpus:2;mem:1024'));
    const p = b.add(task('t1', { cpus: 0.5, mem: 256 }));
    expect(p.resources.scalar('cpus')).toBe(0.5);
    expect(b.remaining.scalar('cpus')).toBe(1.5);
    expect(b.remaining.scalar('mem')).toBe(768);
    expect(b.tasks).toHaveLength(1);
  });

  it('uses reserved resources of the role before unreserved ones, splitting across roles', () => {
    const b = new OfferBuilder(offer('cpus(web):1;cpus:2;mem:512'));
    const p = b.add(task('t1', { cpus: 1.5, mem: 100 }));
    expect(p.resources.scalar('cpus', 'web')).toBe(1);
    expect(p.resources.scalar('cpus', '*')).toBe(0.5);
    expect(b.remaining.scalar('cpus', 'web')).toBe(0);
    expect(b.remaining.scalar('cpus', '*')).toBe(1.5);
  });

  it('refuses a task that does not fit with TASK_DOES_NOT_FIT naming the resource short (from Resources.shortfall)', () => {
    const b = new OfferBuilder(offer('cpus:1;mem:128'));
    const err = thrown(() => b.add(task('big', { cpus: 3, mem: 64 }), 'tasks[0]'));
    expect(err.code).toBe('TASK_DOES_NOT_FIT');
    expect(err.field).toBe('tasks[0].resources');
    expect(err.message).toContain('task big does not fit in offer o1 on h1');
    expect(err.message).toContain('cpus: need 3, have 1');
    expect(err.message).not.toContain('mem');
    // unchanged
    expect(b.remaining.scalar('cpus')).toBe(1);
    expect(b.tasks).toHaveLength(0);
  });

  it('names a resource the offer lacks entirely', () => {
    const err = thrown(() => new OfferBuilder(offer('cpus:1;mem:128')).add(task('g', { cpus: 1, gpus: 1 })));
    expect(err.message).toContain('gpus: need 1, have 0');
  });

  it('picks the lowest free ports and never the same port twice', () => {
    const b = new OfferBuilder(offer('cpus:4;mem:4096;ports:[31000-31001,31005-31010]'));
    const a = b.add(task('a', { cpus: 1 }, { ports: 3 }));
    const c = b.add(task('c', { cpus: 1 }, { ports: 2 }));
    expect(a.ports).toEqual([31000, 31001, 31005]);
    expect(c.ports).toEqual([31006, 31007]);
    expect(a.resources.ranges('ports')).toEqual([
      { begin: 31000, end: 31001 },
      { begin: 31005, end: 31005 },
    ]);
    expect(b.remaining.ranges('ports')).toEqual([{ begin: 31008, end: 31010 }]);
  });

  it('says how many ports are short', () => {
    const err = thrown(() => new OfferBuilder(offer('cpus:4;mem:4096;ports:[31000-31001]')).add(task('p', { cpus: 1 }, { ports: 3 })));
    expect(err.code).toBe('TASK_DOES_NOT_FIT');
    expect(err.message).toContain('ports: need 3, have 2');
  });

  it('accepts explicit Resources and checks them with contains', () => {
    const b = new OfferBuilder(offer('cpus(web):2;mem:512;ports:[31000-31010]'));
    const ok = b.add(task('x', parseResources('cpus(web):1;ports:[31005-31005]')));
    expect(ok.resources.ranges('ports')).toEqual([{ begin: 31005, end: 31005 }]);
    const err = thrown(() => b.add(task('y', parseResources('cpus:1'))));
    expect(err.message).toContain('cpus: need 1, have 0');
    const err2 = thrown(() => b.add(task('z', parseResources('ports:[31005-31005]'))));
    expect(err2.message).toContain('ports: [31005-31005] not available');
  });

  it("takes an executor's resources once per executor, and not at all when it already runs", () => {
    const executor = { executorId: 'e1', command: { shell: './executor' }, resources: { cpus: 0.1, mem: 32 } };
    const b = new OfferBuilder(offer('cpus:1;mem:256'));
    b.add(task('t1', { cpus: 0.2, mem: 32 }, { command: undefined, executor }));
    b.add(task('t2', { cpus: 0.2, mem: 32 }, { command: undefined, executor }));
    expect(b.remaining.scalar('cpus')).toBe(0.5);
    expect(b.tasks[1]!.executorResources!.scalar('cpus')).toBe(0.1);
    const running = new OfferBuilder(offer('cpus:1;mem:256', { executorIds: ['e1'] }));
    running.add(task('t3', { cpus: 0.2, mem: 32 }, { command: undefined, executor }));
    expect(running.remaining.scalar('cpus')).toBe(0.8);
  });

  it('combines offers of one agent and refuses offers on different agents', () => {
    const b = new OfferBuilder([offer('cpus:1;mem:128', { id: 'o1' }), offer('cpus:1;mem:128', { id: 'o2' })]);
    b.add(task('t', { cpus: 2, mem: 256 }));
    expect(b.offerIds).toEqual(['o1', 'o2']);
    const err = thrown(() => new OfferBuilder([offer('cpus:1', { id: 'o1' }), offer('cpus:1', { id: 'o2', agentId: 'a2' })]));
    expect(err.code).toBe('OFFERS_ON_DIFFERENT_AGENTS');
    expect(err.field).toBe('offers[1]');
  });

  it('validates tasks with field-precise INVALID_TASK errors', () => {
    const b = new OfferBuilder(offer('cpus:1;mem:128'));
    expect(thrown(() => b.add({ taskId: '', resources: {}, command: { shell: 'x' } }, 'tasks[2]')).field).toBe('tasks[2].taskId');
    expect(thrown(() => b.add({ taskId: 't', resources: {} }, 'tasks[0]')).message).toContain('exactly one of command and executor');
    expect(thrown(() => b.add(task('t', { cpus: -1 }))).field).toBe('task.resources.cpus');
    expect(thrown(() => b.add(task('t', { cpus: 1 }, { command: { shell: '' } }))).field).toBe('task.command.shell');
    expect(thrown(() => b.add(task('t', { cpus: 1 }, { ports: 1.5 }))).field).toBe('task.ports');
    expect(b.fits(task('t', { cpus: 1 }))).toBe(true);
    expect(b.tryAdd(task('t', { cpus: 5 }))).toBeUndefined();
  });
});

describe('fitTasks', () => {
  it('places greedily, skips what does not fit and returns what is left', () => {
    const result = fitTasks(offer('cpus:2;mem:1024;ports:[31000-31003]'), [
      task('a', { cpus: 1, mem: 512 }, { ports: 2 }),
      task('b', { cpus: 2, mem: 128 }),
      task('c', { cpus: 1, mem: 256 }, { ports: 2 }),
      task('d', { cpus: 0.5, mem: 64 }, { ports: 1 }),
    ]);
    expect(result.placed.map((p) => p.spec.taskId)).toEqual(['a', 'c']);
    expect(result.unplaced.map((u) => [u.task.taskId, u.error.code])).toEqual([
      ['b', 'TASK_DOES_NOT_FIT'],
      ['d', 'TASK_DOES_NOT_FIT'],
    ]);
    expect(result.unplaced[0]!.error.field).toBe('tasks[1].resources');
    expect(result.unplaced[1]!.error.message).toContain('cpus: need 0.5, have 0');
    expect(result.unplaced[1]!.error.message).toContain('ports: need 1, have 0');
    expect(result.remaining.scalar('mem')).toBe(256);
    expect(result.remaining.equals(Resources.scalars({ mem: 256 }))).toBe(true);
  });
});
