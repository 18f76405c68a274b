import { addScalars, dominantShare, type Scalars, ZERO } from './scalars.js';

/** A quota: hard caps on what one user may run at once (resources left out are not capped). */
export type Quota = Partial<Scalars> & { count?: number };

/** The fair-share policy: weights (default 1) and quotas per user. */
export interface SharePolicy {
  weights: Record<string, number>;
  quotas: Record<string, Quota>;
}

/** One instance waiting to be placed, as the pure decisions see it. */
export interface PendingTask {
  /** `${jobId}/${index}`. */
  key: string;
  jobId: string;
  index: number;
  user: string;
  priority: number;
  submittedAt: number;
  resources: Scalars;
}

/** What a user runs now. */
export interface UserUsage {
  resources: Scalars;
  count: number;
}

/** The weight of a user (1 unless set). */
export function weightOf(policy: SharePolicy, user: string): number {
  const w = policy.weights[user];
  return w !== undefined && w > 0 ? w : 1;
}

/** A user's dominant share divided by their weight: the DRF sort key (lower goes first). */
export function weightedShare(usage: Scalars, total: Scalars, weight: number): number {
  return dominantShare(usage, total) / weight;
}

/** Why `usage + task` breaks `quota` (undefined when it does not). */
export function quotaViolation(quota: Quota | undefined, usage: UserUsage, task: Scalars): string | undefined {
  if (!quota) return undefined;
  if (quota.count !== undefined && usage.count + 1 > quota.count) return `count: quota ${quota.count}, running ${usage.count}`;
  for (const r of ['cpus', 'mem', 'disk', 'gpus'] as const) {
    const cap = quota[r];
    if (cap !== undefined && usage.resources[r] + task[r] > cap + 1e-9) return `${r}: quota ${cap}, running ${usage.resources[r]}, needs ${task[r]}`;
  }
  return undefined;
}

/** Within one user's queue: higher priority first, then older, then by job id and index. */
export function compareWithinUser(a: PendingTask, b: PendingTask): number {
  return b.priority - a.priority || a.submittedAt - b.submittedAt || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0) || a.index - b.index;
}

/** Per-user queues, each sorted by {@link compareWithinUser}. */
export function userQueues(pending: readonly PendingTask[]): Map<string, PendingTask[]> {
  const queues = new Map<string, PendingTask[]>();
  for (const t of pending) {
    let q = queues.get(t.user);
    if (!q) queues.set(t.user, (q = []));
    q.push(t);
  }
  for (const q of queues.values()) q.sort(compareWithinUser);
  return queues;
}

/**
 * Merges per-user queues into one DRF order: repeatedly the head of the user whose dominant
 * share ÷ weight is lowest (counting what is already ordered as if it ran; ties by user name).
 * A task that would break its user's quota is left out (in `overQuota`) and does not count.
 * Pure: `why` uses it to say who is ahead of a job; placement uses {@link nextUser} directly.
 */
export function fairShareOrder(
  pending: readonly PendingTask[],
  usage: ReadonlyMap<string, UserUsage>,
  total: Scalars,
  policy: SharePolicy,
): { order: PendingTask[]; overQuota: Map<string, string> } {
  const queues = userQueues(pending);
  const live = new Map<string, UserUsage>();
  for (const u of queues.keys()) live.set(u, { ...(usage.get(u) ?? { resources: ZERO, count: 0 }) });
  const order: PendingTask[] = [];
  const overQuota = new Map<string, string>();
  for (;;) {
    const user = nextUser(queues, live, total, policy);
    if (user === undefined) break;
    const t = queues.get(user)!.shift()!;
    const u = live.get(user)!;
    const violation = quotaViolation(policy.quotas[user], u, t.resources);
    if (violation) {
      overQuota.set(t.key, violation);
      continue;
    }
    order.push(t);
    live.set(user, { resources: addScalars(u.resources, t.resources), count: u.count + 1 });
  }
  return { order, overQuota };
}

/** The user with a non-empty queue and the lowest dominant share ÷ weight (ties by name). */
export function nextUser(queues: ReadonlyMap<string, readonly PendingTask[]>, usage: ReadonlyMap<string, UserUsage>, total: Scalars, policy: SharePolicy): string | undefined {
  let best: string | undefined;
  let bestShare = Infinity;
  for (const [user, q] of queues) {
    if (q.length === 0) continue;
    const s = weightedShare(usage.get(user)?.resources ?? ZERO, total, weightOf(policy, user));
    if (s < bestShare - 1e-12 || (Math.abs(s - bestShare) <= 1e-12 && best !== undefined && user < best)) {
      best = user;
      bestShare = s;
    }
  }
  return best;
}
