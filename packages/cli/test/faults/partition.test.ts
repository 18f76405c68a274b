import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, isAlive, startAgentProcess, startMasterProcess } from '@meso/testing';
import { EventLog, LONG_TASK, stateWhere, taskPid } from './support.js';

const PINGS = ['--agent_ping_timeout', '200ms', '--max_agent_ping_timeouts', '5'];

describe('agent partitions with real processes (Mesos PartitionTest)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('PartitionedSlave: a SIGSTOPped agent misses its pings: offers rescinded, tasks UNREACHABLE (LOST for old frameworks), resources out of the pool; after SIGCONT its tasks are RUNNING again', async () => {
    const master = await startMasterProcess(cleanup, PINGS);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const aware = await EventLog.connect(cleanup, {
      master: master.address,
      framework: { name: 'aware', failoverTimeoutSeconds: 300, checkpoint: true, capabilities: ['PARTITION_AWARE'] },
    });
    const offer = await aware.offer('an offer to the aware framework');
    await aware.scheduler.launch(offer, [{ taskId: 'aware-1', resources: { cpus: 0.5, mem: 64 }, command: LONG_TASK }], { refuseSeconds: 3600 });
    const running = await aware.status('aware-1', 'TASK_RUNNING');
    const old = await EventLog.connect(cleanup, { master: master.address, framework: { name: 'old', failoverTimeoutSeconds: 300, checkpoint: true } });
    const oldOffer = await old.offer('the rest offered to the old framework');
    await old.scheduler.launch(oldOffer, [{ taskId: 'old-1', resources: { cpus: 0.5, mem: 64 }, command: LONG_TASK }]);
    await old.status('old-1', 'TASK_RUNNING');
    // The old framework leaves the rest of the agent on offer: it must be rescinded.
    const outstanding = await old.offer('the rest offered again', (o) => o.id !== oldOffer.id);
    const pid = await taskPid(running.sandbox ?? '');

    agent.proc.pause();
    const unreachable = await aware.status('aware-1', 'TASK_UNREACHABLE');
    expect(unreachable.source).toBe('MASTER');
    await old.status('old-1', 'TASK_LOST');
    await old.event('rescind', (e) => e.offerId === outstanding.id);
    const st = await stateWhere(master.address, 'the agent UNREACHABLE and out of the pool', (s) =>
      s.agents.some((a) => a.id === agent.agentId && a.status === 'UNREACHABLE') && s.outstandingOffers === 0,
    );
    expect(st.tasks.find((t) => t.id === 'aware-1')?.state ?? 'TASK_UNREACHABLE').toBe('TASK_UNREACHABLE');

    const from = aware.events.length;
    agent.proc.resume();
    await aware.status('aware-1', 'TASK_RUNNING', () => true, from);
    await old.status('old-1', 'TASK_RUNNING');
    await stateWhere(master.address, 'the agent ACTIVE with both tasks', (s) =>
      s.agents.some((a) => a.id === agent.agentId && a.status === 'ACTIVE') &&
      ['aware-1', 'old-1'].every((id) => s.tasks.some((t) => t.id === id && t.state === 'TASK_RUNNING')),
    );
    expect(isAlive(pid)).toBe(true);
  });
});
