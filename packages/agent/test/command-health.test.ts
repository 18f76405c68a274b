import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HealthCheck_Type, TaskState, TaskStatus_Reason, type HealthCheck, type StatusUpdate } from '@meso/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';
import { frameworkInfo } from './support/test-master.js';
import { freePort } from './support/ports.js';
import { portsResource, shellTask } from './support/tasks.js';
import { waitFor } from './support/wait.js';

const S = TaskState;
const node = process.execPath;

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

beforeAll(async () => {
  await stat(new URL('../dist/command-executor/main.js', import.meta.url)).catch(() => {
    throw new Error('build first: npx tsc -b packages/agent/tsconfig.json');
  });
});

/** A fast health check: first check at once, every 0.2 s, 2 s timeout, no grace period. */
function healthCheck(extra: Partial<HealthCheck>): HealthCheck {
  return {
    type: HealthCheck_Type.COMMAND,
    command: undefined,
    port: 0,
    path: '',
    delaySeconds: 0,
    intervalSeconds: 0.2,
    timeoutSeconds: 2,
    consecutiveFailures: 3,
    gracePeriodSeconds: 0,
    ...extra,
  };
}

const shell = (value: string) => ({ shell: true, value, arguments: [], environment: [], user: '' });

/** The health updates of a task: TASK_RUNNING with `healthy` set, in arrival order. */
const healthUpdates = (taskId: string): StatusUpdate[] => h.master.updatesOf(taskId).filter((u) => u.status?.healthy !== undefined);
const healthOf = (taskId: string): boolean[] => healthUpdates(taskId).map((u) => u.status?.healthy ?? false);

