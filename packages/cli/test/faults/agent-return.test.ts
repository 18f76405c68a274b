import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, isAlive, restartAgentProcess, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { EventLog, LONG_TASK, state, stateWhere, taskPid } from './support.js';

// Found by the chaos soak (tools/chaos): what the master makes of tasks when an agent it gave
// up on (SIGSTOP: UNREACHABLE; SIGKILL: DISCONNECTED) comes back.
const PINGS = ['--agent_ping_timeout', '200ms', '--max_agent_ping_timeouts', '5'];
const AWARE = { name: 'aware', failoverTimeoutSeconds: 300, checkpoint: true, capabilities: ['PARTITION_AWARE' as const] };

function recorded(st: Awaited<ReturnType<typeof state>>, taskId: string): string | undefined {
  return [...st.tasks, ...st.completedTasks].findLast((t) => t.id === taskId)?.state;
}

describe('an agent that comes back (real processes)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('tasks launched on an agent just SIGSTOPped are not UNREACHABLE forever once it is back', async () => {
    const master = await startMasterProcess(cleanup, PINGS);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: AWARE });
    const offer = await fw.offer('an offer');
    agent.proc.pause();
    await fw.scheduler.launch(offer, [{ taskId: 'a-1', resources: { cpus: 0.1, mem: 32 }, command: { shell: 'sleep 0.2' } }]);
    await fw.status('a-1', 'TASK_UNREACHABLE');
    agent.proc.resume();
    // The agent returns without the task (DROPPED), or ran it after all (FINISHED).
    const st = await stateWhere(master.address, 'a-1 ended', (s) => ['TASK_DROPPED', 'TASK_FINISHED'].includes(recorded(s, 'a-1') ?? ''));
    await waitFor('the framework told', () => fw.updates('a-1').at(-1)?.state === recorded(st, 'a-1'));
  });

  it('a task that finished while its agent was SIGSTOPped is FINISHED at the master too', async () => {
    const master = await startMasterProcess(cleanup, PINGS);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: AWARE });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'b-1', resources: { cpus: 0.1, mem: 32 }, command: { shell: 'sleep 1' } }]);
    await fw.status('b-1', 'TASK_RUNNING');
    agent.proc.pause();
    await fw.status('b-1', 'TASK_UNREACHABLE');
    await new Promise((r) => setTimeout(r, 1000));
    agent.proc.resume();
    await fw.status('b-1', 'TASK_FINISHED');
    const st = await stateWhere(master.address, 'b-1 FINISHED in /state', (s) => recorded(s, 'b-1') === 'TASK_FINISHED');
    expect(st.tasks.some((t) => t.id === 'b-1')).toBe(false);
    const from = fw.events.length;
    await fw.scheduler.reconcile([{ taskId: 'b-1' }]);
    expect((await fw.status('b-1', 'TASK_FINISHED', (s) => s.reason === 'RECONCILIATION', from)).source).toBe('MASTER');
  });

  it('a KILL while the agent is SIGSTOPped is carried out when it returns (never KILLED, then RUNNING)', async () => {
    const master = await startMasterProcess(cleanup, PINGS);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: AWARE });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'k-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }]);
    const pid = await taskPid((await fw.status('k-1', 'TASK_RUNNING')).sandbox ?? '');
    agent.proc.pause();
    await fw.status('k-1', 'TASK_UNREACHABLE');
    await fw.scheduler.kill('k-1');
    await fw.status('k-1', 'TASK_UNREACHABLE', (s) => s.reason === 'RECONCILIATION');
    agent.proc.resume();
    const killed = await fw.status('k-1', 'TASK_KILLED');
    expect(killed.source).not.toBe('MASTER');
    await waitFor('the task process gone', () => !isAlive(pid));
    await stateWhere(master.address, 'k-1 KILLED in /state', (s) => recorded(s, 'k-1') === 'TASK_KILLED');
  });

  it('a KILL while the agent process is down is carried out when it is restarted', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: AWARE });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'k-2', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }]);
    const pid = await taskPid((await fw.status('k-2', 'TASK_RUNNING')).sandbox ?? '');
    await agent.proc.kill9();
    await stateWhere(master.address, 'agent disconnected', (s) => s.agents.some((a) => a.status === 'DISCONNECTED'));
    await fw.scheduler.kill('k-2');
    await restartAgentProcess(cleanup, agent);
    const killed = await fw.status('k-2', 'TASK_KILLED');
    expect(killed.source).not.toBe('MASTER');
    await waitFor('the task process gone', () => !isAlive(pid));
    expect(fw.updates('k-2').map((s) => s.state)).not.toContain('TASK_LOST');
  });
});
