import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, TaskStatus_Reason, TaskStatus_Source } from '@meso/proto';
import { FileStateStore } from '@meso/state';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentError, startAgent } from '../src/index.js';
import { Harness } from './support/harness.js';
import { portsResource, shellTask } from './support/tasks.js';
import { frameworkInfo, KILLING_CAPABLE } from './support/test-master.js';
import { groupAlive, waitFor } from './support/wait.js';

const S = TaskState;

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

beforeAll(async () => {
  // The command executor is a built program: fail clearly when the build is missing.
  await stat(new URL('../dist/command-executor/main.js', import.meta.url)).catch(() => {
    throw new Error('build first: npx tsc -b packages/agent/tsconfig.json');
  });
});

const states = (h: Harness, taskId: string): number[] => h.master.updatesOf(taskId).map((u) => u.status?.state ?? 0);

describe('agent with the command executor', () => {
  it('registers with its resources, runs `echo hello` and reports STARTING, RUNNING, FINISHED with the sandbox', async () => {
    h = await new Harness().start();
    const agentId = await h.agent.registered();
    expect(agentId).toBe('agent-1');
    const reg = h.master.registrations[0];
    expect(reg?.agentInfo).toMatchObject({ hostname: 'test-host', endpoint: h.agent.endpoint });
    expect(reg?.agentInfo?.bootId).toMatch(/^[0-9a-f-]{36}$/);
    const names = reg?.agentInfo?.resources.map((r) => `${r.name}:${r.scalar || JSON.stringify(r.ranges)}`);
    expect(names).toEqual(expect.arrayContaining(['cpus:4', 'mem:4096', 'ports:[{"begin":31000,"end":32000}]']));

    h.master.runTask(shellTask('hello', 'echo hello'));
    const finished = await h.master.waitForUpdate('hello', S.TASK_FINISHED);
    expect(states(h, 'hello')).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_FINISHED]);
    expect(finished.status).toMatchObject({ source: TaskStatus_Source.SOURCE_EXECUTOR, exitCode: 0, message: 'Command exited with status 0', agentId: { value: 'agent-1' } });
    const sandbox = finished.status?.containerStatus?.sandbox ?? '';
    expect(sandbox).toMatch(new RegExp(`^${h.workDir}/slaves/agent-1/frameworks/fw-1/executors/hello/runs/[0-9a-f-]{36}$`));
    expect(finished.status?.containerStatus?.executorPid).toBeGreaterThan(0);
    for (const u of h.master.updatesOf('hello')) expect(u.status?.containerStatus?.sandbox).toBe(sandbox);
    expect(await readFile(join(sandbox, 'stdout'), 'utf8')).toBe('hello\n');
    await stat(join(sandbox, 'stderr'));
    // The executor exits once its last update is acknowledged.
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'hello'), { what: 'ExecutorExited' });
    expect(h.master.exited[0]).toMatchObject({ status: 0, signal: '' });
  });

  it('reports TASK_FAILED with the exit code for `exit 3`', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('three', 'echo oops >&2; exit 3'));
    const failed = await h.master.waitForUpdate('three', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ exitCode: 3, message: 'Command exited with status 3' });
    expect(await readFile(join(failed.status?.containerStatus?.sandbox ?? '', 'stderr'), 'utf8')).toContain('oops\n');
  });

  it('reports the signal of a task killed by one', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('segv', 'kill -SEGV $$'));
    const failed = await h.master.waitForUpdate('segv', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ signal: 'SIGSEGV', message: 'Command terminated with signal SIGSEGV' });
    expect(failed.status?.exitCode).toBeUndefined();
  });

  it('gives the task its environment: MESO_*, HOST, PORT0..n and PORTS from its port ranges', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    const script = 'echo "$MESO_TASK_ID|$MESO_FRAMEWORK_ID|$MESO_EXECUTOR_ID|$MESO_SANDBOX|$MESO_AGENT_ENDPOINT|$HOST|$PORT0|$PORT1|$PORT2|$PORTS|${MESO_EXECUTOR_TOKEN:-none}|$GREETING|$(pwd)"';
    const task = shellTask('env', script);
    task.resources.push(portsResource([[31005, 31006], [31100, 31100]]));
    task.command!.environment.push({ name: 'GREETING', value: 'hi there' });
    h.master.runTask(task);
    const done = await h.master.waitForUpdate('env', S.TASK_FINISHED);
    const sandbox = done.status?.containerStatus?.sandbox ?? '';
    const out = (await readFile(join(sandbox, 'stdout'), 'utf8')).trim();
    expect(out).toBe(['env', 'fw-1', 'env', sandbox, `127.0.0.1:${h.agent.port}`, 'test-host', '31005', '31006', '31100', '31005,31006,31100', 'none', 'hi there', sandbox].join('|'));
  });

  it('kills a running task: TASK_KILLING then TASK_KILLED, and its whole process group is gone', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('sleeper', 'echo $$ > pid; sleep 600 & sleep 600; wait'), frameworkInfo({ capabilities: KILLING_CAPABLE }));
    const running = await h.master.waitForUpdate('sleeper', S.TASK_RUNNING);
    const sandbox = running.status?.containerStatus?.sandbox ?? '';
    const pgid = await waitFor(() => h.pidFile(sandbox), { what: 'the task pid file' });
    expect(groupAlive(pgid)).toBe(true);
    h.master.kill('sleeper');
    const killed = await h.master.waitForUpdate('sleeper', S.TASK_KILLED);
    expect(states(h, 'sleeper')).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_KILLING, S.TASK_KILLED]);
    expect(killed.status?.signal).toBe('SIGTERM');
    await waitFor(() => !groupAlive(pgid), { what: 'the task process group to be gone', timeoutMs: 5_000 });
  });

  it('SIGKILLs a task that ignores SIGTERM after the grace period', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('stubborn', "trap '' TERM; echo $$ > pid; while true; do sleep 0.1; done"));
    const running = await h.master.waitForUpdate('stubborn', S.TASK_RUNNING);
    const pgid = await waitFor(() => h.pidFile(running.status?.containerStatus?.sandbox ?? ''), { what: 'the task pid file' });
    const started = Date.now();
    h.master.kill('stubborn', 1);
    const killed = await h.master.waitForUpdate('stubborn', S.TASK_KILLED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(killed.status?.signal).toBe('SIGKILL');
    // No TASK_KILLING: the framework lacks the capability.
    expect(states(h, 'stubborn')).toEqual([S.TASK_STARTING, S.TASK_RUNNING, S.TASK_KILLED]);
    await waitFor(() => !groupAlive(pgid), { what: 'the task process group to be gone', timeoutMs: 5_000 });
  });

  it('re-sends an update until the framework acknowledges it, then sends the next', async () => {
    h = await new Harness().start({ master: { autoAck: false }, agent: { statusUpdateRetryMs: 200 } });
    await h.agent.registered();
    h.master.runTask(shellTask('acked', 'echo hi'));
    await waitFor(() => h.master.updatesOf('acked').length >= 3, { what: 'three sends of the first update' });
    const sent = h.master.updatesOf('acked');
    expect(new Set(sent.map((u) => u.status?.uuid)).size).toBe(1);
    expect(sent.every((u) => u.status?.state === S.TASK_STARTING)).toBe(true);
    // The executor has finished meanwhile: the master learns it from latest_state.
    await waitFor(() => h.master.updatesOf('acked').at(-1)?.latestState === S.TASK_FINISHED, { what: 'latest_state FINISHED' });
    h.master.ack(sent[0]!);
    const running = await h.master.waitForUpdate('acked', S.TASK_RUNNING);
    h.master.ack(running);
    const finished = await h.master.waitForUpdate('acked', S.TASK_FINISHED);
    h.master.ack(finished);
    const count = h.master.updatesOf('acked').length;
    await new Promise((r) => setTimeout(r, 700)); // several retry periods: nothing more is sent
    expect(h.master.updatesOf('acked').length).toBe(count);
  });

  it('fails the task with a clear message when its user does not exist', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    h = await new Harness().start();
    await h.agent.registered();
    const task = shellTask('nouser', 'id');
    task.command!.user = 'no-such-user-meso';
    h.master.runTask(task);
    const failed = await h.master.waitForUpdate('nouser', S.TASK_FAILED);
    expect(failed.status?.message).toBe("Failed to launch the task: user 'no-such-user-meso' does not exist on this agent");
  });

  it('runs the task as the framework user when the agent runs as root', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('asnobody', 'id -un; touch mine'), frameworkInfo({ user: 'nobody' }));
    const done = await h.master.waitForUpdate('asnobody', S.TASK_FINISHED);
    expect((await readFile(join(done.status?.containerStatus?.sandbox ?? '', 'stdout'), 'utf8')).trim()).toBe('nobody');
  });

  it('close() kills every executor and task: no process is left', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('long', 'echo $$ > pid; sleep 600'));
    const running = await h.master.waitForUpdate('long', S.TASK_RUNNING);
    const pgid = await waitFor(() => h.pidFile(running.status?.containerStatus?.sandbox ?? ''), { what: 'the task pid file' });
    const executorPid = running.status?.containerStatus?.executorPid ?? 0;
    await h.agent.close();
    expect(groupAlive(pgid)).toBe(false);
    expect(groupAlive(executorPid)).toBe(false);
  });
});

