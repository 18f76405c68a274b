import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResources, resourcesToWire } from '@meso/proto';
import { FileStateStore } from '@meso/state';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceCheckpoint } from './resource-checkpoint.js';

let dir = '';
let store: FileStateStore | undefined;
afterEach(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const open = async (): Promise<ResourceCheckpoint> => {
  dir = await mkdtemp(join(tmpdir(), 'meso-resources-'));
  store = await FileStateStore.open(dir);
  return new ResourceCheckpoint(store, dir);
};

describe('the checkpoint of the agent’s resources (meta/resources.json)', () => {
  it('is empty before the first CheckpointResources', async () => {
    expect(await (await open()).load()).toEqual({ kind: 'none' });
  });

  it('gives back exactly what was saved: reservations and volumes', async () => {
    const cp = await open();
    const wire = resourcesToWire(parseResources('cpus(db):2;disk(db):100;disk(db)[redis-1:data/redis]:64;disk(db)[logs:var/log:ro]:8'));
    await cp.save(wire);
    const back = await new ResourceCheckpoint(store as FileStateStore, dir).load();
    if (back.kind !== 'ok') throw new Error(`expected the set back, got ${back.kind}`);
    expect(back.resources.toString()).toBe('cpus(db):2;disk(db):100;disk(db)[logs:var/log:ro]:8;disk(db)[redis-1:data/redis]:64');
    expect(back.wire).toEqual(JSON.parse(JSON.stringify(wire)));
    await cp.save([]);
    const empty = await cp.load();
    expect(empty.kind === 'ok' && empty.wire).toEqual([]);
  });

  it('that is corrupt is named and set aside as .corrupt', async () => {
    const cp = await open();
    await cp.save(resourcesToWire(parseResources('disk(db)[a:data]:1')));
    await writeFile(join(dir, 'resources.json'), '{"truncated');
    const loaded = await cp.load();
    expect(loaded).toMatchObject({ kind: 'corrupt', path: join(dir, 'resources.json') });
    expect(loaded.kind === 'corrupt' && loaded.error).toContain('resources.json');
    expect(await readdir(dir)).toContain('resources.json.corrupt');
    expect(await cp.load()).toEqual({ kind: 'none' });
  });

  it('holding an invalid volume is reported corrupt, naming the field', async () => {
    const cp = await open();
    const wire = resourcesToWire(parseResources('disk(db)[a:data]:1'));
    const bad = wire.map((r) => ({ ...r, disk: { persistence: { id: 'bad id', principal: '' }, volume: { containerPath: 'data', mode: 1 } } }));
    await cp.save(bad);
    const loaded = await cp.load();
    expect(loaded.kind).toBe('corrupt');
    expect(loaded.kind === 'corrupt' && loaded.error).toContain("'bad id' is not a valid volume id");
  });
});
