import { CliError } from '../cli-error.js';

/**
 * One request to the master's operator HTTP API; the parsed JSON answer. A refusal becomes a
 * CliError (exit 1) `CODE at FIELD: error`; an unreachable master says so.
 */
export async function operatorRequest<T>(master: string, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`http://${master}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new CliError(`cannot reach the master at ${master}: ${(e as Error).message}`, 1, { cause: e });
  }
  const parsed = (await response.json().catch(() => ({}))) as T & { error?: string; code?: string; field?: string };
  if (!response.ok) {
    const where = parsed.field ? ` at ${parsed.field}` : '';
    throw new CliError(`${parsed.code ?? `HTTP ${response.status}`}${where}: ${parsed.error ?? 'refused'}`);
  }
  return parsed;
}
