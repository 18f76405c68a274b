import { waitFor } from '@meso/testing';
import type { Clients } from '../src/clients.js';
import { missingKeys } from '../src/redis-data.js';

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

/** Polls a Redis instance of fw-redis until it runs a master and one replica, all answering, and `where` holds; returns its view. */
export function redisRunning(api: Clients, name: string, where: (inst: any) => boolean = () => true, what = `redis instance ${name} running a master and a replica`): Promise<any> {
  return poll(what, async () => {
    const inst = await api.redis.instance(name).catch(() => undefined);
    const running = inst?.status === 'RUNNING' && inst.endpoints.master && inst.endpoints.replicas.length === 1 && inst.members.length === 2 && inst.members.every((m: any) => m.answering);
    return running && where(inst) ? inst : undefined;
  });
}

/** Polls until the Redis server at `address` holds all `n` keys `prefix:i` (replication is asynchronous). */
export function redisHolds(address: string, prefix: string, n: number): Promise<true> {
  return poll(`${address} to hold the ${n} ${prefix} keys`, async () => ((await missingKeys(address, prefix, n)) === 0 ? true : undefined), 60_000);
}
