import {
  DiskInfo_Volume_Mode,
  ValueType,
  type DiskInfo,
  type Attribute as WireAttribute,
  type Resource as WireResource,
} from '../gen/meso/v1/common.js';
import type { Attribute } from './attributes.js';
import { ResourceError } from './resource-error.js';
import { Resources } from './resources.js';
import { UNRESERVED_ROLE, type Resource, type VolumeInfo } from './types.js';

function volumeFromWire(disk: DiskInfo | undefined): VolumeInfo | undefined {
  if (!disk?.persistence) return undefined;
  const mode = disk.volume?.mode === DiskInfo_Volume_Mode.RO ? 'ro' : 'rw';
  const principal = disk.persistence.principal;
  return { id: disk.persistence.id, containerPath: disk.volume?.containerPath ?? '', mode, ...(principal ? { principal } : {}) };
}

function volumeToWire(volume: VolumeInfo | undefined): DiskInfo | undefined {
  if (!volume) return undefined;
  return {
    persistence: { id: volume.id, principal: volume.principal ?? '' },
    volume: { containerPath: volume.containerPath, mode: volume.mode === 'ro' ? DiskInfo_Volume_Mode.RO : DiskInfo_Volume_Mode.RW },
  };
}

/** Wire resources to `Resources`, validating each; `field` names the list in errors. */
export function resourcesFromWire(list: readonly WireResource[], field = 'resources'): Resources {
  return Resources.of(
    list.map((r, i): Resource => {
      const role = r.role === '' ? UNRESERVED_ROLE : r.role;
      switch (r.type) {
        case ValueType.SCALAR: {
          const volume = volumeFromWire(r.disk);
          return volume ? { name: r.name, kind: 'scalar', value: r.scalar, role, volume } : { name: r.name, kind: 'scalar', value: r.scalar, role };
        }
        case ValueType.RANGES:
          return { name: r.name, kind: 'ranges', ranges: r.ranges.map((x) => ({ begin: x.begin, end: x.end })), role };
        case ValueType.SET:
          return { name: r.name, kind: 'set', items: [...r.set], role };
        default:
          throw new ResourceError(`${field}[${i}].type`, `${r.name || 'resource'} has no type (SCALAR, RANGES or SET)`);
      }
    }),
    field,
  );
}

export function resourcesToWire(resources: Resources): WireResource[] {
  return resources.toList().map((r) => ({
    name: r.name,
    type: r.kind === 'scalar' ? ValueType.SCALAR : r.kind === 'ranges' ? ValueType.RANGES : ValueType.SET,
    scalar: r.kind === 'scalar' ? r.value : 0,
    ranges: r.kind === 'ranges' ? r.ranges.map((x) => ({ ...x })) : [],
    set: r.kind === 'set' ? [...r.items] : [],
    role: r.role,
    reservations: [],
    disk: volumeToWire(r.kind === 'scalar' ? r.volume : undefined),
  }));
}

export function attributesFromWire(list: readonly WireAttribute[]): Attribute[] {
  return list.map((a): Attribute => {
    switch (a.type) {
      case ValueType.SCALAR:
        return { name: a.name, kind: 'scalar', value: a.scalar };
      case ValueType.RANGES:
        return { name: a.name, kind: 'ranges', ranges: a.ranges.map((x) => ({ begin: x.begin, end: x.end })) };
      case ValueType.SET:
        return { name: a.name, kind: 'set', items: [...a.set] };
      default:
        return { name: a.name, kind: 'text', text: a.text };
    }
  });
}

export function attributesToWire(list: readonly Attribute[]): WireAttribute[] {
  return list.map((a) => ({
    name: a.name,
    type:
      a.kind === 'scalar' ? ValueType.SCALAR : a.kind === 'ranges' ? ValueType.RANGES : a.kind === 'set' ? ValueType.SET : ValueType.TEXT,
    scalar: a.kind === 'scalar' ? a.value : 0,
    ranges: a.kind === 'ranges' ? a.ranges.map((x) => ({ ...x })) : [],
    set: a.kind === 'set' ? [...a.items] : [],
    text: a.kind === 'text' ? a.text : '',
  }));
}
