import { fromMillis, toMillis } from './precision.js';
import { addRanges, formatRanges, normalizeRanges, rangesContain, subtractRanges } from './ranges.js';
import { ResourceError } from './resource-error.js';
import { UNRESERVED_ROLE, type Range, type Resource, type ResourceKind, type VolumeInfo } from './types.js';

/** Resource names whose scalar must be a whole number. */
const WHOLE_NUMBER_SCALARS = new Set(['gpus']);

function keyOf(r: Resource): string {
  const volume = r.kind === 'scalar' && r.volume ? `\u0000${r.volume.id}` : '';
  return `${r.name}\u0000${r.role}${volume}`;
}

const VOLUME_ID = /^[\w.-]{1,128}$/;

function validateVolume(v: VolumeInfo, name: string, role: string, field: string): VolumeInfo {
  if (typeof v !== 'object' || v === null) throw new ResourceError(field, 'must be an object');
  if (name !== 'disk') throw new ResourceError(field, `a persistent volume is made of disk, not ${name}`);
  if (role === UNRESERVED_ROLE) throw new ResourceError(field, 'a persistent volume needs disk reserved for a role, not unreserved disk');
  if (typeof v.id !== 'string' || !VOLUME_ID.test(v.id)) {
    throw new ResourceError(`${field}.id`, `'${String(v.id)}' is not a valid volume id (1-128 of letters, digits, '.', '_', '-')`);
  }
  const path = v.containerPath;
  const segments = typeof path === 'string' ? path.split('/') : [];
  if (typeof path !== 'string' || path === '' || path.startsWith('/') || segments.some((x) => x === '..' || x === '.' || x === '')) {
    throw new ResourceError(`${field}.containerPath`, `'${String(path)}' must be a relative path inside the sandbox (no '..', no leading '/')`);
  }
  const mode = v.mode === undefined ? 'rw' : v.mode;
  if (mode !== 'rw' && mode !== 'ro') throw new ResourceError(`${field}.mode`, `'${String(mode)}' is not rw or ro`);
  return { id: v.id, containerPath: path, mode, ...(v.principal ? { principal: v.principal } : {}) };
}

/**
 * Checks one resource and returns it normalized (scalar rounded to three decimals,
 * ranges sorted and merged, set deduplicated). `field` prefixes error messages.
 */
export function validateResource(r: Resource, field = 'resource'): Resource {
  if (typeof r !== 'object' || r === null) throw new ResourceError(field, 'must be an object');
  if (typeof r.name !== 'string' || !/^[A-Za-z][\w.-]*$/.test(r.name)) {
    throw new ResourceError(`${field}.name`, `'${String(r.name)}' is not a valid resource name`);
  }
  const role = r.role === undefined || r.role === '' ? UNRESERVED_ROLE : r.role;
  if (typeof role !== 'string' || (role !== UNRESERVED_ROLE && !/^[\w.-]+(\/[\w.-]+)*$/.test(role))) {
    throw new ResourceError(`${field}.role`, `'${String(role)}' is not a valid role`);
  }
  switch (r.kind) {
    case 'scalar': {
      if (typeof r.value !== 'number' || !Number.isFinite(r.value)) {
        throw new ResourceError(`${field}.value`, `${r.name} must be a finite number, got ${String(r.value)}`);
      }
      if (r.value < 0) throw new ResourceError(`${field}.value`, `${r.name} must not be negative, got ${r.value}`);
      if (WHOLE_NUMBER_SCALARS.has(r.name) && !Number.isInteger(r.value)) {
        throw new ResourceError(`${field}.value`, `${r.name} must be a whole number, got ${r.value}`);
      }
      const value = fromMillis(toMillis(r.value));
      if (r.volume === undefined) return { name: r.name, kind: 'scalar', value, role };
      return { name: r.name, kind: 'scalar', value, role, volume: validateVolume(r.volume, r.name, role, `${field}.volume`) };
    }
    case 'ranges': {
      if (!Array.isArray(r.ranges)) throw new ResourceError(`${field}.ranges`, 'must be a list of ranges');
      r.ranges.forEach((x, i) => {
        const ok =
          x && Number.isSafeInteger(x.begin) && Number.isSafeInteger(x.end) && x.begin >= 0 && x.end >= x.begin;
        if (!ok) {
          throw new ResourceError(
            `${field}.ranges[${i}]`,
            `${r.name} range ${JSON.stringify(x)} must have whole numbers 0 <= begin <= end`,
          );
        }
      });
      return { name: r.name, kind: 'ranges', ranges: normalizeRanges(r.ranges), role };
    }
    case 'set': {
      if (!Array.isArray(r.items) || r.items.some((x) => typeof x !== 'string' || x === '')) {
        throw new ResourceError(`${field}.items`, `${r.name} must be a list of non-empty strings`);
      }
      return { name: r.name, kind: 'set', items: [...new Set(r.items)].sort(), role };
    }
    default:
      throw new ResourceError(`${field}.kind`, `'${String((r as { kind: unknown }).kind)}' is not scalar, ranges or set`);
  }
}

