import { credentials } from '@grpc/grpc-js';
import { SetQuotaRequest, UpdateWeightsRequest, ValueType, type GetRolesResponse } from '@meso/proto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { OperatorClient, refusal, TestCluster, unary, waitFor, wireResources } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`http://${cluster!.master.address}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

function operator(): InstanceType<typeof OperatorClient> {
  const client = new OperatorClient(cluster!.master.address, credentials.createInsecure());
  onTestFinished(() => client.close());
  return client;
}

describe('roles, weights and quota over HTTP and gRPC', () => {
  it('PUT /weights and POST /quota change what GET /roles shows; bad input is refused naming the field, nothing changed; both survive a restart', async () => {
    cluster = await TestCluster.start({ weights: { prod: 3 } });
    await cluster.agent({ resources: wireResources({ cpus: 4, mem: 4096, disk: 1000 }).concat(wireResources({ cpus: 1 }, 'prod')) });
    const fw = await cluster.framework({ roles: ['dev'] });
    await fw.nextOffers();

    let res = await send('PUT', '/weights', [{ role: 'dev', weight: 2 }, { role: 'ops', weight: 0 }]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'a weight must be a number > 0, got 0', code: 'INVALID_ARGUMENT', field: 'weights[1].weight' });
    expect(await (await send('GET', '/weights')).json()).toEqual([{ role: 'prod', weight: 3 }]);
    res = await send('PUT', '/weights', [{ role: 'dev', weight: 2 }]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ role: 'dev', weight: 2 }, { role: 'prod', weight: 3 }]);

    res = await send('POST', '/quota', { role: 'dev', limits: { cpus: 2, ports: 3 } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'limits.ports' });
    res = await send('POST', '/quota', 'not json');
    expect(await res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body' });
    res = await send('POST', '/quota', { role: 'dev', limits: { cpus: 2, mem: 1024 } });
    expect(res.status).toBe(200);
    expect(await (await send('GET', '/quota')).json()).toEqual({ infos: [{ role: 'dev', limits: { cpus: 2, mem: 1024 } }] });

    const roles = (await (await send('GET', '/roles')).json()) as { roles: { name: string; weight: number; quota?: unknown; allocated: Record<string, number>; reserved: Record<string, number>; frameworks: string[] }[] };
    expect(roles.roles.map((r) => r.name)).toEqual(['dev', 'prod']);
    const dev = roles.roles[0];
    expect(dev).toMatchObject({ weight: 2, quota: { cpus: 2, mem: 1024 }, frameworks: [fw.frameworkId] });
    // The offer outstanding when the quota was set (4 cpus) went over it: rescinded, and what comes next fits.
    await waitFor(async () => {
      const r = (await (await send('GET', '/roles')).json()) as typeof roles;
      return r.roles[0]?.allocated['cpus'] === 2;
    }, 'dev offered 2 cpus under its quota');
    expect(roles.roles[1]).toMatchObject({ name: 'prod', weight: 3, reserved: { 'cpus(prod)': 1 }, frameworks: [] });

    const metrics = await (await send('GET', '/metrics')).text();
    expect(metrics).toContain('meso_master_role_weight{role="dev"} 2');
    expect(metrics).toContain('meso_master_role_quota{role="dev",resource="mem"} 1024');
    expect(metrics).toContain('meso_master_role_allocated{role="dev",resource="cpus"} 2');

    res = await send('DELETE', '/quota/dev');
    expect(res.status).toBe(200);
    expect(await (await send('GET', '/quota')).json()).toEqual({ infos: [] });
    await send('POST', '/quota', { role: 'ops', limits: { gpus: 1 } });

    await cluster.restart({ weights: { prod: 1, dev: 5 } });
    expect(await (await send('GET', '/weights')).json()).toEqual([{ role: 'dev', weight: 2 }, { role: 'prod', weight: 1 }]);
    expect(await (await send('GET', '/quota')).json()).toEqual({ infos: [{ role: 'ops', limits: { gpus: 1 } }] });
  });

  it('GetRoles, UpdateWeights and SetQuota on the Operator service', async () => {
    cluster = await TestCluster.start();
    const grpc = operator();
    const limit = (name: string, scalar: number, type = ValueType.SCALAR) => ({ name, type, scalar, ranges: [], set: [], role: '', reservations: [], disk: undefined });
    expect(await refusal(unary(grpc, 'updateWeights', UpdateWeightsRequest.fromPartial({ weights: [{ role: 'a', weight: 1 }, { role: 'b', weight: -2 }] })))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'weights[1].weight',
    });
    const after = await unary<GetRolesResponse>(grpc, 'updateWeights', UpdateWeightsRequest.fromPartial({ weights: [{ role: 'a', weight: 1.5 }] }));
    expect(after.roles.map((r) => [r.name, r.weight])).toEqual([['a', 1.5]]);
    expect(await refusal(unary(grpc, 'setQuota', SetQuotaRequest.fromPartial({ role: 'a', limits: [limit('cpus', 1), limit('cpus', 2)] })))).toMatchObject({ field: 'limits[1].name' });
    expect(await refusal(unary(grpc, 'setQuota', SetQuotaRequest.fromPartial({ role: 'a', limits: [limit('cpus', Number.NaN)] })))).toMatchObject({ field: 'limits.cpus' });
    expect(await refusal(unary(grpc, 'setQuota', SetQuotaRequest.fromPartial({ role: '', limits: [] })))).toMatchObject({ field: 'role' });
    const set = await unary<GetRolesResponse>(grpc, 'setQuota', SetQuotaRequest.fromPartial({ role: 'b', limits: [limit('mem', 512)] }));
    expect(set.roles.find((r) => r.name === 'b')?.quotaLimits.map((r) => [r.name, r.scalar])).toEqual([['mem', 512]]);
    const removed = await unary<GetRolesResponse>(grpc, 'setQuota', SetQuotaRequest.fromPartial({ role: 'b', limits: [] }));
    expect(removed.roles.map((r) => r.name)).toEqual(['a']);
    expect((await unary<GetRolesResponse>(grpc, 'getRoles', {})).roles).toHaveLength(1);
  });

  it("an agent's isolators and the sum of its executors' usage reach /state, GetState and /metrics", async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.agent({ isolators: ['cgroups/cpu', 'cgroups/mem'] });
    const stats = (rss: number, user: number) => ({ timestamp: 1000 + user, cpusUserTimeSecs: user, cpusSystemTimeSecs: 0.5, memRssBytes: rss, diskUsedBytes: 4096, processes: 2 });
    agent.send({ message: { $case: 'usage', value: { executors: [{ statistics: stats(1000, 1) }, { statistics: stats(3000, 2) }] } } });
    const state = await waitFor(async () => {
      const s = await cluster!.state();
      return s.agents[0]?.usage ? s : undefined;
    }, 'usage in /state');
    expect(state.agents[0]?.isolators).toEqual(['cgroups/cpu', 'cgroups/mem']);
    expect(state.agents[0]?.usage).toMatchObject({ timestamp: 1002, cpus_user_time_secs: 3, cpus_system_time_secs: 1, mem_rss_bytes: 4000, disk_used_bytes: 8192, processes: 4 });
    const grpcState = await unary<{ agents: { info: { isolators: string[] }; usage?: { memRssBytes: number } }[] }>(operator(), 'getState', {});
    expect(grpcState.agents[0]?.info.isolators).toEqual(['cgroups/cpu', 'cgroups/mem']);
    expect(grpcState.agents[0]?.usage?.memRssBytes).toBe(4000);
    const metrics = await (await send('GET', '/metrics')).text();
    expect(metrics).toContain('meso_master_usage_mem_rss_bytes 4000');
    expect(metrics).toContain('meso_master_usage_cpus_user_time_secs 3');
  });
});
