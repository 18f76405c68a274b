import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseDuration, parseEndpoint, parseFlags, parseInteger, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';

// `meso redis ...`: a client of fw-redis's JSON API (/v2/instances; HTTP only, no code shared with the framework).

const REDIS_FLAGS: FlagSpecs = {
  redis: { kind: 'string', value: 'HOST:PORT', help: "fw-redis's API.", default: process.env['MESO_REDIS'] ?? '127.0.0.1:5656' },
  mem: { kind: 'string', value: 'MB', help: 'create: maxmemory of each server.', default: '256' },
  replicas: { kind: 'string', value: 'N', help: 'create / scale: the number of replicas.' },
  distribution: { kind: 'string', value: 'N', help: 'create: at most N servers of the instance per agent (default: no limit).' },
  wait: { kind: 'boolean', help: 'create / scale: wait until every server runs and replicas are in sync.' },
  timeout: { kind: 'string', value: 'DURATION', help: 'How long --wait waits.', default: '2mins' },
  json: { kind: 'boolean', help: 'Print the API response as JSON.' },
};

const USAGE = [
  'meso redis create NAME [--mem 256] [--replicas N] [--distribution N] [--wait]',
  '           status [NAME]                     instances, or one with its servers',
  '           scale NAME --replicas N [--wait]',
  '           delete NAME',
].join('\n       ');

async function call(redis: string, method: string, path: string, body?: unknown): Promise<any> {
  let response: Response;
  try {
    response = await fetch(`http://${redis}${path}`, {
      method,
      signal: AbortSignal.timeout(15_000),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (e) {
    throw new CliError(`cannot reach fw-redis at ${redis}: ${(e as Error).message}`, 1, { cause: e });
  }
  const text = await response.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) throw new CliError(`HTTP ${response.status}: ${parsed?.code ? `${parsed.code}: ` : ''}${parsed?.message ?? text}`);
  return parsed;
}

const mb = (bytes: unknown): string => (typeof bytes === 'number' ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : '-');

function printInstance(i: any): void {
  console.log(`${i.name}: ${i.status}, ${i.capacityMb} MB per server, 1 master + ${i.replicas} replicas (at most ${i.distribution} per agent), epoch ${i.epoch}`);
  if (i.message) console.log(`  ${i.message}`);
  console.log(`  master ${i.endpoints.master ?? '(none)'}; Sentinel name '${i.endpoints.sentinelName}' at ${i.endpoints.sentinels.join(', ')}`);
  console.log(
    renderTable(
      ['ROLE', 'ADDRESS', 'STATE', 'ANSWERING', 'MEMORY', 'CLIENTS', 'OFFSET', 'LAG', 'TASK'],
      i.members.map((m: any) => [m.role, m.address, m.state, m.answering ? 'yes' : 'no', mb(m.usedMemory), String(m.clients ?? '-'), String(m.offset ?? '-'), m.lagBytes === undefined ? '-' : `${m.lagBytes} B`, m.taskId]),
    ),
  );
  for (const f of i.failovers ?? []) console.log(`  failover epoch ${f.epoch} at ${f.at}: ${f.from ?? '-'} → ${f.to} (${f.reason})`);
}

const inSync = (i: any): boolean => i.status === 'RUNNING' && i.members.length === 1 + i.replicas && i.members.every((m: any) => m.answering && (m.role === 'master' || m.linkUp));

async function waitReady(redis: string, name: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = await call(redis, 'GET', `/v2/instances/${encodeURIComponent(name)}`);
    if (inSync(i)) return i;
    if (Date.now() > deadline) throw new CliError(`${name} not ready after ${timeoutMs / 1000}s: ${i.status}${i.message ? ` (${i.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `meso redis`: create, status, scale and delete Redis instances on fw-redis. */
export async function redisCommand(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, REDIS_FLAGS);
  const [sub, ...args] = rest;
  if (values['help'] || sub === undefined) {
    console.log(formatHelp(USAGE, 'Run Redis instances (a master and replicas, with failover) on fw-redis.', REDIS_FLAGS));
    return sub === undefined && !values['help'] ? 2 : 0;
  }
  const redis = parseEndpoint('redis', String(values['redis']));
  const json = values['json'] === true;
  const timeoutMs = parseDuration('timeout', String(values['timeout']));
  const name = (): string => {
    if (args.length !== 1) throw usageError(`meso redis ${sub} needs NAME`);
    return encodeURIComponent(args[0]!);
  };
  const replicas = (): number => {
    if (values['replicas'] === undefined) throw usageError(`meso redis ${sub} needs --replicas N`);
    return parseInteger('replicas', String(values['replicas']), 0, 100);
  };
  const done = async (i: any): Promise<number> => {
    const shown = values['wait'] ? await waitReady(redis, i.name, timeoutMs) : i;
    if (json) console.log(JSON.stringify(shown, null, 2));
    else printInstance(shown);
    return 0;
  };
  switch (sub) {
    case 'create': {
      const body = {
        name: decodeURIComponent(name()),
        capacityMb: parseInteger('mem', String(values['mem']), 1, 1_000_000),
        replicas: values['replicas'] === undefined ? 0 : replicas(),
        ...(values['distribution'] !== undefined ? { distribution: parseInteger('distribution', String(values['distribution']), 1, 1000) } : {}),
      };
      return done(await call(redis, 'POST', '/v2/instances', body));
    }
    case 'scale':
      return done(await call(redis, 'PATCH', `/v2/instances/${name()}`, { replicas: replicas() }));
    case 'delete': {
      const i = await call(redis, 'DELETE', `/v2/instances/${name()}`);
      if (json) console.log(JSON.stringify(i, null, 2));
      else console.log(`${i.name}: ${i.status}`);
      return 0;
    }
    case 'status': {
      if (args.length === 1) return done(await call(redis, 'GET', `/v2/instances/${name()}`));
      if (args.length > 1) throw usageError('meso redis status takes at most one NAME');
      const list = await call(redis, 'GET', '/v2/instances');
      if (json) {
        console.log(JSON.stringify(list, null, 2));
        return 0;
      }
      console.log(
        renderTable(
          ['NAME', 'STATUS', 'MEM', 'REPLICAS', 'MASTER', 'EPOCH', 'MESSAGE'],
          list.instances.map((i: any) => [i.name, i.status, `${i.capacityMb} MB`, `${i.endpoints.replicas.length}/${i.replicas}`, i.endpoints.master ?? '-', String(i.epoch), i.message ?? '']),
        ),
      );
      return 0;
    }
    default:
      throw usageError(`unknown subcommand '${sub}'\n\nUsage: ${USAGE}`);
  }
}
