import type { ResourceStatistics } from '@meso/proto';

/** Usage as `/state` shows it, with Mesos's field names (`/monitor/statistics`). */
export interface UsageJson {
  /** Seconds since the epoch of the latest sample. */
  timestamp: number;
  cpus_user_time_secs: number;
  cpus_system_time_secs: number;
  cpus_limit: number;
  cpus_quota: number;
  mem_rss_bytes: number;
  mem_limit_bytes: number;
  disk_used_bytes: number;
  disk_limit_bytes: number;
  processes: number;
}

/** ResourceStatistics → its JSON form. */
export function usageToJson(s: ResourceStatistics): UsageJson {
  return {
    timestamp: s.timestamp,
    cpus_user_time_secs: s.cpusUserTimeSecs,
    cpus_system_time_secs: s.cpusSystemTimeSecs,
    cpus_limit: s.cpusLimit,
    cpus_quota: s.cpusQuota,
    mem_rss_bytes: s.memRssBytes,
    mem_limit_bytes: s.memLimitBytes,
    disk_used_bytes: s.diskUsedBytes,
    disk_limit_bytes: s.diskLimitBytes,
    processes: s.processes,
  };
}
