import { Resources, UNRESERVED_ROLE, type Resource } from '@meso/proto';
import { SchedulerError } from './errors.js';
import { isResources } from './task-spec.js';
import type { VolumeSpec } from './types.js';

function invalid(field: string, message: string, cause?: unknown): SchedulerError {
  return new SchedulerError('INVALID_ARGUMENT', `${field}: ${message}`, { field, ...(cause === undefined ? {} : { cause }) });
}

/** The `disk(role)[id:path]:size` resource of a volume spec, validated by `@meso/proto`. */
export function volumeResource(v: VolumeSpec, field: string): Resource {
  if (typeof v !== 'object' || v === null) throw invalid(field, 'must be { id, containerPath, sizeMb, role }');
  if (typeof v.sizeMb !== 'number' || !Number.isFinite(v.sizeMb) || v.sizeMb <= 0) {
    throw invalid(`${field}.sizeMb`, `must be a number > 0, got ${String(v.sizeMb)}`);
  }
  if (typeof v.role !== 'string' || v.role === '' || v.role === UNRESERVED_ROLE) {
    throw invalid(`${field}.role`, `a persistent volume needs a role to reserve its disk for, got '${String(v.role)}'`);
  }
  const r: Resource = {
    name: 'disk',
    kind: 'scalar',
    value: v.sizeMb,
    role: v.role,
    volume: { id: v.id, containerPath: v.containerPath, mode: v.mode ?? 'rw' },
  };
  try {
    Resources.of([r], field);
  } catch (e) {
    const f = (e as { field?: string }).field;
    throw invalid(typeof f === 'string' ? f.replace(`${field}[0].volume`, field) : field, (e as Error).message, e);
  }
  return r;
}

/** Volume specs as Resources; an empty or repeated list is refused. */
export function volumesResources(list: readonly VolumeSpec[] | undefined, field: string, allowEmpty = false): Resources {
  if (list === undefined && allowEmpty) return Resources.empty();
  if (!Array.isArray(list) || (!allowEmpty && list.length === 0)) throw invalid(field, 'must be a non-empty list of volumes');
  const seen = new Set<string>();
  return Resources.of(
    list.map((v, i) => {
      const r = volumeResource(v, `${field}[${i}]`);
      if (seen.has(v.id)) throw invalid(`${field}[${i}].id`, `volume '${v.id}' is listed twice`);
      seen.add(v.id);
      return r;
    }),
  );
}

/** The persistent volumes among resources, as specs. */
export function volumeSpecsOf(resources: Resources): VolumeSpec[] {
  return resources.volumes().map((r) => ({ id: r.volume.id, containerPath: r.volume.containerPath, sizeMb: r.value, role: r.role, mode: r.volume.mode }));
}

/** Checks the resources of a `reserve` / `unreserve`: a non-empty `Resources`, every role set, no volume. */
export function reservationResources(resources: unknown, field: string): Resources {
  if (!isResources(resources) || resources.isEmpty()) {
    throw invalid(field, "must be non-empty Resources with roles, e.g. parseResources('cpus(redis):1;mem(redis):256')");
  }
  resources.toList().forEach((r, i) => {
    if (r.role === UNRESERVED_ROLE) throw invalid(`${field}[${i}]`, `${r.name} has no role: say which role it is reserved for, e.g. ${r.name}(redis)`);
    if (r.kind === 'scalar' && r.volume) throw invalid(`${field}[${i}]`, `volume ${r.volume.id} is not reserved or unreserved: use create / destroy`);
  });
  return resources;
}

function exceeds(field: string, what: string, missing: string[]): SchedulerError {
  return new SchedulerError('RESOURCES_EXCEED_OFFER', `${field}: ${what}: ${missing.join('; ')}`, { field });
}

/** What the offers hold after a `reserve` (unreserved → reserved), or RESOURCES_EXCEED_OFFER. */
export function afterReserve(left: Resources, resources: Resources, field: string): Resources {
  const unreserved = resources.withRole(UNRESERVED_ROLE);
  const missing = left.shortfall(unreserved);
  if (missing.length > 0) throw exceeds(field, 'the offers lack the unreserved resources to reserve', missing);
  return left.subtract(unreserved).add(resources);
}

/** What the offers hold after an `unreserve` (reserved → unreserved), or RESOURCES_EXCEED_OFFER. */
export function afterUnreserve(left: Resources, resources: Resources, field: string): Resources {
  const missing = left.shortfall(resources);
  if (missing.length > 0) throw exceeds(field, 'the offers lack the reserved resources to unreserve', missing);
  return left.subtract(resources).add(resources.withRole(UNRESERVED_ROLE));
}

/** The plain reserved disk the volumes are made of. */
function diskOf(volumes: Resources): Resources {
  return Resources.of(volumes.volumes().map(({ volume: _volume, ...disk }) => disk));
}

/** What the offers hold after a `create` (reserved disk → volumes), or RESOURCES_EXCEED_OFFER. */
export function afterCreate(left: Resources, volumes: Resources, field: string): Resources {
  const plain = diskOf(volumes);
  const existing = volumes.volumes().filter((v) => left.volumes().some((o) => o.volume.id === v.volume.id));
  if (existing.length > 0) throw new SchedulerError('INVALID_ARGUMENT', `${field}: volume ${existing[0]!.volume.id} already exists`, { field });
  const missing = left.withoutVolumes().shortfall(plain);
  if (missing.length > 0) throw exceeds(field, 'the offers lack the reserved disk for the volumes', missing);
  return left.subtract(plain).add(volumes);
}

/** What the offers hold after a `destroy` (volumes → reserved disk), or RESOURCES_EXCEED_OFFER. */
export function afterDestroy(left: Resources, volumes: Resources, field: string): Resources {
  const missing = left.shortfall(volumes);
  if (missing.length > 0) throw exceeds(field, 'the offers do not hold these volumes', missing);
  return left.subtract(volumes).add(diskOf(volumes));
}