describe('agent restart', () => {
  it('recovers the executor of a checkpointing framework: the task keeps running, is re-registered and can be killed', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('kept', 'echo $$ > pid; sleep 600'), frameworkInfo({ checkpoint: true }));
    const running = await h.master.waitForUpdate('kept', S.TASK_RUNNING);
    const pgid = await waitFor(() => h.pidFile(running.status?.containerStatus?.sandbox ?? ''), { what: 'the task pid file' });
    h.track(running.status?.containerStatus?.executorPid ?? 0);
    await h.agent.close({ shutdownExecutors: false });

    await h.startAgent();
    expect(await h.agent.registered()).toBe('agent-1');
    const reg = h.master.registrations.at(-1);
    expect(reg?.agentInfo?.id?.value).toBe('agent-1');
    expect(reg?.tasks.map((t) => [t.taskId?.value, t.state])).toEqual([['kept', S.TASK_RUNNING]]);
    expect(groupAlive(pgid)).toBe(true);
    h.master.kill('kept');
    const killed = await h.master.waitForUpdate('kept', S.TASK_KILLED);
    expect(killed.status?.source).toBe(TaskStatus_Source.SOURCE_EXECUTOR);
    await waitFor(() => !groupAlive(pgid), { what: 'the task to be gone', timeoutMs: 5_000 });
  });

  it('kills the executors of a framework that does not checkpoint, fails their tasks and keeps its id', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('orphan', 'echo $$ > pid; sleep 600'), frameworkInfo({ checkpoint: false }));
    const running = await h.master.waitForUpdate('orphan', S.TASK_RUNNING);
    const pgid = await waitFor(() => h.pidFile(running.status?.containerStatus?.sandbox ?? ''), { what: 'the task pid file' });
    const executorPid = h.track(running.status?.containerStatus?.executorPid ?? 0);
    await h.agent.close({ shutdownExecutors: false });

    await h.startAgent();
    expect(await h.agent.registered()).toBe('agent-1');
    expect(h.master.registrations.at(-1)?.agentInfo?.id?.value).toBe('agent-1');
    const failed = await h.master.waitForUpdate('orphan', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ source: TaskStatus_Source.SOURCE_AGENT, reason: TaskStatus_Reason.REASON_AGENT_RESTARTED });
    expect(failed.status?.containerStatus?.sandbox).toBe(running.status?.containerStatus?.sandbox);
    await waitFor(() => !groupAlive(pgid) && !groupAlive(executorPid), { what: 'the old run to be gone', timeoutMs: 5_000 });
  });
});

