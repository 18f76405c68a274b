import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BatchEngine } from './engine.js';
import { BatchError, HTTP_STATUS } from './errors.js';
import type { Quota } from './fair-share.js';
import { jobState, jobView, usageView, whyView } from './views.js';

interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 8_000_000) throw new BatchError('BAD_REQUEST', 'request body larger than 8 MB');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new BatchError('BAD_REQUEST', `body is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

function checkWeights(body: unknown): Record<string, number | null> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BatchError('BAD_REQUEST', 'body: must be an object of user → weight');
  for (const [u, w] of Object.entries(body)) if (w !== null && (typeof w !== 'number' || !(w > 0) || !Number.isFinite(w))) throw new BatchError('BAD_REQUEST', `${u}: weight must be a number > 0 (or null to remove), got ${JSON.stringify(w)}`, { field: u });
  return body as Record<string, number | null>;
}

function checkQuotas(body: unknown): Record<string, Quota | null> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BatchError('BAD_REQUEST', 'body: must be an object of user → quota');
  for (const [u, q] of Object.entries(body)) {
    if (q === null) continue;
    if (typeof q !== 'object' || Array.isArray(q)) throw new BatchError('BAD_REQUEST', `${u}: quota must be an object like {"cpus": 4, "count": 10}`, { field: u });
    for (const [k, v] of Object.entries(q as object)) {
      if (!['cpus', 'mem', 'disk', 'gpus', 'count'].includes(k)) throw new BatchError('BAD_REQUEST', `${u}.${k}: unknown quota field`, { field: `${u}.${k}` });
      if (typeof v !== 'number' || !(v >= 0)) throw new BatchError('BAD_REQUEST', `${u}.${k}: must be a number >= 0, got ${JSON.stringify(v)}`, { field: `${u}.${k}` });
    }
  }
  return body as Record<string, Quota | null>;
}

function metrics(engine: BatchEngine): string {
  const c = engine.counters;
  const lines = [
    ...Object.entries(c).map(([k, v]) => `batch_${k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)}_total ${v}`),
    `batch_jobs ${engine.state.jobs.size}`,
    `batch_pending_instances ${engine.pending().length}`,
  ];
  const states = new Map<string, number>();
  for (const rec of engine.state.jobs.values()) {
    const s = jobState(engine, rec);
    states.set(s, (states.get(s) ?? 0) + 1);
  }
  for (const [s, n] of states) lines.push(`batch_jobs_by_state{state="${s}"} ${n}`);
  for (const [u, usage] of engine.usage()) lines.push(`batch_user_running{user="${u}"} ${usage.count}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The JSON API of fw-batch (node:http):
 * - `POST /v1/jobs` (a job, an array, or `{ jobs: [...] }`) → 201 `{ jobs }`;
 * - `GET /v1/jobs?user=&state=&label=k=v&offset=&limit=` → `{ jobs, total, offset, limit }`;
 * - `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/kill` (or `DELETE /v1/jobs/{id}`), `POST /v1/jobs/{id}/retry`, `GET /v1/jobs/{id}/why`;
 * - `GET /v1/usage`; `GET|PUT /v1/shares` (user → weight); `GET|PUT /v1/quotas` (user → quota);
 * - `GET /ping`, `GET /metrics` (Prometheus text).
 * Errors: `{ code, message, field? }` with the status of the code.
 */
export function createApiHandler(engine: BatchEngine): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage): Promise<Reply> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const m = req.method ?? 'GET';
    if (url.pathname === '/ping') return { status: 200, body: 'pong', contentType: 'text/plain' };
    if (url.pathname === '/metrics') return { status: 200, body: metrics(engine), contentType: 'text/plain; version=0.0.4' };
    if (parts[0] !== 'v1') throw new BatchError('JOB_NOT_FOUND', `no route ${m} ${url.pathname}`);
    const [, what, id, action] = parts;
    if (what === 'jobs' && id === undefined) {
      if (m === 'POST') {
        const body = await readJson(req);
        const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null && Array.isArray((body as { jobs?: unknown }).jobs) ? (body as { jobs: unknown[] }).jobs : [body];
        if (list.length === 0) throw new BatchError('BAD_REQUEST', 'jobs: at least one job');
        const recs = await engine.submit(list);
        return { status: 201, body: { jobs: recs.map((r) => jobView(engine, r)) } };
      }
      if (m === 'GET') {
        const user = url.searchParams.get('user');
        const state = url.searchParams.get('state');
        const label = url.searchParams.get('label');
        const offset = Number(url.searchParams.get('offset') ?? '0');
        const limit = Number(url.searchParams.get('limit') ?? '100');
        if (!Number.isInteger(offset) || offset < 0) throw new BatchError('BAD_REQUEST', 'offset: must be an integer >= 0', { field: 'offset' });
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BatchError('BAD_REQUEST', 'limit: must be an integer 1-1000', { field: 'limit' });
        const [lk, lv] = label ? label.split('=', 2) : [];
        const all = [...engine.state.jobs.values()]
          .filter((r) => (!user || r.job.user === user) && (!state || jobState(engine, r) === state) && (!lk || (lv === undefined ? lk in r.job.labels : r.job.labels[lk] === lv)))
          .sort((a, b) => a.submittedAt - b.submittedAt || (a.job.id < b.job.id ? -1 : 1));
        return { status: 200, body: { jobs: all.slice(offset, offset + limit).map((r) => jobView(engine, r)), total: all.length, offset, limit } };
      }
    }
    if (what === 'jobs' && id !== undefined) {
      const rec = engine.state.jobs.get(id);
      if (!rec) throw new BatchError('JOB_NOT_FOUND', `no job ${id}`);
      if (action === undefined && m === 'GET') return { status: 200, body: jobView(engine, rec, true) };
      if ((action === 'kill' && m === 'POST') || (action === undefined && m === 'DELETE')) return { status: 200, body: jobView(engine, await engine.kill(id)) };
      if (action === 'retry' && m === 'POST') return { status: 200, body: jobView(engine, await engine.retry(id)) };
      if (action === 'why' && m === 'GET') return { status: 200, body: whyView(engine, rec) };
    }
    if (what === 'usage' && m === 'GET') return { status: 200, body: usageView(engine) };
    if (what === 'shares' || what === 'quotas') {
      const kind = what === 'shares' ? 'weights' : 'quotas';
      if (m === 'PUT' || m === 'POST') {
        const body = await readJson(req);
        await engine.setPolicy(kind, kind === 'weights' ? checkWeights(body) : checkQuotas(body));
      } else if (m !== 'GET') throw new BatchError('BAD_REQUEST', `${m} ${url.pathname} is not supported`);
      return { status: 200, body: engine.state.policy[kind] };
    }
    throw new BatchError('JOB_NOT_FOUND', `no route ${m} ${url.pathname}`);
  };
  return (req, res) => {
    route(req).then(
      (r) => send(res, r),
      (e: unknown) => {
        const err = e instanceof BatchError ? e : new BatchError('INTERNAL', (e as Error).message ?? String(e), { cause: e });
        send(res, { status: HTTP_STATUS[err.code], body: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      },
    );
  };
}

function send(res: ServerResponse, r: Reply): void {
  const text = r.contentType?.startsWith('text/') ? String(r.body) : JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': r.contentType ?? 'application/json' });
  res.end(text);
}
