import { readFile } from 'node:fs/promises';
import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';

// `meso job ...`: a client of fw-chronos's Chronos REST API (HTTP only; no code shared with the
// framework, as any Chronos client).

const JOB_FLAGS: FlagSpecs = {
  chronos: { kind: 'string', value: 'HOST:PORT', help: "fw-chronos's REST API.", default: process.env['MESO_CHRONOS'] ?? '127.0.0.1:4400' },
  arguments: { kind: 'string', value: 'ARGS', help: 'For run: arguments instead of the job\'s, space-separated (jobs with shell false; a shell job ignores them, as in Chronos).' },
  json: { kind: 'boolean', help: 'Print the API response as JSON.' },
};

const USAGE = [
  'meso job add FILE.json   create or replace the job(s) of a Chronos JSON file (a job or an array)',
  '         list            list jobs with their schedule, counters and last outcome',
  '         run NAME        run a job now',
  '         runs NAME       show the run ledger of a job',
  '         remove NAME     remove a job and its run history',
].join('\n       ');

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  let response: Response;
  try {
    response = await fetch(`http://${base}/v1/scheduler${path}`, {
      method,
      signal: AbortSignal.timeout(10_000),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (e) {
    throw new CliError(`cannot reach fw-chronos at ${base}: ${(e as Error).message}`, 1, { cause: e });
  }
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  if (!response.ok) throw new CliError(`${method} ${path}: HTTP ${response.status}: ${json?.message ?? text}`, 1);
  return json;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));

/** `meso job`: add, list, run, inspect and remove fw-chronos jobs. */
export async function jobCommand(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, JOB_FLAGS);
  if (values['help'] || rest.length === 0) {
    console.log(formatHelp(USAGE, "Manages fw-chronos jobs through its Chronos REST API.", JOB_FLAGS));
    return values['help'] ? 0 : 2;
  }
  const base = parseEndpoint('chronos', String(values['chronos']));
  const [sub, arg] = rest;
  const needName = (): string => {
    if (!arg) throw usageError(`meso job ${sub}: a job NAME is required`);
    return arg;
  };
  switch (sub) {
    case 'add': {
      if (!arg) throw usageError('meso job add: a FILE.json is required');
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(arg, 'utf8'));
      } catch (e) {
        throw new CliError(`cannot read ${arg}: ${(e as Error).message}`, 1, { cause: e });
      }
      const jobs = Array.isArray(parsed) ? parsed : [parsed];
      for (const job of jobs as Array<{ name?: string; parents?: unknown[] }>) {
        const path = Array.isArray(job.parents) && job.parents.length > 0 ? '/dependency' : '/iso8601';
        await call(base, 'POST', path, job);
        console.log(`job ${job.name} saved`);
      }
      return 0;
    }
    case 'list': {
      const jobs = (await call(base, 'GET', '/jobs')) as any[];
      if (values['json']) {
        console.log(JSON.stringify(jobs, null, 2));
        return 0;
      }
      console.log(
        renderTable(
          ['NAME', 'SCHEDULE', 'OK', 'FAILED', 'LAST SUCCESS', 'LAST ERROR', 'STATE'],
          jobs.map((j) => [
            j.name,
            j.parents?.length ? `after ${j.parents.join(',')}` : j.cron ? `${j.cron} (${j.timezone})` : `${j.schedule}${j.scheduleTimeZone ? ` (${j.scheduleTimeZone})` : ''}`,
            String(j.successCount),
            String(j.errorCount),
            j.lastSuccess ?? '',
            j.lastError ?? '',
            j.disabled ? 'disabled' : 'enabled',
          ]),
        ),
      );
      return 0;
    }
    case 'run': {
      const name = needName();
      const args = typeof values['arguments'] === 'string' ? `?arguments=${encodeURIComponent(values['arguments'])}` : '';
      await call(base, 'PUT', `/job/${encodeURIComponent(name)}${args}`);
      console.log(`job ${name} started`);
      return 0;
    }
    case 'runs': {
      const name = needName();
      const runs = (await call(base, 'GET', `/job/${encodeURIComponent(name)}/runs`)) as any[];
      if (values['json']) {
        console.log(JSON.stringify(runs, null, 2));
        return 0;
      }
      console.log(
        renderTable(
          ['SCHEDULED FOR', 'TRIGGER', 'ATTEMPT', 'STATE', 'STARTED', 'ENDED', 'EXIT', 'LATE', 'TASK'],
          runs.map((r) => [
            iso(r.scheduledFor),
            r.trigger,
            String(r.attempt),
            r.state + (r.skippedCount > 1 ? ` x${r.skippedCount}` : ''),
            iso(r.start),
            iso(r.end),
            r.exitStatus === undefined ? '' : String(r.exitStatus),
            r.lateMs === undefined ? '' : `${r.lateMs} ms`,
            r.taskId ?? r.attempts?.[r.attempts.length - 1]?.taskId ?? '',
          ]),
        ),
      );
      return 0;
    }
    case 'remove': {
      const name = needName();
      await call(base, 'DELETE', `/job/${encodeURIComponent(name)}`);
      console.log(`job ${name} removed`);
      return 0;
    }
    default:
      throw usageError(`meso job: unknown subcommand '${sub}'\n\nUsage: ${USAGE}`);
  }
}
