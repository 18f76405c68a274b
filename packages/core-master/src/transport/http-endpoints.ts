import type { IncomingMessage, ServerResponse } from 'node:http';
import { setMaintenance, type MaintenanceAction } from '../agents/maintenance.js';
import { isMasterError, MasterError, protocolCodeOf } from '../errors.js';
import type { Master } from '../master.js';
import { stateJson } from '../observe/state-json.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The most a maintenance request body may hold. */
const MAX_BODY = 64 * 1024;

const MAINTENANCE: Record<string, MaintenanceAction> = {
  '/maintenance/drain': 'drain',
  '/maintenance/deactivate': 'deactivate',
  '/maintenance/reactivate': 'reactivate',
};

/** HTTP status of a refused request, by code (mapped once, here). */
function httpStatusOf(e: unknown): number {
  switch (protocolCodeOf(e)) {
    case 'INVALID_ARGUMENT':
      return 400;
    case 'UNKNOWN_AGENT':
      return 404;
    case 'UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new MasterError('INVALID_ARGUMENT', `the body is larger than ${MAX_BODY} bytes`, 'body'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `{"agentId": "..."}` -> the id; INVALID_ARGUMENT naming `body` or `agentId` otherwise. */
function agentIdOf(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MasterError('INVALID_ARGUMENT', 'the body must be JSON like {"agentId": "<id>"}', 'body');
  }
  const id = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['agentId'] : undefined;
  if (typeof id !== 'string' || id === '') throw new MasterError('INVALID_ARGUMENT', 'agentId must be a non-empty string', 'agentId');
  return id;
}

async function maintenance(master: Master, action: MaintenanceAction, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const result = await setMaintenance(master, action, agentIdOf(await readBody(req)), 'agentId');
    json(res, 200, result);
  } catch (e) {
    if (!isMasterError(e)) master.logger.error('maintenance request failed', { action, error: e });
    const status = httpStatusOf(e);
    json(res, status, isMasterError(e) ? { error: e.reason, code: protocolCodeOf(e), field: e.field ?? '' } : { error: 'internal error', code: 'INTERNAL' });
  }
}

/**
 * The HTTP endpoints: `GET /state` (JSON snapshot), `GET /health`, `GET /metrics`
 * (Prometheus text), and the operator's maintenance calls `POST /maintenance/drain`,
 * `/maintenance/deactivate`, `/maintenance/reactivate` with body `{"agentId": "<id>"}`
 * (200 `{"agentId", "status"}`; 400 / 404 `{"error", "code", "field"}`). Anything else is a
 * 404 JSON; a failure is a 500 JSON and a log line.
 */
export function httpHandler(master: Master): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://master').pathname.replace(/\/+$/, '') || '/';
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
          json(res, 200, stateJson(master.model));
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