function isEmptyResource(r: Resource): boolean {
  switch (r.kind) {
    case 'scalar':
      return toMillis(r.value) === 0;
    case 'ranges':
      return r.ranges.length === 0;
    case 'set':
      return r.items.length === 0;
  }
}

function combine(a: Resource, b: Resource, op: 'add' | 'subtract'): Resource {
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    const millis = op === 'add' ? toMillis(a.value) + toMillis(b.value) : toMillis(a.value) - toMillis(b.value);
    return { ...a, value: fromMillis(Math.max(0, millis)) };
  }
  if (a.kind === 'ranges' && b.kind === 'ranges') {
    return { ...a, ranges: op === 'add' ? addRanges(a.ranges, b.ranges) : subtractRanges(a.ranges, b.ranges) };
  }
  if (a.kind === 'set' && b.kind === 'set') {
    const items = op === 'add' ? [...new Set([...a.items, ...b.items])].sort() : a.items.filter((x) => !b.items.includes(x));
    return { ...a, items };
  }
  throw new ResourceError(a.name, `cannot combine a ${a.kind} ${a.name} with a ${b.kind} one`);
}

function containsOne(outer: Resource, inner: Resource): boolean {
  if (outer.kind === 'scalar' && inner.kind === 'scalar') return toMillis(outer.value) >= toMillis(inner.value);
  if (outer.kind === 'ranges' && inner.kind === 'ranges') return rangesContain(outer.ranges, inner.ranges);
  if (outer.kind === 'set' && inner.kind === 'set') return inner.items.every((x) => outer.items.includes(x));
  return false;
}

/**
 * An immutable bag of resources, keyed by (name, role). This is the one implementation
 * of resource arithmetic in Meso: the master's allocator, the agent and the SDKs' offer
 * helpers all use it. Scalars keep three decimal digits exactly.
 */
export class Resources {
  private constructor(private readonly entries: ReadonlyMap<string, Resource>) {}

  static empty(): Resources {
    return EMPTY;
  }

  /** Validates and combines a list (entries with the same name and role are added). */
  static of(list: Iterable<Resource>, field = 'resources'): Resources {
    const map = new Map<string, Resource>();
    const kinds = new Map<string, ResourceKind>();
    let i = 0;
    for (const raw of list) {
      const r = validateResource(raw, `${field}[${i}]`);
      const seen = kinds.get(r.name);
      if (seen && seen !== r.kind) {
        throw new ResourceError(`${field}[${i}]`, `${r.name} is given both as ${seen} and as ${r.kind}`);
      }
      kinds.set(r.name, r.kind);
      const key = keyOf(r);
      const prev = map.get(key);
      map.set(key, prev ? combine(prev, r, 'add') : r);
      i++;
    }
    for (const [k, r] of map) if (isEmptyResource(r)) map.delete(k);
    return new Resources(map);
  }

  /** Scalars from a record, e.g. `Resources.scalars({ cpus: 1, mem: 128 })`. */
  static scalars(values: Record<string, number>, role: string = UNRESERVED_ROLE): Resources {
    return Resources.of(Object.entries(values).map(([name, value]) => ({ name, kind: 'scalar' as const, value, role })));
  }

  isEmpty(): boolean {
    return this.entries.size === 0;
  }

  /** Every resource, sorted by name then role. */
  toList(): Resource[] {
    const volumeId = (r: Resource): string => (r.kind === 'scalar' && r.volume ? r.volume.id : '');
    return [...this.entries.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.role.localeCompare(b.role) || volumeId(a).localeCompare(volumeId(b)),
    );
  }

  toJSON(): Resource[] {
    return this.toList();
  }

  names(): string[] {
    return [...new Set([...this.entries.values()].map((r) => r.name))].sort();
  }

  /** Sum of a scalar over every role (or one role). 0 when absent. */
  scalar(name: string, role?: string): number {
    let millis = 0;
    for (const r of this.entries.values()) {
      if (r.name === name && r.kind === 'scalar' && (role === undefined || r.role === role)) millis += toMillis(r.value);
    }
    return fromMillis(millis);
  }

  /** Union of a ranges resource over every role (or one role). */
  ranges(name: string, role?: string): Range[] {
    const all: Range[] = [];
    for (const r of this.entries.values()) {
      if (r.name === name && r.kind === 'ranges' && (role === undefined || r.role === role)) all.push(...r.ranges);
    }
    return normalizeRanges(all);
  }

  /** Union of a set resource over every role (or one role). */
  set(name: string, role?: string): string[] {
    const all = new Set<string>();
    for (const r of this.entries.values()) {
      if (r.name === name && r.kind === 'set' && (role === undefined || r.role === role)) r.items.forEach((x) => all.add(x));
    }
    return [...all].sort();
  }

