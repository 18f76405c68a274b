import { Cleanup, waitFor } from '@meso/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, startCluster, startRedisFw, waitForInstance } from './support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface AgentState {
  volumes?: Array<{ id: string; role: string }>;
  reservedResources?: Record<string, unknown>;
}

describe('meso-redis: data on persistent volumes', () => {
  it('a server restarted on its agent finds its data on its volume; deleting gives volumes and reservations back', async () => {
    const cluster = await startCluster(cleanup, 2, 'cpus:2;mem:1024;disk:2048');
    const fw = await startRedisFw(cleanup, cluster);
    const agents = async (): Promise<AgentState[]> => ((await (await fetch(`http://${cluster.master}/state`)).json()) as { agents: AgentState[] }).agents;
    expect((await fw.api('POST', '/v2/instances', { name: 'ledger', capacityMb: 32, replicas: 0 })).status).toBe(201);
    const before = await waitForInstance(fw, 'ledger', 'RUNNING', (i) => i.status === 'RUNNING');
    const first = before.members[0];
    expect(first.volumeId).toBe(first.taskId);
    expect((await agents()).flatMap((a) => a.volumes ?? [])).toEqual([expect.objectContaining({ id: first.volumeId, role: 'redis' })]);

    const server = connect(cleanup, first.address);
    await server.config('SET', 'appendfsync', 'always'); // every acknowledged write is on disk
    const p = server.pipeline();
    for (let k = 0; k < 1000; k++) p.set(`entry:${k}`, `${k}`);
    await p.exec();
    process.kill(first.pid, 'SIGKILL');

    const after = await waitForInstance(fw, 'ledger', 'a new server answering', (i) => i.epoch === before.epoch + 1 && i.members.length === 1 && i.members[0].taskId !== first.taskId && i.members[0].answering);
    const second = after.members[0];
    expect(second).toMatchObject({ role: 'master', agentId: first.agentId, volumeId: first.volumeId });
    expect(second.pid).not.toBe(first.pid);
    const reopened = connect(cleanup, second.address);
    expect(await reopened.dbsize()).toBe(1000);
    expect(await reopened.get('entry:999')).toBe('999');

    expect((await fw.api('DELETE', '/v2/instances/ledger')).status).toBe(200);
    await waitFor('the volume destroyed and the reservations given back', async () => {
      const list = await agents();
      return list.every((a) => (a.volumes ?? []).length === 0 && Object.keys(a.reservedResources ?? {}).length === 0);
    });
    expect((await fw.api('GET', '/v1/STATUS/ledger')).json).toMatchObject({ Status: 'DELETED' });
  });
});
