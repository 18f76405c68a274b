import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { ExecutorAgentService, silentLogger, TaskState, TaskStatus_Reason, TaskStatus_Source, type ExecutorUpdateRequest } from '@meso/proto';
import { Executor } from '@meso/sdk-executor';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';
import { executorTask } from './support/tasks.js';
import { frameworkInfo } from './support/test-master.js';
import { groupAlive, processAlive, waitFor } from './support/wait.js';

const S = TaskState;
const fixture = fileURLToPath(new URL('./fixtures/test-executor.mjs', import.meta.url));
const executorCommand = `exec "${process.execPath}" "${fixture}"`;

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

const pidOf = (message: string | undefined): number => Number(/pid (\d+)/.exec(message ?? '')?.[1]);

describe('agent with a custom executor', () => {
  it('starts the executor once and hands it both tasks; forwards messages and kills', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(executorTask('t1', 'exec-1', executorCommand, { data: Buffer.from('one') }));
    h.master.runTask(executorTask('t2', 'exec-1', executorCommand));
    const r1 = await h.master.waitForUpdate('t1', S.TASK_RUNNING);
    const r2 = await h.master.waitForUpdate('t2', S.TASK_RUNNING);
    // One executor process ran both tasks, and the agent stamped its pid and sandbox.
    expect(pidOf(r1.status?.message)).toBe(pidOf(r2.status?.message));
    expect(r1.status?.containerStatus?.executorPid).toBe(pidOf(r1.status?.message));
    expect(r1.status?.containerStatus?.sandbox).toBe(r2.status?.containerStatus?.sandbox);
    expect(r1.status?.containerStatus?.sandbox).toContain('/frameworks/fw-1/executors/exec-1/runs/');
    expect(Buffer.from(r1.status?.data ?? []).toString()).toBe('one');
    h.track(r1.status?.containerStatus?.executorPid ?? 0);

    h.master.send({ $case: 'frameworkMessage', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' }, data: Buffer.from('hello') } });
    await waitFor(() => h.master.messages.find((m) => Buffer.from(m.data).toString() === 'echo hello'), { what: 'the echoed message' });
    expect(h.master.messages[0]?.executorId?.value).toBe('exec-1');

    h.master.kill('t1');
    await h.master.waitForUpdate('t1', S.TASK_KILLED);
    h.master.send({ $case: 'frameworkMessage', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' }, data: Buffer.from('finish t2') } });
    await h.master.waitForUpdate('t2', S.TASK_FINISHED);

    h.master.send({ $case: 'shutdownExecutor', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' } } });
    const exited = await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'exec-1'), { what: 'ExecutorExited' });
    expect(exited.status).toBe(0);
  });

  it('runs a task group on one executor with LAUNCH_GROUP', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    const a = executorTask('g1', 'exec-g', executorCommand);
    const b = executorTask('g2', 'exec-g', executorCommand);
    h.master.send({ $case: 'runTaskGroup', value: { frameworkInfo: frameworkInfo(), executor: a.executor, taskGroup: { tasks: [{ ...a, executor: undefined }, { ...b, executor: undefined }] } } });
    const r1 = await h.master.waitForUpdate('g1', S.TASK_RUNNING);
    const r2 = await h.master.waitForUpdate('g2', S.TASK_RUNNING);
    expect(pidOf(r1.status?.message)).toBe(pidOf(r2.status?.message));
  });

  it('fails the live tasks of an executor that exits, and tells the master', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(executorTask('c1', 'exec-c', executorCommand));
    h.master.runTask(executorTask('c2', 'exec-c', executorCommand));
    await h.master.waitForUpdate('c1', S.TASK_RUNNING);
    await h.master.waitForUpdate('c2', S.TASK_RUNNING);
    h.master.send({ $case: 'frameworkMessage', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-c' }, data: Buffer.from('crash') } });
    for (const id of ['c1', 'c2']) {
      const failed = await h.master.waitForUpdate(id, S.TASK_FAILED);
      expect(failed.status).toMatchObject({
        source: TaskStatus_Source.SOURCE_AGENT,
        reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED,
        message: 'Executor exited with status 7',
      });
      expect(failed.status?.containerStatus?.sandbox).toContain('/executors/exec-c/runs/');
    }
    const exited = await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'exec-c'), { what: 'ExecutorExited' });
    expect(exited).toMatchObject({ status: 7, signal: '' });
  });

  it('kills an executor that does not subscribe in time and fails its task', async () => {
    h = await new Harness().start({ agent: { executorRegistrationTimeoutMs: 500 } });
    await h.agent.registered();
    h.master.runTask(executorTask('slow', 'exec-slow', 'echo $$ > pid; exec sleep 600'));
    const failed = await h.master.waitForUpdate('slow', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_AGENT, reason: TaskStatus_Reason.REASON_EXECUTOR_REGISTRATION_TIMEOUT });
    expect(failed.status?.message).toContain('did not subscribe within 500 ms');
    const pid = await h.pidFile(failed.status?.containerStatus?.sandbox ?? '');
    expect(pid).toBeGreaterThan(0);
    await waitFor(() => !groupAlive(pid!) && !processAlive(pid!), { what: 'the executor to be gone', timeoutMs: 5_000 });
  });

  it('kills a task that is still waiting for its executor without bothering the executor', async () => {
    h = await new Harness().start({ agent: { executorRegistrationTimeoutMs: 60_000 } });
    await h.agent.registered();
    h.master.runTask(executorTask('early', 'exec-early', 'echo $$ > pid; exec sleep 600'));
    await waitFor(() => h.logs.some((l) => l.includes('executor started') && l.includes('exec-early')), { what: 'the executor to start' });
    h.master.kill('early');
    const killed = await h.master.waitForUpdate('early', S.TASK_KILLED);
    expect(killed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_AGENT, reason: TaskStatus_Reason.REASON_TASK_KILLED_DURING_LAUNCH });
    // The executor had no task left, so it was stopped.
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'exec-early'), { what: 'ExecutorExited' });
  });

  it('refuses executor calls with a wrong token, and survives garbage', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(executorTask('tok', 'exec-tok', executorCommand));
    await h.master.waitForUpdate('tok', S.TASK_RUNNING);
    const Client = makeGenericClientConstructor(ExecutorAgentService, 'meso.v1.ExecutorAgent') as unknown as new (
      a: string,
      c: ReturnType<typeof credentials.createInsecure>,
    ) => { update(r: ExecutorUpdateRequest, cb: (e: ServiceError | null) => void): void; close(): void };
    const client = new Client(`127.0.0.1:${h.agent.port}`, credentials.createInsecure());
    const call = (r: Partial<ExecutorUpdateRequest>): Promise<ServiceError | null> =>
      new Promise((resolve) => client.update({ frameworkId: undefined, executorId: undefined, status: undefined, token: '', ...r }, resolve));
    try {
      const bad = await call({ frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-tok' }, token: 'forged' });
      expect(bad?.metadata.get('meso-error-code')).toEqual(['PERMISSION_DENIED']);
      const unknown = await call({ frameworkId: { value: 'fw-1' }, executorId: { value: 'nope' }, token: 'x' });
      expect(unknown?.metadata.get('meso-error-code')).toEqual(['UNKNOWN_EXECUTOR']);
      const empty = await call({});
      expect(empty?.metadata.get('meso-error-code')).toEqual(['UNKNOWN_EXECUTOR']);
    } finally {
      client.close();
    }
    // The agent is fine: the task still gets killed normally.
    h.master.kill('tok');
    await h.master.waitForUpdate('tok', S.TASK_KILLED);
  });

  it('DuplicateTerminalUpdateAfterAck: a terminal update re-sent after the framework acknowledged it is acknowledged to the executor, never forwarded again', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(executorTask('dup', 'exec-dup', executorCommand));
    const running = await h.master.waitForUpdate('dup', S.TASK_RUNNING);
    const executorPid = h.track(running.status?.containerStatus?.executorPid ?? 0);
    h.master.send({ $case: 'frameworkMessage', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-dup' }, data: Buffer.from('finish dup') } });
    const finished = await h.master.waitForUpdate('dup', S.TASK_FINISHED);
    // The framework's acknowledgement (auto) has reached the agent once the task's stream checkpoint is gone.
    const stream = join(h.workDir, 'meta', 'updates', 'fw-1', 'dup.json');
    await waitFor(() => stat(stream).then(() => false, () => true), { what: 'the terminal update to be acknowledged' });
    const token = /MESO_EXECUTOR_TOKEN=([^\u0000]*)/.exec(await readFile(`/proc/${executorPid}/environ`, 'latin1'))?.[1] ?? '';
    const Client = makeGenericClientConstructor(ExecutorAgentService, 'meso.v1.ExecutorAgent') as unknown as new (
      a: string,
      c: ReturnType<typeof credentials.createInsecure>,
    ) => { update(r: ExecutorUpdateRequest, cb: (e: ServiceError | null) => void): void; close(): void };
    const client = new Client(`127.0.0.1:${h.agent.port}`, credentials.createInsecure());
    const call = (r: ExecutorUpdateRequest): Promise<ServiceError | null> => new Promise((resolve) => client.update(r, resolve));
    try {
      const base = { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-dup' }, token };
      // The same update again (same uuid), then a new terminal one: both taken, both dropped.
      expect(await call({ ...base, status: finished.status })).toBeNull();
      expect(await call({ ...base, status: { ...finished.status!, uuid: 'another-uuid', state: S.TASK_FAILED } })).toBeNull();
    } finally {
      client.close();
    }
    const count = h.master.updatesOf('dup').length;
    h.master.send({ $case: 'shutdownExecutor', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-dup' } } });
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'exec-dup'), { what: 'ExecutorExited' });
    expect(h.master.updatesOf('dup').length).toBe(count);
    expect(h.master.updatesOf('dup').map((u) => u.status?.state)).toEqual([S.TASK_RUNNING, S.TASK_FINISHED]);
  });

  it('an SDK executor the agent does not know stops at once with UNKNOWN_EXECUTOR instead of retrying', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    const started = Date.now();
    const connecting = Executor.connect({
      handlers: { launch: () => undefined, kill: () => undefined },
      agentEndpoint: `127.0.0.1:${h.agent.port}`,
      frameworkId: 'fw-1',
      executorId: 'never-launched',
      token: 'whatever',
      env: {},
      checkpoint: true,
      connectTimeoutMs: 15_000,
      logger: silentLogger,
    });
    await expect(connecting).rejects.toMatchObject({ name: 'ExecutorError', code: 'UNKNOWN_EXECUTOR' });
    // Refused on the first attempt, not after retrying until the connect timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("runs the executor SDK README's example: a task finishes, another is killed, SHUTDOWN ends it", async () => {
    const readme = await readFile(new URL('../../sdk-executor/README.md', import.meta.url), 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // Next to the fixtures, so that `@meso/sdk-executor` resolves from the workspace.
    const file = fileURLToPath(new URL(`./fixtures/.readme-example-${process.pid}.mjs`, import.meta.url));
    await writeFile(file, example ?? '');
    try {
      h = await new Harness().start();
      await h.agent.registered();
      const command = `exec "${process.execPath}" "${file}"`;
      h.master.runTask(executorTask('short', 'readme', command, { data: Buffer.from('0.2') }));
      h.master.runTask(executorTask('long', 'readme', command, { data: Buffer.from('600') }));
      const finished = await h.master.waitForUpdate('short', S.TASK_FINISHED);
      expect(finished.status?.message).toBe('slept 0.2 s');
      await h.master.waitForUpdate('long', S.TASK_RUNNING);
      h.master.kill('long');
      await h.master.waitForUpdate('long', S.TASK_KILLED);
      h.master.send({ $case: 'shutdownExecutor', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'readme' } } });
      const exited = await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'readme'), { what: 'ExecutorExited' });
      expect(exited.status).toBe(0);
    } finally {
      await rm(file, { force: true });
    }
  });
});
