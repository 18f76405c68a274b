// Master restarts, partitions and agent removal over loopback (ReconciliationTest,
// MasterSlaveReconciliationTest and PartitionTest scenarios of Mesos, master side).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FrameworkInfo_Capability, silentLogger, TaskState, TaskStatus_Reason } from '@meso/proto';
import { FileStateStore, LogStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { startMaster, type MasterOptions } from '../src/index.js';
import { TestCluster, TestFramework, waitFor } from './harness.js';
import { launchTask, nextUpdate, reportedTask, sendStatus } from './scenarios.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const AWARE = { capabilities: [FrameworkInfo_Capability.PARTITION_AWARE] };

async function resubscribe(c: TestCluster, id: string, info: Record<string, unknown> = {}): Promise<TestFramework> {
  const fw = await TestFramework.subscribe(c.master.address, { id: { value: id }, failoverTimeout: 60, ...info });
  c.frameworks.push(fw);
  return fw;
}

/** One agent running task 't' of one framework, RUNNING and acknowledged. */
async function running(options: Partial<MasterOptions>, info: Record<string, unknown> = {}) {
  cluster = await TestCluster.start(options);
  const agent = await cluster.agent();
  const fw = await cluster.framework({ failoverTimeout: 60, ...info });
  await launchTask(fw, agent, 't');
  sendStatus(agent, fw.frameworkId, 't', TaskState.TASK_RUNNING, 'u1');
  await nextUpdate(fw, 't', TaskState.TASK_RUNNING);
  await fw.call('acknowledge', { agentId: { value: agent.agentId }, taskId: { value: 't' }, uuid: 'u1' });
  return { c: cluster, agent, fw };
}

describe('master restart', () => {
  it('nothing running is lost or duplicated: the agent re-registers with its task, the framework re-subscribes, and a reconciliation sent before the agent returned is answered RUNNING, not LOST', async () => {
    const options = { agentReregisterTimeoutMs: 10_000 };
    const { c, agent, fw } = await running(options);
    await c.restart(options);
    const again = await resubscribe(c, fw.frameworkId);
    expect((await c.state()).agents.map((a) => a.status)).toEqual(['RECOVERING']);
    await again.call('reconcile', { tasks: [{ taskId: { value: 't' }, agentId: { value: agent.agentId } }] });
    expect(await (await c.http('/metrics')).text()).toContain('meso_master_reconciliations_deferred 1');
    await c.agent({ id: { value: agent.agentId } }, { tasks: [reportedTask(fw.frameworkId, 't')] });
    const answer = await nextUpdate(again, 't');
    expect(answer).toMatchObject({ state: TaskState.TASK_RUNNING, reason: TaskStatus_Reason.REASON_RECONCILIATION });
    const s = await c.state();
    expect(s.agents.map((a) => [a.id, a.status, a.resources.used.cpus])).toEqual([[agent.agentId, 'ACTIVE', 1]]);
    expect(s.tasks.map((t) => [t.id, t.state])).toEqual([['t', 'TASK_RUNNING']]);
    expect(s.frameworks.map((f) => [f.id, f.connected])).toEqual([[fw.frameworkId, true]]);
  });

  it('an agent that does not re-register within agentReregisterTimeoutMs is UNREACHABLE; reconciling its task answers UNREACHABLE', async () => {
    const options = { agentReregisterTimeoutMs: 200 };
    const { c, agent, fw } = await running(options, AWARE);
    await c.restart(options);
    const again = await resubscribe(c, fw.frameworkId, AWARE);
    await waitFor(async () => (await c.state()).agents[0]?.status === 'UNREACHABLE', 'the agent to be unreachable');
    await again.call('reconcile', { tasks: [{ taskId: { value: 't' }, agentId: { value: agent.agentId } }] });
    expect(await nextUpdate(again, 't')).toMatchObject({ state: TaskState.TASK_UNREACHABLE, reason: TaskStatus_Reason.REASON_RECONCILIATION });
  });

  it('ReconciliationTest.PartitionedAgentThenMasterFailover: a partitioned agent returns to a restarted master and its task is RUNNING again', async () => {
    const options = { agentPingIntervalSeconds: 0.05, maxMissedPings: 2 };
    const { c, agent, fw } = await running(options);
    agent.answerPings = false;
    expect(await nextUpdate(fw, 't', TaskState.TASK_LOST)).toMatchObject({ reason: TaskStatus_Reason.REASON_AGENT_DISCONNECTED });
    await c.restart(options);
    const again = await resubscribe(c, fw.frameworkId);
    expect((await c.state()).agents.map((a) => a.status)).toEqual(['UNREACHABLE']);
    await c.agent({ id: { value: agent.agentId } }, { tasks: [reportedTask(fw.frameworkId, 't')] });
    expect(await nextUpdate(again, 't')).toMatchObject({ state: TaskState.TASK_RUNNING });
    const s = await c.state();
    expect(s.agents.map((a) => a.status)).toEqual(['ACTIVE']);
    expect(s.tasks.map((t) => [t.id, t.state])).toEqual([['t', 'TASK_RUNNING']]);
  });

  it('a master started on a registry of the older file-per-key layout keeps its agents and frameworks (migrated on open)', async () => {
    const options = { agentReregisterTimeoutMs: 10_000 };
    const { c, agent, fw } = await running(options);
    await c.master.close();
    const registry = join(c.workDir, 'registry');
    await toFilePerKeyLayout(registry);
    expect((await readdir(join(registry, 'agents'))).length).toBe(1);
    await c.restart(options);
    expect(await readdir(registry)).not.toContain('agents'); // migrated: the old files are gone
    const s = await c.state();
    expect(s.agents.map((a) => [a.id, a.status])).toEqual([[agent.agentId, 'RECOVERING']]);
    expect(s.frameworks.map((f) => f.id)).toEqual([fw.frameworkId]);
    const again = await resubscribe(c, fw.frameworkId);
    await c.agent({ id: { value: agent.agentId } }, { tasks: [reportedTask(fw.frameworkId, 't')] });
    await again.call('reconcile', { tasks: [{ taskId: { value: 't' }, agentId: { value: agent.agentId } }] });
    expect(await nextUpdate(again, 't')).toMatchObject({ state: TaskState.TASK_RUNNING, reason: TaskStatus_Reason.REASON_RECONCILIATION });
    expect((await c.state()).agents.map((a) => [a.id, a.status])).toEqual([[agent.agentId, 'ACTIVE']]);
  });

  it.each([
    ['is truncated', 'state.snapshot', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['was altered (checksum)', 'state.snapshot', (text: string) => text.replace('"name":"test"', '"name":"tampered"')],
  ])('refuses to start on a registry whose snapshot %s, naming the file', async (_what, file, damage) => {
    const { c } = await running({});
    await c.master.close();
    const registry = join(c.workDir, 'registry');
    await toFilePerKeyLayout(registry);
    await (await LogStateStore.open(registry)).close(); // migrated into a snapshot
    const path = join(registry, file);
    const text = await readFile(path, 'utf8');
    const damaged = damage(text);
    expect(damaged).not.toBe(text);
    await writeFile(path, damaged);
    const started = startMaster({ port: 0, workDir: c.workDir, logger: silentLogger });
    await expect(started).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT', field: path });
    await expect(started).rejects.toThrow(path);
  });

  it('refuses to start on a registry log damaged before its last line, naming the file', async () => {
    const { c } = await running({});
    await c.master.close();
    const registry = join(c.workDir, 'registry');
    const log = (await readdir(registry)).find((n) => n.endsWith('.log')) ?? '';
    const path = join(registry, log);
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2); // the agent, then the framework
    await writeFile(path, [(lines[0] ?? '').replace('"status":"ADMITTED"', '"status":"GONE"'), ...lines.slice(1), ''].join('\n'));
    const started = startMaster({ port: 0, workDir: c.workDir, logger: silentLogger });
    await expect(started).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT', field: path });
  });
});

/** Rewrites a registry (closed) in the file-per-key layout masters used before the log. */
async function toFilePerKeyLayout(registry: string): Promise<void> {
  const current = await LogStateStore.open(registry);
  const entries = await current.list('');
  await current.close();
  await rm(registry, { recursive: true });
  const old = await FileStateStore.open(registry);
  for (const e of entries) await old.put(e.key, e.value);
  await old.close();
}

describe('partitions', () => {
  it('MasterSlaveReconciliationTest.ReconcileLostTask: an agent re-registering without a task the master knew makes it LOST', async () => {
    const { c, agent, fw } = await running({});
    agent.drop();
    await waitFor(async () => (await c.state()).agents[0]?.status === 'DISCONNECTED', 'the agent to be disconnected');
    await agent.connect({}, { tasks: [] });
    expect(await nextUpdate(fw, 't')).toMatchObject({ state: TaskState.TASK_LOST, reason: TaskStatus_Reason.REASON_RECONCILIATION });
  });

  it('PartitionTest.PartitionedSlave: missed pings make it unreachable; past agentRemovalTimeoutMs it is GONE and, returning, is told to shut down and refused AGENT_GONE', async () => {
    const { c, agent, fw } = await running({ agentPingIntervalSeconds: 0.05, maxMissedPings: 2, agentRemovalTimeoutMs: 300 }, AWARE);
    agent.answerPings = false;
    expect(await nextUpdate(fw, 't', TaskState.TASK_UNREACHABLE)).toMatchObject({ reason: TaskStatus_Reason.REASON_AGENT_DISCONNECTED });
    await fw.events.take((e) => e.event?.$case === 'failure', 'FAILURE');
    expect(await nextUpdate(fw, 't', TaskState.TASK_GONE)).toMatchObject({ reason: TaskStatus_Reason.REASON_AGENT_REMOVED });
    const s = await c.state();
    expect(s.agents).toEqual([]);
    expect(s.goneAgents.map((g) => g.id)).toEqual([agent.agentId]);

    const err = await agent.connect({}, { tasks: [reportedTask(fw.frameworkId, 't')] }).then(
      () => undefined,
      (e: Error & { refused?: unknown }) => e.refused,
    );
    expect(err).toMatchObject({ code: 'AGENT_GONE', field: 'agent_info.id' });
    const shutdown = agent.inbox.all.find((m) => m.message?.$case === 'shutdownFramework');
    expect(shutdown?.message?.$case === 'shutdownFramework' && shutdown.message.value.frameworkId?.value).toBe(fw.frameworkId);
    expect(agent.inbox.all.findIndex((m) => m.message?.$case === 'shutdownFramework')).toBeLessThan(agent.inbox.all.findIndex((m) => m.message?.$case === 'refused'));
  });
});
