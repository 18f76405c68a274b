// The cgroups isolator against directories laid out as cgroupfs lays them out (plain files:
// what it writes and reads), for v2 — which the project's hybrid machine cannot mount with
// controllers — and v1.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskStatus_Reason } from '@meso/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupsIsolator } from './cgroups-isolator.js';
import type { ContainerLimits } from './limits.js';

const MB = 1024 * 1024;
const limits: ContainerLimits = { cpus: 0.5, memBytes: 96 * MB, diskBytes: 0, ports: [], volumes: [] };
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fakeCgroup(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'meso-fake-cgroup-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
}

const noPids = async (): Promise<number[]> => [];

describe('cgroups isolator, v2', () => {
  it('writes cpu.weight, cpu.max (the quota with CFS, else max) and memory.max, swap off', async () => {
    const dir = await fakeCgroup({ 'cgroup.procs': '', 'memory.swap.max': 'max\n' });
    await cgroupsIsolator({ cgroups: { version: 2, dir }, enableCfs: true, watchIntervalMs: 100 }).update?.(limits);
    expect(await readFile(join(dir, 'cpu.weight'), 'utf8')).toBe('20');
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('50000 100000');
    expect(await readFile(join(dir, 'memory.max'), 'utf8')).toBe(String(96 * MB));
    expect(await readFile(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    await cgroupsIsolator({ cgroups: { version: 2, dir }, enableCfs: false, watchIntervalMs: 100 }).update?.(limits);
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('max 100000');
  });

  it('reads usage from cpu.stat, memory.stat and cgroup.procs', async () => {
    const dir = await fakeCgroup({ 'cgroup.procs': '10\n11\n', 'cpu.stat': 'usage_usec 3500000\nuser_usec 3000000\nsystem_usec 500000\n', 'memory.stat': 'anon 52428800\nfile 1000\n' });
    const u = await cgroupsIsolator({ cgroups: { version: 2, dir }, enableCfs: false, watchIntervalMs: 100 }).usage?.(noPids);
    expect(u).toEqual({ cpusUserTimeSecs: 3, cpusSystemTimeSecs: 0.5, memRssBytes: 50 * MB, processes: 2 });
  });

  it('reports a memory limitation once memory.events counts an OOM kill, with the peak', async () => {
    const dir = await fakeCgroup({ 'cgroup.procs': '', 'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n', 'memory.peak': String(96 * MB) });
    const iso = cgroupsIsolator({ cgroups: { version: 2, dir }, enableCfs: false, watchIntervalMs: 100 });
    await iso.update?.(limits);
    expect(await iso.check?.(noPids, limits)).toBeUndefined();
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n');
    expect(await iso.check?.(noPids, limits)).toEqual({
      reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION_MEMORY,
      message: "Memory limit exceeded: the container's limit is 96 MB, maximum used 96.0 MB; the kernel killed 1 of its processes",
    });
  });
});

describe('cgroups isolator, v1', () => {
  it('writes cpu.shares, the CFS period and quota, and the memory limit (with memsw where there is swap accounting)', async () => {
    const cpu = await fakeCgroup({});
    const memory = await fakeCgroup({ 'memory.memsw.limit_in_bytes': '9223372036854771712' });
    await cgroupsIsolator({ cgroups: { version: 1, cpu, cpuacct: cpu, memory }, enableCfs: true, watchIntervalMs: 100 }).update?.(limits);
    expect(await readFile(join(cpu, 'cpu.shares'), 'utf8')).toBe('512');
    expect(await readFile(join(cpu, 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    expect(await readFile(join(cpu, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(await readFile(join(memory, 'memory.limit_in_bytes'), 'utf8')).toBe(String(96 * MB));
    expect(await readFile(join(memory, 'memory.memsw.limit_in_bytes'), 'utf8')).toBe(String(96 * MB));
  });

  it('reads the OOM kill counter of memory.oom_control', async () => {
    const cpu = await fakeCgroup({});
    const memory = await fakeCgroup({ 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', 'memory.max_usage_in_bytes': String(100 * MB) });
    const l = await cgroupsIsolator({ cgroups: { version: 1, cpu, cpuacct: cpu, memory }, enableCfs: false, watchIntervalMs: 100 }).check?.(noPids, limits);
    expect(l?.reason).toBe(TaskStatus_Reason.REASON_CONTAINER_LIMITATION_MEMORY);
    expect(l?.message).toMatch(/maximum used 100\.0 MB; the kernel killed 2 of its processes$/);
  });
});
