// The cgroups isolator (cgroups/cpu, cgroups/mem), v1 and v2: one cgroup per container
// (per v1 hierarchy), cpu shares / weight, an optional hard cpu quota, a memory limit.
// Over its memory the kernel's OOM killer acts inside the cgroup; the isolator sees the
// kill in the oom_kill counter and reports the limitation.
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskStatus_Reason } from '@meso/proto';
import { signalProcess } from '../process-tree.js';
import { CPU_PERIOD_US, cpuQuotaUs, cpuShares, cpuTimes, cpuWeight, parseFlatKeyed, parsePids, rssBytes } from './cgroup-files.js';
import type { ContainerLimits } from './limits.js';
import type { ContainerIsolator, Limitation, UsagePart } from './types.js';

const MB = 1024 * 1024;

/** Where one container's cgroups are. */
export type ContainerCgroups = { version: 1; cpu: string; cpuacct: string; memory: string } | { version: 2; dir: string };

export interface CgroupsIsolatorOptions {
  cgroups: ContainerCgroups;
  /** Apply the hard cpu quota (Mesos --cgroups_enable_cfs). */
  enableCfs: boolean;
  watchIntervalMs: number;
}

function dirsOf(c: ContainerCgroups): string[] {
  return c.version === 2 ? [c.dir] : [...new Set([c.cpu, c.cpuacct, c.memory])];
}

/** Creates the container's cgroups (idempotent: a recovered container's exist already). */
export async function makeContainerCgroups(c: ContainerCgroups): Promise<void> {
  for (const d of dirsOf(c)) await mkdir(d, { recursive: true });
}

async function writeIfExists(file: string, value: string): Promise<void> {
  try {
    await access(file);
  } catch {
    return;
  }
  await writeFile(file, value);
}

async function readNumbers(file: string): Promise<Map<string, number>> {
  try {
    return parseFlatKeyed(await readFile(file, 'utf8'));
  } catch {
    return new Map();
  }
}

async function readNumber(file: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the memory limit (v1): memory.limit_in_bytes must stay ≤ memory.memsw.limit_in_bytes, so the order depends on the direction. */
async function setV1Memory(dir: string, bytes: number): Promise<void> {
  const mem = join(dir, 'memory.limit_in_bytes');
  const memsw = join(dir, 'memory.memsw.limit_in_bytes');
  try {
    await writeFile(mem, String(bytes));
    await writeIfExists(memsw, String(bytes)).catch(() => undefined);
  } catch {
    await writeIfExists(memsw, String(bytes));
    await writeFile(mem, String(bytes));
  }
}

/** The cgroups isolator of one container whose cgroups exist. */
export function cgroupsIsolator(o: CgroupsIsolatorOptions): ContainerIsolator {
  const c = o.cgroups;
  const memoryDir = c.version === 2 ? c.dir : c.memory;
  let memLimit = 0;
  const pids = async (): Promise<number[]> => {
    try {
      return parsePids(await readFile(join(memoryDir, 'cgroup.procs'), 'utf8'));
    } catch {
      return [];
    }
  };
  return {
    name: `cgroups v${c.version}`,
    procsFiles: dirsOf(c).map((d) => join(d, 'cgroup.procs')),
    urgent: true,
    watchIntervalMs: o.watchIntervalMs,
    pids,
    async update(limits: ContainerLimits): Promise<void> {
      memLimit = limits.memBytes;
      if (c.version === 1) {
        await writeFile(join(c.cpu, 'cpu.shares'), String(cpuShares(limits.cpus)));
        if (o.enableCfs) {
          await writeFile(join(c.cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
          await writeFile(join(c.cpu, 'cpu.cfs_quota_us'), String(cpuQuotaUs(limits.cpus)));
        }
        if (limits.memBytes > 0) await setV1Memory(c.memory, limits.memBytes).catch(() => undefined);
        return;
      }
      await writeFile(join(c.dir, 'cpu.weight'), String(cpuWeight(limits.cpus)));
      await writeFile(join(c.dir, 'cpu.max'), o.enableCfs ? `${cpuQuotaUs(limits.cpus)} ${CPU_PERIOD_US}` : `max ${CPU_PERIOD_US}`);
      if (limits.memBytes > 0) await writeFile(join(c.dir, 'memory.max'), String(limits.memBytes));
      // Over its memory the container is killed, not swapped out.
      await writeIfExists(join(c.dir, 'memory.swap.max'), '0').catch(() => undefined);
    },
    async usage(): Promise<UsagePart> {
      const cpu = c.version === 2 ? await readNumbers(join(c.dir, 'cpu.stat')) : await readNumbers(join(c.cpuacct, 'cpuacct.stat'));
      const t = cpuTimes(cpu, c.version);
      const mem = rssBytes(await readNumbers(join(memoryDir, 'memory.stat')), c.version);
      return { cpusUserTimeSecs: t.user, cpusSystemTimeSecs: t.system, memRssBytes: mem, processes: (await pids()).length };
    },
    async check(): Promise<Limitation | undefined> {
      const events = await readNumbers(join(memoryDir, c.version === 2 ? 'memory.events' : 'memory.oom_control'));
      const kills = events.get('oom_kill') ?? 0;
      if (kills === 0) return undefined;
      const peak = await readNumber(join(memoryDir, c.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
      const used = peak !== undefined ? `, maximum used ${(peak / MB).toFixed(1)} MB` : '';
      return {
        reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION_MEMORY,
        message: `Memory limit exceeded: the container's limit is ${(memLimit / MB).toFixed(0)} MB${used}; the kernel killed ${kills} of its processes`,
      };
    },
    async cleanup(): Promise<void> {
      for (const d of dirsOf(c)) await removeCgroup(d);
    },
  };
}

/** Kills what is left in a cgroup and removes it, retrying while the kernel still counts exiting processes. */
export async function removeCgroup(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    let left: number[];
    try {
      left = parsePids(await readFile(join(dir, 'cgroup.procs'), 'utf8'));
    } catch {
      return; // gone
    }
    for (const p of left) signalProcess(p, 'SIGKILL');
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw e;
    }
    await new Promise((r) => setTimeout(r, 20 * Math.min(round + 1, 10)));
  }
  throw new Error(`cgroup ${dir} is still busy`);
}
