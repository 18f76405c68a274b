import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseResources, ResourceError, resourcesToWire } from '@meso/proto';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { resourcesToJson } from '../observe/state-json.js';
import { operateOnAgent } from '../reservations/operator-reservations.js';
import type { ResourceOpType } from '../reservations/resource-operations.js';
import { json, parseJsonBody, readBody, sendError } from './http-io.js';

const PATHS: Record<string, ResourceOpType> = {
  '/reserve': 'reserve',
  '/unreserve': 'unreserve',
  '/create-volumes': 'create',
  '/destroy-volumes': 'destroy',
};

const SHAPE = '{"agent_id": "<id>", "resources": "cpus(prod):1;mem(prod):512"}';

/** `{"agent_id", "resources"}`: resources as Mesos text or a JSON array (Mesos's JSON resources). */
function requestOf(body: string): { agentId: string; resources: ReturnType<typeof resourcesToWire> } {
  const parsed = parseJsonBody(body, SHAPE);
  const obj = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const agentId = obj['agent_id'] ?? obj['agentId'];
  if (typeof agentId !== 'string' || agentId === '') throw new MasterError('INVALID_ARGUMENT', `agent_id must be a non-empty string; the body is ${SHAPE}`, 'agent_id');
  const r = obj['resources'];
  if (typeof r !== 'string' && !Array.isArray(r)) throw new MasterError('INVALID_ARGUMENT', 'resources must be Mesos text such as "cpus(prod):1" or a JSON array', 'resources');
  try {
    return { agentId, resources: resourcesToWire(parseResources(typeof r === 'string' ? r : JSON.stringify(r), 'resources')) };
  } catch (e) {
    if (e instanceof ResourceError) throw new MasterError('INVALID_RESOURCES', e.reason, e.field, { cause: e });
    throw e;
  }
}

/**
 * `POST /reserve`, `/unreserve`, `/create-volumes`, `/destroy-volumes` (as Mesos's operator
 * endpoints): 200 `{"agent_id", "total"}` with the agent's new total; refusals as
 * `{"error", "code", "field"}`. Returns false for other paths.
 */
export function reservationsHttp(master: Master, path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const type = PATHS[path];
  if (!type) return false;
  if (req.method !== 'POST') {
    json(res, 405, { error: `method ${req.method ?? ''} not allowed: use POST`, path });
    return true;
  }
  readBody(req)
    .then((body) => {
      const { agentId, resources } = requestOf(body);
      json(res, 200, { agent_id: agentId, total: resourcesToJson(operateOnAgent(master, type, agentId, resources)) });
    })
    .catch((e: unknown) => sendError(master, res, e, `POST ${path}`));
  return true;
}
