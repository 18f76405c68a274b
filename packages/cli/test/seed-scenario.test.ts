import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler, type TaskStatus } from '@meso/sdk-scheduler';
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { EventLog } from './event-log.js';

interface AgentStateJson {
  id: string;
  resources: { total: Record<string, number>; used: Record<string, number>; free: Record<string, number> };
}

async function agentState(master: string, agentId: string): Promise<AgentStateJson | undefined> {
  const state = (await (await fetch(`http://${master}/state`)).json()) as { agents: AgentStateJson[] };
  return state.agents.find((a) => a.id === agentId);
}

/** A task that records its pid in its sandbox, then runs until killed. */
const longTask = { shell: 'echo $$ > task.pid; exec sleep 600' };

async function pidOf(status: TaskStatus): Promise<number> {
  const sandbox = status.sandbox ?? '';
  const text = await waitFor(`pid file in ${sandbox}`, async () => (await readFile(join(sandbox, 'task.pid'), 'utf8')).trim() || undefined);
  return Number(text);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the seed scenario (MISSION.md): two-level scheduling with real processes', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('offers an agent to framework 1, the rest to framework 2, and returns a killed task\'s resources', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:4;mem:4096');

    // 1-2. The agent reports 4 CPUs and 4 GB; framework 1 is offered all of it.
    const fw1 = new EventLog(await Scheduler.connect({ master: master.address, framework: { name: 'seed-framework-1' } }));
    cleanup.onCleanup(() => fw1.close());
    const offer1 = await fw1.offer('an offer of the whole agent to framework 1', (o) => o.agentId === agent.agentId);
    expect(offer1.resources.scalar('cpus')).toBe(4);
    expect(offer1.resources.scalar('mem')).toBe(4096);

    // 3. Framework 1 launches <2 CPUs, 1 GB> and <1 CPU, 2 GB>, refusing the rest for a long time.
    await fw1.scheduler.launch(
      offer1,
      [
        { taskId: 'task-1', resources: { cpus: 2, mem: 1024 }, command: longTask },
        { taskId: 'task-2', resources: { cpus: 1, mem: 2048 }, command: longTask },
      ],
      { refuseSeconds: 3600 },
    );
    const running1 = await fw1.status('task-1', 'TASK_RUNNING');
    const running2 = await fw1.status('task-2', 'TASK_RUNNING');

    // 4. The remaining <1 CPU, 1 GB> goes to framework 2, which launches a task in it.
    const fw2 = new EventLog(await Scheduler.connect({ master: master.address, framework: { name: 'seed-framework-2' } }));
    cleanup.onCleanup(() => fw2.close());
    const offer2 = await fw2.offer('the remaining resources offered to framework 2', (o) => o.agentId === agent.agentId);
    expect(offer2.resources.scalar('cpus')).toBe(1);
    expect(offer2.resources.scalar('mem')).toBe(1024);
    await fw2.scheduler.launch(offer2, [{ taskId: 'task-3', resources: { cpus: 1, mem: 1024 }, command: longTask }], { refuseSeconds: 3600 });
    const running3 = await fw2.status('task-3', 'TASK_RUNNING');

    // All three are real processes on this machine.
    const pids = await Promise.all([running1, running2, running3].map(pidOf));
    expect(pids.every(alive)).toBe(true);
    const full = await waitFor('the agent fully used', async () => {
      const a = await agentState(master.address, agent.agentId);
      return a && a.resources.used.cpus === 4 && a.resources.used.mem === 4096 ? a : undefined;
    });
    expect(full.resources.total).toMatchObject({ cpus: 4, mem: 4096 });

    // Killing task 1 ends its process and returns <2 CPUs, 1 GB> to the pool, offered anew.
    await fw1.scheduler.kill('task-1');
    await fw1.status('task-1', 'TASK_KILLED');
    await waitFor('task 1 process gone', () => !alive(pids[0]!));
    const after = await waitFor('resources returned', async () => {
      const a = await agentState(master.address, agent.agentId);
      return a && a.resources.used.cpus === 2 && a.resources.used.mem === 3072 ? a : undefined;
    });
    expect(after.resources.used).toMatchObject({ cpus: 2, mem: 3072 });
    // DRF: framework 2 (dominant share 1/4) is below framework 1 (2/4), so it gets them.
    const offer3 = await fw2.offer('the freed resources offered to framework 2', (o) => o.id !== offer2.id && o.resources.scalar('cpus') === 2);
    expect(offer3.resources.scalar('mem')).toBe(1024);
    expect(alive(pids[1]!) && alive(pids[2]!)).toBe(true);
  });
});
