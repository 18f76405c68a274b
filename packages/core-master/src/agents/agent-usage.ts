import type { ResourceStatistics, ResourceUsage } from '@meso/proto';
import type { Master } from '../master.js';

const SUMMED = ['cpusUserTimeSecs', 'cpusSystemTimeSecs', 'cpusLimit', 'cpusQuota', 'memRssBytes', 'memLimitBytes', 'diskUsedBytes', 'diskLimitBytes', 'processes'] as const;

/** Usage with every field 0. */
export function emptyStatistics(): ResourceStatistics {
  return { timestamp: 0, cpusUserTimeSecs: 0, cpusSystemTimeSecs: 0, cpusLimit: 0, cpusQuota: 0, memRssBytes: 0, memLimitBytes: 0, diskUsedBytes: 0, diskLimitBytes: 0, processes: 0 };
}

/** The sum of several samples; `timestamp` is the latest. Non-finite or negative values count as 0. */
export function sumStatistics(samples: Iterable<ResourceStatistics | undefined>): ResourceStatistics {
  const sum = emptyStatistics();
  for (const s of samples) {
    if (!s) continue;
    for (const k of SUMMED) {
      const v = s[k];
      if (Number.isFinite(v) && v > 0) sum[k] += v;
    }
    if (Number.isFinite(s.timestamp) && s.timestamp > sum.timestamp) sum.timestamp = s.timestamp;
  }
  return sum;
}

/**
 * An agent's periodic usage report: the sum over its executors replaces the agent's
 * previous one in the model (volatile: never persisted; a re-registration clears it until
 * the next report).
 */
export function usageReported(master: Master, agentId: string, usage: ResourceUsage): void {
  master.commitLocal({ type: 'agentUsageReported', agentId, usage: sumStatistics(usage.executors.map((e) => e.statistics)) });
}
