// Persistent volumes on a real agent process (Mesos: PersistentVolumeTest, the agent's
// side): the test master sends CheckpointResources, tasks write into and read from the
// volume through their sandbox, the agent is killed with SIGKILL and restarted, and the
// volume is destroyed by a CheckpointResources that no longer lists it.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseResources, resourcesFromWire, resourcesToWire, TaskState, TaskStatus_Reason, type StatusUpdate } from '@meso/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMountPoints } from '../src/volumes/volume-mounts.js';
import { volumePath } from '../src/volumes/volume-paths.js';
import { Cluster, mountsUnder, requireBuiltAgent } from './support/cluster.js';
import { executorTask, shellTask } from './support/tasks.js';
import { frameworkInfo } from './support/test-master.js';
import { waitFor } from './support/wait.js';

const S = TaskState;

let c: Cluster;
afterEach(async () => {
  await c?.cleanup();
});

beforeAll(requireBuiltAgent);

const framework = frameworkInfo({ roles: ['db'], checkpoint: true });
const wire = (text: string) => resourcesToWire(parseResources(text));
const sandboxOf = (u: StatusUpdate): string => u.status?.containerStatus?.sandbox ?? '';
const asRoot = process.getuid?.() === 0;
const executorCommand = `exec "${process.execPath}" "${fileURLToPath(new URL('./fixtures/test-executor.mjs', import.meta.url))}"`;

/** A command task holding `volume` (Mesos text, e.g. `disk(db)[v1:data]:64`) that runs `script`. */
const volumeTask = (taskId: string, volume: string, script: string) => shellTask(taskId, script, { resources: wire(`cpus:0.1;mem:32;${volume}`) });

/** Waits until a task ended and returns its terminal update. */
async function ended(taskId: string): Promise<StatusUpdate> {
  return waitFor(() => c.master.updatesOf(taskId).find((u) => [S.TASK_FINISHED, S.TASK_FAILED, S.TASK_ERROR, S.TASK_KILLED].includes(u.status?.state ?? -1)), {
    what: `${taskId} to end`,
    timeoutMs: 30_000,
  });
}

/** The run's sandbox has nothing mounted once the run is over (its executor exited). */
async function noMountsLeft(sandbox: string): Promise<void> {
  await waitFor(async () => (await mountsUnder(sandbox)).length === 0, { what: `no mount left under ${sandbox}`, timeoutMs: 20_000 });
}

