import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, isAlive, restartAgentProcess, signal, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { EventLog, LONG_TASK, executorPid, stateWhere, taskPid } from './support.js';

const framework = (name: string) => ({ name, failoverTimeoutSeconds: 300, checkpoint: true, capabilities: ['PARTITION_AWARE' as const] });

describe('reliable status updates with real processes (Mesos TaskStatusUpdateManagerTest)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('RetryStatusUpdate: an update lost on its way to the framework is re-sent by the agent until acknowledged', async () => {
    const master = await startMasterProcess(cleanup, [], { MESO_FAULT_INJECTION: JSON.stringify([{ drop: 'update', on: 'to_framework', count: 1 }]) });
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('retry') });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'retry-1', resources: { cpus: 0.1, mem: 32 }, command: LONG_TASK }]);
    // The first update (STARTING) is lost. One update per task is in flight at a time, so
    // RUNNING waits behind it: the framework hears nothing until the agent's retry (10 s).
    await stateWhere(master.address, 'the task STARTING at the master', (s) => s.tasks.some((t) => t.id === 'retry-1'));
    expect(fw.updates('retry-1')).toHaveLength(0);
    const starting = await fw.status('retry-1', 'TASK_STARTING', () => true, 0, 40_000);
    expect(starting.uuid).toBeTruthy();
    const running = await fw.status('retry-1', 'TASK_RUNNING');
    expect(running.reason).not.toBe('RECONCILIATION');
    // Acknowledged, so nothing more: killing it gives the next update of the stream, in order.
    await fw.scheduler.kill('retry-1');
    await fw.status('retry-1', 'TASK_KILLED');
    expect(fw.updates('retry-1').map((s) => s.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  });

  it('updates of a task stay in order when the master delays some of them (one in flight per task)', async () => {
    const master = await startMasterProcess(cleanup, [], { MESO_FAULT_INJECTION: JSON.stringify([{ delay: 'update', on: 'to_framework', ms: 400, probability: 0.5 }]) });
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('delayed') });
    const offer = await fw.offer('an offer');
    const ids = ['d-1', 'd-2', 'd-3'];
    await fw.scheduler.launch(offer, ids.map((taskId) => ({ taskId, resources: { cpus: 0.1, mem: 32 }, command: { shell: 'sleep 0.2' } })));
    for (const id of ids) {
      await fw.status(id, 'TASK_FINISHED');
      expect(fw.updates(id).map((s) => s.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    }
  });

  it('DuplicateTerminalUpdateAfterAck: once a terminal update is acknowledged, an agent restart sends nothing more for the task and its resources are released once', async () => {
    const master = await startMasterProcess(cleanup);
    const agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('dup-terminal') });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'short-1', resources: { cpus: 0.5, mem: 64 }, command: { shell: 'true' } }]);
    const finished = await fw.status('short-1', 'TASK_FINISHED');
    expect(finished.uuid).toBeTruthy();
    // The agent retires a stream's checkpoint once its last update is acknowledged.
    const stream = join(agent.workDir, 'meta', 'updates', fw.frameworkId, 'short-1.json');
    await waitFor(`the acknowledgement checkpointed (${stream} removed)`, () => !existsSync(stream));

    await agent.proc.kill9();
    const from = fw.events.length;
    await restartAgentProcess(cleanup, agent);
    // A barrier: the answer to a reconcile comes after anything the restart produced.
    await fw.scheduler.reconcile([{ taskId: 'short-1' }]);
    await fw.status('short-1', 'TASK_FINISHED', (s) => s.reason === 'RECONCILIATION', from);
    expect(fw.updates('short-1').filter((s) => s.reason !== 'RECONCILIATION').map((s) => s.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    const st = await stateWhere(master.address, 'the agent back, nothing used', (s) => s.agents.some((a) => a.id === agent.agentId && a.status === 'ACTIVE'));
    const a = st.agents.find((x) => x.id === agent.agentId);
    expect(a?.resources.used['cpus'] ?? 0).toBe(0);
    expect(st.completedTasks.filter((t) => t.id === 'short-1')).toHaveLength(1);
  });

  // A command task's executor is hosted by the agent; the process killed is the task's wrapper
  // (meso-task), the container's process, as Mesos's command executor process is.
  it('an executor killed -9 fails its task with the reason, and the task process does not outlive it unreported', async () => {
    const master = await startMasterProcess(cleanup);
    await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024');
    const fw = await EventLog.connect(cleanup, { master: master.address, framework: framework('executor-kill') });
    const offer = await fw.offer('an offer');
    await fw.scheduler.launch(offer, [{ taskId: 'victim-1', resources: { cpus: 0.5, mem: 64 }, command: LONG_TASK }]);
    const running = await fw.status('victim-1', 'TASK_RUNNING');
    const task = await taskPid(running.sandbox ?? '');
    const executor = await executorPid(running.sandbox ?? '');
    expect(executor).not.toBe(task);

    signal(executor, 'SIGKILL');
    const failed = await fw.status('victim-1', 'TASK_FAILED');
    expect(failed).toMatchObject({ source: 'AGENT', reason: 'EXECUTOR_TERMINATED' });
    await waitFor('the orphaned task process killed by the agent', () => !isAlive(task));
    await stateWhere(master.address, 'resources released', (s) => s.agents.every((a) => !a.resources.used['cpus']));
  });
});
