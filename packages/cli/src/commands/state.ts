import { CliError } from '../cli-error.js';
import { formatHelp, parseEndpoint, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';

const STATE_FLAGS: FlagSpecs = {
  master: { kind: 'string', value: 'HOST:PORT', help: 'The master.', default: '127.0.0.1:5050' },
  json: { kind: 'boolean', help: 'Print the master\'s /state JSON as it is.' },
};

type ResourceMap = Record<string, number | string>;
interface StateJson {
  masterId?: string;
  agents?: Array<{ id: string; hostname: string; endpoint?: string; status?: string; resources?: { total?: ResourceMap; used?: ResourceMap; free?: ResourceMap } }>;
  frameworks?: Array<{ id: string; name: string; roles?: string[]; active?: boolean; connected?: boolean; resources?: { used?: ResourceMap; offered?: ResourceMap } }>;
  tasks?: Array<{ id: string; name?: string; frameworkId: string; agentId: string; state: string; resources?: ResourceMap }>;
}

function res(map: ResourceMap | undefined, name: string): string {
  const v = map?.[name];
  return v === undefined ? '0' : String(v);
}

/** `meso state`: the master's agents, frameworks and tasks as tables. */
export async function stateCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, STATE_FLAGS);
  if (values['help']) {
    console.log(formatHelp('meso state [--master HOST:PORT] [--json]', 'Shows the cluster: agents, frameworks and tasks.', STATE_FLAGS));
    return 0;
  }
  const master = parseEndpoint('master', String(values['master']));
  let body: string;
  try {
    const response = await fetch(`http://${master}/state`, { signal: AbortSignal.timeout(10_000) });
    body = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.slice(0, 200)}`);
  } catch (e) {
    throw new CliError(`cannot read the state of the master at ${master}: ${(e as Error).message}`, 1, { cause: e });
  }
  if (values['json']) {
    console.log(body);
    return 0;
  }
  const state = JSON.parse(body) as StateJson;
  const agents = state.agents ?? [];
  const frameworks = state.frameworks ?? [];
  const tasks = state.tasks ?? [];
  console.log(`master ${state.masterId ?? '?'} at ${master}\n`);
  console.log(`AGENTS (${agents.length})`);
  console.log(
    renderTable(
      ['ID', 'HOSTNAME', 'ENDPOINT', 'STATUS', 'CPUS used/total', 'MEM used/total'],
      agents.map((a) => [
        a.id,
        a.hostname,
        a.endpoint ?? '',
        a.status ?? '',
        `${res(a.resources?.used, 'cpus')}/${res(a.resources?.total, 'cpus')}`,
        `${res(a.resources?.used, 'mem')}/${res(a.resources?.total, 'mem')}`,
      ]),
    ),
  );
  console.log(`\nFRAMEWORKS (${frameworks.length})`);
  console.log(
    renderTable(
      ['ID', 'NAME', 'ROLES', 'CONNECTED', 'CPUS', 'MEM'],
      frameworks.map((f) => [f.id, f.name, (f.roles ?? []).join(','), f.connected ? 'yes' : 'no', res(f.resources?.used, 'cpus'), res(f.resources?.used, 'mem')]),
    ),
  );
  console.log(`\nTASKS (${tasks.length})`);
  console.log(
    renderTable(
      ['ID', 'NAME', 'FRAMEWORK', 'AGENT', 'STATE', 'CPUS', 'MEM'],
      tasks.map((t) => [t.id, t.name ?? '', t.frameworkId, t.agentId, t.state, res(t.resources, 'cpus'), res(t.resources, 'mem')]),
    ),
  );
  return 0;
}
