import { join } from 'node:path';
import { Cleanup, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { isoIn, linesOf, runsOf, startChronosProcess, startCluster, waitForRuns, waitUntilTime } from './support.js';

// Real `meso master`, `meso agent` and `meso-chronos` processes on loopback.

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('meso-chronos with a real cluster', () => {
  it('runs a job every 2 s on schedule and records its lateness', async () => {
    const cluster = await startCluster(cleanup);
    const chronos = await startChronosProcess(cleanup, cluster);
    const res = await chronos.api('POST', '/v1/scheduler/iso8601', { name: 'every-2s', command: 'echo tick', schedule: 'R//PT2S', cpus: 0.1, mem: 32, disk: 0 });
    expect(res.status).toBe(204);
    const runs = await waitForRuns(chronos, 'every-2s', 'three successful runs', (r) => r.filter((x) => x.state === 'SUCCEEDED').length >= 3);
    const done = runs.filter((r) => r.state === 'SUCCEEDED').slice(0, 3);
    const times = done.map((r) => r.scheduledFor as number);
    expect(times[1]! - times[0]!).toBe(2000);
    expect(times[2]! - times[1]!).toBe(2000);
    expect(new Set(runs.map((r) => r.scheduledFor)).size).toBe(runs.length); // once per scheduled time
    // Lateness (scheduled time → TASK_RUNNING) is recorded for every run; it includes the agent
    // starting the task, which on a loaded 2-core machine can take seconds, so the bound on time
    // is on fw-chronos's own share: the launch (ACCEPT) of the runs after the first — prepared and
    // with offers revived ahead — goes out well within a second of the scheduled time. (The first
    // run is due the moment the job is created, before any offer was asked for.)
    for (const r of done) expect(r.lateMs).toBeGreaterThanOrEqual(0);
    const launchDelay = done.slice(1).map((r) => (r.launchedAt as number) - (r.scheduledFor as number));
    expect(Math.max(...launchDelay), `launch delays ${launchDelay}, lateness ${done.map((r) => r.lateMs)}`).toBeLessThan(1000);
    const metrics = (await chronos.api('GET', '/metrics')).text;
    expect(metrics).toMatch(/chronos_job_last_lateness_seconds\{job="every-2s"\} \d+\.\d+/);
    expect(metrics).toMatch(/chronos_runs_succeeded_total [3-9]/);
  });

  it('runs a dependent job after its parents succeed, and not after a parent fails', async () => {
    const cluster = await startCluster(cleanup);
    const chronos = await startChronosProcess(cleanup, cluster);
    const later = 'R/2099-01-01T00:00:00Z/P1D';
    const base = { cpus: 0.1, mem: 32, disk: 0, retries: 0 };
    expect((await chronos.api('POST', '/scheduler/iso8601', { ...base, name: 'extract', command: 'true', schedule: later })).status).toBe(204);
    expect((await chronos.api('POST', '/scheduler/iso8601', { ...base, name: 'transform', command: 'true', schedule: later })).status).toBe(204);
    expect((await chronos.api('POST', '/scheduler/dependency', { ...base, name: 'load', command: 'true', parents: ['extract', 'transform'] })).status).toBe(204);

    await chronos.api('PUT', '/scheduler/job/extract');
    await waitForRuns(chronos, 'extract', 'success', (r) => r.some((x) => x.state === 'SUCCEEDED'));
    expect(await runsOf(chronos, 'load')).toEqual([]); // one parent is not enough
    await chronos.api('PUT', '/scheduler/job/transform');
    await waitForRuns(chronos, 'load', 'a run after both parents', (r) => r.length === 1 && r[0].state === 'SUCCEEDED' && r[0].trigger === 'dependency');

    // transform now fails: extract succeeding again must not start load.
    expect((await chronos.api('POST', '/scheduler/iso8601', { ...base, name: 'transform', command: 'exit 1', schedule: later })).status).toBe(204);
    await chronos.api('PUT', '/scheduler/job/transform');
    await waitForRuns(chronos, 'transform', 'a failure', (r) => r.some((x) => x.state === 'FAILED'));
    await chronos.api('PUT', '/scheduler/job/extract');
    await waitForRuns(chronos, 'extract', 'a second success', (r) => r.filter((x) => x.state === 'SUCCEEDED').length === 2);
    expect(await runsOf(chronos, 'load')).toHaveLength(1);
    expect((await chronos.api('GET', '/scheduler/graph/dot')).text).toContain('"transform" -> "load"');
  });

  it('retries a failing job `retries` times and the counters say so', async () => {
    const cluster = await startCluster(cleanup);
    const chronos = await startChronosProcess(cleanup, cluster);
    await chronos.api('POST', '/scheduler/iso8601', { name: 'flaky', command: 'exit 3', schedule: 'R1//PT1H', retries: 2, retryDelaySeconds: 0.3, cpus: 0.1, mem: 32, disk: 0 });
    const [run] = await waitForRuns(chronos, 'flaky', 'a final failure', (r) => r.some((x) => x.state === 'FAILED'));
    expect(run.attempt).toBe(3);
    expect(run.attempts.map((a: { exitStatus: number }) => a.exitStatus)).toEqual([3, 3, 3]);
    const job = (await chronos.api('GET', '/scheduler/job/flaky')).json;
    expect(job).toMatchObject({ errorCount: 1, errorsSinceLastSuccess: 1, retryCount: 2, successCount: 0, retries: 2 });
    expect(job.lastError).not.toBe('');
  });

  it.each([
    ['runOnce', 1],
    ['skip', 0],
  ] as const)('killed (SIGKILL) and restarted across a scheduled time, policy %s runs it %i time(s), never twice', async (policy, expected) => {
    const cluster = await startCluster(cleanup);
    const workDir = join(cluster.dir, 'chronos');
    const out = join(cluster.dir, 'out.txt');
    let chronos = await startChronosProcess(cleanup, cluster, workDir);
    const { iso, at } = isoIn(3000);
    await chronos.api('POST', '/scheduler/iso8601', { name: 'nightly', command: `echo ran >> ${out}`, schedule: `R1/${iso}/PT1H`, epsilon: 'PT1S', missedRunPolicy: policy, cpus: 0.1, mem: 32, disk: 0 });
    chronos.proc.child.kill('SIGKILL');
    await chronos.proc.exited;
    await waitUntilTime(at + 2500); // the run was due 2.5 s ago, past its 1 s starting deadline
    chronos = await startChronosProcess(cleanup, cluster, workDir);
    const runs = await waitForRuns(chronos, 'nightly', 'the missed run handled', (r) => r.some((x) => x.state === 'SUCCEEDED' || x.state === 'SKIPPED'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scheduledFor: at, state: expected === 1 ? 'SUCCEEDED' : 'SKIPPED' });
    expect(await linesOf(out)).toHaveLength(expected);
    const job = (await chronos.api('GET', '/scheduler/job/nightly')).json;
    expect(job.skippedCount).toBe(1 - expected);
  });

  it('killed while a run is on the cluster, adopts it after a restart instead of running it again', async () => {
    const cluster = await startCluster(cleanup);
    const workDir = join(cluster.dir, 'chronos');
    const out = join(cluster.dir, 'out.txt');
    let chronos = await startChronosProcess(cleanup, cluster, workDir);
    const { iso, at } = isoIn(2000);
    await chronos.api('POST', '/scheduler/iso8601', { name: 'long', command: `echo ran >> ${out}; sleep 3`, schedule: `R1/${iso}/PT1H`, cpus: 0.1, mem: 32, disk: 0 });
    await waitForRuns(chronos, 'long', 'running', (r) => r.some((x) => x.state === 'RUNNING'));
    chronos.proc.child.kill('SIGKILL');
    await chronos.proc.exited;
    chronos = await startChronosProcess(cleanup, cluster, workDir);
    const runs = await waitForRuns(chronos, 'long', 'success of the adopted task', (r) => r.some((x) => x.state === 'SUCCEEDED'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scheduledFor: at, attempt: 1 });
    expect(await linesOf(out)).toEqual(['ran']);
  });

  it("accepts Chronos's job JSON unchanged on the 2.x paths", async () => {
    // No Chronos client library for Node is published on npm (chronos-client, mesos-chronos,
    // chronos-js, node-chronos: 404), so this speaks the documented JSON the way curl examples do.
    const cluster = await startCluster(cleanup);
    const chronos = await startChronosProcess(cleanup, cluster);
    const out = join(cluster.dir, 'chronos-out.txt');
    const job = {
      schedule: 'R/2099-03-08T20:00:00.000Z/PT2H',
      scheduleTimeZone: 'America/New_York',
      name: 'SAMPLE_JOB1',
      epsilon: 'PT15M',
      command: `echo "$FOO" >> ${out}`,
      owner: 'bob@example.com',
      ownerName: 'Bob',
      description: 'an existing Chronos job',
      async: false,
      shell: true,
      executor: '',
      executorFlags: '',
      retries: 2,
      successCount: 0,
      errorCount: 0,
      lastSuccess: '',
      lastError: '',
      cpus: 0.1,
      disk: 0,
      mem: 32,
      disabled: false,
      softError: false,
      dataProcessingJobType: false,
      errorsSinceLastSuccess: 0,
      uris: [],
      environmentVariables: [{ name: 'FOO', value: 'bar' }],
      arguments: [],
      highPriority: false,
      runAsUser: 'root',
      constraints: [['hostname', 'LIKE', '.*']],
    };
    expect((await chronos.api('POST', '/scheduler/iso8601', job)).status).toBe(204);
    const dependent = { name: 'SAMPLE_JOB2', command: `echo child >> ${out}`, parents: ['SAMPLE_JOB1'], epsilon: 'PT30M', owner: 'bob@example.com', async: false, cpus: 0.1, mem: 32, disk: 0 };
    expect((await chronos.api('POST', '/scheduler/dependency', dependent)).status).toBe(204);
    const listed = (await chronos.api('GET', '/scheduler/jobs')).json as any[];
    expect(listed.map((j) => j.name)).toEqual(['SAMPLE_JOB1', 'SAMPLE_JOB2']);
    expect(listed[0]).toMatchObject({ ...job, retryCount: 0 });
    expect((await chronos.api('PUT', '/scheduler/job/SAMPLE_JOB1')).status).toBe(204);
    await waitForRuns(chronos, 'SAMPLE_JOB2', 'the dependent run', (r) => r.some((x) => x.state === 'SUCCEEDED'));
    expect(await linesOf(out)).toEqual(['bar', 'child']);
    const stat = (await chronos.api('GET', '/scheduler/job/stat/SAMPLE_JOB1')).json;
    expect(stat.histogram.count).toBe(1);
    expect((await chronos.api('GET', '/scheduler/stats/99thPercentile')).json).toHaveLength(2);
    expect((await chronos.api('DELETE', '/scheduler/job/SAMPLE_JOB1')).status).toBe(400); // has a dependent
    expect((await chronos.api('DELETE', '/scheduler/job/SAMPLE_JOB2')).status).toBe(204);
    expect((await chronos.api('DELETE', '/scheduler/job/SAMPLE_JOB1')).status).toBe(204);
    await waitFor('jobs gone', async () => ((await chronos.api('GET', '/v1/scheduler/jobs')).json as unknown[]).length === 0);
  });
});
