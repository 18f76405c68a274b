/**
 * Where a server keeps its data (AOF): `<sandbox>/redis-data`. A persistent volume is mounted
 * there (the default), so a server restarted on the same agent finds its data; with
 * `persistentVolumes: false` it is a directory of the sandbox, and a restarted server starts
 * empty and syncs from its master.
 */

/** The path inside the sandbox where the data directory is (or the volume is mounted). */
export const DATA_CONTAINER_PATH = 'redis-data';

/** A shell expression for the data directory, for the task's command. */
export const dataDirExpression = `"$MESO_SANDBOX/${DATA_CONTAINER_PATH}"`;

/** The persistent volume of a server: its size for a given `maxmemory` (AOF and its rewrite), MB. */
export const volumeSizeFor = (capacityMb: number): number => Math.max(64, capacityMb * 4);

/** The id of the volume created for a server (unique on its agent: task ids are unique). */
export const volumeIdFor = (taskId: string): string => taskId;
