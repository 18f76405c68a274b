// One of the two files of the agent that import @grpc/grpc-js: the agent's own gRPC
// server, hosting the executor API (ExecutorAgent). It only translates: calls go to an
// ExecutorApi, refusals come back as gRPC statuses carrying Meso's error codes.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  createPortMux,
  ExecutorAgentService,
  toServiceError,
  type ExecutorCallResponse,
  type ExecutorEvent,
  type ExecutorMessageRequest,
  type ExecutorSubscribeRequest,
  type ExecutorUpdateRequest,
  type Logger,
} from '@meso/proto';
import { AgentError, CallRefusedError } from './errors.js';

/** The agent's end of one executor's event stream. */
export interface EventSink {
  /** Queues an event; false once the stream is closed. */
  send(event: ExecutorEvent): boolean;
  /** Ends the stream cleanly. */
  end(): void;
  /** Called once when the executor goes away (or `end()` was called). */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** What the executor API does; throws CallRefusedError to refuse a call. */
export interface ExecutorApi {
  subscribe(request: ExecutorSubscribeRequest, sink: EventSink): void;
  update(request: ExecutorUpdateRequest): Promise<void>;
  message(request: ExecutorMessageRequest): Promise<void>;
}

/** A running executor-API server. */
export interface ExecutorServer {
  readonly port: number;
  /** Stops accepting calls and ends open streams. */
  close(): Promise<void>;
}

function refusal(e: unknown, logger: Logger): ReturnType<typeof toServiceError> {
  if (e instanceof CallRefusedError) return toServiceError(e.details);
  logger.error('executor call failed', { error: (e as Error)?.message ?? String(e) });
  // Not the caller's fault (e.g. the checkpoint could not be written): the executor keeps the update and retries.
  return toServiceError({ code: 'UNAVAILABLE', message: 'the agent could not handle the call now; retry' });
}

function sinkOf(call: ServerWritableStream<ExecutorSubscribeRequest, ExecutorEvent>): EventSink {
  let closed = false;
  const listeners: Array<() => void> = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const l of listeners.splice(0)) l();
  };
  call.on('cancelled', close);
  call.on('close', close);
  call.on('error', close);
  return {
    send: (event) => {
      if (closed) return false;
      try {
        call.write(event);
        return true;
      } catch {
        close();
        return false;
      }
    },
    end: () => {
      if (closed) return;
      try {
        call.end();
      } catch {
        // already gone
      }
      close();
    },
    onClose: (l) => {
      if (closed) l();
      else listeners.push(l);
    },
    get closed() {
      return closed;
    },
  };
}

/** Plain HTTP requests on the agent's port; returns false for paths it does not serve (404). */
export type HttpRoutes = (req: IncomingMessage, res: ServerResponse) => boolean;

function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the executor API on host:port (0 picks a free port), with plain HTTP (`http`,
 * e.g. /monitor/statistics) on the same port: connections are told apart by their first
 * bytes, as the master does.
 */
export async function startExecutorServer(api: ExecutorApi, host: string, port: number, logger: Logger, http: HttpRoutes = () => false): Promise<ExecutorServer> {
  const server = new Server({ 'grpc.keepalive_permit_without_calls': 1, 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
  const sinks = new Set<EventSink>();
  server.addService(ExecutorAgentService, {
    subscribe: (call: ServerWritableStream<ExecutorSubscribeRequest, ExecutorEvent>) => {
      const sink = sinkOf(call);
      sinks.add(sink);
      sink.onClose(() => sinks.delete(sink));
      try {
        api.subscribe(call.request, sink);
      } catch (e) {
        sinks.delete(sink);
        call.emit('error', refusal(e, logger));
      }
    },
    update: (call: ServerUnaryCall<ExecutorUpdateRequest, ExecutorCallResponse>, callback: sendUnaryData<ExecutorCallResponse>) => {
      api.update(call.request).then(
        () => callback(null, {}),
        (e: unknown) => callback(refusal(e, logger)),
      );
    },
    message: (call: ServerUnaryCall<ExecutorMessageRequest, ExecutorCallResponse>, callback: sendUnaryData<ExecutorCallResponse>) => {
      api.message(call.request).then(
        () => callback(null, {}),
        (e: unknown) => callback(refusal(e, logger)),
      );
    },
  });
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const web = createHttpServer((req, res) => {
    if (!http(req, res)) res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no such path: ${req.url ?? ''}` }));
  });
  web.keepAliveTimeout = 5_000;
  const mux = createPortMux({ http2: (socket) => injector.injectConnection(socket), http1: (socket) => web.emit('connection', socket) }, logger);
  const bound = await listen(mux.server, host.replace(/^\[|\]$/g, ''), port).catch((e: unknown) => {
    server.forceShutdown();
    throw new AgentError('BIND_FAILED', `cannot listen on ${address}: ${(e as Error).message}`, { cause: e, field: 'port' });
  });
  return {
    port: bound,
    close: async () => {
      for (const s of [...sinks]) s.end();
      const listenerClosed = new Promise<void>((resolve) => mux.server.close(() => resolve()));
      web.closeAllConnections();
      web.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      for (const socket of mux.sockets) socket.destroy();
      await listenerClosed;
    },
  };
}

