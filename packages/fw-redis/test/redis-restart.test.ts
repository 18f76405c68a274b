import { isAlive } from '@meso/testing';
import { Cleanup, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, startCluster, startRedisFw, waitForInstance } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const identity = (i: any): string[] => i.members.map((m: any) => `${m.taskId} ${m.address} ${m.runId} ${m.pid}`).sort();

describe('meso-redis: restart, scale, delete', () => {
  it('killed -9 and restarted, lists every member and restarts nothing; scales and deletes', async () => {
    const cluster = await startCluster(cleanup);
    const first = await startRedisFw(cleanup, cluster);
    const created = await first.api('POST', '/v2/instances', { name: 'sessions', capacityMb: 32, replicas: 2 });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ name: 'sessions', status: 'CREATING', capacityMb: 32, replicas: 2, distribution: 3, epoch: 0 });
    const before = await waitForInstance(first, 'sessions', 'RUNNING', (i) => i.status === 'RUNNING');
    await connect(cleanup, before.endpoints.master).set('survives', 'the restart');

    await first.proc.kill9();
    const second = await startRedisFw(cleanup, cluster, `${cluster.dir}/redis`);
    // Right away, from its own state: the instance and all its members, before any probe.
    const listed = await second.api('GET', '/v1/STATUS/');
    expect(listed.json).toEqual([expect.objectContaining({ Name: 'sessions', Status: 'RUNNING', Type: 'MS' })]);
    expect(listed.json[0].Slaves).toHaveLength(2);
    const after = await waitForInstance(second, 'sessions', 'every member answering again', (i) => i.members.length === 3 && i.members.every((m: any) => m.answering));
    // Nothing restarted: the same tasks, addresses, run ids and processes.
    expect(identity(after)).toEqual(identity(before));
    expect(after).toMatchObject({ status: 'RUNNING', epoch: 0, failovers: [] });
    for (const m of after.members) expect(isAlive(m.pid)).toBe(true);
    expect(await connect(cleanup, after.endpoints.master).get('survives')).toBe('the restart');

    const down = await second.api('PUT', '/v1/UPDATE/sessions/SLAVES/1');
    expect(down.status, down.text).toBe(200);
    const one = await waitForInstance(second, 'sessions', 'one replica', (i) => i.members.length === 2);
    expect(one.members.find((m: any) => m.role === 'master').taskId).toBe(before.members.find((m: any) => m.role === 'master').taskId);
    const up = await second.api('PATCH', '/v2/instances/sessions', { replicas: 3 });
    expect(up.status, up.text).toBe(200);
    const four = await waitForInstance(second, 'sessions', 'three replicas in sync', (i) => i.members.length === 4 && i.members.every((m: any) => m.role === 'master' || m.linkUp));
    const mem = await second.api('PUT', '/v1/UPDATE/sessions/Memory/24');
    expect(mem.status, mem.text).toBe(200);
    await waitFor('maxmemory 24 MB on every server', async () => {
      const values = await Promise.all(four.members.map(async (m: any) => (await connect(cleanup, m.address).config('GET', 'maxmemory'))[1]));
      return values.every((v) => v === String(24 * 1024 * 1024));
    });

    const deleted = await second.api('DELETE', '/v1/DELETE/sessions');
    expect(deleted.status, deleted.text).toBe(200);
    await waitFor('the instance DELETED', async () => (await second.api('GET', '/v1/STATUS/sessions')).json?.Status === 'DELETED');
    await waitFor('every server process gone', () => four.members.every((m: any) => !isAlive(m.pid)));
  });
});
