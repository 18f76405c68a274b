// Agent recovery on real processes (Mesos: SlaveRecoveryTest): an agent process is killed
// with SIGKILL while its executors and tasks run on, then started again on the same work
// dir. The master is the test double of our protocol; the agent is a child process.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskState, TaskStatus_Reason, TaskStatus_Source, type StatusUpdate } from '@meso/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, requireBuiltAgent } from './support/cluster.js';
import { executorTask, shellTask } from './support/tasks.js';
import { frameworkInfo } from './support/test-master.js';
import { groupAlive, processAlive, waitFor } from './support/wait.js';

const S = TaskState;
const R = TaskStatus_Reason;

let c: Cluster;
afterEach(async () => {
  await c?.cleanup();
});

beforeAll(requireBuiltAgent);

const checkpointing = frameworkInfo({ checkpoint: true });
const executorCommand = `exec "${process.execPath}" "${fileURLToPath(new URL('./fixtures/test-executor.mjs', import.meta.url))}"`;
const sandboxOf = (u: StatusUpdate): string => u.status?.containerStatus?.sandbox ?? '';
const pidIn = async (sandbox: string): Promise<number | undefined> => {
  const text = await readFile(join(sandbox, 'pid'), 'utf8').catch(() => '');
  return text.trim() === '' ? undefined : Number(text.trim());
};

