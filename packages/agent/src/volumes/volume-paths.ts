import { join } from 'node:path';

/**
 * Where a persistent volume's data lives on the agent: outside every sandbox, under the
 * agent's work directory, so it outlives tasks, executors and agent restarts until
 * DESTROY. Roles may contain `/` (hierarchical roles); it is kept as a subdirectory.
 */
export function volumePath(workDir: string, role: string, volumeId: string): string {
  return join(volumesRoot(workDir), ...role.split('/'), volumeId);
}

/** The directory holding every role's volumes: `<workDir>/volumes/roles`. */
export function volumesRoot(workDir: string): string {
  return join(workDir, 'volumes', 'roles');
}
