import { afterEach, describe, expect, it } from 'vitest';
import { parseResources, type Offer, type TaskSpec, type VolumeSpec } from '@meso/sdk-scheduler';
import { Cleanup, restartAgentProcess, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';
import { agentTotal, operatorPost, RoleFramework } from './reservations.fixture.js';

const VOLUME: VolumeSpec = { id: 'db-data', containerPath: 'data', sizeMb: 64, role: 'db' };
const hasVolume = (o: Offer): boolean => o.volumes.some((v) => v.id === VOLUME.id);

/** A task of role db holding the volume, running `shell` in its sandbox. */
function task(taskId: string, shell: string): TaskSpec {
  return { taskId, resources: { cpus: 0.25, mem: 32 }, volumes: [VOLUME], command: { shell } };
}

describe('persistent volumes on a real cluster', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('data written to a persistent volume is there for the next task using it (also after an agent restart) and gone after DESTROY; DESTROY while in use is refused', async () => {
    const master = await startMasterProcess(cleanup);
    let agent = await startAgentProcess(cleanup, master.address, 'cpus:2;mem:1024;disk:1000');
    const fw = await RoleFramework.start(cleanup, master.address, 'db');

    // Reserve, create the volume and write to it, in one ACCEPT.
    const first = await fw.takeOffer('a first offer');
    await fw.scheduler.accept([first.id], [
      { type: 'reserve', resources: parseResources('cpus(db):0.5;mem(db):64;disk(db):100') },
      { type: 'create', volumes: [VOLUME] },
      { type: 'launch', tasks: [task('write', 'echo hello > data/f')] },
    ], { refuseSeconds: 0 });
    await fw.status('write', 'TASK_FINISHED');
    expect(await agentTotal(master.address)).toMatchObject({ 'cpus(db)': 0.5, 'mem(db)': 64, 'disk(db)': 36, 'disk(db)[db-data:data]': 64 });

    // The volume comes back in the role's offers; the next task reads what the first wrote.
    const second = await fw.takeOffer('an offer with the volume', hasVolume);
    expect(second.volumes).toEqual([{ ...VOLUME, mode: 'rw' }]);
    await fw.scheduler.launch(second, [task('read', 'test "$(cat data/f)" = hello')], { refuseSeconds: 0 });
    await fw.status('read', 'TASK_FINISHED');

    // A live task holds it: DESTROY is refused, naming the task.
    await fw.scheduler.launch(await fw.takeOffer('the volume again', hasVolume), [task('hold', 'exec sleep 600')], { refuseSeconds: 0 });
    await fw.status('hold', 'TASK_RUNNING');
    const inUse = await operatorPost(master.address, '/destroy-volumes', agent.agentId, 'disk(db)[db-data:data]:64');
    expect(inUse).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', field: 'resources[0]' } });
    expect(String(inUse.body['error'])).toContain("in use by live task 'hold'");
    await fw.scheduler.kill('hold');
    await fw.status('hold', 'TASK_KILLED');

    // The agent restarts (kill -9): it reports its volume, and the data is still there.
    await agent.proc.kill9();
    agent = await restartAgentProcess(cleanup, agent);
    const afterRestart = await fw.takeOffer('the volume after the agent restarted', hasVolume, 120_000);
    await fw.scheduler.launch(afterRestart, [task('read-again', 'test "$(cat data/f)" = hello')], { refuseSeconds: 0 });
    await fw.status('read-again', 'TASK_FINISHED');

    // DESTROY removes it with its data; a new volume of the same id starts empty — also when
    // DESTROY comes right after the last task's update, while its executor is still exiting.
    await fw.scheduler.accept([(await fw.takeOffer('the volume to destroy', hasVolume)).id], [{ type: 'destroy', volumes: [VOLUME] }], { refuseSeconds: 0 });
    await waitFor('the volume gone from /state', async () => !('disk(db)[db-data:data]' in (await agentTotal(master.address))) || undefined);
    expect(await agentTotal(master.address)).toMatchObject({ 'disk(db)': 100 });
    // The agent may come in two offers (what the destroy left, and the rest): take one with room for the volume.
    const plain = await fw.takeOffer('the reserved disk back', (o) => o.resources.withoutVolumes().scalar('disk', 'db') >= VOLUME.sizeMb);
    expect(plain.volumes).toEqual([]);
    await fw.scheduler.accept([plain.id], [
      { type: 'create', volumes: [VOLUME] },
      { type: 'launch', tasks: [task('fresh', 'test ! -e data/f && test -d data')] },
    ], { refuseSeconds: 0 });
    await fw.status('fresh', 'TASK_FINISHED');
  });
});
