// Parsers of the cgroup files the isolator reads. Pure.

/** `key value` lines (memory.stat, cpuacct.stat, cpu.stat, memory.events, memory.oom_control) as a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** Pids listed in cgroup.procs. */
export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** The kernel's USER_HZ, the unit of cpuacct.stat and /proc/<pid>/stat times (100 on every Linux we run on). */
export const USER_HZ = 100;

/** The period of the hard cpu quota (cfs_period_us / cpu.max), Mesos's 100 ms. */
export const CPU_PERIOD_US = 100_000;
/** The smallest quota the kernel takes (1 ms). */
const MIN_QUOTA_US = 1_000;

/** cpu.shares for `cpus` (v1): 1024 per cpu, at least 2 (the kernel's minimum). */
export function cpuShares(cpus: number): number {
  return Math.max(2, Math.round(1024 * cpus));
}

/** cpu.weight for `cpus` (v2, 1..10000): the v1 shares mapped as systemd and runc do. */
export function cpuWeight(cpus: number): number {
  const shares = cpuShares(cpus);
  return Math.min(10_000, Math.max(1, Math.round(1 + ((shares - 2) * 9999) / 262_142)));
}

/** The hard quota in µs per CPU_PERIOD_US for `cpus`. */
export function cpuQuotaUs(cpus: number): number {
  return Math.max(MIN_QUOTA_US, Math.round(cpus * CPU_PERIOD_US));
}

/** Seconds of cpu from cpu.stat (v2, µs) or cpuacct.stat (v1, USER_HZ ticks). */
export function cpuTimes(stat: Map<string, number>, version: 1 | 2): { user: number; system: number } {
  if (version === 2) return { user: (stat.get('user_usec') ?? 0) / 1e6, system: (stat.get('system_usec') ?? 0) / 1e6 };
  return { user: (stat.get('user') ?? 0) / USER_HZ, system: (stat.get('system') ?? 0) / USER_HZ };
}

/** Resident memory from memory.stat: v1 `total_rss` (hierarchical) else `rss`, v2 `anon`. */
export function rssBytes(stat: Map<string, number>, version: 1 | 2): number {
  if (version === 2) return stat.get('anon') ?? 0;
  return stat.get('total_rss') ?? stat.get('rss') ?? 0;
}
