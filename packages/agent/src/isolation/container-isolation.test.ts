import { FakeClock, silentLogger, TaskStatus_Reason } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { ContainerIsolation } from './container-isolation.js';
import type { ContainerLimits } from './limits.js';
import type { ContainerIsolator, Limitation } from './types.js';

const MB = 1024 * 1024;
const limits = (memMb: number, cpus = 1): ContainerLimits => ({ cpus, memBytes: memMb * MB, diskBytes: 0, ports: [], volumes: [] });

function isolation(parts: ContainerIsolator[], clock = new FakeClock()): ContainerIsolation {
  return new ContainerIsolation('run-1', parts, limits(64), { clock, logger: silentLogger, cpuQuota: false, processes: async () => [] });
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('a container isolation', () => {
  it("joins the cgroups in a shell before exec'ing (through the pid namespace), keeping argv[0] with bash", () => {
    const iso = isolation([
      { name: 'cgroups', procsFiles: ["/cg/cpu/run-1/cgroup.procs", "/cg/it's/cgroup.procs"] },
      { name: 'ns', wrap: (c) => ({ file: 'unshare', args: ['--pid', '--', c.file, ...c.args] }) },
    ]);
    expect(iso.wrap({ file: '/usr/bin/exe', args: ['a b'], argv0: 'exe-name' })).toEqual({
      file: '/bin/sh',
      args: [
        '-c',
        `echo $$ > '/cg/cpu/run-1/cgroup.procs' && echo $$ > '/cg/it'\\''s/cgroup.procs' && exec "$@"`,
        'meso-container',
        'unshare',
        '--pid',
        '--',
        '/bin/bash',
        '-c',
        'exec -a "$0" "$@"',
        'exe-name',
        '/usr/bin/exe',
        'a b',
      ],
    });
    // Nothing to join or wrap: the command as it is.
    expect(isolation([{ name: 'disk' }]).wrap({ file: 'x', args: [], argv0: 'y' })).toEqual({ file: 'x', args: [], argv0: 'y' });
  });

  it('never lowers the memory limit it applies, but follows the other limits', async () => {
    const seen: ContainerLimits[] = [];
    const iso = isolation([{ name: 'rec', update: async (l) => void seen.push(l) }]);
    await iso.update(limits(64, 1));
    await iso.update(limits(128, 2));
    await iso.update(limits(32, 0.5));
    expect(seen.map((l) => [l.memBytes / MB, l.cpus])).toEqual([
      [64, 1],
      [128, 2],
      [128, 0.5],
    ]);
  });

  it('watches at each isolator interval; the first limitation resolves `limited` once and stops the watchers', async () => {
    const clock = new FakeClock();
    let memChecks = 0;
    let diskChecks = 0;
    const over: Limitation = { reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION_DISK, message: 'disk' };
    const iso = isolation(
      [
        { name: 'mem', urgent: true, watchIntervalMs: 100, check: async () => void memChecks++ },
        { name: 'disk', watchIntervalMs: 1000, check: async () => (++diskChecks >= 2 ? over : undefined) },
      ],
      clock,
    );
    iso.start();
    for (let t = 0; t < 25; t++) {
      clock.advance(100);
      await flush();
    }
    expect(await iso.limited).toBe(over);
    expect(diskChecks).toBe(2);
    const before = memChecks;
    expect(before).toBeGreaterThanOrEqual(15);
    clock.advance(5_000);
    await flush();
    expect(memChecks).toBe(before);
    expect(clock.pending()).toBe(0);
    // Later checks answer the limitation found.
    expect(await iso.check(true)).toBe(over);
  });

  it('checks only the urgent isolators when asked (a task ended: was it the OOM killer?)', async () => {
    const calls: string[] = [];
    const iso = isolation([
      { name: 'mem', urgent: true, check: async () => void calls.push('mem') },
      { name: 'ports', check: async () => void calls.push('ports') },
    ]);
    expect(await iso.check(true)).toBeUndefined();
    expect(calls).toEqual(['mem']);
  });

  it('merges the usage of its isolators with the limits; a failing one is skipped', async () => {
    const iso = isolation([
      { name: 'cg', usage: async () => ({ cpusUserTimeSecs: 1, cpusSystemTimeSecs: 0.5, memRssBytes: 10, processes: 2 }) },
      { name: 'broken', usage: async () => Promise.reject(new Error('gone')) },
      { name: 'disk', usage: async () => ({ diskUsedBytes: 4096 }) },
    ]);
    expect(await iso.usage(1_700_000_000_000)).toMatchObject({
      timestamp: 1_700_000_000,
      cpusUserTimeSecs: 1,
      cpusSystemTimeSecs: 0.5,
      memRssBytes: 10,
      processes: 2,
      diskUsedBytes: 4096,
      cpusLimit: 1,
      cpusQuota: 0,
      memLimitBytes: 64 * MB,
    });
  });
});
