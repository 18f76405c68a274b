import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, waitFor } from '@meso/testing';
// marathon-node (npm), used unchanged: a Marathon client written for Mesosphere's Marathon.
import marathonNode from 'marathon-node';
import { startCluster, startMarathonProcess } from './harness.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

describe('Marathon clients and app files work unchanged', () => {
  it('marathon-node drives apps, tasks, deployments and events; a Marathon app JSON file deploys as is', async () => {
    const { master } = await startCluster(cleanup, 1);
    const marathon = await startMarathonProcess(cleanup, master.address, join(await cleanup.tempDir('marathon-'), 'work'));
    const m = marathonNode(marathon.url);
    const events: string[] = [];
    const es = m.events.createEventSource({ eventType: ['status_update_event', 'deployment_success'] });
    es.addEventListener('status_update_event', (e: { data: string }) => events.push(JSON.parse(e.data).taskStatus));
    es.addEventListener('deployment_success', () => events.push('deployment_success'));
    cleanup.onCleanup(async () => es.close());
    await waitFor('event stream open', () => es.readyState === 1);

    expect(await m.misc.ping()).toMatch(/pong/);
    const info = await m.info.get();
    expect(info.name).toBe('marathon');

    const file = JSON.parse(await readFile(fileURLToPath(new URL('./fixtures/marathon-app.json', import.meta.url)), 'utf8'));
    const created = await m.apps.create(file);
    expect(created).toMatchObject({ id: '/products/hello', instances: 1, labels: { team: 'products' } });
    await waitFor('file app running', async () => (await m.apps.getOne('/products/hello')).app.tasksRunning === 1);

    await m.apps.create({ id: 'web', cmd: 'exec sleep 600', cpus: 0.1, mem: 16, instances: 1 });
    const list = await m.apps.getList({ embed: 'apps.tasks' });
    expect(list.apps.map((a: { id: string }) => a.id).sort()).toEqual(['/products/hello', '/web']);
    await waitFor('web running', async () => (await m.apps.getOne('web')).app.tasksRunning === 1);

    const update = await m.apps.update('web', { instances: 2 });
    expect(update.deploymentId).toEqual(expect.any(String));
    await waitFor('scaled to 2', async () => (await m.apps.getTasks('web')).tasks.filter((t: { state: string }) => t.state === 'TASK_RUNNING').length === 2);
    await waitFor('no deployments', async () => (await m.deployments.getList()).length === 0);

    const [victim] = (await m.apps.getTasks('web')).tasks;
    const killed = await m.apps.killTask('web', victim.id, true);
    expect(killed.deploymentId).toEqual(expect.any(String));
    await waitFor('scaled down by the kill', async () => (await m.apps.getOne('web')).app.instances === 1 && (await m.apps.getTasks('web')).tasks.length === 1);

    const restarted = await m.apps.restart('web', true);
    expect(restarted.deploymentId).toEqual(expect.any(String));
    await waitFor('restart done', async () => (await m.deployments.getList()).length === 0, 30_000);
    expect((await m.apps.getVersions('web')).versions.length).toBeGreaterThanOrEqual(3);

    const tasks = await m.tasks.getList();
    expect(tasks.tasks).toHaveLength(2);
    await m.apps.destroy('web');
    await m.apps.destroy('/products/hello');
    await waitFor('all gone', async () => (await m.apps.getList()).apps.length === 0 && (await m.tasks.getList()).tasks.length === 0, 30_000);
    expect(events).toContain('TASK_RUNNING');
    expect(events).toContain('TASK_KILLED');
    expect(events).toContain('deployment_success');
  });
});
