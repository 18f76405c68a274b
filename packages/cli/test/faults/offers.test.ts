import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startAgentProcess, startMasterProcess } from '@meso/testing';
import { EventLog, stateWhere } from './support.js';

const framework = (name: string) => ({ name, failoverTimeoutSeconds: 300, checkpoint: true, capabilities: ['PARTITION_AWARE' as const] });

describe('offer lifetimes and filters with real processes (Mesos MasterTest, HierarchicalAllocatorTest)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('MasterTest.OfferTimeout: an offer left unanswered is rescinded after --offer_timeout and its resources offered again', async () => {
    const master = await startMasterProcess(cleanup, ['--offer_timeout', '300ms']);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('offer-timeout') });
    const first = await fw.offer('an offer', (o) => o.agentId === agent.agentId);
    const rescind = await fw.event('rescind', (e) => e.offerId === first.id);
    expect(rescind.offerId).toBe(first.id);
    const again = await fw.offer('the same resources offered again', (o) => o.agentId === agent.agentId && o.id !== first.id);
    expect(again.resources.scalar('cpus')).toBe(2);
    // A rescinded offer can no longer be used.
    await expect(fw.scheduler.launch(first, [{ taskId: 't-1', resources: { cpus: 0.1, mem: 32 }, command: { shell: 'true' } }])).rejects.toThrow();
  });

  it('HierarchicalAllocatorTest.OfferFilter: a declined agent is not offered again while its filter lasts; other agents are; REVIVE clears the filter', async () => {
    const master = await startMasterProcess(cleanup);
    const filtered = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const other = await startAgentProcess(cleanup, master.address, 'cpus:1;mem:512');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('offer-filter') });
    const a = await fw.offer('an offer of the filtered agent', (o) => o.agentId === filtered.agentId);
    const b = await fw.offer('an offer of the other agent', (o) => o.agentId === other.agentId);
    await fw.scheduler.decline(a.id, { refuseSeconds: 3600 });
    // The other agent, declined with a short filter, comes back several times: the witness
    // that allocation cycles ran while the filtered agent stayed away.
    const from = fw.events.length;
    await fw.scheduler.decline(b.id, { refuseSeconds: 0.2 });
    for (let round = 0; round < 3; round++) {
      const seen = fw.events.length;
      const again = await fw.offer(`the other agent again (round ${round})`, (o) => o.agentId === other.agentId, seen);
      await fw.scheduler.decline(again.id, { refuseSeconds: 0.2 });
    }
    expect(fw.events.slice(from).some((e) => e.type === 'offers' && e.offers.some((o) => o.agentId === filtered.agentId))).toBe(false);
    const st = await stateWhere(master.address, 'state', () => true);
    expect(st.agents.find((x) => x.id === filtered.agentId)?.status).toBe('ACTIVE');

    const beforeRevive = fw.events.length;
    await fw.scheduler.revive();
    const back = await fw.offer('the filtered agent offered after REVIVE', (o) => o.agentId === filtered.agentId, beforeRevive);
    expect(back.resources.scalar('cpus')).toBe(2);
  });
});
