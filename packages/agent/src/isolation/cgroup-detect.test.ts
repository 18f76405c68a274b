import { describe, expect, it } from 'vitest';
import { cgroupDir, detectCgroups, parseMountInfo, parseProcCgroup, type CgroupProbe } from './cgroup-detect.js';

// Real lines from the machines this has to run on.
const HYBRID_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_OWN = `8:pids:/
4:memory:/process_api/42ef
2:cpuacct:/
1:cpu:/
0::/`;
const V2_MOUNTS = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const V2_OWN = '0::/system.slice/meso-agent.service';
const COMOUNTED = `25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
26 20 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory`;
const COMOUNTED_OWN = `3:cpu,cpuacct:/agents
2:memory:/agents`;
const CONTAINER_MOUNTS = `500 400 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw`;

function probe(writable: string[], controllers: Record<string, string[]> = {}): CgroupProbe {
  return { writable: (d) => writable.includes(d), v2Controllers: (d) => controllers[d] };
}

describe('cgroup detection', () => {
  it.each([
    {
      name: 'hybrid (v1 controllers writable, cgroup2 without controllers): v1, under the agent\'s own cgroup of each hierarchy',
      mounts: HYBRID_MOUNTS,
      own: HYBRID_OWN,
      probe: probe(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/memory/process_api/42ef', '/sys/fs/cgroup/unified'], { '/sys/fs/cgroup/unified': [] }),
      want: { version: 1, dirs: { cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', memory: '/sys/fs/cgroup/memory/process_api/42ef' } },
    },
    {
      name: 'pure v2 with cpu and memory delegated: v2 in the agent\'s cgroup',
      mounts: V2_MOUNTS,
      own: V2_OWN,
      probe: probe(['/sys/fs/cgroup/system.slice/meso-agent.service'], { '/sys/fs/cgroup/system.slice/meso-agent.service': ['cpuset', 'cpu', 'io', 'memory', 'pids'] }),
      want: { version: 2, dir: '/sys/fs/cgroup/system.slice/meso-agent.service', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] },
    },
    {
      name: 'co-mounted cpu,cpuacct: both in one hierarchy',
      mounts: COMOUNTED,
      own: COMOUNTED_OWN,
      probe: probe(['/sys/fs/cgroup/cpu,cpuacct/agents', '/sys/fs/cgroup/memory/agents']),
      want: { version: 1, dirs: { cpu: '/sys/fs/cgroup/cpu,cpuacct/agents', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/agents', memory: '/sys/fs/cgroup/memory/agents' } },
    },
  ])('$name', ({ mounts, own, probe: p, want }) => {
    expect(detectCgroups(parseMountInfo(mounts), parseProcCgroup(own), p)).toEqual(want);
  });

  it.each([
    { name: 'nothing mounted', mounts: '', own: '', probe: probe([]), reason: 'no cgroup file system is mounted' },
    {
      name: 'hybrid, read-only (an unprivileged agent)',
      mounts: HYBRID_MOUNTS,
      own: HYBRID_OWN,
      probe: probe([], { '/sys/fs/cgroup/unified': [] }),
      reason: 'cgroup2 at /sys/fs/cgroup/unified offers no cpu, memory controller in /sys/fs/cgroup/unified; cgroup v1 /sys/fs/cgroup/cpu is not writable by the agent',
    },
    {
      name: 'v2 without the memory controller delegated',
      mounts: V2_MOUNTS,
      own: V2_OWN,
      probe: probe(['/sys/fs/cgroup/system.slice/meso-agent.service'], { '/sys/fs/cgroup/system.slice/meso-agent.service': ['cpu', 'pids'] }),
      reason: 'cgroup2 at /sys/fs/cgroup offers no memory controller in /sys/fs/cgroup/system.slice/meso-agent.service',
    },
    {
      name: 'v2 read-only',
      mounts: V2_MOUNTS,
      own: V2_OWN,
      probe: probe([], { '/sys/fs/cgroup/system.slice/meso-agent.service': ['cpu', 'memory'] }),
      reason: 'cgroup2 /sys/fs/cgroup/system.slice/meso-agent.service is not writable by the agent',
    },
    {
      name: 'v1 without a memory hierarchy',
      mounts: '32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct',
      own: '2:cpuacct:/\n1:cpu:/',
      probe: probe(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuacct']),
      reason: 'cgroup v1 controller memory is not mounted',
    },
  ])('none: $name', ({ mounts, own, probe: p, reason }) => {
    expect(detectCgroups(parseMountInfo(mounts), parseProcCgroup(own), p)).toEqual({ version: 0, reason });
  });

  it('maps a cgroup path inside a mount whose root is a sub-tree (a container)', () => {
    const [m] = parseMountInfo(CONTAINER_MOUNTS);
    expect(cgroupDir(m!, '/docker/abc')).toBe('/sys/fs/cgroup');
    expect(cgroupDir(m!, '/docker/abc/agent')).toBe('/sys/fs/cgroup/agent');
  });

  it('parses mountinfo with optional fields and escaped spaces, and skips malformed lines', () => {
    const parsed = parseMountInfo(`${V2_MOUNTS}\ngarbage\n40 1 0:1 / /mnt/with\\040space rw - cgroup cgroup rw,memory`);
    expect(parsed).toEqual([
      { root: '/', mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2', superOptions: ['rw', 'nsdelegate', 'memory_recursiveprot'] },
      { root: '/', mountPoint: '/mnt/with space', fsType: 'cgroup', superOptions: ['rw', 'memory'] },
    ]);
    expect(parseProcCgroup('12:name=systemd:/x\n0::/\nbad')).toEqual([
      { id: 12, controllers: ['name=systemd'], path: '/x' },
      { id: 0, controllers: [], path: '/' },
    ]);
  });
});
