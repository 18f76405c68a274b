/**
 * Where a server keeps its data (AOF). The one place that knows: today the task's sandbox
 * (`$MESO_SANDBOX/data`), so a server restarted by fw-redis starts empty and syncs from its
 * master; with persistent volumes (when the SDK offers them) a volume mounted at `data`,
 * so a server restarted on the same agent finds its data.
 */

/** The path inside the sandbox where the data directory is (or the volume is mounted). */
export const DATA_CONTAINER_PATH = 'redis-data';

/** A shell expression for the data directory, for the task's command. */
export const dataDirExpression = `"$MESO_SANDBOX/${DATA_CONTAINER_PATH}"`;

/** Whether this build keeps data on persistent volumes (false: the sandbox). */
export const USES_VOLUMES = false;
