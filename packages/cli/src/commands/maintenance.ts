import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';

/** The master's maintenance actions, by `meso agent` subcommand. */
export const MAINTENANCE_ACTIONS = {
  drain: 'Kill the agent\'s tasks gracefully and stop offering it (DRAINING, then DRAINED).',
  deactivate: 'Stop offering the agent; its tasks keep running.',
  reactivate: 'Offer the agent again.',
} as const;

export type MaintenanceAction = keyof typeof MAINTENANCE_ACTIONS;

const FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master.', default: '127.0.0.1:5050' },
};

export function isMaintenanceAction(word: string | undefined): word is MaintenanceAction {
  return word !== undefined && word in MAINTENANCE_ACTIONS;
}

/** `meso agent drain|deactivate|reactivate AGENT_ID`: POST /maintenance/<action> on the master. */
export async function maintenanceCommand(action: MaintenanceAction, argv: string[]): Promise<number> {
  const { values, rest } = parseFlags(argv, FLAGS);
  if (values['help']) {
    console.log(formatHelp(`meso agent ${action} AGENT_ID [--master HOST:PORT]`, MAINTENANCE_ACTIONS[action], FLAGS));
    return 0;
  }
  const [agentId, ...extra] = rest;
  if (!agentId || extra.length > 0) throw usageError(`meso agent ${action} takes exactly one AGENT_ID (see 'meso state' for ids)`);
  const master = parseEndpoint('master', String(values['master']));
  let response: Response;
  try {
    response = await fetch(`http://${master}/maintenance/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agentId }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new CliError(`cannot reach the master at ${master}: ${(e as Error).message}`, 1, { cause: e });
  }
  const body = (await response.json().catch(() => ({}))) as { status?: string; error?: string; code?: string };
  if (!response.ok) throw new CliError(`${body.code ?? `HTTP ${response.status}`}: ${body.error ?? 'refused'}`);
  console.log(`agent ${agentId}: ${body.status ?? action}`);
  return 0;
}
