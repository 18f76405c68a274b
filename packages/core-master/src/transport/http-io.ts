import type { IncomingMessage, ServerResponse } from 'node:http';
import { isMasterError, MasterError, protocolCodeOf } from '../errors.js';
import type { Master } from '../master.js';

/** Writes a JSON answer. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The most an operator request body may hold. */
const MAX_BODY = 64 * 1024;

/** HTTP status of a refused request, by code (mapped once, here). */
export function httpStatusOf(e: unknown): number {
  switch (protocolCodeOf(e)) {
    case 'INVALID_ARGUMENT':
    case 'INVALID_RESOURCES':
      return 400;
    case 'UNKNOWN_AGENT':
      return 404;
    case 'UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

/**
 * Answers a failed operator request: a MasterError as `{"error", "code", "field"}` with its
 * status; anything else 500 `{"error": "internal error", "code": "INTERNAL"}` and a log line.
 */
export function sendError(master: Master, res: ServerResponse, e: unknown, what: string): void {
  if (!isMasterError(e)) master.logger.error(`${what} failed`, { error: e });
  const body = isMasterError(e) ? { error: e.reason, code: protocolCodeOf(e), field: e.field ?? '' } : { error: 'internal error', code: 'INTERNAL' };
  json(res, httpStatusOf(e), body);
}

/** Reads a request body of at most 64 KiB (INVALID_ARGUMENT naming `body` beyond). */
export function readBody(req: IncomingMessage): Promise<string> {
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

/** Parses a JSON body; INVALID_ARGUMENT naming `body` (with the expected shape) otherwise. */
export function parseJsonBody(body: string, shape: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new MasterError('INVALID_ARGUMENT', `the body must be JSON like ${shape}`, 'body');
  }
}
