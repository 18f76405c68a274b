// What a container (an executor run: the executor and every process of its tasks) may
// use: the sum of the executor's and its live tasks' resources. Pure.
import { Resources, resourcesFromWire, type Range, type TaskInfo } from '@meso/proto';
import { volumePath } from '../volumes/volume-paths.js';

type WireResources = TaskInfo['resources'];

const MB = 1024 * 1024;

/**
 * What the agent adds for a custom executor that declares no memory of its own (a Node
 * process is about 45-60 MB resident). Cpus are not added: a 0.5 cpu hard limit stays 0.5.
 */
export const EXECUTOR_OVERHEAD = { cpus: 0, memMb: 64 } as const;

const NONE = { cpus: 0, memMb: 0 } as const;

/**
 * The memory added for the executor process itself. None for a command task: its command
 * executor runs in the agent process, and the container holds only the task (and the
 * small shell that records its exit status). A custom executor that declares no memory of
 * its own gets {@link EXECUTOR_OVERHEAD} (else its limit would hold only its tasks' memory,
 * and the executor would die of it with its first task).
 */
export function executorOverhead(kind: 'command' | 'custom', executor: WireResources): { cpus: number; memMb: number } {
  if (kind === 'command') return NONE;
  return safe(executor).scalar('mem') > 0 ? NONE : EXECUTOR_OVERHEAD;
}

/** One persistent volume a container uses, and its size. */
export interface VolumeLimit {
  path: string;
  /** Where tasks see it, relative to the sandbox (not counted as sandbox disk). */
  containerPath: string;
  bytes: number;
}

/** The limits of one container. */
export interface ContainerLimits {
  /** Cpu shares (and the hard quota when enabled). */
  cpus: number;
  memBytes: number;
  /** Sandbox disk (persistent volumes excluded); 0: not enforced. */
  diskBytes: number;
  /** Ports the container may listen on. */
  ports: Range[];
  volumes: VolumeLimit[];
}

/**
 * The limits of a container running `executor` with `tasks` (the resources of each);
 * `overhead` is added for the agent's command executor.
 */
export function containerLimits(workDir: string, executor: WireResources, tasks: WireResources[], overhead: { cpus: number; memMb: number }): ContainerLimits {
  let total = safe(executor);
  for (const t of tasks) total = total.add(safe(t));
  const plain = total.withoutVolumes();
  return {
    cpus: plain.scalar('cpus') + overhead.cpus,
    memBytes: Math.round((plain.scalar('mem') + overhead.memMb) * MB),
    diskBytes: Math.round(plain.scalar('disk') * MB),
    ports: plain.ranges('ports'),
    volumes: total.volumes().map((v) => ({ path: volumePath(workDir, v.role, v.volume.id), containerPath: v.volume.containerPath, bytes: Math.round(v.value * MB) })),
  };
}

/** Resources that fail validation count as none (the master validated them; an agent never crashes on them). */
function safe(list: WireResources): Resources {
  try {
    return resourcesFromWire(list ?? [], 'resources');
  } catch {
    return Resources.empty();
  }
}

/** Whether `port` lies within `ranges`. */
export function portAllowed(port: number, ranges: readonly Range[]): boolean {
  return ranges.some((r) => port >= r.begin && port <= r.end);
}
