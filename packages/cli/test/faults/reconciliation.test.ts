import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, isAlive, restartAgentProcess, restartMasterProcess, startAgentProcess, startMasterProcess } from '@meso/testing';
import { EventLog, LONG_TASK, stateWhere, taskPid } from './support.js';

const PINGS = ['--agent_ping_timeout', '200ms', '--max_agent_ping_timeouts', '5'];

const framework = (name: string, partitionAware = true) => ({
  name,
  failoverTimeoutSeconds: 300,
  checkpoint: true,
  ...(partitionAware ? { capabilities: ['PARTITION_AWARE' as const] } : {}),
});

describe('reconciliation with real processes (Mesos ReconciliationTest, MasterSlaveReconciliationTest)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('ImplicitNonTerminalTask: an implicit reconcile answers every live task RUNNING with reason RECONCILIATION and nothing to acknowledge', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('implicit') });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [
      { taskId: 'live-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK },
      { taskId: 'done-1', resources: { cpus: 0.1, mem: 32 }, command: { shell: 'true' } },
    ]);
    await fw.status('live-1', 'TASK_RUNNING');
    await fw.status('done-1', 'TASK_FINISHED');
    const from = fw.events.length;
    await fw.scheduler.reconcile();
    const answer = await fw.status('live-1', 'TASK_RUNNING', (s) => s.reason === 'RECONCILIATION', from);
    expect(answer.uuid ?? '').toBe('');
    // Terminal tasks are not part of an implicit answer; an explicit question for one is answered.
    await fw.scheduler.reconcile([{ taskId: 'done-1' }]);
    const terminal = await fw.status('done-1', 'TASK_FINISHED', (s) => s.reason === 'RECONCILIATION', from);
    expect(terminal.uuid ?? '').toBe('');
    expect(fw.events.slice(from).some((e) => e.type === 'update' && e.status.taskId === 'done-1' && e.status.state !== 'TASK_FINISHED')).toBe(false);
  });

  it('UnknownTask: an explicit reconcile of a task the master never heard of is UNKNOWN (partition-aware) or LOST (others)', async () => {
    const master = await startMasterProcess(cleanup);
    const aware = await EventLog.connect(cleanup, { master: master.address, framework: framework('unknown-aware') });
    const old = await EventLog.connect(cleanup, { master: master.address, framework: framework('unknown-old', false) });
    await aware.scheduler.reconcile([{ taskId: 'ghost-1' }]);
    await old.scheduler.reconcile([{ taskId: 'ghost-2', agentId: 'no-such-agent' }]);
    expect((await aware.status('ghost-1', 'TASK_UNKNOWN')).reason).toBe('RECONCILIATION');
    expect((await old.status('ghost-2', 'TASK_LOST')).reason).toBe('RECONCILIATION');
  });

  it('PartitionedAgentThenMasterFailover: a partitioned agent stays UNREACHABLE across a master kill -9, and its task is RUNNING again when it returns', async () => {
    const master = await startMasterProcess(cleanup, PINGS);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('partition-failover'), reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'part-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }]);
    const running = await fw.status('part-1', 'TASK_RUNNING');
    const pid = await taskPid(running.sandbox ?? '');

    agent.proc.pause();
    await fw.status('part-1', 'TASK_UNREACHABLE');
    await stateWhere(master.address, 'the agent UNREACHABLE', (s) => s.agents.some((a) => a.id === agent.agentId && a.status === 'UNREACHABLE'));

    await master.proc.kill9();
    const from = fw.events.length;
    const restarted = await restartMasterProcess(cleanup, master);
    await fw.event('subscribed', (e) => e.reconnected, from);
    // The registry remembers the partition: the new master answers UNREACHABLE, not UNKNOWN.
    await fw.scheduler.reconcile([{ taskId: 'part-1', agentId: agent.agentId }]);
    await fw.status('part-1', 'TASK_UNREACHABLE', (s) => s.reason === 'RECONCILIATION', from);

    agent.proc.resume();
    await fw.status('part-1', 'TASK_RUNNING', () => true, from);
    const st = await stateWhere(restarted.address, 'the agent back and its task RUNNING', (s) =>
      s.agents.some((a) => a.id === agent.agentId && a.status === 'ACTIVE') && s.tasks.some((t) => t.id === 'part-1' && t.state === 'TASK_RUNNING'),
    );
    expect(st.tasks.filter((t) => t.id === 'part-1')).toHaveLength(1);
    expect(isAlive(pid)).toBe(true);
  });

  it('ReconcileLostTask: a launch whose run_task message is dropped is reported as lost once the agent re-registers without it', async () => {
    const master = await startMasterProcess(cleanup, [], { MESO_FAULT_INJECTION: JSON.stringify([{ drop: 'run_task', on: 'to_agent', count: 1 }]) });
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('reconcile-lost', false) });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'dropped-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }]);
    await stateWhere(master.address, 'the task staged at the master', (s) => s.tasks.some((t) => t.id === 'dropped-1'));

    // The agent never got the task; when it re-registers (after a restart) the master learns so.
    await agent.proc.kill9();
    await restartAgentProcess(cleanup, agent);
    // As Mesos's master does: TASK_LOST from the master with reason RECONCILIATION.
    const lost = await fw.status('dropped-1', 'TASK_LOST');
    expect(lost).toMatchObject({ source: 'MASTER', reason: 'RECONCILIATION', agentId: agent.agentId });
    expect(lost.message).toMatch(/does not know/);
    await stateWhere(master.address, 'no resources held for it', (s) => s.tasks.every((t) => t.id !== 'dropped-1') && s.agents.every((a) => !a.resources.used['cpus']));
  });
});