/** How many times a check that appends to `checks` in the sandbox has run. */
async function checksRun(sandbox: string): Promise<number> {
  return (await readFile(join(sandbox, 'checks'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
}

async function runningSandbox(taskId: string): Promise<string> {
  const running = await h.master.waitForUpdate(taskId, S.TASK_RUNNING);
  const sandbox = running.status?.containerStatus?.sandbox ?? '';
  await waitFor(() => h.pidFile(sandbox), { what: `the pid file of ${taskId}` });
  return sandbox;
}

describe('health checks run by the command executor', () => {
  it('HTTP: a server on $PORT0 is reported healthy once; a kill stops the checks', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    const port = await freePort();
    const server = `require("http").createServer((q, s) => { s.writeHead(q.url === "/health" ? 200 : 404); s.end(); }).listen(+process.env.PORT0, "127.0.0.1")`;
    const task = shellTask('web', `echo $$ > pid; exec "${node}" -e '${server}'`, {
      // Port 0: the check targets the task's first port, as the scheduler SDK's portIndex 0 does.
      // A grace period covers node's start-up, however slow the machine.
      healthCheck: healthCheck({ type: HealthCheck_Type.HTTP, path: '/health', gracePeriodSeconds: 30 }),
    });
    task.resources.push(portsResource([[port, port]]));
    h.master.runTask(task);
    await runningSandbox('web');
    const healthy = await waitFor(() => healthUpdates('web')[0], { what: 'a health update of web' });
    expect(healthy.status).toMatchObject({ state: S.TASK_RUNNING, healthy: true, reason: TaskStatus_Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED });
    expect(healthy.status?.message).toBe(`HTTP 200 from GET /health on port ${port}`);

    h.master.kill('web');
    await h.master.waitForUpdate('web', S.TASK_KILLED);
    const states = h.master.updatesOf('web').map((u) => u.status?.state);
    expect(states).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_RUNNING, S.TASK_KILLED]);
    expect(healthOf('web')).toEqual([true]);
  });

  it('COMMAND: a failing check reports unhealthy once after maxConsecutiveFailures, and the executor does not kill the task', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(
      shellTask('sick', 'echo $$ > pid; exec sleep 600', {
        healthCheck: healthCheck({ command: shell('echo "check as $MESO_TASK_ID in $(pwd)" >> checks; echo "not ready" >&2; exit 1'), consecutiveFailures: 3 }),
      }),
    );
    const sandbox = await runningSandbox('sick');
    const unhealthy = await waitFor(() => healthUpdates('sick')[0], { what: 'a health update of sick' });
    expect(unhealthy.status).toMatchObject({ state: S.TASK_RUNNING, healthy: false, reason: TaskStatus_Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED });
    expect(unhealthy.status?.message).toBe('3 failed health checks in a row; last: command exited with status 1: not ready');
    // The check ran in the sandbox with the task's environment.
    expect((await readFile(join(sandbox, 'checks'), 'utf8')).split('\n')[0]).toBe(`check as sick in ${sandbox}`);
    expect(await checksRun(sandbox)).toBeGreaterThanOrEqual(3);
    // Checks go on failing: unhealthy is not repeated, and the task is left running.
    await waitFor(async () => (await checksRun(sandbox)) >= 8, { what: 'more failed checks' });
    expect(healthOf('sick')).toEqual([false]);
    expect(h.master.updatesOf('sick').map((u) => u.status?.state)).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_RUNNING]);
  });

  it('after an agent restart the task is taken over and its checks go on: a task turning sick is reported unhealthy', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(
      shellTask('kept', 'echo $$ > pid; exec sleep 600', {
        healthCheck: healthCheck({ command: shell('echo check >> checks; test ! -f sick'), consecutiveFailures: 2 }),
      }),
      frameworkInfo({ checkpoint: true }),
    );
    const sandbox = await runningSandbox('kept');
    await waitFor(() => healthOf('kept').includes(true), { what: 'kept to be reported healthy' });
    await h.agent.close({ shutdownExecutors: false });
    const before = await checksRun(sandbox);
    await h.startAgent();
    await h.agent.registered();
    await waitFor(async () => (await checksRun(sandbox)) >= before + 3, { what: 'checks run by the restarted agent' });
    await writeFile(join(sandbox, 'sick'), '');
    const unhealthy = await waitFor(() => healthUpdates('kept').find((u) => u.status?.healthy === false), { what: 'an unhealthy update after the restart' });
    expect(unhealthy.status).toMatchObject({ state: S.TASK_RUNNING, reason: TaskStatus_Reason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED });
    // Never killed for it: the framework decides.
    expect(h.master.updatesOf('kept').map((u) => u.status?.state)).not.toContain(S.TASK_KILLED);
    h.master.kill('kept');
    await h.master.waitForUpdate('kept', S.TASK_KILLED);
  });

  it('TCP: a listener on the checked port is healthy; a port nobody listens on becomes unhealthy', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    const port = await freePort();
    const listener = `require("net").createServer((c) => c.end()).listen(+process.env.PORT0, "127.0.0.1")`;
    const task = shellTask('tcp', `echo $$ > pid; exec "${node}" -e '${listener}'`, { healthCheck: healthCheck({ type: HealthCheck_Type.TCP, port, gracePeriodSeconds: 30 }) });
    task.resources.push(portsResource([[port, port]]));
    h.master.runTask(task);
    await runningSandbox('tcp');
    const healthy = await waitFor(() => healthUpdates('tcp')[0], { what: 'a health update of tcp' });
    expect(healthy.status).toMatchObject({ healthy: true, message: `connected to port ${port}` });

    const nobody = await freePort();
    h.master.runTask(shellTask('deaf', 'echo $$ > pid; exec sleep 600', { healthCheck: healthCheck({ type: HealthCheck_Type.TCP, port: nobody, consecutiveFailures: 2 }) }));
    await runningSandbox('deaf');
    const unhealthy = await waitFor(() => healthUpdates('deaf')[0], { what: 'a health update of deaf' });
    expect(unhealthy.status?.healthy).toBe(false);
    expect(unhealthy.status?.message).toMatch(/^2 failed health checks in a row; last: connect to port \d+: .*ECONNREFUSED/);
  });

  it('a grace period hides the failures of a slow start; the first success ends it', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    // The task becomes ready only after a while; until then every check fails.
    h.master.runTask(
      shellTask('slow', 'echo $$ > pid; sleep 1; touch ready; exec sleep 600', {
        healthCheck: healthCheck({ command: shell('echo x >> checks; test -f ready'), consecutiveFailures: 1, gracePeriodSeconds: 60 }),
      }),
    );
    const sandbox = await runningSandbox('slow');
    const healthy = await waitFor(() => healthUpdates('slow')[0], { what: 'a health update of slow' });
    expect(healthy.status?.healthy).toBe(true);
    // Several checks failed before (one failure would have been enough without the grace period).
    expect(await checksRun(sandbox)).toBeGreaterThan(2);
    expect(healthOf('slow')).toEqual([true]);
    // After the first success failures count at once: make the task unready.
    await rm(join(sandbox, 'ready'));
    const unhealthy = await waitFor(() => healthUpdates('slow')[1], { what: 'an unhealthy update of slow' });
    expect(unhealthy.status?.healthy).toBe(false);
    expect(healthOf('slow')).toEqual([true, false]);
  });
});
