import type { MasterState, StateTask } from './clients.js';

const num = (v: number | string | undefined): number => (typeof v === 'number' ? v : 0);
/** Sums of scalar resources, rounded to what the master reports (fractions of a cpu add up with float error). */
const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Agents whose used (or used + offered) scalars exceed their totals, as messages (none expected). */
export function overcommitted(state: MasterState): string[] {
  const out: string[] = [];
  for (const a of state.agents) {
    for (const name of ['cpus', 'mem', 'disk']) {
      const total = num(a.resources.total[name]);
      const used = round(num(a.resources.used[name]) + num(a.resources.offered[name]));
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

/** The scalar `name` a framework holds as used at the master. */
export function usedBy(state: MasterState, framework: string, name = 'cpus'): number {
  return round(num(state.frameworks.find((f) => f.name === framework)?.resources.used[name]));
}

/** The agent's hostname for an agent id. */
export function hostOf(state: MasterState, agentId: string): string | undefined {
  return state.agents.find((a) => a.id === agentId)?.hostname;
}
