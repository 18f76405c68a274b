import { join } from 'node:path';
import { createLogger, Scheduler, serveHttp, subscribeResuming, systemClock, type FrameworkServiceOptions } from '@meso/sdk-scheduler';
import { FileStateStore, type StateStore } from '@meso/state';
import { ENGINE_DEFAULTS, RedisEngine, type EngineTuning } from './engine.js';
import { RedisFwError } from './errors.js';
import { createApiHandler } from './http-api.js';
import { SentinelServer } from './sentinel-server.js';
import { RedisState } from './state.js';
import { discoveryOf } from './views.js';

/** Options of {@link startRedis}. */
export interface RedisOptions extends EngineTuning, FrameworkServiceOptions {
  /** Port of the HTTP API (MrRedis's `/v1` and ours). Defaults to 5656; 0 picks a free port. */
  httpPort?: number;
  /** Port of the Sentinel-compatible discovery server. Defaults to 26379; 0 picks a free port. */
  sentinelPort?: number;
  /** Address the API and the discovery server bind. Defaults to `127.0.0.1`. */
  host?: string;
  /** Where instances and epochs are kept (a `FileStateStore`). Defaults to `.meso/redis`. */
  workDir?: string;
  /** Defaults to a `FileStateStore` in `workDir`. */
  store?: StateStore;
}

/** Defaults of {@link RedisOptions}. */
export const REDIS_DEFAULTS = {
  master: '127.0.0.1:5050',
  httpPort: 5656,
  sentinelPort: 26379,
  host: '127.0.0.1',
  workDir: join('.meso', 'redis'),
  frameworkName: 'redis',
  failoverTimeoutSeconds: 7 * 24 * 3600,
  ...ENGINE_DEFAULTS,
} as const;

/** A running fw-redis. */
export interface RunningRedis {
  /** `host:port` of the HTTP API. */
  address: string;
  /** `host:port` of the Sentinel-compatible discovery server. */
  sentinelAddress: string;
  frameworkId: string;
  engine: RedisEngine;
  /** Stops the API, the discovery server, the monitor and the subscription (servers keep running for the failover timeout). */
  close(): Promise<void>;
}

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new RedisFwError('INVALID_OPTIONS', `options.${field}: ${message}`, { field });
}

const isPort = (p: unknown): boolean => Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 65535;

/**
 * Starts fw-redis: opens its state, subscribes to the master (with the stored framework id after
 * a restart), reconciles the servers that were running, and serves the API and discovery.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const o = { ...REDIS_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof REDIS_DEFAULTS & RedisOptions;
  check(isPort(o.httpPort), 'httpPort', `must be a port 0-65535, got ${String(o.httpPort)}`);
  check(isPort(o.sentinelPort), 'sentinelPort', `must be a port 0-65535, got ${String(o.sentinelPort)}`);
  check(typeof o.master === 'string' && /^[^:]+:\d+$/.test(o.master), 'master', `must be host:port, got ${String(o.master)}`);
  check(Number.isFinite(o.failoverTimeoutSeconds) && o.failoverTimeoutSeconds >= 0, 'failoverTimeoutSeconds', 'must be >= 0');
  for (const k of ['taskCpus', 'monitorIntervalMs', 'downAfterMs', 'probeTimeoutMs', 'refuseSeconds'] as const) check(Number.isFinite(o[k]) && o[k] > 0, k, 'must be a number > 0');
  check(typeof o.redisServer === 'string' && o.redisServer !== '', 'redisServer', 'must name the redis-server program');
  check(typeof o.role === 'string' && /^[\w.-]+$/.test(o.role), 'role', `must be a role name, got ${String(o.role)}`);
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? createLogger('fw-redis');
  const store = o.store ?? (await FileStateStore.open(o.workDir));
  let scheduler: Scheduler | undefined;
  let engine: RedisEngine | undefined;
  let sentinel: SentinelServer | undefined;
  try {
    const state = await RedisState.open(store);
    const storedId = state.frameworkId;
    const connect = (id: string | undefined): Promise<Scheduler> =>
      Scheduler.connect({
        master: o.master,
        framework: { name: o.frameworkName, roles: [o.role], failoverTimeoutSeconds: o.failoverTimeoutSeconds, checkpoint: true, ...(id ? { id } : {}) },
        clock,
        logger: logger.child('sdk'),
        ...(o.transport ? { transport: o.transport } : {}),
      });
    scheduler = await subscribeResuming(storedId, connect, logger);
    if (scheduler.frameworkId !== storedId) await state.apply({ type: 'setFrameworkId', id: scheduler.frameworkId });
    logger.info(`subscribed as framework ${scheduler.frameworkId}`);
    engine = new RedisEngine(scheduler, state, clock, logger, o);
    sentinel = await SentinelServer.listen(discoveryOf(engine), o.host, o.sentinelPort, logger.child('sentinel'));
    await engine.start();
    const http = await serveHttp(createApiHandler(engine, sentinel.address), o.httpPort, o.host);
    const address = http.address;
    const running = scheduler;
    const eng = engine;
    const disc = sentinel;
    let closing: Promise<void> | undefined;
    return {
      address,
      sentinelAddress: disc.address,
      frameworkId: running.frameworkId,
      engine: eng,
      close: () =>
        (closing ??= (async () => {
          await http.close();
          await disc.close();
          await eng.close();
          await running.close();
          await eng.done;
          if (!o.store) await store.close();
        })()),
    };
  } catch (e) {
    await sentinel?.close().catch(() => undefined);
    await engine?.close().catch(() => undefined);
    await scheduler?.close().catch(() => undefined);
    if (!o.store) await store.close().catch(() => undefined);
    throw e;
  }
}