describe('agent restart while an executor was starting', () => {
  it('a run checkpointed before its spawn (pid 0): its processes are swept by run id and its task fails', async () => {
    h = await new Harness().start({ agent: { bootId: 'b1' } });
    expect(await h.agent.registered()).toBe('agent-1');
    await h.agent.close();
    const task = shellTask('half', 'sleep 600');
    const store = await FileStateStore.open(join(h.workDir, 'meta'));
    await store.put('runs/run-half', {
      runId: 'run-half',
      pid: 0,
      frameworkId: 'fw-1',
      executorId: 'half',
      sandbox: join(h.workDir, 'sandbox-half'),
      tasks: ['half'],
      token: 'secret',
      kind: 'command',
      executorInfo: ExecutorInfo.toJSON({ ...ExecutorInfo.fromJSON({}), executorId: { value: 'half' } }),
      frameworkInfo: FrameworkInfo.toJSON(frameworkInfo({ checkpoint: true })),
      taskRecords: [{ info: TaskInfo.toJSON(task), state: S.TASK_STAGING, launched: false }],
    });
    await store.close();
    await h.startAgent();
    expect(await h.agent.registered()).toBe('agent-1');
    const failed = await h.master.waitForUpdate('half', S.TASK_FAILED);
    expect(failed.status).toMatchObject({ reason: TaskStatus_Reason.REASON_EXECUTOR_TERMINATED, message: 'the agent stopped while it was starting the executor' });
  });
});

