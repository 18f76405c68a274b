import { join } from 'node:path';

/**
 * Where a persistent volume's data lives on the agent: outside every sandbox, under the
 * agent's work directory, so it outlives tasks, executors and agent restarts until
 * DESTROY. Roles may contain `/` (hierarchical roles); it is kept as a subdirectory.
 */
export function volumePath(workDir: string, role: string, volumeId: string): string {
  return join(workDir, 'volumes', 'roles', ...role.split('/'), volumeId);
}
