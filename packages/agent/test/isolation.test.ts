// Process tests of the isolators: real executors and tasks in real cgroups (where this
// machine lets the agent make them, as on the project's CI machine), else the posix
// isolators — each test prints which path it tested.
import { existsSync, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { TaskState, TaskStatus_Reason, TaskStatus_Source } from '@meso/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectMachineCgroups } from '../src/isolation/cgroup-facts.js';
import { Harness } from './support/harness.js';
import { portsResource, shellTask } from './support/tasks.js';
import { waitFor } from './support/wait.js';

const S = TaskState;
const R = TaskStatus_Reason;
const NODE = process.execPath;

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
  await stat(new URL('../dist/command-executor/main.js', import.meta.url)).catch(() => {
    throw new Error('build first: npx tsc -b packages/agent/tsconfig.json');
  });
  console.log(`isolation tests run on the ${PATH} path`);
});

function withScalar(task: ReturnType<typeof shellTask>, name: string, value: number): ReturnType<typeof shellTask> {
  const r = task.resources.find((x) => x.name === name);
  if (r) r.scalar = value;
  else task.resources.push({ name, type: 1, scalar: value, ranges: [], set: [], role: '*', reservations: [], disk: undefined });
  return task;
}

/** The container cgroups of the harness's agent (v1: memory hierarchy; v2: the one), by run id. */
function runCgroups(): string[] {
  if (cgroups.version === 0) return [];
  const root = cgroups.version === 1 ? cgroups.dirs.memory : cgroups.dir;
  const meso = join(root, 'meso');
  if (!existsSync(meso)) return [];
  return readdirSync(meso).flatMap((agent) => {
    try {
      return readdirSync(join(meso, agent), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => join(meso, agent, d.name));
    } catch {
      return [];
    }
  });
}

describe(`isolation (${PATH})`, () => {
  it('kills a task that allocates past its memory limit: TASK_FAILED, CONTAINER_LIMITATION_MEMORY, from the agent', async () => {
    h = await new Harness().start({ agent: { memoryWatchIntervalMs: 200 } });
    await h.agent.registered();
    expect(h.master.registrations[0]?.agentInfo?.isolators).toEqual(
      cgroups.version === 0 ? ['posix/cpu', 'posix/mem', 'disk/du', 'network/ports'] : ['cgroups/cpu', 'cgroups/mem', 'disk/du', 'network/ports'],
    );
    // 8 MB more every 50 ms, touched so that it is resident.
    const hog = `exec ${NODE} -e "const a = []; setInterval(() => a.push(Buffer.alloc(8 << 20, 1)), 50)"`;
    h.master.runTask(withScalar(shellTask('hog', hog), 'mem', 64));
    const running = await h.master.waitForUpdate('hog', S.TASK_RUNNING);
    const failed = await h.master.waitForUpdate('hog', S.TASK_FAILED, 60_000);
    const seconds = (failed.status?.timestamp ?? 0) - (running.status?.timestamp ?? 0);
    console.log(`[${PATH}] memory hog: TASK_RUNNING → TASK_FAILED in ${seconds.toFixed(2)} s: ${failed.status?.message}`);
    expect(failed.status).toMatchObject({ reason: R.REASON_CONTAINER_LIMITATION_MEMORY, source: TaskStatus_Source.SOURCE_AGENT });
    expect(failed.status?.message).toMatch(/Memory limit exceeded/);
    // Exactly one terminal update: the limitation won over the executor's own report.
    expect(h.master.updatesOf('hog').filter((u) => u.status?.state === S.TASK_FAILED)).toHaveLength(1);
    await waitFor(() => h.master.exited.find((e) => e.executorId?.value === 'hog'), { what: 'the executor to be gone' });
    await waitFor(() => runCgroups().length === 0, { what: 'the container cgroup to be removed' });
  });
});
