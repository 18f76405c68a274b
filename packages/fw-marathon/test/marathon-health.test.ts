import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, waitFor } from '@meso/testing';
import { client, masterState, startCluster, startMarathonProcess } from './harness.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

// A tiny HTTP service on its first host port; its health is checked by the agent's executor.
const SERVE = `exec ${process.execPath} -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT0)"`;

// The same service, unhealthy (500) once a file named after its task id exists in $SICK_DIR.
const SERVE_SICKLY = `exec ${process.execPath} -e "const fs = require('fs'); require('http').createServer((q, s) => { s.statusCode = fs.existsSync(process.env.SICK_DIR + '/' + process.env.MESOS_TASK_ID) ? 500 : 200; s.end(); }).listen(process.env.PORT0)"`;

describe('health checks and rolling restarts', () => {
  it('an instance that turns unhealthy is replaced first, then killed', async () => {
    const { master } = await startCluster(cleanup, 2);
    const marathon = await startMarathonProcess(cleanup, master.address, join(await cleanup.tempDir('marathon-'), 'work'));
    const api = client(() => marathon.url);
    const sickDir = await cleanup.tempDir('sick-');
    await api.call('POST', '/v2/apps', {
      id: '/hc/sickly',
      cmd: SERVE_SICKLY,
      env: { SICK_DIR: sickDir },
      cpus: 0.1,
      mem: 64,
      instances: 2,
      healthChecks: [{ protocol: 'HTTP', path: '/', delaySeconds: 0, gracePeriodSeconds: 5, intervalSeconds: 1, timeoutSeconds: 2, maxConsecutiveFailures: 2 }],
    });
    await waitFor('2 healthy', async () => (await api.app('/hc/sickly')).tasksHealthy === 2, 60_000);
    const [sick] = await api.tasks('/hc/sickly');
    await writeFile(join(sickDir, sick.id), '');
    let healthyOthersAtKill = -1;
    await waitFor('the sick task replaced and gone', async () => {
      const tasks = await api.tasks('/hc/sickly');
      const mine = tasks.find((t) => t.id === sick.id);
      const healthyOthers = tasks.filter((t) => t.id !== sick.id && t.healthCheckResults?.[0]?.alive === true && t.state === 'TASK_RUNNING').length;
      if (healthyOthersAtKill < 0 && (!mine || mine.state === 'TASK_KILLING')) healthyOthersAtKill = healthyOthers;
      return !mine && healthyOthers === 2;
    }, 60_000);
    // It was killed only once a replacement was healthy beside the other instance.
    expect(healthyOthersAtKill).toBe(2);
    expect((await api.app('/hc/sickly')).tasksHealthy).toBe(2);
  });

  it('a rolling restart with an HTTP health check never drops below the minimumHealthCapacity floor and finishes', async () => {
    const { master } = await startCluster(cleanup, 2);
    const marathon = await startMarathonProcess(cleanup, master.address, join(await cleanup.tempDir('marathon-'), 'work'));
    const api = client(() => marathon.url);
    const app = {
      id: '/hc/web',
      cmd: SERVE,
      cpus: 0.1,
      mem: 64,
      instances: 4,
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, delaySeconds: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 2, maxConsecutiveFailures: 3 }],
    };
    expect((await api.call('POST', '/v2/apps', app)).status).toBe(201);
    await waitFor('4 healthy', async () => (await api.app('/hc/web')).tasksHealthy === 4 && (await api.deployments()).length === 0, 60_000);
    const before = new Set((await api.tasks('/hc/web')).map((t) => t.id));

    const restart = await api.call('POST', '/v2/apps/hc/web/restart');
    expect(restart.status).toBe(200);
    const samples: number[] = [];
    await waitFor('restart finished', async () => {
      const a = await api.app('/hc/web');
      samples.push(a.tasksHealthy);
      return (await api.deployments()).length === 0 && a.tasksHealthy === 4;
    }, 90_000);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2); // ceil(4 × 0.5)
    expect(samples.length).toBeGreaterThan(3);
    const after = await api.tasks('/hc/web');
    expect(after).toHaveLength(4);
    expect(after.some((t) => before.has(t.id))).toBe(false);
    expect(after.every((t) => t.healthCheckResults?.[0]?.alive === true)).toBe(true);
  });

  it('a crash and restart of meso-marathon in the middle of a rolling restart: it finishes, nothing lost or doubled', async () => {
    const { master } = await startCluster(cleanup, 2);
    const workDir = join(await cleanup.tempDir('marathon-'), 'work');
    let marathon = await startMarathonProcess(cleanup, master.address, workDir);
    const api = client(() => marathon.url);
    await api.call('POST', '/v2/apps', {
      id: '/hc/api',
      cmd: SERVE,
      cpus: 0.1,
      mem: 64,
      instances: 4,
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      healthChecks: [{ protocol: 'HTTP', path: '/', delaySeconds: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 2, maxConsecutiveFailures: 3 }],
    });
    await waitFor('4 healthy', async () => (await api.app('/hc/api')).tasksHealthy === 4 && (await api.deployments()).length === 0, 60_000);
    const oldVersion = (await api.tasks('/hc/api'))[0].version;
    await api.call('POST', '/v2/apps/hc/api/restart');
    await waitFor('the first new task', async () => (await api.tasks('/hc/api')).some((t) => t.version !== oldVersion), 30_000);
    marathon.proc.child.kill('SIGKILL');
    await marathon.proc.exited;
    marathon = await startMarathonProcess(cleanup, master.address, workDir);
    expect((await api.deployments()).length).toBe(1); // the deployment survived the crash
    await waitFor('restart finished', async () => {
      const tasks = await api.tasks('/hc/api');
      return (await api.deployments()).length === 0 && tasks.length === 4 && tasks.every((t) => t.version !== oldVersion && t.healthCheckResults?.[0]?.alive === true);
    }, 90_000);
    const frameworkId = (await api.call('GET', '/v2/info')).body.frameworkId;
    const live = (await masterState(master.address)).tasks.filter((t) => t.frameworkId === frameworkId && !['TASK_KILLED', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_LOST'].includes(t.state));
    expect(new Set(live.map((t) => t.id))).toEqual(new Set((await api.tasks('/hc/api')).map((t) => t.id)));
  });
});
