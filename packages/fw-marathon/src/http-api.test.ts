import { afterEach, describe, expect, it } from 'vitest';
import { startMarathon, type RunningMarathon } from './start-marathon.js';
import { FakeClock, FakeSchedulerTransport, silentLogger } from './sdk-test-exports.js';

const running: RunningMarathon[] = [];
afterEach(async () => {
  for (const m of running.splice(0)) await m.close();
});

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function start(): Promise<{ m: RunningMarathon; master: FakeSchedulerTransport; api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any; headers: Headers }> }> {
  const master = new FakeSchedulerTransport();
  const m = await startMarathon({ master: '127.0.0.1:5050', httpPort: 0, transport: master, clock: new FakeClock(), logger: silentLogger });
  running.push(m);
  await until('ready', () => m.core.isReady);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${m.address}${path}`, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* text */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return { m, master, api };
}

const web = { id: '/prod/web', cmd: 'serve', cpus: 0.1, mem: 16, instances: 2, labels: { tier: 'front' } };

describe('REST API', () => {
  it('refuses bad options with INVALID_OPTIONS naming the field', async () => {
    await expect(startMarathon({ master: 'nowhere' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/^options.master: must be host:port/) });
    await expect(startMarathon({ master: '127.0.0.1:5050', httpPort: 70000 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/^options.httpPort/) });
  });

  it('publishes api_post_event with the definition on every change', async () => {
    const { api, m } = await start();
    const seen: Record<string, unknown>[] = [];
    m.core.bus.subscribe((e) => e.eventType === 'api_post_event' && seen.push(e.data));
    await api('POST', '/v2/apps', web);
    expect(seen[0]).toMatchObject({ eventType: 'api_post_event', uri: '/v2/apps/prod/web', appDefinition: { id: '/prod/web', instances: 2 } });
  });

  it('/ping, /v2/info, /v2/leader, /metrics', async () => {
    const { api, m } = await start();
    expect((await api('GET', '/ping')).body).toBe('pong');
    expect((await api('GET', '/v2/info')).body).toMatchObject({ name: 'marathon', elected: true, leader: m.address, frameworkId: 'fake-framework-1' });
    expect((await api('GET', '/v2/leader')).body).toEqual({ leader: m.address });
    expect((await api('GET', '/metrics')).body.gauges['marathon.apps.active']).toEqual({ value: 0 });
  });

  it('400 on invalid JSON, 422 with paths on an invalid app, nothing deployed', async () => {
    const { api } = await start();
    const bad = await api('POST', '/v2/apps', '{"id": "/a", ');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Invalid JSON');
    const invalid = await api('POST', '/v2/apps', { id: '/a', cmd: 'x', args: ['y'], instances: -1 });
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toBe('Object is not valid');
    expect(invalid.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['/', '/instances']);
    expect((await api('GET', '/v2/apps')).body.apps).toEqual([]);
    expect((await api('GET', '/v2/deployments')).body).toEqual([]);
  });

  it('create, 409 on a second create, list with filters, get, 404', async () => {
    const { api } = await start();
    const created = await api('POST', '/v2/apps', web);
    expect(created.status).toBe(201);
    expect(created.headers.get('marathon-deployment-id')).toBe(created.body.deployments[0].id);
    expect((await api('POST', '/v2/apps', web)).status).toBe(409);
    await api('POST', '/v2/apps', { id: '/prod/db', cmd: 'db', cpus: 0.1, mem: 16 });
    expect((await api('GET', '/v2/apps?id=web')).body.apps.map((a: { id: string }) => a.id)).toEqual(['/prod/web']);
    expect((await api('GET', '/v2/apps?cmd=db')).body.apps.map((a: { id: string }) => a.id)).toEqual(['/prod/db']);
    expect((await api('GET', '/v2/apps?label=tier==front')).body.apps.map((a: { id: string }) => a.id)).toEqual(['/prod/web']);
    const embedded = await api('GET', '/v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure');
    expect(embedded.body.apps[0].tasks).toEqual([]);
    const one = await api('GET', '/v2/apps/prod/web');
    expect(one.body.app).toMatchObject({ id: '/prod/web', instances: 2, tasksRunning: 0, tasksStaged: 0 });
    expect((await api('GET', '/v2/apps/nope')).status).toBe(404);
    expect((await api('DELETE', '/v2/apps/nope')).status).toBe(404);
    const groups = await api('GET', '/v2/groups');
    expect(groups.body.groups[0]).toMatchObject({ id: '/prod' });
    expect(groups.body.groups[0].apps).toHaveLength(2);
  });

  it('409 while a deployment locks the app, force=true overrides', async () => {
    const { api } = await start();
    const created = await api('POST', '/v2/apps', web);
    const locked = await api('PUT', '/v2/apps/prod/web', { instances: 5 });
    expect(locked.status).toBe(409);
    expect(locked.body.message).toMatch(/locked by one or more deployments/);
    expect(locked.body.deployments).toEqual([{ id: created.body.deployments[0].id }]);
    const forced = await api('PUT', '/v2/apps/prod/web?force=true', { instances: 5 });
    expect(forced.status).toBe(200);
    expect(forced.headers.get('marathon-deployment-id')).toBe(forced.body.deploymentId);
    const deployments = (await api('GET', '/v2/deployments')).body;
    expect(deployments.map((d: { id: string }) => d.id)).toEqual([forced.body.deploymentId]);
    expect(deployments[0]).toMatchObject({ affectedApps: ['/prod/web'], currentStep: 1, totalSteps: 1, currentActions: [{ action: 'ScaleApplication', app: '/prod/web' }] });
    // PATCH, restart, versions, delete all answer with a deployment.
    expect((await api('PATCH', '/v2/apps/prod/web?force=true', { cmd: 'serve2' })).body.deploymentId).toBeDefined();
    expect((await api('POST', '/v2/apps/prod/web/restart?force=true')).body.deploymentId).toBeDefined();
    const versions = await api('GET', '/v2/apps/prod/web/versions');
    expect(versions.body.versions.length).toBeGreaterThanOrEqual(3);
    const v0 = await api('GET', `/v2/apps/prod/web/versions/${versions.body.versions.at(-1)}`);
    expect(v0.body.cmd).toBe('serve');
    const removed = await api('DELETE', '/v2/apps/prod/web?force=true');
    expect(removed.body.deploymentId).toBeDefined();
    expect((await api('GET', '/v2/apps/prod/web')).status).toBe(404);
  });

  it('cancelling a deployment rolls back unless force', async () => {
    const { api } = await start();
    const created = await api('POST', '/v2/apps', web);
    const cancel = await api('DELETE', `/v2/deployments/${created.body.deployments[0].id}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.deploymentId).toBeDefined();
    // Rolling back a creation removes the app.
    await until('app removed', async () => (await api('GET', '/v2/apps/prod/web')).status === 404);
    expect((await api('DELETE', '/v2/deployments/nope')).status).toBe(404);
  });

  it('bulk PUT, groups, tasks and kills', async () => {
    const { api, master, m } = await start();
    const bulk = await api('PUT', '/v2/apps', [web, { id: '/prod/db', cmd: 'db', cpus: 0.1, mem: 16 }]);
    expect(bulk.status).toBe(200);
    master.offer({ id: 'o1' });
    await master.waitForCall('accept');
    const tasks = (await api('GET', '/v2/tasks')).body.tasks;
    expect(tasks).toHaveLength(3);
    expect((await api('GET', '/v2/tasks?status=running')).body.tasks).toHaveLength(0);
    expect((await api('GET', '/v2/tasks?status=staging')).body.tasks).toHaveLength(3);
    const webTask = tasks.find((t: { appId: string }) => t.appId === '/prod/web');
    const one = await api('DELETE', `/v2/apps/prod/web/tasks/${webTask.id}?force=true&scale=true`);
    expect(one.body.deploymentId).toBeDefined();
    expect(m.core.state.apps.get('/prod/web')!.app.instances).toBe(1);
    expect((await api('DELETE', '/v2/apps/prod/web/tasks/nope')).status).toBe(404);
    const del = await api('POST', '/v2/tasks/delete', { ids: [tasks.find((t: { appId: string }) => t.appId === '/prod/db').id] });
    expect(del.status).toBe(200);
    expect((await api('POST', '/v2/tasks/delete', { ids: 'x' })).status).toBe(422);
    const group = await api('PUT', '/v2/groups/staging?force=true', { apps: [{ id: 'api', cmd: 'api', cpus: 0.1, mem: 16 }] });
    expect(group.body.deploymentId).toBeDefined();
    expect((await api('GET', '/v2/apps/staging/api')).status).toBe(200);
  });

  it('/v2/events: ids, event_type filter, Last-Event-ID replay and resync', async () => {
    const { api, m } = await start();
    await api('POST', '/v2/apps', web);
    const last = m.core.bus.lastId;
    await api('POST', '/v2/apps', { id: '/other', cmd: 'x', cpus: 0.1, mem: 16 });
    const ctrl = new AbortController();
    const res = await fetch(`http://${m.address}/v2/events?event_type=deployment_info`, { headers: { 'Last-Event-ID': String(last) }, signal: ctrl.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('/other')) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((x) => Number(x[1]));
    expect(ids.every((id) => id > last)).toBe(true);
    expect(text).toMatch(/event: deployment_info/);
    expect(text).not.toMatch(/event: (?!deployment_info)/);
  });
});