describe('persistent volumes on the agent', () => {
  it('are created by CheckpointResources, seen by tasks at <sandbox>/<containerPath>, kept across tasks and a kill -9 of the agent, and removed when no longer listed', async () => {
    c = await new Cluster().start({}, 'meso-volumes-');
    const first = c.agent();
    await first.registered();
    const volume = 'disk(db)[redis-1:data/redis]:64';
    const dir = volumePath(c.workDir, 'db', 'redis-1');
    c.master.send({ $case: 'checkpointResources', value: { resources: wire(`cpus(db):1;disk(db):100;${volume}`) } });
    await waitFor(() => existsSync(dir), { what: `the volume's directory ${dir}` });

    c.master.runTask(volumeTask('writer', volume, 'echo hello > data/redis/greeting'), framework);
    const wrote = await ended('writer');
    expect(wrote.status?.state, wrote.status?.message).toBe(S.TASK_FINISHED);
    expect(await readFile(join(dir, 'greeting'), 'utf8')).toBe('hello\n');
    await noMountsLeft(sandboxOf(wrote));

    c.master.runTask(volumeTask('reader', volume, 'test "$(cat data/redis/greeting)" = hello'), framework);
    expect((await ended('reader')).status?.state).toBe(S.TASK_FINISHED);

    await first.crash();
    const second = c.agent();
    await second.registered();
    const reported = resourcesFromWire(c.master.registrations.at(-1)?.checkpointedResources ?? []);
    expect(reported.toString()).toBe(`cpus(db):1;disk(db):100;${volume}`);
    c.master.runTask(volumeTask('after-restart', volume, 'test "$(cat data/redis/greeting)" = hello'), framework);
    expect((await ended('after-restart')).status?.state).toBe(S.TASK_FINISHED);

    c.master.send({ $case: 'checkpointResources', value: { resources: wire('cpus(db):1;disk(db):164') } });
    await waitFor(() => !existsSync(dir), { what: `the destroyed volume's directory ${dir} to be removed` });
    await second.crash();
    await c.agent().registered();
    expect(resourcesFromWire(c.master.registrations.at(-1)?.checkpointedResources ?? []).toString()).toBe('cpus(db):1;disk(db):164');
  });

  it('a task naming a volume the agent does not hold fails with CONTAINER_LAUNCH_FAILED, naming the volume', async () => {
    c = await new Cluster().start({}, 'meso-volumes-');
    await c.agent().registered();
    c.master.runTask(volumeTask('t1', 'disk(db)[nope:data]:10', 'true'), framework);
    const failed = await ended('t1');
    expect(failed.status?.state).toBe(S.TASK_FAILED);
    expect(failed.status?.reason).toBe(TaskStatus_Reason.REASON_CONTAINER_LAUNCH_FAILED);
    expect(failed.status?.message).toContain("'nope'");
  });

  it('a volume a run still holds when a CheckpointResources drops it is moved aside and removed when the run ends; a read-only volume cannot be written', async () => {
    expect(asRoot, 'this test needs root: read-only volumes are read-only bind mounts').toBe(true);
    c = await new Cluster().start({}, 'meso-volumes-');
    const agent = c.agent();
    await agent.registered();
    const ro = 'disk(db)[logs:logs:ro]:8';
    const dir = volumePath(c.workDir, 'db', 'logs');
    c.master.send({ $case: 'checkpointResources', value: { resources: wire(ro) } });
    await waitFor(() => existsSync(dir), { what: `the volume's directory ${dir}` });

    c.master.runTask(volumeTask('ro', ro, 'touch logs/x && exit 0 || exit 7'), framework);
    const denied = await ended('ro');
    expect(denied.status?.state).toBe(S.TASK_FAILED);
    expect(denied.status?.message).toContain('status 7');
    await noMountsLeft(sandboxOf(denied));

    c.master.runTask(volumeTask('holder', ro, 'sleep 600'), framework);
    const running = await c.master.waitForUpdate('holder', S.TASK_RUNNING);
    expect((await mountsUnder(sandboxOf(running))).length).toBe(1);
    c.master.send({ $case: 'checkpointResources', value: { resources: [] } });
    await agent.logged('removed when the run ends');
    // A CREATE of the same id now would start empty; the holder still sees the old data.
    expect(existsSync(dir)).toBe(false);
    const trash = join(c.workDir, 'volumes-destroyed');
    expect(readdirSync(trash)).toHaveLength(1);
    c.master.kill('holder');
    await ended('holder');
    await noMountsLeft(sandboxOf(running));
    await waitFor(() => readdirSync(trash).length === 0, { what: 'the destroyed volume removed after its run ended' });
  });

  it('the mounts of a run that did not survive an agent crash are removed by the restarted agent; the data stays', async () => {
    c = await new Cluster().start({}, 'meso-volumes-');
    await c.agent().registered();
    const volume = 'disk(db)[v1:data]:16';
    c.master.send({ $case: 'checkpointResources', value: { resources: wire(volume) } });
    // A framework that does not checkpoint: its run is killed when the agent comes back.
    c.master.runTask(volumeTask('t1', volume, 'echo kept > data/f; sleep 600'), frameworkInfo({ roles: ['db'], checkpoint: false }));
    const running = await c.master.waitForUpdate('t1', S.TASK_RUNNING);
    const sandbox = sandboxOf(running);
    if (asRoot) expect(await mountsUnder(sandbox)).toEqual([join(sandbox, 'data')]);
    await c.agents[0]?.crash();
    await c.agent().registered();
    await noMountsLeft(sandbox);
    expect(await readFile(join(volumePath(c.workDir, 'db', 'v1'), 'f'), 'utf8')).toBe('kept\n');
  });

  it.each([
    ['the agent\'s mount namespace', {}],
    ['a mount namespace of its own (namespaces/pid)', { isolation: 'namespaces/pid' }],
  ])('a task given to a running custom executor in %s has its volume in the executor\'s sandbox before the executor gets it', async (_, options) => {
    expect(asRoot, 'this test needs root: volumes are bind mounts').toBe(true);
    c = await new Cluster().start({}, 'meso-volumes-');
    await c.agent(options).registered();
    const volume = 'disk(db)[v2:state/db]:16';
    c.master.send({ $case: 'checkpointResources', value: { resources: wire(volume) } });
    c.master.runTask(executorTask('a', 'exec-1', executorCommand), framework);
    const first = await c.master.waitForUpdate('a', S.TASK_RUNNING);
    const target = join(sandboxOf(first), 'state', 'db');
    expect(existsSync(target)).toBe(false);

    c.master.runTask(executorTask('b', 'exec-1', executorCommand, { resources: wire(`cpus:0.1;${volume}`) }), framework);
    await c.master.waitForUpdate('b', S.TASK_RUNNING);
    // The executor's own mount table shows the volume (not only the agent's).
    const executorPid = first.status?.containerStatus?.executorPid ?? 0;
    expect(parseMountPoints(await readFile(`/proc/${executorPid}/mountinfo`, 'utf8'))).toContain(target);
    await writeFile(join(target, 'through-sandbox'), 'x');
    expect(await readFile(join(volumePath(c.workDir, 'db', 'v2'), 'through-sandbox'), 'utf8')).toBe('x');

    c.master.runTask(executorTask('c', 'exec-1', executorCommand, { resources: wire('cpus:0.1;disk(db)[other:x]:1') }), framework);
    const failed = await ended('c');
    expect([failed.status?.state, failed.status?.reason]).toEqual([S.TASK_FAILED, TaskStatus_Reason.REASON_CONTAINER_LAUNCH_FAILED]);
    expect(failed.status?.message).toContain("'other'");
    expect(c.master.updatesOf('a').at(-1)?.status?.state).toBe(S.TASK_RUNNING);
  });

  it('a task running as another user (the framework\'s) can write into its read-write volume', async () => {
    expect(asRoot, 'this test needs root: tasks run as the framework user only when the agent is root').toBe(true);
    c = await new Cluster().start({}, 'meso-volumes-');
    await c.agent().registered();
    const volume = 'disk(db)[v3:data]:16';
    c.master.send({ $case: 'checkpointResources', value: { resources: wire(volume) } });
    c.master.runTask(volumeTask('as-nobody', volume, 'id -un > data/who'), frameworkInfo({ roles: ['db'], user: 'nobody' }));
    const done = await ended('as-nobody');
    expect(done.status?.state, done.status?.message).toBe(S.TASK_FINISHED);
    const who = join(volumePath(c.workDir, 'db', 'v3'), 'who');
    expect(await readFile(who, 'utf8')).toBe('nobody\n');
    expect((await stat(who)).uid).toBe(65534);
  });

  it('a CheckpointResources holding an invalid volume is refused whole: the agent keeps its previous set and volumes', async () => {
    c = await new Cluster().start({}, 'meso-volumes-');
    const agent = c.agent();
    await agent.registered();
    const good = wire('disk(db)[keep:data]:16');
    c.master.send({ $case: 'checkpointResources', value: { resources: good } });
    const dir = volumePath(c.workDir, 'db', 'keep');
    await waitFor(() => existsSync(dir), { what: `the volume's directory ${dir}` });
    const bad = wire('disk(db)[new:data]:16').map((r) => ({ ...r, disk: { persistence: { id: 'not valid', principal: '' }, volume: { containerPath: 'data', mode: 1 } } }));
    c.master.send({ $case: 'checkpointResources', value: { resources: bad } });
    await agent.logged("'not valid' is not a valid volume id");
    expect(existsSync(dir)).toBe(true);
    await agent.crash();
    await c.agent().registered();
    expect(resourcesFromWire(c.master.registrations.at(-1)?.checkpointedResources ?? []).toString()).toBe('disk(db)[keep:data]:16');
  });

  it('at start, a missing volume directory is created again and a directory that is no volume of the agent is left alone and logged', async () => {
    c = await new Cluster().start({}, 'meso-volumes-');
    const first = c.agent();
    await first.registered();
    c.master.send({ $case: 'checkpointResources', value: { resources: wire('disk(db)[a:data]:16') } });
    const dir = volumePath(c.workDir, 'db', 'a');
    await waitFor(() => existsSync(dir), { what: `the volume's directory ${dir}` });
    await first.crash();
    await rm(dir, { recursive: true });
    const stranger = volumePath(c.workDir, 'db', 'stranger');
    await mkdir(stranger);
    await writeFile(join(stranger, 'precious'), 'x');

    const second = c.agent();
    await second.registered();
    expect(existsSync(dir)).toBe(true);
    expect(await second.logged('no volume of this agent')).toContain(stranger);
    expect(await readFile(join(stranger, 'precious'), 'utf8')).toBe('x');
  });
});
