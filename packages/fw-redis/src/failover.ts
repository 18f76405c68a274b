import { activeMembers, masterOf, type InstanceRecord, type MemberRecord, type Observation } from './model.js';

/**
 * Failover decisions, after Redis Sentinel: pure functions of an instance, what the monitor last
 * saw of its servers, and the time. The engine records the decision (epoch + 1) before acting.
 */

/** A replica that may be promoted, with what its server last said. */
export interface Candidate {
  taskId: string;
  /** replica-priority: lower wins; 0 means never. */
  priority: number;
  /** Its replication offset: how much of the master's stream it has. */
  offset: number;
  /** Its run id (ties broken by the smallest, as Sentinel does). */
  runId: string;
}

/**
 * Sentinel's choice among replicas: those with priority 0 are never chosen; then the lowest
 * priority, then the largest replication offset, then the lexicographically smallest run id.
 */
export function chooseReplica(candidates: readonly Candidate[]): Candidate | undefined {
  const eligible = candidates.filter((c) => c.priority > 0);
  eligible.sort((a, b) => a.priority - b.priority || b.offset - a.offset || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  return eligible[0];
}

/** Policy of failure detection. */
export interface DetectionPolicy {
  /** A master whose probes failed for this long is down (Sentinel's down-after-milliseconds). */
  downAfterMs: number;
  /** Probes in a row that must have failed too (a slow fw-redis is not a silent master). */
  failedProbes: number;
}

/** Probes of a server failing since `since` (the first failure after its last answer), `count` of them. */
export interface ProbeFailures {
  since: number;
  count: number;
}

/** What to do about an instance's master. */
export type FailoverDecision =
  | { action: 'none' }
  /** Promote this replica (record epoch + 1 first). */
  | { action: 'promote'; to: string; reason: string }
  /** No replica can take over: forget the master and launch a new one. */
  | { action: 'replace-master'; reason: string };

/**
 * Why the master is down, or undefined when it is not: its task ended, or its probes have failed
 * (at least `failedProbes` of them) for `downAfterMs`. Only failed probes count, not the age of the
 * last answer: a fw-redis that was away or slow does not take its own silence for the master's.
 */
export function masterDownReason(instance: InstanceRecord, failing: ReadonlyMap<string, ProbeFailures>, nowMs: number, policy: DetectionPolicy): string | undefined {
  const master = masterOf(instance);
  if (!master) return undefined;
  if (master.state === 'ENDED' || master.state === 'FENCED') return `master ${master.taskId} ended (${master.message ?? master.state})`;
  if (master.state !== 'RUNNING') return undefined;
  const f = failing.get(master.taskId);
  if (f && f.count >= policy.failedProbes && nowMs - f.since >= policy.downAfterMs) return `master ${master.taskId} did not answer for ${Math.round((nowMs - f.since) / 100) / 10} s (${f.count} probes)`;
  return undefined;
}

/** The replicas that may take over: running, answering at their last probe, replicating. */
export function candidatesOf(instance: InstanceRecord, observations: ReadonlyMap<string, Observation>, failing: ReadonlyMap<string, ProbeFailures>): Candidate[] {
  const out: Candidate[] = [];
  for (const m of activeMembers(instance)) {
    if (m.taskId === instance.masterTaskId || m.state !== 'RUNNING' || failing.has(m.taskId)) continue;
    const o = observations.get(m.taskId);
    if (!o || o.role !== 'slave') continue;
    out.push({ taskId: m.taskId, priority: o.priority, offset: o.offset, runId: o.runId });
  }
  return out;
}

/** Decides whether an instance needs a failover, and to whom. */
export function decideFailover(instance: InstanceRecord, observations: ReadonlyMap<string, Observation>, failing: ReadonlyMap<string, ProbeFailures>, nowMs: number, policy: DetectionPolicy): FailoverDecision {
  if (instance.status === 'DELETING' || instance.status === 'DELETED') return { action: 'none' };
  const reason = masterDownReason(instance, failing, nowMs, policy);
  if (!reason) return { action: 'none' };
  const chosen = chooseReplica(candidatesOf(instance, observations, failing));
  if (chosen) return { action: 'promote', to: chosen.taskId, reason };
  // A master that is only silent (its task still runs) keeps its place until a replica can take
  // over; so does a dead one while replicas live that may yet become candidates (just launched,
  // or not yet seen by a monitor that just started).
  const master = masterOf(instance) as MemberRecord;
  if (master.state === 'RUNNING') return { action: 'none' };
  if (activeMembers(instance).some((m) => m.taskId !== master.taskId)) return { action: 'none' };
  return { action: 'replace-master', reason: `${reason}; no replica to promote` };
}
