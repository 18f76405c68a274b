import { join } from 'node:path';
import { createLogger, Scheduler, serveHttp, subscribeResuming, systemClock, type FrameworkServiceOptions } from '@meso/sdk-scheduler';
import { FileStateStore, type StateStore } from '@meso/state';
import { BatchEngine, ENGINE_DEFAULTS, type EngineTuning } from './engine.js';
import { BatchError } from './errors.js';
import { createApiHandler } from './http-api.js';
import { BatchState } from './state.js';

/** Options of {@link startBatch}. */
export interface BatchOptions extends EngineTuning, FrameworkServiceOptions {
  /** Port of the JSON API. Defaults to 4800; 0 picks a free port. */
  httpPort?: number;
  /** Where jobs, instances and the policy are kept (a `FileStateStore`). Defaults to `.meso/batch`. */
  workDir?: string;
  /** Defaults to a `FileStateStore` in `workDir` (tests pass a `MemoryStateStore`). */
  store?: StateStore;
}

/** Defaults of {@link BatchOptions}. */
export const BATCH_DEFAULTS = {
  master: '127.0.0.1:5050',
  httpPort: 4800,
  host: '127.0.0.1',
  workDir: join('.meso', 'batch'),
  frameworkName: 'batch',
  failoverTimeoutSeconds: 7 * 24 * 3600,
  ...ENGINE_DEFAULTS,
} as const;

/** A running fw-batch. */
export interface RunningBatch {
  /** `host:port` of the API. */
  address: string;
  /** The framework id at the master. */
  frameworkId: string;
  engine: BatchEngine;
  /** Stops the API, the engine and the subscription (tasks keep running for the failover timeout). */
  close(): Promise<void>;
}

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new BatchError('INVALID_OPTIONS', `options.${field}: ${message}`, { field });
}

/**
 * Starts fw-batch: opens its state, subscribes to the master (with the stored framework id after
 * a restart), reconciles the attempts that were live, and serves the JSON API.
 */
export async function startBatch(options: BatchOptions = {}): Promise<RunningBatch> {
  const o = { ...BATCH_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof BATCH_DEFAULTS & BatchOptions;
  check(Number.isInteger(o.httpPort) && o.httpPort >= 0 && o.httpPort <= 65535, 'httpPort', `must be a port 0-65535, got ${String(o.httpPort)}`);
  check(typeof o.master === 'string' && /^[^:]+:\d+$/.test(o.master), 'master', `must be host:port, got ${String(o.master)}`);
  check(Number.isFinite(o.failoverTimeoutSeconds) && o.failoverTimeoutSeconds >= 0, 'failoverTimeoutSeconds', 'must be >= 0');
  for (const k of ['tickMs', 'refuseSeconds', 'maxLaunchesPerRound'] as const) check(Number.isFinite(o[k]) && o[k] > 0, k, 'must be a number > 0');
  check(Number.isFinite(o.executorCpus) && o.executorCpus >= 0.01, 'executorCpus', `must be a number >= 0.01, got ${String(o.executorCpus)}`);
  check(Number.isFinite(o.executorMemMb) && o.executorMemMb >= 32, 'executorMemMb', `must be a number of MB >= 32 (the executor is a Node process), got ${String(o.executorMemMb)}`);
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? createLogger('fw-batch');
  const store = o.store ?? (await FileStateStore.open(o.workDir));
  let scheduler: Scheduler | undefined;
  try {
    const state = await BatchState.open(store);
    const storedId = state.frameworkId;
    const connect = (id: string | undefined): Promise<Scheduler> =>
      Scheduler.connect({
        master: o.master,
        framework: { name: o.frameworkName, failoverTimeoutSeconds: o.failoverTimeoutSeconds, checkpoint: true, ...(id ? { id } : {}) },
        clock,
        logger: logger.child('sdk'),
        ...(o.transport ? { transport: o.transport } : {}),
      });
    scheduler = await subscribeResuming(storedId, connect, logger);
    if (scheduler.frameworkId !== storedId) await state.apply({ type: 'setFrameworkId', id: scheduler.frameworkId });
    logger.info(`subscribed as framework ${scheduler.frameworkId}`);
    const engine = new BatchEngine(scheduler, state, clock, logger, o);
    await engine.start();
    const http = await serveHttp(createApiHandler(engine), o.httpPort, o.host);
    const address = http.address;
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
