import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startMarathon, type RunningMarathon } from './start-marathon.js';
import { FakeClock, FakeSchedulerTransport, silentLogger } from './sdk-test-exports.js';
import type { MarathonCoreOptions } from './marathon.js';

const running: RunningMarathon[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const m of running.splice(0)) await m.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Harness {
  m: RunningMarathon;
  master: FakeSchedulerTransport;
  clock: FakeClock;
  workDir: string;
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any; headers: Headers }>;
}

async function start(options: { workDir?: string; clock?: FakeClock; core?: Partial<Omit<MarathonCoreOptions, 'clock' | 'logger'>>; deploymentTimeoutSeconds?: number; rollbackOnDeadline?: boolean } = {}): Promise<Harness> {
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'marathon-unit-')));
  if (!options.workDir) dirs.push(workDir);
  const master = new FakeSchedulerTransport();
  const clock = options.clock ?? new FakeClock();
  const m = await startMarathon({
    master: '127.0.0.1:5050', httpPort: 0, workDir, transport: master, clock, logger: silentLogger,
    ...(options.core ? { core: options.core } : {}),
    ...(options.deploymentTimeoutSeconds ? { deploymentTimeoutSeconds: options.deploymentTimeoutSeconds } : {}),
    ...(options.rollbackOnDeadline ? { rollbackOnDeadline: true } : {}),
  });
  running.push(m);
  await until('subscription', () => m.core.isReady);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${m.address}${path}`, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* plain text */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return { m, master, clock, workDir, api };
}

const taskIdsOf = (accept: { operations: { launch?: { taskInfos: { taskId?: { value: string } }[] } }[] }): string[] =>
  accept.operations.flatMap((o) => o.launch?.taskInfos.map((t) => t.taskId!.value) ?? []);

async function runAll(h: Harness, ids: string[], extra: { healthy?: boolean } = {}): Promise<void> {
  for (const id of ids) h.master.update({ taskId: id, state: 'TASK_RUNNING', agentId: 'agent-1', uuid: `u-${id}`, ...extra });
  await until('tasks running', () => ids.every((id) => h.m.core.state.tasks.get(id)?.state === 'TASK_RUNNING' && (extra.healthy === undefined || h.m.core.state.tasks.get(id)?.healthy === extra.healthy)));
}

describe('scheduler loop', () => {
  it('persists tasks before ACCEPT, places several instances from one offer, then suppresses', async () => {
    const h = await start();
    await until('suppress while idle', () => h.master.callsOf('suppress').length > 0);
    let persistedAtAccept = -1;
    h.master.onCall('accept', () => {
      persistedAtAccept = h.m.core.state.tasks.size;
    });
    const created = await h.api('POST', '/v2/apps', { id: '/web', cmd: 'serve', cpus: 0.5, mem: 64, instances: 3 });
    expect(created.status).toBe(201);
    await h.master.waitForCall('revive');
    h.master.offer({ id: 'o1', resources: 'cpus:4;mem:1024;ports:[31000-31010]' });
    const accept = await h.master.waitForCall('accept');
    expect(taskIdsOf(accept)).toHaveLength(3);
    expect(persistedAtAccept).toBe(3);
    await runAll(h, taskIdsOf(accept));
    await until('deployment finished', () => h.m.core.state.deployments.size === 0);
    const suppresses = h.master.callsOf('suppress').length;
    await until('suppress after placing all', () => h.master.callsOf('suppress').length > suppresses - 1 && h.m.core.isSuppressed);
    const app = await h.api('GET', '/v2/apps/web');
    expect(app.body.app).toMatchObject({ tasksRunning: 3, instances: 3, deployments: [] });
    expect(app.body.app.tasks[0].ports).toEqual([31000]);
  });

  it('declines offers with a long filter when nothing waits', async () => {
    const h = await start();
    h.master.offer({ id: 'o9' });
    const decline = await h.master.waitForCall('decline');
    expect(decline.filters).toEqual({ refuseSeconds: 120 });
  });

  it('kills a task it does not know (orphan)', async () => {
    const h = await start();
    h.master.update({ taskId: 'stranger', state: 'TASK_RUNNING', agentId: 'agent-1' });
    const kill = await h.master.waitForCall('kill');
    expect(kill.taskId).toEqual({ value: 'stranger' });
  });

  it('replaces a failed task only after the launch backoff; exit 0 does not count', async () => {
    const h = await start();
    await h.api('POST', '/v2/apps', { id: '/web', cmd: 'serve', cpus: 0.1, mem: 16, backoffSeconds: 10 });
    h.master.offer({ id: 'o1' });
    const [first] = taskIdsOf(await h.master.waitForCall('accept'));
    await runAll(h, [first!]);
    h.master.update({ taskId: first!, state: 'TASK_FAILED', message: 'exit 1', uuid: 'f1' });
    await until('failure recorded', () => h.m.core.state.apps.get('/web')?.lastTaskFailure?.taskId === first);
    const q = await h.api('GET', '/v2/queue');
    expect(q.body.queue[0]).toMatchObject({ count: 1, delay: { overdue: false } });
    expect(q.body.queue[0].whyBlocked).toMatch(/backing off/);
    h.master.offer({ id: 'o2' });
    await h.master.waitForCall('decline', (d) => d.offerIds[0]?.value === 'o2');
    expect(h.master.callsOf('accept')).toHaveLength(1);
    // DELETE /v2/queue/{id}/delay lifts it at once.
    expect((await h.api('DELETE', '/v2/queue/web/delay')).status).toBe(204);
    h.master.offer({ id: 'o3' });
    await until('second launch', () => h.master.callsOf('accept').length === 2);
    const [second] = taskIdsOf(h.master.callsOf('accept')[1]!);
    await runAll(h, [second!]);
    h.master.update({ taskId: second!, state: 'TASK_FINISHED', uuid: 'f2' });
    await until('finished task gone', () => !h.m.core.state.tasks.has(second!));
    expect(h.m.core.state.apps.get('/web')!.backoff.failures).toBe(0);
  });

  it('replaces an unhealthy task before killing it, and limits the kill rate', async () => {
    const h = await start({ core: { healthKillsPerMinute: 1 } });
    await h.api('POST', '/v2/apps', { id: '/web', cmd: 'serve', cpus: 0.1, mem: 16, instances: 2, healthChecks: [{ protocol: 'HTTP', gracePeriodSeconds: 5, maxConsecutiveFailures: 2 }] });
    h.master.offer({ id: 'o1' });
    const accept = await h.master.waitForCall('accept');
    const info = accept.operations[0]!.launch!.taskInfos[0]!;
    expect(info.healthCheck).toBeDefined();
    const ids = taskIdsOf(accept);
    await runAll(h, ids, { healthy: true });
    await until('deployment done', () => h.m.core.state.deployments.size === 0);
    for (const id of ids) h.master.update({ taskId: id, state: 'TASK_RUNNING', healthy: false, uuid: `sick-${id}` });
    await until('sick', () => ids.every((id) => h.m.core.state.tasks.get(id)?.healthy === false));
    h.master.offer({ id: 'o2' });
    await until('replacements launched', () => h.master.callsOf('accept').length === 2);
    expect(h.master.callsOf('kill')).toHaveLength(0); // replace before kill
    const replacements = taskIdsOf(h.master.callsOf('accept')[1]!);
    expect(replacements).toHaveLength(2);
    await runAll(h, replacements, { healthy: true });
    await until('one kill', () => h.master.callsOf('kill').length === 1);
    const why = await until('rate limit reported', () => h.m.core.blockedReason('/web'));
    expect(why).toMatch(/kill rate limit of 1\/min/);
    h.clock.advance(61_000);
    await until('second kill after a minute', () => new Set(h.master.callsOf('kill').map((k) => k.taskId!.value)).size === 2);
    expect(new Set(h.master.callsOf('kill').map((k) => k.taskId!.value))).toEqual(new Set(ids));
  });

  it('after a restart it reconciles persisted tasks before acting: nothing lost, nothing launched twice', async () => {
    const h1 = await start();
    await h1.api('POST', '/v2/apps', { id: '/web', cmd: 'serve', cpus: 0.1, mem: 16, instances: 2 });
    h1.master.offer({ id: 'o1' });
    const ids = taskIdsOf(await h1.master.waitForCall('accept'));
    await runAll(h1, ids);
    await h1.m.close();
    running.splice(running.indexOf(h1.m), 1);

    const master = new FakeSchedulerTransport();
    const m2 = await startMarathon({ master: '127.0.0.1:5050', httpPort: 0, workDir: h1.workDir, transport: master, clock: new FakeClock(), logger: silentLogger });
    running.push(m2);
    const reconcile = await master.waitForCall('reconcile', (r) => r.tasks.length > 0);
    expect(reconcile.tasks.map((t) => t.taskId!.value).sort()).toEqual([...ids].sort());
    expect(master.subscriptions[0]!.frameworkInfo!.id!.value).toBe('fake-framework-1');
    expect(master.subscriptions[0]!.frameworkInfo!.checkpoint).toBe(true);
    expect(master.subscriptions[0]!.frameworkInfo!.failoverTimeout).toBe(604800);
    master.offer({ id: 'early' });
    await master.waitForCall('decline', (d) => d.offerIds[0]?.value === 'early');
    expect(m2.core.isReady).toBe(false);
    for (const id of ids) master.update({ taskId: id, state: 'TASK_RUNNING', reason: 'RECONCILIATION', agentId: 'agent-1' });
    await until('ready', () => m2.core.isReady);
    master.offer({ id: 'late' });
    await master.waitForCall('decline', (d) => d.offerIds[0]?.value === 'late');
    expect(master.callsOf('accept')).toHaveLength(0);
    expect(master.callsOf('kill')).toHaveLength(0);
    expect(m2.core.state.tasks.size).toBe(2);
  });

  it('starts an app after the apps it depends on run healthy', async () => {
    const h = await start();
    const group = await h.api('PUT', '/v2/groups/prod', {
      apps: [
        { id: 'web', cmd: 'web', cpus: 0.1, mem: 16, dependencies: ['db'] },
        { id: 'db', cmd: 'db', cpus: 0.1, mem: 16 },
      ],
    });
    expect(group.status).toBe(200);
    const plan = (await h.api('GET', '/v2/deployments')).body[0];
    expect(plan.steps.map((s: { actions: { app: string }[] }) => s.actions.map((a) => a.app))).toEqual([['/prod/db'], ['/prod/web']]);
    h.master.offer({ id: 'o1' });
    const first = await h.master.waitForCall('accept');
    const [db] = taskIdsOf(first);
    expect(first.operations[0]!.launch!.taskInfos.map((t) => t.name)).toEqual(['db.prod']);
    await runAll(h, [db!]);
    h.master.offer({ id: 'o2' });
    await until('web launched', () => h.master.callsOf('accept').length === 2);
    expect(h.master.callsOf('accept')[1]!.operations[0]!.launch!.taskInfos.map((t) => t.name)).toEqual(['web.prod']);
  });

  it('is partition-aware: an unreachable task is replaced after inactiveAfterSeconds and forgotten after expungeAfterSeconds', async () => {
    const h = await start();
    expect(h.master.subscriptions[0]!.frameworkInfo!.capabilities).toHaveLength(1); // PARTITION_AWARE (a wire enum)
    await h.api('POST', '/v2/apps', { id: '/web', cmd: 'serve', cpus: 0.1, mem: 16, unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 } });
    h.master.offer({ id: 'o1' });
    const [t1] = taskIdsOf(await h.master.waitForCall('accept'));
    await runAll(h, [t1!]);
    h.master.update({ taskId: t1!, state: 'TASK_UNREACHABLE', agentId: 'agent-1', uuid: 'un-1' });
    await until('unreachable', () => h.m.core.state.tasks.get(t1!)?.state === 'TASK_UNREACHABLE');
    h.clock.advance(30_000);
    h.master.offer({ id: 'o2', agentId: 'agent-2' });
    await h.master.waitForCall('decline', (d) => d.offerIds[0]?.value === 'o2');
    h.clock.advance(31_000);
    h.master.offer({ id: 'o3', agentId: 'agent-2' });
    await until('replacement', () => h.master.callsOf('accept').length === 2);
    expect(h.m.core.state.tasks.has(t1!)).toBe(true);
    h.clock.advance(60_000);
    await until('expunged', () => !h.m.core.state.tasks.has(t1!));
    expect(h.master.callsOf('kill').map((k) => k.taskId!.value)).toContain(t1);
  });

  it('after an agent is lost, a master that answers every kill with TASK_UNREACHABLE gets a bounded number of kills (no kill storm)', async () => {
    const h = await start();
    await h.api('POST', '/v2/apps', { id: '/web', cmd: 'serve', cpus: 0.1, mem: 16, instances: 2 }); // unreachableStrategy 0 / 0: expunged at once
    h.master.offer({ id: 'o1' });
    const lost = taskIdsOf(await h.master.waitForCall('accept'));
    await runAll(h, lost);
    // As the master does for a task on an unreachable agent: the answer to a kill is its state
    // (on the next turn of the event loop, so a storm does not starve the test's timers).
    h.master.onCall('kill', (k) => {
      if (lost.includes(k.taskId!.value)) setImmediate(() => h.master.streamOpen && h.master.update({ taskId: k.taskId!.value, state: 'TASK_UNREACHABLE', agentId: 'agent-1', reason: 'REASON_RECONCILIATION' }));
    });
    for (const id of lost) h.master.update({ taskId: id, state: 'TASK_UNREACHABLE', agentId: 'agent-1', uuid: `un-${id}` });
    h.master.failure('agent-1');
    await until('expunged', () => lost.every((id) => !h.m.core.state.tasks.has(id)));
    // Ten minutes of fake time, 5 s at a time; each offer is answered (replacements launched,
    // or declined) only after the updates sent before it were handled (one event at a time).
    const answered = new Set<string>();
    h.master.onCall('accept', (a) => a.offerIds.forEach((o) => answered.add(o.value)));
    h.master.onCall('decline', (d) => d.offerIds.forEach((o) => answered.add(o.value)));
    for (let i = 0; i < 120; i++) {
      h.clock.advance(5_000);
      h.master.offer({ id: `tick-${i}`, agentId: 'agent-2' });
      await until(`offer tick-${i} answered`, () => answered.has(`tick-${i}`));
    }
    const kills = h.master.callsOf('kill').filter((k) => lost.includes(k.taskId!.value));
    // Per task: the kill at expunge, then at most one per backoff window (5 s doubling to 300 s): 7 in 10 minutes.
    for (const id of lost) expect(kills.filter((k) => k.taskId!.value === id).length).toBeLessThanOrEqual(7);
    expect(kills.length).toBeGreaterThanOrEqual(lost.length);
  });

  it('a deployment waits for the readiness check of new tasks', async () => {
    const probes: string[] = [];
    let status = 503;
    const h = await start({ core: { readinessProbe: async (url) => (probes.push(url), status) } });
    await h.api('POST', '/v2/apps', {
      id: '/web', cmd: 'serve', cpus: 0.1, mem: 16,
      portDefinitions: [{ port: 0, name: 'http' }],
      readinessChecks: [{ name: 'ready', protocol: 'HTTP', path: '/ready', portName: 'http', intervalSeconds: 1, timeoutSeconds: 1, httpStatusCodesForReady: [200] }],
    });
    h.master.offer({ id: 'o1', agentEndpoint: '10.0.0.7:5051' });
    const [t1] = taskIdsOf(await h.master.waitForCall('accept'));
    await runAll(h, [t1!]);
    await until('probed', () => probes.length > 0);
    expect(probes[0]).toBe('http://10.0.0.7:31000/ready');
    await until('why blocked', () => h.m.core.blockedReason('/web'));
    expect(h.m.core.blockedReason('/web')).toMatch(/readiness check/);
    const d = (await h.api('GET', '/v2/deployments')).body[0];
    expect(d.currentActions[0].readinessCheckResults).toEqual([{ name: 'ready', taskId: t1, ready: false, lastResponse: null }]);
    status = 200;
    h.clock.advance(1_000);
    await until('deployment done', () => h.m.core.state.deployments.size === 0);
    expect(probes.length).toBeGreaterThanOrEqual(2);
  });

  it('fails a deployment past its deadline, says why, and rolls back', async () => {
    const h = await start({ deploymentTimeoutSeconds: 5, rollbackOnDeadline: true });
    await h.api('POST', '/v2/apps', { id: '/web', cmd: 'v1', cpus: 0.1, mem: 16 });
    h.master.offer({ id: 'o1' });
    const [t1] = taskIdsOf(await h.master.waitForCall('accept'));
    await runAll(h, [t1!]);
    await until('first deployment done', () => h.m.core.state.deployments.size === 0);
    const events: string[] = [];
    h.m.core.bus.subscribe((e) => events.push(e.eventType));
    const upgrade = await h.api('PUT', '/v2/apps/web', { cmd: 'v2', cpus: 64 });
    expect(upgrade.status).toBe(200);
    h.master.offer({ id: 'o2', resources: 'cpus:1;mem:64' });
    await until('blocked reason', () => h.m.core.blockedReason('/web'));
    const deployments = await h.api('GET', '/v2/deployments');
    expect(deployments.body[0].whyBlocked).toMatch(/cpus: need 64, have 1/);
    h.clock.advance(6_000);
    await until('failed', () => events.includes('deployment_failed'));
    await until('rolled back', () => h.m.core.state.apps.get('/web')?.app.cmd === 'v1');
    await until('rollback done', () => h.m.core.state.deployments.size === 0);
    expect(h.m.core.state.tasks.get(t1!)?.killRequestedAt).toBeUndefined();
  });
});
