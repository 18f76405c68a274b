import { FakeClock, FakeSchedulerTransport, SchedulerError, silentLogger } from '@meso/sdk-scheduler';
import { MemoryStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from './run.js';
import { startChronos, type RunningChronos } from './start-chronos.js';

// fw-chronos in process: a FakeSchedulerTransport plays the master, a FakeClock drives time, a
// MemoryStateStore holds the ledger (shared between "processes" to test restarts), and the
// REST API is real HTTP on a free port.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const open: RunningChronos[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** Lets queued promise callbacks and I/O run (not a sleep: no time passes on the fake clock). */
async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

async function waitUntil<T>(what: string, check: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface World {
  master: FakeSchedulerTransport;
  clock: FakeClock;
  store: MemoryStateStore;
  chronos: RunningChronos;
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: unknown; text: string }>;
  launched: () => string[];
}

async function start(world: Partial<Pick<World, 'clock' | 'store'>> = {}, master = new FakeSchedulerTransport(), tuning: { historyLimit?: number } = {}): Promise<World> {
  const clock = world.clock ?? new FakeClock(T0);
  const store = world.store ?? new MemoryStateStore();
  const chronos = await startChronos({ transport: master, clock, store, httpPort: 0, logger: silentLogger, reviveLeadMs: 2000, reconcileTimeoutMs: 5000, ...tuning });
  open.push(chronos);
  const api: World['api'] = async (method, path, body) => {
    const res = await fetch(`http://${chronos.address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const launched = (): string[] => master.callsOf('accept').flatMap((a) => a.operations.flatMap((op) => op.launch?.taskInfos.map((t) => t.taskId!.value) ?? []));
  return { master, clock, store, chronos, api, launched };
}

/** Moves the fake clock on, with a heartbeat every 30 s so the SDK keeps the fake stream alive. */
async function advance(w: World, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 30_000) {
    w.master.heartbeat();
    await settle();
    w.clock.advance(Math.min(left, 30_000));
    await settle();
  }
}

async function runs(w: World, job: string): Promise<RunRecord[]> {
  return (await w.api('GET', `/v1/scheduler/job/${job}/runs`)).json as RunRecord[];
}

describe('fw-chronos engine', () => {
  it('revives ahead of a run, launches it at its time from a held offer, records lateness and counts the success', async () => {
    const w = await start();
    expect((await w.api('POST', '/scheduler/iso8601', { name: 'tick', command: 'echo tick', schedule: 'R/2026-01-01T00:00:10Z/PT10S' })).status).toBe(204);
    await settle();
    expect(w.master.callsOf('suppress').length).toBeGreaterThan(0); // idle: no offers wanted
    await advance(w, 8000); // 2 s before the run: revive
    await w.master.waitForCall('revive');
    w.master.offer({});
    await settle();
    expect(w.launched()).toEqual([]); // held, not launched early
    await advance(w, 2000);
    const taskId = await waitUntil('launch', () => w.launched()[0]);
    expect(taskId).toBe(`ct:${T0 + 10_000}:1:tick:`);
    const [staged] = await runs(w, 'tick');
    expect(staged).toMatchObject({ state: 'STAGING', taskId, scheduledFor: T0 + 10_000 }); // in the ledger before the master answered
    w.clock.advance(150);
    w.master.update({ taskId, state: 'TASK_RUNNING', uuid: 'u1' });
    await waitUntil('running', () => w.chronos.engine.metrics.lateness.values().length === 1);
    expect(w.chronos.engine.metrics.lateness.values()).toEqual([150]);
    w.master.update({ taskId, state: 'TASK_FINISHED', uuid: 'u2', exitCode: 0 });
    await settle();
    const job = (await w.api('GET', '/v1/scheduler/job/tick')).json as Record<string, unknown>;
    expect(job).toMatchObject({ successCount: 1, errorCount: 0, errorsSinceLastSuccess: 0 });
    expect((await runs(w, 'tick'))[0]).toMatchObject({ state: 'SUCCEEDED', lateMs: 150, exitStatus: 0 });
    expect((await w.api('GET', '/metrics')).text).toContain('chronos_job_last_lateness_seconds{job="tick"} 0.1500');
  });

  it('after a restart reconciles the ledger before firing, adopts the running task and never runs a scheduled time twice', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'once', command: 'sleep 30', schedule: 'R/2026-01-01T00:00:05Z/PT1H' });
    await advance(w, 4000);
    w.master.offer({});
    await advance(w, 1000);
    const taskId = await waitUntil('launch', () => w.launched()[0]);
    await w.chronos.close();
    open.length = 0;

    // A new process, same ledger; the master still runs the task.
    const w2 = await start({ clock: w.clock, store: w.store });
    const reconcile = await w2.master.waitForCall('reconcile', (r) => r.tasks.some((t) => t.taskId?.value === taskId));
    expect(reconcile).toBeDefined();
    w2.master.offer({});
    await settle();
    expect(w2.launched()).toEqual([]); // nothing before the answer
    w2.master.update({ taskId, state: 'TASK_RUNNING', reason: 'RECONCILIATION' });
    await settle();
    await advance(w2, 1000);
    expect(w2.launched()).toEqual([]); // the 00:00:05 run is the adopted task, not a new one
    const ledger = await runs(w2, 'once');
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ state: 'RUNNING', taskId });
  });

  it.each([
    ['runOnce', 1, 0],
    ['skip', 0, 3],
    ['catchUp', 3, 0],
  ] as const)('after missing three runs while down, policy %s starts %i run(s) and records %i skipped', async (policy, started, skipped) => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'm', command: 'true', schedule: 'R/2026-01-01T00:01:00Z/PT10S', epsilon: 'PT5S', missedRunPolicy: policy, concurrent: true });
    await w.chronos.close();
    open.length = 0;
    w.clock.advance(60_000 + 27_000); // 01:00, 01:10, 01:20 missed; 01:27 now
    const w2 = await start({ clock: w.clock, store: w.store });
    w2.master.offer({});
    await settle();
    const ledger = await runs(w2, 'm');
    expect(ledger.filter((r) => r.state !== 'SKIPPED')).toHaveLength(started);
    expect(ledger.filter((r) => r.state === 'SKIPPED').reduce((n, r) => n + (r.skippedCount ?? 0), 0)).toBe(skipped);
    expect(w2.launched()).toHaveLength(started);
    // A new process revives before anything: declines of the old one may still filter offers.
    if (started > 0) expect(w2.master.callsOf('revive').length).toBeGreaterThan(0);
    expect(((await w2.api('GET', '/scheduler/job/m')).json as { skippedCount: number }).skippedCount).toBe(skipped);
  });

  it('retries a failing run `retries` times with the delay and backoff, then counts one failure', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'flaky', command: 'false', schedule: 'R1/2026-01-01T00:00:01Z/PT1H', retries: 2, retryDelaySeconds: 5, retryBackoff: 2 });
    await advance(w, 1000);
    for (const [attempt, wait] of [[1, 0], [2, 5000], [3, 10_000]] as const) {
      await advance(w, wait);
      w.master.offer({});
      const taskId = await waitUntil(`attempt ${attempt}`, () => w.launched()[attempt - 1]);
      expect(taskId).toBe(`ct:${T0 + 1000}:${attempt}:flaky:`);
      w.master.update({ taskId, state: 'TASK_FAILED', exitCode: 1, uuid: `u${attempt}` });
      await settle();
    }
    const job = (await w.api('GET', '/scheduler/job/flaky')).json as Record<string, unknown>;
    expect(job).toMatchObject({ errorCount: 1, errorsSinceLastSuccess: 1, retryCount: 2, successCount: 0 });
    const [run] = await runs(w, 'flaky');
    expect(run).toMatchObject({ state: 'FAILED', attempt: 3, exitStatus: 1 });
    expect(run!.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
  });

  it('runs a dependent once all parents succeeded, and a failed parent holds it', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'a', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D' });
    await w.api('POST', '/scheduler/iso8601', { name: 'b', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D', retries: 0 });
    expect((await w.api('POST', '/scheduler/dependency', { name: 'c', command: 'true', parents: ['a', 'b'] })).status).toBe(204);
    const finish = async (job: string, state: 'TASK_FINISHED' | 'TASK_FAILED'): Promise<void> => {
      w.clock.advance(10);
      const before = w.launched().length;
      await w.api('PUT', `/scheduler/job/${job}`);
      w.master.offer({});
      const taskId = await waitUntil(`${job} launched`, () => w.launched().length > before && w.launched()[before]);
      w.master.update({ taskId, state, uuid: `${taskId}-end` });
      await settle();
      w.clock.advance(10);
    };
    await finish('a', 'TASK_FINISHED');
    expect(w.launched().some((t) => t.endsWith(':c:'))).toBe(false);
    await finish('b', 'TASK_FINISHED');
    w.master.offer({});
    await waitUntil('c launched', () => w.launched().some((t) => t.endsWith(':c:')));
    const cTask = w.launched().find((t) => t.endsWith(':c:'))!;
    w.master.update({ taskId: cTask, state: 'TASK_FINISHED', uuid: 'c-end' });
    await settle();
    await finish('a', 'TASK_FINISHED');
    await finish('b', 'TASK_FAILED'); // b's latest outcome is a failure: c is held
    w.master.offer({});
    await settle();
    expect(w.launched().filter((t) => t.endsWith(':c:'))).toHaveLength(1);
    expect((await w.api('GET', '/scheduler/graph/dot')).text).toContain('"b" -> "c"');
    expect((await w.api('GET', '/scheduler/graph/csv')).text).toContain('link,a,c');
  });

  it('answers bad input with 400 and the reason, storing nothing', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'p', command: 'true', schedule: 'R//PT1H' });
    const cases: Array<[string, unknown, RegExp]> = [
      ['/scheduler/iso8601', { name: 'x', command: 'true', schedule: 'R/2026-01-01T00:00:00Z/PTxS' }, /period/],
      ['/scheduler/iso8601', { name: 'x', command: 'true', schedule: 'nonsense' }, /repeating interval/],
      ['/scheduler/iso8601', { name: 'x', command: 'true', schedule: 'R//PT1H', scheduleTimeZone: 'No/Where' }, /unknown time zone/],
      ['/scheduler/dependency', { name: 'x', command: 'true', schedule: 'R//PT1H', parents: ['p'] }, /schedule or parents/],
      ['/scheduler/dependency', { name: 'x', command: 'true', parents: ['ghost'] }, /does not exist/],
      ['/scheduler/dependency', { name: 'p', command: 'true', parents: ['p'] }, /itself/],
      ['/scheduler/iso8601', { name: 'bad/name', command: 'true', schedule: 'R//PT1H' }, /name/],
    ];
    for (const [path, body, reason] of cases) {
      const res = await w.api('POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.json as { message: string }).message).toMatch(reason);
    }
    await w.api('POST', '/scheduler/dependency', { name: 'q', command: 'true', parents: ['p'] });
    const cycle = await w.api('POST', '/scheduler/dependency', { name: 'p', command: 'true', parents: ['q'] });
    expect(cycle.status).toBe(400);
    expect((cycle.json as { message: string }).message).toMatch(/cycle: p -> q -> p/);
    expect(((await w.api('GET', '/scheduler/jobs')).json as Array<{ name: string }>).map((j) => j.name)).toEqual(['p', 'q']);
    expect((await w.api('GET', '/v1/scheduler/job/x')).status).toBe(404);
    expect((await w.api('GET', '/v1/scheduler/stats/42ndPercentile')).status).toBe(400);
    expect((await w.api('GET', '/v1/scheduler/jobs/search?name=q')).json).toMatchObject([{ name: 'q' }]);
    expect((await w.api('GET', '/ping')).text).toBe('pong\n');
    expect((await w.api('GET', '/scheduler/leader')).json).toEqual({ leader: w.chronos.address });
  });

  it('kills a run that exceeds maxCompletionTime and counts it as a failure', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'slow', command: 'sleep 100', schedule: 'R1/2026-01-01T00:00:01Z/PT1H', retries: 0, maxCompletionTime: 30 });
    await advance(w, 1000);
    w.master.offer({});
    const taskId = await waitUntil('launch', () => w.launched()[0]);
    w.master.update({ taskId, state: 'TASK_RUNNING', uuid: 'r' });
    await settle();
    await advance(w, 29_000);
    expect(w.master.callsOf('kill')).toHaveLength(0);
    await advance(w, 1000);
    await w.master.waitForCall('kill', (k) => k.taskId?.value === taskId);
    w.master.update({ taskId, state: 'TASK_KILLED', uuid: 'k' });
    await settle();
    expect((await runs(w, 'slow'))[0]).toMatchObject({ state: 'FAILED', message: 'maxCompletionTime exceeded' });
    expect(((await w.api('GET', '/scheduler/job/slow')).json as { errorCount: number }).errorCount).toBe(1);
  });

  it('with concurrent false, a due run waits for the previous one; disableAfterFailures disables the job', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'serial', command: 'work', schedule: 'R/2026-01-01T00:00:10Z/PT10S', retries: 0, disableAfterFailures: 2 });
    await advance(w, 10_000);
    w.master.offer({});
    const first = await waitUntil('first launch', () => w.launched()[0]);
    w.master.update({ taskId: first, state: 'TASK_RUNNING', uuid: 'a' });
    await advance(w, 10_000); // the second run is due while the first still runs
    w.master.offer({});
    await settle();
    expect(w.launched()).toHaveLength(1);
    w.master.update({ taskId: first, state: 'TASK_FAILED', uuid: 'b' });
    const second = await waitUntil('second launch', () => w.launched()[1]);
    expect(second).toBe(`ct:${T0 + 20_000}:1:serial:`);
    w.master.update({ taskId: second, state: 'TASK_FAILED', uuid: 'c' });
    await settle();
    const job = (await w.api('GET', '/scheduler/job/serial')).json as Record<string, unknown>;
    expect(job).toMatchObject({ disabled: true, errorCount: 2, errorsSinceLastSuccess: 2 });
    await advance(w, 30_000);
    w.master.offer({});
    await settle();
    expect(w.launched()).toHaveLength(2); // disabled: nothing more
  });

  it('kills on DELETE /task/kill without retrying', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'k', command: 'sleep 100', schedule: 'R1/2026-01-01T00:00:01Z/PT1H', retries: 3 });
    await advance(w, 1000);
    w.master.offer({});
    const taskId = await waitUntil('launch', () => w.launched()[0]);
    expect((await w.api('DELETE', '/scheduler/task/kill/k')).status).toBe(204);
    await w.master.waitForCall('kill');
    w.master.update({ taskId, state: 'TASK_KILLED', uuid: 'k' });
    await settle();
    expect((await runs(w, 'k'))[0]).toMatchObject({ state: 'FAILED', attempt: 1 });
  });

  it('fires a cron job in its zone across the spring-forward gap at the transition', async () => {
    const clock = new FakeClock(Date.parse('2026-03-08T06:55:00Z')); // 01:55 EST
    const w = await start({ clock });
    await w.api('POST', '/scheduler/iso8601', { name: 'nightly', command: 'true', cron: '30 2 * * *', timezone: 'America/New_York' });
    expect(new Date(w.chronos.engine.nextRunOf('nightly')!).toISOString()).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT
    await advance(w, 5 * 60_000 - 1000); // within the revive lead: offers are wanted and held
    w.master.offer({});
    await advance(w, 1000);
    expect(await waitUntil('launch', () => w.launched()[0])).toBe(`ct:${Date.parse('2026-03-08T07:00:00Z')}:1:nightly:`);
  });

  it.each([
    ['the master never heard of it', 'TASK_LOST', 1],
    ['it had run and finished', 'TASK_FINISHED', 0],
  ] as const)('a run prepared ahead, then a crash, then a restart past its time: when %s it runs %i more time(s)', async (_label, answer, launches) => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 'p', command: 'true', schedule: 'R1/2026-01-01T00:00:10Z/PT1H' });
    await advance(w, 9000); // within the 2 s lead: the ledger entry with its task id is written
    const [prepared] = await runs(w, 'p');
    const taskId = `ct:${T0 + 10_000}:1:p:`;
    expect(prepared).toMatchObject({ state: 'QUEUED', taskId });
    await w.chronos.close();
    open.length = 0;
    w.clock.advance(20_000);
    const w2 = await start({ clock: w.clock, store: w.store });
    await w2.master.waitForCall('reconcile', (r) => r.tasks.some((t) => t.taskId?.value === taskId));
    w2.master.offer({});
    await settle();
    expect(w2.launched()).toEqual([]);
    w2.master.update({ taskId, state: answer, reason: 'RECONCILIATION' });
    await settle();
    w2.master.offer({});
    await settle();
    expect(w2.launched()).toEqual(launches ? [taskId] : []);
    const ledger = await runs(w2, 'p');
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.state).toBe(launches ? 'STAGING' : 'SUCCEEDED');
  });

  it('never sets a timer Node cannot hold, even for a run decades ahead', async () => {
    const delays: number[] = [];
    class RecordingClock extends FakeClock {
      override setTimeout(fn: () => void, ms: number): ReturnType<FakeClock['setTimeout']> {
        delays.push(ms);
        return super.setTimeout(fn, ms);
      }
    }
    const w = await start({ clock: new RecordingClock(T0) });
    await w.api('POST', '/scheduler/iso8601', { name: 'far', command: 'true', schedule: 'R/2099-01-01T00:00:00Z/P1D' });
    await advance(w, 120_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1); // Node fires larger ones at once
    expect(w.launched()).toEqual([]);
  });

  it('a prepared run that finds no offer within the starting deadline is recorded as skipped, once (policy skip)', async () => {
    const w = await start();
    await w.api('POST', '/scheduler/iso8601', { name: 's', command: 'true', schedule: 'R1/2026-01-01T00:00:10Z/PT1H', missedRunPolicy: 'skip', epsilon: 'PT2S' });
    await advance(w, 9000); // prepared
    await advance(w, 5000); // no offer comes; the 2 s deadline passes
    const ledger = await runs(w, 's');
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ state: 'SKIPPED', skippedCount: 1 });
    expect(((await w.api('GET', '/scheduler/job/s')).json as { skippedCount: number }).skippedCount).toBe(1);
    expect(w.launched()).toEqual([]);
  });

  it('does not spin on timers while revive keeps failing within the revive lead', async () => {
    let timers = 0;
    class CountingClock extends FakeClock {
      override setTimeout(fn: () => void, ms: number): ReturnType<FakeClock['setTimeout']> {
        timers++;
        return super.setTimeout(fn, ms);
      }
    }
    const master = new FakeSchedulerTransport();
    master.onCall('revive', () => {
      throw new SchedulerError('UNAVAILABLE', 'master busy');
    });
    const w = await start({ clock: new CountingClock(T0) }, master);
    await w.api('POST', '/scheduler/iso8601', { name: 'r', command: 'true', schedule: 'R1/2026-01-01T00:00:10Z/PT1H' });
    await advance(w, 8500); // inside the 2 s lead, revive failing
    const before = timers;
    await advance(w, 1000);
    expect(timers - before).toBeLessThan(20);
  });

  it('keeps the latest historyLimit finished runs of a job in the ledger', async () => {
    const w = await start({}, new FakeSchedulerTransport(), { historyLimit: 3 });
    await w.api('POST', '/scheduler/iso8601', { name: 'h', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D' });
    for (let i = 0; i < 5; i++) {
      w.clock.advance(10);
      await w.api('PUT', '/scheduler/job/h');
      w.master.offer({});
      const taskId = await waitUntil(`run ${i}`, () => w.launched()[i]);
      w.master.update({ taskId, state: 'TASK_FINISHED', uuid: `f${i}` });
      await settle();
    }
    const ledger = await runs(w, 'h');
    expect(ledger.map((r) => r.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(ledger.map((r) => r.attempts[0]!.taskId)).toEqual(w.launched().slice(2));
    expect(((await w.api('GET', '/scheduler/job/h')).json as { successCount: number }).successCount).toBe(5);
  });

  it("takes the sample jobs of Chronos's API documentation unchanged", async () => {
    const w = await start();
    // docs/docs/api.md of mesos/chronos: "Sample Job" (no shell, arguments, fetch) ...
    const sample = {
      name: 'camus_kafka2hdfs',
      command: '/srv/data-infra/kafka/camus/kafka_hdfs_job.bash',
      arguments: ['-verbose', '-debug'],
      shell: false,
      epsilon: 'PT30M',
      executor: '',
      executorFlags: '',
      retries: 2,
      owner: 'bofh@your-company.com',
      async: false,
      successCount: 190,
      errorCount: 3,
      lastSuccess: '2014-03-08T16:57:17.507Z',
      lastError: '2014-03-01T00:10:15.957Z',
      cpus: 1.0,
      disk: 10240,
      mem: 1024,
      disabled: false,
      fetch: [{ uri: 'https://url-to-file', cache: false, extract: false, executable: false }],
      schedule: 'R/2014-03-08T20:00:00.000Z/PT2H',
      environmentVariables: [{ name: 'JVMOPTS', value: '-Xmx1000m' }, { name: 'JAVA_LIBRARY_PATH', value: '/usr/local/lib' }],
    };
    // ... the Docker job (numbers as strings) and the dependent job.
    const docker = { schedule: 'R/2014-09-25T17:22:00Z/PT2M', name: 'dockerjob', container: { type: 'DOCKER', image: 'libmesos/ubuntu', network: 'BRIDGE', volumes: [{ containerPath: '/var/log/', hostPath: '/logs/', mode: 'RW' }] }, cpus: '0.5', mem: '512', fetch: [], command: 'while sleep 10; do date =u %T; done' };
    const dependent = { async: true, command: 'bash -x /srv/data-infra/jobs/hive_query.bash run_hive hostings-earnings-summary', epsilon: 'PT30M', errorCount: 0, lastError: '', lastSuccess: '2013-03-15T13:02:14.243Z', name: 'hostings_earnings_summary', owner: 'bob@airbnb.com', parents: ['camus_kafka2hdfs', 'dockerjob'], retries: 2, successCount: 100 };
    expect((await w.api('POST', '/v1/scheduler/iso8601', sample)).status).toBe(204);
    expect((await w.api('POST', '/v1/scheduler/iso8601', docker)).status).toBe(204);
    expect((await w.api('POST', '/v1/scheduler/dependency', dependent)).status).toBe(204);
    const got = (await w.api('GET', '/v1/scheduler/job/camus_kafka2hdfs')).json as Record<string, unknown>;
    expect(got).toMatchObject({ ...sample, successCount: 0, errorCount: 0, lastSuccess: '', lastError: '' }); // counters are fw-chronos's own
    expect((await w.api('GET', '/v1/scheduler/job/dockerjob')).json).toMatchObject({ cpus: 0.5, mem: 512, container: docker.container });
    expect((await w.api('GET', '/leader')).json).toEqual({ leader: w.chronos.address });
    expect((await w.api('PUT', '/v1/scheduler/job/success/camus_kafka2hdfs')).json).toBe(true);
    expect((await w.api('GET', '/v1/scheduler/jobs/search?any=hive')).json).toMatchObject([{ name: 'hostings_earnings_summary' }]);
  });
});