describe('agent removed by the master (AGENT_GONE)', () => {
  it('shuts down its executors, forgets its id and registers afresh as a new agent', async () => {
    h = await new Harness().start();
    expect(await h.agent.registered()).toBe('agent-1');
    h.master.runTask(shellTask('old', 'echo $$ > pid; sleep 600'), frameworkInfo({ checkpoint: true }));
    const running = await h.master.waitForUpdate('old', S.TASK_RUNNING);
    const pgid = await waitFor(() => h.pidFile(running.status?.containerStatus?.sandbox ?? ''), { what: 'the task pid file' });
    h.master.gone.add('agent-1');
    h.master.dropAgent();
    await waitFor(() => h.agent.agentId() === 'agent-2', { what: 'the agent to register as a new one' });
    const gone = h.master.registrations.find((r) => r.agentInfo?.id?.value === 'agent-1' && r.tasks.length === 1);
    expect(gone?.tasks[0]?.taskId?.value).toBe('old');
    const fresh = h.master.registrations.at(-1);
    expect(fresh?.agentInfo?.id).toBeUndefined();
    expect(fresh?.tasks).toEqual([]);
    expect(groupAlive(pgid)).toBe(false);
    expect(h.logs.some((l) => l.includes('the master removed this agent (AGENT_GONE)'))).toBe(true);
    const checkpoint = await waitFor(async () => {
      const text = await readFile(join(h.workDir, 'meta', 'agent.json'), 'utf8').catch(() => '');
      return text.includes('agent-2') && text;
    }, { what: 'the new id in meta/agent.json' });
    expect(checkpoint).not.toContain('agent-1');
  });
});

