import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { engine } from './engine.js';
import { SESSION_LABEL, type Topology } from './topology.js';

/** Stops a container the hard way (SIGKILL, no grace): the machine is gone, with every task on it. */
export async function killContainer(id: string): Promise<void> {
  const client = await engine();
  await client.container.stop(client.container.getById(id), { timeout: 0 });
}

/** Restarts a container (SIGTERM, up to `graceSeconds`, then SIGKILL; same file system, same command). */
export async function restartContainer(id: string, graceSeconds = 10): Promise<void> {
  const client = await engine();
  await client.container.restart(client.container.getById(id), { timeout: graceSeconds });
}

/** The containers of a session (all sessions when `session` is undefined), running or not. */
async function containersOf(session: string | undefined): Promise<{ id: string; name: string }[]> {
  const client = await engine();
  const all = await client.container.dockerode.listContainers({ all: true, filters: { label: [session ? `${SESSION_LABEL}=${session}` : SESSION_LABEL] } });
  return all.map((c) => ({ id: c.Id, name: c.Labels['meso.role'] ?? c.Names[0] ?? c.Id }));
}

/** Saves each container's output to `dir/<role>.log` (what to read when a scenario fails). */
export async function saveLogs(session: string, dir: string): Promise<void> {
  const client = await engine();
  mkdirSync(dir, { recursive: true });
  for (const c of await containersOf(session)) {
    const buffer = (await client.container.dockerode.getContainer(c.id).logs({ stdout: true, stderr: true, timestamps: true })) as unknown as Buffer;
    writeFileSync(join(dir, `${c.name}.log`), demux(buffer));
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) as plain text; a plain buffer (tty) as is. */
function demux(buffer: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buffer.length && buffer[i]! <= 2 && buffer[i + 1] === 0) {
    const size = buffer.readUInt32BE(i + 4);
    out += buffer.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return i === 0 ? buffer.toString('utf8') : out;
}

/** Removes (killing first) every container of a session, or of any earlier run when `session` is undefined. */
export async function removeContainers(session: string | undefined): Promise<number> {
  const client = await engine();
  const list = await containersOf(session);
  for (const c of list) await client.container.dockerode.getContainer(c.id).remove({ force: true, v: true });
  return list.length;
}

/** Every port the topology uses (server ports and agents' task port ranges), so new containers pick others. */
export function takenPorts(t: Topology): Set<number> {
  const ports = [t.master.address, ...Object.values(t.frameworks).map((f) => f.url)].map((a) => Number(a.split(':').pop()));
  for (const a of t.agents) {
    ports.push(a.port);
    for (let p = a.ports[0]; p <= a.ports[1]; p++) ports.push(p);
  }
  return new Set(ports);
}
