// The ports isolator (network/ports, as Mesos's): at an interval, the TCP sockets the
// container's processes listen on (/proc/net/tcp{,6} matched to /proc/<pid>/fd) are
// checked against the ports its tasks were given; one outside them gets the container
// killed (REASON_CONTAINER_LIMITATION, the message names the port). With
// `agentRangeOnly` (Mesos --check_agent_port_range_only) only ports within the agent's
// `ports` resource are checked.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { formatRanges, TaskStatus_Reason, type Range } from '@meso/proto';
import { portAllowed, type ContainerLimits } from './limits.js';
import { parseListeningSockets, socketInode } from './proc-net.js';
import type { ContainerIsolator, Limitation } from './types.js';

/** Listening TCP sockets of the machine's network namespace, by inode → port. */
export async function listeningPorts(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const s of parseListeningSockets(await readFile(file, 'utf8'))) out.set(s.inode, s.port);
    } catch {
      // no IPv6, or not Linux
    }
  }
  return out;
}

/** The ports `pids` listen on (each with the pid holding it). */
export async function portsListenedBy(pids: number[]): Promise<Array<{ pid: number; port: number }>> {
  const listening = await listeningPorts();
  if (listening.size === 0) return [];
  const found: Array<{ pid: number; port: number }> = [];
  await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(`/proc/${pid}/fd`);
      } catch {
        return;
      }
      for (const fd of fds) {
        try {
          const inode = socketInode(await readlink(`/proc/${pid}/fd/${fd}`));
          const port = inode !== undefined ? listening.get(inode) : undefined;
          if (port !== undefined && !found.some((f) => f.port === port)) found.push({ pid, port });
        } catch {
          // closed meanwhile
        }
      }
    }),
  );
  return found;
}

export function portsIsolator(o: { watchIntervalMs: number; agentPorts: Range[]; agentRangeOnly: boolean }): ContainerIsolator {
  return {
    name: 'network/ports',
    watchIntervalMs: o.watchIntervalMs,
    async check(pids, limits: ContainerLimits): Promise<Limitation | undefined> {
      for (const { pid, port } of await portsListenedBy(await pids())) {
        if (portAllowed(port, limits.ports)) continue;
        if (o.agentRangeOnly && !portAllowed(port, o.agentPorts)) continue;
        const given = limits.ports.length > 0 ? formatRanges(limits.ports) : 'none';
        return {
          reason: TaskStatus_Reason.REASON_CONTAINER_LIMITATION,
          message: `The container is listening on port ${port} (process ${pid}), which it was not given (its ports: ${given})`,
        };
      }
      return undefined;
    },
  };
}
