import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { AgentLinkService, createPortMux, OperatorService, SchedulerService } from '@meso/proto';
import { LogStateStore, StateError } from '@meso/state';
import { MasterError } from './errors.js';
import { Master } from './master.js';
import { resolveMasterOptions, type MasterOptions } from './options.js';
import { agentLinkService } from './transport/agent-link-service.js';
import { httpHandler } from './transport/http-endpoints.js';
import { operatorService } from './transport/operator-service.js';
import { faultRulesFromEnv } from './transport/fault-injection.js';
import { schedulerService } from './transport/scheduler-service.js';

/** A running master. */
export interface MasterHandle {
  /** `host:port` the master listens on. */
  readonly address: string;
  readonly port: number;
  readonly masterId: string;
  /** Stops gracefully: streams end, gRPC shuts down (forced after a short deadline), HTTP closes, the registry is closed. */
  close(): Promise<void>;
}

/** How long close() lets in-flight gRPC calls finish before forcing them. */
const SHUTDOWN_GRACE_MS = 2000;

function listen(server: import('node:net').Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new MasterError('UNAVAILABLE', `cannot listen on ${host}:${port}: ${e.message}`, 'port', { cause: e }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts a master: opens the registry under `<workDir>/registry` (a `LogStateStore`), recovers frameworks
 * known from earlier runs, and serves gRPC (Scheduler, AgentLink, Operator) and HTTP
 * (/state, /health, /metrics) on one port.
 */
export async function startMaster(options: MasterOptions): Promise<MasterHandle> {
  const fromEnv = options.faultInjection === undefined ? faultRulesFromEnv() : undefined;
  const resolved = resolveMasterOptions(fromEnv ? { ...options, faultInjection: fromEnv } : options);
  const logger = resolved.logger;
  if (resolved.faultInjection.length > 0) logger.warn('FAULT INJECTION is on (test only): messages will be dropped or delayed', { rules: resolved.faultInjection });
  // One snapshot and a log, read back in bulk; a registry of the older file-per-key layout
  // is migrated on open (see @meso/state's LogStateStore).
  let store: LogStateStore | undefined;
  let master: Master;
  try {
    store = await LogStateStore.open(join(resolved.workDir, 'registry'));
    master = await Master.create(resolved, store);
  } catch (e) {
    await store?.close();
    if (e instanceof StateError && e.code === 'STATE_CORRUPT') {
      // Never start on a partial registry: frameworks or agents would be silently forgotten.
      throw new MasterError('REGISTRY_CORRUPT', `the registry cannot be read back, refusing to start: ${e.message}`, e.path, { cause: e });
    }
    throw e;
  }

  // No channelz: nothing reads it, and it costs bookkeeping on every call and stream.
  const grpc = new Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_permit_without_calls': 1, 'grpc.enable_channelz': 0 });
  grpc.addService(SchedulerService, schedulerService(master));
  grpc.addService(AgentLinkService, agentLinkService(master));
  grpc.addService(OperatorService, operatorService(master));
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  const http = createHttpServer(httpHandler(master));
  http.keepAliveTimeout = 5000;
  const mux = createPortMux(
    {
      http2: (socket) => injector.injectConnection(socket),
      http1: (socket) => http.emit('connection', socket),
    },
    logger,
  );
  let port: number;
  try {
    port = await listen(mux.server, resolved.port, resolved.host);
  } catch (e) {
    await master.close();
    await store.close();
    throw e;
  }
  const address = `${resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host}:${port}`;
  logger.info('master started', { masterId: master.masterId, address, workDir: resolved.workDir });

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await master.close();
    const listenerClosed = new Promise<void>((resolve) => mux.server.close(() => resolve()));
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        grpc.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      grpc.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    injector.destroy();
    http.closeAllConnections();
    http.close();
    for (const socket of mux.sockets) socket.destroy();
    await listenerClosed;
    await store.close();
    logger.info('master stopped', { masterId: master.masterId });
  };
  return {
    address,
    port,
    masterId: master.masterId,
    close: () => (closing ??= close()),
  };
}
