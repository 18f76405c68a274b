import { usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';
import { operatorRequest } from './operator-http.js';

const FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master.', default: '127.0.0.1:5050' },
  json: { kind: 'boolean', help: "Print the master's /roles JSON as it is." },
};

const USAGE = 'meso roles [--master HOST:PORT] [--json]\n       meso roles weight ROLE=WEIGHT... [--master HOST:PORT]';

type ResourceMap = Record<string, number | string>;
interface RoleJson {
  name: string;
  weight: number;
  quota?: ResourceMap;
  allocated: ResourceMap;
  reserved: ResourceMap;
  frameworks: string[];
}

/**
 * Parses `prod=3` items (a weight > 0 each, a role named once) into `{ role: weight }`;
 * a usage error naming `what` and the bad item otherwise.
 */
export function parseWeightItems(items: readonly string[], what: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const item of items) {
    const m = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(item);
    if (!m) throw usageError(`${what}: '${item}' is not ROLE=WEIGHT`);
    const [, role = '', text = ''] = m;
    const weight = Number(text);
    if (!Number.isFinite(weight) || weight <= 0) throw usageError(`${what}: '${item}': the weight of ${role} must be a number > 0`);
    if (role in weights) throw usageError(`${what}: '${item}': role ${role} is given twice`);
    weights[role] = weight;
  }
  return weights;
}

/** `--weights 'prod=3,dev=1'` → `{ prod: 3, dev: 1 }` (role names are checked by the master). */
export function parseWeightsFlag(text: string): Record<string, number> {
  return parseWeightItems(text.split(',').filter((s) => s.trim() !== ''), '--weights');
}

function scalars(map: ResourceMap | undefined): string {
  const parts = Object.entries(map ?? {}).map(([k, v]) => `${k}:${v}`);
  return parts.length > 0 ? parts.join(';') : '-';
}

/** `meso roles`: every known role as a table; `meso roles weight prod=3 dev=1`: PUT /weights. */
export async function rolesCommand(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, FLAGS);
  if (values['help']) {
    console.log(formatHelp(USAGE, 'Lists roles (weight, quota, allocated, reserved, frameworks), or sets role weights (> 0; kept across master restarts).', FLAGS));
    return 0;
  }
  const master = parseEndpoint('master', String(values['master']));
  const [sub, ...items] = rest;
  if (sub === 'weight') {
    if (items.length === 0) throw usageError('meso roles weight takes ROLE=WEIGHT items, e.g. prod=3 dev=1');
    const weights = parseWeightItems(items, 'meso roles weight');
    const answer = await operatorRequest<{ role: string; weight: number }[]>(master, 'PUT', '/weights', Object.entries(weights).map(([role, weight]) => ({ role, weight })));
    console.log(renderTable(['ROLE', 'WEIGHT'], answer.map((w) => [w.role, String(w.weight)])));
    return 0;
  }
  if (sub !== undefined) throw usageError(`meso roles: unknown subcommand '${sub}' (use 'weight')`);
  const { roles } = await operatorRequest<{ roles: RoleJson[] }>(master, 'GET', '/roles');
  if (values['json']) {
    console.log(JSON.stringify({ roles }, null, 2));
    return 0;
  }
  console.log(
    renderTable(
      ['ROLE', 'WEIGHT', 'QUOTA', 'ALLOCATED', 'RESERVED', 'FRAMEWORKS'],
      roles.map((r) => [r.name, String(r.weight), scalars(r.quota), scalars(r.allocated), scalars(r.reserved), r.frameworks.length > 0 ? r.frameworks.join(',') : '-']),
    ),
  );
  return 0;
}
