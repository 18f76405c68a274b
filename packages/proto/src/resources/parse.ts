import type { Attribute } from './attributes.js';
import { ResourceError } from './resource-error.js';
import { Resources, validateResource } from './resources.js';
import { UNRESERVED_ROLE, type Range, type Resource, type VolumeInfo } from './types.js';

function parseRangesText(text: string, field: string): Range[] {
  const body = text.slice(1, -1).trim();
  if (body === '') return [];
  return body.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new ResourceError(field, `'${part.trim()}' is not a range like 31000-32000`);
    const begin = Number(m[1]);
    const end = m[2] === undefined ? begin : Number(m[2]);
    if (end < begin) throw new ResourceError(field, `range '${part.trim()}' ends before it begins`);
    return { begin, end };
  });
}

function parseSetText(text: string): string[] {
  return text
    .slice(1, -1)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function parseVolumeText(text: string, field: string): VolumeInfo {
  const [id = '', containerPath = '', mode = 'rw', ...rest] = text.split(':').map((x) => x.trim());
  if (rest.length > 0 || (mode !== 'rw' && mode !== 'ro')) throw new ResourceError(field, `'[${text}]' is not a volume like [id:container_path] or [id:container_path:ro]`);
  return { id, containerPath, mode };
}

/** Parses one `name(role):value` (or `disk(role)[id:path]:size`) fragment of Mesos's text syntax. */
function parseFragment(fragment: string, field: string): Resource {
  const m = /^\s*([A-Za-z][\w.-]*)\s*(?:\(\s*([^)]*?)\s*\))?\s*(?:\[([^\]]*)\])?\s*:\s*(.*?)\s*$/.exec(fragment);
  if (!m) throw new ResourceError(field, `'${fragment}' is not of the form name:value or name(role):value`);
  const [, name = '', roleText, volumeText, value = ''] = m;
  const role = roleText === undefined || roleText === '' ? UNRESERVED_ROLE : roleText;
  if (volumeText !== undefined) {
    if (!/^\d+\.?\d*$/.test(value)) throw new ResourceError(field, `a volume's size must be a number, got '${value}'`);
    return { name, kind: 'scalar', value: Number(value), role, volume: parseVolumeText(volumeText, field) };
  }
  if (value.startsWith('[') && value.endsWith(']')) {
    return { name, kind: 'ranges', ranges: parseRangesText(value, field), role };
  }
  if (value.startsWith('{') && value.endsWith('}')) {
    return { name, kind: 'set', items: parseSetText(value), role };
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
    throw new ResourceError(field, `'${value}' is not a number, [ranges] or {set}`);
  }
  return { name, kind: 'scalar', value: Number(value), role };
}

interface MesosJsonResource {
  name?: unknown;
  type?: unknown;
  role?: unknown;
  scalar?: { value?: unknown };
  ranges?: { range?: Array<{ begin?: unknown; end?: unknown }> };
  set?: { item?: unknown[] };
}

function fromMesosJson(item: MesosJsonResource, field: string): Resource {
  if (typeof item !== 'object' || item === null) throw new ResourceError(field, 'must be an object');
  const name = String(item.name ?? '');
  const role = typeof item.role === 'string' && item.role !== '' ? item.role : UNRESERVED_ROLE;
  const type = String(item.type ?? '').toUpperCase();
  if (type === 'SCALAR') return { name, kind: 'scalar', value: Number(item.scalar?.value), role };
  if (type === 'RANGES') {
    const ranges = (item.ranges?.range ?? []).map((r) => ({ begin: Number(r.begin), end: Number(r.end) }));
    return { name, kind: 'ranges', ranges, role };
  }
  if (type === 'SET') return { name, kind: 'set', items: (item.set?.item ?? []).map(String), role };
  throw new ResourceError(`${field}.type`, `'${String(item.type)}' is not SCALAR, RANGES or SET`);
}

/**
 * Parses an agent's `--resources` value: Mesos's text syntax
 * (`cpus:4;mem:4096;ports:[31000-32000];cpus(prod):2;disks:{a,b}`) or Mesos's JSON
 * array (`[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]`). Errors name the
 * fragment at fault, e.g. `--resources 'cpus:abc': 'abc' is not a number`.
 */
export function parseResources(text: string, flag = '--resources'): Resources {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new ResourceError(flag, `not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new ResourceError(flag, 'JSON resources must be an array');
    return Resources.of(parsed.map((item, i) => fromMesosJson(item as MesosJsonResource, `${flag}[${i}]`)), flag);
  }
  const fragments = trimmed.split(';').filter((f) => f.trim() !== '');
  const list = fragments.map((f) => {
    const field = `${flag} '${f.trim()}'`;
    return validateResource(parseFragment(f, field), field);
  });
  return Resources.of(list, flag);
}

/** Parses `--attributes 'rack:r1;zone:west;level:10'` (Mesos's syntax). */
export function parseAttributes(text: string, flag = '--attributes'): Attribute[] {
  const seen = new Set<string>();
  return text
    .split(';')
    .filter((f) => f.trim() !== '')
    .map((fragment) => {
      const field = `${flag} '${fragment.trim()}'`;
      const m = /^\s*([A-Za-z][\w.-]*)\s*:\s*(.+?)\s*$/.exec(fragment);
      if (!m) throw new ResourceError(field, 'is not of the form name:value');
      const [, name = '', value = ''] = m;
      if (seen.has(name)) throw new ResourceError(field, `attribute '${name}' is given twice`);
      seen.add(name);
      if (value.startsWith('[') && value.endsWith(']')) return { name, kind: 'ranges', ranges: parseRangesText(value, field) };
      if (value.startsWith('{') && value.endsWith('}')) return { name, kind: 'set', items: parseSetText(value) };
      if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value)) return { name, kind: 'scalar', value: Number(value) };
      return { name, kind: 'text', text: value };
    });
}
