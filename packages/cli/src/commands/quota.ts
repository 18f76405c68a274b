import { usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';
import { operatorRequest } from './operator-http.js';

const RESOURCES = ['cpus', 'mem', 'disk', 'gpus'] as const;

const FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master.', default: '127.0.0.1:5050' },
  cpus: { kind: 'string', value: 'N', help: 'With set: the most cpus the role may hold.' },
  mem: { kind: 'string', value: 'MB', help: 'With set: the most memory (MB) the role may hold.' },
  disk: { kind: 'string', value: 'MB', help: 'With set: the most disk (MB) the role may hold.' },
  gpus: { kind: 'string', value: 'N', help: 'With set: the most gpus the role may hold.' },
};

const USAGE = 'meso quota [--master HOST:PORT]\n       meso quota set ROLE [--cpus N] [--mem MB] [--disk MB] [--gpus N]\n       meso quota remove ROLE';

function limitsOf(values: Record<string, string | boolean | undefined>): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const name of RESOURCES) {
    const text = values[name];
    if (typeof text !== 'string') continue;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw usageError(`--${name}: '${text}' is not a number > 0`);
    limits[name] = n;
  }
  if (Object.keys(limits).length === 0) throw usageError(`meso quota set needs at least one of ${RESOURCES.map((r) => `--${r}`).join(', ')}`);
  return limits;
}

function oneRole(rest: readonly string[], sub: string): string {
  if (rest.length !== 1 || !rest[0]) throw usageError(`meso quota ${sub} takes exactly one ROLE`);
  return rest[0];
}

/** `meso quota` (list), `meso quota set ROLE --cpus 2 --mem 1024`, `meso quota remove ROLE`. */
export async function quotaCommand(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, FLAGS);
  if (values['help']) {
    console.log(formatHelp(USAGE, "Lists, sets or removes roles' quota: the most of each scalar a role may hold (tasks, executors and offers).", FLAGS));
    return 0;
  }
  const master = parseEndpoint('master', String(values['master']));
  const [sub, ...args] = rest;
  if (sub === 'set') {
    const role = oneRole(args, 'set');
    const limits = limitsOf(values);
    await operatorRequest(master, 'POST', '/quota', { role, limits });
    console.log(`quota of ${role}: ${Object.entries(limits).map(([k, v]) => `${k}:${v}`).join(';')}`);
    return 0;
  }
  if (sub === 'remove') {
    const role = oneRole(args, 'remove');
    await operatorRequest(master, 'DELETE', `/quota/${role.split('/').map(encodeURIComponent).join('/')}`);
    console.log(`quota of ${role} removed`);
    return 0;
  }
  if (sub !== undefined) throw usageError(`meso quota: unknown subcommand '${sub}' (use set or remove)`);
  const { infos } = await operatorRequest<{ infos: { role: string; limits: Record<string, number> }[] }>(master, 'GET', '/quota');
  console.log(renderTable(['ROLE', ...RESOURCES.map((r) => r.toUpperCase())], infos.map((q) => [q.role, ...RESOURCES.map((r) => (q.limits[r] === undefined ? '-' : String(q.limits[r])))])));
  return 0;
}
