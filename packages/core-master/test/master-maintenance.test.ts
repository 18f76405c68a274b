import { credentials } from '@grpc/grpc-js';
import { TaskState, TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { OperatorClient, refusal, TestCluster, unary, waitFor, wireResources } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`http://${cluster!.master.address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('maintenance over HTTP and gRPC', () => {
  it('POST /maintenance/drain kills tasks (AGENT_DRAINING) and stops offers; DRAINED in /state and /metrics; reactivate offers again', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent();
    const fw = await cluster.framework();
    const [offer] = await fw.nextOffers();
    await fw.call('accept', {
      offerIds: [offer?.id],
      operations: [{ type: 1, launch: { taskInfos: [{ name: 't', taskId: { value: 't' }, resources: wireResources({ cpus: 1, mem: 128 }), command: { value: 'sleep 1000' } }] } }],
    });
    await agent.inbox.take((m) => m.message?.$case === 'runTask', 'RunTask');

    const operator = new OperatorClient(cluster.master.address, credentials.createInsecure());
    const events: { event?: { $case: string; value?: { status?: string } } }[] = [];
    const stream = (operator as unknown as { subscribe(req: unknown): NodeJS.ReadableStream & { cancel(): void } }).subscribe({});
    stream.on('data', (e: (typeof events)[number]) => events.push(e));
    stream.on('error', () => undefined);
    onTestFinished(() => {
      stream.cancel();
      operator.close();
    });
    await waitFor(() => events[0]?.event?.$case === 'snapshot', 'SNAPSHOT');

    const res = await post('/maintenance/drain', { agentId: agent.agentId });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ agentId: agent.agentId, status: 'DRAINING' });
    const kill = await agent.inbox.take((m) => m.message?.$case === 'killTask', 'KillTask');
    expect(kill.message?.$case === 'killTask' && kill.message.value.taskId?.value).toBe('t');
    agent.send({ message: { $case: 'statusUpdate', value: { frameworkId: { value: fw.frameworkId }, status: { taskId: { value: 't' }, state: TaskState.TASK_KILLED, uuid: 'k1', source: 2 }, latestState: TaskState.TASK_KILLED } } });
    const killed = await fw.events.take((e) => e.event?.$case === 'update' && e.event.value.status?.state === TaskState.TASK_KILLED, 'TASK_KILLED');
    expect(killed.event?.$case === 'update' && killed.event.value.status?.reason).toBe(TaskStatus_Reason.REASON_AGENT_DRAINING);
    await waitFor(async () => (await cluster!.state()).agents[0]?.status === 'DRAINED', 'DRAINED in /state');
    const statuses = () => events.filter((e) => e.event?.$case === 'agentUpdated').map((e) => e.event?.value?.status);
    await waitFor(() => statuses().includes('DRAINED'), 'agentUpdated DRAINED on the operator stream');
    expect(statuses()).toEqual(['DRAINING', 'DRAINED']);
    expect((await cluster.state()).agents[0]?.maintenance).toBe('DRAINING');
    expect(await (await cluster.http('/metrics')).text()).toContain('meso_master_agents{status="DRAINED"} 1');

    fw.events.items.length = 0;
    const grpc = new OperatorClient(cluster.master.address, credentials.createInsecure());
    try {
      expect(await unary(grpc, 'reactivateAgent', { agentId: { value: agent.agentId } })).toEqual({ agentId: { value: agent.agentId }, status: 'ACTIVE' });
      await fw.nextOffers();
      expect(await refusal(unary(grpc, 'deactivateAgent', { agentId: { value: 'nope' } }))).toMatchObject({ code: 'UNKNOWN_AGENT', field: 'agent_id' });
    } finally {
      grpc.close();
    }
  });

  it('answers bad requests with code and field: unknown agent 404, bad JSON 400, GET 405', async () => {
    cluster = await TestCluster.start();
    const unknown = await post('/maintenance/deactivate', { agentId: 'nope' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'UNKNOWN_AGENT', field: 'agentId' });
    const bad = await post('/maintenance/drain', '{not json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body' });
    const missing = await post('/maintenance/reactivate', {});
    expect(await missing.json()).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'agentId' });
    expect((await cluster.http('/maintenance/drain')).status).toBe(405);
  });
});
