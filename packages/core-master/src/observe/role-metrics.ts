import { sumStatistics } from '../agents/agent-usage.js';
import type { MasterModel } from '../model/model.js';
import { QUOTA_RESOURCES } from '../roles/role-config.js';
import { roleViews } from '../roles/role-views.js';
import type { Lines } from './metrics.js';

/**
 * Per-role gauges (weight; allocated and quota per scalar) and the cluster's usage: the sum
 * of every agent's latest report (`meso_master_usage_*`, as Mesos's `/monitor/statistics`
 * field names).
 */
export function renderRoleAndUsageMetrics(l: Lines, model: MasterModel): void {
  const roles = roleViews(model);
  l.metric('meso_master_role_weight', 'gauge', 'Weight of each known role (1 unless set).', roles.map((r) => [{ role: r.name }, r.weight]));
  l.metric(
    'meso_master_role_allocated',
    'gauge',
    "Scalars held by each role's tasks, executors and outstanding offers.",
    roles.flatMap((r) => QUOTA_RESOURCES.map((resource) => [{ role: r.name, resource }, r.allocated.scalar(resource)] as [Record<string, string>, number])),
  );
  l.metric(
    'meso_master_role_quota',
    'gauge',
    'Quota limit of each role, per scalar it limits.',
    roles.flatMap((r) => (r.quota ? r.quota.toList() : []).flatMap((q) => (q.kind === 'scalar' ? [[{ role: r.name, resource: q.name }, q.value] as [Record<string, string>, number]] : []))),
  );
  const usage = sumStatistics([...model.agents.values()].map((a) => a.usage));
  const gauge = (name: string, help: string, value: number): void => l.metric(`meso_master_usage_${name}`, 'gauge', help, [[{}, value]]);
  gauge('cpus_user_time_secs', 'User cpu time of every executor, summed over the agents (latest samples).', usage.cpusUserTimeSecs);
  gauge('cpus_system_time_secs', 'System cpu time of every executor, summed over the agents (latest samples).', usage.cpusSystemTimeSecs);
  gauge('mem_rss_bytes', 'Resident memory of every executor, summed over the agents (latest samples).', usage.memRssBytes);
  gauge('disk_used_bytes', 'Disk used by every executor sandbox (and volumes), summed over the agents (latest samples).', usage.diskUsedBytes);
  gauge('processes', 'Processes of every executor, summed over the agents (latest samples).', usage.processes);
}
