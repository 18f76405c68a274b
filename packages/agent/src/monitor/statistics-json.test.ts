import { ResourceStatistics } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { statisticsJson } from './statistics-json.js';

describe('/monitor/statistics JSON', () => {
  it("has Mesos's shape: one entry per executor with its statistics in snake case; cpus_quota only when a hard limit applies", () => {
    const statistics = ResourceStatistics.fromPartial({
      timestamp: 1700000000.5,
      cpusUserTimeSecs: 1.23456,
      cpusSystemTimeSecs: 0.5,
      cpusLimit: 0.5,
      cpusQuota: 0.5,
      memRssBytes: 1024,
      memLimitBytes: 2048,
      diskUsedBytes: 10,
      diskLimitBytes: 20,
      processes: 3,
    });
    const [a, b] = statisticsJson([
      { frameworkId: 'fw', executorId: 'e1', executorName: 'one', source: 's', statistics },
      { frameworkId: 'fw', executorId: 'e2', executorName: 'two', source: '', statistics: { ...statistics, cpusQuota: 0 } },
    ]);
    expect(a).toEqual({
      executor_id: 'e1',
      executor_name: 'one',
      framework_id: 'fw',
      source: 's',
      statistics: {
        timestamp: 1700000000.5,
        cpus_user_time_secs: 1.235,
        cpus_system_time_secs: 0.5,
        cpus_limit: 0.5,
        cpus_quota: 0.5,
        mem_rss_bytes: 1024,
        mem_limit_bytes: 2048,
        disk_used_bytes: 10,
        disk_limit_bytes: 20,
        processes: 3,
      },
    });
    expect(b?.statistics).not.toHaveProperty('cpus_quota');
  });
});
