// The JSON of GET /monitor/statistics, in Mesos's shape. Pure.
import type { ResourceStatistics } from '@meso/proto';

/** One executor's sample as the monitor holds it. */
export interface ExecutorSample {
  frameworkId: string;
  executorId: string;
  executorName: string;
  source: string;
  statistics: ResourceStatistics;
}

/** Mesos's `/monitor/statistics` entry. */
export interface ExecutorStatisticsJson {
  executor_id: string;
  executor_name: string;
  framework_id: string;
  source: string;
  statistics: {
    timestamp: number;
    cpus_user_time_secs: number;
    cpus_system_time_secs: number;
    cpus_limit: number;
    cpus_quota?: number;
    mem_rss_bytes: number;
    mem_limit_bytes: number;
    disk_used_bytes: number;
    disk_limit_bytes: number;
    processes: number;
  };
}

export function statisticsJson(samples: readonly ExecutorSample[]): ExecutorStatisticsJson[] {
  return samples.map((x) => {
    const s = x.statistics;
    return {
      executor_id: x.executorId,
      executor_name: x.executorName,
      framework_id: x.frameworkId,
      source: x.source,
      statistics: {
        timestamp: s.timestamp,
        cpus_user_time_secs: round(s.cpusUserTimeSecs),
        cpus_system_time_secs: round(s.cpusSystemTimeSecs),
        cpus_limit: s.cpusLimit,
        ...(s.cpusQuota > 0 ? { cpus_quota: s.cpusQuota } : {}),
        mem_rss_bytes: s.memRssBytes,
        mem_limit_bytes: s.memLimitBytes,
        disk_used_bytes: s.diskUsedBytes,
        disk_limit_bytes: s.diskLimitBytes,
        processes: s.processes,
      },
    };
  });
}

function round(secs: number): number {
  return Math.round(secs * 1000) / 1000;
}
