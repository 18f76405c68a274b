import { activeMembers, isLiveMember, type InstanceRecord } from './model.js';
import { taskMemFor } from './sizing.js';

/**
 * Placement of new members: a pure function of the instances, the offers and the policy. It
 * fills each instance up to 1 master + `replicas`, never more than `distribution` members of one
 * instance per agent, spreading over the agents with the fewest members of the instance first,
 * and prefers the agent holding the data of a member that ended (its volume).
 */

/** What is free in one offer. */
export interface OfferSlot {
  offerId: string;
  agentId: string;
  memMb: number;
  cpus: number;
  /** Free ports. */
  ports: number;
  /** Ids of persistent volumes of ours on the agent, free to mount. */
  volumes?: string[];
  /** Unreserved disk (MB), for new volumes. */
  diskMb?: number;
}

/** One member to launch. */
export interface Placement {
  instance: string;
  offerId: string;
  agentId: string;
  role: 'master' | 'replica';
  capacityMb: number;
  taskMemMb: number;
  /** An existing volume to mount (the data of an earlier member), if any. */
  volumeId?: string;
  /** Otherwise, the size (MB) of a new volume to create for it, when servers keep data on volumes. */
  newVolumeMb?: number;
}

/** The planner's answer: what to launch, and why each instance still short is waiting. */
export interface PlanResult {
  placements: Placement[];
  waiting: Map<string, string>;
}

/** Members an instance still needs. */
export function missingMembers(i: InstanceRecord): number {
  if (i.status !== 'CREATING' && i.status !== 'RUNNING') return 0;
  return Math.max(0, 1 + i.replicas - activeMembers(i).length);
}

/**
 * Places the members the instances miss into the offers. With `volumeMbFor`, each new server
 * gets a persistent volume of that size (unless it mounts the volume of an ended member).
 */
export function planPlacements(instances: readonly InstanceRecord[], offers: readonly OfferSlot[], taskCpus: number, volumeMbFor?: (capacityMb: number) => number): PlanResult {
  const free = offers.map((o) => ({ ...o, volumes: [...(o.volumes ?? [])] }));
  const placements: Placement[] = [];
  const waiting = new Map<string, string>();
  for (const inst of instances) {
    let missing = missingMembers(inst);
    if (missing === 0) continue;
    const recorded = inst.members.find((m) => m.taskId === inst.masterTaskId);
    if (recorded && !isLiveMember(recorded)) {
      // The master is gone and failover has not chosen its successor yet: a new server now would
      // have no master to replicate from (and would answer as an empty master).
      waiting.set(inst.name, `waiting for failover: master ${recorded.taskId} ended and no replica can be promoted yet`);
      continue;
    }
    const mem = taskMemFor(inst.capacityMb);
    const perAgent = new Map<string, number>();
    for (const m of inst.members.filter(isLiveMember)) perAgent.set(m.agentId, (perAgent.get(m.agentId) ?? 0) + 1);
    // Volumes of members that ended, by agent: a replacement there finds its data.
    const ended = new Set(inst.members.filter((m) => !isLiveMember(m) && m.volumeId).map((m) => m.volumeId!));
    // A master is launched only when there is none (a new instance, or one whose master died
    // with no replica to promote); otherwise failover promotes a replica and new members replicate.
    let needMaster = !inst.masterTaskId;
    const volMb = volumeMbFor?.(inst.capacityMb) ?? 0;
    const hasData = (o: (typeof free)[number]): boolean => o.volumes.some((v) => ended.has(v));
    while (missing > 0) {
      const fits = free.filter((o) => o.memMb >= mem && o.cpus + 1e-9 >= taskCpus && o.ports >= 1 && (perAgent.get(o.agentId) ?? 0) < inst.distribution && (hasData(o) || (o.diskMb ?? Infinity) >= volMb));
      if (fits.length === 0) break;
      fits.sort((a, b) => Number(hasData(b)) - Number(hasData(a)) || (perAgent.get(a.agentId) ?? 0) - (perAgent.get(b.agentId) ?? 0) || b.memMb - a.memMb);
      const o = fits[0]!;
      const volumeId = o.volumes.find((v) => ended.has(v));
      if (volumeId) {
        o.volumes.splice(o.volumes.indexOf(volumeId), 1);
        ended.delete(volumeId);
      } else if (volMb > 0 && o.diskMb !== undefined) o.diskMb -= volMb;
      o.memMb -= mem;
      o.cpus -= taskCpus;
      o.ports -= 1;
      perAgent.set(o.agentId, (perAgent.get(o.agentId) ?? 0) + 1);
      placements.push({ instance: inst.name, offerId: o.offerId, agentId: o.agentId, role: needMaster ? 'master' : 'replica', capacityMb: inst.capacityMb, taskMemMb: mem, ...(volumeId ? { volumeId } : volMb > 0 ? { newVolumeMb: volMb } : {}) });
      needMaster = false;
      missing--;
    }
    if (missing > 0) {
      const disk = volMb > 0 ? ` and ${volMb} MB of disk for its volume` : '';
      waiting.set(inst.name, `waiting for ${missing} more server(s) of ${mem} MB and ${taskCpus} cpus with a port${disk}, at most ${inst.distribution} per agent (no offer fits now)`);
    }
  }
  return { placements, waiting };
}

/**
 * The lowest port of `ranges` not in `taken`. Agents on one host (a laptop's `meso local`) offer
 * the same ranges, so ports fw-redis's own servers already use on that address are skipped.
 */
export function pickPort(ranges: ReadonlyArray<{ begin: number; end: number }>, taken: ReadonlySet<number>): number | undefined {
  for (const r of [...ranges].sort((a, b) => a.begin - b.begin)) for (let p = r.begin; p <= r.end; p++) if (!taken.has(p)) return p;
  return undefined;
}
