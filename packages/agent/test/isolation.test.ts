// Process tests of the isolators: real executors and tasks in real cgroups (where this
// machine lets the agent make them, as on the project's CI machine), else the posix
// isolators — each test prints which path it tested.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TaskState, TaskStatus_Reason, TaskStatus_Source } from '@meso/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectMachineCgroups } from '../src/isolation/cgroup-facts.js';
import { agentCgroupName } from '../src/isolation/isolation.js';
import { requireBuiltAgent } from './support/cluster.js';
import { Harness } from './support/harness.js';
import { freePorts, listening } from './support/ports.js';
import { portsResource, shellTask } from './support/tasks.js';
import { frameworkInfo } from './support/test-master.js';
import { waitFor } from './support/wait.js';

const S = TaskState;
const R = TaskStatus_Reason;
const NODE = process.execPath;
/** 8 MB more every 50 ms, touched so that it is resident; prints the time after each step (the last one: when it was still alive). */
const HOG = `exec ${NODE} -e "const a = []; setInterval(() => { a.push(Buffer.alloc(8 << 20, 1)); console.log(Date.now()); }, 50)"`;

/** Milliseconds from the hog's last sign of life (its sandbox's stdout) to its TASK_FAILED. */
async function detectionMs(failed: { status?: { timestamp: number; containerStatus?: { sandbox: string } | undefined } | undefined }): Promise<number> {
  const lines = (await readFile(join(failed.status?.containerStatus?.sandbox ?? '', 'stdout'), 'utf8')).trim().split('\n');
  return (failed.status?.timestamp ?? 0) * 1000 - Number(lines.at(-1));
}

const cgroups = detectMachineCgroups();
const PATH = cgroups.version === 0 ? `posix (cgroups not usable: ${cgroups.reason})` : `cgroups v${cgroups.version}`;
if (cgroups.version === 0 && process.env['MESO_REQUIRE_CGROUPS'] === '1') {
  throw new Error(`MESO_REQUIRE_CGROUPS=1 but this machine's cgroups cannot be used by the agent: ${cgroups.reason}`);
}

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

beforeAll(async () => {
  await requireBuiltAgent();
  console.log(`isolation tests run on the ${PATH} path`);
});

function withScalar(task: ReturnType<typeof shellTask>, name: string, value: number): ReturnType<typeof shellTask> {
  const r = task.resources.find((x) => x.name === name);
  if (r) r.scalar = value;
  else task.resources.push({ name, type: 1, scalar: value, ranges: [], set: [], role: '*', reservations: [], disk: undefined });
  return task;
}

/** The container cgroups of the harness's agent (v1: in the memory hierarchy). */
function runCgroups(): string[] {
  if (cgroups.version === 0) return [];
  const dir = join(cgroups.version === 1 ? cgroups.dirs.memory : cgroups.dir, 'meso', agentCgroupName(h.workDir));
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(dir, d.name));
  } catch {
    return [];
  }
}

