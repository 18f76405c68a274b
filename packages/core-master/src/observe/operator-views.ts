import { attributesToWire, resourcesToWire, type AgentState, type ClusterState, type FrameworkState, type Metric } from '@meso/proto';
import { agentDisplayStatus, type AgentRecord, type FrameworkRecord, type MasterModel } from '../model/model.js';
import { sumRoles } from '../model/snapshots.js';
import { MASTER_VERSION } from '../version.js';
import { taskToWire } from './wire-views.js';

/** An agent as the operator API shows it. */
export function agentState(model: MasterModel, a: AgentRecord): AgentState {
  return {
    info: {
      id: { value: a.id },
      hostname: a.hostname,
      resources: resourcesToWire(a.total),
      attributes: attributesToWire(a.attributes),
      endpoint: a.endpoint,
      bootId: a.bootId,
      version: a.version,
      isolators: a.isolators ?? [],
    },
    status: agentDisplayStatus(model, a),
    total: resourcesToWire(a.total),
    used: resourcesToWire(a.used),
    offered: resourcesToWire(a.offered),
    free: resourcesToWire(a.total.subtract(a.used).subtract(a.offered)),
    registeredTime: a.registeredTime / 1000,
    reregisteredTime: (a.reregisteredTime ?? 0) / 1000,
    usage: a.usage,
  };
}

/** A framework as the operator API shows it. */
export function frameworkState(model: MasterModel, f: FrameworkRecord): FrameworkState {
  return {
    info: f.info,
    active: true,
    connected: f.connected,
    used: resourcesToWire(sumRoles(f.used)),
    offered: resourcesToWire(sumRoles(f.offered)),
    registeredTime: f.registeredTime / 1000,
    unregisteredTime: (f.unregisteredTime ?? 0) / 1000,
    suppressedRoles: [...f.suppressedRoles].sort(),
    outstandingOffers: [...model.offers.values()].filter((o) => o.frameworkId === f.id).length,
  };
}

/** The whole cluster as the operator API shows it. */
export function clusterState(model: MasterModel): ClusterState {
  return {
    masterId: model.masterId,
    version: MASTER_VERSION,
    startTime: model.startTime / 1000,
    electedTime: model.startTime / 1000,
    agents: [...model.agents.values()].map((a) => agentState(model, a)),
    frameworks: [...model.frameworks.values()].map((f) => frameworkState(model, f)),
    tasks: [...model.tasks.values()].map(taskToWire),
    completedTasks: model.completedTasks.map(taskToWire),
    completedFrameworks: [],
  };
}

/** Prometheus text back to Metric messages (gauges and counters; histogram lines keep their names). */
export function metricsFromText(text: string): Metric[] {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const out: Metric[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) {
      const [, , name, ...rest] = line.split(' ');
      help.set(name ?? '', rest.join(' '));
    } else if (line.startsWith('# TYPE ')) {
      const [, , name, t] = line.split(' ');
      type.set(name ?? '', t ?? '');
    } else if (line.trim() !== '') {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) continue;
      const name = m[1] ?? '';
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => ({ key: x[1] ?? '', value: x[2] ?? '' }));
      out.push({ name, value: Number(m[3]), labels, help: help.get(name) ?? help.get(base) ?? '', type: type.get(name) ?? type.get(base) ?? '' });
    }
  }
  return out;
}
