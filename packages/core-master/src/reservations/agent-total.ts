import { ResourceError, Resources, UNRESERVED_ROLE, resourcesFromWire } from '@meso/proto';
import { MasterError } from '../errors.js';

/** A persistent volume's size as the plain reserved disk it is carved from. */
export function diskOfVolumes(volumes: Resources): Resources {
  return Resources.of(volumes.volumes().map(({ volume: _volume, ...disk }) => disk));
}

/**
 * An agent's total, from its static resources (`agent_info.resources`, which may hold static
 * reservations such as `cpus(prod):2`) and its checkpointed resources (dynamic reservations,
 * whole amounts with their role, and persistent volumes): each plain reservation moves its
 * amount from unreserved to its role, then each volume of role R is carved out of R's plain
 * reserved disk. Throws INVALID_RESOURCES naming `field[i]` when the static resources cannot
 * carry a checkpointed resource (nothing is assumed).
 */
export function agentTotal(staticResources: Resources, checkpointed: Resources, field = 'checkpointed_resources'): Resources {
  let total = staticResources;
  checkpointed.toList().forEach((r, i) => {
    if (r.role === UNRESERVED_ROLE) throw new MasterError('INVALID_RESOURCES', `${r.name} is checkpointed without a role`, `${field}[${i}]`);
  });
  const reservations = checkpointed.withoutVolumes();
  const unreserved = reservations.withRole(UNRESERVED_ROLE);
  const short = total.shortfall(unreserved);
  if (short.length > 0) {
    throw new MasterError('INVALID_RESOURCES', `the agent's unreserved resources cannot carry its dynamic reservations: ${short.join('; ')}`, field);
  }
  total = total.subtract(unreserved).add(reservations);
  const volumes = Resources.of(checkpointed.volumes());
  const disk = diskOfVolumes(volumes);
  const noDisk = total.withoutVolumes().shortfall(disk);
  if (noDisk.length > 0) {
    throw new MasterError('INVALID_RESOURCES', `the agent's reserved disk cannot carry its persistent volumes: ${noDisk.join('; ')}`, field);
  }
  return total.subtract(disk).add(volumes);
}

/**
 * An agent's resources at (re-)registration: its static resources with what it reports it
 * checkpointed applied (the agent owns its checkpointed resources, as in Mesos: the master
 * adopts them). Throws INVALID_RESOURCES naming `checkpointed_resources[...]`.
 */
export function registeredResources(
  staticResources: Resources,
  reported: Parameters<typeof resourcesFromWire>[0],
): { total: Resources; staticResources: Resources; checkpointed: Resources } {
  let checkpointed: Resources;
  try {
    checkpointed = resourcesFromWire(reported, 'checkpointed_resources');
  } catch (e) {
    if (e instanceof ResourceError) throw new MasterError('INVALID_RESOURCES', e.reason, e.field, { cause: e });
    throw e;
  }
  return { total: agentTotal(staticResources, checkpointed), staticResources, checkpointed };
}