describe('/v2/events for a slow client', () => {
  it('sends an explicit resync event instead of silently dropping what it could not buffer', async () => {
    const { request } = await import('node:http');
    const master = new FakeSchedulerTransport();
    const m = await startMarathon({ master: '127.0.0.1:5050', httpPort: 0, transport: master, clock: new FakeClock(), logger: silentLogger, eventStreamMaxPending: 10 });
    running.push(m);
    const [host, port] = m.address.split(':');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request({ host, port: Number(port), path: '/v2/events?event_type=big' }, resolve).on('error', reject).end();
    });
    res.pause(); // a client that stops reading
    await until('subscribed', () => m.core.bus.subscribers === 1);
    const pad = 'x'.repeat(16 * 1024);
    // Enough to fill the socket buffers and then the 10 pending events many times over.
    for (let i = 0; i < 2000; i++) m.core.bus.publish('big', { i, pad });
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d.replaceAll(pad, '')));
    res.resume();
    m.core.bus.publish('big', { i: 'last', pad });
    await until('the last event', () => text.includes('"i":"last"'), 10_000);
    res.destroy();
    expect(text).toMatch(/event: resync\ndata: \{"eventType":"resync","lastEventId":\d+,"reason":"this client fell behind/);
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((x) => Number(x[1]));
    expect(ids.length).toBeLessThan(2001); // some were dropped ...
    expect(ids.every((id, i) => i === 0 || id >= ids[i - 1]!)).toBe(true); // ... never out of order
  });
});
