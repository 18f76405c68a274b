import { describe, expect, it } from 'vitest';
import { normalizeApp } from './app-definition.js';
import { placeInstances, taskSpecFor } from './placement.js';
import { parseResources, type Offer } from './sdk-test-exports.js';

function offer(id: string, host: string, resources = 'cpus:4;mem:4096;ports:[31000-31099]', rack = 'r1'): Offer {
  return { id, frameworkId: 'f', agentId: `agent-${host}`, hostname: host, resources: parseResources(resources), attributes: [{ name: 'rack', kind: 'text', text: rack }], executorIds: [], role: '*', agentEndpoint: '', volumes: [] };
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

describe('placement property', () => {
  /** A deterministic random source (LCG). */
  const rng = (seed: number): (() => number) => {
    let s = seed >>> 0;
    return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  };

  it('never breaks UNIQUE, MAX_PER or resources, whatever the offers', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const hosts = 1 + Math.floor(r() * 6);
      const maxPerRack = 1 + Math.floor(r() * 3);
      const app = normalizeApp({
        id: '/p', cmd: 'x', cpus: 0.5, mem: 64, instances: 20, portDefinitions: [],
        constraints: [['hostname', 'UNIQUE'], ['rack', 'MAX_PER', String(maxPerRack)]],
      });
      const offers = Array.from({ length: hosts }, (_, i) => offer(`o${i}`, `h${i}`, `cpus:${(1 + Math.floor(r() * 4)) / 2};mem:${64 * (1 + Math.floor(r() * 4))}`, `r${Math.floor(r() * 3)}`));
      const existing = r() < 0.5 ? [{ host: 'h0', attributes: { rack: offers[0]!.attributes[0]!.kind === 'text' ? (offers[0]!.attributes[0] as { text: string }).text : '' } }] : [];
      const result = placeInstances(offers, [{ app, version: 'v', count: 20, placed: existing }], ids);
      const placed = [...existing, ...result.launches.flatMap((l) => l.tasks.map((t) => t.facts))];
      const byHost = new Map<string, number>();
      const byRack = new Map<string, number>();
      for (const f of placed) {
        byHost.set(f.host, (byHost.get(f.host) ?? 0) + 1);
        byRack.set(f.attributes['rack']!, (byRack.get(f.attributes['rack']!) ?? 0) + 1);
      }
      expect([...byHost.values()].every((n) => n <= 1), `seed ${seed}: UNIQUE broken`).toBe(true);
      expect([...byRack.values()].every((n) => n <= maxPerRack), `seed ${seed}: MAX_PER broken`).toBe(true);
      for (const l of result.launches) {
        const cpus = l.tasks.length * 0.5;
        expect(cpus, `seed ${seed}: over the offer's cpus`).toBeLessThanOrEqual(l.offer.resources.scalar('cpus'));
      }
      // Whatever is left short says why.
      if (placed.length - existing.length < 20) expect(result.blocked.get('/p')).toMatch(/no offer fits/);
    }
  });
});
