import { statfs } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { parseAttributes, parseResources, ResourceError, Resources, type Attribute, type Resource } from '@meso/proto';
import { AgentError } from './errors.js';

const MB = 1024 * 1024;
/** Ports offered when `ports` is not given (Mesos's default). */
export const DEFAULT_PORTS = { begin: 31000, end: 32000 } as const;

/** What the machine has, for the resources the operator did not name. */
export interface MachineFacts {
  cpus: number;
  memMb: number;
  diskMb: number;
}

/** Reads the machine's cores, memory and the size of the file system holding `workDir`. */
export async function detectMachine(workDir: string): Promise<MachineFacts> {
  let diskMb = 0;
  try {
    const s = await statfs(workDir);
    diskMb = Math.floor((s.blocks * s.bsize) / MB);
  } catch {
    diskMb = 0;
  }
  return { cpus: availableParallelism(), memMb: Math.floor(totalmem() / MB), diskMb };
}

/** Mesos's rule: leave 1 GB of memory (or half, below 2 GB) and 5 GB of disk (or half, below 10 GB) to the system. */
export function defaultScalars(m: MachineFacts): { cpus: number; mem: number; disk: number } {
  const mem = m.memMb >= 2048 ? m.memMb - 1024 : Math.floor(m.memMb / 2);
  const disk = m.diskMb >= 10_240 ? m.diskMb - 5_120 : Math.floor(m.diskMb / 2);
  return { cpus: m.cpus, mem, disk };
}

/**
 * The agent's total resources: what `text` names (Mesos text or JSON), plus detected
 * cpus, mem, disk and the default ports for the names it does not mention. Throws an
 * AgentError (INVALID_RESOURCES) naming the bad fragment.
 */
export function agentResources(text: string, machine: MachineFacts): Resources {
  return withDetected(parseAgentResources(text), machine);
}

/** Parses `--resources` (Mesos text or JSON); throws an AgentError (INVALID_RESOURCES) naming the bad fragment. */
export function parseAgentResources(text: string): Resources {
  try {
    return text.trim() === '' ? Resources.empty() : parseResources(text, '--resources');
  } catch (e) {
    throw new AgentError('INVALID_RESOURCES', e instanceof ResourceError ? e.message : `--resources: ${(e as Error).message}`, { cause: e, field: 'resources' });
  }
}

/** Adds detected cpus, mem, disk and the default ports for the names `given` does not mention. */
export function withDetected(given: Resources, machine: MachineFacts): Resources {
  const named = new Set(given.names());
  const scalars = defaultScalars(machine);
  const added: Resource[] = [];
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    if (!named.has(name) && scalars[name] > 0) added.push({ name, kind: 'scalar', value: scalars[name], role: '*' });
  }
  if (!named.has('ports')) added.push({ name: 'ports', kind: 'ranges', ranges: [{ ...DEFAULT_PORTS }], role: '*' });
  return given.add(Resources.of(added));
}

/** Parses `--attributes`; throws an AgentError (INVALID_ATTRIBUTES) naming the bad fragment. */
export function agentAttributes(text: string): Attribute[] {
  try {
    return parseAttributes(text, '--attributes');
  } catch (e) {
    throw new AgentError('INVALID_ATTRIBUTES', e instanceof ResourceError ? e.message : `--attributes: ${(e as Error).message}`, { cause: e, field: 'attributes' });
  }
}
