import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, Logger } from '@meso/proto';
import { SchedulerError } from './errors.js';
import type { Scheduler } from './scheduler.js';
import type { SchedulerTransport } from './transport.js';

/** Options a framework service that keeps its framework id shares (its own add the port, state, tuning). */
export interface FrameworkServiceOptions {
  /** The master's `host:port`. Defaults to `127.0.0.1:5050`. */
  master?: string;
  /** Address its API binds. Defaults to `127.0.0.1`. */
  host?: string;
  /** The framework's name at the master. Defaults to the framework's own (`batch`, `chronos`, ...). */
  frameworkName?: string;
  /** Seconds the master keeps its tasks running while the framework is away. Defaults to one week (604800). */
  failoverTimeoutSeconds?: number;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to a logger named after the framework (`fw-batch`, ...). */
  logger?: Logger;
  /** Defaults to gRPC to `master` (tests pass a `FakeSchedulerTransport`). */
  transport?: SchedulerTransport;
}

/**
 * Subscribes with the framework id stored from a previous run; when the master no longer knows
 * it (`FRAMEWORK_REMOVED`, `UNKNOWN_FRAMEWORK`: the failover timeout passed), logs so and
 * registers anew. Any other failure rejects as it came.
 */
export async function subscribeResuming(storedId: string | undefined, connect: (id: string | undefined) => Promise<Scheduler>, logger: Logger): Promise<Scheduler> {
  try {
    return await connect(storedId);
  } catch (e) {
    if (!storedId || !(e instanceof SchedulerError) || !['FRAMEWORK_REMOVED', 'UNKNOWN_FRAMEWORK'].includes(e.code)) throw e;
    logger.warn(`framework ${storedId} is gone from the master (${e.code}); registering anew`);
    return connect(undefined);
  }
}

/** An HTTP API that listens, from {@link serveHttp}. */
export interface HttpService {
  /** `host:port` it listens on (the port picked when asked for 0). */
  address: string;
  /** Drops open connections (e.g. event streams) and stops listening. */
  close(): Promise<void>;
}

/** Serves a framework's HTTP API on `host:port` (0 picks a free port); rejects when it cannot listen. */
export async function serveHttp(handler: RequestListener, port: number, host: string): Promise<HttpService> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    address: `${host}:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
