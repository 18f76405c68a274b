// Which cgroups this agent can use, decided from facts read once at start: the mounts
// (/proc/self/mountinfo), the agent's own cgroups (/proc/self/cgroup) and probes of the
// directories. The decision is pure; `readCgroupFacts` (cgroup-facts.ts) does the I/O.

/** One line of /proc/self/mountinfo, the fields detection needs. */
export interface MountEntry {
  /** The mount's root within its file system (field 4). */
  root: string;
  mountPoint: string;
  fsType: string;
  /** Per-superblock options (after the fs type and source), e.g. ['rw', 'cpu', 'cpuacct']. */
  superOptions: string[];
}

/** One line of /proc/self/cgroup: `id:controllers:path`. */
export interface CgroupEntry {
  id: number;
  /** Controllers of a v1 hierarchy (named hierarchies as `name=x`); empty for cgroup2. */
  controllers: string[];
  path: string;
}

/** What detection may ask of the machine. */
export interface CgroupProbe {
  /** Whether the agent can create child cgroups in `dir`. */
  writable(dir: string): boolean;
  /** The controllers listed in `<dir>/cgroup.controllers` (cgroup2), undefined if unreadable. */
  v2Controllers(dir: string): string[] | undefined;
}

/** The v1 controllers the cgroups isolator needs. */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Where the agent's containers' cgroups go, or why there are none. */
export type CgroupSupport =
  | { version: 1; dirs: Record<V1Controller, string> }
  | { version: 2; dir: string; controllers: string[] }
  | { version: 0; reason: string };

/** Parses /proc/self/mountinfo. Malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    if (left.length < 5 || right.length < 3) continue;
    out.push({ root: unescapeMount(left[3] ?? ''), mountPoint: unescapeMount(left[4] ?? ''), fsType: right[0] ?? '', superOptions: (right[2] ?? '').split(',') });
  }
  return out;
}

/** Parses /proc/self/cgroup. */
export function parseProcCgroup(text: string): CgroupEntry[] {
  const out: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    out.push({ id: Number(m[1]), controllers: m[2] === '' ? [] : (m[2] as string).split(','), path: m[3] as string });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The directory of cgroup `path` in a hierarchy mounted at `mount` (whose root may be a sub-tree, as in containers). */
export function cgroupDir(mount: MountEntry, path: string): string {
  const root = mount.root === '/' ? '' : mount.root;
  const rel = root !== '' && (path === root || path.startsWith(`${root}/`)) ? path.slice(root.length) : path;
  const tail = rel === '/' ? '' : rel;
  return `${mount.mountPoint}${tail}`;
}

/**
 * Decides which cgroups version the agent uses: cgroup2 when the agent's cgroup there
 * offers the cpu and memory controllers and is writable; else v1 when the cpu, cpuacct
 * and memory hierarchies are mounted and the agent's cgroup in each is writable (hybrid
 * machines: cgroup2 holds no controllers); else none, with the reason. Containers'
 * cgroups are created under the agent's own cgroup, so delegation and its parent's
 * limits are respected.
 */
export function detectCgroups(mounts: MountEntry[], own: CgroupEntry[], probe: CgroupProbe): CgroupSupport {
  const reasons: string[] = [];
  const v2 = mounts.find((m) => m.fsType === 'cgroup2');
  const v2Entry = own.find((e) => e.id === 0);
  if (v2 && v2Entry) {
    const dir = cgroupDir(v2, v2Entry.path);
    const controllers = probe.v2Controllers(dir) ?? [];
    const missing = ['cpu', 'memory'].filter((c) => !controllers.includes(c));
    if (missing.length > 0) reasons.push(`cgroup2 at ${v2.mountPoint} offers no ${missing.join(', ')} controller in ${dir}`);
    else if (!probe.writable(dir)) reasons.push(`cgroup2 ${dir} is not writable by the agent`);
    else return { version: 2, dir, controllers };
  }
  const v1 = mounts.filter((m) => m.fsType === 'cgroup');
  if (v1.length > 0) {
    const dirs: Partial<Record<V1Controller, string>> = {};
    for (const c of V1_CONTROLLERS) {
      const mount = v1.find((m) => m.superOptions.includes(c));
      const entry = own.find((e) => e.controllers.includes(c));
      if (!mount || !entry) {
        reasons.push(`cgroup v1 controller ${c} is not mounted`);
        break;
      }
      const dir = cgroupDir(mount, entry.path);
      if (!probe.writable(dir)) {
        reasons.push(`cgroup v1 ${dir} is not writable by the agent`);
        break;
      }
      dirs[c] = dir;
    }
    if (V1_CONTROLLERS.every((c) => dirs[c] !== undefined)) return { version: 1, dirs: dirs as Record<V1Controller, string> };
  }
  if (!v2 && v1.length === 0) reasons.push('no cgroup file system is mounted');
  return { version: 0, reason: reasons.join('; ') };
}
