import { credentials } from '@grpc/grpc-js';
import { Offer_Operation_Type as Op, parseResources, resourcesFromWire, resourcesToWire, TaskState, TaskStatus_Source, type TaskStatus } from '@meso/proto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { OperatorClient, refusal, TestAgent, TestCluster, unary, waitFor, type TestFramework } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const wire = (text: string) => resourcesToWire(parseResources(text));
const AGENT = 'cpus:4;mem:4096;disk:1000;ports:[31000-32000]';

function operation(type: Op, text: string) {
  const list = wire(text);
  switch (type) {
    case Op.RESERVE:
      return { type, reserve: { resources: list } };
    case Op.UNRESERVE:
      return { type, unreserve: { resources: list } };
    case Op.CREATE:
      return { type, create: { volumes: list } };
    default:
      return { type, destroy: { volumes: list } };
  }
}

function launch(taskId: string, resources: string) {
  return { type: Op.LAUNCH, launch: { taskInfos: [{ name: taskId, taskId: { value: taskId }, resources: wire(resources), command: { value: 'sleep 100' } }] } };
}

function sendStatus(agent: TestAgent, frameworkId: string, taskId: string, state: TaskState): void {
  const status: Partial<TaskStatus> = {
    taskId: { value: taskId },
    state,
    source: TaskStatus_Source.SOURCE_EXECUTOR,
    uuid: `u-${taskId}-${state}`,
    timestamp: Date.now() / 1000,
    agentId: { value: agent.agentId },
    frameworkId: { value: frameworkId },
  };
  agent.send({ message: { $case: 'statusUpdate', value: { frameworkId: { value: frameworkId }, status: status as TaskStatus, latestState: state } } });
}

async function offerOf(fw: TestFramework) {
  const [offer] = await fw.nextOffers(10_000);
  return { id: offer!.id!.value, resources: resourcesFromWire(offer!.resources).toString() };
}

/** The CheckpointResources the agent received next, as text. */
async function checkpointed(agent: TestAgent): Promise<string> {
  const m = await agent.inbox.take((x) => x.message?.$case === 'checkpointResources', 'CheckpointResources');
  return m.message?.$case === 'checkpointResources' ? resourcesFromWire(m.message.value.resources).toString() : '';
}

async function total(): Promise<Record<string, unknown>> {
  const state = (await cluster!.state()) as unknown as { agents: { resources: { total: Record<string, unknown> } }[] };
  return state.agents[0]!.resources.total;
}

