import { waitFor } from '@meso/testing';
import type { Clients } from '../src/clients.js';

/** How often the scenarios ask the cluster's APIs: enough to see progress, light on a 2-core machine. */
const INTERVAL_MS = 300;

/** waitFor (deadline, last error in the message) asking at most every INTERVAL_MS. */
export function poll<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  return waitFor(what, async () => {
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    return check();
  }, timeoutMs);
}

/** Polls a batch job until it ends (succeeded, failed or killed) and returns its detailed view. */
export function batchJobEnded(api: Clients, id: string, timeoutMs = 180_000): Promise<any> {
  return poll(`batch job ${id} to end`, async () => {
    const job = await api.batch.job(id).catch(() => undefined);
    return job && ['succeeded', 'failed', 'killed'].includes(job.state) ? job : undefined;
  }, timeoutMs);
}

/** The attempts of a batch job that did not finish, with why (for assertion messages). */
export function unfinished(job: any): string {
  return JSON.stringify(job.tasks.flatMap((t: any) => t.attempts.filter((a: any) => a.state !== 'FINISHED').map((a: any) => `${t.index} ${a.state} ${a.hostname} ${a.message ?? a.endReason ?? ''}`)).slice(0, 10));
}
