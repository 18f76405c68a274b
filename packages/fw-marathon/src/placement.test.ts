import { describe, expect, it } from 'vitest';
import { normalizeApp } from './app-definition.js';
import { placeInstances, taskSpecFor } from './placement.js';
import { parseResources, type Offer } from './sdk-test-exports.js';

function offer(id: string, host: string, resources = 'cpus:4;mem:4096;ports:[31000-31099]', rack = 'r1'): Offer {
  return { id, frameworkId: 'f', agentId: `agent-${host}`, hostname: host, resources: parseResources(resources), attributes: [{ name: 'rack', kind: 'text', text: rack }], executorIds: [], role: '*', agentEndpoint: '' };
}

let n = 0;
const ids = (appId: string): string => `${appId}.${++n}`;

describe('placeInstances', () => {
  it('places many instances from one offer', () => {
    const app = normalizeApp({ id: '/web', cmd: 'x', cpus: 0.5, mem: 100, instances: 10 });
    const r = placeInstances([offer('o1', 'h1')], [{ app, version: 'v', count: 10, placed: [] }], ids);
    expect(r.launches[0]!.tasks).toHaveLength(8); // 4 cpus / 0.5
    expect(r.blocked.get('/web')).toMatch(/no offer fits 2 instance\(s\): h1: not enough resources: cpus: need 0.5, have 0/);
  });

  it('spreads with UNIQUE and names the constraint when it runs out of hosts', () => {
    const app = normalizeApp({ id: '/web', cmd: 'x', cpus: 0.1, mem: 10, instances: 4, constraints: [['hostname', 'UNIQUE']] });
    const r = placeInstances([offer('o1', 'h1'), offer('o2', 'h2'), offer('o3', 'h3')], [{ app, version: 'v', count: 4, placed: [] }], ids);
    expect(r.launches.map((l) => l.offer.hostname)).toEqual(['h1', 'h2', 'h3']);
    expect(r.blocked.get('/web')).toMatch(/hostname:UNIQUE: h1 already runs an instance/);
  });

  it('counts instances already running', () => {
    const app = normalizeApp({ id: '/web', cmd: 'x', cpus: 0.1, mem: 10, constraints: [['rack', 'MAX_PER', '1']] });
    const r = placeInstances([offer('o1', 'h1')], [{ app, version: 'v', count: 1, placed: [{ host: 'h9', attributes: { rack: 'r1' } }] }], ids);
    expect(r.launches).toEqual([]);
    expect(r.unused.map((o) => o.id)).toEqual(['o1']);
    expect(r.blocked.get('/web')).toMatch(/rack:MAX_PER:1/);
  });

  it('gives ports and the health check to the task', () => {
    const app = normalizeApp({ id: '/prod/web', cmd: 'serve', portDefinitions: [{ port: 0 }, { port: 0 }], healthChecks: [{ protocol: 'HTTP', path: '/ok', portIndex: 1 }] });
    const spec = taskSpecFor(app, 'v1', 't1', 'h1');
    expect(spec).toMatchObject({ ports: 2, name: 'web.prod', healthCheck: { type: 'http', portIndex: 1, path: '/ok', consecutiveFailures: 3, gracePeriodSeconds: 300 } });
    expect(spec.command?.env).toMatchObject({ MARATHON_APP_ID: '/prod/web', MARATHON_APP_VERSION: 'v1', MESOS_TASK_ID: 't1', HOST: 'h1' });
  });

  it('leaves offers of roles the app does not accept', () => {
    const app = normalizeApp({ id: '/web', cmd: 'x', cpus: 0.1, mem: 10, acceptedResourceRoles: ['prod'] });
    const r = placeInstances([offer('o1', 'h1')], [{ app, version: 'v', count: 1, placed: [] }], ids);
    expect(r.blocked.get('/web')).toMatch(/role \* not in acceptedResourceRoles/);
  });
});

describe('requirePorts', () => {
  it('takes exactly the fixed host ports, so a second instance does not fit on the same agent', () => {
    const app = normalizeApp({ id: '/lb', cmd: 'x', cpus: 0.1, mem: 10, instances: 2, requirePorts: true, portDefinitions: [{ port: 31005 }, { port: 31007 }] });
    const r = placeInstances([offer('o1', 'h1')], [{ app, version: 'v', count: 2, placed: [] }], ids);
    expect(r.launches[0]!.tasks).toHaveLength(1);
    const spec = r.launches[0]!.tasks[0]!.spec;
    expect(spec.ports).toBe(0);
    expect(spec.command?.env).toMatchObject({ PORT0: '31005', PORT1: '31007', PORTS: '31005,31007' });
    expect(r.blocked.get('/lb')).toMatch(/h1: not enough resources: .*ports/);
  });

  it('does not fit an offer without those ports', () => {
    const app = normalizeApp({ id: '/lb', cmd: 'x', cpus: 0.1, mem: 10, requirePorts: true, portDefinitions: [{ port: 8080 }] });
    const r = placeInstances([offer('o1', 'h1')], [{ app, version: 'v', count: 1, placed: [] }], ids);
    expect(r.launches).toEqual([]);
    expect(r.blocked.get('/lb')).toMatch(/ports/);
  });
});
