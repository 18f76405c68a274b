import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileStateStore, MemoryStateStore, type StateStore } from '@meso/state';
import { MarathonError } from './errors.js';
import { createHttpHandler } from './http-api.js';
import { MarathonCore, type MarathonCoreOptions } from './marathon.js';
import { MarathonState } from './marathon-state.js';
import { Scheduler, SchedulerError, createLogger, systemClock, type Clock, type Logger } from './sdk.js';
import type { SchedulerTransport } from '@meso/sdk-scheduler';

/** Options of `startMarathon`. Only `master` is required. */
export interface MarathonOptions {
  /** The master's `host:port`. */
  master: string;
  /** The HTTP port of the REST API. Defaults to 8080; 0 picks a free port. */
  httpPort?: number;
  /** The interface HTTP listens on. Defaults to `127.0.0.1`. */
  host?: string;
  /** Where apps, deployments and tasks are persisted. Defaults to none: in memory (lost on exit). */
  workDir?: string;
  /** Seconds the master keeps the tasks running while fw-marathon is away. Defaults to one week (604800). */
  failoverTimeoutSeconds?: number;
  /** The framework name. Defaults to `marathon`. */
  frameworkName?: string;
  /** The role to subscribe with. Defaults to `*`. */
  role?: string;
  /** Seconds a deployment may take before it fails. Defaults to 600. */
  deploymentTimeoutSeconds?: number;
  /** Roll back a deployment that passes its deadline. Defaults to false. */
  rollbackOnDeadline?: boolean;
  /** Events a slow `/v2/events` client may have pending before it gets a `resync` event instead. Defaults to 1000. */
  eventStreamMaxPending?: number;
  /** Tuning of the scheduler core (see `CORE_DEFAULTS`). Defaults to none. */
  core?: Partial<Omit<MarathonCoreOptions, 'clock' | 'logger'>>;
  /** Time source. Defaults to the system clock. */
  clock?: Clock;
  /** Where it logs. Defaults to `createLogger('fw-marathon')`. */
  logger?: Logger;
  /** How to reach the master (tests). Defaults to gRPC to `master`. */
  transport?: SchedulerTransport;
}

/** Defaults of MarathonOptions. */
export const MARATHON_DEFAULTS = {
  httpPort: 8080,
  host: '127.0.0.1',
  failoverTimeoutSeconds: 604_800,
  frameworkName: 'marathon',
  role: '*',
} as const;

/** A running fw-marathon. */
export interface RunningMarathon {
  /** `host:port` of the REST API. */
  address: string;
  /** The scheduler core (state, events), for embedding and tests. */
  core: MarathonCore;
  /** Stops HTTP and leaves the framework registered (its tasks keep running until the failover timeout). */
  close(): Promise<void>;
}

function invalid(field: string, message: string): MarathonError {
  return new MarathonError('INVALID_OPTIONS', `options.${field}: ${message}`);
}

/**
 * Starts fw-marathon: loads its state, serves Marathon's REST API, and connects to the master
 * as framework `marathon` (checkpointing on, a week's failover timeout, re-using the persisted
 * framework id) in the background, reconnecting until closed.
 */
export async function startMarathon(options: MarathonOptions): Promise<RunningMarathon> {
  if (typeof options?.master !== 'string' || !/^\S+:\d+$/.test(options.master)) throw invalid('master', `must be host:port, got '${String(options?.master)}'`);
  const httpPort = options.httpPort ?? MARATHON_DEFAULTS.httpPort;
  if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) throw invalid('httpPort', `must be a port number, got ${String(httpPort)}`);
  const host = options.host ?? MARATHON_DEFAULTS.host;
  const failoverTimeoutSeconds = options.failoverTimeoutSeconds ?? MARATHON_DEFAULTS.failoverTimeoutSeconds;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger('fw-marathon');
  const store: StateStore = options.workDir ? await FileStateStore.open(options.workDir) : new MemoryStateStore();
  const state = await MarathonState.load(store);
  const core = new MarathonCore(state, {
    ...options.core,
    clock,
    logger,
    ...(options.deploymentTimeoutSeconds !== undefined ? { deploymentTimeoutSeconds: options.deploymentTimeoutSeconds } : {}),
    ...(options.rollbackOnDeadline !== undefined ? { rollbackOnDeadline: options.rollbackOnDeadline } : {}),
  });
  let address = '';
  const server: Server = createServer(createHttpHandler({ core, master: options.master, address: () => address, ...(options.eventStreamMaxPending !== undefined ? { sseMaxPending: options.eventStreamMaxPending } : {}) }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(httpPort, host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  address = `${host}:${info.port}`;

  let closed = false;
  let scheduler: Scheduler | undefined;
  const loop = (async () => {
    while (!closed) {
      try {
        const id = state.frameworkId;
        scheduler = await Scheduler.connect({
          master: options.master,
          framework: {
            name: options.frameworkName ?? MARATHON_DEFAULTS.frameworkName,
            roles: [options.role ?? MARATHON_DEFAULTS.role],
            failoverTimeoutSeconds,
            checkpoint: true,
            // TASK_UNREACHABLE / TASK_GONE instead of TASK_LOST, for unreachableStrategy.
            capabilities: ['PARTITION_AWARE'],
            webuiUrl: `http://${address}`,
            ...(id ? { id } : {}),
          },
          clock,
          logger: logger.child('sdk'),
          ...(options.transport ? { transport: options.transport } : {}),
        });
        logger.info('subscribed', { frameworkId: scheduler.frameworkId });
        if (closed) break;
        await core.consume(scheduler);
      } catch (e) {
        if (closed) break;
        const code = e instanceof SchedulerError ? e.code : '';
        if ((code === 'FRAMEWORK_REMOVED' || code === 'UNKNOWN_FRAMEWORK') && state.frameworkId) {
          logger.warn('the master no longer knows our framework id; registering anew', { frameworkId: state.frameworkId });
          await state.apply([{ type: 'setFrameworkId', frameworkId: '' }]);
        } else {
          logger.warn('cannot reach the master; retrying', { error: (e as Error).message });
        }
      }
      if (closed) break;
      await new Promise<void>((r) => clock.setTimeout(r, 1000));
    }
  })();

  return {
    address,
    core,
    async close() {
      closed = true;
      core.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await scheduler?.close().catch(() => undefined);
      await Promise.race([loop, new Promise((r) => setTimeout(r, 3000))]);
      await store.close();
    },
  };
}
