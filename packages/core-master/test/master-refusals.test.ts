import { credentials, status } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { startMaster } from '../src/index.js';
import { OperatorClient, refusal, TestCluster, TestFramework, unary, waitFor, wireResources } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('refusals over gRPC carry meso-error-code and meso-error-field', () => {
  it('a call before SUBSCRIBE is NOT_SUBSCRIBED naming context.framework_id', async () => {
    cluster = await TestCluster.start();
    const fw = new TestFramework(new (await import('./harness.js')).SchedulerClient(cluster.master.address, credentials.createInsecure()));
    cluster.frameworks.push(fw);
    fw.frameworkId = 'nobody';
    const r = await refusal(fw.call('revive'));
    expect(r).toMatchObject({ code: 'NOT_SUBSCRIBED', field: 'context.framework_id', grpc: status.FAILED_PRECONDITION });
    expect(r.message).toContain("framework 'nobody' is not known");
  });

  it('a re-subscribe with an unknown framework id fails the stream with UNKNOWN_FRAMEWORK', async () => {
    cluster = await TestCluster.start();
    const fw = new TestFramework(new (await import('./harness.js')).SchedulerClient(cluster.master.address, credentials.createInsecure()));
    cluster.frameworks.push(fw);
    fw.open({ id: { value: 'ghost-0001' } });
    await waitFor(() => fw.events.error, 'the stream to fail');
    const err = fw.events.error as Error & { code: number; metadata: { get(k: string): unknown[] } };
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.metadata.get('meso-error-code')).toEqual(['UNKNOWN_FRAMEWORK']);
    expect(err.metadata.get('meso-error-field')).toEqual(['framework_info.id']);
  });

  it('an agent with malformed resources is refused with code and field, and the stream ends', async () => {
    cluster = await TestCluster.start();
    const error = await cluster.agent({ resources: wireResources({ cpus: -2, mem: 1024 }) }).catch((e: { refused: unknown }) => e.refused);
    expect(error).toMatchObject({ code: 'INVALID_RESOURCES', field: 'agent_info.resources[0].value' });
    await waitFor(() => cluster?.agents[0]?.inbox.ended, 'the link to end');
    const state = await cluster.state();
    expect(state.agents).toEqual([]);
    const metrics = await (await cluster.http('/metrics')).text();
    expect(metrics).toContain('meso_master_call_errors_total{code="INVALID_RESOURCES"} 1');
  });

  it('an agent whose first message is not register is refused', async () => {
    cluster = await TestCluster.start();
    const { TestAgent } = await import('./harness.js');
    const agent = new TestAgent(cluster.master.address);
    cluster.agents.push(agent);
    agent.open();
    agent.send({ message: { $case: 'pong', value: { seq: 1 } } });
    const m = await agent.inbox.take((x) => x.message?.$case === 'refused', 'refused');
    expect(m.message?.$case === 'refused' && m.message.value).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'message' });
  });

  it('an ACCEPT beyond the offer is RESOURCES_EXCEED_OFFER with the shortfall, and the offer stays usable', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent();
    const fw = await cluster.framework();
    const [offer] = await fw.nextOffers();
    const task = (id: string, cpus: number) => ({ name: id, taskId: { value: id }, resources: wireResources({ cpus, mem: 64 }), command: { value: 'true' } });
    const r = await refusal(fw.call('accept', { offerIds: [offer?.id], operations: [{ type: 1, launch: { taskInfos: [task('a', 2), task('b', 3)] } }] }));
    expect(r).toMatchObject({ code: 'RESOURCES_EXCEED_OFFER', field: 'operations[0].launch.task_infos[1].resources', grpc: status.INVALID_ARGUMENT });
    expect(r.message).toContain('cpus: need 3, have 2');
    await fw.call('accept', { offerIds: [offer?.id], operations: [{ type: 1, launch: { taskInfos: [task('a', 2), task('b', 2)] } }] });
    await agent.inbox.take((m) => m.message?.$case === 'runTask', 'RunTask');
  });
});

describe('operator API and shutdown', () => {
  it('serves GetState and GetMetrics over gRPC on the same port', async () => {
    cluster = await TestCluster.start();
    await cluster.agent();
    const client = new OperatorClient(cluster.master.address, credentials.createInsecure());
    try {
      const state = await unary<{ masterId: string; agents: { status: string; info: { hostname: string } }[] }>(client, 'getState', {});
      expect(state.masterId).toBe(cluster.master.masterId);
      expect(state.agents.map((a) => [a.status, a.info.hostname])).toEqual([['ACTIVE', 'agent.test']]);
      const metrics = await unary<{ metrics: { name: string; value: number; labels: { key: string; value: string }[] }[] }>(client, 'getMetrics', {});
      const active = metrics.metrics.find((m) => m.name === 'meso_master_agents' && m.labels.some((l) => l.value === 'ACTIVE'));
      expect(active?.value).toBe(1);
    } finally {
      client.close();
    }
  });

  it('streams a SNAPSHOT, then cluster events, to operator subscribers', async () => {
    cluster = await TestCluster.start();
    const client = new OperatorClient(cluster.master.address, credentials.createInsecure());
    const events: { event?: { $case: string } }[] = [];
    const stream = (client as unknown as { subscribe(req: unknown): NodeJS.ReadableStream & { cancel(): void } }).subscribe({});
    stream.on('data', (e: { event?: { $case: string } }) => events.push(e));
    stream.on('error', () => undefined);
    try {
      await waitFor(() => events[0]?.event?.$case === 'snapshot', 'SNAPSHOT');
      await cluster.agent();
      await cluster.framework();
      await waitFor(() => events.some((e) => e.event?.$case === 'agentAdded') && events.some((e) => e.event?.$case === 'frameworkAdded'), 'agent and framework events');
    } finally {
      stream.cancel();
      client.close();
    }
  });

  it('closes promptly with agents and frameworks still connected', async () => {
    cluster = await TestCluster.start();
    await cluster.agent();
    const fw = await cluster.framework();
    const started = Date.now();
    await cluster.master.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor(() => fw.events.ended, 'the framework stream to end');
    await waitFor(() => cluster?.agents[0]?.inbox.ended, 'the agent link to end');
  });
});

describe('fault injection from the environment', () => {
  it('a malformed MESO_FAULT_INJECTION stops the start, naming the variable', async () => {
    const before = process.env['MESO_FAULT_INJECTION'];
    process.env['MESO_FAULT_INJECTION'] = '[{"delay":"offers"}]';
    const workDir = await mkdtemp(join(tmpdir(), 'meso-master-test-'));
    try {
      await expect(startMaster({ port: 0, workDir, logger: silentLogger })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'MESO_FAULT_INJECTION[0].ms' });
    } finally {
      await rm(workDir, { recursive: true, force: true });
      if (before === undefined) delete process.env['MESO_FAULT_INJECTION'];
      else process.env['MESO_FAULT_INJECTION'] = before;
    }
  });
});
