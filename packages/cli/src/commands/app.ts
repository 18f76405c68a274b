import { readFile } from 'node:fs/promises';
import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseDuration, parseEndpoint, parseFlags, parseInteger, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';

// `meso app ...`: a client of fw-marathon's Marathon REST API (HTTP only; no code shared
// with the framework, as any Marathon client).

const APP_FLAGS: FlagSpecs = {
  marathon: { kind: 'string', value: 'HOST:PORT', help: "fw-marathon's REST API.", default: process.env['MESO_MARATHON'] ?? '127.0.0.1:8080' },
  force: { kind: 'boolean', help: 'Override a deployment that locks the app.' },
  no_wait: { kind: 'boolean', help: 'Return once the deployment started instead of following it.' },
  timeout: { kind: 'string', value: 'DURATION', help: 'How long to follow a deployment.', default: '10mins' },
  json: { kind: 'boolean', help: 'Print the API response as JSON.' },
};

const USAGE = [
  'meso app deploy FILE.json   create or replace the app(s) of a Marathon JSON file (app, array of apps, or group)',
  '         list               list apps with their instances and health',
  '         show ID            show one app and its tasks',
  '         scale ID N         set the number of instances',
  '         restart ID         rolling restart',
  '         remove ID          remove the app and kill its tasks',
].join('\n       ');

interface Api {
  base: string;
  call(method: string, path: string, body?: unknown): Promise<any>;
}

function apiOf(marathon: string): Api {
  const base = `http://${marathon}`;
  return {
    base,
    async call(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          signal: AbortSignal.timeout(15_000),
          ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        });
      } catch (e) {
        throw new CliError(`cannot reach fw-marathon at ${marathon}: ${(e as Error).message}`, 1, { cause: e });
      }
      const text = await response.text();
      const parsed: any = text ? JSON.parse(text) : undefined;
      if (!response.ok) {
        const details = (parsed?.details ?? []).map((d: { path: string; errors: string[] }) => `\n  ${d.path}: ${d.errors.join('; ')}`).join('');
        const locks = parsed?.deployments ? ` (deployments: ${parsed.deployments.map((d: { id: string }) => d.id).join(', ')}; use --force)` : '';
        throw new CliError(`HTTP ${response.status}: ${parsed?.message ?? text}${locks}${details}`);
      }
      return parsed;
    },
  };
}

const appPath = (id: string): string => `/v2/apps${id.startsWith('/') ? id : `/${id}`}`;

function health(app: any): string {
  return app.healthChecks?.length ? `${app.tasksHealthy}/${app.instances}` : '-';
}

/**
 * Follows a deployment until it is gone from /v2/deployments, printing its progress: the step,
 * the running and healthy counts of each app, and why it is blocked. On a terminal, one line
 * redrawn in place; otherwise a line per change.
 */
