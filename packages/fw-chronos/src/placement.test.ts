import { parseResources, type Offer } from '@meso/sdk-scheduler';
import { describe, expect, it } from 'vitest';
import { normalizeJob, type Job } from './job.js';
import { matchesConstraints, offersWanted, placeRuns, taskSpecOf } from './placement.js';
import type { RunRecord } from './run.js';

const offer = (id: string, resources: string, attrs: Offer['attributes'] = [], hostname = `host-${id}`): Offer => ({
  id, frameworkId: 'f', agentId: `agent-${id}`, hostname, resources: parseResources(resources), attributes: attrs, executorIds: [], role: '*', agentEndpoint: '', volumes: [],
});
const job = (name: string, extra: Record<string, unknown> = {}): Job => normalizeJob({ name, command: 'echo hi', schedule: 'R//PT1M', ...extra }, { existing: new Map(), now: 0 });
const run = (name: string, at = 1000): RunRecord => ({ job: name, scheduledFor: at, trigger: 'schedule', attempt: 1, state: 'QUEUED', attempts: [] });

describe('placement', () => {
  it('packs runs into offers by cpus, mem and disk, leaving what does not fit', () => {
    const jobs = new Map([['a', job('a', { cpus: 1, mem: 100, disk: 0 })], ['b', job('b', { cpus: 1, mem: 100, disk: 0 })], ['c', job('c', { cpus: 1, mem: 100, disk: 0 })]]);
    const placed = placeRuns([run('a'), run('b'), run('c')], [offer('1', 'cpus:1.5;mem:1000'), offer('2', 'cpus:1;mem:1000')], (n) => jobs.get(n));
    expect(placed.map((p) => [p.offer.id, p.runs.map((r) => r.job)])).toEqual([['1', ['a']], ['2', ['b']]]);
  });

  it('holds only the offers the runs wanted soon would use: one small run keeps one offer, a run that fits nowhere keeps none', () => {
    const offers = [offer('1', 'cpus:0.3;mem:1000;ports:[31000-31099]'), offer('2', 'cpus:0.3;mem:1000;ports:[32000-32099]'), offer('3', 'cpus:0.3;mem:1000')];
    expect([...offersWanted([job('tick', { cpus: 0.1, mem: 16, disk: 0 })], offers)]).toEqual(['1']);
    expect([...offersWanted([job('heavy', { cpus: 0.5, mem: 16, disk: 0 })], offers)]).toEqual([]);
    expect([...offersWanted([job('a', { cpus: 0.2, mem: 16, disk: 0 }), job('b', { cpus: 0.2, mem: 16, disk: 0 })], offers)]).toEqual(['1', '2']);
    const onR2 = job('r2', { cpus: 0.1, mem: 16, disk: 0, constraints: [['rack', 'EQUALS', 'r2']] });
    expect([...offersWanted([onR2], [offers[0]!, offer('4', 'cpus:1;mem:100', [{ name: 'rack', kind: 'text', text: 'r2' }])])]).toEqual(['4']);
  });

  it.each([
    [['rack', 'EQUALS', 'r1'], true],
    [['rack', 'EQUALS', 'r2'], false],
    [['rack', 'LIKE', 'r[0-9]'], true],
    [['rack', 'UNLIKE', 'r[0-9]'], false],
    [['hostname', 'LIKE', 'web-.*'], true],
    [['zone', 'EQUALS', 'x'], false],
    [['disks', 'LIKE', 'ssd'], true], // some element of a set
    [['disks', 'UNLIKE', 'ssd'], false],
    [['disks', 'UNLIKE', 'tape'], true],
    [['cores', 'LIKE', '[0-9]+'], true], // a scalar
  ] as const)('constraint %j → %s', (constraint, ok) => {
    const attrs: Offer['attributes'] = [{ name: 'rack', kind: 'text', text: 'r1' }, { name: 'disks', kind: 'set', items: ['hdd', 'ssd'] }, { name: 'cores', kind: 'scalar', value: 8 }];
    expect(matchesConstraints(offer('1', 'cpus:1', attrs, 'web-1'), [[...constraint]])).toBe(ok);
  });

  it("builds Chronos's task: shell command (arguments ignored, as Chronos), environment, resources, task id", () => {
    const j = job('report', { arguments: ['--day'], environmentVariables: [{ name: 'FOO', value: 'bar' }], cpus: 0.5, mem: 64, disk: 10 });
    const task = taskSpecOf(j, { ...run('report', 1234), arguments: undefined });
    expect(task.taskId).toBe('ct:1234:1:report:');
    expect(task.command).toMatchObject({ shell: 'echo hi', env: { FOO: 'bar', CHRONOS_JOB_NAME: 'report' } });
    expect(task.resources).toEqual({ cpus: 0.5, mem: 64, disk: 10 });
    expect(taskSpecOf(job('argv', { shell: false, command: '/bin/echo', arguments: ['a b'] }), run('argv')).command).toMatchObject({ argv: ['/bin/echo', 'a b'] });
  });
});
