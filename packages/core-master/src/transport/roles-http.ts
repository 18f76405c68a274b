import type { IncomingMessage, ServerResponse } from 'node:http';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { resourcesToJson } from '../observe/state-json.js';
import { checkQuotaLimits, checkWeights } from '../roles/role-config.js';
import { setQuota, updateWeights } from '../roles/role-operations.js';
import { roleViews } from '../roles/role-views.js';
import { json, parseJsonBody, readBody, sendError } from './http-io.js';

function weightsJson(master: Master): { role: string; weight: number }[] {
  return [...master.model.weights].map(([role, w]) => ({ role, weight: w.weight })).sort((a, b) => (a.role < b.role ? -1 : 1));
}

function quotaJson(master: Master): { infos: { role: string; limits: Record<string, number | string> }[] } {
  return { infos: [...master.model.quotas].sort(([a], [b]) => (a < b ? -1 : 1)).map(([role, limits]) => ({ role, limits: resourcesToJson(limits) })) };
}

/** `[{"role": "prod", "weight": 3}, ...]` checked all or nothing (fields `weights[i].role` / `.weight`). */
function weightsOfBody(body: string) {
  const parsed = parseJsonBody(body, '[{"role": "prod", "weight": 3}]');
  if (!Array.isArray(parsed)) throw new MasterError('INVALID_ARGUMENT', 'the body must be a list like [{"role": "prod", "weight": 3}]', 'weights');
  return checkWeights(parsed.map((w: unknown) => (typeof w === 'object' && w !== null ? (w as Record<string, unknown>) : {})));
}

/** `{"role": "dev", "limits": {"cpus": 2, "mem": 1024}}` (empty limits remove the quota). */
function quotaOfBody(body: string): { role: string; limits: ReturnType<typeof checkQuotaLimits> } {
  const parsed = parseJsonBody(body, '{"role": "dev", "limits": {"cpus": 2, "mem": 1024}}');
  const obj = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  if (!obj) throw new MasterError('INVALID_ARGUMENT', 'the body must be an object like {"role": "dev", "limits": {"cpus": 2}}', 'body');
  const limits = obj['limits'];
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    throw new MasterError('INVALID_ARGUMENT', 'limits must be an object of resource -> amount, e.g. {"cpus": 2, "mem": 1024}', 'limits');
  }
  return { role: typeof obj['role'] === 'string' ? obj['role'] : '', limits: checkQuotaLimits(new Map(Object.entries(limits))) };
}

async function run(master: Master, res: ServerResponse, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    json(res, 200, await fn());
  } catch (e) {
    sendError(master, res, e, what);
  }
}

function methodNotAllowed(res: ServerResponse, req: IncomingMessage, path: string, allowed: string): void {
  json(res, 405, { error: `method ${req.method ?? ''} not allowed: use ${allowed}`, path });
}

/**
 * The roles' HTTP endpoints, as Mesos's: `GET /roles` (every known role: weight, quota,
 * allocated, reserved, frameworks), `GET /weights`, `PUT /weights` with
 * `[{"role": "prod", "weight": 3}]` (all or nothing), `GET /quota` (`{"infos": [{role, limits}]}`),
 * `POST /quota` with `{"role": "dev", "limits": {"cpus": 2, "mem": 1024}}`, and
 * `DELETE /quota/<role>` (idempotent). Refusals are 400 `{"error", "code", "field"}`.
 * Returns false for any other path.
 */
export function rolesHttp(master: Master, path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method ?? 'GET';
  if (path === '/roles') {
    if (method !== 'GET') methodNotAllowed(res, req, path, 'GET');
    else {
      const roles = roleViews(master.model).map((v) => ({
        name: v.name,
        weight: v.weight,
        ...(v.quota ? { quota: resourcesToJson(v.quota) } : {}),
        allocated: resourcesToJson(v.allocated),
        reserved: resourcesToJson(v.reserved),
        frameworks: v.frameworks,
      }));
      json(res, 200, { roles });
    }
    return true;
  }
  if (path === '/weights') {
    if (method === 'GET') json(res, 200, weightsJson(master));
    else if (method === 'PUT' || method === 'POST') {
      void run(master, res, 'PUT /weights', async () => {
        await updateWeights(master, weightsOfBody(await readBody(req)));
        return weightsJson(master);
      });
    } else methodNotAllowed(res, req, path, 'GET or PUT');
    return true;
  }
  if (path === '/quota') {
    if (method === 'GET') json(res, 200, quotaJson(master));
    else if (method === 'POST' || method === 'PUT') {
      void run(master, res, 'POST /quota', async () => {
        const { role, limits } = quotaOfBody(await readBody(req));
        await setQuota(master, role, limits);
        return { role, limits: resourcesToJson(limits) };
      });
    } else methodNotAllowed(res, req, path, 'GET or POST');
    return true;
  }
  if (path.startsWith('/quota/')) {
    if (method !== 'DELETE') methodNotAllowed(res, req, path, 'DELETE');
    else {
      void run(master, res, 'DELETE /quota', async () => {
        let role: string;
        try {
          role = decodeURIComponent(path.slice('/quota/'.length));
        } catch {
          throw new MasterError('INVALID_ARGUMENT', 'the role in the path is not valid percent-encoding', 'role');
        }
        await setQuota(master, role, checkQuotaLimits(new Map()));
        return { role, limits: {} };
      });
    }
    return true;
  }
  return false;
}
