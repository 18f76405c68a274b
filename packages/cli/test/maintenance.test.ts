import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '@meso/sdk-scheduler';
import { Cleanup, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { EventLog } from './event-log.js';

async function allocationRuns(master: string): Promise<number> {
  const text = await (await fetch(`http://${master}/metrics`)).text();
  return Number(/^meso_master_allocation_runs_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

async function agentStatus(master: string, agentId: string): Promise<string | undefined> {
  const state = (await (await fetch(`http://${master}/state`)).json()) as { agents: Array<{ id: string; status: string }> };
  return state.agents.find((a) => a.id === agentId)?.status;
}

describe('meso agent drain | deactivate | reactivate', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('drains an agent (tasks killed with reason AGENT_DRAINING, no more offers) and reactivates it', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = new EventLog(await Scheduler.connect({ master: master.address, framework: { name: 'maintenance-test' } }));
    cleanup.onCleanup(() => fw.close());
    const offer = await fw.offer('an offer', (o) => o.agentId === agent.agentId);
    await fw.scheduler.launch(offer, [{ taskId: 'web', resources: { cpus: 1, mem: 128 }, command: { shell: 'exec sleep 600' } }]);
    await fw.status('web', 'TASK_RUNNING');

    const drain = cleanup.meso(['agent', 'drain', agent.agentId, '--master', master.address]);
    expect(await drain.exited).toBe(0);
    const killed = await fw.status('web', 'TASK_KILLED');
    expect(killed.reason).toBe('AGENT_DRAINING');
    expect(await waitFor('agent DRAINED', async () => ((await agentStatus(master.address, agent.agentId)) === 'DRAINED' ? true : undefined))).toBe(true);
    // A drained agent is not offered, even to a framework that asks again.
    const offersBefore = fw.offers().length;
    await fw.scheduler.revive();
    const runs = await allocationRuns(master.address);
    await waitFor('three more allocation cycles', async () => (await allocationRuns(master.address)) >= runs + 3 || undefined);
    expect(fw.offers().slice(offersBefore).filter((o) => o.agentId === agent.agentId)).toEqual([]);

    const reactivate = cleanup.meso(['agent', 'reactivate', agent.agentId, '--master', master.address]);
    expect(await reactivate.exited).toBe(0);
    expect(await agentStatus(master.address, agent.agentId)).toBe('ACTIVE');
    await fw.scheduler.revive();
    const again = await fw.offer('an offer after reactivation', (o) => o.agentId === agent.agentId && fw.offers().indexOf(o) >= offersBefore);
    expect(again.resources.scalar('cpus')).toBe(2);
  });

  it('deactivates without touching running tasks, and names an unknown agent', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = new EventLog(await Scheduler.connect({ master: master.address, framework: { name: 'maintenance-test' } }));
    cleanup.onCleanup(() => fw.close());
    const offer = await fw.offer('an offer', (o) => o.agentId === agent.agentId);
    await fw.scheduler.launch(offer, [{ taskId: 'db', resources: { cpus: 1, mem: 128 }, command: { shell: 'exec sleep 600' } }]);
    await fw.status('db', 'TASK_RUNNING');

    const deactivate = cleanup.meso(['agent', 'deactivate', agent.agentId, '--master', master.address]);
    expect(await deactivate.exited).toBe(0);
    expect(await agentStatus(master.address, agent.agentId)).toBe('DEACTIVATED');
    await fw.scheduler.reconcile([{ taskId: 'db' }]);
    const answered = await waitFor('reconciliation answer', () =>
      fw.events.find((e) => e.type === 'update' && e.status.taskId === 'db' && e.status.reason === 'RECONCILIATION'),
    );
    expect(answered.type === 'update' && answered.status.state).toBe('TASK_RUNNING');

    const unknown = cleanup.meso(['agent', 'drain', 'no-such-agent', '--master', master.address]);
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr).toContain('UNKNOWN_AGENT');
  });
});