  add(other: Resources): Resources {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const map = new Map(this.entries);
    for (const [k, r] of other.entries) {
      const prev = map.get(k);
      map.set(k, prev ? combine(prev, r, 'add') : r);
    }
    return new Resources(map);
  }

  /**
   * This minus other, matched by (name, role). What other holds beyond this is ignored
   * (scalars stop at zero); check `contains` first where that matters.
   */
  subtract(other: Resources): Resources {
    if (other.isEmpty() || this.isEmpty()) return this;
    const map = new Map(this.entries);
    for (const [k, r] of other.entries) {
      const prev = map.get(k);
      if (!prev) continue;
      const next = combine(prev, r, 'subtract');
      if (isEmptyResource(next)) map.delete(k);
      else map.set(k, next);
    }
    return new Resources(map);
  }

  /** Whether every resource of other is within this, matched by (name, role). */
  contains(other: Resources): boolean {
    for (const [k, r] of other.entries) {
      const mine = this.entries.get(k);
      if (!mine || !containsOne(mine, r)) return false;
    }
    return true;
  }

  /**
   * What of `other` this lacks, as a readable list such as
   * `cpus: need 3, have 2; ports: [31005-31005] not available`. Empty when contained.
   */
  shortfall(other: Resources): string[] {
    const out: string[] = [];
    for (const [k, r] of other.entries) {
      const mine = this.entries.get(k);
      if (mine && containsOne(mine, r)) continue;
      const roleNote = r.role === UNRESERVED_ROLE ? '' : `(${r.role})`;
      if (r.kind === 'scalar' && r.volume) {
        out.push(`${r.name}${roleNote}[${r.volume.id}:${r.volume.containerPath}]: no such persistent volume here`);
      } else if (r.kind === 'scalar') {
        out.push(`${r.name}${roleNote}: need ${r.value}, have ${mine?.kind === 'scalar' ? mine.value : 0}`);
      } else if (r.kind === 'ranges') {
        const missing = mine?.kind === 'ranges' ? subtractRanges(r.ranges, mine.ranges) : r.ranges;
        out.push(`${r.name}${roleNote}: ${formatRanges(missing)} not available`);
      } else {
        const missing = mine?.kind === 'set' ? r.items.filter((x) => !mine.items.includes(x)) : r.items;
        out.push(`${r.name}${roleNote}: {${missing.join(',')}} not available`);
      }
    }
    return out;
  }

  filter(predicate: (r: Resource) => boolean): Resources {
    const map = new Map<string, Resource>();
    for (const [k, r] of this.entries) if (predicate(r)) map.set(k, r);
    return new Resources(map);
  }

  /** Unreserved resources (role `*`). */
  unreserved(): Resources {
    return this.filter((r) => r.role === UNRESERVED_ROLE);
  }

  /** Resources reserved for `role`. */
  reservedFor(role: string): Resources {
    return this.filter((r) => r.role === role);
  }

  /** What a framework in `role` may be offered: unreserved plus reserved for that role. */
  allocatableTo(role: string): Resources {
    return this.filter((r) => r.role === UNRESERVED_ROLE || r.role === role);
  }

  /** The persistent volumes among these resources. */
  volumes(): Array<Resource & { kind: 'scalar'; volume: VolumeInfo }> {
    return this.toList().filter((r): r is Resource & { kind: 'scalar'; volume: VolumeInfo } => r.kind === 'scalar' && r.volume !== undefined);
  }

  /** These resources without their persistent volumes. */
  withoutVolumes(): Resources {
    return this.filter((r) => r.kind !== 'scalar' || r.volume === undefined);
  }

  /** The same resources with every role set to `role`. */
  withRole(role: string): Resources {
    return Resources.of(this.toList().map((r) => ({ ...r, role })));
  }

  equals(other: Resources): boolean {
    return this.contains(other) && other.contains(this);
  }

  /**
   * Mesos's text syntax: `cpus:2;mem:1024;ports:[31000-31005];disks(prod):{a,b}`, a
   * persistent volume as `disk(role)[id:container_path]:size` (`[id:path:ro]` read-only).
   */
  toString(): string {
    return this.toList()
      .map((r) => {
        const name = r.role === UNRESERVED_ROLE ? r.name : `${r.name}(${r.role})`;
        if (r.kind === 'scalar' && r.volume) return `${name}[${r.volume.id}:${r.volume.containerPath}${r.volume.mode === 'ro' ? ':ro' : ''}]:${r.value}`;
        if (r.kind === 'scalar') return `${name}:${r.value}`;
        if (r.kind === 'ranges') return `${name}:${formatRanges(r.ranges)}`;
        return `${name}:{${r.items.join(',')}}`;
      })
      .join(';');
  }
}

const EMPTY = Resources.of([]);
