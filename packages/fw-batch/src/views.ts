import type { BatchEngine } from './engine.js';
import { fairShareOrder, weightOf, weightedShare } from './fair-share.js';
import { dominantShare, ZERO } from './scalars.js';
import type { JobRecord } from './state.js';

/** The state a job shows: its stored status, or where an active job stands. */
export type JobState = 'waiting' | 'held' | 'queued' | 'running' | 'succeeded' | 'failed' | 'killed';

/** Where an active job stands (derived; only terminal statuses are stored). */
export function jobState(engine: BatchEngine, rec: JobRecord): JobState {
  if (rec.status !== 'active') return rec.status;
  if (rec.held) return 'held';
  if (!engine.depsReady(rec.job)) return 'waiting';
  return engine.state.tasksOf(rec.job.id).some((t) => t.state === 'running') ? 'running' : 'queued';
}

/** The JSON of a job: definition, state, per-state instance counts, and (with `detail`) every instance and attempt. */
export function jobView(engine: BatchEngine, rec: JobRecord, detail = false): Record<string, unknown> {
  const tasks = engine.state.tasksOf(rec.job.id);
  const counts: Record<string, number> = { pending: 0, running: 0, succeeded: 0, failed: 0, killed: 0 };
  for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
  const unschedulable = rec.status === 'active' ? engine.unschedulable(rec.job) : undefined;
  return {
    id: rec.job.id,
    user: rec.job.user,
    state: jobState(engine, rec),
    submittedAt: new Date(rec.submittedAt).toISOString(),
    ...(rec.endedAt ? { endedAt: new Date(rec.endedAt).toISOString() } : {}),
    ...(rec.message ? { message: rec.message } : {}),
    ...(unschedulable ? { unschedulable } : {}),
    instances: counts,
    attempts: tasks.reduce((n, t) => n + t.attempts.length, 0),
    job: { ...rec.job, maxRuntime: rec.job.maxRuntimeMs / 1000, expectedRuntime: rec.job.expectedRuntimeMs / 1000 },
    ...(detail
      ? {
          tasks: tasks.map((t) => ({
            index: t.index,
            state: t.state,
            failures: t.failures,
            ...(t.notBefore > engine.nowMs() ? { retryAt: new Date(t.notBefore).toISOString() } : {}),
            attempts: t.attempts,
          })),
        }
      : {}),
  };
}

/** Per user: running resources and count, weight, quota, dominant share, and share ÷ weight. */
export function usageView(engine: BatchEngine): Record<string, unknown> {
  const usage = engine.usage();
  const total = engine.total();
  const users = new Set<string>([...usage.keys(), ...Object.keys(engine.state.policy.weights), ...Object.keys(engine.state.policy.quotas)]);
  for (const rec of engine.state.jobs.values()) users.add(rec.job.user);
  const out: Record<string, unknown> = {};
  for (const user of [...users].sort()) {
    const u = usage.get(user) ?? { resources: ZERO, count: 0 };
    const w = weightOf(engine.state.policy, user);
    out[user] = {
      running: u.count,
      resources: u.resources,
      weight: w,
      ...(engine.state.policy.quotas[user] ? { quota: engine.state.policy.quotas[user] } : {}),
      dominantShare: round(dominantShare(u.resources, total)),
      weightedShare: round(weightedShare(u.resources, total, w)),
      pending: engine.pending().filter((t) => t.user === user).length,
    };
  }
  return { total, users: out };
}

const round = (n: number): number => Math.round(n * 10_000) / 10_000;

/**
 * Why the job is not running (or not finished): dependencies, holds, unschedulable (which
 * resource or constraint no agent has), quota, backoff, what the last offer round said, and
 * who is ahead of it in the fair-share order.
 */
export function whyView(engine: BatchEngine, rec: JobRecord): { id: string; state: JobState; reasons: string[] } {
  const state = jobState(engine, rec);
  const reasons: string[] = [];
  const job = rec.job;
  if (rec.status !== 'active') reasons.push(`the job ${rec.status}${rec.message ? `: ${rec.message}` : ''}`);
  else if (rec.held) reasons.push(rec.message ?? 'held: a dependency failed');
  else if (!engine.depsReady(job)) {
    const waiting = job.dependsOn.filter((d) => engine.state.jobs.get(d)?.status !== 'succeeded');
    reasons.push(`waiting for dependencies: ${waiting.map((d) => `${d} (${jobState(engine, engine.state.jobs.get(d)!)})`).join(', ')}`);
  } else {
    const unschedulable = engine.unschedulable(job);
    if (unschedulable) reasons.push(`unschedulable: ${unschedulable}`);
    const now = engine.nowMs();
    const tasks = engine.state.tasksOf(job.id);
    const backoff = tasks.filter((t) => t.state === 'pending' && t.notBefore > now);
    if (backoff.length > 0) reasons.push(`${backoff.length} instance(s) in retry backoff until ${new Date(Math.max(...backoff.map((t) => t.notBefore))).toISOString()}`);
    const last = new Set<string>();
    for (const t of tasks) {
      const r = engine.lastReasons.get(`${t.jobId}/${t.index}`);
      if (r) last.add(r);
    }
    for (const r of last) reasons.push(`last offer round: ${r}`);
    const pending = engine.pending(now);
    const { order, overQuota } = fairShareOrder(pending, engine.usage(), engine.total(), engine.state.policy);
    for (const t of tasks) {
      const q = overQuota.get(`${t.jobId}/${t.index}`);
      if (q) {
        reasons.push(`over quota of user ${job.user}: ${q}`);
        break;
      }
    }
    const first = order.findIndex((t) => t.jobId === job.id);
    if (first > 0) {
      const ahead = new Map<string, number>();
      for (const t of order.slice(0, first)) ahead.set(t.user, (ahead.get(t.user) ?? 0) + 1);
      const total = engine.total();
      const usage = engine.usage();
      reasons.push(
        `behind ${first} instance(s) in the fair-share order: ${[...ahead.entries()].map(([u, n]) => `${n} of ${u} (weighted share ${round(weightedShare(usage.get(u)?.resources ?? ZERO, total, weightOf(engine.state.policy, u)))})`).join(', ')}`,
      );
    }
    const running = tasks.filter((t) => t.state === 'running').length;
    if (running > 0) reasons.push(`${running} instance(s) running`);
    if (reasons.length === 0 && tasks.some((t) => t.state === 'pending')) reasons.push('waiting for an offer');
  }
  return { id: job.id, state, reasons };
}
