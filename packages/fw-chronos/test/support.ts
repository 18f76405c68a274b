import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup, Proc, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';

/** The built meso-chronos of this package (tests run after the build). */
export const CHRONOS_BIN = fileURLToPath(new URL('../dist/bin/meso-chronos.js', import.meta.url));

export interface Cluster {
  master: string;
  dir: string;
}

/** A master and one agent with room for a few jobs. */
export async function startCluster(cleanup: Cleanup): Promise<Cluster> {
  const master = await startMasterProcess(cleanup);
  await startAgentProcess(cleanup, master.address, 'cpus:2;mem:2048;disk:4096');
  return { master: master.address, dir: await cleanup.tempDir('meso-chronos-test-') };
}

export interface ChronosProcess {
  proc: Proc;
  address: string;
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any; text: string }>;
}

/** Starts meso-chronos on a free port with its state in `workDir`, and waits until it serves. */
export async function startChronosProcess(cleanup: Cleanup, cluster: Cluster, workDir = join(cluster.dir, 'chronos')): Promise<ChronosProcess> {
  const proc = cleanup.node(CHRONOS_BIN, ['--master', cluster.master, '--http_port', '0', '--work_dir', workDir, '--revive_lead_ms', '1000', '--reconcile_timeout_ms', '5000'], {}, 'meso-chronos');
  const [, address = ''] = await proc.line(/listening on (\S+)/);
  const api: ChronosProcess['api'] = async (method, path, body) => {
    const res = await fetch(`http://${address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  return { proc, address, api };
}

/** The job's ledger, from the API. */
export async function runsOf(c: ChronosProcess, job: string): Promise<any[]> {
  const res = await c.api('GET', `/v1/scheduler/job/${job}/runs`);
  if (res.status !== 200) throw new Error(`runs of ${job}: ${res.status} ${res.text}`);
  return res.json as any[];
}

/** Polls the ledger until `check` holds. */
export function waitForRuns(c: ChronosProcess, job: string, what: string, check: (runs: any[]) => boolean, timeoutMs = 30_000): Promise<any[]> {
  return waitFor(`${job}: ${what}`, async () => {
    const runs = await runsOf(c, job);
    return check(runs) ? runs : undefined;
  }, timeoutMs);
}

/** Lines of a file a job appends to ('' when missing). */
export async function linesOf(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '');
}

/** Waits until the wall clock passes `at` (the scenario needs real time to pass; polled, bounded). */
export function waitUntilTime(at: number): Promise<true> {
  return waitFor(`the time ${new Date(at).toISOString()}`, () => Date.now() >= at || undefined, at - Date.now() + 5000);
}

/** An ISO instant `ms` from now, on a whole second. */
export function isoIn(ms: number): { iso: string; at: number } {
  const at = Math.ceil((Date.now() + ms) / 1000) * 1000;
  return { iso: new Date(at).toISOString(), at };
}
