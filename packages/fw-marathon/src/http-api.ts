import type { IncomingMessage, ServerResponse } from 'node:http';
import { absoluteId, normalizeApp, patchApp, type AppDefinition } from './app-definition.js';
import { MarathonError } from './errors.js';
import { serveEventStream } from './event-stream.js';
import type { ChangeResult, MarathonCore } from './marathon.js';
import type { AppChange } from './planner.js';
import { appJson, deploymentJson, groupJson, taskJson, type Embed } from './views.js';

/** What the HTTP layer needs besides the core. */
export interface HttpApiContext {
  core: MarathonCore;
  master: string;
  /** The address HTTP listens on, once known. */
  address: () => string;
  /** Largest request body. Defaults to 16 MiB. */
  maxBodyBytes?: number;
  /** Events a slow SSE client may have pending before it gets a resync event instead. Defaults to 1000. */
  sseMaxPending?: number;
}

class Reply {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {}
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => new Reply(status, body, headers);
const changed = (r: ChangeResult, status = 200): Reply => json(status, r, { 'Marathon-Deployment-Id': r.deploymentId });

function embedOf(q: URLSearchParams, single: boolean): Embed {
  const e = q.getAll('embed');
  const has = (x: string): boolean => e.includes(`apps.${x}`) || e.includes(`app.${x}`) || e.includes(`group.apps.${x}`);
  return { tasks: single || has('tasks'), counts: true, deployments: true, lastTaskFailure: single || has('lastTaskFailure') };
}

async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) throw new MarathonError('BAD_REQUEST', `request body over ${max} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MarathonError('INVALID_JSON', 'Invalid JSON', { details: [{ path: '/', errors: [(e as Error).message] }] });
  }
}

const bool = (q: URLSearchParams, name: string): boolean => q.get(name) === 'true' || q.get(name) === '';

/** Matches a label selector of Marathon (`key`, `key==value`, `key!=value`, comma-separated). */
function matchesLabels(labels: Record<string, string>, selector: string): boolean {
  return selector.split(',').every((term) => {
    const ne = term.split('!=');
    if (ne.length === 2) return labels[ne[0]!.trim()] !== ne[1]!.trim();
    const eq = term.split('==');
    if (eq.length === 2) return labels[eq[0]!.trim()] === eq[1]!.trim();
    return term.trim() in labels;
  });
}

/**
 * Marathon's v2 REST API over node:http: `(req, res)` for `http.createServer`. Every change
 * runs through `core.serial`, so requests and the scheduler never interleave.
 */
export function createHttpHandler(ctx: HttpApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { core } = ctx;
  const maxBody = ctx.maxBodyBytes ?? 16 * 1024 * 1024;

  const body = (req: IncomingMessage): Promise<unknown> => readBody(req, maxBody);

  const appsBody = (raw: unknown): unknown[] => {
    if (!Array.isArray(raw)) throw new MarathonError('INVALID_OBJECT', 'Object is not valid', { details: [{ path: '/', errors: ['expected an array of apps'] }] });
    return raw;
  };

  const createOrReplace = async (defs: AppDefinition[], force: boolean): Promise<ChangeResult> => {
    const changes = new Map<string, AppChange>();
    for (const app of defs) {
      const rec = core.state.apps.get(app.id);
      changes.set(app.id, { from: rec && !rec.stopping ? rec.app : null, to: app });
    }
    return core.deploy(changes, { force });
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<Reply | undefined> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const force = bool(q, 'force');

    if (path === '/ping') return new Reply(200, 'pong');
    if (path === '/metrics') return json(200, metricsOf(core));
    if (path === '/v2/info') {
      return json(200, {
        name: 'marathon', version: '1.11.0-meso', buildref: 'meso', elected: true, leader: ctx.address(), frameworkId: core.state.frameworkId ?? null,
        marathon_config: { master: ctx.master, framework_name: 'marathon', failover_timeout: 604800, checkpoint: true },
        http_config: { http_port: Number(ctx.address().split(':').pop()) },
        event_subscriber: { type: 'sse' },
      });
    }
    if (path === '/v2/leader') {
      if (method === 'DELETE') return json(200, { message: 'Leadership abdicated (one instance: it stays the leader)' });
      return json(200, { leader: ctx.address() });
    }
    if (path === '/v2/events' && method === 'GET') {
      serveEventStream(req, res, q, core.bus, ctx.sseMaxPending ?? 1000);
      return undefined;
    }
    if (path === '/v2/apps') {
      if (method === 'GET') {
        const idf = q.get('id');
        const cmdf = q.get('cmd');
        const label = q.get('label');
        const embed = embedOf(q, false);
        const apps = core.listApps().filter((r) => (!idf || r.app.id.includes(idf)) && (!cmdf || (r.app.cmd ?? '').includes(cmdf)) && (!label || matchesLabels(r.app.labels, label)));
        return json(200, { apps: apps.map((r) => appJson(core, r, embed)) });
      }
      if (method === 'POST') {
        const raw = await body(req);
        return core.serial(async () => {
          const app = normalizeApp(raw);
          const existing = core.state.apps.get(app.id);
          if (existing && !existing.stopping) throw new MarathonError('CONFLICT', `An app with id [${app.id}] already exists.`);
          const r = await createOrReplace([app], force);
          const rec = core.state.apps.get(app.id)!;
          return json(201, { ...appJson(core, rec, embedOf(q, false)), deployments: [{ id: r.deploymentId }] }, { 'Marathon-Deployment-Id': r.deploymentId, Location: `/v2/apps${app.id}` });
        });
      }
      if (method === 'PUT' || method === 'PATCH') {
        const raw = appsBody(await body(req));
        return core.serial(async () => {
          const defs = raw.map((x, i) => {
            try {
              const id = typeof (x as { id?: unknown })?.id === 'string' ? absoluteId((x as { id: string }).id) : '';
              const rec = core.state.apps.get(id);
              return method === 'PATCH' || (rec && !rec.stopping && q.get('partialUpdate') !== 'false') ? (rec && !rec.stopping ? patchApp(rec.app, x) : normalizeApp(x)) : normalizeApp(x);
            } catch (e) {
              if (e instanceof MarathonError) {
                throw new MarathonError(e.code, e.message, { details: e.details.map((d) => ({ path: `(${i})${d.path === '/' ? '' : d.path}`, errors: d.errors })) });
              }
              throw e;
            }
          });
          return changed(await createOrReplace(defs, force));
        });
      }
    }
    if (path.startsWith('/v2/apps/')) return appRoute(req, method, path.slice('/v2/apps'.length), q, force);
    if (path === '/v2/groups' || path.startsWith('/v2/groups/')) return groupRoute(req, method, absoluteId(path.slice('/v2/groups'.length) || '/'), q, force);
    if (path === '/v2/deployments' && method === 'GET') return json(200, core.state.deploymentList().map((d) => deploymentJson(core, d)));
    if (path.startsWith('/v2/deployments/') && method === 'DELETE') {
      const id = decodeURIComponent(path.slice('/v2/deployments/'.length));
      const r = await core.serial(() => core.cancelDeployment(id, force));
      return r ? changed(r) : json(202, {});
    }
    if (path === '/v2/tasks' && method === 'GET') {
      const statuses = q.getAll('status').map((s) => `TASK_${s.toUpperCase()}`);
      const tasks = [...core.state.tasks.values()].filter((t) => statuses.length === 0 || statuses.includes(t.state));
      return json(200, { tasks: tasks.map((t) => taskJson(t, core.state.apps.get(t.appId))) });
    }
    if (path === '/v2/tasks/delete' && method === 'POST') {
      const raw = await body(req);
      const ids = (raw as { ids?: unknown })?.ids;
      if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
        throw new MarathonError('INVALID_OBJECT', 'Object is not valid', { details: [{ path: '/ids', errors: ['expected an array of task ids'] }] });
      }
      const r = await core.serial(() => core.killTasks(ids as string[], { scale: bool(q, 'scale'), force }));
      return r.result ? changed(r.result) : json(200, {});
    }
    if (path === '/v2/queue' && method === 'GET') {
      const now = core.now();
      return json(200, {
        queue: core.queue().map((e) => ({
          app: appJson(core, core.getApp(e.appId), { tasks: false, counts: true, deployments: true, lastTaskFailure: true }),
          count: e.count,
          since: new Date(e.since).toISOString(),
          delay: { timeLeftSeconds: Math.max(0, Math.ceil((e.delayUntil - now) / 1000)), overdue: e.delayUntil <= now },
          ...(e.whyBlocked ? { whyBlocked: e.whyBlocked } : {}),
        })),
      });
    }
    const delay = /^\/v2\/queue\/(.+)\/delay$/.exec(path);
    if (delay && method === 'DELETE') {
      await core.serial(() => core.resetDelay(decodeURIComponent(delay[1]!)));
      return new Reply(204, undefined);
    }
    throw new MarathonError('NOT_FOUND', `no route ${method} ${path}`);
  }

  async function appRoute(req: IncomingMessage, method: string, rest: string, q: URLSearchParams, force: boolean): Promise<Reply> {
    let m: RegExpExecArray | null;
    if ((m = /^(.*)\/restart$/.exec(rest)) && method === 'POST') {
      const id = absoluteId(m[1]!);
      return core.serial(async () => {
        const rec = core.getApp(id);
        return changed(await core.deploy(new Map([[id, { from: rec.app, to: rec.app, restart: true }]]), { force }));
      });
    }
    if ((m = /^(.*)\/tasks\/([^/]+)$/.exec(rest)) && method === 'DELETE') {
      const id = absoluteId(m[1]!);
      const taskId = decodeURIComponent(m[2]!);
      return core.serial(async () => {
        core.getApp(id);
        const t = core.state.tasks.get(taskId);
        if (!t || t.appId !== id) throw new MarathonError('NOT_FOUND', `Task '${taskId}' does not exist`);
        const r = await core.killTasks([taskId], { scale: bool(q, 'scale'), force });
        return r.result ? changed(r.result) : json(200, { task: taskJson(t, core.state.apps.get(id)) });
      });
    }
    if ((m = /^(.*)\/tasks$/.exec(rest))) {
      const id = absoluteId(m[1]!);
      if (method === 'GET') {
        const rec = core.getApp(id);
        return json(200, { tasks: core.state.tasksOf(id).map((t) => taskJson(t, rec)) });
      }
      if (method === 'DELETE') {
        return core.serial(async () => {
          const rec = core.getApp(id);
          const host = q.get('host');
          const tasks = core.state.tasksOf(id).filter((t) => !host || t.host === host);
          const r = await core.killTasks(tasks.map((t) => t.taskId), { scale: bool(q, 'scale'), force });
          return r.result ? changed(r.result) : json(200, { tasks: tasks.map((t) => taskJson(t, rec)) });
        });
      }
    }
    if ((m = /^(.*)\/versions(?:\/([^/]+))?$/.exec(rest)) && method === 'GET') {
      const rec = core.getApp(absoluteId(m[1]!));
      const all = [{ version: rec.version, app: rec.app }, ...rec.history];
      if (!m[2]) return json(200, { versions: all.map((v) => v.version) });
      const v = all.find((x) => x.version === decodeURIComponent(m![2]!));
      if (!v) throw new MarathonError('NOT_FOUND', `App '${rec.app.id}' does not exist in version ${m[2]}`);
      return json(200, { ...v.app, ...v.app.extra, extra: undefined, version: v.version });
    }
    const id = absoluteId(rest);
    if (method === 'GET') return json(200, { app: appJson(core, core.getApp(id), embedOf(q, true)) });
    if (method === 'PUT' || method === 'PATCH') {
      const raw = await body(req);
      return core.serial(async () => {
        const rec = core.state.apps.get(id);
        const live = rec && !rec.stopping ? rec : undefined;
        const partial = method === 'PATCH' || q.get('partialUpdate') !== 'false';
        if (method === 'PATCH' && !live) throw new MarathonError('NOT_FOUND', `App '${id}' does not exist`);
        const app = live && partial ? patchApp(live.app, raw) : normalizeApp(raw, { pathId: id });
        const r = await createOrReplace([app], force);
        return changed(r, live ? 200 : 201);
      });
    }
    if (method === 'DELETE') {
      return core.serial(async () => {
        const rec = core.getApp(id);
        return changed(await core.deploy(new Map([[id, { from: rec.app, to: null }]]), { force }));
      });
    }
    throw new MarathonError('NOT_FOUND', `no route ${method} /v2/apps${rest}`);
  }

  async function groupRoute(req: IncomingMessage, method: string, groupId: string, q: URLSearchParams, force: boolean): Promise<Reply> {
    if (method === 'GET') {
      if (groupId !== '/' && !core.listApps().some((r) => r.app.id.startsWith(`${groupId}/`))) throw new MarathonError('NOT_FOUND', `Group '${groupId}' does not exist`);
      return json(200, groupJson(core, groupId, embedOf(q, false)));
    }
    if (method === 'POST' || method === 'PUT') {
      const raw = (await body(req)) as { id?: string; apps?: unknown[]; groups?: unknown[] } | undefined;
      return core.serial(async () => {
        const base = raw?.id ? absoluteId(raw.id, groupId) : groupId;
        const defs: AppDefinition[] = [];
        const collect = (g: { id?: string; apps?: unknown[]; groups?: unknown[] }, gid: string): void => {
          for (const a of g.apps ?? []) defs.push(normalizeApp(a, { base: gid }));
          for (const sub of g.groups ?? []) {
            const s = sub as { id?: string };
            collect(s as never, absoluteId(s.id ?? '', gid));
          }
        };
        collect(raw ?? {}, base);
        return changed(await createOrReplace(defs, force), method === 'POST' ? 201 : 200);
      });
    }
    if (method === 'DELETE') {
      return core.serial(async () => {
        const prefix = groupId === '/' ? '/' : `${groupId}/`;
        const apps = core.listApps().filter((r) => r.app.id.startsWith(prefix));
        if (apps.length === 0 && groupId !== '/') throw new MarathonError('NOT_FOUND', `Group '${groupId}' does not exist`);
        return changed(await core.deploy(new Map(apps.map((r) => [r.app.id, { from: r.app, to: null }])), { force }));
      });
    }
    throw new MarathonError('NOT_FOUND', `no route ${method} /v2/groups${groupId}`);
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    route(req, res, url)
      .then((reply) => {
        if (!reply) return;
        write(res, reply);
      })
      .catch((e: unknown) => {
        if (e instanceof MarathonError) {
          write(res, json(e.httpStatus === 500 ? 400 : e.httpStatus, e.toJSON()));
          return;
        }
        write(res, json(500, { message: (e as Error).message ?? String(e) }));
      });
  };
}

function write(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

function metricsOf(core: MarathonCore): Record<string, unknown> {
  const tasks = [...core.state.tasks.values()];
  return {
    version: '4.0.0',
    counters: Object.fromEntries(Object.entries(core.counters).map(([k, v]) => [`marathon.${k}`, { count: v }])),
    gauges: {
      'marathon.apps.active': { value: core.listApps().length },
      'marathon.deployments.active': { value: core.state.deployments.size },
      'marathon.tasks.running': { value: tasks.filter((t) => t.state === 'TASK_RUNNING').length },
      'marathon.tasks.staged': { value: tasks.filter((t) => t.state === 'TASK_STAGING').length },
      'marathon.queue.size': { value: core.queue().reduce((n, e) => n + e.count, 0) },
      'marathon.events.subscribers': { value: core.bus.subscribers },
      'marathon.offers.suppressed': { value: core.isSuppressed ? 1 : 0 },
    },
  };
}

