import type { IncomingMessage, ServerResponse } from 'node:http';
import { setMaintenance, type MaintenanceAction } from '../agents/maintenance.js';
import { MasterError } from '../errors.js';
import type { Master } from '../master.js';
import { stateJsonBody } from '../observe/state-body.js';
import { json, parseJsonBody, readBody, sendError } from './http-io.js';
import { rolesHttp } from './roles-http.js';
import { reservationsHttp } from './reservations-http.js';

const MAINTENANCE: Record<string, MaintenanceAction> = {
  '/maintenance/drain': 'drain',
  '/maintenance/deactivate': 'deactivate',
  '/maintenance/reactivate': 'reactivate',
};

/** `{"agentId": "..."}` -> the id; INVALID_ARGUMENT naming `body` or `agentId` otherwise. */
function agentIdOf(body: string): string {
  const parsed = parseJsonBody(body, '{"agentId": "<id>"}');
  const id = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['agentId'] : undefined;
  if (typeof id !== 'string' || id === '') throw new MasterError('INVALID_ARGUMENT', 'agentId must be a non-empty string', 'agentId');
  return id;
}

async function maintenance(master: Master, action: MaintenanceAction, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const result = await setMaintenance(master, action, agentIdOf(await readBody(req)), 'agentId');
    json(res, 200, result);
  } catch (e) {
    sendError(master, res, e, `maintenance ${action}`);
  }
}

/**
 * The HTTP endpoints: `GET /state` (JSON snapshot), `GET /health`, `GET /metrics`
 * (Prometheus text), the operator's maintenance calls `POST /maintenance/drain`,
 * `/maintenance/deactivate`, `/maintenance/reactivate` with body `{"agentId": "<id>"}`
 * (200 `{"agentId", "status"}`; 400 / 404 `{"error", "code", "field"}`), and the roles'
 * endpoints (`/roles`, `/weights`, `/quota`: see roles-http.ts), reservations and volumes
 * (`POST /reserve`, `/unreserve`, `/create-volumes`, `/destroy-volumes`: reservations-http.ts). Anything else is a
 * 404 JSON; a failure is a 500 JSON and a log line.
 */
export function httpHandler(master: Master): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://master').pathname.replace(/\/+$/, '') || '/';
      if (rolesHttp(master, path, req, res)) return;
      if (reservationsHttp(master, path, req, res)) return;
      const action = MAINTENANCE[path];
      if (action) {
        if (req.method !== 'POST') {
          json(res, 405, { error: `method ${req.method ?? ''} not allowed: use POST`, path });
          return;
        }
        void maintenance(master, action, req, res);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        json(res, 405, { error: `method ${req.method ?? ''} not allowed`, path });
        return;
      }
      switch (path) {
        case '/state':
        case '/master/state':
          {
            // Made of cached pieces (observe/state-body.ts): fast at 10k agents / 100k tasks,
            // nothing to make while the model is unchanged; written as they are, not joined.
            const body = stateJsonBody(master.model);
            res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
            res.cork();
            for (const chunk of body.chunks) res.write(chunk);
            res.end();
          }
          return;
        case '/health':
          json(res, 200, { healthy: true });
          return;
        case '/metrics': {
          const text = master.renderMetrics();
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
        default:
          json(res, 404, { error: 'not found', path });
      }
    } catch (e) {
      master.logger.error('http request failed', { url: req.url, error: e });
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  };
}
