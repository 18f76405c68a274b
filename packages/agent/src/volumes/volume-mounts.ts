// How a run sees its persistent volumes: a bind mount of the volume's directory at
// <sandbox>/<containerPath> (read-only remount for 'ro') when the agent runs as root and
// mounts work, else a symlink (Mesos's filesystem/posix). Mounts are found again through
// /proc/self/mountinfo, so they are removed when the run ends and after a restart.
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, realpath, rmdir, symlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One volume to show in a sandbox. */
export interface VolumeAttachment {
  id: string;
  /** The volume's directory (volumePath). */
  source: string;
  /** Relative to the sandbox. */
  containerPath: string;
  mode: 'rw' | 'ro';
}

/** How a volume was made visible. */
export type AttachMethod = 'mount' | 'symlink' | 'already';

/** Mount points in /proc/self/mountinfo text (its fifth field, octal escapes decoded). */
export function parseMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.push(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(points: readonly string[], dir: string): string[] {
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  return [...new Set(points.filter((p) => p === dir || p.startsWith(prefix)))].sort((a, b) => b.length - a.length);
}

/** Mount points of this process's mount namespace, or of process `pid`'s. */
export async function currentMountPoints(pid?: number): Promise<string[]> {
  return parseMountPoints(await readFile(`/proc/${pid ?? 'self'}/mountinfo`, 'utf8').catch(() => ''));
}

/** Whether process `pid` lives in another mount namespace (an executor under `unshare --mount`). */
export async function otherMountNamespace(pid: number): Promise<boolean> {
  const [own, theirs] = await Promise.all([readlink('/proc/self/ns/mnt').catch(() => ''), readlink(`/proc/${pid}/ns/mnt`).catch(() => '')]);
  return theirs !== '' && own !== theirs;
}

/** Whether this process may try bind mounts (root; whether they work is found out by trying). */
export function mayMount(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Makes a volume visible at `<sandbox>/<containerPath>`. Idempotent: a second task of the
 * same executor with the same volume finds it there. Refuses a target that leads outside
 * the sandbox (a symlink planted by the run's processes).
 */
export async function attachVolume(sandbox: string, v: VolumeAttachment, useMount: boolean, namespacePid?: number): Promise<AttachMethod> {
  // In the mount namespace of a running executor: the same paths, its own mount table.
  const mount = (args: string[]) => (namespacePid ? run('nsenter', ['--target', String(namespacePid), '--mount', '--', 'mount', ...args]) : run('mount', args));
  const target = join(sandbox, v.containerPath);
  await insideSandbox(sandbox, await deepestExisting(dirname(target)), v);
  await mkdir(dirname(target), { recursive: true });
  await insideSandbox(sandbox, dirname(target), v);
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) {
    if ((await readlink(target)) === v.source) return 'already';
    throw new Error(`volume '${v.id}': ${target} is a symlink to somewhere else`);
  }
  if (existing && (await currentMountPoints(namespacePid)).includes(target)) return 'already';
  if (useMount) {
    await mkdir(target, { recursive: true });
    try {
      await mount(['--bind', v.source, target]);
    } catch (e) {
      // Leave the sandbox as it was, so the caller may fall back to a symlink (mounts can fail in a container).
      if (!existing) await rmdir(target).catch(() => undefined);
      throw e;
    }
    if (v.mode === 'ro') {
      try {
        await mount(['-o', 'remount,bind,ro', target]);
      } catch (e) {
        await (namespacePid ? run('nsenter', ['--target', String(namespacePid), '--mount', '--', 'umount', '-l', target]) : unmount(target));
        throw e;
      }
    }
    return 'mount';
  }
  if (existing) throw new Error(`volume '${v.id}': ${target} exists in the sandbox`);
  await symlink(v.source, target);
  return 'symlink';
}

/** Unmounts every mount at or below `dir` (deepest first); returns what was unmounted. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const points = mountsUnder(await currentMountPoints(), dir);
  for (const p of points) await unmount(p);
  return points;
}

/** Unmounts every mount below `root` that is not inside one of `keep` (the live sandboxes). */
export async function unmountStale(root: string, keep: readonly string[]): Promise<string[]> {
  const stale = mountsUnder(await currentMountPoints(), root).filter((p) => !keep.some((k) => p === k || p.startsWith(`${k}${sep}`)));
  for (const p of stale) await unmount(p);
  return stale;
}

/** umount, falling back to a lazy unmount when the mount is busy. */
async function unmount(target: string): Promise<void> {
  try {
    await run('umount', [target]);
  } catch {
    await run('umount', ['-l', target]);
  }
}

async function insideSandbox(sandbox: string, dir: string, v: VolumeAttachment): Promise<void> {
  const [root, real] = await Promise.all([realpath(sandbox), realpath(dir)]);
  if (real !== root && !real.startsWith(`${root}${sep}`)) throw new Error(`volume '${v.id}': ${v.containerPath} leads outside the sandbox`);
}

/** The path itself, or its nearest ancestor that exists (checked before anything is created). */
async function deepestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    if ((await lstat(p).catch(() => undefined)) || dirname(p) === p) return p;
  }
}
