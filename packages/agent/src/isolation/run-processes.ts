// Every process of every executor run, from one scan of /proc shared by all containers:
// without cgroups, the posix isolators find a container's processes by the
// MESO_EXECUTOR_RUN_ID in their environment, and a scan per container per check would
// read every process's environment again and again.
import { readdir, readFile } from 'node:fs/promises';
import { RUN_ID_VARIABLE } from '../executor-env.js';

const NEEDLE = Buffer.from(`${RUN_ID_VARIABLE}=`);

/** The value of MESO_EXECUTOR_RUN_ID in a NUL-separated environment, if any. Pure. */
export function runIdOf(environ: Buffer): string | undefined {
  let at = environ.indexOf(NEEDLE);
  while (at > 0 && environ[at - 1] !== 0) at = environ.indexOf(NEEDLE, at + 1);
  if (at < 0) return undefined;
  const end = environ.indexOf(0, at);
  return environ.subarray(at + NEEDLE.length, end < 0 ? undefined : end).toString();
}

/** Pids by run id, scanned at most once per `maxAgeMs`. */
export class RunProcessTable {
  private scan: { at: number; byRun: Promise<Map<string, number[]>> } | undefined;

  constructor(private readonly maxAgeMs: number) {}

  async pidsOf(runId: string): Promise<number[]> {
    const now = Date.now();
    if (!this.scan || now - this.scan.at > this.maxAgeMs) this.scan = { at: now, byRun: scanProc() };
    return (await this.scan.byRun).get(runId) ?? [];
  }
}

let pending: Promise<Map<string, number[]>> | undefined;

/**
 * The processes of a run as of now: from a scan of /proc that starts after this call, shared
 * by every call made before it starts (runs ending together — many short tasks — read every
 * process's environment once, not once each).
 */
export async function currentRunPids(runId: string): Promise<number[]> {
  pending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    pending = undefined;
    return scanProc();
  });
  return (await pending).get(runId) ?? [];
}

async function scanProc(): Promise<Map<string, number[]>> {
  const byRun = new Map<string, number[]>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return byRun;
  }
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
      .map(async (e) => {
        try {
          const id = runIdOf(await readFile(`/proc/${e}/environ`));
          if (id !== undefined) byRun.set(id, [...(byRun.get(id) ?? []), Number(e)]);
        } catch {
          // gone, or not ours to read
        }
      }),
  );
  return byRun;
}
