// Showing a volume in a sandbox, on the real filesystem: a symlink (the agent not root, or
// mounts not working) and a bind mount (root), read-only for 'ro', never outside the sandbox.
import { lstat, mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachVolume, unmountUnder, type VolumeAttachment } from '../src/volumes/volume-mounts.js';
import { mountsUnder } from './support/cluster.js';

let root = '';
afterEach(async () => {
  if (!root) return;
  await unmountUnder(root).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

async function setup(mode: 'rw' | 'ro' = 'rw'): Promise<{ sandbox: string; v: VolumeAttachment }> {
  root = await mkdtemp(join(tmpdir(), 'meso-mounts-'));
  const source = join(root, 'volumes', 'v1');
  const sandbox = join(root, 'sandbox');
  await mkdir(source, { recursive: true });
  await mkdir(sandbox, { recursive: true });
  return { sandbox, v: { id: 'v1', source, containerPath: 'data/nested', mode } };
}

describe('attachVolume', () => {
  it('without mounts: a symlink at <sandbox>/<containerPath>, idempotent', async () => {
    const { sandbox, v } = await setup();
    expect(await attachVolume(sandbox, v, false)).toBe('symlink');
    expect(await readlink(join(sandbox, 'data/nested'))).toBe(v.source);
    expect(await attachVolume(sandbox, v, false)).toBe('already');
  });

  it('refuses a container path that a planted symlink leads outside the sandbox', async () => {
    const { sandbox, v: shallow } = await setup();
    const v = { ...shallow, containerPath: 'data/deeper/nested' };
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, join(sandbox, 'data'));
    await expect(attachVolume(sandbox, v, false)).rejects.toThrow("volume 'v1': data/deeper/nested leads outside the sandbox");
    await expect(lstat(join(elsewhere, 'deeper'))).rejects.toThrow();
  });

  it('as root: a bind mount, read-only for ro, idempotent, gone after unmountUnder', async () => {
    expect(process.getuid?.(), 'this test needs root: bind mounts').toBe(0);
    const { sandbox, v } = await setup('ro');
    await writeFile(join(v.source, 'f'), 'x');
    expect(await attachVolume(sandbox, v, true)).toBe('mount');
    expect(await mountsUnder(sandbox)).toEqual([join(sandbox, 'data/nested')]);
    await expect(writeFile(join(sandbox, 'data/nested/g'), 'y')).rejects.toThrow(/EROFS|read-only/i);
    expect(await attachVolume(sandbox, v, true)).toBe('already');
    expect(await mountsUnder(sandbox)).toHaveLength(1);
    expect(await unmountUnder(sandbox)).toEqual([join(sandbox, 'data/nested')]);
    expect(await mountsUnder(sandbox)).toEqual([]);
  });

  it('a bind mount that fails leaves the sandbox as it was, so the symlink fallback works (as in a container)', async () => {
    const { sandbox, v: good } = await setup();
    // mount(8) fails on a source that does not exist, like mounts refused inside a container.
    const v = { ...good, source: join(root, 'volumes', 'missing') };
    await expect(attachVolume(sandbox, v, true)).rejects.toThrow();
    await expect(lstat(join(sandbox, 'data/nested'))).rejects.toThrow(/ENOENT/);
    expect(await attachVolume(sandbox, v, false)).toBe('symlink');
  });
});
