import { activeMembers, masterOf, type InstanceRecord, type Observation } from './model.js';

/**
 * Convergence: what to tell each answering server so that it agrees with the recorded topology.
 * A pure function of the instance, what the monitor last saw, and the time; the engine carries
 * the actions out (and re-plans at the next round, so a lost command is simply sent again).
 */

/** One thing to do. */
export type ConvergeAction =
  /** The recorded master answers as a replica (a promotion not yet carried out): REPLICAOF NO ONE. */
  | { type: 'promote'; taskId: string }
  /** Replicate from the recorded master; `wasMaster` when it answered as a master (a second master, demoted). */
  | { type: 'replicate'; taskId: string; to: { ip: string; port: number }; wasMaster: boolean }
  /** CONFIG SET maxmemory to the instance's capacity. */
  | { type: 'maxmemory'; taskId: string; mb: number }
  /** A fenced server still answers: kill its task again. */
  | { type: 'kill'; taskId: string }
  /** Every server runs and replicates from the master: CREATING becomes RUNNING. */
  | { type: 'running' };

/** Policy of convergence. */
export interface ConvergePolicy {
  /** An observation older than this is not acted on. */
  downAfterMs: number;
  /** A fenced server that still answers is killed again this long after the last kill. */
  rekillAfterMs: number;
  /** When fw-redis last asked to kill a task (0: never). */
  lastKillAt(taskId: string): number;
}

/** Plans the actions that bring the instance's servers to its recorded topology. */
export function planConvergence(inst: InstanceRecord, observations: ReadonlyMap<string, Observation>, nowMs: number, policy: ConvergePolicy): ConvergeAction[] {
  if (inst.status === 'DELETED') return [];
  const out: ConvergeAction[] = [];
  const master = masterOf(inst);
  const fresh = (o: Observation | undefined): o is Observation => o !== undefined && nowMs - o.at < policy.downAfterMs;
  const masterUsable = master !== undefined && master.state !== 'ENDED' && master.port > 0;
  for (const m of inst.members.filter((x) => x.state !== 'ENDED')) {
    const o = observations.get(m.taskId);
    if (!fresh(o)) continue;
    if (m.state === 'FENCED' && nowMs - policy.lastKillAt(m.taskId) > policy.rekillAfterMs) out.push({ type: 'kill', taskId: m.taskId });
    if (inst.status === 'DELETING') continue;
    if (m.taskId === inst.masterTaskId) {
      if (o.role !== 'master') out.push({ type: 'promote', taskId: m.taskId });
    } else if (masterUsable && (o.role === 'master' || o.masterHost !== master.ip || o.masterPort !== master.port)) {
      out.push({ type: 'replicate', taskId: m.taskId, to: { ip: master.ip, port: master.port }, wasMaster: o.role === 'master' });
    }
    if (m.state !== 'FENCED' && o.maxmemory !== inst.capacityMb * 1024 * 1024) out.push({ type: 'maxmemory', taskId: m.taskId, mb: inst.capacityMb });
  }
  const masterObs = master ? observations.get(master.taskId) : undefined;
  if (inst.status === 'CREATING' && master && fresh(masterObs) && masterObs.role === 'master') {
    const replicas = activeMembers(inst).filter((m) => m.taskId !== master.taskId);
    const synced = replicas.filter((m) => {
      const o = observations.get(m.taskId);
      return fresh(o) && o.role === 'slave' && o.linkUp === true && o.masterHost === master.ip && o.masterPort === master.port;
    });
    if (replicas.length === inst.replicas && synced.length === replicas.length) out.push({ type: 'running' });
  }
  return out;
}
