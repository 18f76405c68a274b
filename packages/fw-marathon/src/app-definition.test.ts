import { describe, expect, it } from 'vitest';
import { absoluteId, needsRestart, normalizeApp, patchApp } from './app-definition.js';
import { MarathonError } from './errors.js';

function details(raw: unknown): { path: string; errors: string[] }[] {
  try {
    normalizeApp(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(MarathonError);
    expect((e as MarathonError).code).toBe('INVALID_OBJECT');
    expect((e as MarathonError).httpStatus).toBe(422);
    return (e as MarathonError).details;
  }
  throw new Error('expected the app to be invalid');
}

describe('normalizeApp', () => {
  it("fills Marathon's defaults", () => {
    const app = normalizeApp({ id: 'web', cmd: 'python3 -m http.server $PORT0' });
    expect(app).toMatchObject({
      id: '/web', cpus: 1, mem: 128, disk: 0, gpus: 0, instances: 1, requirePorts: false,
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'default' }],
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      backoffSeconds: 1, backoffFactor: 1.15, maxLaunchDelaySeconds: 300, killSelection: 'YOUNGEST_FIRST',
    });
  });

  it('fills health check defaults', () => {
    const app = normalizeApp({ id: '/a', cmd: 'x', healthChecks: [{ protocol: 'HTTP', path: '/health' }] });
    expect(app.healthChecks[0]).toMatchObject({ gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, portIndex: 0, path: '/health' });
  });

  it('keeps fields it does not interpret (container, fetch) and ignores read-only ones', () => {
    const app = normalizeApp({ id: '/a', cmd: 'x', fetch: [{ uri: 'http://x' }], tasksRunning: 3, version: 'v' });
    expect(app.extra).toEqual({ fetch: [{ uri: 'http://x' }] });
  });

  it('takes the legacy ports field', () => {
    expect(normalizeApp({ id: '/a', cmd: 'x', ports: [0, 0] }).portDefinitions).toHaveLength(2);
  });

  it.each([
    ['cmd and args together', { id: '/a', cmd: 'x', args: ['y'] }, '/', /not both/],
    ['neither cmd nor args', { id: '/a' }, '/', /one of 'cmd' or 'args'/],
    ['negative instances', { id: '/a', cmd: 'x', instances: -1 }, '/instances', /greater than or equal to 0/],
    ['fractional instances', { id: '/a', cmd: 'x', instances: 1.5 }, '/instances', /integer/],
    ['cpus as a string', { id: '/a', cmd: 'x', cpus: 'lots' }, '/cpus', /expected a number/],
    ['env of numbers', { id: '/a', cmd: 'x', env: { A: 1 } }, '/env/A', /expected a string/],
    ['no id', { cmd: 'x' }, '/id', /required/],
    ['bad id', { id: '/Prod/Web', cmd: 'x' }, '/id', /not a valid path/],
    ['unknown operator', { id: '/a', cmd: 'x', constraints: [['hostname', 'SOMETIMES']] }, '/constraints(0)', /unknown operator/],
    ['bad regex', { id: '/a', cmd: 'x', constraints: [['rack', 'LIKE', '(']] }, '/constraints(0)', /not a valid regular expression/],
    ['MAX_PER without a number', { id: '/a', cmd: 'x', constraints: [['rack', 'MAX_PER', 'two']] }, '/constraints(0)', /positive integer/],
    ['UNIQUE with a value', { id: '/a', cmd: 'x', constraints: [['hostname', 'UNIQUE', 'x']] }, '/constraints(0)', /no value/],
    ['constraint not an array', { id: '/a', cmd: 'x', constraints: 'hostname:UNIQUE' }, '/constraints', /expected an array/],
    ['requirePorts with a dynamic port', { id: '/a', cmd: 'x', requirePorts: true, portDefinitions: [{ port: 0 }] }, '/portDefinitions(0)/port', /requirePorts/],
    ['two definitions of one host port', { id: '/a', cmd: 'x', requirePorts: true, portDefinitions: [{ port: 8080 }, { port: 8080 }] }, '/portDefinitions(1)/port', /clashes/],
    ['minimumHealthCapacity above 1', { id: '/a', cmd: 'x', upgradeStrategy: { minimumHealthCapacity: 2 } }, '/upgradeStrategy/minimumHealthCapacity', /less than or equal to 1/],
    ['unknown killSelection', { id: '/a', cmd: 'x', killSelection: 'RANDOM' }, '/killSelection', /one of/],
    ['health check on a missing port', { id: '/a', cmd: 'x', healthChecks: [{ protocol: 'HTTP', portIndex: 3 }] }, '/healthChecks(0)/portIndex', /no port definition/],
    ['COMMAND check without a command', { id: '/a', cmd: 'x', healthChecks: [{ protocol: 'COMMAND' }] }, '/healthChecks(0)/command', /command.value/],
    ['two readiness checks', { id: '/a', cmd: 'x', readinessChecks: [{}, {}] }, '/readinessChecks', /only one/],
    ['depends on itself', { id: '/a', cmd: 'x', dependencies: ['/a'] }, '/dependencies', /itself/],
    ['backoffFactor below 1', { id: '/a', cmd: 'x', backoffFactor: 0.5 }, '/backoffFactor', /greater than or equal to 1/],
  ])('rejects %s with the path', (_name, raw, path, error) => {
    const d = details(raw);
    const hit = d.find((x) => x.path === path);
    expect(hit, JSON.stringify(d)).toBeDefined();
    expect(hit!.errors.join(' ')).toMatch(error);
  });

  it('reports every problem at once', () => {
    expect(details({ id: '/a', cmd: 'x', cpus: -1, mem: 'x', instances: -2 }).map((d) => d.path).sort()).toEqual(['/cpus', '/instances', '/mem']);
  });

  it('rejects a non-object body', () => {
    expect(details([1, 2])).toEqual([{ path: '/', errors: ['expected a JSON object'] }]);
  });
});

describe('ids', () => {
  it.each([
    ['web', '/', '/web'],
    ['/prod/web', '/', '/prod/web'],
    ['db', '/prod', '/prod/db'],
    ['../db', '/prod/web', '/prod/db'],
  ])('%s relative to %s is %s', (id, base, want) => expect(absoluteId(id, base)).toBe(want));
});

describe('patchApp / needsRestart', () => {
  const base = normalizeApp({ id: '/a', cmd: 'x', instances: 2 });
  it('a change of instances only is a scale', () => {
    const next = patchApp(base, { instances: 5 });
    expect(next.instances).toBe(5);
    expect(needsRestart(base, next)).toBe(false);
  });
  it('a change of cmd needs a restart', () => {
    expect(needsRestart(base, patchApp(base, { cmd: 'y' }))).toBe(true);
  });
  it('switching to args drops cmd', () => {
    const next = patchApp(base, { args: ['sleep', '1'] });
    expect(next.cmd).toBeUndefined();
    expect(next.args).toEqual(['sleep', '1']);
  });
});
