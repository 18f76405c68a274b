import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import type { Resources } from '@meso/proto';

/**
 * Gives a task's read-write volumes to the user it runs as, as its sandbox is (Mesos's
 * filesystem/posix: a volume's owner follows the sandbox's). Read-only volumes stay as they
 * are (their mount cannot be changed). Failures are reported, not thrown.
 */
export async function giveVolumes(sandbox: string, resources: Resources, uid: number, gid: number, log: (message: string) => void): Promise<void> {
  for (const r of resources.volumes()) {
    if (r.volume.mode !== 'rw') continue;
    await chown(join(sandbox, r.volume.containerPath), uid, gid).catch((e: unknown) => log(`cannot give volume '${r.volume.id}' to uid ${uid}: ${(e as Error).message}`));
  }
}
