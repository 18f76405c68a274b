import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RedisEngine } from './engine.js';
import { HTTP_STATUS, invalid, RedisFwError } from './errors.js';
import { V2_FIELDS, validateCreate } from './sizing.js';
import { instanceView, metricsText, mrRedisStatus } from './views.js';

interface Reply {
  status: number;
  body?: unknown;
  /** Plain text (MrRedis's API answers its writes and errors as text). */
  text?: string;
  contentType?: string;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new RedisFwError('INVALID_REQUEST', 'body: larger than 1 MB', { field: 'body' });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RedisFwError('INVALID_REQUEST', `body: not JSON (${(e as Error).message})`, { field: 'body', cause: e });
  }
}

/** A path segment that should be a whole number: the number, or the text (validation names it). */
const intOf = (s: string): number | string => (/^\d{1,9}$/.test(s) ? Number(s) : s);

const objectBody = (body: unknown): Record<string, unknown> => {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  return body as Record<string, unknown>;
};

/** MrRedis's API (`/v1`): JSON status, text answers to writes and errors. */
async function v1(engine: RedisEngine, method: string, parts: string[], req: IncomingMessage): Promise<Reply> {
  const [verb = '', name = '', ...rest] = parts;
  switch (`${method} ${verb.toUpperCase()}`) {
    case 'POST CREATE': {
      if (rest.length !== 3) throw invalid('path', 'expected /v1/CREATE/{name}/{capacityMB}/{masters}/{slaves}');
      const body = objectBody(await readBody(req));
      const unknown = Object.keys(body).filter((k) => k !== 'Distribution');
      if (unknown.length > 0) throw invalid(unknown[0]!, 'unknown field (the body takes only "Distribution")');
      const r = validateCreate({ name, capacityMb: intOf(rest[0]!), masters: intOf(rest[1]!), replicas: intOf(rest[2]!), distribution: body['Distribution'] });
      await engine.create(r);
      return { status: 201, text: 'Request Accepted, Instance will be created.' };
    }
    case 'DELETE DELETE':
      await engine.remove(name);
      return { status: 200, text: `Instance ${name} deleted` };
    case 'GET STATUS': {
      if (name === '') return { status: 200, body: [...engine.state.instances.values()].map((i) => mrRedisStatus(engine, i)) };
      const inst = engine.state.instances.get(name);
      if (!inst) throw new RedisFwError('INSTANCE_NOT_FOUND', `no instance named ${name}`, { field: 'name' });
      return { status: 200, body: mrRedisStatus(engine, inst) };
    }
    case 'PUT UPDATE': {
      const [what = '', value = ''] = rest;
      if (what.toLowerCase() === 'memory') await engine.updateMemory(name, intOf(value));
      else if (what.toUpperCase() === 'SLAVES') await engine.scale(name, intOf(value));
      else throw invalid('path', `expected /v1/UPDATE/{name}/Memory/{capacity} or /v1/UPDATE/{name}/SLAVES/{n}, got ${what}`);
      return { status: 200, text: `Instance ${name} updated` };
    }
    default:
      return { status: 404, text: `no such endpoint: ${method} /v1/${parts.join('/')}` };
  }
}

/** Our JSON API (`/v2/instances`). */
async function v2(engine: RedisEngine, sentinel: string, method: string, parts: string[], req: IncomingMessage): Promise<Reply> {
  const view = (name: string): unknown => instanceView(engine, engine.state.instances.get(name)!, sentinel);
  const [name] = parts;
  if (name === undefined) {
    if (method === 'GET') return { status: 200, body: { instances: [...engine.state.instances.keys()].map(view) } };
    if (method === 'POST') {
      const body = objectBody(await readBody(req));
      const known = ['name', 'capacityMb', 'replicas', 'distribution'];
      const unknown = Object.keys(body).filter((k) => !known.includes(k));
      if (unknown.length > 0) throw invalid(unknown[0]!, `unknown field (known: ${known.join(', ')})`);
      const r = validateCreate({ name: body['name'], capacityMb: body['capacityMb'], replicas: body['replicas'] ?? 0, distribution: body['distribution'] }, V2_FIELDS);
      await engine.create(r, V2_FIELDS);
      return { status: 201, body: view(r.name) };
    }
  } else if (parts.length === 1) {
    if (method === 'GET') {
      if (!engine.state.instances.has(name)) throw new RedisFwError('INSTANCE_NOT_FOUND', `no instance named ${name}`, { field: 'name' });
      return { status: 200, body: view(name) };
    }
    if (method === 'DELETE') {
      await engine.remove(name);
      return { status: 200, body: view(name) };
    }
    if (method === 'PATCH') {
      const body = objectBody(await readBody(req));
      const unknown = Object.keys(body).filter((k) => k !== 'replicas' && k !== 'capacityMb');
      if (unknown.length > 0) throw invalid(unknown[0]!, 'unknown field (known: replicas, capacityMb)');
      if (body['capacityMb'] !== undefined) await engine.updateMemory(name, body['capacityMb'], V2_FIELDS);
      if (body['replicas'] !== undefined) await engine.scale(name, body['replicas'], V2_FIELDS);
      if (!engine.state.instances.has(name)) throw new RedisFwError('INSTANCE_NOT_FOUND', `no instance named ${name}`, { field: 'name' });
      return { status: 200, body: view(name) };
    }
  }
  return { status: 405, body: { code: 'INVALID_REQUEST', message: `no such endpoint: ${method} /v2/instances/${parts.join('/')}` } };
}

/** The HTTP handler of fw-redis: MrRedis's `/v1`, our `/v2/instances`, `/metrics`, `/health`. */
export function createApiHandler(engine: RedisEngine, sentinelAddress: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').slice(1).map((p) => decodeURIComponent(p));
    const api = parts[0];
    const handle = async (): Promise<Reply> => {
      if (api === 'v1') return v1(engine, method, parts.slice(1), req);
      if (api === 'v2' && parts[1] === 'instances') return v2(engine, sentinelAddress, method, parts.slice(2).filter((p) => p !== ''), req);
      if (url.pathname === '/metrics') return { status: 200, text: metricsText(engine), contentType: 'text/plain; version=0.0.4' };
      if (url.pathname === '/health' || url.pathname === '/ping') return { status: 200, text: 'pong' };
      return { status: 404, body: { code: 'NOT_FOUND', message: `no such endpoint: ${url.pathname}` } };
    };
    handle()
      .catch((e: unknown): Reply => {
        const err = e instanceof RedisFwError ? e : new RedisFwError('INTERNAL', (e as Error).message, { cause: e });
        const status = HTTP_STATUS[err.code];
        if (api === 'v1') return { status, text: err.message };
        return { status, body: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
      })
      .then((r) => {
        if (r.text !== undefined) {
          res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8' });
          res.end(r.text.endsWith('\n') ? r.text : `${r.text}\n`);
        } else {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r.body));
        }
      })
      .catch(() => res.destroy());
  };
}
