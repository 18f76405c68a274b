import { appToJson } from './app-definition.js';
import type { MarathonCore } from './marathon.js';
import type { AppRecord, Deployment, TaskRecord } from './model.js';
import { isHealthy } from './planner.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** A task as Marathon shows it. */
export function taskJson(t: TaskRecord, rec: AppRecord | undefined): Record<string, unknown> {
  const checks = rec?.app.healthChecks.length ?? 0;
  return {
    id: t.taskId,
    appId: t.appId,
    host: t.host,
    ports: t.ports,
    servicePorts: [],
    slaveId: t.agentId,
    agentId: t.agentId,
    stagedAt: iso(t.stagedAt),
    startedAt: iso(t.startedAt),
    state: t.killRequestedAt !== undefined && t.state === 'TASK_RUNNING' ? 'TASK_KILLING' : t.state,
    version: t.version,
    ipAddresses: [],
    localVolumes: [],
    ...(checks > 0 && t.healthy !== undefined ? { healthCheckResults: [{ alive: t.healthy, taskId: t.taskId, instanceId: t.taskId, consecutiveFailures: t.healthy ? 0 : 1 }] } : {}),
  };
}

/** What `embed` asks for in app lists. */
export interface Embed {
  tasks: boolean;
  counts: boolean;
  deployments: boolean;
  lastTaskFailure: boolean;
}

/** An app with Marathon's read-only status fields. */
export function appJson(core: MarathonCore, rec: AppRecord, embed: Embed): Record<string, unknown> {
  const tasks = core.state.tasksOf(rec.app.id);
  const running = tasks.filter((t) => t.state === 'TASK_RUNNING');
  const out: Record<string, unknown> = {
    ...appToJson(rec.app),
    version: rec.version,
    versionInfo: { lastScalingAt: rec.lastScalingAt, lastConfigChangeAt: rec.lastConfigChangeAt },
  };
  if (embed.counts) {
    Object.assign(out, {
      tasksStaged: tasks.filter((t) => t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING').length,
      tasksRunning: running.length,
      tasksHealthy: rec.app.healthChecks.length > 0 ? running.filter((t) => isHealthy(t, rec.app)).length : 0,
      tasksUnhealthy: rec.app.healthChecks.length > 0 ? running.filter((t) => t.healthy === false).length : 0,
    });
  }
  if (embed.deployments) out['deployments'] = core.locksOf(rec.app.id).map((d) => ({ id: d.id }));
  if (embed.tasks) out['tasks'] = tasks.map((t) => taskJson(t, rec));
  if (embed.lastTaskFailure && rec.lastTaskFailure) out['lastTaskFailure'] = rec.lastTaskFailure;
  const why = core.blockedReason(rec.app.id);
  if (why) out['whyBlocked'] = why;
  return out;
}

/** A deployment as `/v2/deployments` shows it, with our `whyBlocked`. */
export function deploymentJson(core: MarathonCore, d: Deployment): Record<string, unknown> {
  const step = d.steps[d.currentStep];
  const why = core.whyBlocked(d);
  return {
    id: d.id,
    version: d.version,
    affectedApps: d.affectedApps,
    affectedPods: [],
    steps: d.steps,
    currentActions: (step?.actions ?? []).map((a) => ({
      ...a,
      readinessCheckResults: core.state.tasksOf(a.app).flatMap((t) => {
        const ready = core.readiness(t);
        const name = core.state.apps.get(a.app)?.app.readinessChecks[0]?.name;
        return ready === undefined || t.state !== 'TASK_RUNNING' ? [] : [{ name, taskId: t.taskId, ready, lastResponse: null }];
      }),
    })),
    currentStep: Math.min(d.currentStep + 1, d.steps.length),
    totalSteps: d.steps.length,
    deadline: new Date(d.deadline).toISOString(),
    ...(why ? { whyBlocked: why } : {}),
  };
}

/** `/v2/groups`: the tree of groups implied by the app ids. */
export function groupJson(core: MarathonCore, groupId: string, embed: Embed): Record<string, unknown> {
  const prefix = groupId === '/' ? '/' : `${groupId}/`;
  const apps = core.listApps().filter((r) => r.app.id.startsWith(prefix));
  const direct = apps.filter((r) => r.app.id.slice(prefix.length).indexOf('/') === -1);
  const subgroups = new Set(apps.map((r) => r.app.id.slice(prefix.length)).filter((rest) => rest.includes('/')).map((rest) => `${prefix}${rest.split('/')[0]}`));
  const versions = apps.map((r) => r.version).sort();
  return {
    id: groupId,
    apps: direct.map((r) => appJson(core, r, embed)),
    groups: [...subgroups].sort().map((g) => groupJson(core, g, embed)),
    pods: [],
    dependencies: [],
    version: versions[versions.length - 1] ?? new Date(0).toISOString(),
  };
}
