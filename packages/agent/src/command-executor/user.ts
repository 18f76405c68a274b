import { execFile } from 'node:child_process';

/** A user of this machine, as `getent passwd` reports it (so NSS users count too). */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks a user up by name; undefined when there is no such user. */
export function lookupUser(name: string): Promise<SystemUser | undefined> {
  return new Promise((resolve, reject) => {
    if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(name)) {
      resolve(undefined);
      return;
    }
    execFile('getent', ['passwd', name], { timeout: 10_000 }, (err, stdout) => {
      // getent exits 2 when the key is not found.
      if (err && (err as unknown as { code?: unknown }).code === 2) return resolve(undefined);
      if (err) return reject(new Error(`cannot look up user '${name}': ${err.message}`));
      const [, , uid, gid, , home] = stdout.trim().split('\n')[0]?.split(':') ?? [];
      if (uid === undefined || gid === undefined) return resolve(undefined);
      resolve({ name, uid: Number(uid), gid: Number(gid), home: home ?? '/' });
    });
  });
}

/** Looks users up by name. */
export type UserLookup = (name: string) => Promise<SystemUser | undefined>;

/**
 * `lookup` with its answers remembered for `ttlMs` (a user found; a user not found is
 * asked again every time), and one question at a time per name: the agent's command
 * executors look up a task's user for every task, often many at once, and `getent` is a
 * process of its own.
 */
export function cachedUserLookup(lookup: UserLookup, now: () => number, ttlMs = 60_000): UserLookup {
  const known = new Map<string, { user: Promise<SystemUser | undefined>; at: number }>();
  return (name) => {
    const hit = known.get(name);
    if (hit && now() - hit.at < ttlMs) return hit.user;
    const user = lookup(name);
    known.set(name, { user, at: now() });
    // Not found (or failed): forgotten once answered, so the next task asks again.
    void user.then(
      (u) => u === undefined && known.get(name)?.user === user && known.delete(name),
      () => known.get(name)?.user === user && known.delete(name),
    );
    return user;
  };
}
