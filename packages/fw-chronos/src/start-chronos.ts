import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger, Scheduler, SchedulerError, systemClock, type Clock, type Logger, type SchedulerTransport } from '@meso/sdk-scheduler';
import { FileStateStore, type StateStore } from '@meso/state';
import { ENGINE_DEFAULTS, JobEngine, type EngineTuning } from './engine.js';
import { ChronosError } from './errors.js';
import { createApiHandler } from './http-api.js';
import { Repository } from './repository.js';

/** Options of {@link startChronos}. */
export interface ChronosOptions extends EngineTuning {
  /** The master's `host:port`. Defaults to `127.0.0.1:5050`. */
  master?: string;
  /** Port of the REST API. Defaults to 4400; 0 picks a free port. */
  httpPort?: number;
  /** Address the REST API binds. Defaults to `127.0.0.1`. */
  host?: string;
  /** Where jobs and the run ledger are kept (a `FileStateStore`). Defaults to `.meso/chronos` under the current directory. */
  workDir?: string;
  /** The framework's name at the master. Defaults to `chronos`. */
  frameworkName?: string;
  /** Seconds the master keeps the jobs' tasks running while fw-chronos is away. Defaults to one week (604800). */
  failoverTimeoutSeconds?: number;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to `createLogger('fw-chronos')`. */
  logger?: Logger;
  /** Defaults to a `FileStateStore` in `workDir` (tests pass a `MemoryStateStore`). */
  store?: StateStore;
  /** Defaults to gRPC to `master` (tests pass a `FakeSchedulerTransport`). */
  transport?: SchedulerTransport;
}

/** Defaults of {@link ChronosOptions}. */
export const CHRONOS_DEFAULTS = {
  master: '127.0.0.1:5050',
  httpPort: 4400,
  host: '127.0.0.1',
  workDir: join('.meso', 'chronos'),
  frameworkName: 'chronos',
  failoverTimeoutSeconds: 7 * 24 * 3600,
  ...ENGINE_DEFAULTS,
} as const;

/** A running fw-chronos. */
export interface RunningChronos {
  /** `host:port` of the REST API. */
  address: string;
  /** The framework id at the master. */
  frameworkId: string;
  engine: JobEngine;
  /** Stops the API, the engine and the subscription (tasks keep running for the failover timeout). */
  close(): Promise<void>;
}

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new ChronosError('INVALID_OPTIONS', `options.${field}: ${message}`, { field });
}

/**
 * Starts fw-chronos: opens its state, subscribes to the master (re-subscribing with the stored
 * framework id after a restart), reconciles the ledger's tasks, and serves Chronos's REST API.
 */
export async function startChronos(options: ChronosOptions = {}): Promise<RunningChronos> {
  const o = { ...CHRONOS_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof CHRONOS_DEFAULTS & ChronosOptions;
  check(Number.isInteger(o.httpPort) && o.httpPort >= 0 && o.httpPort <= 65535, 'httpPort', `must be a port 0-65535, got ${String(o.httpPort)}`);
  check(typeof o.master === 'string' && /^[^:]+:\d+$/.test(o.master), 'master', `must be host:port, got ${String(o.master)}`);
  check(Number.isFinite(o.failoverTimeoutSeconds) && o.failoverTimeoutSeconds >= 0, 'failoverTimeoutSeconds', 'must be >= 0');
  for (const k of ['reviveLeadMs', 'reconcileTimeoutMs', 'offerHoldMs', 'historyLimit', 'maxCatchUp'] as const) check(Number.isFinite(o[k]) && o[k] >= 0, k, 'must be a number >= 0');
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? createLogger('fw-chronos');
  const store = o.store ?? (await FileStateStore.open(o.workDir));
  const repo = new Repository(store);
  let scheduler: Scheduler | undefined;
  try {
    const storedId = await repo.frameworkId();
    const connect = (id: string | undefined): Promise<Scheduler> =>
      Scheduler.connect({
        master: o.master,
        framework: { name: o.frameworkName, failoverTimeoutSeconds: o.failoverTimeoutSeconds, checkpoint: true, ...(id ? { id } : {}) },
        // The engine acknowledges each update once its effects are durable.
        autoAcknowledge: false,
        clock,
        logger: logger.child('sdk'),
        ...(o.transport ? { transport: o.transport } : {}),
      });
    try {
      scheduler = await connect(storedId);
    } catch (e) {
      if (!storedId || !(e instanceof SchedulerError) || !['FRAMEWORK_REMOVED', 'UNKNOWN_FRAMEWORK'].includes(e.code)) throw e;
      logger.warn(`framework ${storedId} is gone from the master (${e.code}); registering anew`);
      scheduler = await connect(undefined);
    }
    if (scheduler.frameworkId !== storedId) await repo.apply({ type: 'setFrameworkId', id: scheduler.frameworkId });
    logger.info(`subscribed as framework ${scheduler.frameworkId}`);
    const engine = new JobEngine(scheduler, repo, clock, logger, o);
    await engine.start();
    let address = '';
    const server = createServer(createApiHandler(engine, () => address));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.httpPort, o.host, () => resolve());
    });
    address = `${o.host}:${(server.address() as AddressInfo).port}`;
    const running = scheduler;
    let closing: Promise<void> | undefined;
    return {
      address,
      frameworkId: running.frameworkId,
      engine,
      close: () =>
        (closing ??= (async () => {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await engine.close();
          await running.close();
          await engine.done;
          if (!o.store) await store.close();
        })()),
    };
  } catch (e) {
    await scheduler?.close().catch(() => undefined);
    if (!o.store) await store.close().catch(() => undefined);
    throw e;
  }
}
