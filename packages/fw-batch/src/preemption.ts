import { type SharePolicy, type UserUsage, weightOf, weightedShare } from './fair-share.js';
import type { Constraint } from './job.js';
import { constraintViolation } from './placement.js';
import { addScalars, fitsIn, subtractScalars, type Scalars, ZERO } from './scalars.js';

/** A running instance that could be preempted. */
export interface RunningTask {
  key: string;
  taskId: string;
  user: string;
  agentId: string;
  resources: Scalars;
  startedAt: number;
}

/** An agent as the planner sees it: what is free on it now (offers in hand) and its attributes. */
export interface AgentView {
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
  free: Scalars;
}

/** A task that waits and would like resources preempted for it. */
export interface WaitingTask {
  key: string;
  user: string;
  resources: Scalars;
  constraints: readonly Constraint[];
}

/** The planner's answer: kill `victims` on `agentId`, after which `task` fits there. */
export interface PreemptionPlan {
  task: string;
  agentId: string;
  victims: RunningTask[];
}

/**
 * Plans preemption for one waiting task, or returns undefined. A plan is made only when
 * (1) after killing the victims the task actually fits on that agent (free + victims ⊇ need,
 * constraints accepted), and (2) every victim's user stays at or above the waiting user's
 * weighted dominant share once the task runs — preemption restores fairness, never inverts it.
 * Victims are taken from the most over-served users first, newest first (least work lost); the
 * agent needing the fewest victims wins. Pure.
 */
export function planPreemption(task: WaitingTask, running: readonly RunningTask[], agents: readonly AgentView[], usage: ReadonlyMap<string, UserUsage>, total: Scalars, policy: SharePolicy): PreemptionPlan | undefined {
  const shareAfter = (user: string, resources: Scalars): number => weightedShare(resources, total, weightOf(policy, user));
  const mine = usage.get(task.user)?.resources ?? ZERO;
  const myShare = shareAfter(task.user, addScalars(mine, task.resources));
  let best: PreemptionPlan | undefined;
  for (const agent of agents) {
    if (constraintViolation(task.constraints, agent)) continue;
    if (fitsIn(agent.free, task.resources)) continue; // no preemption needed here: placement will do
    const candidates = running
      .filter((r) => r.agentId === agent.agentId && r.user !== task.user)
      .sort((a, b) => {
        const sa = shareAfter(a.user, usage.get(a.user)?.resources ?? ZERO);
        const sb = shareAfter(b.user, usage.get(b.user)?.resources ?? ZERO);
        return sb - sa || b.startedAt - a.startedAt;
      });
    const left = new Map<string, Scalars>();
    let free = agent.free;
    const victims: RunningTask[] = [];
    for (const c of candidates) {
      if (fitsIn(free, task.resources)) break;
      const before = left.get(c.user) ?? usage.get(c.user)?.resources ?? ZERO;
      const after = subtractScalars(before, c.resources);
      if (shareAfter(c.user, after) < myShare - 1e-12) continue; // would make the victim's user worse off than us
      left.set(c.user, after);
      free = addScalars(free, c.resources);
      victims.push(c);
    }
    if (!fitsIn(free, task.resources)) continue;
    if (!best || victims.length < best.victims.length) best = { task: task.key, agentId: agent.agentId, victims };
  }
  return best;
}