describe('unreadable checkpoint files', () => {
  it('a corrupt meta/agent.json is named in the log and set aside; the agent registers as a new one', async () => {
    h = await new Harness().start();
    expect(await h.agent.registered()).toBe('agent-1');
    await h.agent.close();
    const file = join(h.workDir, 'meta', 'agent.json');
    await writeFile(file, '{"format":1,"version":1,"sha');
    await h.startAgent();
    expect(await h.agent.registered()).toBe('agent-2');
    expect(h.logs.find((l) => l.includes(`cannot read the agent's checkpoint ${file}`))).toContain('not valid JSON');
    expect(await readFile(`${file}.corrupt`, 'utf8')).toBe('{"format":1,"version":1,"sha');
  });

  it('a corrupt status update stream is named in the log and set aside; the others are still re-sent', async () => {
    h = await new Harness().start({ master: { autoAck: false }, agent: { statusUpdateRetryMs: 60_000 } });
    await h.agent.registered();
    h.master.runTask(shellTask('good', 'exit 0'));
    await h.master.waitForUpdate('good', S.TASK_STARTING);
    await h.agent.close();
    const bad = join(h.workDir, 'meta', 'updates', 'fw-1', 'bad.json');
    await writeFile(bad, 'garbage');
    const before = h.master.updates.length;
    await h.startAgent();
    await h.agent.registered();
    expect(h.logs.find((l) => l.includes(`${bad} is unreadable`))).toBeDefined();
    expect(await readFile(`${bad}.corrupt`, 'utf8')).toBe('garbage');
    await waitFor(() => h.master.updates.slice(before).find((u) => u.status?.taskId?.value === 'good'), { what: 'the good stream re-sent' });
  });
});

describe('agent options', () => {
  it('rejects malformed --resources with an AgentError naming the fragment', async () => {
    const err = await startAgent({ master: '127.0.0.1:5050', port: 0, workDir: '/nonexistent/never-created', resources: 'cpus:abc' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'INVALID_RESOURCES', field: 'resources' });
    expect((err as Error).message).toMatch(/^--resources 'cpus:abc': 'abc' is not a number/);
  });

  it('rejects malformed --attributes and options, naming them', async () => {
    await expect(startAgent({ master: '127.0.0.1:5050', workDir: '/tmp/x', attributes: 'rack' })).rejects.toMatchObject({ code: 'INVALID_ATTRIBUTES', message: expect.stringMatching(/^--attributes 'rack'/) });
    await expect(startAgent({ master: 'nohost', workDir: '/tmp/x' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'master' });
  });

  it('reports a refusal from the master with its reason', async () => {
    h = await new Harness().start({ master: { refuse: 'resources too small' } });
    await expect(h.agent.registered()).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringContaining('resources too small') });
    expect(h.logs.some((l) => l.includes('ERROR') && l.includes('resources too small'))).toBe(true);
  });
});

describe('agent and the master connection', () => {
  it('answers pings and re-registers with the same id and its running tasks after a lost connection', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.send({ $case: 'ping', value: { seq: 41 } });
    await waitFor(() => h.master.pongs.includes(41), { what: 'pong 41' });
    h.master.runTask(shellTask('survivor', 'sleep 600'));
    await h.master.waitForUpdate('survivor', S.TASK_RUNNING);
    h.master.dropAgent();
    const again = await waitFor(() => h.master.registrations[1], { what: 'a re-registration' });
    expect(again.agentInfo?.id?.value).toBe('agent-1');
    expect(again.tasks.map((t) => [t.taskId?.value, t.state])).toEqual([['survivor', S.TASK_RUNNING]]);
    expect(again.tasks[0]?.sandbox).toContain('/executors/survivor/runs/');
    expect(again.frameworks.map((f) => f.id?.value)).toEqual(['fw-1']);
    await waitFor(() => h.master.connected, { what: 'the agent to be registered again' });
    h.master.kill('survivor');
    await h.master.waitForUpdate('survivor', S.TASK_KILLED);
  });

  it('reconnects when pings stop arriving', async () => {
    h = await new Harness().start({ master: { pingIntervalSeconds: 0.2, maxMissedPings: 2 } });
    await h.agent.registered();
    await waitFor(() => h.master.registrations.length >= 2, { what: 'a re-registration after missed pings', timeoutMs: 10_000 });
    expect(h.logs.some((l) => l.includes('no ping from the master'))).toBe(true);
  });
});

