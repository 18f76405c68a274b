import { Cleanup, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, startRedisFw } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('meso-redis: bad input', () => {
  it('answers precise errors, creates nothing half-way, and a create that cannot complete says why and deletes cleanly', async () => {
    const cluster = await startCluster(cleanup, 2, 'cpus:1;mem:512;disk:4096');
    const fw = await startRedisFw(cleanup, cluster);
    await waitFor('both agents offered', async () => Number(/redis_fw_offers_received_total (\d+)/.exec((await fw.api('GET', '/metrics')).text)?.[1]) >= 2);

    const v1 = async (method: string, path: string, body?: unknown) => fw.api(method, path, body);
    expect(await v1('POST', '/v1/CREATE/bad!name/64/1/1')).toMatchObject({ status: 400, text: expect.stringMatching(/^name: must be 1-63 letters/) });
    expect(await v1('POST', '/v1/CREATE/c/8/1/1')).toMatchObject({ status: 400, text: expect.stringMatching(/capacityMB: 8 MB is below the minimum of 16 MB/) });
    expect(await v1('POST', '/v1/CREATE/c/4096/1/1')).toMatchObject({ status: 422, text: expect.stringMatching(/capacityMB: 4096 MB .* is above every agent \(the largest has 512 MB\)/) });
    expect(await v1('POST', '/v1/CREATE/c/64/1/2', { Distribution: 1 })).toMatchObject({ status: 422, text: expect.stringMatching(/slaves: 1 master \+ 2 replicas cannot be spread with at most 1 per agent over 2 agents/) });
    expect(await v1('POST', '/v1/CREATE/c/64/2/1')).toMatchObject({ status: 400, text: expect.stringMatching(/masters: must be 1/) });
    expect(await v1('POST', '/v1/CREATE/c/64/1/x')).toMatchObject({ status: 400, text: expect.stringMatching(/slaves: must be a whole number/) });
    expect(await v1('POST', '/v1/CREATE/c/64/1/1', { Distribution: 'two' })).toMatchObject({ status: 400, text: expect.stringMatching(/Distribution: must be a whole number >= 1/) });
    expect(await v1('GET', '/v1/STATUS/nope')).toMatchObject({ status: 404, text: 'no instance named nope\n' });
    expect(await v1('DELETE', '/v1/DELETE/nope')).toMatchObject({ status: 404 });
    expect(await v1('PUT', '/v1/UPDATE/nope/SLAVES/2')).toMatchObject({ status: 404 });

    const bad = await fw.api('POST', '/v2/instances', { name: 'c', capacityMb: 64, replicas: 1, shards: 2 });
    expect(bad).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST', field: 'shards' } });
    expect((await fw.api('POST', '/v2/instances', { name: 'c', capacityMb: 64, replicas: 5, distribution: 1 })).json).toMatchObject({ code: 'UNSATISFIABLE', field: 'replicas' });
    expect((await fw.api('GET', '/v2/instances/nope')).json).toEqual({ code: 'INSTANCE_NOT_FOUND', message: 'no instance named nope', field: 'name' });
    const notJson = await fetch(`http://${fw.address}/v2/instances`, { method: 'POST', body: '{"name":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'INVALID_REQUEST', field: 'body' });
    // Nothing was created by any of these.
    expect((await fw.api('GET', '/v2/instances')).json).toEqual({ instances: [] });

    // Fits the agents' sizes but not what is free once `big` runs: accepted, waits, says why.
    expect((await fw.api('POST', '/v2/instances', { name: 'big', capacityMb: 400, replicas: 1, distribution: 1 })).status).toBe(201);
    expect((await fw.api('POST', '/v2/instances', { name: 'big', capacityMb: 400, replicas: 1 })).json).toMatchObject({ code: 'INSTANCE_EXISTS', field: 'name' });
    await waitFor('big RUNNING', async () => (await fw.api('GET', '/v1/STATUS/big')).json?.Status === 'RUNNING', 60_000);
    expect((await fw.api('POST', '/v2/instances', { name: 'more', capacityMb: 200, replicas: 1, distribution: 1 })).status).toBe(201);
    const waiting = await waitFor('more says why it waits', async () => {
      const s = (await fw.api('GET', '/v1/STATUS/more')).json;
      return s?.Message?.startsWith('waiting for 2 more server(s) of 232 MB') ? s : undefined;
    });
    expect(waiting).toMatchObject({ Status: 'CREATING', Master: null, Slaves: [] });
    expect((await fw.api('DELETE', '/v1/DELETE/more')).status).toBe(200);
    expect((await fw.api('GET', '/v1/STATUS/more')).json).toMatchObject({ Status: 'DELETED', Master: null, Slaves: [] });
    expect((await fw.api('GET', '/v1/STATUS/big')).json).toMatchObject({ Status: 'RUNNING' });
  });

  it('a server that cannot start: the instance backs off, says why in STATUS, and deletes cleanly', async () => {
    const cluster = await startCluster(cleanup, 1, 'cpus:1;mem:512;disk:1024');
    const fw = await startRedisFw(cleanup, cluster, undefined, ['--redis_server', '/bin/false']);
    expect((await fw.api('POST', '/v1/CREATE/broken/16/1/0')).status).toBe(201);
    const s = await waitFor('STATUS says why', async () => {
      const r = (await fw.api('GET', '/v1/STATUS/broken')).json;
      return /backing off [\d.]+ s after \d+ server\(s\) failed to start \(last: TASK_FAILED/.test(r?.Message ?? '') ? r : undefined;
    });
    expect(s).toMatchObject({ Status: 'CREATING', Master: null });
    expect((await fw.api('DELETE', '/v1/DELETE/broken')).status).toBe(200);
    await waitFor('broken DELETED', async () => (await fw.api('GET', '/v1/STATUS/broken')).json?.Status === 'DELETED');
    await waitFor('its volumes and reservations given back', async () => {
      const state = (await (await fetch(`http://${cluster.master}/state`)).json()) as { agents: Array<{ volumes?: unknown[]; reservedResources?: object }> };
      return state.agents.every((a) => (a.volumes ?? []).length === 0 && Object.keys(a.reservedResources ?? {}).length === 0);
    });
  });
});