function operator(): InstanceType<typeof OperatorClient> {
  const client = new OperatorClient(cluster!.master.address, credentials.createInsecure());
  onTestFinished(() => client.close());
  return client;
}

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`http://${cluster!.master.address}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('RESERVE / UNRESERVE / CREATE / DESTROY in ACCEPT', () => {
  it('reserves, creates a volume and launches a task on it in one ACCEPT; the agent is told its checkpoint before RunTask', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({ resources: wire(AGENT) });
    const fw = await cluster.framework({ roles: ['web'] });
    const offer = await offerOf(fw);
    await fw.call('accept', {
      offerIds: [{ value: offer.id }],
      operations: [
        operation(Op.RESERVE, 'cpus(web):1;mem(web):256;disk(web):300'),
        operation(Op.CREATE, 'disk(web)[v1:data]:100'),
        launch('t1', 'cpus(web):1;mem(web):128;disk(web)[v1:data]:100'),
      ],
    });
    expect(await checkpointed(agent)).toBe('cpus(web):1;disk(web):300;disk(web)[v1:data]:100;mem(web):256');
    const order = agent.inbox.all.filter((m) => m.message?.$case === 'checkpointResources' || m.message?.$case === 'runTask').map((m) => m.message?.$case);
    expect(order).toEqual(['checkpointResources', 'runTask']);
    expect(await total()).toEqual({ cpus: 3, 'cpus(web)': 1, disk: 700, 'disk(web)': 200, 'disk(web)[v1:data]': 100, mem: 3840, 'mem(web)': 256, ports: '[31000-32000]' });
    const shown = ((await cluster.state()) as unknown as { agents: Record<string, unknown>[] }).agents[0];
    expect(shown).toMatchObject({
      reservedResources: { web: { 'cpus(web)': 1, 'disk(web)': 200, 'disk(web)[v1:data]': 100, 'mem(web)': 256 } },
      volumes: [{ id: 'v1', role: 'web', containerPath: 'data', mode: 'rw', sizeMb: 100 }],
    });

    // The volume is in use: not offered; DESTROY of it is refused naming the task.
    await fw.call('revive', { roles: [] });
    const next = await offerOf(fw);
    expect(next.resources).not.toContain('v1');
    expect(next.resources).toContain('mem(web):128');
    const inUse = await refusal(fw.call('accept', { offerIds: [{ value: next.id }], operations: [operation(Op.DESTROY, 'disk(web)[v1:data]:100')] }));
    expect(inUse).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'operations[0].destroy.volumes[0]' });
    expect(inUse.message).toContain("in use by live task 't1'");

    // The task ends: the volume is offered again (to role web), kept with its data, and can be destroyed.
    sendStatus(agent, fw.frameworkId, 't1', TaskState.TASK_FINISHED);
    await fw.call('decline', { offerIds: [{ value: next.id }], filters: { refuseSeconds: 0 } });
    const again = await waitFor(async () => {
      const o = await offerOf(fw);
      if (o.resources.includes('disk(web)[v1:data]:100')) return o;
      await fw.call('decline', { offerIds: [{ value: o.id }], filters: { refuseSeconds: 0 } });
      return undefined;
    }, 'an offer with the volume', 15_000);
    await fw.call('accept', {
      offerIds: [{ value: again.id }],
      operations: [operation(Op.DESTROY, 'disk(web)[v1:data]:100'), operation(Op.UNRESERVE, 'cpus(web):1;mem(web):256;disk(web):300')],
    });
    expect(await checkpointed(agent)).toBe('');
    expect(await total()).toEqual({ cpus: 4, disk: 1000, mem: 4096, ports: '[31000-32000]' });
    expect(((await cluster.state()) as unknown as { agents: Record<string, unknown>[] }).agents[0]).not.toHaveProperty('volumes');
  });

  it('refuses bad operations naming the field, changing nothing', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({ resources: wire(`${AGENT};cpus(web):1`) });
    const fw = await cluster.framework({ roles: ['web'] });
    const offer = await offerOf(fw);
    const refused = async (operations: unknown[]) => refusal(fw.call('accept', { offerIds: [{ value: offer.id }], operations }));
    const cases: [unknown[], string, string, string][] = [
      [[operation(Op.RESERVE, 'cpus(db):1')], 'INVALID_ARGUMENT', 'operations[0].reserve.resources[0].role', "the offer is allocated to role 'web'"],
      [[operation(Op.RESERVE, 'cpus:1')], 'INVALID_ARGUMENT', 'operations[0].reserve.resources[0].role', 'has no role'],
      [[operation(Op.RESERVE, 'mem(web):1;cpus(web):9')], 'RESOURCES_EXCEED_OFFER', 'operations[0].reserve.resources[0]', 'cpus: need 9, have 4'],
      [[launch('x', 'cpus:1;mem:1'), operation(Op.RESERVE, 'cpus(web):4')], 'RESOURCES_EXCEED_OFFER', 'operations[1].reserve.resources[0]', 'cpus: need 4, have 3'],
      [[operation(Op.UNRESERVE, 'cpus(web):1')], 'INVALID_ARGUMENT', 'operations[0].unreserve.resources[0]', 'static reservation'],
      [[operation(Op.UNRESERVE, 'mem(web):1')], 'INVALID_ARGUMENT', 'operations[0].unreserve.resources[0]', 'not dynamically reserved'],
      [[operation(Op.CREATE, 'disk(web)[v1:data]:100')], 'RESOURCES_EXCEED_OFFER', 'operations[0].create.volumes[0]', 'disk(web): need 100, have 0'],
      [[operation(Op.DESTROY, 'disk(web)[nope:data]:100')], 'INVALID_ARGUMENT', 'operations[0].destroy.volumes[0]', 'no persistent volume'],
      [[launch('x', 'cpus:1;disk(web)[v1:data]:10')], 'RESOURCES_EXCEED_OFFER', 'operations[0].launch.task_infos[0].resources', 'disk(web)[v1:data]: no such persistent volume here'],
    ];
    for (const [ops, code, field, message] of cases) {
      const r = await refused(ops);
      expect({ code: r.code, field: r.field }, JSON.stringify(ops)).toEqual({ code, field });
      expect(r.message).toContain(message);
    }
    // A volume on unreserved disk: the resource itself is refused, naming its volume.
    const unreservedVolume = { ...wire('disk(web)[v1:data]:10')[0]!, role: '' };
    const bad = await refused([{ type: Op.CREATE, create: { volumes: [unreservedVolume] } }]);
    expect(bad).toMatchObject({ code: 'INVALID_RESOURCES', field: 'operations[0].create.volumes[0].volume' });
    // Nothing changed: the offer is still usable, no checkpoint was sent, the total is as registered.
    expect(agent.inbox.all.some((m) => m.message?.$case === 'checkpointResources')).toBe(false);
    await fw.call('accept', {
      offerIds: [{ value: offer.id }],
      operations: [operation(Op.RESERVE, 'disk(web):100'), operation(Op.CREATE, 'disk(web)[v1:data]:50'), operation(Op.CREATE, 'disk(web)[v2:more]:50')],
    });
    expect(await checkpointed(agent)).toBe('disk(web):100;disk(web)[v1:data]:50;disk(web)[v2:more]:50');
    await fw.call('revive', { roles: [] });
    const next = await offerOf(fw);
    const more = async (operations: unknown[]) => refusal(fw.call('accept', { offerIds: [{ value: next.id }], operations }));
    const dup = await more([operation(Op.RESERVE, 'disk(web):10'), operation(Op.CREATE, 'disk(web)[v1:other]:10')]);
    expect(dup).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'operations[1].create.volumes[0].volume.id' });
    const holds = await more([operation(Op.UNRESERVE, 'disk(web):100')]);
    expect(holds).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'operations[0].unreserve.resources[0]' });
    expect(holds.message).toContain('holds persistent volumes (v1, v2): DESTROY them');
  });

  it('adopts the checkpointed resources an agent reports when it re-registers', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({ resources: wire(AGENT) }, { checkpointedResources: wire('cpus(web):2;disk(web):100;disk(web)[v1:data]:60') });
    expect(await total()).toMatchObject({ cpus: 2, 'cpus(web)': 2, disk: 900, 'disk(web)': 40, 'disk(web)[v1:data]': 60 });
    const other = await cluster.framework({ roles: ['db'] });
    const offer = await offerOf(other);
    expect(offer.resources).toBe('cpus:2;disk:900;mem:4096;ports:[31000-32000]');
    agent.drop();
    await agent.connect({ resources: wire(AGENT) }, { checkpointedResources: wire('cpus(web):1') });
    expect(await total()).toMatchObject({ cpus: 3, 'cpus(web)': 1, disk: 1000 });
    const bad = new TestAgent(cluster.master.address);
    cluster.agents.push(bad);
    await expect(bad.connect({ resources: wire(AGENT) }, { checkpointedResources: wire('cpus(web):9') })).rejects.toMatchObject({
      refused: { code: 'INVALID_RESOURCES', field: 'checkpointed_resources' },
    });
  });
});

describe('operator reservations and volumes', () => {
  it('reserves over HTTP and gRPC (offers rescinded, reserved resources offered only to their role), refuses bad input, unreserves', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({ resources: wire(AGENT) });
    const other = await cluster.framework({ roles: ['db'] });
    await offerOf(other);
    let res = await post('/reserve', { agent_id: agent.agentId, resources: 'cpus(web):2;mem(web):1024;disk(web):200' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ agent_id: agent.agentId, total: { cpus: 2, 'cpus(web)': 2, 'mem(web)': 1024 } });
    await other.events.take((e) => e.event?.$case === 'rescind', 'RESCIND');
    expect(await checkpointed(agent)).toBe('cpus(web):2;disk(web):200;mem(web):1024');
    expect((await offerOf(other)).resources).toBe('cpus:2;disk:800;mem:3072;ports:[31000-32000]');
    const web = await cluster.framework({ roles: ['web'] });
    await waitFor(async () => (await offerOf(web)).resources.includes('cpus(web):2'), 'web offered its reservation', 15_000);

    const client = operator();
    const created = await unary<{ total: unknown[] }>(client, 'createVolumes', { agentId: { value: agent.agentId }, resources: wire('disk(web)[v1:data]:150') });
    expect(resourcesFromWire(created.total as never).toString()).toContain('disk(web)[v1:data]:150');
    expect(await checkpointed(agent)).toBe('cpus(web):2;disk(web):200;disk(web)[v1:data]:150;mem(web):1024');

    const cases: [string, unknown, number, string, string][] = [
      ['/reserve', { agent_id: 'nope', resources: 'cpus(web):1' }, 404, 'UNKNOWN_AGENT', 'agent_id'],
      ['/reserve', { resources: 'cpus(web):1' }, 400, 'INVALID_ARGUMENT', 'agent_id'],
      ['/reserve', 'not json', 400, 'INVALID_ARGUMENT', 'body'],
      ['/reserve', { agent_id: agent.agentId, resources: 'cpus(web):x' }, 400, 'INVALID_RESOURCES', "resources 'cpus(web):x'"],
      ['/reserve', { agent_id: agent.agentId, resources: 'cpus(web):5' }, 400, 'INVALID_ARGUMENT', 'resources[0]'],
      ['/unreserve', { agent_id: agent.agentId, resources: 'cpus:1' }, 400, 'INVALID_ARGUMENT', 'resources[0].role'],
      ['/unreserve', { agent_id: agent.agentId, resources: 'disk(web):200' }, 400, 'INVALID_ARGUMENT', 'resources[0]'],
      ['/create-volumes', { agent_id: agent.agentId, resources: 'disk(web)[v1:x]:10' }, 400, 'INVALID_ARGUMENT', 'resources[0].volume.id'],
      ['/destroy-volumes', { agent_id: agent.agentId, resources: 'disk(web)[v9:x]:10' }, 400, 'INVALID_ARGUMENT', 'resources[0]'],
    ];
    for (const [path, body, status, code, field] of cases) {
      res = await post(path, body);
      expect({ status: res.status, ...((await res.json()) as object) }, `${path} ${JSON.stringify(body)}`).toMatchObject({ status, code, field });
    }
    const grpcRefusal = await refusal(unary(client, 'unreserveResources', { agentId: { value: agent.agentId }, resources: wire('cpus(web):3') }));
    expect(grpcRefusal).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'resources[0]' });
    expect(agent.inbox.all.filter((m) => m.message?.$case === 'checkpointResources')).toHaveLength(2);

    res = await post('/destroy-volumes', { agent_id: agent.agentId, resources: 'disk(web)[v1:data]:150' });
    expect(res.status).toBe(200);
    res = await post('/unreserve', { agent_id: agent.agentId, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: 'web' }] });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
    expect(await checkpointed(agent)).toBe('cpus(web):2;disk(web):200;mem(web):1024');
    expect(await checkpointed(agent)).toBe('disk(web):200;mem(web):1024');
  });
});