describe(`isolation (${PATH})`, () => {
  it('kills a task that allocates past its memory limit: TASK_FAILED, CONTAINER_LIMITATION_MEMORY, from the agent', async () => {
    h = await new Harness().start({ agent: { memoryWatchIntervalMs: 200 } });
    await h.agent.registered();
    expect(h.master.registrations[0]?.agentInfo?.isolators).toEqual(
      cgroups.version === 0 ? ['posix/cpu', 'posix/mem', 'disk/du', 'network/ports'] : ['cgroups/cpu', 'cgroups/mem', 'disk/du', 'network/ports'],
    );
    const hog = HOG;
    h.master.runTask(withScalar(shellTask('hog', hog), 'mem', 64));
    const running = await h.master.waitForUpdate('hog', S.TASK_RUNNING);
    if (cgroups.version !== 0) expect(runCgroups()).toHaveLength(1);
    const failed = await h.master.waitForUpdate('hog', S.TASK_FAILED, 60_000);
    const seconds = (failed.status?.timestamp ?? 0) - (running.status?.timestamp ?? 0);
    console.log(`[${PATH}] memory hog: TASK_RUNNING → TASK_FAILED in ${seconds.toFixed(2)} s, ${(await detectionMs(failed)).toFixed(0)} ms after its last sign of life: ${failed.status?.message}`);
    expect(failed.status).toMatchObject({ reason: R.REASON_CONTAINER_LIMITATION_MEMORY, source: TaskStatus_Source.SOURCE_AGENT });
    expect(failed.status?.message).toMatch(/Memory limit exceeded/);
    // Exactly one terminal update: the limitation won over the executor's own report.
    expect(h.master.updatesOf('hog').filter((u) => u.status?.state === S.TASK_FAILED)).toHaveLength(1);
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'hog'), { what: 'the executor to be gone' });
    await waitFor(() => runCgroups().length === 0, { what: 'the container cgroup to be removed' });
  });

  it('posix isolators (as where cgroups cannot be used): a memory hog is killed by polling; usage is read from /proc', async () => {
    h = await new Harness().start({ agent: { isolation: 'posix,disk/du', memoryWatchIntervalMs: 100, usageIntervalMs: 200 } });
    await h.agent.registered();
    expect(h.master.registrations[0]?.agentInfo?.isolators).toEqual(['posix/cpu', 'posix/mem', 'disk/du']);
    // Cgroups it does not use are not left made.
    if (cgroups.version !== 0) expect(existsSync(join(cgroups.version === 1 ? cgroups.dirs.memory : cgroups.dir, 'meso', agentCgroupName(h.workDir)))).toBe(false);
    h.master.runTask(shellTask('calm', `exec ${NODE} -e "const b = Buffer.alloc(20 << 20, 1); setInterval(() => b[0]++, 1000)"`));
    // The wrapper recording the exit status and its task, with the task's 20 MB resident.
    const calm = await waitFor(
      async () => (await statistics(h)).find((e) => e.executor_id === 'calm' && (e.statistics.processes ?? 0) >= 2 && (e.statistics.mem_rss_bytes ?? 0) > 20 << 20),
      { what: "the task's processes and rss in the statistics" },
    );
    expect(calm.statistics.cpus_user_time_secs).toBeGreaterThan(0);
    const hog = HOG;
    h.master.runTask(withScalar(shellTask('hog', hog), 'mem', 64));
    const running = await h.master.waitForUpdate('hog', S.TASK_RUNNING);
    const failed = await h.master.waitForUpdate('hog', S.TASK_FAILED, 60_000);
    const seconds = (failed.status?.timestamp ?? 0) - (running.status?.timestamp ?? 0);
    console.log(`[posix] memory hog: TASK_RUNNING → TASK_FAILED in ${seconds.toFixed(2)} s, ${(await detectionMs(failed)).toFixed(0)} ms after its last sign of life: ${failed.status?.message}`);
    expect(failed.status).toMatchObject({ reason: R.REASON_CONTAINER_LIMITATION_MEMORY, source: TaskStatus_Source.SOURCE_AGENT });
    // The task's own 64 MB: no executor process shares the container (its command executor runs in the agent).
    expect(failed.status?.message).toMatch(/over its limit of 64 MB/);
    // The other container is untouched.
    expect(h.master.updatesOf('calm').map((u) => u.status?.state)).toEqual([S.TASK_STARTING, S.TASK_RUNNING]);
    h.master.kill('calm');
    await h.master.waitForUpdate('calm', S.TASK_KILLED);
  });

  it('holds a cpu-bound task with a 0.5 cpu hard limit to about half a core (measured over the container)', async () => {
    h = await new Harness().start({ agent: { cgroupsEnableCfs: true } });
    await h.agent.registered();
    h.master.runTask(withScalar(shellTask('spin', 'while :; do :; done'), 'cpus', 0.5));
    const running = await h.master.waitForUpdate('spin', S.TASK_RUNNING);
    const runId = basename(running.status?.containerStatus?.sandbox ?? '');
    const cpu = async (): Promise<{ t: number; secs: number; throttled: number }> => {
      const [e] = await statistics(h);
      return { t: Date.now(), secs: (e?.statistics.cpus_user_time_secs ?? 0) + (e?.statistics.cpus_system_time_secs ?? 0), throttled: await throttledPeriods(runId) };
    };
    // Windows of 2 s until one shows the loop at work (a loaded machine may starve it for a
    // while); none may show more than the limit.
    const shares: string[] = [];
    let prev = await cpu();
    const window = await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 2_000)); // the measurement window itself
        const next = await cpu();
        const share = (next.secs - prev.secs) / ((next.t - prev.t) / 1000);
        const throttled = next.throttled - prev.throttled;
        prev = next;
        shares.push(share.toFixed(3));
        if (cgroups.version !== 0) expect(share, `a window used ${share.toFixed(3)} of a core, over the 0.5 limit`).toBeLessThanOrEqual(0.6);
        return share > 0.2 ? { share, throttled } : undefined;
      },
      { what: 'a window in which the loop gets cpu (the machine may be saturated)', timeoutMs: 120_000, intervalMs: 0 },
    );
    console.log(`[${PATH}] cpu-bound task, 0.5 cpu hard limit: ${window.share.toFixed(3)} of one core (windows: ${shares.join(', ')}; periods throttled in it: ${window.throttled})`);
    if (cgroups.version !== 0) expect(window.throttled, 'the kernel throttled the container at its quota').toBeGreaterThan(0);
    else console.log(`[${PATH}] no hard cpu limit on the posix path: only the measurement is checked`);
    h.master.kill('spin');
    await h.master.waitForUpdate('spin', S.TASK_KILLED);
  });

  it('kills a task whose sandbox grows past its disk: CONTAINER_LIMITATION_DISK', async () => {
    h = await new Harness().start({ agent: { diskWatchIntervalMs: 200 } });
    await h.agent.registered();
    h.master.runTask(withScalar(shellTask('filler', 'head -c 4194304 /dev/urandom > big; sleep 600'), 'disk', 1));
    const failed = await h.master.waitForUpdate('filler', S.TASK_FAILED, 30_000);
    console.log(`[${PATH}] disk: ${failed.status?.message}`);
    expect(failed.status).toMatchObject({ reason: R.REASON_CONTAINER_LIMITATION_DISK, source: TaskStatus_Source.SOURCE_AGENT });
    expect(failed.status?.message).toMatch(/exceeds the container's disk of 1 MB/);
  });

  it('kills a task listening on a port it was not given (the message names the port); a task on its own port runs on', async () => {
    const [given, other, ok] = (await freePorts(3)) as [number, number, number];
    h = await new Harness().start({ agent: { portsWatchIntervalMs: 200, resources: 'cpus:4;mem:4096;ports:[31000-32000]' } });
    await h.agent.registered();
    const listen = (port: number): string => `exec ${NODE} -e "require('net').createServer().listen(${port}, '127.0.0.1')"`;
    const thief = shellTask('thief', listen(other));
    thief.resources.push(portsResource([[given, given]]));
    const honest = shellTask('honest', listen(ok));
    honest.resources.push(portsResource([[ok, ok]]));
    h.master.runTask(thief);
    h.master.runTask(honest);
    const failed = await h.master.waitForUpdate('thief', S.TASK_FAILED, 30_000);
    console.log(`[${PATH}] ports: ${failed.status?.message}`);
    expect(failed.status).toMatchObject({ reason: R.REASON_CONTAINER_LIMITATION, source: TaskStatus_Source.SOURCE_AGENT });
    expect(failed.status?.message).toContain(`port ${other}`);
    // The honest task has been checked several times by now (every 200 ms) and runs on.
    await h.master.waitForUpdate('honest', S.TASK_RUNNING);
    await waitFor(async () => (await listening(ok)) && h.master.updatesOf('honest').length >= 2, { what: 'the honest task to listen' });
    await new Promise((r) => setTimeout(r, 1_000)); // five checks of its ports
    expect(h.master.updatesOf('honest').map((u) => u.status?.state)).toEqual([S.TASK_STARTING, S.TASK_RUNNING]);
  });

  it('refuses a task given ports outside the agent\'s ports resource', async () => {
    h = await new Harness().start({ agent: { resources: 'cpus:4;mem:4096;ports:[31000-31010]' } });
    await h.agent.registered();
    const task = shellTask('outside', 'true');
    task.resources.push(portsResource([[31005, 31020]]));
    h.master.runTask(task);
    const error = await h.master.waitForUpdate('outside', S.TASK_ERROR);
    expect(error.status).toMatchObject({ reason: R.REASON_TASK_INVALID, message: "ports [31005-31020] are not within the agent's ports [31000-31010]" });
  });

  it('runs each executor in a pid namespace of its own: a task sees only its own container\'s processes, and kills still work', async () => {
    const base = cgroups.version === 0 ? 'posix' : 'cgroups';
    h = await new Harness().start({ agent: { isolation: `${base},namespaces/pid` } });
    await h.agent.registered();
    expect(h.master.registrations[0]?.agentInfo?.isolators).toContain('namespaces/pid');
    h.master.runTask(shellTask('sleeper', 'exec sleep 987654'));
    await h.master.waitForUpdate('sleeper', S.TASK_RUNNING);
    h.master.runTask(shellTask('looker', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done'));
    const done = await h.master.waitForUpdate('looker', S.TASK_FINISHED);
    const seen = await readFile(join(done.status?.containerStatus?.sandbox ?? '', 'stdout'), 'utf8');
    console.log(`[${PATH}] processes a task sees in its pid namespace:\n${seen}`);
    // Process 1 of the namespace: the wrapper that records the task's exit status (the command executor runs in the agent).
    expect(seen).toContain('meso-task');
    expect(seen).not.toContain('987654');
    expect(seen.trim().split('\n').length).toBeLessThan(8);
    h.master.kill('sleeper');
    await h.master.waitForUpdate('sleeper', S.TASK_KILLED);
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'sleeper'), { what: 'the sleeper executor to be gone' });
  });

  it('a run in a pid namespace is recovered after an agent restart, and a kill still reaches its task', async () => {
    const base = cgroups.version === 0 ? 'posix' : 'cgroups';
    h = await new Harness().start({ agent: { isolation: `${base},namespaces/pid` } });
    await h.agent.registered();
    h.master.runTask(shellTask('ns-keeper', 'exec sleep 876543'), frameworkInfo({ checkpoint: true }));
    const running = await h.master.waitForUpdate('ns-keeper', S.TASK_RUNNING);
    await h.agent.close({ shutdownExecutors: false });
    await h.startAgent();
    await h.agent.registered();
    await waitFor(() => h.master.registrations.at(-1)?.tasks.some((t) => t.taskId?.value === 'ns-keeper'), { what: 'the re-registration to list the recovered task' });
    h.master.kill('ns-keeper');
    await h.master.waitForUpdate('ns-keeper', S.TASK_KILLED);
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'ns-keeper'), { what: 'the executor to be gone' });
    // Nothing of the namespace is left: its sleep carried the run's marker.
    const pid = running.status?.containerStatus?.executorPid ?? 0;
    await waitFor(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), { what: 'the executor process to be gone' });
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain('sleep 876543');
  });

  it('shows each executor\'s usage at GET /monitor/statistics and sends it to the master', async () => {
    h = await new Harness().start({ agent: { usageIntervalMs: 300 } });
    await h.agent.registered();
    h.master.runTask(shellTask('busy', `exec ${NODE} -e "const b = Buffer.alloc(20 << 20, 1); const end = Date.now() + 600; while (Date.now() < end); setInterval(() => b[0]++, 1000)"`));
    await h.master.waitForUpdate('busy', S.TASK_RUNNING);
    const entry = await waitFor(
      async () => (await statistics(h)).find((e) => e.executor_id === 'busy' && (e.statistics.cpus_user_time_secs ?? 0) > 0.3 && (e.statistics.mem_rss_bytes ?? 0) > 20 << 20),
      { what: 'statistics with the task\'s cpu time and rss' },
    );
    console.log(`[${PATH}] /monitor/statistics: ${JSON.stringify(entry)}`);
    expect(entry).toMatchObject({ framework_id: 'fw-1', source: 'busy' });
    expect(entry.statistics).toMatchObject({ cpus_limit: 0.1, mem_limit_bytes: 32 * 1024 * 1024 });
    expect(entry.statistics.processes).toBeGreaterThanOrEqual(2);
    const report = await waitFor(() => h.master.usage.flatMap((u) => u.executors).find((e) => e.executorId?.value === 'busy' && (e.statistics?.memRssBytes ?? 0) > 0), {
      what: 'a usage report to the master',
    });
    expect(report.allocated.map((r) => r.name)).toEqual(expect.arrayContaining(['cpus', 'mem']));
    h.master.kill('busy');
    await h.master.waitForUpdate('busy', S.TASK_KILLED);
  });

  it('at a restart, keeps the cgroups of recovered runs and removes those of runs that are gone', async () => {
    h = await new Harness().start();
    await h.agent.registered();
    h.master.runTask(shellTask('keeper', 'exec sleep 600'), frameworkInfo({ checkpoint: true }));
    h.master.runTask(shellTask('goner', 'exec sleep 600'), frameworkInfo({ checkpoint: true }));
    const keeper = await h.master.waitForUpdate('keeper', S.TASK_RUNNING);
    const goner = await h.master.waitForUpdate('goner', S.TASK_RUNNING);
    if (cgroups.version !== 0) expect(runCgroups()).toHaveLength(2);
    // The agent goes away leaving its executors; one of them dies meanwhile (its cgroup stays behind).
    await h.agent.close({ shutdownExecutors: false });
    process.kill(-(goner.status?.containerStatus?.executorPid ?? 0), 'SIGKILL');
    // An agent that died elsewhere left its (empty) cgroup: swept at the next start of any agent.
    const dead = cgroups.version === 0 ? undefined : join(cgroups.version === 1 ? cgroups.dirs.memory : cgroups.dir, 'meso', 'agent-000000000000');
    if (dead) mkdirSync(dead, { recursive: true });
    await h.startAgent();
    await h.agent.registered();
    const keeperRun = basename(keeper.status?.containerStatus?.sandbox ?? '');
    await waitFor(() => runCgroups().every((d) => basename(d) === keeperRun), { what: "the gone run's cgroup to be removed" });
    if (cgroups.version !== 0) expect(runCgroups().map((d) => basename(d))).toEqual([keeperRun]);
    if (dead) expect(existsSync(dead)).toBe(false);
    await waitFor(async () => (await statistics(h)).some((e) => e.executor_id === 'keeper'), { what: 'the recovered run to be isolated (and monitored) again' });
    h.master.kill('keeper');
    await h.master.waitForUpdate('keeper', S.TASK_KILLED);
    await waitFor(() => runCgroups().length === 0, { what: "the recovered run's cgroup to be removed when it ends" });
  });
});

/** Periods in which the kernel throttled the container's cpu (cpu.stat nr_throttled); 0 without cgroups. */
async function throttledPeriods(runId: string): Promise<number> {
  if (cgroups.version === 0) return 0;
  const file = join(cgroups.version === 1 ? cgroups.dirs.cpu : cgroups.dir, 'meso', agentCgroupName(h.workDir), runId, 'cpu.stat');
  return existsSync(file) ? Number(/nr_throttled (\d+)/.exec(await readFile(file, 'utf8'))?.[1] ?? 0) : 0;
}

/** GET /monitor/statistics of the harness's agent. */
async function statistics(h: Harness): Promise<Array<{ executor_id: string; framework_id: string; source: string; statistics: Record<string, number> }>> {
  const res = await fetch(`http://${h.agent.endpoint}/monitor/statistics`);
  expect(res.status).toBe(200);
  return (await res.json()) as Array<{ executor_id: string; framework_id: string; source: string; statistics: Record<string, number> }>;
}
