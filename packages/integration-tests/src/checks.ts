import type { MasterState, StateTask } from './clients.js';

/** Sums of scalar resources, rounded to what the master reports (fractions of a cpu add up with float error). */
const round = (x: number): number => Math.round(x * 1000) / 1000;

/** A scalar of a /state resources map, unreserved (`cpus`) and reserved for any role (`cpus(redis)`) together. */
export function scalar(resources: Record<string, number | string>, name: string): number {
  let sum = 0;
  for (const [key, value] of Object.entries(resources)) {
    if (typeof value === 'number' && (key === name || key.startsWith(`${name}(`))) sum += value;
  }
  return round(sum);
}

/** Agents whose used (or used + offered) scalars exceed their totals, as messages (none expected). */
export function overcommitted(state: MasterState): string[] {
  const out: string[] = [];
  for (const a of state.agents) {
    for (const name of ['cpus', 'mem', 'disk']) {
      const total = scalar(a.resources.total, name);
      const used = round(scalar(a.resources.used, name) + scalar(a.resources.offered, name));
      if (used > total) out.push(`${a.hostname}: ${name} used+offered ${used} > total ${total}`);
    }
  }
  return out;
}

/** The framework's live tasks in /state (by the framework's registered name). */
export function tasksOf(state: MasterState, framework: string, states = ['TASK_RUNNING']): StateTask[] {
  const fw = state.frameworks.find((f) => f.name === framework);
  return fw ? state.tasks.filter((t) => t.frameworkId === fw.id && states.includes(t.state)) : [];
}

/** The scalar `name` a framework holds as used at the master (unreserved and reserved). */
export function usedBy(state: MasterState, framework: string, name = 'cpus'): number {
  return scalar(state.frameworks.find((f) => f.name === framework)?.resources.used ?? {}, name);
}

/** The agent's hostname for an agent id. */
export function hostOf(state: MasterState, agentId: string): string | undefined {
  return state.agents.find((a) => a.id === agentId)?.hostname;
}
