import { readFile } from 'node:fs/promises';
import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseDuration, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';

// `meso batch ...`: a client of fw-batch's JSON API (HTTP only; no code shared with the framework).

const BATCH_FLAGS: FlagSpecs = {
  batch: { kind: 'string', value: 'HOST:PORT', help: "fw-batch's API.", default: process.env['MESO_BATCH'] ?? '127.0.0.1:4800' },
  id: { kind: 'string', value: 'ID', help: 'submit -- COMMAND: the job id (default: batch-<time>).' },
  user: { kind: 'string', value: 'USER', help: 'submit -- COMMAND / list: the user (tenant).' },
  instances: { kind: 'string', value: 'N', help: 'submit -- COMMAND: an array of N instances (MESO_BATCH_INDEX).' },
  cpus: { kind: 'string', value: 'N', help: 'submit -- COMMAND: cpus per instance.' },
  mem: { kind: 'string', value: 'MB', help: 'submit -- COMMAND: mem per instance.' },
  max_retries: { kind: 'string', value: 'N', help: 'submit -- COMMAND: retries per instance.' },
  state: { kind: 'string', value: 'STATE', help: 'list: only jobs in this state.' },
  label: { kind: 'string', value: 'K=V', help: 'list: only jobs with this label.' },
  wait: { kind: 'boolean', help: 'submit: follow the jobs with a progress bar until they end.' },
  timeout: { kind: 'string', value: 'DURATION', help: 'How long --wait follows.', default: '1hrs' },
  json: { kind: 'boolean', help: 'Print the API response as JSON.' },
};

const USAGE = [
  'meso batch submit FILE.json [--wait]       submit a job, an array of jobs (a DAG) or {"jobs": [...]}',
  '           submit [flags] [--wait] -- COMMAND ARGS...   submit one job from the command line',
  '           list [--user U] [--state S] [--label K=V]',
  '           show ID                          a job with its instances and attempts',
  '           kill ID',
  '           why ID                           why a job is not running',
  '           usage                            per user: running, weight, dominant share',
].join('\n       ');

interface Api {
  call(method: string, path: string, body?: unknown): Promise<any>;
}

function apiOf(batch: string): Api {
  const base = `http://${batch}`;
  return {
    async call(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          signal: AbortSignal.timeout(15_000),
          ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        });
      } catch (e) {
        throw new CliError(`cannot reach fw-batch at ${batch}: ${(e as Error).message}`, 1, { cause: e });
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
    },
  };
}

