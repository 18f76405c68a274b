import { describe, expect, it } from 'vitest';
import { BatchError } from './errors.js';
import { checkGraph, validateJob, type Job } from './job.js';

const err = (f: () => unknown): BatchError => {
  try {
    f();
  } catch (e) {
    return e as BatchError;
  }
  throw new Error('did not throw');
};

describe('validateJob', () => {
  it('fills defaults', () => {
    const j = validateJob({ id: 'a', command: 'true' });
    expect(j).toMatchObject({ id: 'a', user: 'default', command: { shell: 'true' }, resources: { cpus: 0.1, mem: 32, disk: 0, gpus: 0, ports: 0 }, priority: 50, maxRetries: 0, instances: 1, executor: 'batch', onDependencyFailure: 'fail' });
    expect(validateJob({ id: 'b', command: ['/bin/echo', 'x'], maxRuntime: 1.5 }).maxRuntimeMs).toBe(1500);
  });

  it.each([
    [{ command: 'x' }, 'job.id'],
    [{ id: 'a b', command: 'x' }, 'job.id'],
    [{ id: 'a' }, 'job.command'],
    [{ id: 'a', command: [] }, 'job.command'],
    [{ id: 'a', command: 'x', cpus: -1 }, 'job.cpus'],
    [{ id: 'a', command: 'x', mem: '1' }, 'job.mem'],
    [{ id: 'a', command: 'x', gpus: 0.5 }, 'job.gpus'],
    [{ id: 'a', command: 'x', instances: 0 }, 'job.instances'],
    [{ id: 'a', command: 'x', maxRetry: 2 }, 'job.maxRetry'],
    [{ id: 'a', command: 'x', env: { A: 1 } }, 'job.env.A'],
    [{ id: 'a', command: 'x', labels: { team: 2 } }, 'job.labels.team'],
    [{ id: 'a', command: 'x', constraints: [['rack', 'NEAR', 'x']] }, 'job.constraints[0][1]'],
    [{ id: 'a', command: 'x', group: { type: 'balanced' } }, 'job.group.attribute'],
    [{ id: 'a', command: 'x', dependsOn: ['a'] }, 'job.dependsOn'],
    [{ id: 'a', command: 'x', onDependencyFailure: 'skip' }, 'job.onDependencyFailure'],
    [{ id: 'a', command: 'x', retry: { backoff: 'linear' } }, 'job.retry.backoff'],
    [{ id: 'a', command: 'x', retry: { delayMs: 10, maxDelayMs: 5 } }, 'job.retry.maxDelayMs'],
    [{ id: 'a', command: 'x', executor: 'docker' }, 'job.executor'],
    [{ id: 'a', command: 'x', priority: 101 }, 'job.priority'],
  ])('refuses %j naming %s', (input, field) => {
    const e = err(() => validateJob(input));
    expect(e.code).toBe('INVALID_JOB');
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe('checkGraph', () => {
  const job = (id: string, dependsOn: string[] = []): Job => validateJob({ id, command: 'true', dependsOn });
  it('accepts a DAG across existing and submitted jobs', () => {
    const existing = new Map([['x', job('x')]]);
    expect(() => checkGraph([job('a', ['x']), job('b', ['a', 'x'])], (id) => existing.get(id))).not.toThrow();
  });
  it('refuses an unknown dependency naming the job', () => {
    const e = err(() => checkGraph([job('a'), job('b', ['nope'])], () => undefined));
    expect(e.field).toBe('jobs[1].dependsOn');
    expect(e.message).toContain('unknown job nope');
  });
  it('refuses a cycle and names it', () => {
    const e = err(() => checkGraph([job('a', ['c']), job('b', ['a']), job('c', ['b'])], () => undefined));
    expect(e.message).toMatch(/cycle: a -> c -> b -> a/);
  });
});
