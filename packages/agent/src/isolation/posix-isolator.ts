// The posix isolators (posix/cpu, posix/mem), where cgroups cannot be used: usage from
// /proc over every process of the container, and the memory limit enforced by polling —
// a container whose processes' resident memory exceeds it is killed. No cpu limit.
import { TaskStatus_Reason } from '@meso/proto';
import type { ContainerLimits } from './limits.js';
import { processesUsage } from './proc-usage.js';
import type { ContainerIsolator, Limitation, UsagePart } from './types.js';

const MB = 1024 * 1024;

export function posixIsolator(o: { memory: boolean; watchIntervalMs: number }): ContainerIsolator {
  return {
    name: 'posix',
    urgent: true,
    watchIntervalMs: o.memory ? o.watchIntervalMs : 0,
    async usage(pids): Promise<UsagePart> {
      const u = await processesUsage(await pids());
      return { cpusUserTimeSecs: u.userSecs, cpusSystemTimeSecs: u.systemSecs, memRssBytes: u.rssBytes, processes: u.processes };
    },
    async check(pids, limits: ContainerLimits): Promise<Limitation | undefined> {
      if (!o.memory || limits.memBytes <= 0) return undefined;
      const u = await processesUsage(await pids());
      if (u.rssBytes <= limits.memBytes) return undefined;
      return {
        reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION_MEMORY,
        message: `Memory limit exceeded: the container's ${u.processes} processes use ${(u.rssBytes / MB).toFixed(1)} MB resident, over its limit of ${(limits.memBytes / MB).toFixed(0)} MB`,
      };
    },
  };
}
