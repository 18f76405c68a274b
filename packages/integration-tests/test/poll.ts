import { waitFor } from '@meso/testing';

/** How often the scenarios ask the cluster's APIs: enough to see progress, light on a 2-core machine. */
const INTERVAL_MS = 300;

/** waitFor (deadline, last error in the message) asking at most every INTERVAL_MS. */
export function poll<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  return waitFor(what, async () => {
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    return check();
  }, timeoutMs);
}
