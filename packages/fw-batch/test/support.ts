import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup, Proc, startAgentProcess, startMasterProcess, waitFor } from '@meso/testing';

/** The built meso-batch of this package (tests run after the build). */
export const BATCH_BIN = fileURLToPath(new URL('../dist/bin/meso-batch.js', import.meta.url));

export interface Cluster {
  master: string;
  dir: string;
}

/** A master and `agents` agents of the given resources. */
export async function startCluster(cleanup: Cleanup, agents: string[] = ['cpus:2;mem:2048;disk:4096']): Promise<Cluster> {
  const master = await startMasterProcess(cleanup);
  for (const r of agents) await startAgentProcess(cleanup, master.address, r);
  return { master: master.address, dir: await cleanup.tempDir('meso-batch-test-') };
}

export interface Api {
  (method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
}

export interface BatchProcess {
  proc: Proc;
  address: string;
  api: Api;
}

/** Starts meso-batch on a free port with its state in `workDir`, and waits until it serves. */
export async function startBatchProcess(cleanup: Cleanup, cluster: Cluster, workDir = join(cluster.dir, 'batch'), extra: string[] = []): Promise<BatchProcess> {
  const proc = cleanup.node(BATCH_BIN, ['--master', cluster.master, '--http_port', '0', '--work_dir', workDir, ...extra], {}, 'meso-batch');
  const [, address = ''] = await proc.line(/listening on (\S+)/);
  const api: Api = async (method, path, body) => {
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

/** Polls a job until `check` holds on its detailed view. */
export function waitForJob(b: BatchProcess, id: string, what: string, check: (job: any) => boolean, timeoutMs = 60_000): Promise<any> {
  return waitFor(`${id}: ${what}`, async () => {
    const res = await b.api('GET', `/v1/jobs/${id}`);
    return res.status === 200 && check(res.json) ? res.json : undefined;
  }, timeoutMs);
}
