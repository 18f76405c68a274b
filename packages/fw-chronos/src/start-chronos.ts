import { join } from 'node:path';
import { createLogger, Scheduler, serveHttp, subscribeResuming, systemClock, type FrameworkServiceOptions } from '@meso/sdk-scheduler';
import { FileStateStore, type StateStore } from '@meso/state';
import { ENGINE_DEFAULTS, JobEngine, type EngineTuning } from './engine.js';
import { ChronosError } from './errors.js';
import { createApiHandler } from './http-api.js';
import { Repository } from './repository.js';

/** Options of {@link startChronos}. */
export interface ChronosOptions extends EngineTuning, FrameworkServiceOptions {
  /** Port of the REST API. Defaults to 4400; 0 picks a free port. */
  httpPort?: number;
  /** Where jobs and the run ledger are kept (a `FileStateStore`). Defaults to `.meso/chronos` under the current directory. */
  workDir?: string;
  /** Defaults to a `FileStateStore` in `workDir` (tests pass a `MemoryStateStore`). */
  store?: StateStore;
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
    scheduler = await subscribeResuming(storedId, connect, logger);
    if (scheduler.frameworkId !== storedId) await repo.apply({ type: 'setFrameworkId', id: scheduler.frameworkId });
    logger.info(`subscribed as framework ${scheduler.frameworkId}`);
    const engine = new JobEngine(scheduler, repo, clock, logger, o);
    await engine.start();
    let address = '';
    const http = await serveHttp(createApiHandler(engine, () => address), o.httpPort, o.host);
    address = http.address;
    const running = scheduler;
    let closing: Promise<void> | undefined;
    return {
      address,
      frameworkId: running.frameworkId,
      engine,
      close: () =>
        (closing ??= (async () => {
          await http.close();
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
