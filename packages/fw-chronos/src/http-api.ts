import type { IncomingMessage, ServerResponse } from 'node:http';
import { toDot } from './dag.js';
import type { JobEngine } from './engine.js';
import { ChronosError } from './errors.js';
import type { Job } from './job.js';
import { percentile } from './metrics.js';

/** Chronos's percentile names for /stats/{percentile} and /job/stat/{name}. */
const PERCENTILES: Record<string, number> = {
  median: 50,
  '75thPercentile': 75,
  '95thPercentile': 95,
  '98thPercentile': 98,
  '99thPercentile': 99,
  '999thPercentile': 99.9,
};

const STATUS: Record<string, number> = { INVALID_JOB: 400, BAD_REQUEST: 400, HAS_DEPENDENTS: 400, JOB_NOT_FOUND: 404, INVALID_OPTIONS: 400, INTERNAL: 500 };

interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
}

const noContent: Reply = { status: 204 };

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new ChronosError('BAD_REQUEST', 'request body larger than 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ChronosError('BAD_REQUEST', `body is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

function sec(ms: number | undefined): number | null {
  return ms === undefined ? null : ms / 1000;
}

function stat(engine: JobEngine, name: string, runs: Awaited<ReturnType<JobEngine['runsOf']>>): unknown {
  const d = engine.durationsOf(name);
  const histogram: Record<string, number | null> = { count: d.length, mean: d.length ? sec(d.reduce((a, b) => a + b, 0) / d.length) : null };
  for (const [label, p] of Object.entries(PERCENTILES)) histogram[label] = sec(percentile(d, p));
  return {
    histogram,
    taskStatHistory: runs.slice(-20).map((r) => ({
      taskId: r.taskId ?? r.attempts[r.attempts.length - 1]?.taskId ?? null,
      jobName: r.job,
      slaveId: r.agentId ?? null,
      taskState: r.state,
      scheduledFor: new Date(r.scheduledFor).toISOString(),
      taskStartTs: r.start ? new Date(r.start).toISOString() : null,
      taskEndTs: r.end ? new Date(r.end).toISOString() : null,
      taskDuration: r.start && r.end ? r.end - r.start : null,
      lateMs: r.lateMs ?? null,
      attempt: r.attempt,
    })),
    nextRun: engine.nextRunOf(name) === undefined ? null : new Date(engine.nextRunOf(name)!).toISOString(),
  };
}

function lastStatus(job: Job): string {
  if (!job.lastSuccess && !job.lastError) return 'fresh';
  return (job.lastSuccess || '') >= (job.lastError || '') ? 'success' : 'failure';
}

function searchJobs(jobs: Job[], q: URLSearchParams): Job[] {
  const has = (v: string, needle: string | null): boolean => needle === null || v.toLowerCase().includes(needle.toLowerCase());
  const any = q.get('any');
  const limit = Number(q.get('limit') ?? Infinity);
  return jobs
    .filter((j) => has(j.name, q.get('name')) && has(j.command, q.get('command')))
    .filter((j) => any === null || [j.name, j.command, j.description, j.owner, j.ownerName].some((v) => has(v, any)))
    .slice(0, Number.isFinite(limit) ? limit : undefined);
}

/**
 * Chronos's REST API over a {@link JobEngine}, mounted under both `/v1/scheduler` and
 * `/scheduler`, plus `/ping` and `/metrics`. Returns a `node:http` request listener.
 */
export function createApiHandler(engine: JobEngine, leader: () => string): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage): Promise<Reply> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    let path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/ping') return { status: 200, body: 'pong\n', contentType: 'text/plain' };
    if (path === '/leader' && method === 'GET') return { status: 200, body: { leader: leader() } }; // Chronos serves it at the root
    if (path === '/metrics' || path === '/v1/scheduler/metrics' || path === '/scheduler/metrics') {
      return { status: 200, body: engine.metrics.render(engine.gauges()), contentType: 'text/plain; version=0.0.4' };
    }
    const prefix = ['/v1/scheduler', '/scheduler'].find((p) => path === p || path.startsWith(`${p}/`));
    if (!prefix) return { status: 404, body: { message: `no route ${method} ${url.pathname}` } };
    path = path.slice(prefix.length) || '/';
    const seg = path.split('/').slice(1).map(decodeURIComponent);
    const [a, b, c] = seg;

    if ((a === 'iso8601' || a === 'dependency') && seg.length === 1 && (method === 'POST' || method === 'PUT')) {
      await engine.upsertJob(await readJson(req), a === 'iso8601' ? 'scheduled' : 'dependent');
      return noContent;
    }
    if (a === 'jobs' && method === 'GET') {
      if (seg.length === 1) return { status: 200, body: engine.listJobs() };
      if (b === 'search' && seg.length === 2) return { status: 200, body: searchJobs(engine.listJobs(), url.searchParams) };
    }
    if (a === 'job') {
      if (b === 'success' && c !== undefined && seg.length === 3 && (method === 'PUT' || method === 'POST')) {
        await engine.markSuccess(c);
        return { status: 200, body: true }; // Chronos answers a boolean
      }
      if (b === 'stat' && c !== undefined && seg.length === 3 && method === 'GET') {
        return { status: 200, body: stat(engine, c, await engine.runsOf(c)) };
      }
      if (b !== undefined && c === 'runs' && seg.length === 3 && method === 'GET') {
        return { status: 200, body: await engine.runsOf(b) };
      }
      if (b !== undefined && seg.length === 2) {
        if (method === 'GET') {
          const job = engine.getJob(b);
          if (!job) throw new ChronosError('JOB_NOT_FOUND', `job '${b}' not found`);
          return { status: 200, body: job };
        }
        if (method === 'PUT' || method === 'POST') {
          const args = url.searchParams.get('arguments');
          await engine.runNow(b, args === null ? undefined : args.split(/\s+/).filter((s) => s !== ''));
          return noContent;
        }
        if (method === 'DELETE') {
          await engine.deleteJob(b);
          return noContent;
        }
      }
    }
    if (a === 'task' && b === 'kill' && c !== undefined && seg.length === 3 && method === 'DELETE') {
      await engine.killTasks(c);
      return noContent;
    }
    if (a === 'stats' && b !== undefined && seg.length === 2 && method === 'GET') {
      const p = PERCENTILES[b];
      if (p === undefined) throw new ChronosError('BAD_REQUEST', `unknown percentile '${b}'; use one of ${Object.keys(PERCENTILES).join(', ')}`);
      return { status: 200, body: engine.listJobs().map((j) => ({ jobNameLabel: j.name, time: sec(percentile(engine.durationsOf(j.name), p)) })) };
    }
    if (a === 'graph' && seg.length === 2 && method === 'GET') {
      const jobs = engine.listJobs();
      if (b === 'dot') return { status: 200, body: toDot(jobs.map((j) => ({ name: j.name, parents: j.parents, status: lastStatus(j) }))), contentType: 'text/plain' };
      if (b === 'csv') {
        const lines = [...jobs.map((j) => `node,${j.name},${lastStatus(j)},${j.disabled ? 'disabled' : 'idle'}`), ...jobs.flatMap((j) => j.parents.map((p) => `link,${p},${j.name}`))];
        return { status: 200, body: lines.join('\n') + '\n', contentType: 'text/plain' };
      }
    }
    if (a === 'leader' && seg.length === 1 && method === 'GET') return { status: 200, body: { leader: leader() } };
    return { status: 404, body: { message: `no route ${method} ${url.pathname}` } };
  };

  return (req, res) => {
    route(req)
      .catch((e: unknown): Reply => {
        const code = e instanceof ChronosError ? e.code : 'INTERNAL';
        return { status: STATUS[code] ?? 500, body: { code, message: (e as Error).message } };
      })
      .then((reply) => {
        if (reply.body === undefined) {
          res.writeHead(reply.status).end();
          return;
        }
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' }).end(text);
      })
      .catch(() => res.destroy());
  };
}
