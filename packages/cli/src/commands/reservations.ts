import { CliError, usageError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';
import { operatorRequest } from './operator-http.js';

const FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master.', default: '127.0.0.1:5050' },
};

type ResourceMap = Record<string, number | string>;
interface VolumeJson {
  id: string;
  role: string;
  containerPath: string;
  mode: 'rw' | 'ro';
  sizeMb: number;
}
interface AgentJson {
  id: string;
  hostname: string;
  status: string;
  reservedResources?: Record<string, ResourceMap>;
  volumes?: VolumeJson[];
}

/**
 * The agent an operator names, by id or by host name, from the master's `/state`; a usage
 * refusal names what matched nothing or more than one agent.
 */
async function agentNamed(master: string, name: string): Promise<AgentJson> {
  const agents = await agentsOf(master);
  const byId = agents.find((a) => a.id === name);
  if (byId) return byId;
  const byHost = agents.filter((a) => a.hostname === name);
  if (byHost.length === 1) return byHost[0]!;
  if (byHost.length > 1) throw new CliError(`AGENT: host ${name} runs ${byHost.length} agents (${byHost.map((a) => a.id).join(', ')}): name one by its id`);
  throw new CliError(`AGENT: no agent has the id or host name '${name}' (see meso state)`);
}

function scalars(map: ResourceMap): string {
  return Object.entries(map).map(([k, v]) => `${k}:${v}`).join(';');
}

/** `COMMAND AGENT RESOURCES`: the agent (id or host) and the resources, as Mesos text. */
function agentAndResources(rest: readonly string[], usage: string): [string, string] {
  const [agent, resources, ...extra] = rest;
  if (!agent || !resources || extra.length > 0) throw usageError(`expected AGENT RESOURCES, got ${rest.length} argument(s)\nUsage: ${usage}`);
  return [agent, resources];
}

/** Posts one operation to the master's endpoint and prints the agent's new reservations. */
async function operate(master: string, path: string, agentName: string, resources: string, verb: string): Promise<void> {
  const agent = await agentNamed(master, agentName);
  await operatorRequest(master, 'POST', path, { agent_id: agent.id, resources });
  console.log(`${verb} ${resources} on ${agent.hostname} (${agent.id})`);
}

function listReservations(agents: readonly AgentJson[]): string {
  const rows = agents.flatMap((a) => Object.entries(a.reservedResources ?? {}).map(([role, r]) => [a.hostname, a.id, role, scalars(r)]));
  return rows.length === 0 ? 'no reservations' : renderTable(['HOST', 'AGENT', 'ROLE', 'RESERVED'], rows);
}

function listVolumes(agents: readonly AgentJson[]): string {
  const rows = agents.flatMap((a) => (a.volumes ?? []).map((v) => [a.hostname, a.id, v.role, v.id, v.containerPath, v.mode, String(v.sizeMb)]));
  return rows.length === 0 ? 'no persistent volumes' : renderTable(['HOST', 'AGENT', 'ROLE', 'VOLUME', 'PATH', 'MODE', 'SIZE_MB'], rows);
}

/** The master and the arguments, or undefined when --help was asked for (and printed). */
function commandLine(argv: string[], usage: string, summary: string): { master: string; rest: string[] } | undefined {
  const { values, rest } = parseFlags(argv, FLAGS);
  if (values['help']) {
    console.log(formatHelp(usage, summary, FLAGS));
    return undefined;
  }
  return { master: parseEndpoint('master', String(values['master'])), rest };
}

async function agentsOf(master: string): Promise<AgentJson[]> {
  return (await operatorRequest<{ agents: AgentJson[] }>(master, 'GET', '/state')).agents;
}

const RESERVE_USAGE = 'meso reserve [--master HOST:PORT]                 (list reservations)\n       meso reserve AGENT RESOURCES [--master HOST:PORT]\n       meso unreserve AGENT RESOURCES [--master HOST:PORT]';

const RESERVE_SUMMARY =
  "Reserves resources of an agent for a role, or gives them back (Mesos's /reserve and /unreserve). AGENT is an agent id or host name; RESOURCES are Mesos text with the role, e.g. 'cpus(prod):2;mem(prod):1024'. Without arguments, meso reserve lists every agent's reservations (static and dynamic).";

function reservationCommand(path: '/reserve' | '/unreserve', verb: string) {
  return async (argv: string[]): Promise<number> => {
    const line = commandLine(argv, RESERVE_USAGE, RESERVE_SUMMARY);
    if (!line) return 0;
    const { master, rest } = line;
    if (rest.length === 0 && path === '/reserve') {
      console.log(listReservations(await agentsOf(master)));
      return 0;
    }
    const [agent, resources] = agentAndResources(rest, RESERVE_USAGE);
    await operate(master, path, agent, resources, verb);
    return 0;
  };
}

/** `meso reserve` (list), `meso reserve AGENT RESOURCES`. */
export const reserveCommand = reservationCommand('/reserve', 'reserved');
/** `meso unreserve AGENT RESOURCES`. */
export const unreserveCommand = reservationCommand('/unreserve', 'unreserved');

const VOLUMES_USAGE = 'meso volumes [--master HOST:PORT]\n       meso volumes create AGENT VOLUMES [--master HOST:PORT]\n       meso volumes destroy AGENT VOLUMES [--master HOST:PORT]';

const VOLUMES_SUMMARY =
  "Lists, creates or destroys persistent volumes (Mesos's /create-volumes and /destroy-volumes). AGENT is an agent id or host name; VOLUMES are Mesos text, disk reserved for a role with a volume id and the path tasks see it at: 'disk(db)[data-1:data]:512' (':ro' after the path for read-only). The disk must be reserved for the role first (meso reserve).";

/** `meso volumes` (list), `meso volumes create|destroy AGENT 'disk(db)[data-1:data]:512'`. */
export async function volumesCommand(argv: string[]): Promise<number> {
  const line = commandLine(argv, VOLUMES_USAGE, VOLUMES_SUMMARY);
  if (!line) return 0;
  const [sub, ...args] = line.rest;
  if (sub === undefined) {
    console.log(listVolumes(await agentsOf(line.master)));
    return 0;
  }
  if (sub !== 'create' && sub !== 'destroy') throw usageError(`unknown subcommand '${sub}' (use create or destroy)`);
  const [agent, volumes] = agentAndResources(args, VOLUMES_USAGE);
  await operate(line.master, sub === 'create' ? '/create-volumes' : '/destroy-volumes', agent, volumes, sub === 'create' ? 'created' : 'destroyed');
  return 0;
}
