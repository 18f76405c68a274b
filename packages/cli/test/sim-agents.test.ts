import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '@meso/sdk-scheduler';
import { Cleanup, restartMasterProcess, startMasterProcess, waitFor } from '@meso/testing';
import { startSimAgents } from '../src/sim/sim-agents.js';
import { EventLog } from './event-log.js';

interface State {
  agents: { id: string; status: string }[];
  tasks: { id: string; state: string }[];
}
const state = async (master: string): Promise<State> => (await (await fetch(`http://${master}/state`)).json()) as State;

describe('simulated agents (meso sim-agents) against a real master', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('register over AgentLink, acknowledge launches and kills, and come back with their tasks after a master restart', async () => {
    let master = await startMasterProcess(cleanup, [], { MESO_LOG_LEVEL: 'warn' });
    const fleet = startSimAgents({ master: master.address, count: 120, agentsPerChannel: 50, resources: 'cpus:2;mem:2048' });
    cleanup.onCleanup(async () => fleet.close());
    await fleet.waitRegistered(60_000);
    expect((await state(master.address)).agents.filter((a) => a.status === 'ACTIVE')).toHaveLength(120);

    const fw = new EventLog(await Scheduler.connect({ master: master.address, framework: { name: 'sim-test', failoverTimeoutSeconds: 600 } }));
    cleanup.onCleanup(() => fw.close());
    const offer = await fw.offer('an offer', () => true);
    await fw.scheduler.launch(offer, [
      { taskId: 'long-1', resources: { cpus: 0.5, mem: 64 }, command: { shell: 'sleep 600' } },
      { taskId: 'long-2', resources: { cpus: 0.5, mem: 64 }, command: { shell: 'sleep 600' } },
    ]);
    await fw.status('long-1', 'TASK_RUNNING');
    await fw.status('long-2', 'TASK_RUNNING');
    await fw.scheduler.kill('long-2');
    await fw.status('long-2', 'TASK_KILLED');

    master.proc.kill9();
    await waitFor('the fleet to notice', () => fleet.registeredCount() === 0 || undefined, 60_000);
    master = await restartMasterProcess(cleanup, master);
    await fleet.waitRegistered(60_000);
    const after = await waitFor('the task known again', async () => {
      const s = await state(master.address);
      return s.tasks.some((t) => t.id === 'long-1') ? s : undefined;
    });
    expect(after.agents.filter((a) => a.status === 'ACTIVE')).toHaveLength(120);
    expect(after.tasks.map((t) => [t.id, t.state])).toEqual([['long-1', 'TASK_RUNNING']]);
  });

  it('finish tasks after task_seconds', async () => {
    const master = await startMasterProcess(cleanup, [], { MESO_LOG_LEVEL: 'warn' });
    const fleet = startSimAgents({ master: master.address, count: 3, taskSeconds: 0.2 });
    cleanup.onCleanup(async () => fleet.close());
    await fleet.waitRegistered(60_000);
    const fw = new EventLog(await Scheduler.connect({ master: master.address, framework: { name: 'sim-short' } }));
    cleanup.onCleanup(() => fw.close());
    const offer = await fw.offer('an offer', () => true);
    await fw.scheduler.launch(offer, [{ taskId: 'short', resources: { cpus: 1, mem: 64 }, command: { shell: 'true' } }]);
    await fw.status('short', 'TASK_RUNNING');
    const done = await fw.status('short', 'TASK_FINISHED');
    expect(done.agentId).toBe(offer.agentId);
    expect(fleet.launched.count).toBe(1);
  });
});