describe('agent recovery after kill -9 (SlaveRecoveryTest)', () => {
  it('RecoverTaskStatusUpdateManager: an update not acknowledged before the crash is re-sent by the restarted agent', async () => {
    c = await new Cluster().start({ autoAck: false });
    const first = c.agent({ statusUpdateRetryMs: 60_000 });
    expect(await first.registered()).toBe('agent-1');
    c.master.runTask(shellTask('t1', 'echo $$ > pid; sleep 600'), checkpointing);
    const starting = await c.master.waitForUpdate('t1', S.TASK_STARTING);
    await first.crash();
    const before = c.master.updates.length;

    const second = c.agent({ statusUpdateRetryMs: 60_000 });
    expect(await second.registered()).toBe('agent-1');
    const resent = await waitFor(() => c.master.updates.slice(before).find((u) => u.status?.uuid === starting.status?.uuid), { what: 'the STARTING update again' });
    expect(resent.status?.state).toBe(S.TASK_STARTING);
    c.master.autoAck = true;
    c.master.ack(resent);
    // The rest of the stream follows, in order, once the head is acknowledged.
    await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    expect(c.master.registrations.at(-1)?.tasks.map((t) => t.taskId?.value)).toEqual(['t1']);
  });

  it('ReconnectExecutor: the executor re-subscribes, the task keeps running and a later kill works', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(shellTask('t1', 'echo $$ > pid; sleep 600'), checkpointing);
    const running = await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    const pgid = await waitFor(() => pidIn(sandboxOf(running)), { what: 'the task pid' });
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    await first.crash();
    expect(groupAlive(pgid)).toBe(true);
    expect(processAlive(executorPid)).toBe(true);

    const second = c.agent();
    expect(await second.registered()).toBe('agent-1');
    await second.logged('executor re-subscribed');
    const reg = c.master.registrations.at(-1);
    expect(reg?.agentInfo?.id?.value).toBe('agent-1');
    expect(reg?.tasks.map((t) => [t.taskId?.value, t.state, t.sandbox])).toEqual([['t1', S.TASK_RUNNING, sandboxOf(running)]]);
    expect(reg?.tasks[0]?.resources.map((r) => r.name)).toEqual(['cpus', 'mem']);
    expect(groupAlive(pgid)).toBe(true);

    c.master.kill('t1');
    const killed = await c.master.waitForUpdate('t1', S.TASK_KILLED);
    expect(killed.status?.source).toBe(TaskStatus_Source.SOURCE_EXECUTOR);
    await waitFor(() => !groupAlive(pgid) && !processAlive(executorPid), { what: 'the task and its executor to end', timeoutMs: 10_000 });
  });

  it('a custom executor is recovered too: it gets messages and new tasks after the restart, and the master hears of it', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(executorTask('a', 'exec-1', executorCommand), checkpointing);
    const running = await c.master.waitForUpdate('a', S.TASK_RUNNING);
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    await first.crash();

    const second = c.agent();
    await second.registered();
    await second.logged('executor re-subscribed');
    const reg = c.master.registrations.at(-1);
    expect(reg?.executors.map((e) => e.executorId?.value)).toEqual(['exec-1']);
    expect(reg?.frameworks.map((f) => [f.id?.value, f.checkpoint])).toEqual([['fw-1', true]]);
    c.master.runTask(executorTask('b', 'exec-1', executorCommand), checkpointing);
    const b = await c.master.waitForUpdate('b', S.TASK_RUNNING);
    expect(b.status?.containerStatus?.executorPid).toBe(executorPid);
    c.master.send({ $case: 'frameworkMessage', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' }, data: Buffer.from('finish a') } });
    await c.master.waitForUpdate('a', S.TASK_FINISHED);
    c.master.send({ $case: 'shutdownExecutor', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' } } });
    await c.master.waitForUpdate('b', S.TASK_KILLED);
    await waitFor(() => !processAlive(executorPid), { what: 'the executor to end' });
    await waitFor(() => c.master.exited.find((e) => e.executorId?.value === 'exec-1'), { what: 'ExecutorExited' });
  });

  it('a task that exits while the agent is down is reported with its real exit status after the restart', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(shellTask('t1', 'echo $$ > pid; while [ ! -f go ]; do sleep 0.05; done; exit 3'), checkpointing);
    const running = await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    const pgid = await waitFor(() => pidIn(sandboxOf(running)), { what: 'the task pid' });
    await first.crash();
    await writeFile(join(sandboxOf(running), 'go'), '');
    await waitFor(() => !groupAlive(pgid), { what: 'the task to exit while the agent is down' });

    const second = c.agent();
    expect(await second.registered()).toBe('agent-1');
    const failed = await c.master.waitForUpdate('t1', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_EXECUTOR, message: 'Command exited with status 3', exitCode: 3 });
    // Its executor, done, ends and the agent tells the master.
    await waitFor(() => c.master.exited.find((e) => e.executorId?.value === 't1'), { what: 'ExecutorExited' });
  });

  it('an executor that died while the agent was down: its task fails with REASON_EXECUTOR_TERMINATED', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(shellTask('t1', 'echo $$ > pid; sleep 600'), checkpointing);
    const running = await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    const pgid = await waitFor(() => pidIn(sandboxOf(running)), { what: 'the task pid' });
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    await first.crash();
    process.kill(executorPid, 'SIGKILL');
    await waitFor(() => !processAlive(executorPid), { what: 'the executor to die' });

    const second = c.agent();
    await second.registered();
    const failed = await c.master.waitForUpdate('t1', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_AGENT, reason: R.REASON_EXECUTOR_TERMINATED });
    // The task it left behind in its own process group is killed too.
    await waitFor(() => !groupAlive(pgid), { what: 'the orphaned task to be killed', timeoutMs: 5_000 });
    expect(c.master.registrations.at(-1)?.tasks.map((t) => [t.taskId?.value, t.state])).toEqual([['t1', S.TASK_FAILED]]);
  });

  it('a task whose terminal update was acknowledged never gets a second terminal state, over two restarts', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(executorTask('a', 'exec-1', executorCommand), checkpointing);
    const running = await c.master.waitForUpdate('a', S.TASK_RUNNING);
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    const runsDir = join(c.workDir, 'meta', 'runs');
    const [file] = (await readdir(runsDir)).filter((f) => !f.startsWith('.'));
    const runFile = join(runsDir, file ?? '');
    const whileRunning = await readFile(runFile, 'utf8');
    expect(JSON.parse(whileRunning).value.tasks).toEqual(['a']);
    c.master.autoAck = false;
    c.master.send({ $case: 'frameworkMessage', value: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' }, data: Buffer.from('finish a') } });
    const finished = await c.master.waitForUpdate('a', S.TASK_FINISHED);
    await first.crash();
    // Killed after checkpointing FINISHED but before its run checkpoint caught up: the run
    // still lists the task as running.
    await writeFile(runFile, whileRunning);

    // The restarted agent re-sends FINISHED, the framework acknowledges it...
    const second = c.agent();
    await second.registered();
    await second.logged('executor re-subscribed');
    const resent = await waitFor(() => c.master.updatesOf('a').filter((u) => u.status?.uuid === finished.status?.uuid).at(1), { what: 'FINISHED again' });
    c.master.ack(resent);
    const stream = join(c.workDir, 'meta', 'updates', 'fw-1', 'a.json');
    await waitFor(async () => !(await readFile(stream, 'utf8').catch(() => '')).includes('TASK_FINISHED'), { what: 'the acknowledgement to be taken in' });
    // ...and the agent is killed again before it cleans up the run, whose executor then ends.
    await second.crash();
    process.kill(executorPid, 'SIGKILL');
    await waitFor(() => !processAlive(executorPid), { what: 'the executor to die' });

    const third = c.agent();
    await third.registered();
    await third.logged('an executor of the previous agent process is gone');
    await new Promise((r) => setTimeout(r, 500));
    const terminal = c.master.updatesOf('a').filter((u) => [S.TASK_FINISHED, S.TASK_FAILED, S.TASK_KILLED, S.TASK_LOST].includes(u.status?.state ?? S.TASK_RUNNING));
    expect(new Set(terminal.map((u) => u.status?.uuid))).toEqual(new Set([finished.status?.uuid]));
    expect(c.master.registrations.at(-1)?.tasks).toEqual([]);
  });

  // A custom executor: a command task's executor is hosted by the agent itself, so it always comes back with it.
  it('an executor that does not re-subscribe in time is killed and its task fails with REASON_EXECUTOR_REREGISTRATION_TIMEOUT', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(executorTask('a', 'exec-1', executorCommand), checkpointing);
    const running = await c.master.waitForUpdate('a', S.TASK_RUNNING);
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    process.kill(executorPid, 'SIGSTOP'); // alive, but it cannot come back
    await first.crash();

    const second = c.agent({ executorReregisterTimeoutMs: 1_000 });
    await second.registered();
    const failed = await c.master.waitForUpdate('a', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_AGENT, reason: R.REASON_EXECUTOR_REREGISTRATION_TIMEOUT });
    await waitFor(() => !processAlive(executorPid), { what: 'the executor to be killed', timeoutMs: 5_000 });
  });

  it('CleanupExecutor: the executor of a framework that does not checkpoint is gone after the restart; its task fails with REASON_AGENT_RESTARTED', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    await first.registered();
    c.master.runTask(shellTask('t1', 'echo $$ > pid; sleep 600'), frameworkInfo({ checkpoint: false }));
    const running = await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    const pgid = await waitFor(() => pidIn(sandboxOf(running)), { what: 'the task pid' });
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    await first.crash();

    const second = c.agent();
    expect(await second.registered()).toBe('agent-1');
    const failed = await c.master.waitForUpdate('t1', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_AGENT, reason: R.REASON_AGENT_RESTARTED });
    await waitFor(() => !groupAlive(pgid) && !processAlive(executorPid), { what: 'the executor and its task to be gone', timeoutMs: 5_000 });
  });

  it('Reboot: a new boot id makes a new agent; the old runs and their updates are gone', async () => {
    c = await new Cluster().start();
    const first = c.agent();
    expect(await first.registered()).toBe('agent-1');
    c.master.runTask(shellTask('t1', 'echo $$ > pid; sleep 600'), checkpointing);
    const running = await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    const pgid = await waitFor(() => pidIn(sandboxOf(running)), { what: 'the task pid' });
    await first.crash();
    const before = c.master.updates.length;

    const second = c.agent({ bootId: 'boot-2' });
    expect(await second.registered()).toBe('agent-2');
    const reg = c.master.registrations.at(-1);
    expect(reg?.agentInfo?.id).toBeUndefined();
    expect(reg?.agentInfo?.bootId).toBe('boot-2');
    expect(reg?.tasks).toEqual([]);
    // The simulated reboot leaves the processes alive: the agent kills what is left of the old runs.
    await waitFor(() => !groupAlive(pgid), { what: 'the old task to be gone', timeoutMs: 5_000 });
    // (A write torn by the kill may leave a temporary `.…tmp` file, which the store ignores.)
    expect((await readdir(join(c.workDir, 'meta', 'runs')).catch(() => [])).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(c.master.updates.slice(before)).toEqual([]);
  });

  it('a truncated run checkpoint: the file is named in the log, its processes killed and its unacknowledged task failed', async () => {
    c = await new Cluster().start({ autoAck: false });
    const first = c.agent({ statusUpdateRetryMs: 60_000 });
    await first.registered();
    c.master.runTask(shellTask('t1', 'echo $$ > pid; sleep 600'), checkpointing);
    const starting = await c.master.waitForUpdate('t1', S.TASK_STARTING);
    const pgid = await waitFor(() => pidIn(sandboxOf(starting)), { what: 'the task pid' });
    await first.crash();
    const runsDir = join(c.workDir, 'meta', 'runs');
    const [file] = (await readdir(runsDir)).filter((f) => !f.startsWith('.'));
    const path = join(runsDir, file ?? '');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, Math.floor(text.length / 2)));

    const second = c.agent({ statusUpdateRetryMs: 60_000 });
    expect(await second.registered()).toBe('agent-1');
    expect(await second.logged(`checkpoint ${path} is unreadable`)).toContain('not valid JSON');
    await waitFor(() => !groupAlive(pgid), { what: 'the run of the unreadable checkpoint to be killed', timeoutMs: 5_000 });
    c.master.autoAck = true;
    for (const u of c.master.updatesOf('t1').filter((u) => u.status?.uuid === starting.status?.uuid).slice(-1)) c.master.ack(u);
    const failed = await c.master.waitForUpdate('t1', S.TASK_FAILED);
    expect(failed.status?.reason).toBe(R.REASON_AGENT_RESTARTED);
    expect(failed.status?.message).toContain(path);
    expect((await readdir(runsDir)).filter((f) => !f.startsWith('.'))).toEqual([`${file}.corrupt`]);
  });
});