async function follow(api: Api, deploymentId: string, apps: string[], timeoutMs: number): Promise<void> {
  const tty = process.stdout.isTTY === true;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  const started = Date.now();
  for (;;) {
    const deployments: any[] = await api.call('GET', '/v2/deployments');
    const d = deployments.find((x) => x.id === deploymentId);
    const counts = await Promise.all(
      apps.map(async (id) => {
        try {
          const a = (await api.call('GET', appPath(id))).app;
          return `${a.id} running ${a.tasksRunning}/${a.instances}${a.healthChecks?.length ? ` healthy ${a.tasksHealthy}` : ''}${a.tasksStaged ? ` staged ${a.tasksStaged}` : ''}`;
        } catch {
          return `${id} removed`;
        }
      }),
    );
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    const line = d
      ? `[${secs}s] step ${d.currentStep}/${d.totalSteps} ${d.currentActions.map((a: any) => a.action).join(',')}: ${counts.join('; ')}${d.whyBlocked ? ` — blocked: ${d.whyBlocked}` : ''}`
      : `[${secs}s] deployment ${deploymentId} finished: ${counts.join('; ')}`;
    if (line !== last) {
      if (tty) process.stdout.write(`\r\x1b[K${line}`);
      else console.log(line);
      last = line;
    }
    if (!d) {
      if (tty) process.stdout.write('\n');
      return;
    }
    if (Date.now() > deadline) {
      if (tty) process.stdout.write('\n');
      throw new CliError(`deployment ${deploymentId} still running after ${timeoutMs / 1000}s${d.whyBlocked ? `: ${d.whyBlocked}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `meso app`: deploy, list, show, scale, restart and remove Marathon apps on fw-marathon. */
export async function appCommand(argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, APP_FLAGS);
  const [sub, ...args] = rest;
  if (values['help'] || sub === undefined) {
    console.log(formatHelp(USAGE, 'Manage long-running services on fw-marathon (Marathon REST API).', APP_FLAGS));
    return sub === undefined && !values['help'] ? 2 : 0;
  }
  const api = apiOf(parseEndpoint('marathon', String(values['marathon'])));
  const force = values['force'] ? '?force=true' : '';
  const timeoutMs = parseDuration('timeout', String(values['timeout']));
  const need = (n: number, what: string): string[] => {
    if (args.length !== n) throw usageError(`meso app ${sub} needs ${what}`);
    return args;
  };
  const done = async (result: { deploymentId: string; version: string }, apps: string[]): Promise<number> => {
    if (values['json']) console.log(JSON.stringify(result));
    else console.log(`deployment ${result.deploymentId} (version ${result.version})`);
    if (!values['no_wait']) await follow(api, result.deploymentId, apps, timeoutMs);
    return 0;
  };
  switch (sub) {
    case 'deploy': {
      const [file] = need(1, 'a JSON file');
      let body: any;
      try {
        body = JSON.parse(await readFile(file!, 'utf8'));
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
      }
      if (Array.isArray(body)) return done(await api.call('PUT', `/v2/apps${force}`, body), body.map((a: any) => String(a.id)));
      if (Array.isArray(body?.apps)) {
        const group = body.id ? (String(body.id).startsWith('/') ? body.id : `/${body.id}`) : '/';
        const ids = body.apps.map((a: any) => (String(a.id).startsWith('/') ? a.id : `${group === '/' ? '' : group}/${a.id}`));
        return done(await api.call('PUT', `/v2/groups${group === '/' ? '' : group}${force}`, body), ids);
      }
      if (typeof body?.id !== 'string') throw new CliError(`${file}: an app needs an "id"`);
      const sep = force ? '&' : '?';
      return done(await api.call('PUT', `${appPath(body.id)}${force}${sep}partialUpdate=false`, body), [body.id]);
    }
    case 'list': {
      need(0, 'no arguments');
      const { apps } = await api.call('GET', '/v2/apps');
      if (values['json']) console.log(JSON.stringify(apps, null, 2));
      else {
        console.log(
          renderTable(
            ['ID', 'INSTANCES', 'RUNNING', 'HEALTHY', 'CPUS', 'MEM', 'DEPLOYMENTS', 'CMD'],
            apps.map((a: any) => [a.id, String(a.instances), String(a.tasksRunning), health(a), String(a.cpus), String(a.mem), String(a.deployments.length), String(a.cmd ?? (a.args ?? []).join(' ')).slice(0, 50)]),
          ),
        );
      }
      return 0;
    }
    case 'show': {
      const [id] = need(1, 'an app id');
      const { app } = await api.call('GET', appPath(id!));
      if (values['json']) {
        console.log(JSON.stringify(app, null, 2));
        return 0;
      }
      console.log(`${app.id}  version ${app.version}`);
      console.log(`  cmd        ${app.cmd ?? (app.args ?? []).join(' ')}`);
      console.log(`  resources  cpus ${app.cpus}, mem ${app.mem} MB, disk ${app.disk} MB, ports ${app.portDefinitions.length}`);
      console.log(`  instances  ${app.instances} (running ${app.tasksRunning}, staged ${app.tasksStaged}, healthy ${health(app)})`);
      if (app.constraints.length) console.log(`  constraints ${app.constraints.map((c: string[]) => c.join(':')).join(', ')}`);
      if (app.deployments.length) console.log(`  deployments ${app.deployments.map((d: { id: string }) => d.id).join(', ')}`);
      if (app.whyBlocked) console.log(`  blocked    ${app.whyBlocked}`);
      if (app.lastTaskFailure) console.log(`  last failure ${app.lastTaskFailure.taskId} ${app.lastTaskFailure.state} on ${app.lastTaskFailure.host}: ${app.lastTaskFailure.message}`);
      console.log('\nTASKS');
      console.log(
        renderTable(
          ['ID', 'HOST', 'STATE', 'HEALTHY', 'PORTS', 'STARTED'],
          (app.tasks ?? []).map((t: any) => [t.id, t.host, t.state, t.healthCheckResults ? String(t.healthCheckResults[0]?.alive) : '-', t.ports.join(','), t.startedAt ?? '']),
        ),
      );
      return 0;
    }
    case 'scale': {
      const [id, n] = need(2, 'an app id and a number of instances');
      const instances = parseInteger('N', n!, 0, 1_000_000);
      return done(await api.call('PUT', `${appPath(id!)}${force}`, { instances }), [id!]);
    }
    case 'restart': {
      const [id] = need(1, 'an app id');
      return done(await api.call('POST', `${appPath(id!)}/restart${force}`), [id!]);
    }
    case 'remove': {
      const [id] = need(1, 'an app id');
      return done(await api.call('DELETE', `${appPath(id!)}${force}`), [id!]);
    }
    default:
      throw usageError(`unknown subcommand '${sub}' of meso app`);
  }
}
