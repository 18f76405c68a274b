import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Master } from '../master.js';
import { stateJson } from '../observe/state-json.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The HTTP endpoints: `GET /state` (JSON snapshot), `GET /health`, `GET /metrics`
 * (Prometheus text). Anything else is a 404 JSON; a failure is a 500 JSON and a log line.
 */
export function httpHandler(master: Master): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://master').pathname.replace(/\/+$/, '') || '/';
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
          const text = master.metrics.render(master.model);
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