const TERMINAL = new Set(['succeeded', 'failed', 'killed']);

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Follows jobs until each ended (or is held), with one progress bar over their instances. */
async function follow(api: Api, ids: string[], timeoutMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const deadline = Date.now() + timeoutMs;
  const started = Date.now();
  let last = '';
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => api.call('GET', `/v1/jobs/${encodeURIComponent(id)}`)));
    let total = 0;
    let ended = 0;
    let running = 0;
    let failed = 0;
    for (const j of jobs) {
      const c = j.instances;
      total += c.pending + c.running + c.succeeded + c.failed + c.killed;
      ended += c.succeeded + c.failed + c.killed;
      running += c.running;
      failed += c.failed;
    }
    const states = new Map<string, number>();
    for (const j of jobs) states.set(j.state, (states.get(j.state) ?? 0) + 1);
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    const line = `[${secs}s] ${bar(ended, total)} ${ended}/${total} instances ended, ${running} running${failed ? `, ${failed} failed` : ''} — jobs: ${[...states].map(([s, n]) => `${n} ${s}`).join(', ')}`;
    if (line !== last) {
      if (tty) process.stdout.write(`\r\x1b[K${line}`);
      else console.log(line);
      last = line;
    }
    const settled = jobs.every((j) => TERMINAL.has(j.state) || j.state === 'held');
    if (settled) {
      if (tty) process.stdout.write('\n');
      for (const j of jobs.filter((x) => x.state !== 'succeeded')) console.log(`${j.id}: ${j.state}${j.message ? ` (${j.message})` : ''}`);
      return jobs.every((j) => j.state === 'succeeded') ? 0 : 1;
    }
    if (Date.now() > deadline) {
      if (tty) process.stdout.write('\n');
      throw new CliError(`jobs still running after ${timeoutMs / 1000}s`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function num(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw usageError(`--${name}: expected a number >= 0, got '${String(v)}'`);
  return n;
}

/** `meso batch`: submit, list, show, kill, why and usage on fw-batch. */
export async function batchCommand(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const { values, rest } = parseFlags(dash === -1 ? argv : argv.slice(0, dash), BATCH_FLAGS);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  const [sub, ...args] = rest;
  if (values['help'] || sub === undefined) {
    console.log(formatHelp(USAGE, 'Run batch jobs (arrays, DAGs) on fw-batch with fair share between users.', BATCH_FLAGS));
    return sub === undefined && !values['help'] ? 2 : 0;
  }
  const api = apiOf(parseEndpoint('batch', String(values['batch'])));
  const json = values['json'] === true;
  const need = (n: number, what: string): string[] => {
    if (args.length !== n) throw usageError(`meso batch ${sub} needs ${what}`);
    return args;
  };
  switch (sub) {
    case 'submit': {
      let body: unknown;
      if (command.length > 0) {
        need(0, 'either FILE.json or -- COMMAND, not both');
        body = {
          id: values['id'] ?? `batch-${Date.now()}`,
          command: command.length === 1 ? command[0] : command,
          ...(values['user'] ? { user: values['user'] } : {}),
          ...(values['instances'] !== undefined ? { instances: num('instances', values['instances']) } : {}),
          ...(values['cpus'] !== undefined ? { cpus: num('cpus', values['cpus']) } : {}),
          ...(values['mem'] !== undefined ? { mem: num('mem', values['mem']) } : {}),
          ...(values['max_retries'] !== undefined ? { maxRetries: num('max_retries', values['max_retries']) } : {}),
        };
      } else {
        const [file] = need(1, 'a JSON file or -- COMMAND');
        try {
          body = JSON.parse(await readFile(file!, 'utf8'));
        } catch (e) {
          throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
        }
      }
      const res = await api.call('POST', '/v1/jobs', body);
      const ids: string[] = res.jobs.map((j: any) => j.id);
      if (json) console.log(JSON.stringify(res, null, 2));
      else for (const j of res.jobs) console.log(`submitted ${j.id} (${j.user}, ${j.job.instances} instance${j.job.instances === 1 ? '' : 's'}): ${j.state}${j.unschedulable ? ` — unschedulable: ${j.unschedulable}` : ''}`);
      return values['wait'] ? follow(api, ids, parseDuration('timeout', String(values['timeout']))) : 0;
    }
    case 'list': {
      need(0, 'no arguments');
      const q = new URLSearchParams();
      for (const k of ['user', 'state', 'label'] as const) if (values[k]) q.set(k, String(values[k]));
      q.set('limit', '1000');
      const res = await api.call('GET', `/v1/jobs?${q}`);
      if (json) console.log(JSON.stringify(res, null, 2));
      else
        console.log(
          renderTable(
            ['ID', 'USER', 'STATE', 'INSTANCES', 'RUNNING', 'DONE', 'FAILED', 'SUBMITTED'],
            res.jobs.map((j: any) => [j.id, j.user, j.state, String(j.job.instances), String(j.instances.running), String(j.instances.succeeded), String(j.instances.failed), j.submittedAt]),
          ),
        );
      return 0;
    }
    case 'show': {
      const [id] = need(1, 'a job id');
      const j = await api.call('GET', `/v1/jobs/${encodeURIComponent(id!)}`);
      if (json) {
        console.log(JSON.stringify(j, null, 2));
        return 0;
      }
      const cmd = j.job.command.shell ?? j.job.command.argv.join(' ');
      console.log(`${j.id}  user ${j.user}  ${j.state}${j.message ? ` (${j.message})` : ''}`);
      console.log(`  command    ${cmd}`);
      console.log(`  resources  cpus ${j.job.resources.cpus}, mem ${j.job.resources.mem} MB, disk ${j.job.resources.disk} MB, gpus ${j.job.resources.gpus}, ports ${j.job.resources.ports}`);
      console.log(`  instances  ${j.job.instances}: ${Object.entries(j.instances).map(([k, v]) => `${v} ${k}`).join(', ')}; max retries ${j.job.maxRetries}`);
      if (j.job.dependsOn.length) console.log(`  depends on ${j.job.dependsOn.join(', ')} (on failure: ${j.job.onDependencyFailure})`);
      if (j.unschedulable) console.log(`  unschedulable ${j.unschedulable}`);
      console.log('\nATTEMPTS');
      const rows: string[][] = [];
      for (const t of j.tasks) for (const a of t.attempts) rows.push([String(t.index), a.taskId, a.hostname, a.state, a.exitCode === undefined ? '-' : String(a.exitCode), a.endReason ?? '', a.startedAt && a.endedAt ? `${((a.endedAt - a.startedAt) / 1000).toFixed(1)}s` : '', a.sandbox ?? '']);
      console.log(renderTable(['INDEX', 'TASK', 'HOST', 'STATE', 'EXIT', 'ENDED BY', 'TOOK', 'SANDBOX'], rows));
      return 0;
    }
    case 'kill': {
      const [id] = need(1, 'a job id');
      const j = await api.call('POST', `/v1/jobs/${encodeURIComponent(id!)}/kill`);
      console.log(json ? JSON.stringify(j, null, 2) : `${j.id}: ${j.state}`);
      return 0;
    }
    case 'why': {
      const [id] = need(1, 'a job id');
      const w = await api.call('GET', `/v1/jobs/${encodeURIComponent(id!)}/why`);
      if (json) console.log(JSON.stringify(w, null, 2));
      else {
        console.log(`${w.id}: ${w.state}`);
        for (const r of w.reasons) console.log(`  - ${r}`);
      }
      return 0;
    }
    case 'usage': {
      need(0, 'no arguments');
      const u = await api.call('GET', '/v1/usage');
      if (json) console.log(JSON.stringify(u, null, 2));
      else
        console.log(
          renderTable(
            ['USER', 'WEIGHT', 'RUNNING', 'PENDING', 'CPUS', 'MEM', 'DOMINANT SHARE', 'SHARE/WEIGHT', 'QUOTA'],
            Object.entries(u.users).map(([user, x]: [string, any]) => [user, String(x.weight), String(x.running), String(x.pending), String(x.resources.cpus), String(x.resources.mem), x.dominantShare.toFixed(3), x.weightedShare.toFixed(3), x.quota ? JSON.stringify(x.quota) : '-']),
          ),
        );
      return 0;
    }
    default:
      throw usageError(`unknown subcommand '${sub}' of meso batch`);
  }
}
