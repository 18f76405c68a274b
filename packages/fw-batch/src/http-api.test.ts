import { FakeClock, FakeSchedulerTransport, silentLogger } from '@meso/sdk-scheduler';
import { MemoryStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { startBatch, type RunningBatch } from './start-batch.js';

// The JSON API in process, over the SDK's in-memory master.

let running: RunningBatch | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start() {
  const master = new FakeSchedulerTransport();
  running = await startBatch({ httpPort: 0, transport: master, clock: new FakeClock(), store: new MemoryStateStore(), logger: silentLogger });
  const address = running.address;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${address}${path}`, { method, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined, text };
  };
  return { master, api, engine: running.engine };
}

async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the batch API', () => {
  it('lists with filters and pagination', async () => {
    const { api } = await start();
    const jobs = Array.from({ length: 7 }, (_, i) => ({ id: `j${i}`, user: i % 2 ? 'odd' : 'even', command: 'true', labels: { team: i < 3 ? 'a' : 'b' } }));
    expect((await api('POST', '/v1/jobs', { jobs })).status).toBe(201);
    const page = await api('GET', '/v1/jobs?user=even&offset=1&limit=2');
    expect(page.json).toMatchObject({ total: 4, offset: 1, limit: 2 });
    expect(page.json.jobs.map((j: { id: string }) => j.id)).toEqual(['j2', 'j4']);
    expect((await api('GET', '/v1/jobs?label=team=a&state=queued')).json.total).toBe(3);
    expect((await api('GET', '/v1/jobs?limit=0')).json).toMatchObject({ code: 'BAD_REQUEST', field: 'limit' });
    expect((await api('GET', '/v1/jobs/nope')).status).toBe(404);
    expect((await api('POST', '/v1/jobs', '{not json')).json.code).toBe('BAD_REQUEST');
    expect((await api('GET', '/ping')).text).toBe('pong');
    expect((await api('GET', '/metrics')).text).toMatch(/batch_jobs 7\nbatch_pending_instances 7/);
  });

  it('sets shares and quotas, refuses bad ones, and why names the quota', async () => {
    const { master, api } = await start();
    expect((await api('PUT', '/v1/quotas', { ann: { cpus: 1 } })).json).toEqual({ ann: { cpus: 1 } });
    expect((await api('PUT', '/v1/quotas', { ann: { cpu: 1 } })).json).toMatchObject({ code: 'BAD_REQUEST', field: 'ann.cpu' });
    expect((await api('PUT', '/v1/shares', { ann: 0 })).json).toMatchObject({ code: 'BAD_REQUEST', field: 'ann' });
    expect((await api('PUT', '/v1/shares', { ann: 2 })).json).toEqual({ ann: 2 });
    await api('POST', '/v1/jobs', { id: 'q', user: 'ann', command: 'sleep 9', instances: 3, cpus: 0.5 });
    master.offer({ resources: 'cpus:4.1;mem:4224' }); // 4 cpus for tasks, the rest for the batch executor
    await master.waitForCall('accept');
    const why = await until('why names the quota', async () => {
      const w = (await api('GET', '/v1/jobs/q/why')).json;
      return w.reasons.some((r: string) => r.includes('over quota')) && w;
    });
    expect(why.reasons).toContain('last offer round: over quota: cpus: quota 1, running 1, needs 0.5');
    const usage = (await api('GET', '/v1/usage')).json;
    expect(usage.users.ann).toMatchObject({ running: 2, weight: 2, quota: { cpus: 1 }, pending: 1, dominantShare: 0.25, weightedShare: 0.125 });
  });

  it('retrying a failed dependency releases the held dependents', async () => {
    const { master, api, engine } = await start();
    await api('POST', '/v1/jobs', [
      { id: 'x', command: 'false' },
      { id: 'y', command: 'true', dependsOn: ['x'], onDependencyFailure: 'hold' },
    ]);
    master.offer({ resources: 'cpus:4;mem:4096' });
    await master.waitForCall('accept');
    master.update({ taskId: 'x.0.0', state: 'TASK_FAILED', uuid: 'f1', agentId: 'agent-1', exitCode: 1 });
    await until('y held', () => engine.state.jobs.get('y')?.held);
    expect((await api('POST', '/v1/jobs/y/retry')).json).toMatchObject({ code: 'INVALID_STATE', message: 'job y is held by a failed dependency: retry the dependency (held: dependency x failed)' });
    expect((await api('GET', '/v1/jobs/y')).json.state).toBe('held');
    expect((await api('POST', '/v1/jobs/x/retry')).json.state).toBe('queued');
    expect((await api('GET', '/v1/jobs/y')).json.state).toBe('waiting');
    expect((await api('POST', '/v1/jobs/x/retry')).json.code).toBe('INVALID_STATE');
  });
});
