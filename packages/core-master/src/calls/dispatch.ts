import type { CallContext } from '@meso/proto';
import type { Master } from '../master.js';
import type { FrameworkRecord } from '../model/model.js';
import { callerOf } from './context.js';

/** The scheduler calls after SUBSCRIBE, as counted in metrics. */
export type SchedulerCallType =
  | 'ACCEPT'
  | 'DECLINE'
  | 'REVIVE'
  | 'SUPPRESS'
  | 'KILL'
  | 'SHUTDOWN'
  | 'ACKNOWLEDGE'
  | 'RECONCILE'
  | 'MESSAGE'
  | 'TEARDOWN'
  | 'UPDATE_FRAMEWORK';

/**
 * Runs one scheduler call: counts it, resolves the calling framework from its CallContext
 * (NOT_SUBSCRIBED / STALE_STREAM otherwise) and runs the handler. Errors propagate to the
 * transport, which maps them once.
 */
export async function runSchedulerCall<R extends { context?: CallContext | undefined }>(
  master: Master,
  type: SchedulerCallType,
  req: R,
  handler: (fw: FrameworkRecord, req: R) => void | Promise<void>,
): Promise<void> {
  master.metrics.countCall(type);
  const fw = callerOf(master, req.context);
  await handler(fw, req);
}
