import { Resources, type Offer, type Operation, type TaskSpec, type VolumeSpec } from '@meso/sdk-scheduler';
import { DATA_CONTAINER_PATH, volumeIdFor } from './data-dir.js';
import { isLiveMember, masterOf, memberTaskId, type InstanceRecord, type MemberRecord } from './model.js';
import { OfferLedger } from './offer-ledger.js';
import { pickPort, type Placement } from './planner.js';
import { serverTaskSpec } from './task-spec.js';

/**
 * What fw-redis does with one offer, as plain data: the ACCEPT operations for the servers placed
 * in it (RESERVE, CREATE, LAUNCH) with the instance records to persist first, or the DESTROY and
 * UNRESERVE of what nothing needs any more. Pure: the engine persists, then sends.
 */

/** How servers are launched. */
export interface LaunchOptions {
  role: string;
  persistentVolumes: boolean;
  redisServer: string;
  taskCpus: number;
  nowMs: number;
  /** Ports not to pick on the offer's address (used by our servers, or failed there lately). */
  takenPorts: ReadonlySet<number>;
}

/** The launch of the servers placed in one offer. */
export interface LaunchPlan {
  /** The instances with their new members (LAUNCHING), to persist before sending. */
  instances: InstanceRecord[];
  specs: TaskSpec[];
  operations: Operation[];
}

/** The address servers on the offer's agent are reached at: its endpoint's host. */
export const addressOf = (offer: Offer): string => offer.agentEndpoint.slice(0, offer.agentEndpoint.lastIndexOf(':')) || offer.hostname;

/** Plans the launch of `placements` in `offer` (fewer when ports run out); undefined when none fits. */
export function planLaunch(offer: Offer, placements: readonly Placement[], instances: ReadonlyMap<string, InstanceRecord>, o: LaunchOptions): LaunchPlan | undefined {
  const ip = addressOf(offer);
  const pools = offer.resources.toList().flatMap((r) => (r.name === 'ports' && r.kind === 'ranges' ? [r] : []));
  const taken = new Set(o.takenPorts);
  const ledger = new OfferLedger(offer.resources, o.role, o.persistentVolumes);
  const byInstance = new Map<string, InstanceRecord>();
  const specs: TaskSpec[] = [];
  const reserve: Resources[] = [];
  const create: VolumeSpec[] = [];
  for (const p of placements) {
    const port = pools.map((r) => pickPort(r.ranges, taken)).find((x) => x !== undefined);
    if (port === undefined) break;
    taken.add(port);
    const inst = byInstance.get(p.instance) ?? structuredClone(instances.get(p.instance)!);
    byInstance.set(p.instance, inst);
    const seq = inst.nextSeq++;
    const taskId = memberTaskId(inst.name, seq);
    const volume: VolumeSpec | undefined = p.volumeId
      ? offer.volumes.find((v) => v.id === p.volumeId)
      : p.newVolumeMb
        ? { id: volumeIdFor(taskId), containerPath: DATA_CONTAINER_PATH, sizeMb: p.newVolumeMb, role: o.role, mode: 'rw' }
        : undefined;
    const take = ledger.take({ cpus: o.taskCpus, mem: p.taskMemMb, port, ...(p.newVolumeMb && !p.volumeId ? { newVolumeDiskMb: p.newVolumeMb } : {}) });
    if (take.reserve.length > 0) reserve.push(Resources.of(take.reserve));
    if (volume && !p.volumeId) create.push(volume);
    const member: MemberRecord = {
      taskId,
      seq,
      agentId: offer.agentId,
      hostname: offer.hostname,
      ip,
      port,
      capacityMb: p.capacityMb,
      taskMemMb: p.taskMemMb,
      ...(volume ? { volumeId: volume.id } : {}),
      state: 'LAUNCHING',
      launchedAt: o.nowMs,
    };
    const master = masterOf(inst);
    const replicaOf = p.role === 'replica' && master && isLiveMember(master) ? { ip: master.ip, port: master.port } : undefined;
    specs.push(serverTaskSpec(inst.name, member, { redisServer: o.redisServer, resources: take.task, ...(volume ? { volume } : {}), ...(replicaOf ? { replicaOf } : {}) }));
    inst.members.push(member);
    if (p.role === 'master') inst.masterTaskId = member.taskId;
  }
  if (specs.length === 0) return undefined;
  const operations: Operation[] = [
    ...(reserve.length > 0 ? [{ type: 'reserve' as const, resources: reserve.reduce((a, b) => a.add(b)) }] : []),
    ...(create.length > 0 ? [{ type: 'create' as const, volumes: create }] : []),
    { type: 'launch', tasks: specs },
  ];
  return { instances: [...byInstance.values()], specs, operations };
}

/**
 * What of `offer` fw-redis gives back: its volumes no server that may run holds (DESTROY), and
 * the role's reservations in it (UNRESERVE, the destroyed volumes' disk included). Undefined when
 * there is nothing.
 */
export function planRelease(offer: Offer, instances: Iterable<InstanceRecord>, role: string): { operations: Operation[]; destroyed: VolumeSpec[]; unreserved: Resources } | undefined {
  const inUse = new Set([...instances].flatMap((i) => i.members.filter((m) => m.state !== 'ENDED').flatMap((m) => (m.volumeId ? [m.volumeId] : []))));
  const destroyed = offer.volumes.filter((v) => !inUse.has(v.id));
  const reserved = offer.resources.reservedFor(role).withoutVolumes().filter((r) => r.kind === 'scalar');
  const freed = destroyed.length > 0 ? Resources.of(destroyed.map((v) => ({ name: 'disk', kind: 'scalar' as const, value: v.sizeMb, role }))) : Resources.empty();
  const unreserved = reserved.add(freed);
  if (destroyed.length === 0 && unreserved.isEmpty()) return undefined;
  const operations: Operation[] = [...(destroyed.length > 0 ? [{ type: 'destroy' as const, volumes: destroyed }] : []), ...(unreserved.isEmpty() ? [] : [{ type: 'unreserve' as const, resources: unreserved }])];
  return { operations, destroyed, unreserved };
}
